//! TCP across packets: relative sequence numbers, each side's RFC 9293 state, and the
//! sequence analysis (retransmission, duplicate ACK, zero window, …) that agrees with
//! Wireshark's, flag for flag, on the shared captures.

use serde::Serialize;

use super::tags::Tag;
use crate::dissect::{TcpFlags, TcpInfo};
use crate::frame::Timestamp;

/// RFC 9293's connection states, as one side of the connection sees itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TcpState {
    #[serde(rename = "CLOSED")]
    Closed,
    #[serde(rename = "LISTEN")]
    Listen,
    #[serde(rename = "SYN-SENT")]
    SynSent,
    #[serde(rename = "SYN-RECEIVED")]
    SynReceived,
    #[serde(rename = "ESTABLISHED")]
    Established,
    #[serde(rename = "FIN-WAIT-1")]
    FinWait1,
    #[serde(rename = "FIN-WAIT-2")]
    FinWait2,
    #[serde(rename = "CLOSE-WAIT")]
    CloseWait,
    #[serde(rename = "CLOSING")]
    Closing,
    #[serde(rename = "LAST-ACK")]
    LastAck,
    #[serde(rename = "TIME-WAIT")]
    TimeWait,
}

impl TcpState {
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }
}

/// Sequence-space comparisons that survive wrap-around (RFC 1982 style).
fn gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}
fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
fn le(a: u32, b: u32) -> bool {
    !gt(a, b)
}

/// What one direction of a connection has shown so far.
#[derive(Debug, Clone)]
pub struct Side {
    pub base_seq: Option<u32>,
    /// Raw sequence number after the highest byte (or SYN/FIN) sent so far.
    next_seq: Option<u32>,
    next_seq_time: Timestamp,
    max_seq_to_be_acked: Option<u32>,
    last_ack: Option<u32>,
    last_ack_time: Timestamp,
    window: Option<u16>,
    /// Window scale shift: -1 unknown (no SYN seen), -2 no scaling negotiated.
    win_scale: i8,
    dupacks: u32,
    last_tags: Vec<Tag>,
    pub state: TcpState,
    /// Raw sequence number of this side's FIN, once sent.
    fin_seq: Option<u32>,
    pub saw_syn: bool,
    pub isn: Option<u32>,
    pub packets: u64,
    pub bytes: u64,
    pub payload_bytes: u64,
    /// The SYN's options, kept for the handshake story.
    pub syn_mss: Option<u16>,
    pub syn_wscale: Option<u8>,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            base_seq: None,
            next_seq: None,
            next_seq_time: Timestamp::default(),
            max_seq_to_be_acked: None,
            last_ack: None,
            last_ack_time: Timestamp::default(),
            window: None,
            win_scale: -1,
            dupacks: 0,
            last_tags: Vec::new(),
            state: TcpState::Closed,
            fin_seq: None,
            saw_syn: false,
            isn: None,
            packets: 0,
            bytes: 0,
            payload_bytes: 0,
            syn_mss: None,
            syn_wscale: None,
        }
    }
}

/// One TCP connection as seen in the capture. Side 0 sent the conversation's first packet.
#[derive(Debug, Clone, Default)]
pub struct TcpConn {
    pub sides: [Side; 2],
    /// Which side is the client: who sent the first SYN (or, mid-stream, a guess).
    pub client: usize,
    pub handshake: Vec<u64>,
    pub teardown: Vec<u64>,
    pub reset: Option<u64>,
    /// First RTT measured from the handshake (SYN → ACK), used as the out-of-order threshold.
    first_rtt: Option<f64>,
    syn_time: Option<Timestamp>,
    synack_time: Option<Timestamp>,
    pub closed: bool,
}

/// What the tracker says about one segment.
#[derive(Debug, Clone, Default)]
pub struct SegmentView {
    pub tags: Vec<Tag>,
    /// Each side's state after this segment: [client, server].
    pub states: [Option<TcpState>; 2],
    /// The index of the sending side.
    pub from: usize,
}

impl TcpConn {
    pub fn new(first_is_syn_ack: bool) -> TcpConn {
        TcpConn { client: if first_is_syn_ack { 1 } else { 0 }, ..TcpConn::default() }
    }

