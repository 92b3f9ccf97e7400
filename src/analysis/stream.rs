//! The application layer of one TCP connection: both directions reassembled, fed to the
//! protocol their first bytes choose (`protocols`), and each decoded message mapped back
//! to the frames that carried its bytes.

use std::collections::VecDeque;

use super::app::{AppMessage, Check, Dir, InProgress};
use super::protocols::{Context, Decoded, Detector};
use super::reassembly::{Piece, Reassembler};
use crate::dissect::{TcpFlags, TcpInfo};

/// A decoded application message, as a layer of the packet in which it completed.
#[derive(Debug, Clone)]
pub struct AppLayer {
    pub message: AppMessage,
    pub checks: Vec<Check>,
    /// Every frame that carried bytes of this message, in order.
    pub frames: Vec<u64>,
    /// Its bytes in this frame, `[start, end)` (empty when none are in this frame).
    pub range: (usize, usize),
    pub from_client: bool,
    /// A server's data message that no client message preceded: server push.
    pub push: bool,
    /// Read from decrypted TLS records: the key log secret that opened them.
    pub decrypted: Option<&'static str>,
}

/// Where each delivered run of stream bytes came from.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u64,
    end: u64,
    frame: u64,
    at: usize,
}

/// Runs kept per direction for mapping messages back to frames.
const MAX_RUNS: usize = 4096;

#[derive(Debug)]
pub struct TcpApp {
    reasm: [Reassembler; 2],
    app: Detector,
    runs: [VecDeque<Run>; 2],
    /// Who sent the last complete WebSocket data message (true: the client).
    last_data_from_client: Option<bool>,
    /// Whether the last WebSocket message was a server push (for what it carries).
    carrier_push: bool,
    /// A message that began in the last segment and did not end in it.
    pub started: Option<InProgress>,
}

impl TcpApp {
    pub fn new(cx: Context, max_held: usize) -> TcpApp {
        TcpApp {
            reasm: [
                Reassembler::with_limit(max_held),
                Reassembler::with_limit(max_held),
            ],
            app: Detector::new(cx),
            runs: Default::default(),
            last_data_from_client: None,
            carrier_push: false,
            started: None,
        }
    }

    /// Side `side`'s data starts at raw sequence number `seq` (its SYN's + 1).
    pub fn start_at(&mut self, side: usize, seq: u32) {
        self.reasm[side].start_at(seq);
    }

    /// True when both directions have ended: nothing more can be decoded.
    pub fn done(&self) -> bool {
        self.reasm[0].ended() && self.reasm[1].ended()
    }

