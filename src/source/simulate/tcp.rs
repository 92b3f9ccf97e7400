//! A TCP endpoint that follows the protocol (RFC 9293), enough of it for a classroom:
//! the eleven states, initial sequence numbers chosen by the caller (from the seed),
//! every acknowledgment derived from what was received, MSS / window scale /
//! SACK-permitted / timestamps offered on SYNs (RFC 7323, RFC 2018), timestamps on every
//! segment once agreed, data split at the peer's MSS, delayed ACKs (RFC 1122/5681: at
//! least every second full segment, at once for out-of-order data), duplicate ACKs
//! with SACK blocks, fast retransmit on the third duplicate ACK, and retransmission of
//! the oldest unacknowledged segment when the caller's timer fires.
//!
//! The endpoint has no clock and no network: the engine hands it segments and the
//! current time, and sends whatever segments it returns.

use std::collections::BTreeMap;

use etherparse::TcpOptionElement;

pub use crate::proto::tcp::TcpState;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

/// Why the endpoint sent a segment: the engine turns this into the caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Syn,
    SynAck,
    HandshakeAck,
    /// Application data.
    Data,
    /// A pure acknowledgment (delayed, or every second segment, or for a FIN).
    Ack,
    /// An acknowledgment repeated because data arrived after a gap.
    DupAck,
    Fin,
    /// The application aborted the connection.
    Abort,
    /// A segment arrived for no connection (closed port, or nonsense).
    RstReply,
    /// A retransmission: `fast` after three duplicate ACKs, else after a timeout.
    Retransmission {
        fast: bool,
    },
    /// An ACK for a segment outside the window (an old duplicate).
    OldDuplicateAck,
}

#[derive(Debug, Clone)]
pub struct Segment {
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    /// The window field as written on the wire (already shifted by the window scale).
    pub window: u16,
    pub options: Vec<TcpOptionElement>,
    pub payload: Vec<u8>,
    pub why: Why,
}

impl Segment {
    /// Sequence space the segment occupies: its data, plus one for SYN and for FIN.
    pub fn seg_len(&self) -> u32 {
        self.payload.len() as u32 + self.flags.syn as u32 + self.flags.fin as u32
    }

    pub fn tsval(&self) -> Option<(u32, u32)> {
        self.options.iter().find_map(|o| match o {
            TcpOptionElement::Timestamp(v, e) => Some((*v, *e)),
            _ => None,
        })
    }
}

/// What one side offers in its SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Maximum segment size this side can receive (1460 on IPv4 Ethernet, 1440 on IPv6).
    pub mss: u16,
    /// Receive buffer in bytes, advertised as the window.
    pub window: u32,
    /// Window scale shift offered (RFC 7323), or none.
    pub window_scale: Option<u8>,
    pub sack: bool,
    pub timestamps: bool,
}

impl Default for TcpConfig {
    fn default() -> Self {
        // What Linux offers on Ethernet.
        TcpConfig {
            mss: 1460,
            window: 64240,
            window_scale: Some(7),
            sack: true,
            timestamps: true,
        }
    }
}

/// `a < b` in sequence-number arithmetic (modulo 2^32).
pub fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
pub fn seq_le(a: u32, b: u32) -> bool {
    a == b || seq_lt(a, b)
}

/// What arrived, for the engine's captions and the application logic.
#[derive(Debug, Default, Clone)]
pub struct Arrival {
    /// Segments to send at once.
    pub replies: Vec<Segment>,
    /// Bytes delivered in order to the application.
    pub delivered: Vec<u8>,
    /// The peer's FIN was reached in order.
    pub fin: bool,
    /// A RST closed the connection.
    pub reset: bool,
    /// The connection became ESTABLISHED with this segment.
    pub established: bool,
    /// This segment acknowledged new data (the engine restarts the timer).
    pub acked_new: bool,
}

