//! TCP across packets: relative sequence numbers, each side's RFC 9293 state, and the
//! sequence analysis (retransmission, duplicate ACK, zero window, …) that agrees with
//! Wireshark's, flag for flag, on the shared captures.

use super::inflight::InFlight;
use super::tags::Tag;
use crate::dissect::{TcpFlags, TcpInfo};
use crate::frame::Timestamp;

pub use crate::proto::tcp::TcpState;

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

/// What one direction of a connection has shown so far. The sequence-analysis fields
/// follow Wireshark's (`0` means "not yet known", as there), so the tags agree with it.
#[derive(Debug, Clone)]
pub struct Side {
    pub base_seq: Option<u32>,
    /// Raw sequence number after the highest byte (or SYN/FIN) sent so far; 0 = unknown.
    next_seq: u32,
    next_seq_time: Timestamp,
    max_seq_to_be_acked: u32,
    last_ack: u32,
    last_ack_time: Option<Timestamp>,
    /// The last raw window advertised; u32::MAX before the first segment.
    window: u32,
    /// Window scale shift: -1 unknown (no SYN seen), -2 no scaling negotiated.
    win_scale: i8,
    is_first_ack: bool,
    dupacks: i32,
    last_tags: Vec<Tag>,
    pub state: TcpState,
    /// Raw sequence number of this side's FIN, once sent.
    fin_seq: Option<u32>,
    /// The peer's FIN is on its way to this side: its state moves when this side shows
    /// it has the FIN (it acknowledges it), not when the capture sees the FIN go by —
    /// the FIN may have crossed this side's own FIN, or overtaken bytes sent before it.
    pub fin_incoming: bool,
    pub saw_syn: bool,
    pub isn: Option<u32>,
    pub packets: u64,
    pub bytes: u64,
    pub payload_bytes: u64,
    /// The SYN's options, kept for the handshake story.
    pub syn_mss: Option<u16>,
    pub syn_wscale: Option<u8>,
    /// Segments sent and not yet acknowledged (acks_frame, bytes in flight).
    pub inflight: InFlight,
    /// Bytes this side's last ACK reported received beyond it, in SACK blocks.
    sacked: u32,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            base_seq: None,
            next_seq: 0,
            next_seq_time: Timestamp::default(),
            max_seq_to_be_acked: 0,
            last_ack: 0,
            last_ack_time: None,
            window: u32::MAX,
            win_scale: -1,
            is_first_ack: false,
            dupacks: 0,
            last_tags: Vec::new(),
            state: TcpState::Closed,
            fin_seq: None,
            fin_incoming: false,
            saw_syn: false,
            isn: None,
            packets: 0,
            bytes: 0,
            payload_bytes: 0,
            syn_mss: None,
            syn_wscale: None,
            inflight: InFlight::default(),
            sacked: 0,
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
    /// First RTT measured from the handshake (SYN → first pure ACK), used as the
    /// out-of-order threshold.
    first_rtt: Option<f64>,
    /// When the most recent SYN (without ACK) was seen.
    last_syn_time: Option<Timestamp>,
    /// The side that sent the connection's first FIN (it closed first).
    pub first_fin: Option<usize>,
    /// The FINs crossed: both sides went through CLOSING, and both hold TIME-WAIT.
    pub simultaneous_close: bool,
    /// Whether each side's entry into TIME-WAIT was already reported.
    time_wait_told: [bool; 2],
}

/// What the tracker says about one segment.
#[derive(Debug, Clone, Default)]
pub struct SegmentView {
    pub tags: Vec<Tag>,
    /// Each side's state after this segment: [client, server].
    pub states: [Option<TcpState>; 2],
    /// The index of the sending side.
    pub from: usize,
    /// [client, server]: a FIN from the other side is on its way to this one.
    pub fin_incoming: [bool; 2],
}

impl TcpConn {
    pub fn new(first_is_syn_ack: bool) -> TcpConn {
        TcpConn {
            client: if first_is_syn_ack { 1 } else { 0 },
            ..TcpConn::default()
        }
    }

    /// True once the connection was reset.
    pub fn finished(&self) -> bool {
        self.reset.is_some()
    }

    /// A side that has just entered TIME-WAIT (reported once per side).
    pub fn entered_time_wait(&mut self) -> Option<usize> {
        let s = (0..2)
            .find(|&s| self.sides[s].state == TcpState::TimeWait && !self.time_wait_told[s])?;
        self.time_wait_told[s] = true;
        Some(s)
    }

