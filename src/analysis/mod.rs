//! Across frames: conversations, TCP state and sequence analysis, and (above TCP) the
//! application protocols decoded from the reassembled byte streams.
//!
//! The `Analyzer` sees every dissected frame in capture order and enriches it: stream
//! index, relative sequence numbers (written into the TCP layer), analysis tags, and
//! each side's state. At the end it summarises every conversation.

pub mod app;
pub mod budget;
pub mod conversation;
pub mod copies;
pub mod engineio;
pub mod http;
pub mod inflight;
pub mod protocols;
pub mod reassembly;
pub mod socketio;
pub mod stream;
pub mod tags;
pub mod tcp;
pub mod websocket;

use std::net::SocketAddr;

use crate::dissect::{Dissection, Level, Note, TcpFlags};
use crate::frame::{Frame, Timestamp};
pub use conversation::{Conversation, ConversationSummary, Transport};
pub use stream::AppLayer;
pub use tags::Tag;
pub use tcp::TcpState;

/// What the analysis adds to one packet.
#[derive(Debug, Clone, Default)]
pub struct PacketAnalysis {
    /// The conversation index (`tcp.stream` / `udp.stream`).
    pub stream: Option<u32>,
    pub transport: Option<Transport>,
    pub tags: Vec<Tag>,
    /// After this packet: [client's state, server's state].
    pub states: Option<[TcpState; 2]>,
    /// [client, server]: a FIN from the other side is on its way to it (its state moves
    /// when it has the FIN).
    pub fin_incoming: [bool; 2],
    /// [client, server]: how many packets each side had sent so far (0: not heard from).
    pub sent: [u64; 2],
    /// This packet is a copy of that earlier frame (same bytes, same instant), and the
    /// how-manieth copy (1: the second recording).
    pub copy_of: Option<(u64, u32)>,
    /// True when the client sent this packet.
    pub from_client: Option<bool>,
    /// This packet's position in its conversation, from 1.
    pub nth_in_stream: u64,
    /// Application messages (HTTP, WebSocket…) that completed in this packet.
    pub app: Vec<AppLayer>,
    /// A message that starts in this packet and ends in a later one.
    pub started: Option<app::InProgress>,
    pub notes: Vec<Note>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new()
    }
}

/// What a hostile capture may cost at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Conversations followed; packets of later ones are dissected but not followed
    /// (`--max-conversations`).
    pub max_conversations: usize,
    /// Bytes kept of one application message, inflated or not (`--max-message`).
    pub max_message: usize,
    /// Bytes held out of order per direction, waiting for a gap to fill (`--max-reassembly`).
    pub max_reassembly: usize,
    /// Bytes of application state of all conversations together (`--max-memory`); past
    /// it the least recently active conversation's decoders are given up.
    pub max_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_conversations: DEFAULT_MAX_CONVERSATIONS,
            max_message: app::AppLimits::default().max_message,
            max_reassembly: reassembly::MAX_HELD,
            max_memory: budget::DEFAULT_MAX_MEMORY,
        }
    }
}

/// The default conversation limit: far beyond a lesson or a classroom capture, and
/// about 35 MB of TCP state at most (some 650 bytes each); their application state draws
/// from the global budget ([`budget::DEFAULT_MAX_MEMORY`]).
pub const DEFAULT_MAX_CONVERSATIONS: usize = 50_000;

fn conn_isn(conv: &Conversation, side: usize) -> Option<u32> {
    conv.tcp.as_ref().and_then(|t| t.sides[side].isn)
}

impl PacketAnalysis {
    /// The application messages worth a line each: a carrier (a WebSocket frame, an
    /// Engine.IO message) is summed up by what it carries, the next layer over the same
    /// bytes in the same direction.
    pub fn top_app_layers(&self) -> impl Iterator<Item = &AppLayer> {
        self.app.iter().enumerate().filter_map(move |(i, a)| {
            let carried = self
                .app
                .get(i + 1)
                .is_some_and(|n| n.range == a.range && n.from_client == a.from_client);
            (!carried).then_some(a)
        })
    }
}

