//! Across frames: conversations, TCP state and sequence analysis, and (above TCP) the
//! application protocols decoded from the reassembled byte streams.
//!
//! The `Analyzer` sees every dissected frame in capture order and enriches it: stream
//! index, relative sequence numbers (written into the TCP layer), analysis tags, and
//! each side's state. At the end it summarises every conversation.

pub mod app;
pub mod conversation;
pub mod http;
pub mod reassembly;
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
    /// True when the client sent this packet.
    pub from_client: Option<bool>,
    /// This packet's position in its conversation, from 1.
    pub nth_in_stream: u64,
    /// Application messages (HTTP, WebSocket…) that completed in this packet.
    pub app: Vec<AppLayer>,
    pub notes: Vec<Note>,
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
}

#[derive(Debug, Default)]
pub struct Analyzer {
    tcp: conversation::Table,
    udp: conversation::Table,
    pub totals: Totals,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
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
        let wire = frame.wire_len as u64;
        if let Some(tcp) = d.tcp_mut().filter(|t| t.seq_raw.is_some()) {
            let src = SocketAddr::new(src_ip, tcp.src_port);
            let dst = SocketAddr::new(dst_ip, tcp.dst_port);
            let flags = tcp.flags();
            let is_new_syn = flags.has(TcpFlags::SYN) && !flags.has(TcpFlags::ACK);
            let first_is_synack = flags.has(TcpFlags::SYN) && flags.has(TcpFlags::ACK);
            let i = self.tcp.lookup(
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
            );
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
            if let Some(app) = conv.app.as_mut() {
                pa.app = app.segment(side, client, tcp, payload, frame.number, at);
                if let Some(name) = app.application() {
                    conv.application = Some(name);
                }
                if finished || app.done() {
                    // Both directions are over: free the decoders (constant memory).
                    conv.app = None;
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
            pa.tags = view.tags;
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
        } else if let Some(udp) = d.udp() {
            let src = SocketAddr::new(src_ip, udp.src_port);
            let dst = SocketAddr::new(dst_ip, udp.dst_port);
            let i = self
                .udp
                .lookup(Transport::Udp, src, dst, frame.number, |_| false, || None);
            let conv = &mut self.udp.list[i];
            let side = conv.side_of(src);
            conv.packets[side] += 1;
            conv.bytes[side] += wire;
            if udp.checksum_ok == Some(false) {
                pa.tags.push(Tag::BadChecksum);
            }
            pa.stream = Some(conv.index);
            pa.transport = Some(Transport::Udp);
            pa.from_client = Some(side == 0);
            pa.nth_in_stream = conv.packets[0] + conv.packets[1];
        }
        for tag in &pa.tags {
            if tag.is_problem() {
                *self.totals.problems.entry(tag.name()).or_insert(0) += 1;
            }
        }
        pa
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
