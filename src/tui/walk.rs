//! The packets a learner walks through, kept after the pipeline ran over them, with an
//! index of each conversation's packets, so that any packet's tree, hex and ladder can
//! be drawn on demand, in any order, and always the same way.

use std::collections::HashMap;

use crate::analysis::{Analyzer, Transport};
use crate::frame::Timestamp;
use crate::pipeline::{Packet, Pipeline};
use crate::render::diagram::{conversation_heading_in, Row};
use crate::render::terminal::{Section, TreeOptions, TreeRender};
use crate::render::{Render, Theme};

/// How many earlier packets of a conversation are drawn (and thrown away) before the
/// one asked for, so that it is explained as it would be when walking in order: each
/// explanation is given once per conversation, the first time it applies, and those
/// first times are at the start of a conversation.
const REPLAY: usize = 400;
/// The capture's first packets drawn before any other, for what is said once per capture.
const CAPTURE_REPLAY: usize = 64;

/// Packets with everything the pipeline learnt, in capture order.
pub struct Walk {
    /// What is walked through ("the capture x.pcap", "the simulated 'websocket' scenario").
    pub title: String,
    pub packets: Vec<Packet>,
    /// The simulator's sentence for each packet, when there is one.
    pub captions: Vec<Option<String>>,
    pub analyzer: Analyzer,
    /// Warnings about the source and the analysis (limits hit, a cut file).
    pub warnings: Vec<String>,
    start: Option<Timestamp>,
    /// Each conversation's packets (indices into `packets`), and each packet's place in its own.
    conversations: HashMap<(bool, u32), Vec<usize>>,
    place: Vec<usize>,
}

/// A packet's tree as text, and where its parts begin (see `TreeRender::packet_sections`).
pub struct Tree {
    pub text: Vec<u8>,
    pub sections: Vec<Section>,
}

/// The ladder of a packet's conversation: heading, rows, and which row is this packet.
pub struct Ladder {
    pub heading: String,
    pub rows: Vec<String>,
    pub current: usize,
}

impl Walk {
    /// Runs the pipeline over `items` (frames with an optional caption).
    pub fn new<I>(title: String, mut pipeline: Pipeline, items: I) -> Walk
    where
        I: IntoIterator<Item = (crate::frame::Frame, Option<String>)>,
    {
        let mut w = Walk {
            title,
            packets: Vec::new(),
            captions: Vec::new(),
            analyzer: Analyzer::default(),
            warnings: Vec::new(),
            start: None,
            conversations: HashMap::new(),
            place: Vec::new(),
        };
        for (frame, caption) in items {
            let p = pipeline.process(frame);
            w.push(p, caption);
        }
        pipeline.analyzer.finish();
        w.warnings
            .extend(pipeline.analyzer.totals.warnings.iter().cloned());
        w.analyzer = pipeline.analyzer;
        w
    }

    /// An empty walk that packets are added to as they arrive (a live capture).
    pub fn live(title: String, pipeline: Pipeline) -> Walk {
        let mut w = Walk::new(title, Pipeline::new(), std::iter::empty());
        w.analyzer = pipeline.analyzer;
        w
    }

    /// Runs the pipeline over one more frame (a live capture's next packet).
    pub fn add(&mut self, frame: crate::frame::Frame) {
        let mut pipeline = Pipeline {
            analyzer: std::mem::take(&mut self.analyzer),
        };
        let p = pipeline.process(frame);
        self.analyzer = pipeline.analyzer;
        self.push(p, None);
    }

    /// The source has ended: what is said once the whole capture is known.
    pub fn finish(&mut self) {
        self.analyzer.finish();
        self.warnings
            .extend(self.analyzer.totals.warnings.iter().cloned());
    }

