//! The ladder diagram: client and server as two columns, one arrow per packet with its
//! flags, relative numbers, length and application message, each side's TCP state beside
//! it, coloured like the layer tree. Fits 80 columns; long conversations are elided in
//! the middle (the beginning and the end are what a learner reads).

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};

use super::{escape, terminal::finish_text, Render, Theme};
use crate::analysis::app::AppMessage;
use crate::analysis::{Analyzer, Transport};
use crate::dissect::TcpFlags;
use crate::explain;
use crate::pipeline::Packet;

const NUM: usize = 5;
const STATE: usize = 12;
const ARROW: usize = 46;
/// Rows kept from the start and from the end of each conversation.
const HEAD: usize = 60;
const TAIL: usize = 20;
/// Conversations drawn at most (the rest are counted; use --stream N for one of them).
const MAX_STREAMS: usize = 2000;

/// One packet as a row of the ladder.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u64,
    pub from_client: bool,
    pub label: String,
    /// The OSI layer whose colour the arrow takes (the highest one in the packet).
    pub osi: u8,
    pub states: Option<(String, String)>,
    pub problem: bool,
}

/// The label on a packet's arrow: flags, numbers, length, and what the application said.
pub fn arrow_label(p: &Packet) -> String {
    let mut s = String::new();
    let has_app = p
        .analysis
        .app
        .iter()
        .any(|a| !matches!(a.message, AppMessage::Stopped(_)));
    if let Some(t) = p.dissection.tcp() {
        if t.payload_len() > 0 {
            // With data, what matters is which bytes it carries; the acknowledgement rides along.
            let flags: Vec<&str> = t
                .flags()
                .names()
                .filter(|n| !["ACK", "PSH"].contains(n))
                .collect();
            s.push_str(&flags.join(" "));
            if let Some(seq) = t.seq {
                s.push_str(&format!(" {seq}:{}", seq.wrapping_add(t.payload_len())));
            }
            if !has_app {
                s.push_str(&format!(" len={}", t.payload_len()));
            }
        } else {
            let flags: Vec<&str> = t.flags().names().collect();
            s.push_str(&flags.join(" "));
            if let Some(seq) = t.seq {
                s.push_str(&format!(" seq={seq}"));
            }
            if t.has(TcpFlags::ACK) {
                if let Some(ack) = t.ack {
                    s.push_str(&format!(" ack={ack}"));
                }
            }
        }
    } else if let Some(u) = p.dissection.udp() {
        s.push_str(&format!("UDP len={}", u.length.saturating_sub(8)));
        if let Some(l) = p
            .dissection
            .layers
            .iter()
            .find(|l| l.header.protocol() == "dns")
        {
            s.push_str(&format!(" DNS {}", explain::layer_headline(l)));
        }
    }
    for a in p.analysis.top_app_layers() {
        let head = explain::app_short(a);
        if !head.is_empty() {
            s.push(' ');
            s.push_str(&head);
        }
    }
    for t in &p.analysis.tags {
        if t.is_problem() {
            s.push_str(&format!(" !{}", t.name()));
        }
    }
    escape(s.trim()).into_owned()
}

impl Row {
    pub fn of(p: &Packet) -> Row {
        let osi = top_osi(p);
        Row {
            number: p.frame.number,
            from_client: p.analysis.from_client.unwrap_or(true),
            label: arrow_label(p),
            osi,
            states: p.analysis.states.map(|st| {
                // `*`: a FIN is on its way to that side; `?`: assumed, nothing heard yet.
                let mark = |i: usize| {
                    let mut n = st[i].name().to_string();
                    if p.analysis.fin_incoming[i] {
                        n.push('*');
                    } else if p.analysis.sent[i] == 0 && st[i] == crate::analysis::TcpState::Listen
                    {
                        n.push('?');
                    }
                    n
                };
                (mark(0), mark(1))
            }),
            problem: p.analysis.tags.iter().any(|t| t.is_problem()),
        }
    }

    /// The row as text: number, client state, arrow with its label, server state.
    pub fn draw(&self, th: Theme) -> String {
        self.draw_in(th, ARROW)
    }