    /// True once side `s` has sent its FIN.
    pub fn fin_sent(&self, s: usize) -> bool {
        self.sides[s].fin_seq.is_some()
    }

    /// True when a segment from side `from` starts a new conversation on the same ports
    /// (port reuse): a SYN whose initial number differs from the one that side used.
    pub fn starts_new_stream(&self, from: usize, tcp: &TcpInfo) -> bool {
        let f = tcp.flags();
        f.has(TcpFlags::SYN)
            && !f.has(TcpFlags::ACK)
            && matches!((self.sides[from].base_seq, tcp.seq_raw), (Some(base), Some(seq)) if base != seq)
    }

    /// Processes a segment sent by side `from`; fills the relative numbers into `tcp`.
    pub fn segment(
        &mut self,
        from: usize,
        tcp: &mut TcpInfo,
        number: u64,
        time: Timestamp,
        wire_bytes: u64,
    ) -> SegmentView {
        let to = 1 - from;
        let flags = tcp.flags();
        let (Some(seq), Some(ack)) = (tcp.seq_raw, tcp.ack_raw) else {
            // A header cut before the sequence numbers: nothing to analyse.
            return SegmentView {
                from,
                ..SegmentView::default()
            };
        };
        let seglen = tcp.payload_len();
        let window = tcp.window.unwrap_or(0) as u32;
        let syn = flags.has(TcpFlags::SYN);
        let has_ack = flags.has(TcpFlags::ACK);
        let mut tags = Vec::new();

        if syn && !self.sides[from].saw_syn {
            self.sides[from].isn = Some(seq);
            self.sides[from].syn_mss = tcp.mss;
            self.sides[from].syn_wscale = tcp.window_scale;
        }
        if let Some(base) = self.sides[from].base_seq {
            if syn && !has_ack && seq == base {
                // The same SYN again: start counting from where that side had got to.
                self.sides[from].next_seq = self.sides[from].max_seq_to_be_acked;
            }
            if syn && has_ack && seq != base {
                self.sides[from].base_seq = Some(seq);
                tags.push(Tag::PortReuse);
            }
        }
        if syn {
            self.sides[from].saw_syn = true;
        }

        tags.extend(self.analyze(from, seq, ack, seglen, flags, window, time));
        tcp.seq = Some(seq.wrapping_sub(self.sides[from].base_seq.unwrap_or(seq)));
        tcp.ack = Some(if has_ack {
            ack.wrapping_sub(self.sides[to].base_seq.unwrap_or(ack))
        } else {
            ack
        });

        // After the analysis, as Wireshark does: RTT, first-ACK marks, window scaling.
        if syn {
            if !has_ack {
                self.last_syn_time = Some(time);
            }
            self.sides[from].is_first_ack = true;
        }
        if has_ack && !syn {
            // A zero RTT counts as not measured yet, as in Wireshark (nstime_is_zero).
            if let (Some(t0), None | Some(0.0)) = (self.last_syn_time, self.first_rtt) {
                self.first_rtt = Some(time.since(t0));
            }
            self.sides[from].is_first_ack = false;
        }
        if let Some(ws) = tcp.window_scale {
            self.sides[from].win_scale = ws.min(14) as i8;
        }
        if syn {
            if self.sides[from].win_scale == -1 {
                self.sides[from].win_scale = -2;
                self.sides[to].win_scale = -2;
            } else if has_ack && self.sides[to].win_scale == -2 {
                self.sides[from].win_scale = -2;
            }
        }

        self.arithmetic(from, tcp, seq, ack, seglen, flags, number, &tags);

        if tcp.checksum_ok == Some(false) && !tcp.checksum_partial {
            tags.push(Tag::BadChecksum);
        }
        self.story(from, seq, ack, seglen, flags, number, &mut tags);
        let side = &mut self.sides[from];
        side.packets += 1;
        side.bytes += wire_bytes;
        side.payload_bytes += seglen as u64;
        let c = self.client;
        SegmentView {
            tags,
            states: [Some(self.sides[c].state), Some(self.sides[1 - c].state)],
            from,
            fin_incoming: [self.sides[c].fin_incoming, self.sides[1 - c].fin_incoming],
        }
    }