    /// True once both sides are done with this connection (a new SYN on the same ports
    /// then starts a new conversation).
    pub fn finished(&self) -> bool {
        self.reset.is_some() || (self.sides[0].fin_seq.is_some() && self.sides[1].fin_seq.is_some())
    }

    /// Processes a segment sent by side `from`; fills the relative numbers into `tcp`.
    pub fn segment(&mut self, from: usize, tcp: &mut TcpInfo, number: u64, time: Timestamp, wire_bytes: u64) -> SegmentView {
        let to = 1 - from;
        let flags = tcp.flags();
        let (Some(seq), Some(ack)) = (tcp.seq_raw, tcp.ack_raw) else {
            // A header cut before the sequence numbers: nothing to analyse.
            return SegmentView { from, ..SegmentView::default() };
        };
        let seglen = tcp.payload_len();
        let window = tcp.window.unwrap_or(0);
        let syn = flags.has(TcpFlags::SYN);
        let fin = flags.has(TcpFlags::FIN);
        let rst = flags.has(TcpFlags::RST);
        let has_ack = flags.has(TcpFlags::ACK);

        // Relative numbers: each side counts from its initial sequence number.
        {
            let side = &mut self.sides[from];
            if side.base_seq.is_none() {
                side.base_seq = Some(if syn { seq } else { seq.wrapping_sub(1) });
            }
            if syn {
                if !side.saw_syn {
                    side.isn = Some(seq);
                    side.syn_mss = tcp.mss;
                    side.syn_wscale = tcp.window_scale;
                }
                side.saw_syn = true;
            }
        }
        if has_ack && self.sides[to].base_seq.is_none() {
            self.sides[to].base_seq = Some(ack.wrapping_sub(1));
        }
        tcp.seq = Some(seq.wrapping_sub(self.sides[from].base_seq.unwrap_or(seq)));
        tcp.ack = Some(if has_ack { ack.wrapping_sub(self.sides[to].base_seq.unwrap_or(ack)) } else { 0 });

        // Window scaling is in force only when both SYNs carried the option.
        if syn && has_ack {
            let (a, b) = (self.sides[to].syn_wscale, tcp.window_scale);
            let (sa, sb) = match (a, b) {
                (Some(x), Some(y)) => (x.min(14) as i8, y.min(14) as i8),
                _ => (-2, -2),
            };
            self.sides[to].win_scale = sa;
            self.sides[from].win_scale = sb;
        }

        let mut tags = self.analyze(from, seq, ack, seglen, flags, window, time);
        if tcp.checksum_ok == Some(false) {
            tags.push(Tag::BadChecksum);
        }
        self.story(from, seq, ack, seglen, flags, number, time, &mut tags);
        let side = &mut self.sides[from];
        side.packets += 1;
        side.bytes += wire_bytes;
        side.payload_bytes += seglen as u64;
        let _ = (fin, rst);
        let c = self.client;
        SegmentView { tags, states: [Some(self.sides[c].state), Some(self.sides[1 - c].state)], from }
    }

    /// Wireshark's sequence analysis (tcp_analyze_sequence_number), in its order.
    #[allow(clippy::too_many_arguments)]
    fn analyze(&mut self, from: usize, seq: u32, ack: u32, seglen: u32, flags: TcpFlags, window: u16, now: Timestamp) -> Vec<Tag> {
        let to = 1 - from;
        let mut tags: Vec<Tag> = Vec::new();
        let control = flags.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) != 0;
        let (fwd, rev) = if from == 0 {
            let (a, b) = self.sides.split_at_mut(1);
            (&mut a[0], &mut b[0])
        } else {
            let (a, b) = self.sides.split_at_mut(1);
            (&mut b[0], &mut a[0])
        };
        let _ = to;
        let mut skip_dup = false;

