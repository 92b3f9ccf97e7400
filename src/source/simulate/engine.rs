//! The simulation: two hosts on a LAN, a clock, and a queue of events (a segment
//! arriving, a retransmission timer, a delayed-ACK timer). Steps of a scenario make
//! the applications act; the TCP endpoints react as the protocol says; every frame put
//! on the wire is recorded with a caption.
//!
//! The capture point sees every frame as it leaves its sender, so a lost segment
//! appears in the capture (and never reaches its receiver).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine as _;

use super::app;
use super::rng::Rng;
use super::scenario::{HostSpec, ScenarioFile, Step};
use super::tcp::{Segment, TcpConfig, TcpEndpoint, TcpState, Why};
use super::wire::{self, Host, IpParams};
use super::{SimError, SimOptions};
use crate::proto::websocket::sec_websocket_accept;

const CLIENT: usize = 0;
const SERVER: usize = 1;
/// Linux's minimum retransmission timeout, and the initial one for a SYN (RFC 6298).
const RTO_US: u64 = 200_000;
const SYN_RTO_US: u64 = 1_000_000;
/// Linux's largest retransmission timeout.
const RTO_MAX_US: u64 = 120_000_000;
/// The longest `wait` or `after_ms` a scenario may ask for: a day.
const MAX_WAIT_MS: f64 = 86_400_000.0;
/// Linux's delayed-ACK timeout.
const DELACK_US: u64 = 40_000;
/// Every capture starts here: 2023-11-14 22:13:20 UTC.
const EPOCH_SECS: i64 = 1_700_000_000;
const MAX_EVENTS: usize = 100_000;

#[derive(Debug)]
pub struct Recorded {
    pub time_us: u64,
    pub order: u64,
    pub bytes: Vec<u8>,
    pub caption: String,
}

#[derive(Debug)]
enum Event {
    Deliver {
        conn: usize,
        to: usize,
        seg: Segment,
    },
    Rto {
        conn: usize,
        side: usize,
        gen: u64,
    },
    DelAck {
        conn: usize,
        side: usize,
        gen: u64,
    },
}

struct Conn {
    id: String,
    udp: bool,
    ports: [u16; 2],
    tcp: [TcpEndpoint; 2],
    ident: [u16; 2],
    flow: [u32; 2],
    rto_gen: [u64; 2],
    rto_armed: [bool; 2],
    rto_us: [u64; 2],
    /// Retransmissions since the last new acknowledgment.
    retries: [u32; 2],
    delack_gen: [u64; 2],
    ws_key: Option<String>,
    upgraded: bool,
    dns: Option<(u16, String, u16)>,
}

struct Side {
    name: String,
    host: Host,
    tcp: TcpConfig,
    ttl: u8,
    ts_offset: u32,
}

pub struct Engine<'a> {
    opts: &'a SimOptions,
    rng: Rng,
    sides: [Side; 2],
    listen: Vec<u16>,
    now: u64,
    queue: BTreeMap<(u64, u64), Event>,
    counter: u64,
    conns: Vec<Conn>,
    current: Option<usize>,
    lose: [u32; 2],
    busy: [u64; 2],
    last_arrival: [u64; 2],
    pub packets: Vec<Recorded>,
    /// Engine.IO session id and Socket.IO socket id (one session per scenario).
    eio_sid: String,
    sio_sid: String,
    /// Words to add to the caption of the next packet this side (0, 1; 2 = either)
    /// records: a step's `note`.
    pending_note: Option<(usize, String)>,
    step_no: usize,
    step_name: String,
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (m, p) in mac.iter_mut().zip(parts) {
        *m = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if !clean.len().is_multiple_of(2) {
        return None;
    }
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).ok())
        .collect()
}

fn preview(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect();
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}