    /// The numbers tshark derives for a segment, written into `tcp`: the scaled window,
    /// the frame this ACK acknowledges, bytes in flight, and the initial RTT (shown, as
    /// tshark shows it, on segments that carry any sequence analysis).
    #[allow(clippy::too_many_arguments)]
    fn arithmetic(
        &mut self,
        from: usize,
        tcp: &mut TcpInfo,
        seq: u32,
        ack: u32,
        seglen: u32,
        flags: TcpFlags,
        number: u64,
        tags: &[Tag],
    ) {
        let to = 1 - from;
        let syn = flags.has(TcpFlags::SYN);
        let window = tcp.window.unwrap_or(0) as u32;
        let ws = self.sides[from].win_scale;
        tcp.window_scaled = tcp
            .window
            .map(|_| if syn || ws < 0 { window } else { window << ws });
        if flags.has(TcpFlags::ACK) {
            self.sides[to].inflight.ack_seen();
        }
        if tags.contains(&Tag::LostSegment) {
            self.sides[from].inflight.lost();
        }
        let syn_fin = flags.0 & (TcpFlags::SYN | TcpFlags::FIN) != 0;
        if seglen > 0 || syn_fin {
            let next = seq.wrapping_add(seglen).wrapping_add(syn_fin as u32);
            self.sides[from].inflight.sent(number, seq, next);
        }
        tcp.acks_frame = self.sides[to].inflight.acked(ack);
        let base = self.sides[from].base_seq.unwrap_or(0);
        if flags.has(TcpFlags::ACK) {
            self.sides[from].sacked = tcp.sack.iter().map(|(l, r)| r.wrapping_sub(*l)).sum();
        }
        let counted = self.sides[from].inflight.in_flight(
            seglen,
            base,
            flags.has(TcpFlags::FIN),
            self.sides[to].sacked,
        );
        tcp.bytes_in_flight = counted.flatten();
        let analysed = counted.is_some()
            || tcp.acks_frame.is_some()
            || tags.iter().any(|t| {
                !matches!(
                    t,
                    Tag::HandshakeSyn
                        | Tag::HandshakeSynAck
                        | Tag::HandshakeAck
                        | Tag::Fin
                        | Tag::Rst
                        | Tag::BadChecksum
                )
            });
        tcp.irtt = self.first_rtt.filter(|r| *r != 0.0 && analysed);
    }

    /// The initial round-trip time (SYN to the handshake's ACK), once measured.
    pub fn initial_rtt(&self) -> Option<f64> {
        self.first_rtt.filter(|r| *r != 0.0)
    }

    /// Wireshark's sequence analysis (tcp_analyze_sequence_number), check for check and
    /// in its order, so that the tags agree with what Wireshark shows.
    #[allow(clippy::too_many_arguments)]
    fn analyze(
        &mut self,
        from: usize,
        seq: u32,
        ack: u32,
        seglen: u32,
        flags: TcpFlags,
        window: u32,
        now: Timestamp,
    ) -> Vec<Tag> {
        let first_rtt = self.first_rtt;
        let (fwd, rev) = {
            let (a, b) = self.sides.split_at_mut(1);
            if from == 0 {
                (&mut a[0], &mut b[0])
            } else {
                (&mut b[0], &mut a[0])
            }
        };
        let syn = flags.has(TcpFlags::SYN);
        let has_ack = flags.has(TcpFlags::ACK);
        if fwd.base_seq.is_none() {
            fwd.base_seq = Some(if syn { seq } else { seq.wrapping_sub(1) });
        }
        if rev.base_seq.is_none() && has_ack {
            rev.base_seq = Some(ack.wrapping_sub(1));
        }
        let control = flags.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) != 0;
        let syn_fin = flags.0 & (TcpFlags::SYN | TcpFlags::FIN) != 0;
        let next = fwd.next_seq;
        let mut tags: Vec<Tag> = Vec::new();
        let same_point = seq == next && ack == fwd.last_ack && !control;