#[derive(Debug, Clone)]
pub struct TcpEndpoint {
    pub state: TcpState,
    pub cfg: TcpConfig,
    /// Initial send sequence number.
    pub iss: u32,
    /// Initial receive sequence number (the peer's ISN).
    pub irs: u32,
    pub snd_una: u32,
    pub snd_nxt: u32,
    pub rcv_nxt: u32,
    /// Peer's window in bytes, scaled.
    pub snd_wnd: u32,
    peer_mss: u16,
    /// Shift to apply to the peer's window field (its scale), once agreed.
    snd_scale: u8,
    /// Shift applied to our window field (our scale), once agreed.
    rcv_scale: u8,
    sack_ok: bool,
    ts_ok: bool,
    ts_recent: u32,
    /// Offset of this host's timestamp clock (ms ticks); random per host.
    ts_offset: u32,
    /// Out-of-order data waiting for a gap to fill: seq → (bytes, FIN follows).
    ooo: BTreeMap<u32, (Vec<u8>, bool)>,
    /// Sent segments not yet acknowledged, oldest first.
    pub rtx: Vec<Segment>,
    pub dup_acks: u32,
    /// Full-size in-order segments received since the last ACK we sent.
    unacked_segments: u32,
    /// An acknowledgment is owed (the engine fires it after the delayed-ACK time).
    pub ack_pending: bool,
    fin_sent: bool,
    /// Both sides offered window scaling.
    scale_agreed: bool,
}

impl TcpEndpoint {
    pub fn new(cfg: TcpConfig, iss: u32, ts_offset: u32) -> TcpEndpoint {
        TcpEndpoint {
            state: TcpState::Closed,
            cfg,
            iss,
            irs: 0,
            snd_una: iss,
            snd_nxt: iss,
            rcv_nxt: 0,
            snd_wnd: 0,
            peer_mss: 536,
            snd_scale: 0,
            rcv_scale: 0,
            sack_ok: false,
            ts_ok: false,
            ts_recent: 0,
            ts_offset,
            ooo: BTreeMap::new(),
            rtx: Vec::new(),
            dup_acks: 0,
            unacked_segments: 0,
            ack_pending: false,
            fin_sent: false,
            scale_agreed: false,
        }
    }

    pub fn listen(&mut self) {
        self.state = TcpState::Listen;
    }

    /// Bytes of data a segment may carry: the peer's MSS less our TCP options.
    pub fn send_mss(&self) -> usize {
        self.peer_mss as usize - if self.ts_ok { 12 } else { 0 }
    }

    /// The window scale this side applies to its window field, once agreed.
    pub fn our_scale(&self) -> u8 {
        self.rcv_scale
    }

    /// True once both sides agreed to SACK.
    pub fn sack_agreed(&self) -> bool {
        self.sack_ok
    }

    /// True when sent data (or a SYN or FIN) waits for an acknowledgment.
    pub fn outstanding(&self) -> bool {
        !self.rtx.is_empty()
    }

    fn tsval(&self, now_us: u64) -> u32 {
        self.ts_offset.wrapping_add((now_us / 1000) as u32)
    }

    fn window_field(&self, syn: bool) -> u16 {
        if syn {
            // The window in a SYN is never scaled (RFC 7323 section 2.2).
            self.cfg.window.min(65535) as u16
        } else {
            (self.cfg.window >> self.rcv_scale).min(65535) as u16
        }
    }

