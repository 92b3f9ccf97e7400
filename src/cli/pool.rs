//! Drawing packets on several threads: the main thread reads, dissects and analyses in
//! capture order and hands packets on in batches; each batch is drawn on a worker into
//! its own buffer, and the buffers are written in the order the batches were made. The
//! batches in flight are bounded by what they carry (a packet, and each application
//! message reported in it: one segment may end hundreds of WebSocket messages), so
//! memory stays bounded on any capture.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::Scope;

use crate::pipeline::Packet;
use crate::render::{Context, Draw};

/// Packets drawn together by one worker; a batch also ends once its packets and their
/// application messages add up to this many.
const BATCH: usize = 64;

/// What a packet weighs in a batch: itself and each application message it reports.
fn weight(p: &Packet) -> usize {
    1 + p.analysis.app.len()
}

type Drawn = io::Result<Vec<u8>>;
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
}

impl Pool {
    /// `threads` workers drawing with `draw`, for as long as `scope` lasts.
    pub fn start<'s>(scope: &'s Scope<'s, '_>, draw: Arc<dyn Draw>, threads: usize) -> Pool {
        let (jobs, queue) = sync_channel::<Job>(threads * 2);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..threads {
            let (queue, draw) = (Arc::clone(&queue), Arc::clone(&draw));
            scope.spawn(move || loop {
                let job = match queue.lock() {
                    Ok(q) => q.recv(),
                    Err(_) => return,
                };
                let Ok((batch, done)) = job else { return };
                let mut buf = Vec::with_capacity(batch.len() * 512);
                let drawn = batch
                    .iter()
                    .try_for_each(|(p, cx)| draw.draw(&mut buf, p, *cx))
                    .map(|()| buf);
                drop(batch);
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
        }
    }

    /// One more packet, in capture order; writes what is drawn when it is its turn.
    pub fn packet(&mut self, p: Packet, cx: Context, out: &mut dyn Write) -> io::Result<()> {
        self.batch_weight += weight(&p);
        self.batch.push((p, cx));
        if self.batch.len() == BATCH || self.batch_weight >= BATCH {
            self.hand_out(out)?;
        }
        Ok(())
    }

    /// Writes everything still to draw.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.hand_out(out)?;
        }
        while !self.pending.is_empty() {
            self.write_oldest(out)?;
        }
        Ok(())
    }

    fn hand_out(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while !self.pending.is_empty()
            && (self.pending.len() >= self.limit
                || self.in_flight + self.batch_weight > self.limit * BATCH)
        {
            self.write_oldest(out)?;
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

    fn write_oldest(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let Some((drawn, weight)) = self.pending.pop_front() else {
            return Ok(());
        };
        self.in_flight -= weight;
        let bytes = drawn
            .recv()
            .map_err(|_| io::Error::other("a drawing thread stopped"))??;
        out.write_all(&bytes)
    }
}