/// The note for a side that has just entered TIME-WAIT: who closed first and so holds it,
/// and, on a WebSocket, what RFC 6455 asks (the server closes first, §7.1.1).
fn time_wait_note(conv: &mut Conversation) -> Option<Note> {
    let websocket = matches!(conv.application, Some("websocket" | "socketio"));
    let conn = conv.tcp.as_mut()?;
    let side = conn.entered_time_wait()?;
    let name = |s: usize| if s == conn.client { "client" } else { "server" };
    let first = conn.first_fin.unwrap_or(side);
    let key = match (first == side, websocket, name(first)) {
        _ if conn.simultaneous_close => "tcp.time_wait_simultaneous",
        (false, _, _) => return None,
        (true, true, "server") => "tcp.time_wait_ws_server",
        (true, true, _) => "tcp.time_wait_ws_client",
        (true, false, _) => "tcp.time_wait",
    };
    Some(
        Note::info(key)
            .arg("who", name(side))
            .arg("other", name(1 - side)),
    )
}

/// Totals for the JSON summary line and the end of the terminal output.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub packets: u64,
    pub bytes: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub warnings: Vec<String>,
    /// How many packets carried each analysis tag that signals trouble.
    pub problems: std::collections::BTreeMap<&'static str, u64>,
    /// Of those, how many were on copies (a packet captured twice, which Wireshark tags
    /// as a retransmission or a duplicate ACK although nothing was sent again).
    pub problems_on_copies: std::collections::BTreeMap<&'static str, u64>,
    /// Packets that were copies of an earlier one.
    pub copies: u64,
    /// Socket.IO sessions that moved from long-polling to WebSocket.
    pub sessions_upgraded: u64,
    /// Per sending address (a few at most): transport checksums left unfinished by
    /// checksum offload, and checksums that verified.
    pub checksums: std::collections::BTreeMap<std::net::IpAddr, [u64; 2]>,
    /// What the capture as a whole shows, said once at the end (not warnings).
    pub info: Vec<String>,
}

/// How many senders' checksums are counted (the rest are not: memory stays bounded).
const CHECKSUM_SENDERS: usize = 64;

/// A Socket.IO session note as a packet note (its wording is in socketio.toml).
fn session_note(n: &socketio::SessionNote) -> Note {
    let mut note = if n.level() == app::Level::Warning {
        Note::warning(n.code())
    } else {
        Note::info(n.code())
    };
    note.args = n.params();
    note
}

