//! The application layer of one TCP connection: both directions reassembled, fed to the
//! protocol their first bytes choose (`protocols`), and each decoded message mapped back
//! to the frames that carried its bytes.

use std::collections::VecDeque;

use super::app::{AppMessage, Check, Dir, InProgress};
use super::engineio::EioType;
use super::protocols::{Context, Decoded, Detector};
use super::reassembly::{Piece, Reassembler};
use super::socketio::SioType;
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
    /// Whether a server's data message was sent unasked, as far as the capture can tell.
    pub push: Unasked,
    /// Read from decrypted TLS records: the key log secret that opened them.
    pub decrypted: Option<&'static str>,
}

/// Whether a server's WebSocket data message (and what it carries) was sent unasked.
/// Engine.IO and Socket.IO housekeeping from the client (a pong, a CONNECT) asks nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unasked {
    #[default]
    No,
    /// Before the client had sent any data message on this WebSocket: a server push.
    First,
    /// With no message from the client since the server's previous one: a push, or the
    /// rest of a longer answer — a capture cannot tell which.
    Maybe,
}

/// A WebSocket message and the Engine.IO and Socket.IO packets it carries (the layers
/// that follow it from the same side) are pushed or not together, as the innermost says
/// (a WebSocket frame that carries an Engine.IO pong is no push).
fn carried_push(mut layers: Vec<AppLayer>) -> Vec<AppLayer> {
    let mut i = 0;
    while i < layers.len() {
        let mut j = i + 1;
        if matches!(layers[i].message, AppMessage::WebSocket(_)) {
            while j < layers.len()
                && layers[j].from_client == layers[i].from_client
                && matches!(
                    layers[j].message,
                    AppMessage::EngineIo(_) | AppMessage::SocketIo(_)
                )
            {
                j += 1;
            }
            let inner = layers[j - 1].push;
            for l in &mut layers[i..j] {
                l.push = inner;
            }
        }
        i = j;
    }
    layers
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
    /// Who sent the last WebSocket data message that counts (true: the client; None:
    /// nobody yet), and whether the client has sent one; with what both were before the
    /// last message (put back when it turns out to carry only Engine.IO or Socket.IO
    /// housekeeping: a ping or pong, a CONNECT).
    last_data: Option<bool>,
    client_spoke: bool,
    before: (Option<bool>, bool),
    /// What the last WebSocket message was (for what it carries).
    carrier_push: Unasked,
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
            last_data: None,
            client_spoke: false,
            before: (None, false),
            carrier_push: Unasked::No,
            started: None,
        }
    }

    /// The last WebSocket message carried Engine.IO or Socket.IO housekeeping: it does
    /// not count as a message that asks, answers or pushes.
    fn housekeeping(&mut self) -> Unasked {
        (self.last_data, self.client_spoke) = self.before;
        self.carrier_push = Unasked::No;
        Unasked::No
    }

    /// Side `side`'s data starts at raw sequence number `seq` (its SYN's + 1).
    pub fn start_at(&mut self, side: usize, seq: u32) {
        self.reasm[side].start_at(seq);
    }

    /// About how many bytes of memory this connection's application state holds: the
    /// bytes held out of order, the decoders' buffers and messages, the frame map.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<TcpApp>()
            + self.reasm[0].held_bytes()
            + self.reasm[1].held_bytes()
            + self.app.memory()
            + (self.runs[0].len() + self.runs[1].len()) * std::mem::size_of::<Run>()
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
            let layers = carried_push(layers);
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
        let mut push = Unasked::No;
        match &e.message {
            AppMessage::WebSocket(w) => {
                if w.message_len.is_some() && matches!(w.opcode, 0..=2) {
                    self.before = (self.last_data, self.client_spoke);
                    if from_client {
                        self.client_spoke = true;
                    } else if !self.client_spoke {
                        push = Unasked::First;
                    } else if self.last_data == Some(false) {
                        push = Unasked::Maybe;
                    }
                    self.last_data = Some(from_client);
                    self.carrier_push = push;
                }
            }
            // The Engine.IO and Socket.IO packets a message carries are pushed when it is,
            // unless they are housekeeping, which neither asks nor answers anything.
            AppMessage::EngineIo(p) => {
                push = self.carrier_push;
                if p.packet_type != EioType::Message {
                    push = self.housekeeping();
                }
            }
            AppMessage::SocketIo(p) => {
                push = self.carrier_push;
                if matches!(
                    p.packet_type,
                    SioType::Connect | SioType::Disconnect | SioType::ConnectError
                ) {
                    push = self.housekeeping();
                }
            }
            AppMessage::Http(_) => self.carrier_push = Unasked::No,
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