    fn syn_options(&self, now_us: u64, answering: bool) -> Vec<TcpOptionElement> {
        use TcpOptionElement::*;
        // Linux's order: MSS, SACK-permitted, timestamps, NOP, window scale; NOPs keep
        // each option where it would be without the ones the peer did not offer.
        let mut o = vec![MaximumSegmentSize(self.cfg.mss)];
        let sack = self.cfg.sack && (!answering || self.sack_ok);
        let ts = self.cfg.timestamps && (!answering || self.ts_ok);
        let ws = self.cfg.window_scale.is_some() && (!answering || self.rcv_scale_agreed());
        match (sack, ts) {
            (true, true) => {
                o.push(SelectiveAcknowledgementPermitted);
                o.push(Timestamp(
                    self.tsval(now_us),
                    if answering { self.ts_recent } else { 0 },
                ));
            }
            (false, true) => {
                o.push(Noop);
                o.push(Noop);
                o.push(Timestamp(
                    self.tsval(now_us),
                    if answering { self.ts_recent } else { 0 },
                ));
            }
            (true, false) => {
                o.push(Noop);
                o.push(Noop);
                o.push(SelectiveAcknowledgementPermitted);
            }
            (false, false) => {}
        }
        if ws {
            o.push(Noop);
            o.push(WindowScale(self.cfg.window_scale.unwrap_or(0)));
        }
        o
    }

    fn rcv_scale_agreed(&self) -> bool {
        self.scale_agreed
    }

    fn options(&self, now_us: u64, with_sack: bool) -> Vec<TcpOptionElement> {
        use TcpOptionElement::*;
        let mut o = Vec::new();
        if self.ts_ok {
            o.extend([Noop, Noop, Timestamp(self.tsval(now_us), self.ts_recent)]);
        }
        if with_sack && self.sack_ok && !self.ooo.is_empty() {
            let blocks = self.sack_blocks(if self.ts_ok { 3 } else { 4 });
            if let Some((&first, rest)) = blocks.split_first() {
                let mut more = [None; 3];
                for (slot, b) in more.iter_mut().zip(rest) {
                    *slot = Some(*b);
                }
                o.extend([Noop, Noop, SelectiveAcknowledgement(first, more)]);
            }
        }
        o
    }

    /// The out-of-order ranges held, as SACK blocks (left edge, right edge), highest
    /// (most recently received, in our scenarios) first.
    fn sack_blocks(&self, max: usize) -> Vec<(u32, u32)> {
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for (&seq, (data, _)) in &self.ooo {
            let end = seq.wrapping_add(data.len() as u32);
            match ranges.last_mut() {
                Some(last) if last.1 == seq => last.1 = end,
                _ => ranges.push((seq, end)),
            }
        }
        ranges.reverse();
        ranges.truncate(max.min(3));
        ranges
    }

    /// Our SYN-ACK: our initial number, acknowledging the peer's SYN.
    fn syn_ack(&self, now_us: u64) -> Segment {
        self.segment(
            self.iss,
            Flags {
                syn: true,
                ack: true,
                ..Flags::default()
            },
            Vec::new(),
            now_us,
            Why::SynAck,
        )
    }

    fn segment(&self, seq: u32, flags: Flags, payload: Vec<u8>, now_us: u64, why: Why) -> Segment {
        let options = if flags.syn {
            self.syn_options(now_us, flags.ack)
        } else {
            self.options(now_us, why == Why::DupAck || why == Why::Ack)
        };
        Segment {
            seq,
            ack: if flags.ack { self.rcv_nxt } else { 0 },
            flags,
            window: self.window_field(flags.syn),
            options,
            payload,
            why,
        }
    }

    fn sent(&mut self, seg: &Segment) {
        if seg.flags.ack {
            self.ack_pending = false;
            self.unacked_segments = 0;
        }
        if seg.seg_len() > 0 {
            self.snd_nxt = seg.seq.wrapping_add(seg.seg_len());
            self.rtx.push(seg.clone());
        }
    }

    /// Active open: the SYN.
    pub fn connect(&mut self, now_us: u64) -> Segment {
        let seg = self.segment(
            self.iss,
            Flags {
                syn: true,
                ..Flags::default()
            },
            Vec::new(),
            now_us,
            Why::Syn,
        );
        self.snd_una = self.iss;
        self.state = TcpState::SynSent;
        self.sent(&seg);
        seg
    }