        // Zero window probe: one byte sent into a window the peer said was zero.
        if seglen == 1 && fwd.next_seq == Some(seq) && rev.window == Some(0) {
            tags.push(Tag::ZeroWindowProbe);
            skip_dup = true;
        }
        if !skip_dup {
            if window == 0 && !control {
                tags.push(Tag::ZeroWindow);
            }
            if let Some(next) = fwd.next_seq {
                if gt(seq, next) && !flags.has(TcpFlags::RST) {
                    tags.push(Tag::LostSegment);
                }
            }
            if seglen <= 1 && !control {
                if let Some(next) = fwd.next_seq {
                    if next.wrapping_sub(1) == seq {
                        tags.push(Tag::KeepAlive);
                    }
                }
            }
            let same_point = fwd.next_seq == Some(seq) && fwd.last_ack == Some(ack) && !control;
            if seglen == 0 && window != 0 && Some(window) != fwd.window && same_point {
                tags.push(Tag::WindowUpdate);
            }
            if seglen > 0 && !control && rev.win_scale != -1 {
                if let (Some(rack), Some(rwin)) = (rev.last_ack, rev.window) {
                    let shift = rev.win_scale.max(0) as u32;
                    let edge = rack.wrapping_add((rwin as u32) << shift);
                    if seq.wrapping_add(seglen) == edge {
                        tags.push(Tag::WindowFull);
                    }
                }
            }
            if seglen == 0 && window != 0 && Some(window) == fwd.window && same_point && rev.last_tags.contains(&Tag::KeepAlive) {
                tags.push(Tag::KeepAliveAck);
                skip_dup = true;
            }
            if !skip_dup
                && seglen == 0
                && window == 0
                && Some(window) == fwd.window
                && same_point
                && rev.last_tags.contains(&Tag::ZeroWindowProbe)
            {
                tags.push(Tag::ZeroWindowProbeAck);
                skip_dup = true;
            }
            if !skip_dup && seglen == 0 && window != 0 && Some(window) == fwd.window && same_point {
                fwd.dupacks += 1;
                tags.push(Tag::DuplicateAck);
            }
        }
        if !tags.contains(&Tag::DuplicateAck) {
            fwd.dupacks = 0;
        }
        if flags.has(TcpFlags::ACK) {
            if let Some(max) = rev.max_seq_to_be_acked {
                if gt(ack, max) && rev.next_seq.map(|n| gt(ack, n)).unwrap_or(false) {
                    tags.push(Tag::AckedUnseen);
                }
            }
        }

        // Retransmission and its kinds: data (or SYN/FIN) that does not advance.
        let syn_fin = flags.0 & (TcpFlags::SYN | TcpFlags::FIN) != 0;
        if (seglen > 0 || syn_fin) && !tags.contains(&Tag::KeepAlive) && !tags.contains(&Tag::ZeroWindowProbe) {
            if let Some(next) = fwd.next_seq {
                if lt(seq, next) {
                    let since = now.since(fwd.next_seq_time);
                    let ooo_threshold = self.first_rtt.unwrap_or(0.003).max(0.0);
                    if rev.dupacks >= 2 && rev.last_ack == Some(seq) && now.since(rev.last_ack_time) < 0.02 {
                        tags.push(Tag::Retransmission);
                        tags.push(Tag::FastRetransmission);
                    } else if since < ooo_threshold && next != seq.wrapping_add(seglen) {
                        tags.push(Tag::OutOfOrder);
                    } else if seglen > 0 && rev.last_ack.map(|la| le(seq.wrapping_add(seglen), la)).unwrap_or(false) {
                        tags.push(Tag::Retransmission);
                        tags.push(Tag::SpuriousRetransmission);
                    } else {
                        tags.push(Tag::Retransmission);
                    }
                }
            }
        }