impl<'a> Engine<'a> {
    pub fn new(file: &ScenarioFile, opts: &'a SimOptions) -> Result<Engine<'a>, SimError> {
        let mut rng = Rng::new(opts.seed);
        let side = |spec: &HostSpec, which: &str, n: u8, rng: &mut Rng| -> Result<Side, SimError> {
            let bad = |what: &str, v: &str| {
                SimError::Invalid(format!("[{which}] {what} = \"{v}\" is not valid"))
            };
            let mac = match &spec.mac {
                Some(m) => parse_mac(m).ok_or_else(|| bad("mac", m))?,
                None => [0x02, 0, 0, 0, 0, n],
            };
            let ipv4 = match &spec.ipv4 {
                Some(a) => a.parse::<Ipv4Addr>().map_err(|_| bad("ipv4", a))?.octets(),
                None => [192, 168, 1, n],
            };
            let ipv6 = match &spec.ipv6 {
                Some(a) => a.parse::<Ipv6Addr>().map_err(|_| bad("ipv6", a))?.octets(),
                None => Ipv6Addr::new(0xfd00, 0, 0, 1, 0, 0, 0, n as u16).octets(),
            };
            let ws = spec.window_scale.unwrap_or(7);
            if ws > 14 {
                return Err(SimError::Invalid(format!(
                    "[{which}] window_scale = {ws}: the largest shift is 14"
                )));
            }
            let mss = spec.mss.unwrap_or(if opts.ipv6 { 1440 } else { 1460 });
            if !(64..=9000).contains(&mss) {
                return Err(SimError::Invalid(format!(
                    "[{which}] mss = {mss}: choose a value from 64 to 9000"
                )));
            }
            Ok(Side {
                name: spec.name.clone().unwrap_or_else(|| which.to_string()),
                host: Host { mac, ipv4, ipv6 },
                tcp: TcpConfig {
                    mss,
                    window: spec.window.unwrap_or(64240).max(1),
                    window_scale: (ws > 0).then_some(ws),
                    sack: spec.sack.unwrap_or(true),
                    timestamps: spec.timestamps.unwrap_or(true),
                },
                ttl: spec.ttl.unwrap_or(64),
                ts_offset: rng.next_u32(),
            })
        };
        let client = side(&file.client, "client", 2, &mut rng)?;
        let server = side(&file.server, "server", 1, &mut rng)?;
        let mut ids = rng.fork();
        const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let eio_sid = ids.string(B64URL, 20);
        let sio_sid = ids.string(B64URL, 20);
        Ok(Engine {
            opts,
            rng,
            sides: [client, server],
            listen: file.server.listen.clone(),
            now: 0,
            queue: BTreeMap::new(),
            counter: 0,
            conns: Vec::new(),
            current: None,
            lose: [0, 0],
            busy: [0, 0],
            last_arrival: [0, 0],
            packets: Vec::new(),
            eio_sid,
            sio_sid,
            pending_note: None,
            step_no: 0,
            step_name: String::new(),
        })
    }

    /// The capture's start time, which the seed shifts by less than a second.
    pub fn epoch(&self) -> (i64, u64) {
        (
            EPOCH_SECS,
            self.opts.seed.wrapping_mul(0x9E37_79B9) % 1_000_000,
        )
    }

    fn err(&self, msg: impl std::fmt::Display) -> SimError {
        SimError::Invalid(format!("step {} ({}): {msg}", self.step_no, self.step_name))
    }

    fn schedule(&mut self, at: u64, ev: Event) {
        self.counter += 1;
        self.queue.insert((at, self.counter), ev);
    }

    fn latency(&mut self) -> u64 {
        let l = self.opts.latency_us.max(1);
        let j = l / 3;
        self.rng.range(l - j, l + j)
    }

    /// When a frame sent by `side` at `t` arrives: after the latency, with its jitter,
    /// but never before a frame sent earlier the same way (a LAN does not reorder).
    fn arrival(&mut self, side: usize, t: u64) -> u64 {
        let at = (t + self.latency()).max(self.last_arrival[side] + 1);
        self.last_arrival[side] = at;
        at
    }

    // ---- running the clock ----

    fn pop(&mut self) -> Option<()> {
        let (&key, _) = self.queue.iter().next()?;
        let ev = self.queue.remove(&key)?;
        self.now = self.now.max(key.0);
        self.handle(ev);
        Some(())
    }

    /// Runs every event due by `t`, then sets the clock to `t`.
    fn advance_to(&mut self, t: u64) {
        let mut n = 0;
        while let Some((&(at, _), _)) = self.queue.iter().next() {
            if at > t || n > MAX_EVENTS {
                break;
            }
            self.pop();
            n += 1;
        }
        self.now = self.now.max(t);
    }

    /// Runs events until no segment is in flight (only timers remain).
    fn settle(&mut self) {
        let mut n = 0;
        while self
            .queue
            .values()
            .any(|e| matches!(e, Event::Deliver { .. }))
            && n < MAX_EVENTS
        {
            self.pop();
            n += 1;
        }
    }

    /// Runs events (timers included) until `done` holds or nothing is left to happen.
    fn settle_until(&mut self, done: impl Fn(&Engine) -> bool) {
        self.settle();
        let mut n = 0;
        while !done(self) && n < MAX_EVENTS {
            if self.pop().is_none() {
                break;
            }
            n += 1;
        }
        self.settle();
    }

    fn handle(&mut self, ev: Event) {
        let now = self.now;
        match ev {
            Event::Deliver { conn, to, seg } => {
                let arrival = self.conns[conn].tcp[to].on_segment(&seg, now);
                let c = &mut self.conns[conn];
                if arrival.acked_new || arrival.reset {
                    c.rto_gen[to] += 1;
                    c.rto_armed[to] = false;
                    c.rto_us[to] = RTO_US;
                    c.retries[to] = 0;
                    if c.tcp[to].outstanding() && c.tcp[to].state != TcpState::Closed {
                        self.arm_rto(conn, to, now);
                    }
                }
                let c = &mut self.conns[conn];
                if c.tcp[to].ack_pending {
                    c.delack_gen[to] += 1;
                    let gen = c.delack_gen[to];
                    self.schedule(
                        now + DELACK_US,
                        Event::DelAck {
                            conn,
                            side: to,
                            gen,
                        },
                    );
                }
                let mut t = now;
                for reply in arrival.replies {
                    t += self.rng.range(8, 30);
                    self.transmit(conn, to, reply, t, None);
                }
            }
            Event::Rto { conn, side, gen } => {
                let c = &mut self.conns[conn];
                if gen != c.rto_gen[side]
                    || !c.tcp[side].outstanding()
                    || c.tcp[side].state == TcpState::Closed
                {
                    return;
                }
                c.rto_armed[side] = false;
                let waited = c.rto_us[side];
                // Linux gives up after tcp_syn_retries (6) for a SYN, tcp_retries2 (15)
                // otherwise: the connection is dropped without a word on the wire.
                let syn = c.tcp[side]
                    .rtx
                    .first()
                    .map(|s| s.flags.syn)
                    .unwrap_or(false);
                c.retries[side] += 1;
                if c.retries[side] > if syn { 6 } else { 15 } {
                    c.tcp[side].abort(now);
                    return;
                }
                if let Some(seg) = c.tcp[side].retransmit(now, false) {
                    c.rto_us[side] = (c.rto_us[side] * 2).min(RTO_MAX_US);
                    let note = format!(
                        "after waiting {} ms for an ACK that never came (retransmission timeout)",
                        waited / 1000
                    );
                    self.transmit(conn, side, seg, now, Some(note));
                }
            }
            Event::DelAck { conn, side, gen } => {
                let c = &mut self.conns[conn];
                if gen != c.delack_gen[side] || !c.tcp[side].ack_pending {
                    return;
                }
                let seg = c.tcp[side].ack_now(now, Why::Ack);
                self.transmit(
                    conn,
                    side,
                    seg,
                    now,
                    Some("delayed ACK: nothing to send back within 40 ms, so a bare ACK".into()),
                );
            }
        }
    }

    fn arm_rto(&mut self, conn: usize, side: usize, now: u64) {
        let c = &mut self.conns[conn];
        if c.rto_armed[side] {
            return;
        }
        c.rto_armed[side] = true;
        let syn = c.tcp[side]
            .rtx
            .first()
            .map(|s| s.flags.syn)
            .unwrap_or(false);
        if syn && c.rto_us[side] == RTO_US {
            c.rto_us[side] = SYN_RTO_US;
        }
        let gen = c.rto_gen[side];
        let at = now + c.rto_us[side];
        self.schedule(at, Event::Rto { conn, side, gen });
    }

    // ---- putting frames on the wire ----

    fn ip_params(&mut self, conn: usize, side: usize) -> IpParams {
        let c = &mut self.conns[conn];
        let ident = c.ident[side];
        c.ident[side] = ident.wrapping_add(1);
        IpParams {
            ipv6: self.opts.ipv6,
            ident,
            flow_label: c.flow[side],
            ttl: self.sides[side].ttl,
        }
    }

    fn record(&mut self, side: usize, at: u64, bytes: Vec<u8>, caption: String) -> u64 {
        let t = at.max(self.busy[side]);
        // 1 Gbit/s: 8 ns a byte on the wire (plus preamble and gap, ignored).
        self.busy[side] = t + (bytes.len() as u64 * 8).div_ceil(1000);
        let order = self.packets.len() as u64;
        let caption = match self.pending_note.take() {
            Some((who, n)) if who == side || who == 2 => format!("{caption} — {n}"),
            other => {
                self.pending_note = other;
                caption
            }
        };
        self.packets.push(Recorded {
            time_us: t,
            order,
            bytes,
            caption,
        });
        t
    }

    fn transmit(&mut self, conn: usize, side: usize, seg: Segment, at: u64, extra: Option<String>) {
        let mut caption = self.tcp_caption(conn, side, &seg);
        if let Some(e) = extra {
            caption = format!("{caption}, {e}");
        }
        let t = self.emit_segment(conn, side, &seg, at, caption);
        if seg.seg_len() > 0 && !seg.flags.rst {
            self.arm_rto(conn, side, t);
        }
    }

    /// Builds the segment's frame, records it, and delivers it to the peer unless the
    /// scenario loses it. Returns the time it left.
    fn emit_segment(
        &mut self,
        conn: usize,
        side: usize,
        seg: &Segment,
        at: u64,
        mut caption: String,
    ) -> u64 {
        let ip = self.ip_params(conn, side);
        let c = &self.conns[conn];
        let bytes = wire::tcp_frame(
            &self.sides[side].host,
            &self.sides[1 - side].host,
            &ip,
            c.ports[side],
            c.ports[1 - side],
            seg,
        );
        let lost = self.lose[side] > 0;
        if lost {
            self.lose[side] -= 1;
            caption = format!(
                "{caption} — LOST: it never reaches the {}",
                self.sides[1 - side].name
            );
        }
        let t = self.record(side, at, bytes, caption);
        if !lost {
            let arrive = self.arrival(side, t);
            self.schedule(
                arrive,
                Event::Deliver {
                    conn,
                    to: 1 - side,
                    seg: seg.clone(),
                },
            );
        }
        t
    }

    fn tcp_caption(&self, conn: usize, side: usize, seg: &Segment) -> String {
        let c = &self.conns[conn];
        let me = &self.sides[side].name;
        let peer = &self.sides[1 - side].name;
        let ep = &c.tcp[side];
        let dir = format!("{me} → {peer}");
        let rel_seq = seg.seq.wrapping_sub(ep.iss);
        let rel_ack = seg.ack.wrapping_sub(ep.irs);
        let state = ep.state.name();
        match seg.why {
            Why::Syn => {
                let mut offers = vec![format!("MSS {}", ep.cfg.mss)];
                if let Some(ws) = ep.cfg.window_scale {
                    offers.push(format!("window scale {ws}"));
                }
                if ep.cfg.sack {
                    offers.push("SACK".into());
                }
                if ep.cfg.timestamps {
                    offers.push("timestamps".into());
                }
                format!(
                    "{dir}: SYN — asks to open a connection to port {}, picks its initial sequence number {} and offers {} ({me} is {state})",
                    c.ports[1 - side],
                    seg.seq,
                    offers.join(", ")
                )
            }
            Why::SynAck => format!(
                "{dir}: SYN-ACK — acknowledges {peer}'s sequence number + 1 ({}) and picks its own, {} ({me} is {state})",
                seg.ack, seg.seq
            ),
            Why::HandshakeAck => format!(
                "{dir}: ACK — acknowledges {peer}'s sequence number + 1 ({}); the handshake is complete, {me} is {state}",
                seg.ack
            ),
            Why::Data => format!("{dir}: data seq {rel_seq}, {} bytes", seg.payload.len()),
            Why::Ack => {
                let acks_fin = matches!(ep.state, TcpState::CloseWait | TcpState::Closing | TcpState::TimeWait | TcpState::LastAck)
                    && seg.ack == ep.rcv_nxt
                    && c.tcp[1 - side].state != TcpState::Established;
                if acks_fin {
                    format!("{dir}: ACK {rel_ack} — acknowledges {peer}'s FIN ({me} is now {state})")
                } else {
                    format!("{dir}: ACK {rel_ack} — {peer}'s bytes up to {} arrived", rel_ack.wrapping_sub(1))
                }
            }
            Why::DupAck => format!(
                "{dir}: duplicate ACK {rel_ack} — data arrived after a gap; {me} still waits for byte {rel_ack}{}",
                if ep.sack_agreed() { " (its SACK block says what it holds beyond the gap)" } else { "" }
            ),
            Why::Fin => {
                let half = if ep.state == TcpState::FinWait1 && c.tcp[1 - side].state == TcpState::Established {
                    "; it can still receive (a half-close)"
                } else {
                    ""
                };
                format!("{dir}: FIN — {me} has nothing more to send{half} ({me} is now {state})")
            }
            Why::Abort => format!("{dir}: RST — {me} aborts the connection: no goodbye, both sides forget it at once"),
            Why::RstReply => {
                if ep.state == TcpState::Closed && seg.flags.ack {
                    format!("{dir}: RST — nothing listens on port {}: the connection is refused", c.ports[side])
                } else {
                    format!("{dir}: RST — that segment belongs to no connection")
                }
            }
            Why::Retransmission { fast } => {
                let what = if seg.flags.syn && seg.flags.ack {
                    "the SYN-ACK".to_string()
                } else if seg.flags.syn {
                    "the SYN".to_string()
                } else if seg.flags.fin && seg.payload.is_empty() {
                    "the FIN".to_string()
                } else {
                    format!("seq {rel_seq} ({} bytes)", seg.payload.len())
                };
                if fast {
                    format!("{dir}: retransmission of {what} — three duplicate ACKs said it was lost (fast retransmit)")
                } else {
                    format!("{dir}: retransmission of {what}")
                }
            }
            Why::OldDuplicateAck => format!("{dir}: ACK {rel_ack} — that segment was a duplicate; {me} repeats what it expects next"),
        }
    }

    // ---- the steps ----

    pub fn run(&mut self, steps: &[Step]) -> Result<(), SimError> {
        for (i, step) in steps.iter().enumerate() {
            self.step_no = i + 1;
            self.step_name = step.action.clone();
            let think = match step.after_ms {
                Some(ms) if (0.0..=MAX_WAIT_MS).contains(&ms) => (ms * 1000.0) as u64,
                Some(_) => return Err(self.err("after_ms must be from 0 to 86400000 (a day)")),
                None => self.rng.range(500, 1500),
            };
            self.advance_to(self.now + think);
            let note_side = match step.who.as_deref() {
                Some("server") => SERVER,
                Some("client") => CLIENT,
                Some(w) if w == self.sides[SERVER].name => SERVER,
                Some(w) if w == self.sides[CLIENT].name => CLIENT,
                _ => 2,
            };
            self.pending_note = step.note.clone().map(|n| (note_side, n));
            match step.action.as_str() {
                "connect" => self.connect(step)?,
                "send" => self.send(step)?,
                "close" => self.close(step)?,
                "abort" => self.abort(step)?,
                "lose" => {
                    let side = self.who(step)?;
                    self.lose[side] += step.count.unwrap_or(1);
                }
                "wait" => {
                    let ms = step
                        .ms
                        .ok_or_else(|| self.err("`wait` needs `ms`, e.g. ms = 300"))?;
                    if !(0.0..=MAX_WAIT_MS).contains(&ms) {
                        return Err(self.err("ms must be from 0 to 86400000 (a day)"));
                    }
                    self.advance_to(self.now + (ms * 1000.0) as u64);
                }
                other => {
                    return Err(self.err(format!(
                        "unknown `do = \"{other}\"`; use connect, send, lose, close, abort or wait"
                    )))
                }
            }
        }
        // Let every timer run out: delayed ACKs, retransmissions.
        let mut n = 0;
        while self.pop().is_some() && n < MAX_EVENTS {
            n += 1;
        }
        Ok(())
    }

    fn who(&self, step: &Step) -> Result<usize, SimError> {
        match step.who.as_deref() {
            Some("client") => Ok(CLIENT),
            Some("server") => Ok(SERVER),
            Some(w) if w == self.sides[CLIENT].name => Ok(CLIENT),
            Some(w) if w == self.sides[SERVER].name => Ok(SERVER),
            Some(other) => {
                Err(self.err(format!("who = \"{other}\": use \"client\" or \"server\"")))
            }
            None => Err(self.err("say who acts: who = \"client\" or who = \"server\"")),
        }
    }

    fn conn(&self, step: &Step) -> Result<usize, SimError> {
        match &step.conn {
            Some(id) => self.conns.iter().position(|c| &c.id == id).ok_or_else(|| {
                self.err(format!(
                    "no connection has id \"{id}\" (give it with `id` on its connect step)"
                ))
            }),
            None => self
                .current
                .ok_or_else(|| self.err("no connection yet: add a `connect` step first")),
        }
    }

    fn connect(&mut self, step: &Step) -> Result<(), SimError> {
        let port = step
            .port
            .ok_or_else(|| self.err("`connect` needs the server's `port`"))?;
        let udp = match step.transport.as_deref() {
            None | Some("tcp") => false,
            Some("udp") => true,
            Some(t) => return Err(self.err(format!("transport = \"{t}\": use \"tcp\" or \"udp\""))),
        };
        let used: Vec<u16> = self.conns.iter().map(|c| c.ports[CLIENT]).collect();
        let cport = match step.client_port {
            Some(p) => p,
            None => loop {
                // Linux's ephemeral range.
                let p = self.rng.range(32768, 60999) as u16;
                if !used.contains(&p) {
                    break p;
                }
            },
        };
        let iss = [self.rng.next_u32(), self.rng.next_u32()];
        let mut tcp = [
            TcpEndpoint::new(self.sides[CLIENT].tcp, iss[0], self.sides[CLIENT].ts_offset),
            TcpEndpoint::new(self.sides[SERVER].tcp, iss[1], self.sides[SERVER].ts_offset),
        ];
        if self.listen.contains(&port) {
            tcp[SERVER].listen();
        }
        let id = step
            .id
            .clone()
            .unwrap_or_else(|| format!("#{}", self.conns.len() + 1));
        if self.conns.iter().any(|c| c.id == id) {
            return Err(self.err(format!("two connections have id \"{id}\"")));
        }
        self.conns.push(Conn {
            id,
            udp,
            ports: [cport, port],
            tcp,
            ident: [self.rng.next_u32() as u16, self.rng.next_u32() as u16],
            flow: [
                self.rng.next_u32() & 0xF_FFFF,
                self.rng.next_u32() & 0xF_FFFF,
            ],
            rto_gen: [0, 0],
            rto_armed: [false, false],
            rto_us: [RTO_US, RTO_US],
            retries: [0, 0],
            delack_gen: [0, 0],
            ws_key: None,
            upgraded: false,
            dns: None,
        });
        let conn = self.conns.len() - 1;
        self.current = Some(conn);
        if udp {
            return Ok(());
        }
        let now = self.now;
        let syn = self.conns[conn].tcp[CLIENT].connect(now);
        self.transmit(conn, CLIENT, syn, now, None);
        self.settle_until(move |e| {
            let c = &e.conns[conn];
            !matches!(
                c.tcp[CLIENT].state,
                TcpState::SynSent | TcpState::SynReceived
            ) && c.tcp[SERVER].state != TcpState::SynReceived
        });
        Ok(())
    }

    /// Before a side acts it has read everything the peer sent (an application answers
    /// what it received): run the clock, retransmissions included, until then.
    fn wait_for_input(&mut self, conn: usize, side: usize) {
        self.settle_until(move |e| {
            let c = &e.conns[conn];
            c.udp
                || c.tcp[side].state == TcpState::Closed
                || c.tcp[1 - side].state == TcpState::Closed
                || c.tcp[side].rcv_nxt == c.tcp[1 - side].snd_nxt
        });
    }

    fn close(&mut self, step: &Step) -> Result<(), SimError> {
        let conn = self.conn(step)?;
        if self.conns[conn].udp {
            return Err(self.err("UDP has no connection to close"));
        }
        let sides: Vec<usize> = if step.who.as_deref() == Some("both") {
            vec![CLIENT, SERVER]
        } else {
            vec![self.who(step)?]
        };
        if sides.len() == 1 {
            self.wait_for_input(conn, sides[0]);
        } else {
            self.settle();
        }
        let now = self.now;
        for side in sides {
            let state = self.conns[conn].tcp[side].state;
            match self.conns[conn].tcp[side].close(now) {
                Some(fin) => self.transmit(conn, side, fin, now, None),
                None => {
                    return Err(self.err(format!(
                        "the {} cannot close: its side of the connection is {}",
                        self.sides[side].name,
                        state.name()
                    )))
                }
            }
        }
        self.settle();
        Ok(())
    }

    fn abort(&mut self, step: &Step) -> Result<(), SimError> {
        let conn = self.conn(step)?;
        let side = self.who(step)?;
        let now = self.now;
        if let Some(rst) = self.conns[conn].tcp[side].abort(now) {
            self.transmit(conn, side, rst, now, None);
        }
        self.settle();
        Ok(())
    }

    fn send(&mut self, step: &Step) -> Result<(), SimError> {
        let conn = self.conn(step)?;
        let side = self.who(step)?;
        let msgs = self.messages(step, conn, side)?;
        let mut first = true;
        for (who, bytes, caption) in msgs {
            if !first {
                // The peer's answer: a fraction of a millisecond to process.
                let t = self.now + self.rng.range(100, 400);
                self.advance_to(t);
            }
            first = false;
            if self.conns[conn].udp {
                let ip = self.ip_params(conn, who);
                let c = &self.conns[conn];
                let bytes = wire::udp_frame(
                    &self.sides[who].host,
                    &self.sides[1 - who].host,
                    &ip,
                    c.ports[who],
                    c.ports[1 - who],
                    &bytes,
                );
                let mut caption = caption;
                if self.lose[who] > 0 {
                    self.lose[who] -= 1;
                    caption = format!(
                        "{caption} — LOST: UDP never notices; only the application can try again"
                    );
                }
                let now = self.now;
                self.record(who, now, bytes, caption);
                continue;
            }
            self.wait_for_input(conn, who);
            let state = self.conns[conn].tcp[who].state;
            if !state.can_send() {
                return Err(self.err(format!(
                    "the {} cannot send: its side of the connection is {} (connect first, or send before closing)",
                    self.sides[who].name,
                    state.name()
                )));
            }
            let window = self.sides[1 - who].tcp.window as usize;
            if bytes.len() > window {
                return Err(self.err(format!(
                    "{} bytes in one message is more than the receiver's window ({window} bytes): \
                     split it over several steps, or raise `window` for the {}",
                    bytes.len(),
                    self.sides[1 - who].name
                )));
            }
            let now = self.now;
            let segs = self.conns[conn].tcp[who].send(&bytes, now);
            let n = segs.len();
            for (k, seg) in segs.into_iter().enumerate() {
                let part = if n > 1 {
                    format!(" (segment {} of {n}, split at the MSS)", k + 1)
                } else {
                    String::new()
                };
                let ep = &self.conns[conn].tcp[who];
                let extra = format!(
                    "[seq {}, {} bytes]",
                    seg.seq.wrapping_sub(ep.iss),
                    seg.payload.len()
                );
                let cap = format!("{caption}{part} {extra}");
                self.transmit_captioned(conn, who, seg, now, cap);
            }
            self.settle();
        }
        Ok(())
    }

    fn transmit_captioned(
        &mut self,
        conn: usize,
        side: usize,
        seg: Segment,
        at: u64,
        caption: String,
    ) {
        // Like transmit, with the application's caption in place of the TCP one.
        let t = self.emit_segment(conn, side, &seg, at, caption);
        self.arm_rto(conn, side, t);
    }

    fn host_header(&self, conn: usize) -> String {
        let port = self.conns[conn].ports[SERVER];
        let h = &self.sides[SERVER].host;
        let addr = if self.opts.ipv6 {
            format!("[{}]", Ipv6Addr::from(h.ipv6))
        } else {
            Ipv4Addr::from(h.ipv4).to_string()
        };
        if port == 80 {
            addr
        } else {
            format!("{addr}:{port}")
        }
    }

    fn extra_headers(step: &Step) -> Vec<(String, String)> {
        step.headers
            .iter()
            .flatten()
            .map(|[k, v]| (k.clone(), v.clone()))
            .collect()
    }

    /// The step's `headers` added to `headers`, replacing one of the same name.
    fn merge_headers(headers: &mut Vec<(String, String)>, step: &Step) {
        for (k, v) in Self::extra_headers(step) {
            match headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&k)) {
                Some(h) => h.1 = v,
                None => headers.push((k, v)),
            }
        }
    }

    /// The application messages one `send` step puts on the wire, in order, each with
    /// the side that sends it and its caption. Over Engine.IO long-polling a packet
    /// needs an HTTP exchange, so one step can give a request and its response.
    fn messages(
        &mut self,
        step: &Step,
        conn: usize,
        side: usize,
    ) -> Result<Vec<(usize, Vec<u8>, String)>, SimError> {
        let kinds = [
            step.text.is_some(),
            step.hex.is_some(),
            step.http.is_some(),
            step.websocket.is_some(),
            step.engineio.is_some(),
            step.socketio.is_some(),
            step.dns.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(self.err(
                "a `send` needs exactly one of text, hex, http, websocket, engineio, socketio, dns",
            ));
        }
        let me = self.sides[side].name.clone();
        let peer = self.sides[1 - side].name.clone();
        let dir = format!("{me} → {peer}");
        if let Some(t) = &step.text {
            let t = t.clone().into_bytes();
            let cap = format!(
                "{dir}: {} bytes of application data: \"{}\"",
                t.len(),
                preview(&t, 40)
            );
            return Ok(vec![(side, t, cap)]);
        }
        if let Some(h) = &step.hex {
            let b = decode_hex(h).ok_or_else(|| self.err("hex must be pairs of hex digits"))?;
            let cap = format!("{dir}: {} bytes of application data", b.len());
            return Ok(vec![(side, b, cap)]);
        }
        if let Some(kind) = step.http.clone() {
            return self
                .http_message(step, conn, side, &kind, &dir)
                .map(|m| vec![m]);
        }
        if let Some(kind) = step.websocket.clone() {
            return self.websocket_message(step, conn, side, &kind, &dir);
        }
        if step.engineio.is_some() || step.socketio.is_some() {
            return self.engineio_messages(step, conn, side);
        }
        if let Some(kind) = step.dns.clone() {
            return self
                .dns_message(step, conn, side, &kind, &dir)
                .map(|m| vec![m]);
        }
        unreachable!("one payload kind is set")
    }

    fn http_message(
        &mut self,
        step: &Step,
        conn: usize,
        side: usize,
        kind: &str,
        dir: &str,
    ) -> Result<(usize, Vec<u8>, String), SimError> {
        let body = step.body.clone().unwrap_or_default().into_bytes();
        let host = self.host_header(conn);
        let mut headers: Vec<(String, String)> = Vec::new();
        let (bytes, caption) = match kind {
            "request" => {
                let method = step.method.clone().unwrap_or_else(|| "GET".into());
                let path = step.path.clone().unwrap_or_else(|| "/".into());
                headers.push(("Host".into(), host));
                headers.push(("User-Agent".into(), "wirewalk-sim/1.0".into()));
                headers.push(("Accept".into(), "*/*".into()));
                Self::merge_headers(&mut headers, step);
                (app::http_request(&method, &path, &headers, &body), format!("{dir}: HTTP {method} {path} — a request"))
            }
            "response" => {
                let status = step.status.unwrap_or(200);
                let reason = step.reason.clone().unwrap_or_else(|| app::reason_phrase(status).into());
                if !body.is_empty() {
                    headers.push(("Content-Type".into(), "text/plain; charset=utf-8".into()));
                } else {
                    headers.push(("Content-Length".into(), "0".into()));
                }
                Self::merge_headers(&mut headers, step);
                (app::http_response(status, &reason, &headers, &body), format!("{dir}: HTTP {status} {reason} — the response"))
            }
            "upgrade-request" => {
                let path = self.expand(&step.path.clone().unwrap_or_else(|| "/".into()));
                let key = base64::engine::general_purpose::STANDARD.encode(self.rng.bytes::<16>());
                headers.push(("Host".into(), host.clone()));
                headers.push(("Upgrade".into(), "websocket".into()));
                headers.push(("Connection".into(), "Upgrade".into()));
                headers.push(("Sec-WebSocket-Key".into(), key.clone()));
                headers.push(("Sec-WebSocket-Version".into(), "13".into()));
                headers.push(("Origin".into(), format!("http://{host}")));
                Self::merge_headers(&mut headers, step);
                self.conns[conn].ws_key = Some(key);
                (
                    app::http_request("GET", &path, &headers, &body),
                    format!("{dir}: HTTP GET {path} with Upgrade: websocket — asks to switch this connection to WebSocket (Sec-WebSocket-Key is a random nonce)"),
                )
            }
            "upgrade-response" => {
                let key = self.conns[conn].ws_key.clone().ok_or_else(|| {
                    self.err("an upgrade-response needs an upgrade-request on the same connection before it")
                })?;
                let accept = sec_websocket_accept(&key);
                headers.push(("Upgrade".into(), "websocket".into()));
                headers.push(("Connection".into(), "Upgrade".into()));
                headers.push(("Sec-WebSocket-Accept".into(), accept));
                Self::merge_headers(&mut headers, step);
                self.conns[conn].upgraded = true;
                (
                    app::http_response(101, "Switching Protocols", &headers, &[]),
                    format!("{dir}: HTTP 101 Switching Protocols — from now on this TCP connection carries WebSocket frames (Sec-WebSocket-Accept = base64(SHA-1(key + GUID)))"),
                )
            }
            "upgrade-refused" => {
                let status = step.status.unwrap_or(403);
                let reason = step.reason.clone().unwrap_or_else(|| app::reason_phrase(status).into());
                let body = if body.is_empty() { b"WebSocket upgrade refused".to_vec() } else { body };
                headers.push(("Content-Type".into(), "text/plain; charset=utf-8".into()));
                headers.push(("Connection".into(), "close".into()));
                Self::merge_headers(&mut headers, step);
                (
                    app::http_response(status, &reason, &headers, &body),
                    format!("{dir}: HTTP {status} {reason} — the server refuses the upgrade: no 101, no Sec-WebSocket-Accept, the connection stays HTTP"),
                )
            }
            other => {
                return Err(self.err(format!(
                    "http = \"{other}\": use request, response, upgrade-request, upgrade-response or upgrade-refused"
                )))
            }
        };
        Ok((side, bytes, caption))
    }

    fn mask(&mut self, side: usize) -> Option<[u8; 4]> {
        (side == CLIENT).then(|| self.rng.bytes::<4>())
    }

    fn websocket_message(
        &mut self,
        step: &Step,
        conn: usize,
        side: usize,
        kind: &str,
        dir: &str,
    ) -> Result<Vec<(usize, Vec<u8>, String)>, SimError> {
        if !self.conns[conn].upgraded {
            return Err(self.err("WebSocket frames need an upgraded connection: send http = \"upgrade-request\" and \"upgrade-response\" first"));
        }
        let data: Vec<u8> = match (&step.data, &step.data_hex) {
            (Some(t), _) => t.clone().into_bytes(),
            (None, Some(h)) => {
                decode_hex(h).ok_or_else(|| self.err("data_hex must be pairs of hex digits"))?
            }
            (None, None) => Vec::new(),
        };
        let masked = if side == CLIENT {
            "masked, as every client frame must be"
        } else {
            "unmasked, as server frames are"
        };
        let (op, what) = match kind {
            "text" => (
                app::opcode::TEXT,
                format!("text \"{}\"", preview(&data, 40)),
            ),
            "binary" => (app::opcode::BINARY, format!("binary, {} bytes", data.len())),
            "ping" => (app::opcode::PING, "ping (are you there?)".to_string()),
            "pong" => (app::opcode::PONG, "pong (the answer to a ping)".to_string()),
            "close" => {
                let reason = step.reason.clone().unwrap_or_default();
                let code = step.code.or(Some(1000));
                let payload = app::ws_close_payload(code, &reason);
                let mask = self.mask(side);
                let frame = app::ws_frame(true, app::opcode::CLOSE, &payload, mask);
                let cap = format!("{dir}: WebSocket close frame, code {} — starts (or answers) the closing handshake ({masked})", code.unwrap_or(1000));
                return Ok(vec![(side, frame, cap)]);
            }
            other => {
                return Err(self.err(format!(
                    "websocket = \"{other}\": use text, binary, ping, pong or close"
                )))
            }
        };
        let n = step.fragments.unwrap_or(1).max(1) as usize;
        if n > 1 && !(op == app::opcode::TEXT || op == app::opcode::BINARY) {
            return Err(self.err("only text and binary messages can be fragmented"));
        }
        let per = data.len().div_ceil(n).max(1);
        let mut chunks: Vec<&[u8]> = data.chunks(per).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let count = chunks.len();
        let mut out = Vec::new();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let opcode = if i == 0 {
                op
            } else {
                app::opcode::CONTINUATION
            };
            let mask = self.mask(side);
            let frame = app::ws_frame(i + 1 == count, opcode, chunk, mask);
            let cap = if count == 1 {
                format!("{dir}: WebSocket {what} ({masked})")
            } else {
                format!(
                    "{dir}: WebSocket {what}, fragment {} of {count} ({masked})",
                    i + 1
                )
            };
            out.push((side, frame, cap));
        }
        Ok(out)
    }

    /// `{sid}` in a path becomes the Engine.IO session id.
    fn expand(&self, s: &str) -> String {
        s.replace("{sid}", &self.eio_sid)
    }

    fn engineio_messages(
        &mut self,
        step: &Step,
        conn: usize,
        side: usize,
    ) -> Result<Vec<(usize, Vec<u8>, String)>, SimError> {
        let me = self.sides[side].name.clone();
        let peer = self.sides[1 - side].name.clone();
        let dir = format!("{me} → {peer}");
        let mut texts: Vec<String> = Vec::new();
        let mut binaries: Vec<Vec<u8>> = Vec::new();
        let what: String;
        let mut is_open = false;
        if let Some(kind) = &step.engineio {
            let digit = app::engineio_type_digit(kind).ok_or_else(|| {
                self.err(format!(
                    "engineio = \"{kind}\": use open, close, ping, pong, message, upgrade or noop"
                ))
            })?;
            let data = match (kind.as_str(), &step.data) {
                ("open", None) => {
                    is_open = true;
                    format!(
                        r#"{{"sid":"{}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#,
                        self.eio_sid
                    )
                }
                (_, d) => d.clone().unwrap_or_default(),
            };
            is_open |= kind == "open";
            texts.push(format!("{digit}{data}"));
            what = match kind.as_str() {
                "open" => "Engine.IO open: the session id, the transports it may upgrade to, and the heartbeat timing".into(),
                "ping" if data == "probe" => "Engine.IO ping \"probe\": is the WebSocket transport working?".into(),
                "pong" if data == "probe" => "Engine.IO pong \"probe\": the WebSocket transport works".into(),
                "ping" => "Engine.IO ping: heartbeat (proof of life)".into(),
                "pong" => "Engine.IO pong: heartbeat answered".into(),
                "upgrade" => "Engine.IO upgrade: switch this session from long-polling to the WebSocket".into(),
                "noop" => "Engine.IO noop: ends a pending long-poll so the client can move to the WebSocket".into(),
                "close" => "Engine.IO close: the session ends".into(),
                _ => format!("Engine.IO {kind} \"{}\"", preview(data.as_bytes(), 40)),
            };
        } else {
            let kind = step.socketio.clone().unwrap_or_default();
            let digit = app::socketio_type_digit(&kind).ok_or_else(|| {
                self.err(format!("socketio = \"{kind}\": use connect, disconnect, event, ack, connect_error, binary_event or binary_ack"))
            })?;
            let ns = step.namespace.clone().unwrap_or_else(|| "/".into());
            let attachments: Vec<Vec<u8>> = step
                .attachments
                .iter()
                .flatten()
                .map(|a| a.clone().into_bytes())
                .collect();
            if matches!(digit, '5' | '6') && attachments.is_empty() {
                return Err(self.err("a binary event or ack needs `attachments`"));
            }
            if !matches!(digit, '5' | '6') && !attachments.is_empty() {
                return Err(self.err("only binary_event and binary_ack carry `attachments`"));
            }
            let args = step.args.clone().unwrap_or_else(|| "[]".into());
            if serde_json::from_str::<serde_json::Value>(&args)
                .map(|v| !v.is_array())
                .unwrap_or(true)
            {
                return Err(self.err(format!(
                    "args must be a JSON array, e.g. args = '[\"hello\"]' (got {args})"
                )));
            }
            let json: Option<String> = match digit {
                '0' if side == SERVER => Some(
                    step.data
                        .clone()
                        .unwrap_or_else(|| format!(r#"{{"sid":"{}"}}"#, self.sio_sid)),
                ),
                '0' | '1' => step.data.clone(),
                '4' => Some(
                    step.data
                        .clone()
                        .unwrap_or_else(|| r#"{"message":"Not authorized"}"#.into()),
                ),
                '2' | '5' => {
                    let event = step
                        .event
                        .clone()
                        .ok_or_else(|| self.err("an event needs `event`, its name"))?;
                    let ev = serde_json::to_string(&event).unwrap_or_default();
                    let inner = args
                        .trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .trim();
                    Some(if inner.is_empty() {
                        format!("[{ev}]")
                    } else {
                        format!("[{ev},{inner}]")
                    })
                }
                _ => Some(args.clone()),
            };
            let text =
                app::socketio_text(digit, attachments.len(), &ns, step.ack_id, json.as_deref());
            texts.push(format!("4{text}"));
            binaries = attachments;
            let ack = step
                .ack_id
                .map(|id| format!(", asking for acknowledgement #{id}"))
                .unwrap_or_default();
            what = match digit {
                '0' if side == CLIENT => format!("Socket.IO CONNECT to namespace {ns}"),
                '0' => format!("Socket.IO CONNECT accepted: the socket's id in namespace {ns}"),
                '1' => format!("Socket.IO DISCONNECT from namespace {ns}"),
                '2' => format!(
                    "Socket.IO EVENT \"{}\" {args}{ack} — {}",
                    step.event.clone().unwrap_or_default(),
                    if side == SERVER { "an emit on the server (socket.emit, io.emit or a room's: the packet is the same); the client's socket.on hears it" } else { "socket.emit on the client; the server's socket.on hears it" }
                ),
                '3' => format!("Socket.IO ACK #{} {args} — the answer to the event that asked for it", step.ack_id.unwrap_or(0)),
                '4' => "Socket.IO CONNECT_ERROR: the namespace refused the socket".into(),
                '5' => format!(
                    "Socket.IO BINARY_EVENT \"{}\" with {} attachment(s) — a placeholder in the JSON, the bytes in their own frame",
                    step.event.clone().unwrap_or_default(),
                    binaries.len()
                ),
                _ => format!("Socket.IO BINARY_ACK #{} with {} attachment(s)", step.ack_id.unwrap_or(0), binaries.len()),
            };
        }

        if self.conns[conn].upgraded {
            let mut out = Vec::new();
            let transport = "over the WebSocket";
            for t in &texts {
                let mask = self.mask(side);
                out.push((
                    side,
                    app::ws_frame(true, app::opcode::TEXT, t.as_bytes(), mask),
                    format!(
                        "{dir}: {what} ({transport}: text frame {})",
                        preview(t.as_bytes(), 50)
                    ),
                ));
            }
            for (i, b) in binaries.iter().enumerate() {
                let mask = self.mask(side);
                out.push((
                    side,
                    app::ws_frame(true, app::opcode::BINARY, b, mask),
                    format!(
                        "{dir}: Socket.IO attachment {} — {} bytes in a binary frame",
                        i,
                        b.len()
                    ),
                ));
            }
            return Ok(out);
        }

        // Long-polling: every packet rides an HTTP exchange.
        let base = step.path.clone().unwrap_or_else(|| "/socket.io/".into());
        let t = self.rng.string(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            7,
        );
        let path = if is_open {
            format!("{base}?EIO=4&transport=polling&t={t}")
        } else {
            format!("{base}?EIO=4&transport=polling&t={t}&sid={}", self.eio_sid)
        };
        let host = self.host_header(conn);
        let payload = app::engineio_polling_payload(&texts, &binaries);
        let common = vec![
            ("Host".to_string(), host),
            ("Accept".to_string(), "*/*".to_string()),
        ];
        let c_name = self.sides[CLIENT].name.clone();
        let s_name = self.sides[SERVER].name.clone();
        let up = format!("{c_name} → {s_name}");
        let down = format!("{s_name} → {c_name}");
        let shown = preview(&payload, 50);
        if side == CLIENT {
            let mut h = common;
            h.push(("Content-Type".into(), "text/plain;charset=UTF-8".into()));
            let req = app::http_request("POST", &path, &h, &payload);
            let ok = app::http_response(
                200,
                "OK",
                &[("Content-Type".into(), "text/html".into())],
                b"ok",
            );
            Ok(vec![
                (
                    CLIENT,
                    req,
                    format!("{up}: {what} (long-polling: an HTTP POST carries {shown})"),
                ),
                (
                    SERVER,
                    ok,
                    format!("{down}: HTTP 200 \"ok\" — the server took the POSTed packet"),
                ),
            ])
        } else {
            let req = app::http_request("GET", &path, &common, &[]);
            let h = vec![(
                "Content-Type".to_string(),
                "text/plain; charset=UTF-8".to_string(),
            )];
            let resp = app::http_response(200, "OK", &h, &payload);
            let ask = if is_open {
                "HTTP GET: opens an Engine.IO session with long-polling, the transport that works everywhere".to_string()
            } else {
                "HTTP GET long-poll: the client asks \"anything for me?\" and the server holds the answer until it has something".to_string()
            };
            Ok(vec![
                (CLIENT, req, format!("{up}: {ask}")),
                (
                    SERVER,
                    resp,
                    format!("{down}: {what} (long-polling: the HTTP response carries {shown})"),
                ),
            ])
        }
    }

    fn dns_message(
        &mut self,
        step: &Step,
        conn: usize,
        side: usize,
        kind: &str,
        dir: &str,
    ) -> Result<(usize, Vec<u8>, String), SimError> {
        if !self.conns[conn].udp {
            return Err(self.err("DNS here rides UDP: connect with transport = \"udp\" first"));
        }
        match kind {
            "query" => {
                let name = step
                    .name
                    .clone()
                    .ok_or_else(|| self.err("a DNS query needs `name`"))?;
                let qname = step.qtype.clone().unwrap_or_else(|| "A".into());
                let qtype = app::dns_qtype(&qname).ok_or_else(|| {
                    self.err(format!(
                        "qtype = \"{qname}\": use A, AAAA, NS, CNAME or TXT"
                    ))
                })?;
                let id = self.rng.next_u32() as u16;
                let bytes = app::dns_query(id, &name, qtype).map_err(|e| self.err(e))?;
                self.conns[conn].dns = Some((id, name.clone(), qtype));
                Ok((side, bytes, format!("{dir}: DNS query {qname} {name}? — one UDP datagram: no handshake, no sequence numbers, no ACK")))
            }
            "answer" => {
                let (id, name, qtype) = self.conns[conn]
                    .dns
                    .clone()
                    .ok_or_else(|| self.err("a DNS answer needs a query before it"))?;
                let mut rdata = Vec::new();
                if let Some(a) = &step.address {
                    let r =
                        match qtype {
                            1 => a.parse::<Ipv4Addr>().map(|x| x.octets().to_vec()).map_err(
                                |_| self.err(format!("address \"{a}\" is not an IPv4 address")),
                            )?,
                            28 => a.parse::<Ipv6Addr>().map(|x| x.octets().to_vec()).map_err(
                                |_| self.err(format!("address \"{a}\" is not an IPv6 address")),
                            )?,
                            16 => {
                                let mut v = vec![a.len().min(255) as u8];
                                v.extend_from_slice(&a.as_bytes()[..a.len().min(255)]);
                                v
                            }
                            _ => {
                                let mut v = Vec::new();
                                for label in a.trim_end_matches('.').split('.') {
                                    v.push(label.len() as u8);
                                    v.extend_from_slice(label.as_bytes());
                                }
                                v.push(0);
                                v
                            }
                        };
                    rdata.push(r);
                }
                let bytes = app::dns_answer(id, &name, qtype, step.ttl.unwrap_or(300), &rdata)
                    .map_err(|e| self.err(e))?;
                let cap = match &step.address {
                    Some(a) => format!("{dir}: DNS answer {name} is {a} — one datagram back, matched to the query by its id"),
                    None => format!("{dir}: DNS answer: no such name ({name})"),
                };
                Ok((side, bytes, cap))
            }
            other => Err(self.err(format!("dns = \"{other}\": use query or answer"))),
        }
    }
}