    /// Application data, split at the peer's MSS; PSH on the last segment.
    pub fn send(&mut self, data: &[u8], now_us: u64) -> Vec<Segment> {
        let mss = self.send_mss().max(1);
        let chunks: Vec<&[u8]> = data.chunks(mss).collect();
        let n = chunks.len();
        let mut out = Vec::with_capacity(n);
        for (i, chunk) in chunks.into_iter().enumerate() {
            let flags = Flags {
                ack: true,
                psh: i + 1 == n,
                ..Flags::default()
            };
            let seg = self.segment(self.snd_nxt, flags, chunk.to_vec(), now_us, Why::Data);
            self.sent(&seg);
            out.push(seg);
        }
        out
    }

    /// The application closes its side: a FIN (ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT →
    /// LAST-ACK). None when there is nothing to close.
    pub fn close(&mut self, now_us: u64) -> Option<Segment> {
        let next = match self.state {
            TcpState::Established | TcpState::SynReceived => TcpState::FinWait1,
            TcpState::CloseWait => TcpState::LastAck,
            TcpState::Listen | TcpState::SynSent => {
                self.state = TcpState::Closed;
                return None;
            }
            _ => return None,
        };
        let flags = Flags {
            fin: true,
            ack: true,
            ..Flags::default()
        };
        let seg = self.segment(self.snd_nxt, flags, Vec::new(), now_us, Why::Fin);
        self.fin_sent = true;
        self.state = next;
        self.sent(&seg);
        Some(seg)
    }

    /// The application aborts: RST (with ACK, as Linux sends it) and CLOSED.
    pub fn abort(&mut self, now_us: u64) -> Option<Segment> {
        let synchronized = !matches!(
            self.state,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::TimeWait
        );
        let seg = synchronized.then(|| {
            let mut s = self.segment(
                self.snd_nxt,
                Flags {
                    rst: true,
                    ack: true,
                    ..Flags::default()
                },
                Vec::new(),
                now_us,
                Why::Abort,
            );
            s.options.clear();
            s.window = 0;
            s
        });
        self.state = TcpState::Closed;
        self.rtx.clear();
        self.ack_pending = false;
        seg
    }

    /// A pure ACK now (the delayed-ACK timer fired, or the engine wants one).
    pub fn ack_now(&mut self, now_us: u64, why: Why) -> Segment {
        let seg = self.segment(
            self.snd_nxt,
            Flags {
                ack: true,
                ..Flags::default()
            },
            Vec::new(),
            now_us,
            why,
        );
        self.sent(&seg);
        seg
    }

    /// The retransmission timer fired (or three duplicate ACKs came): the oldest
    /// unacknowledged segment again, with the current ACK and timestamp.
    pub fn retransmit(&mut self, now_us: u64, fast: bool) -> Option<Segment> {
        let old = self.rtx.first()?.clone();
        let mut seg = self.segment(
            old.seq,
            old.flags,
            old.payload,
            now_us,
            Why::Retransmission { fast },
        );
        if old.flags.syn {
            seg.ack = old.ack;
            seg.options = self.syn_options(now_us, old.flags.ack);
        }
        if seg.flags.ack {
            self.ack_pending = false;
            self.unacked_segments = 0;
        }
        Some(seg)
    }

    fn read_syn_options(&mut self, seg: &Segment) {
        let mut peer_ws = None;
        let mut peer_sack = false;
        let mut peer_ts = None;
        self.peer_mss = 536;
        for o in &seg.options {
            match o {
                TcpOptionElement::MaximumSegmentSize(m) => self.peer_mss = *m,
                TcpOptionElement::WindowScale(s) => peer_ws = Some(*s),
                TcpOptionElement::SelectiveAcknowledgementPermitted => peer_sack = true,
                TcpOptionElement::Timestamp(v, _) => peer_ts = Some(*v),
                _ => {}
            }
        }
        self.peer_mss = self.peer_mss.min(self.cfg.mss.max(536));
        if let (Some(theirs), Some(ours)) = (peer_ws, self.cfg.window_scale) {
            self.snd_scale = theirs.min(14);
            self.rcv_scale = ours.min(14);
            self.scale_agreed = true;
        }
        self.sack_ok = peer_sack && self.cfg.sack;
        if let (Some(v), true) = (peer_ts, self.cfg.timestamps) {
            self.ts_ok = true;
            self.ts_recent = v;
        }
        self.snd_wnd = seg.window as u32;
    }