    /// What the connection carries, once recognised.
    pub fn application(&self) -> Option<&'static str> {
        self.app.application()
    }

    /// Feeds one segment sent by `side`; returns the messages it completed.
    pub fn segment(
        &mut self,
        side: usize,
        client: usize,
        tcp: &TcpInfo,
        payload: &[u8],
        frame: u64,
        at: usize,
    ) -> Vec<AppLayer> {
        let dir_of = |s: usize| {
            if s == client {
                Dir::ClientToServer
            } else {
                Dir::ServerToClient
            }
        };
        let (Some(seq), Some(ack)) = (tcp.seq_raw, tcp.ack_raw) else {
            return Vec::new();
        };
        let flags = tcp.flags();
        self.started = None;
        let mut events: Vec<Decoded> = Vec::new();
        // The peer's acknowledgement may show that a hole it waits for was lost to the capture.
        if flags.has(TcpFlags::ACK) {
            let mut gaps = Vec::new();
            self.reasm[1 - side].acked(ack, &mut gaps);
            if !gaps.is_empty() {
                let mut rest = Vec::new();
                self.reasm[1 - side].flush_after_gap(&mut rest);
                self.feed(
                    1 - side,
                    dir_of(1 - side),
                    gaps.into_iter().chain(rest),
                    &mut events,
                );
            }
        }
        if flags.has(TcpFlags::RST) {
            events.extend(self.app.end(dir_of(side)));
            events.extend(self.app.end(dir_of(1 - side)));
        } else {
            let mut pieces = Vec::new();
            let fin = flags.has(TcpFlags::FIN);
            self.reasm[side].segment(
                seq,
                flags.has(TcpFlags::SYN),
                fin,
                payload,
                tcp.payload_len(),
                frame,
                at,
                &mut pieces,
            );
            self.feed(side, dir_of(side), pieces.into_iter(), &mut events);
            // A message that starts in this segment's bytes and goes on beyond them.
            let here = |o: u64| {
                self.runs[side]
                    .iter()
                    .any(|r| r.frame == frame && r.start <= o && o < r.end)
            };
            self.started = self.app.in_progress(dir_of(side)).filter(|p| here(p.start));
        }
        {
            // Messages carried by the same bytes (an Engine.IO packet in a WebSocket frame)
            // map to the same runs, so the runs are dropped only once all are placed.
            let mut done = [0u64; 2];
            let layers: Vec<AppLayer> = events
                .into_iter()
                .filter_map(|e| {
                    let side = if e.event.dir == Dir::ClientToServer {
                        client
                    } else {
                        1 - client
                    };
                    done[side] = done[side].max(e.event.stream_range.1);
                    self.place(e, client, frame)
                })
                .collect();
            for (side, end) in done.into_iter().enumerate() {
                while self.runs[side].front().is_some_and(|r| r.end <= end) {
                    self.runs[side].pop_front();
                }
            }
            layers
        }
    }

    fn feed<'a>(
        &mut self,
        side: usize,
        dir: Dir,
        pieces: impl Iterator<Item = Piece<'a>>,
        events: &mut Vec<Decoded>,
    ) {
        for p in pieces {
            match p {
                Piece::Data {
                    offset,
                    bytes,
                    frame,
                    at,
                } => {
                    let runs = &mut self.runs[side];
                    runs.push_back(Run {
                        start: offset,
                        end: offset + bytes.len() as u64,
                        frame,
                        at,
                    });
                    if runs.len() > MAX_RUNS {
                        runs.pop_front();
                    }
                    events.extend(self.app.push(dir, &bytes));
                }
                Piece::Gap { len, .. } => events.extend(self.app.gap(dir, len)),
                Piece::End => events.extend(self.app.end(dir)),
            }
        }
    }

    /// Maps an event back to its frames; drops the runs no later message can need.
    fn place(&mut self, d: Decoded, client: usize, current: u64) -> Option<AppLayer> {
        let Decoded {
            event: e,
            decrypted,
        } = d;
        let side = if e.dir == Dir::ClientToServer {
            client
        } else {
            1 - client
        };
        let (s, t) = e.stream_range;
        let runs = &mut self.runs[side];
        let mut frames: Vec<u64> = Vec::new();
        let mut range = (0, 0);
        for r in runs.iter().filter(|r| r.end > s && r.start < t) {
            if frames.last() != Some(&r.frame) {
                frames.push(r.frame);
            }
            if r.frame == current {
                let a = r.at + (s.max(r.start) - r.start) as usize;
                let b = r.at + (t.min(r.end) - r.start) as usize;
                range = if range == (0, 0) {
                    (a, b)
                } else {
                    (range.0.min(a), range.1.max(b))
                };
            }
        }
        let from_client = e.dir == Dir::ClientToServer;
        let mut push = false;
        match &e.message {
            AppMessage::WebSocket(w) => {
                if w.message_len.is_some() && matches!(w.opcode, 0..=2) {
                    push = !from_client && self.last_data_from_client != Some(true);
                    self.last_data_from_client = Some(from_client);
                    self.carrier_push = push;
                }
            }
            // The Engine.IO and Socket.IO packets a message carries are pushed when it is.
            AppMessage::EngineIo(_) | AppMessage::SocketIo(_) => push = self.carrier_push,
            AppMessage::Http(_) => self.carrier_push = false,
            AppMessage::Tls(_) | AppMessage::Stopped(_) => {}
        }
        Some(AppLayer {
            message: e.message,
            checks: e.checks,
            frames,
            range,
            from_client,
            push,
            decrypted,
        })
    }
}