#[derive(Debug)]
pub struct Analyzer {
    tcp: conversation::Table,
    udp: conversation::Table,
    pub totals: Totals,
    /// Socket.IO sessions across connections (polling and WebSocket, linked by sid).
    pub sessions: socketio::SessionTracker,
    /// Resource limits (each with a flag to raise it and a note when it is hit).
    pub limits: Limits,
    /// Packets of conversations beyond the limit.
    pub untracked: u64,
    /// TLS secrets (`--keylog`, `SSLKEYLOGFILE`, a capture's Decryption Secrets Blocks).
    pub keys: Option<protocols::tls::SharedKeyLog>,
    /// The last few packets' fingerprints, to recognise a packet captured twice.
    copies: copies::Recent,
    /// What every conversation's application state holds, against `limits.max_memory`.
    pub budget: budget::Budget,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::with_limits(Limits::default())
    }

    pub fn with_limits(limits: Limits) -> Analyzer {
        Analyzer {
            tcp: Default::default(),
            udp: Default::default(),
            totals: Default::default(),
            sessions: Default::default(),
            limits,
            untracked: 0,
            keys: None,
            copies: Default::default(),
            budget: Default::default(),
        }
    }

    /// Conversation `i` (TCP) holds `bytes` of application state now (None: its decoders
    /// were freed); over the budget, the least recently active conversations' decoders
    /// are given up until it fits.
    fn account(&mut self, owner: budget::Owner, bytes: Option<usize>, frame: u64) {
        match bytes {
            Some(b) => self.budget.set(owner, b, frame),
            None => self.budget.remove(owner),
        }
        while let Some(v) = self.budget.evict(self.limits.max_memory) {
            match v {
                budget::Owner::Conversation(v) => {
                    let conv = &mut self.tcp.list[v];
                    conv.app = None;
                    conv.app_closed = true;
                    self.budget.gave_up(conv.index);
                }
                budget::Owner::Session(id) => self.sessions.give_up(id),
            }
        }
    }

    /// A packet of a conversation past the limit: said once, then counted.
    fn over_limit(&mut self) {
        if self.untracked == 0 {
            let note =
                Note::warning("limit.conversations").arg("limit", self.limits.max_conversations);
            // Said once, at the end (with the other warnings about the capture as a whole).
            self.totals.warnings.push(crate::explain::note(&note));
        }
        self.untracked += 1;
    }

    /// Analyses one frame in capture order. Writes the relative numbers into `d`.
    pub fn packet(&mut self, frame: &Frame, d: &mut Dissection) -> PacketAnalysis {
        let t = &mut self.totals;
        t.packets += 1;
        t.bytes += frame.wire_len as u64;
        t.first.get_or_insert(frame.time);
        t.last = Some(frame.time);

        let mut pa = PacketAnalysis::default();
        let Some((src_ip, dst_ip)) = d.ip_addrs() else {
            return pa;
        };
        pa.copy_of = self.copies.check(frame, d);
        let wire = frame.wire_len as u64;
        let checked = match (d.tcp(), d.udp()) {
            (Some(t), _) => t.checksum_ok.map(|ok| (ok, t.checksum_partial)),
            (_, Some(u)) => u.checksum_ok.map(|ok| (ok, u.checksum_partial)),
            _ => None,
        };
        // Counted: checksums that verified, and unfinished ones (offload).
        if let Some((_, partial)) = checked.filter(|(ok, partial)| *ok || *partial) {
            let c = &mut self.totals.checksums;
            if c.contains_key(&src_ip) || c.len() < CHECKSUM_SENDERS {
                c.entry(src_ip).or_default()[if partial { 0 } else { 1 }] += 1;
            }
        }
        // A TCP header cut before its flags and window cannot be followed: it is shown
        // with the fields that were captured, and not analysed.
        if let Some(tcp) = d.tcp_mut().filter(|t| t.window.is_some()) {
            let src = SocketAddr::new(src_ip, tcp.src_port);
            let dst = SocketAddr::new(dst_ip, tcp.dst_port);
            let flags = tcp.flags();
            let is_new_syn = flags.has(TcpFlags::SYN) && !flags.has(TcpFlags::ACK);
            let first_is_synack = flags.has(TcpFlags::SYN) && flags.has(TcpFlags::ACK);
            let allow = self.tcp.len() + self.udp.len() < self.limits.max_conversations;
            let Some(i) = self.tcp.lookup(
                Transport::Tcp,
                src,
                dst,
                frame.number,
                |c| {
                    is_new_syn
                        && c.tcp
                            .as_ref()
                            .map(|t| t.starts_new_stream(c.side_of(src), tcp))
                            .unwrap_or(false)
                },
                || Some(tcp::TcpConn::new(first_is_synack)),
                allow,
            ) else {
                self.over_limit();
                return pa;
            };
            let conv = &mut self.tcp.list[i];
            let side = conv.side_of(src);
            conv.packets[side] += 1;
            conv.bytes[side] += wire;
            let conn = conv
                .tcp
                .as_mut()
                .expect("TCP conversations carry TCP state");
            let view = conn.segment(side, tcp, frame.number, frame.time, wire);
            let client = conn.client;
            let finished = conn.finished();
            let at = d.payload.map(|p| p.0).unwrap_or(0);
            let payload = match d.payload {
                Some((s, e)) if s <= e && e <= frame.data.len() => &frame.data[s..e],
                _ => &[][..],
            };
            let tcp = d.tcp().expect("checked above");
            if conv.app.is_none()
                && !conv.app_closed
                && (!payload.is_empty() || tcp.payload_len() > 0)
            {
                // The decoders are made when the first data arrives (a flood of SYNs costs
                // nothing), starting from each side's first data byte when the SYN was seen.
                let mut app = Box::new(stream::TcpApp::new(
                    protocols::Context {
                        limits: app::AppLimits {
                            max_message: self.limits.max_message,
                        },
                        keys: self.keys.clone(),
                    },
                    self.limits.max_reassembly,
                ));
                for s in 0..2 {
                    if let Some(isn) = conn_isn(conv, s) {
                        app.start_at(s, isn.wrapping_add(1));
                    }
                }
                conv.app = Some(app);
            }
            let mut memory = None;
            if let Some(app) = conv.app.as_mut() {
                pa.app = app.segment(side, client, tcp, payload, frame.number, at);
                memory = Some(app.memory());
                pa.started = app.started.take();
                if let Some(name) = app.application() {
                    conv.application = Some(name);
                }
                if finished || app.done() {
                    // Both directions are over: free the decoders (constant memory).
                    conv.app = None;
                    conv.app_closed = true;
                    memory = None;
                }
            }
            let conn = conv
                .tcp
                .as_ref()
                .expect("TCP conversations carry TCP state");
            pa.stream = Some(conv.index);
            pa.transport = Some(Transport::Tcp);
            pa.from_client = Some(side == conn.client);
            pa.states = match view.states {
                [Some(c), Some(s)] => Some([c, s]),
                _ => None,
            };
            pa.fin_incoming = view.fin_incoming;
            pa.sent = [conv.packets[client], conv.packets[1 - client]];
            pa.tags = view.tags;
            let crafted =
                flags.has(TcpFlags::SYN) && (flags.has(TcpFlags::RST) || flags.has(TcpFlags::FIN));
            if pa.tags.contains(&Tag::Rst) && !crafted {
                // Why the reset: a SYN answered by RST is a refused connection (nothing
                // listens there); after the handshake it is an abort, unless the closing
                // had already begun with a FIN.
                let refused = conn.handshake.len() == 1;
                let key = if refused {
                    "tcp.rst_refused"
                } else if conn.fin_sent(0) || conn.fin_sent(1) {
                    "tcp.rst_after_fin"
                } else {
                    "tcp.rst_abort"
                };
                let port = if side == conn.client {
                    conv.endpoints[1 - side].port()
                } else {
                    conv.endpoints[side].port()
                };
                pa.notes.push(Note::info(key).arg("port", port));
            }
            if let Some(n) = time_wait_note(conv) {
                pa.notes.push(n);
            }
            let stream = conv.index;
            let mut session_costs = Vec::new();
            for l in &pa.app {
                if !matches!(
                    l.message,
                    app::AppMessage::EngineIo(_) | app::AppMessage::SocketIo(_)
                ) {
                    continue;
                }
                let dir = if l.from_client {
                    app::Dir::ClientToServer
                } else {
                    app::Dir::ServerToClient
                };
                let ev = app::AppEvent {
                    dir,
                    stream_range: (0, 0),
                    message: l.message.clone(),
                    checks: Vec::new(),
                };
                for n in self.sessions.observe(stream, frame.number, frame.time, &ev) {
                    pa.notes.push(session_note(&n));
                }
                if let Some((id, cost)) = self.sessions.touched() {
                    session_costs.push((budget::Owner::Session(id), cost));
                }
            }
            for l in &pa.app {
                if let app::AppMessage::Stopped(_) = l.message {
                    continue;
                }
                for c in &l.checks {
                    if c.level() == app::Level::Warning {
                        *self.totals.problems.entry(c.code()).or_insert(0) += 1;
                    }
                }
            }
            pa.nth_in_stream = conv.packets[0] + conv.packets[1];
            if memory.is_some() || self.budget.total() > 0 {
                self.account(budget::Owner::Conversation(i), memory, frame.number);
            }
            for (owner, cost) in session_costs {
                self.account(owner, Some(cost), frame.number);
            }
        } else if let Some(udp) = d.udp() {
            let src = SocketAddr::new(src_ip, udp.src_port);
            let dst = SocketAddr::new(dst_ip, udp.dst_port);
            let allow = self.tcp.len() + self.udp.len() < self.limits.max_conversations;
            let Some(i) = self.udp.lookup(
                Transport::Udp,
                src,
                dst,
                frame.number,
                |_| false,
                || None,
                allow,
            ) else {
                self.over_limit();
                return pa;
            };
            let conv = &mut self.udp.list[i];
            let side = conv.side_of(src);
            conv.packets[side] += 1;
            conv.bytes[side] += wire;
            if udp.checksum_ok == Some(false) && !udp.checksum_partial {
                pa.tags.push(Tag::BadChecksum);
            }
            pa.stream = Some(conv.index);
            pa.transport = Some(Transport::Udp);
            pa.from_client = Some(side == 0);
            pa.nth_in_stream = conv.packets[0] + conv.packets[1];
        }
        if pa.copy_of.is_some() {
            self.totals.copies += 1;
        }
        for tag in &pa.tags {
            if tag.is_problem() {
                *self.totals.problems.entry(tag.name()).or_insert(0) += 1;
                if pa.copy_of.is_some() {
                    *self
                        .totals
                        .problems_on_copies
                        .entry(tag.name())
                        .or_insert(0) += 1;
                }
            }
        }
        pa
    }

    /// After the last packet: what the Socket.IO sessions never completed.
    pub fn finish(&mut self) {
        // Unfinished checksums, with the inference a learner can check: if only the
        // packets of some senders carry them, those senders are the capturing host(s).
        let partial: Vec<_> = self
            .totals
            .checksums
            .iter()
            .filter(|(_, c)| c[0] > 0)
            .collect();
        if !partial.is_empty() {
            let hosts: Vec<String> = partial.iter().map(|(ip, _)| ip.to_string()).collect();
            let n: u64 = partial.iter().map(|(_, c)| c[0]).sum();
            let others: u64 = self
                .totals
                .checksums
                .iter()
                .filter(|(_, c)| c[0] == 0)
                .map(|(_, c)| c[1])
                .sum();
            let key = if others > 0 {
                "notes.checksum.partial_some"
            } else if partial.iter().all(|(ip, _)| ip.is_loopback()) {
                "notes.checksum.partial_loopback"
            } else if partial.len() > 1 {
                "notes.checksum.partial_every_side"
            } else {
                "notes.checksum.partial_all"
            };
            let who = match hosts.as_slice() {
                [one] => format!("{one} is the machine"),
                [rest @ .., last] => {
                    format!(
                        "{} and {last} are the addresses of the machine",
                        rest.join(", ")
                    )
                }
                [] => String::new(),
            };
            self.totals.info.push(crate::explain::text(
                key,
                &[
                    ("count", &n.to_string()),
                    ("hosts", &hosts.join(", ")),
                    ("others", &others.to_string()),
                    ("who", &who),
                ],
            ));
        }
        if self.budget.given_up_count > 0 {
            let note = Note::warning("limit.memory")
                .arg("limit", self.limits.max_memory >> 20)
                .arg("count", self.budget.given_up_count)
                .arg("streams", self.budget.given_up_list());
            self.totals.warnings.push(crate::explain::note(&note));
        }
        if self.sessions.given_up > 0 {
            let note = Note::warning("limit.sessions")
                .arg("limit", self.limits.max_memory >> 20)
                .arg("count", self.sessions.given_up)
                .arg("sids", self.sessions.given_up_list());
            self.totals.warnings.push(crate::explain::note(&note));
        }
        for (frame, n) in self.sessions.finish() {
            let text = crate::explain::note(&session_note(&n));
            self.totals.warnings.push(format!("packet {frame}: {text}"));
        }
        for s in self.sessions.sessions() {
            if s.upgraded() {
                self.totals.sessions_upgraded += 1;
            }
        }
    }

    /// The conversation a packet belongs to.
    pub fn conversation(&self, transport: Transport, stream: u32) -> Option<&Conversation> {
        match transport {
            Transport::Tcp => self.tcp.list.get(stream as usize),
            Transport::Udp => self.udp.list.get(stream as usize),
        }
    }

    /// Every conversation, TCP first, each in order of first appearance.
    pub fn conversations(&self) -> impl Iterator<Item = &Conversation> {
        self.tcp.list.iter().chain(self.udp.list.iter())
    }

    pub fn summaries(&self) -> Vec<ConversationSummary> {
        self.conversations().map(|c| c.summary()).collect()
    }

    /// Notes of level warning, for the summary.
    pub fn is_warning(note: &Note) -> bool {
        note.level == Level::Warning
    }
}