        // Update this direction.
        let mut nextseq = seq.wrapping_add(seglen);
        if syn_fin {
            nextseq = nextseq.wrapping_add(1);
        }
        let advance = match fwd.next_seq {
            None => true,
            Some(n) => gt(nextseq, n),
        };
        if advance && !tags.contains(&Tag::KeepAlive) && !tags.contains(&Tag::ZeroWindowProbe) {
            fwd.next_seq = Some(nextseq);
            fwd.next_seq_time = now;
        }
        if fwd.max_seq_to_be_acked.map(|m| gt(nextseq, m)).unwrap_or(true) {
            fwd.max_seq_to_be_acked = Some(nextseq);
        }
        if flags.has(TcpFlags::ACK) {
            fwd.last_ack = Some(ack);
            fwd.last_ack_time = now;
        }
        fwd.window = Some(window);
        fwd.last_tags = tags.clone();
        tags
    }

    /// The connection's story: handshake and teardown frames, and each side's state.
    #[allow(clippy::too_many_arguments)]
    fn story(&mut self, from: usize, seq: u32, ack: u32, seglen: u32, flags: TcpFlags, number: u64, time: Timestamp, tags: &mut Vec<Tag>) {
        let to = 1 - from;
        let syn = flags.has(TcpFlags::SYN);
        let fin = flags.has(TcpFlags::FIN);
        let rst = flags.has(TcpFlags::RST);
        let has_ack = flags.has(TcpFlags::ACK);
        let retrans = tags.contains(&Tag::Retransmission);

        if self.sides[0].packets == 0 && self.sides[1].packets == 0 && !syn {
            // Caught mid-stream: both sides were already talking.
            self.sides[0].state = TcpState::Established;
            self.sides[1].state = TcpState::Established;
        }
        if syn && !has_ack {
            tags.insert(0, Tag::HandshakeSyn);
            if self.handshake.is_empty() {
                self.client = from;
                self.handshake.push(number);
                self.syn_time = Some(time);
            }
            let (me, peer) = (self.sides[from].state, self.sides[to].state);
            self.sides[from].state = match me {
                TcpState::SynSent | TcpState::SynReceived => me,
                _ => TcpState::SynSent,
            };
            self.sides[to].state = match peer {
                TcpState::SynSent => TcpState::SynReceived, // simultaneous open
                TcpState::Closed => TcpState::Listen,
                other => other,
            };
        } else if syn && has_ack {
            tags.insert(0, Tag::HandshakeSynAck);
            if self.handshake.len() == 1 && !retrans {
                self.handshake.push(number);
                self.synack_time = Some(time);
            }
            self.sides[from].state = TcpState::SynReceived;
            if self.sides[to].state == TcpState::SynSent || self.sides[to].state == TcpState::Closed {
                self.sides[to].state = TcpState::Established;
            }
        } else if has_ack && !rst {
            let completes = self.sides[to].state == TcpState::SynReceived
                && self.sides[to].isn.map(|isn| ack == isn.wrapping_add(1)).unwrap_or(false);
            if completes {
                if !tags.contains(&Tag::HandshakeAck) && self.handshake.len() == 2 {
                    tags.insert(0, Tag::HandshakeAck);
                    self.handshake.push(number);
                    if let Some(t0) = self.syn_time {
                        self.first_rtt = Some(time.since(t0));
                    }
                }
                self.sides[to].state = TcpState::Established;
                if matches!(self.sides[from].state, TcpState::SynSent | TcpState::SynReceived | TcpState::Closed) {
                    self.sides[from].state = TcpState::Established;
                }
            }
        }

        // An ACK of the peer's FIN moves the peer along its closing states.
        if has_ack && !rst {
            if let Some(fs) = self.sides[to].fin_seq {
                if gt(ack, fs) || ack == fs.wrapping_add(1) {
                    let acked_before = matches!(self.sides[to].state, TcpState::FinWait2 | TcpState::TimeWait | TcpState::Closed);
                    self.sides[to].state = match self.sides[to].state {
                        TcpState::FinWait1 => TcpState::FinWait2,
                        TcpState::Closing => TcpState::TimeWait,
                        TcpState::LastAck => TcpState::Closed,
                        s => s,
                    };
                    if !acked_before && !fin && !self.teardown.contains(&number) && !self.teardown.is_empty() {
                        self.teardown.push(number);
                    }
                }
            }
        }
        if fin {
            tags.push(Tag::Fin);
            if self.sides[from].fin_seq.is_none() {
                self.sides[from].fin_seq = Some(seq.wrapping_add(seglen));
                self.teardown.push(number);
                self.sides[from].state = match self.sides[from].state {
                    TcpState::CloseWait => TcpState::LastAck,
                    TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing | TcpState::LastAck | TcpState::TimeWait => {
                        self.sides[from].state
                    }
                    _ => TcpState::FinWait1,
                };
                self.sides[to].state = match self.sides[to].state {
                    TcpState::FinWait1 => TcpState::Closing,
                    TcpState::FinWait2 => TcpState::TimeWait,
                    TcpState::Established | TcpState::SynReceived => TcpState::CloseWait,
                    s => s,
                };
            }
        }
        if rst {
            tags.push(Tag::Rst);
            if self.reset.is_none() {
                self.reset = Some(number);
            }
            self.sides[from].state = TcpState::Closed;
            self.sides[to].state = TcpState::Closed;
        }
        let _ = seq;
    }
}