    fn reply_rst(seg: &Segment) -> Segment {
        // RFC 9293 3.10.7.1: if the incoming segment has an ACK, <SEQ=SEG.ACK><RST>;
        // otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>.
        if seg.flags.ack {
            Segment {
                seq: seg.ack,
                ack: 0,
                flags: Flags {
                    rst: true,
                    ..Flags::default()
                },
                window: 0,
                options: vec![],
                payload: vec![],
                why: Why::RstReply,
            }
        } else {
            Segment {
                seq: 0,
                ack: seg.seq.wrapping_add(seg.seg_len()),
                flags: Flags {
                    rst: true,
                    ack: true,
                    ..Flags::default()
                },
                window: 0,
                options: vec![],
                payload: vec![],
                why: Why::RstReply,
            }
        }
    }

    /// A segment arrives (RFC 9293 section 3.10.7, "SEGMENT ARRIVES").
    pub fn on_segment(&mut self, seg: &Segment, now_us: u64) -> Arrival {
        let mut out = Arrival::default();
        match self.state {
            TcpState::Closed => {
                if !seg.flags.rst {
                    out.replies.push(Self::reply_rst(seg));
                }
                return out;
            }
            TcpState::Listen => {
                if seg.flags.rst {
                    return out;
                }
                if seg.flags.ack {
                    out.replies.push(Self::reply_rst(seg));
                    return out;
                }
                if seg.flags.syn {
                    self.irs = seg.seq;
                    self.rcv_nxt = seg.seq.wrapping_add(1);
                    self.read_syn_options(seg);
                    self.state = TcpState::SynReceived;
                    let syn_ack = self.syn_ack(now_us);
                    self.snd_una = self.iss;
                    self.sent(&syn_ack);
                    out.replies.push(syn_ack);
                }
                return out;
            }
            TcpState::SynSent => {
                let ack_ok =
                    seg.flags.ack && seq_lt(self.iss, seg.ack) && seq_le(seg.ack, self.snd_nxt);
                if seg.flags.ack && !ack_ok {
                    if !seg.flags.rst {
                        out.replies.push(Self::reply_rst(seg));
                    }
                    return out;
                }
                if seg.flags.rst {
                    if ack_ok {
                        self.state = TcpState::Closed;
                        self.rtx.clear();
                        out.reset = true;
                    }
                    return out;
                }
                if seg.flags.syn {
                    self.irs = seg.seq;
                    self.rcv_nxt = seg.seq.wrapping_add(1);
                    self.read_syn_options(seg);
                    if ack_ok {
                        self.acknowledge(seg.ack);
                        self.state = TcpState::Established;
                        out.established = true;
                        let ack = self.segment(
                            self.snd_nxt,
                            Flags {
                                ack: true,
                                ..Flags::default()
                            },
                            Vec::new(),
                            now_us,
                            Why::HandshakeAck,
                        );
                        self.sent(&ack);
                        out.replies.push(ack);
                    } else {
                        // Simultaneous open.
                        self.state = TcpState::SynReceived;
                        let syn_ack = self.syn_ack(now_us);
                        out.replies.push(syn_ack);
                    }
                }
                return out;
            }
            _ => {}
        }

        // The peer repeats its SYN: our SYN-ACK was lost, so send it again.
        if self.state == TcpState::SynReceived
            && seg.flags.syn
            && !seg.flags.ack
            && seg.seq == self.irs
        {
            if let Some(r) = self.retransmit(now_us, false) {
                out.replies.push(r);
            }
            return out;
        }

        // Synchronized states. First: is the segment acceptable (RFC 9293 3.10.7.4)?
        let len = seg.seg_len();
        let wnd = self.cfg.window;
        let in_window =
            |s: u32| seq_le(self.rcv_nxt, s) && seq_lt(s, self.rcv_nxt.wrapping_add(wnd));
        let acceptable = if len == 0 {
            seg.seq == self.rcv_nxt || in_window(seg.seq)
        } else {
            in_window(seg.seq) || in_window(seg.seq.wrapping_add(len - 1))
        };
        if !acceptable {
            if !seg.flags.rst {
                let ack = self.ack_now(now_us, Why::OldDuplicateAck);
                out.replies.push(ack);
            }
            return out;
        }
        if seg.flags.rst {
            self.state = TcpState::Closed;
            self.rtx.clear();
            self.ack_pending = false;
            out.reset = true;
            return out;
        }
        if seg.flags.syn {
            // A SYN in a synchronized state: a challenge ACK (RFC 5961).
            out.replies.push(self.ack_now(now_us, Why::OldDuplicateAck));
            return out;
        }
        if !seg.flags.ack {
            return out;
        }
        if let Some((v, _)) = seg.tsval() {
            if self.ts_ok && seq_le(seg.seq, self.rcv_nxt) {
                self.ts_recent = v;
            }
        }

        // ACK processing.
        if self.state == TcpState::SynReceived {
            if seq_lt(self.snd_una, seg.ack) && seq_le(seg.ack, self.snd_nxt) {
                self.state = TcpState::Established;
                out.established = true;
            } else {
                out.replies.push(Self::reply_rst(seg));
                return out;
            }
        }
        if seq_lt(self.snd_nxt, seg.ack) {
            // Acknowledges something not yet sent.
            out.replies.push(self.ack_now(now_us, Why::OldDuplicateAck));
            return out;
        }
        let new_window = (seg.window as u32) << self.snd_scale;
        if seq_lt(self.snd_una, seg.ack) {
            self.acknowledge(seg.ack);
            self.dup_acks = 0;
            out.acked_new = true;
        } else if seg.ack == self.snd_una
            && seg.payload.is_empty()
            && !seg.flags.fin
            && new_window == self.snd_wnd
            && self.outstanding()
        {
            self.dup_acks += 1;
            if self.dup_acks == 3 {
                if let Some(r) = self.retransmit(now_us, true) {
                    out.replies.push(r);
                }
            }
        }
        self.snd_wnd = new_window;
        let fin_acked = self.fin_sent && self.snd_una == self.snd_nxt;
        match self.state {
            TcpState::FinWait1 if fin_acked => self.state = TcpState::FinWait2,
            TcpState::Closing if fin_acked => self.state = TcpState::TimeWait,
            TcpState::LastAck if fin_acked => {
                self.state = TcpState::Closed;
                return out;
            }
            _ => {}
        }

        // Data and FIN.
        let receiving = matches!(
            self.state,
            TcpState::Established | TcpState::FinWait1 | TcpState::FinWait2
        );
        if !receiving {
            // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent its FIN.
            if len > 0 {
                out.replies.push(self.ack_now(now_us, Why::Ack));
            }
            return out;
        }
        if len == 0 {
            return out;
        }
        let (mut seq, mut data) = (seg.seq, seg.payload.clone());
        if seq_lt(seq, self.rcv_nxt) {
            // Trim what we already have.
            let skip = self.rcv_nxt.wrapping_sub(seq) as usize;
            data.drain(..skip.min(data.len()));
            seq = self.rcv_nxt;
        }
        if seq != self.rcv_nxt {
            // Out of order: keep it and tell the sender at once where the gap starts.
            self.ooo.insert(seq, (data, seg.flags.fin));
            out.replies.push(self.ack_now(now_us, Why::DupAck));
            return out;
        }
        let filled_gap = !self.ooo.is_empty();
        let full_size = data.len() >= self.cfg.mss as usize - if self.ts_ok { 12 } else { 0 };
        self.rcv_nxt = self.rcv_nxt.wrapping_add(data.len() as u32);
        out.delivered.extend_from_slice(&data);
        let mut fin = seg.flags.fin;
        // Drain out-of-order data that is now contiguous.
        while let Some((&s, _)) = self.ooo.iter().next() {
            if seq_lt(self.rcv_nxt, s) {
                break;
            }
            let (bytes, f) = self.ooo.remove(&s).unwrap_or_default();
            let skip = self.rcv_nxt.wrapping_sub(s) as usize;
            if skip < bytes.len() {
                out.delivered.extend_from_slice(&bytes[skip..]);
                self.rcv_nxt = self.rcv_nxt.wrapping_add((bytes.len() - skip) as u32);
            }
            fin |= f;
        }
        if fin {
            self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
            out.fin = true;
            self.state = match self.state {
                TcpState::Established => TcpState::CloseWait,
                TcpState::FinWait1 if self.snd_una == self.snd_nxt => TcpState::TimeWait,
                TcpState::FinWait1 => TcpState::Closing,
                TcpState::FinWait2 => TcpState::TimeWait,
                s => s,
            };
            out.replies.push(self.ack_now(now_us, Why::Ack));
            return out;
        }
        if full_size {
            self.unacked_segments += 1;
        }
        if filled_gap || self.unacked_segments >= 2 {
            out.replies.push(self.ack_now(now_us, Why::Ack));
        } else {
            self.ack_pending = true;
        }
        out
    }

