//! Drawing packets on several threads: the main thread reads, dissects and analyses in
//! capture order and hands packets on in batches; each batch is drawn on a worker into
//! its own buffer, and the buffers are written in the order the batches were made. The
//! batches in flight are bounded by what they carry (a packet, and each application
//! message reported in it: one segment may end hundreds of WebSocket messages), so
//! memory stays bounded on any capture.
//!
//! A format whose text depends on earlier packets (the layer tree says each thing
//! once) draws with guesses of what was said before; the batch comes back with its
//! packets and those guesses, and the renderer settles each packet in capture order:
//! written as drawn when every guess was right, drawn again on this thread when not.
//! Either way the output is the one thread's, byte for byte.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

use crate::pipeline::Packet;
use crate::render::{Asked, Context, Draw, Render};

/// Packets drawn together by one worker; a batch also ends once its packets and their
/// application messages add up to this many.
const BATCH: usize = 256;

/// What a packet weighs in a batch: itself and each application message it reports.
fn weight(p: &Packet) -> usize {
    1 + p.analysis.app.len()
}

/// A drawn batch: its text and, when the drawing guessed, where each packet's text
/// ends, its guesses, and the packets themselves (to draw again if a guess was wrong).
struct Batch {
    text: Vec<u8>,
    /// The packets, when the drawing guessed (to draw again if a guess was wrong).
    packets: Vec<(Packet, Context)>,
    guessed: Option<Guessed>,
}

struct Guessed {
    ends: Vec<usize>,
    asked: Vec<Vec<Asked>>,
}

type Drawn = io::Result<Batch>;
type Job = (Vec<(Packet, Context)>, SyncSender<Drawn>);

/// The threads a capture file is drawn with: `--threads N`, else every core.
pub fn threads(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

pub struct Pool {
    jobs: SyncSender<Job>,
    /// The batches handed out, oldest first, with their weights: each is written when
    /// its turn comes.
    pending: VecDeque<(Receiver<Drawn>, usize)>,
    batch: Vec<(Packet, Context)>,
    /// The weight of `batch`, and of the batches in `pending`.
    batch_weight: usize,
    in_flight: usize,
    /// At most this many batches are handed out and not yet written, and at most
    /// `limit * BATCH` of weight (past it, with one batch at least).
    limit: usize,
    /// Text buffers written out, for the workers to draw into again: a batch's text is
    /// large (a JSON batch some 160 KB), and a fresh one each time costs page faults.
    spare: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Pool {
    /// `threads` workers drawing with `draw`, for as long as `scope` lasts.
    pub fn start<'s>(scope: &'s Scope<'s, '_>, draw: Arc<dyn Draw>, threads: usize) -> Pool {
        let (jobs, queue) = sync_channel::<Job>(threads * 2);
        let queue = Arc::new(Mutex::new(queue));
        let spare: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        for _ in 0..threads {
            let (queue, draw, spare) = (Arc::clone(&queue), Arc::clone(&draw), Arc::clone(&spare));
            scope.spawn(move || loop {
                let job = match queue.lock() {
                    Ok(q) => q.recv(),
                    Err(_) => return,
                };
                let Ok((batch, done)) = job else { return };
                let mut text = spare
                    .lock()
                    .ok()
                    .and_then(|mut s| s.pop())
                    .unwrap_or_else(|| Vec::with_capacity(batch.len() * 512));
                text.clear();
                let mut ends = Vec::with_capacity(batch.len());
                let mut asked = Vec::with_capacity(batch.len());
                let drawn = batch
                    .iter()
                    .try_for_each(|(p, cx)| {
                        let mut a = Vec::with_capacity(32);
                        draw.draw_guessing(&mut text, p, *cx, &mut a)?;
                        ends.push(text.len());
                        asked.push(a);
                        Ok(())
                    })
                    .map(|()| {
                        let guessed = asked
                            .iter()
                            .any(|a| !a.is_empty())
                            .then_some(Guessed { ends, asked });
                        // Packets drawn without a guess are not drawn again: freed here
                        // (mimalloc frees another thread's memory without a lock), off
                        // the thread that reads and analyses.
                        let packets = if guessed.is_some() { batch } else { Vec::new() };
                        Batch {
                            text,
                            packets,
                            guessed,
                        }
                    });
                // The receiver is gone only when the command stopped early.
                let _ = done.send(drawn);
            });
        }
        Pool {
            jobs,
            pending: VecDeque::new(),
            batch: Vec::with_capacity(BATCH),
            batch_weight: 0,
            in_flight: 0,
            limit: threads * 4,
            spare,
        }
    }

    /// One more packet, in capture order; writes what is drawn when it is its turn.
    pub fn packet(
        &mut self,
        p: Packet,
        cx: Context,
        out: &mut dyn Write,
        render: &mut dyn Render,
    ) -> io::Result<()> {
        self.batch_weight += weight(&p);
        self.batch.push((p, cx));
        if self.batch.len() == BATCH || self.batch_weight >= BATCH {
            self.hand_out(out, render)?;
        }
        Ok(())
    }

    /// Writes everything still to draw.
    pub fn finish(&mut self, out: &mut dyn Write, render: &mut dyn Render) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.hand_out(out, render)?;
        }
        while !self.pending.is_empty() {
            self.write_oldest(out, render)?;
        }
        Ok(())
    }

    fn hand_out(&mut self, out: &mut dyn Write, render: &mut dyn Render) -> io::Result<()> {
        while !self.pending.is_empty()
            && (self.pending.len() >= self.limit
                || self.in_flight + self.batch_weight > self.limit * BATCH)
        {
            self.write_oldest(out, render)?;
        }
        let (done, drawn) = sync_channel(1);
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.jobs
            .send((batch, done))
            .map_err(|_| io::Error::other("the drawing threads stopped"))?;
        self.pending.push_back((drawn, self.batch_weight));
        self.in_flight += self.batch_weight;
        self.batch_weight = 0;
        Ok(())
    }

    fn write_oldest(&mut self, out: &mut dyn Write, render: &mut dyn Render) -> io::Result<()> {
        let Some((drawn, weight)) = self.pending.pop_front() else {
            return Ok(());
        };
        self.in_flight -= weight;
        let batch = drawn
            .recv()
            .map_err(|_| io::Error::other("a drawing thread stopped"))??;
        match batch.guessed {
            None => out.write_all(&batch.text)?,
            Some(g) => {
                let mut start = 0;
                for (((p, cx), asked), end) in batch.packets.iter().zip(&g.asked).zip(g.ends) {
                    render.settle(out, p, *cx, asked, &batch.text[start..end])?;
                    start = end;
                }
            }
        }
        if let Ok(mut spare) = self.spare.lock() {
            if spare.len() < self.limit {
                spare.push(batch.text);
            }
        }
        Ok(())
    }
}