        'fwd: {
            if seglen == 1 && seq == next && rev.window == 0 {
                tags.push(Tag::ZeroWindowProbe);
                break 'fwd;
            }
            if window == 0 && !control {
                tags.push(Tag::ZeroWindow);
            }
            if next != 0 && gt(seq, next) && !flags.has(TcpFlags::RST) {
                tags.push(Tag::LostSegment);
            }
            if seglen <= 1 && !control && seq == next.wrapping_sub(1) {
                tags.push(Tag::KeepAlive);
            }
            if seglen == 0 && window != 0 && window != fwd.window && same_point {
                tags.push(Tag::WindowUpdate);
            }
            if seglen > 0 && rev.win_scale != -1 && !control {
                let shift = if rev.is_first_ack || rev.win_scale == -2 {
                    0
                } else {
                    rev.win_scale as u32
                };
                let edge = rev
                    .last_ack
                    .wrapping_add(((rev.window as u64) << shift) as u32);
                if seq.wrapping_add(seglen) == edge {
                    tags.push(Tag::WindowFull);
                }
            }
            if seglen == 0
                && window != 0
                && window == fwd.window
                && same_point
                && rev.last_tags.contains(&Tag::KeepAlive)
            {
                tags.push(Tag::KeepAliveAck);
                break 'fwd;
            }
            if seglen == 0
                && window == 0
                && window == fwd.window
                && same_point
                && rev.last_tags.contains(&Tag::ZeroWindowProbe)
            {
                tags.push(Tag::ZeroWindowProbeAck);
                break 'fwd;
            }
            if seglen == 0 && window != 0 && window == fwd.window && same_point {
                fwd.dupacks = if fwd.dupacks == -1 {
                    1
                } else {
                    fwd.dupacks + 1
                };
                tags.push(Tag::DuplicateAck);
            }
        }
        if ack != fwd.last_ack {
            fwd.dupacks = 0;
        }
        if rev.max_seq_to_be_acked != 0 && gt(ack, rev.max_seq_to_be_acked) && has_ack {
            if rev.max_seq_to_be_acked > rev.next_seq {
                rev.max_seq_to_be_acked = rev.next_seq;
                tags.push(Tag::AckedUnseen);
            } else {
                if rev.dupacks == 0 {
                    tags.push(Tag::AckedUnseen);
                }
                rev.dupacks = -1;
            }
        }

        'chk: {
            if !(seglen > 0 || syn_fin) {
                break 'chk;
            }
            let mut not_advancing = next != 0 && lt(seq, next);
            if tags.contains(&Tag::KeepAlive) {
                break 'chk;
            }
            if seglen > 1 && next.wrapping_sub(1) == seq {
                not_advancing = false;
            }
            if seglen > 0 && rev.last_ack != 0 && le(seq.wrapping_add(seglen), rev.last_ack) {
                tags.push(Tag::Retransmission);
                tags.push(Tag::SpuriousRetransmission);
                break 'chk;
            }
            let since_rev_ack = rev
                .last_ack_time
                .map(|t| now.since(t))
                .unwrap_or(f64::INFINITY);
            if not_advancing
                && rev.dupacks >= 2
                && rev.last_ack == seq
                && (0.0..0.02).contains(&since_rev_ack)
            {
                tags.push(Tag::Retransmission);
                tags.push(Tag::FastRetransmission);
                break 'chk;
            }
            let since_next = now.since(fwd.next_seq_time);
            let threshold = first_rtt.filter(|r| *r != 0.0).unwrap_or(0.003);
            let end = seq.wrapping_add(seglen).wrapping_add(syn_fin as u32);
            if not_advancing && since_next >= 0.0 && since_next < threshold && next != end {
                tags.push(Tag::OutOfOrder);
                break 'chk;
            }
            if not_advancing {
                tags.push(Tag::Retransmission);
            }
        }

        let mut nextseq = seq.wrapping_add(seglen);
        if syn_fin {
            nextseq = nextseq.wrapping_add(1);
        }
        let probe = tags.contains(&Tag::ZeroWindowProbe);
        if (gt(nextseq, fwd.next_seq) || fwd.next_seq == 0) && !probe {
            fwd.next_seq = nextseq;
            fwd.next_seq_time = now;
        }
        if (seq == fwd.max_seq_to_be_acked || fwd.max_seq_to_be_acked == 0) && !probe {
            fwd.max_seq_to_be_acked = fwd.next_seq;
        }
        fwd.window = window;
        fwd.last_ack = ack;
        fwd.last_ack_time = Some(now);
        fwd.last_tags = tags.clone();
        tags
    }

    /// Side `x` now has its peer's FIN: its closing state moves on.
    fn receive_fin(&mut self, x: usize) {
        self.sides[x].fin_incoming = false;
        self.simultaneous_close |= self.sides[x].state == TcpState::FinWait1;
        self.sides[x].state = match self.sides[x].state {
            TcpState::FinWait1 => TcpState::Closing,
            TcpState::FinWait2 => TcpState::TimeWait,
            TcpState::Established | TcpState::SynReceived => TcpState::CloseWait,
            s => s,
        };
    }

    /// The connection's story: handshake and teardown frames, and each side's state.
    #[allow(clippy::too_many_arguments)]
    fn story(
        &mut self,
        from: usize,
        seq: u32,
        ack: u32,
        seglen: u32,
        flags: TcpFlags,
        number: u64,
        tags: &mut Vec<Tag>,
    ) {
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
            }
            self.sides[from].state = TcpState::SynReceived;
            if self.sides[to].state == TcpState::SynSent || self.sides[to].state == TcpState::Closed
            {
                self.sides[to].state = TcpState::Established;
            }
        } else if has_ack && !rst {
            let completes = self.sides[to].state == TcpState::SynReceived
                && self.sides[to]
                    .isn
                    .map(|isn| ack == isn.wrapping_add(1))
                    .unwrap_or(false);
            if completes {
                if !tags.contains(&Tag::HandshakeAck) && self.handshake.len() == 2 {
                    tags.insert(0, Tag::HandshakeAck);
                    self.handshake.push(number);
                }
                self.sides[to].state = TcpState::Established;
                if matches!(
                    self.sides[from].state,
                    TcpState::SynSent | TcpState::SynReceived | TcpState::Closed
                ) {
                    self.sides[from].state = TcpState::Established;
                }
            }
        }

        // When does a side have the peer's FIN (see `fin_incoming`)? When it acknowledges
        // it; or when the peer sends anything after its FIN, since TCP delivers in order
        // and the FIN reaches the receiver first.
        if self.sides[to].fin_incoming && self.sides[from].fin_seq.is_some() && !rst {
            self.receive_fin(to);
        }
        if has_ack && !rst && self.sides[from].fin_incoming {
            if let Some(pf) = self.sides[to].fin_seq {
                if gt(ack, pf) {
                    self.receive_fin(from);
                }
            }
        }
        // An ACK of the peer's FIN moves the peer along its closing states.
        if has_ack && !rst {
            if let Some(fs) = self.sides[to].fin_seq {
                if gt(ack, fs) || ack == fs.wrapping_add(1) {
                    let acked_before = matches!(
                        self.sides[to].state,
                        TcpState::FinWait2 | TcpState::TimeWait | TcpState::Closed
                    );
                    self.sides[to].state = match self.sides[to].state {
                        TcpState::FinWait1 => TcpState::FinWait2,
                        TcpState::Closing => TcpState::TimeWait,
                        TcpState::LastAck => TcpState::Closed,
                        s => s,
                    };
                    if !acked_before
                        && !fin
                        && !self.teardown.contains(&number)
                        && !self.teardown.is_empty()
                    {
                        self.teardown.push(number);
                    }
                }
            }
        }
        if fin {
            tags.push(Tag::Fin);
            if self.sides[from].fin_seq.is_none() {
                self.sides[from].fin_seq = Some(seq.wrapping_add(seglen));
                self.first_fin.get_or_insert(from);
                self.teardown.push(number);
                // A FIN that does not acknowledge the peer's FIN crossed it on the way:
                // a simultaneous close, in which both sides go through CLOSING.
                let peer_fin_unacked = self.sides[to].fin_seq.is_some_and(|pf| {
                    !(has_ack && (ack == pf.wrapping_add(1) || gt(ack, pf.wrapping_add(1))))
                });
                self.sides[from].state = match self.sides[from].state {
                    TcpState::CloseWait if peer_fin_unacked => {
                        self.simultaneous_close = true;
                        TcpState::Closing
                    }
                    TcpState::CloseWait => TcpState::LastAck,
                    TcpState::FinWait1
                    | TcpState::FinWait2
                    | TcpState::Closing
                    | TcpState::LastAck
                    | TcpState::TimeWait => self.sides[from].state,
                    _ => TcpState::FinWait1,
                };
                // The receiver's state moves once it has this FIN (see `fin_incoming`).
                self.sides[to].fin_incoming = true;
            }
        }
        if rst {
            tags.push(Tag::Rst);
            if self.reset.is_none() {
                self.reset = Some(number);
            }
            self.sides[from].state = TcpState::Closed;
            self.sides[to].state = TcpState::Closed;
            self.sides[0].fin_incoming = false;
            self.sides[1].fin_incoming = false;
        }
    }
}