    fn acknowledge(&mut self, ack: u32) {
        self.snd_una = ack;
        self.rtx
            .retain(|s| seq_lt(ack, s.seq.wrapping_add(s.seg_len())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (TcpEndpoint, TcpEndpoint) {
        let c = TcpEndpoint::new(TcpConfig::default(), 1_000_000, 500);
        let mut s = TcpEndpoint::new(TcpConfig::default(), 3_000_000_000, 900);
        s.listen();
        (c, s)
    }

    fn handshake(c: &mut TcpEndpoint, s: &mut TcpEndpoint) {
        let syn = c.connect(0);
        let a = s.on_segment(&syn, 100);
        assert_eq!(s.state, TcpState::SynReceived);
        let syn_ack = &a.replies[0];
        assert!(syn_ack.flags.syn && syn_ack.flags.ack);
        assert_eq!(syn_ack.ack, 1_000_001);
        let b = c.on_segment(syn_ack, 200);
        assert!(b.established);
        let ack = &b.replies[0];
        assert_eq!(ack.ack, 3_000_000_001);
        assert_eq!(ack.seq, 1_000_001);
        let d = s.on_segment(ack, 300);
        assert!(d.established);
        assert_eq!(s.state, TcpState::Established);
        assert_eq!(c.state, TcpState::Established);
    }

    #[test]
    fn three_way_handshake_agrees_options() {
        let (mut c, mut s) = pair();
        handshake(&mut c, &mut s);
        assert_eq!(c.send_mss(), 1448);
        assert!(c.sack_agreed() && s.sack_agreed());
        assert_eq!(c.our_scale(), 7);
    }

    #[test]
    fn data_is_split_at_mss_and_acked() {
        let (mut c, mut s) = pair();
        handshake(&mut c, &mut s);
        let segs = c.send(&[b'x'; 3000], 1000);
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[0].payload.len(), 1448);
        assert!(segs[2].flags.psh && !segs[0].flags.psh);
        let r1 = s.on_segment(&segs[0], 1100);
        assert!(r1.replies.is_empty() && s.ack_pending);
        let r2 = s.on_segment(&segs[1], 1110);
        assert_eq!(
            r2.replies[0].ack,
            1_000_001 + 2896,
            "every second full segment is acked"
        );
        let r3 = s.on_segment(&segs[2], 1120);
        assert!(r3.replies.is_empty());
        let ack = s.ack_now(40_000, Why::Ack);
        assert_eq!(ack.ack, c.snd_nxt);
        c.on_segment(&ack, 40_100);
        assert!(!c.outstanding());
    }

    #[test]
    fn gap_gives_dup_acks_and_retransmission_fills_it() {
        let (mut c, mut s) = pair();
        handshake(&mut c, &mut s);
        // One exchange first, so the client knows the server's scaled window (a
        // duplicate ACK must carry the same window as the ACK before it).
        let x = c.send(b"x", 500);
        s.on_segment(&x[0], 600);
        let a = s.ack_now(700, Why::Ack);
        c.on_segment(&a, 800);
        let lost = c.send(b"first", 1000);
        let mut dups = Vec::new();
        for i in 0..3 {
            let seg = c.send(b"more", 1100 + i);
            let r = s.on_segment(&seg[0], 1200 + i);
            assert_eq!(r.replies[0].why, Why::DupAck);
            assert_eq!(r.replies[0].ack, lost[0].seq);
            dups.push(r.replies[0].clone());
        }
        assert!(matches!(
            dups[0].options.last(),
            Some(TcpOptionElement::SelectiveAcknowledgement(..))
        ));
        c.on_segment(&dups[0], 1300);
        c.on_segment(&dups[1], 1301);
        let r = c.on_segment(&dups[2], 1302);
        let rtx = &r.replies[0];
        assert_eq!(rtx.why, Why::Retransmission { fast: true });
        assert_eq!(rtx.payload, b"first");
        let back = s.on_segment(rtx, 1400);
        assert_eq!(back.delivered, b"firstmoremoremore");
        assert_eq!(s.state, TcpState::Established);
        assert_eq!(back.replies[0].ack, c.snd_nxt);
    }

    #[test]
    fn teardown_with_half_close() {
        let (mut c, mut s) = pair();
        handshake(&mut c, &mut s);
        let fin = c.close(0).unwrap();
        assert_eq!(c.state, TcpState::FinWait1);
        let r = s.on_segment(&fin, 1);
        assert!(r.fin);
        assert_eq!(s.state, TcpState::CloseWait);
        c.on_segment(&r.replies[0], 2);
        assert_eq!(c.state, TcpState::FinWait2);
        let data = s.send(b"still talking", 3);
        let r = c.on_segment(&data[0], 4);
        assert_eq!(r.delivered, b"still talking");
        let fin = s.close(5).unwrap();
        assert_eq!(s.state, TcpState::LastAck);
        let r = c.on_segment(&fin, 6);
        assert_eq!(c.state, TcpState::TimeWait);
        s.on_segment(&r.replies[0], 7);
        assert_eq!(s.state, TcpState::Closed);
    }

    #[test]
    fn simultaneous_close_goes_through_closing() {
        let (mut c, mut s) = pair();
        handshake(&mut c, &mut s);
        let f1 = c.close(0).unwrap();
        let f2 = s.close(0).unwrap();
        let a1 = c.on_segment(&f2, 1).replies.remove(0);
        let a2 = s.on_segment(&f1, 1).replies.remove(0);
        assert_eq!((c.state, s.state), (TcpState::Closing, TcpState::Closing));
        c.on_segment(&a2, 2);
        s.on_segment(&a1, 2);
        assert_eq!((c.state, s.state), (TcpState::TimeWait, TcpState::TimeWait));
    }

    #[test]
    fn syn_to_closed_port_is_reset() {
        let mut c = TcpEndpoint::new(TcpConfig::default(), 77, 0);
        let mut closed = TcpEndpoint::new(TcpConfig::default(), 0, 0);
        let syn = c.connect(0);
        let r = closed.on_segment(&syn, 1);
        let rst = &r.replies[0];
        assert!(rst.flags.rst && rst.flags.ack);
        assert_eq!(rst.ack, 78);
        let back = c.on_segment(rst, 2);
        assert!(back.reset);
        assert_eq!(c.state, TcpState::Closed);
    }
}