    /// The row with an arrow `arrow` columns long (at least 12): for a narrower pane.
    pub fn draw_in(&self, th: Theme, arrow: usize) -> String {
        let arrow_w = arrow.max(12);
        let room = arrow_w - 4;
        let mut label: String = self.label.chars().take(room).collect();
        if self.label.chars().count() > room {
            label.pop();
            label.push('…');
        }
        let fill = arrow_w - 3 - label.chars().count();
        let (left, right) = (fill / 2, fill - fill / 2);
        let arrow = if self.from_client {
            format!("─{}{label}{}─▶", "─".repeat(left), "─".repeat(right))
        } else {
            format!("◀─{}{label}{}─", "─".repeat(left), "─".repeat(right))
        };
        let (cs, ss) = self.states.clone().unwrap_or_default();
        let arrow = if self.problem {
            th.warn(&arrow)
        } else {
            th.layer(self.osi, &arrow)
        };
        format!(
            "{:>w$} {:<sw$} {arrow} {}",
            self.number,
            th.dim(&format!("{cs:<STATE$}")),
            th.dim(&ss),
            w = NUM - 1,
            sw = 0
        )
    }
}

/// The two columns' heading for a conversation: who is the client, who the server.
pub fn conversation_heading(c: &crate::analysis::Conversation, th: Theme) -> String {
    conversation_heading_in(c, th, ARROW)
}

/// The conversation's heading over rows drawn with `Row::draw_in(th, arrow)`.
pub fn conversation_heading_in(
    c: &crate::analysis::Conversation,
    th: Theme,
    arrow: usize,
) -> String {
    heading_in(
        &c.endpoints[c.client()].to_string(),
        &c.endpoints[1 - c.client()].to_string(),
        th,
        arrow,
    )
}

/// The columns a row takes besides its arrow (number, the two states, spaces).
pub const ROW_MARGIN: usize = NUM + STATE + STATE + 2;

/// The OSI layer a packet's row and summary line are coloured by: the highest one in it.
pub fn top_osi(p: &Packet) -> u8 {
    if p.analysis.app.is_empty() {
        p.dissection
            .layers
            .last()
            .map(|l| l.osi())
            .unwrap_or(4)
            .min(7)
    } else {
        7
    }
}

/// The two columns' heading, from the two endpoints' names.
pub fn heading(client: &str, server: &str, th: Theme) -> String {
    heading_in(client, server, th, ARROW)
}

/// The heading over rows drawn with `Row::draw_in(th, arrow)`.
pub fn heading_in(client: &str, server: &str, th: Theme, arrow: usize) -> String {
    let width = NUM + STATE + arrow.max(12) + STATE;
    let c = format!("client {client}");
    let s = format!("server {server}");
    let gap = width
        .saturating_sub(c.chars().count() + s.chars().count())
        .max(2);
    th.bold(&format!("{c}{}{s}", " ".repeat(gap))).into_owned()
}

#[derive(Default)]
struct Ladder {
    head: Vec<Row>,
    tail: VecDeque<Row>,
    skipped: u64,
}

impl Ladder {
    fn push(&mut self, r: Row) {
        if self.head.len() < HEAD {
            self.head.push(r);
            return;
        }
        self.tail.push_back(r);
        if self.tail.len() > TAIL {
            self.tail.pop_front();
            self.skipped += 1;
        }
    }
}

/// `inspect --diagram`: a ladder per conversation, drawn after the last packet.
pub struct DiagramRender {
    theme: Theme,
    ladders: BTreeMap<(u8, u32), Ladder>,
    others: u64,
    dropped_streams: u64,
}

impl DiagramRender {
    pub fn new(theme: Theme) -> DiagramRender {
        DiagramRender {
            theme,
            ladders: BTreeMap::new(),
            others: 0,
            dropped_streams: 0,
        }
    }
}