    fn push(&mut self, p: Packet, caption: Option<String>) {
        self.start.get_or_insert(p.frame.time);
        let i = self.packets.len();
        let place = match key(&p) {
            Some(k) => {
                let list = self.conversations.entry(k).or_default();
                list.push(i);
                list.len() - 1
            }
            None => 0,
        };
        self.place.push(place);
        self.packets.push(p);
        self.captions.push(caption);
    }

    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// The first packet's time: every time shown is relative to it.
    pub fn start(&self) -> Timestamp {
        self.start.unwrap_or_default()
    }

    /// The packets of `i`'s conversation, and `i`'s place among them.
    pub fn conversation(&self, i: usize) -> Option<(&[usize], usize)> {
        let k = key(&self.packets[i])?;
        Some((&self.conversations[&k], self.place[i]))
    }

    /// Packet `i`'s layer tree, explained as when walking its conversation in order.
    pub fn tree(&self, i: usize, opts: TreeOptions) -> Tree {
        let mut tree = TreeRender::new(opts);
        tree.set_start(self.start());
        // Some things are said once per capture (the wire, the link), most once per
        // conversation: the capture's first packets and the conversation's own before
        // this one are drawn first, in capture order.
        let mut before: Vec<usize> = (0..i.min(CAPTURE_REPLAY)).collect();
        if let Some((list, place)) = self.conversation(i) {
            before.extend(
                list[..place.min(REPLAY)]
                    .iter()
                    .filter(|&&k| k >= CAPTURE_REPLAY),
            );
        }
        for k in before {
            // Into nothing: only what it has explained already matters.
            let _ = tree.packet(&mut std::io::sink(), &self.packets[k], &self.analyzer);
        }
        let (text, sections) = tree.packet_sections(&self.packets[i], &self.analyzer);
        Tree { text, sections }
    }

    /// Packet `i`'s title: number, time, size, conversation, direction.
    pub fn title_of(&self, i: usize) -> String {
        let mut tree = TreeRender::new(TreeOptions {
            theme: Theme::plain(),
            width: 80,
            explain: false,
            repeat: false,
        });
        tree.set_start(self.start());
        tree.title(&self.packets[i], &self.analyzer)
    }

    /// The one-line summary of packet `i` (number, time, what it is, tags).
    pub fn summary(&self, i: usize, th: Theme) -> String {
        let mut s = String::new();
        crate::render::summary::write_line(&mut s, &self.packets[i], self.start(), th);
        s
    }

    /// What `/` searches in: the summary line and the caption, lower case.
    pub fn search_text(&self, i: usize) -> String {
        let mut s = String::new();
        crate::render::summary::describe(&self.packets[i], &mut s);
        for a in self.packets[i].analysis.top_app_layers() {
            s.push(' ');
            s.push_str(&crate::explain::app_headline(a));
        }
        if let Some(c) = &self.captions[i] {
            s.push(' ');
            s.push_str(c);
        }
        s.to_lowercase()
    }

    /// The ladder of `i`'s conversation, with arrows `arrow` columns long: the rows in
    /// `rows` (a range of places in the conversation, cut to its length).
    pub fn ladder(
        &self,
        i: usize,
        th: Theme,
        arrow: usize,
        rows: impl Fn(usize, usize) -> std::ops::Range<usize>,
    ) -> Option<Ladder> {
        let p = &self.packets[i];
        let (tr, s) = (p.analysis.transport?, p.analysis.stream?);
        let c = self.analyzer.conversation(tr, s)?;
        let (list, place) = self.conversation(i)?;
        let range = rows(list.len(), place);
        let range = range.start.min(list.len())..range.end.min(list.len());
        Some(Ladder {
            heading: conversation_heading_in(c, th, arrow),
            current: place.saturating_sub(range.start),
            rows: list[range]
                .iter()
                .map(|&k| Row::of(&self.packets[k]).draw_in(th, arrow))
                .collect(),
        })
    }
}

/// Which conversation a packet belongs to: (is TCP, stream index).
fn key(p: &Packet) -> Option<(bool, u32)> {
    Some((p.analysis.transport? == Transport::Tcp, p.analysis.stream?))
}