impl Render for DiagramRender {
    fn packet(&mut self, _out: &mut dyn Write, p: &Packet, _an: &Analyzer) -> io::Result<()> {
        let (Some(tr), Some(stream)) = (p.analysis.transport, p.analysis.stream) else {
            self.others += 1;
            return Ok(());
        };
        let key = (if tr == Transport::Tcp { 0 } else { 1 }, stream);
        if !self.ladders.contains_key(&key) && self.ladders.len() >= MAX_STREAMS {
            self.dropped_streams += 1;
            return Ok(());
        }
        self.ladders.entry(key).or_default().push(Row::of(p));
        Ok(())
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        let th = self.theme;
        for ((kind, stream), ladder) in &self.ladders {
            let tr = if *kind == 0 {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            let Some(c) = an.conversation(tr, *stream) else {
                continue;
            };
            let name = if tr == Transport::Tcp { "TCP" } else { "UDP" };
            let app = c.application.map(|a| format!(" · {a}")).unwrap_or_default();
            writeln!(
                out,
                "{}",
                th.bold(&format!("── {name} conversation {stream}{app} ──"))
            )?;
            writeln!(out, "{}", conversation_heading(c, th))?;
            if tr == Transport::Udp {
                writeln!(out, "{}", th.dim(&explain::text("layers.diagram.udp", &[])))?;
            }
            // A SYN answered by RST: seen from the end, nothing ever listened — the server
            // side was CLOSED from the start, which the ladder now says on every row.
            let refused = c
                .tcp
                .as_ref()
                .is_some_and(|t| t.handshake.len() == 1 && t.reset.is_some());
            let fix = |r: &Row| -> Row {
                let mut r = r.clone();
                if refused {
                    if let Some((_, s)) = r.states.as_mut() {
                        if s == "LISTEN?" {
                            *s = "CLOSED".into();
                        }
                    }
                }
                r
            };
            for r in &ladder.head {
                writeln!(out, "{}", fix(r).draw(th))?;
            }
            if ladder.skipped > 0 {
                writeln!(out, "{}", th.dim(&format!("{:>w$} ⋮ {} packets not drawn (--stream {stream} --summary lists them all)", "", ladder.skipped, w = NUM - 1)))?;
            }
            for r in &ladder.tail {
                writeln!(out, "{}", fix(r).draw(th))?;
            }
            let rows = || {
                ladder
                    .head
                    .iter()
                    .chain(&ladder.tail)
                    .filter_map(|r| fix(r).states)
            };
            for (mark, key) in [
                ('*', "layers.diagram.fin_incoming"),
                ('?', "layers.diagram.assumed"),
            ] {
                if rows().any(|(c, s)| c.ends_with(mark) || s.ends_with(mark)) {
                    for line in crate::render::terminal::wrap(&explain::text(key, &[]), 80, 2) {
                        writeln!(out, "{}", th.dim(&line))?;
                    }
                }
            }
            if let Some(t) = &c.tcp {
                let s = c.summary();
                let hs = if t.handshake.len() == 3 {
                    format!("handshake in packets {:?}", t.handshake)
                } else {
                    "no complete handshake seen".into()
                };
                let end = match (t.reset, t.teardown.is_empty()) {
                    (Some(r), _) => format!("reset in packet {r}"),
                    (None, false) => format!("teardown in packets {:?}", t.teardown),
                    _ => "still open at the end of the capture".into(),
                };
                let states = s
                    .state
                    .map(|st| format!("; client {}, server {}", st.client.name(), st.server.name()))
                    .unwrap_or_default();
                writeln!(out, "{}", th.dim(&format!("{hs}; {end}{states}")))?;
            }
            writeln!(out)?;
        }
        if self.dropped_streams > 0 {
            writeln!(
                out,
                "{}",
                th.dim(&format!(
                    "{} more conversations not drawn: pick one with --stream N",
                    self.dropped_streams
                ))
            )?;
        }
        if self.others > 0 {
            writeln!(
                out,
                "{}",
                th.dim(&format!(
                    "{} packets outside TCP/UDP conversations (ARP, ICMP…) are not drawn",
                    self.others
                ))
            )?;
        }
        finish_text(out, an, source_warnings, th, super::terminal::FOOTER_WIDTH)
    }
}
