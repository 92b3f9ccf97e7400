//! Conversations: which packets belong together, numbered like Wireshark's `tcp.stream`
//! and `udp.stream` (from 0, in order of first appearance, TCP and UDP counted apart).

// foldhash (randomly seeded, so a capture cannot choose colliding keys): the table is
// looked up for every packet, and SipHash was a tenth of the analysis.
use foldhash::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::tcp::{TcpConn, TcpState};

/// A conversation's two endpoints, in a canonical order so both directions find it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvKey {
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
}

impl ConvKey {
    pub fn new(a: (IpAddr, u16), b: (IpAddr, u16)) -> ConvKey {
        if a <= b {
            ConvKey { lo: a, hi: b }
        } else {
            ConvKey { lo: b, hi: a }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

/// One conversation: its endpoints (side 0 sent the first packet) and what was seen.
#[derive(Debug)]
pub struct Conversation {
    pub index: u32,
    pub transport: Transport,
    pub endpoints: [SocketAddr; 2],
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub first_frame: u64,
    pub tcp: Option<TcpConn>,
    /// The application protocol carried, once recognised (`http`, `websocket`, `socketio`).
    pub application: Option<&'static str>,
    /// Reassembly and decoding above TCP: made when the first data arrives, freed when
    /// both directions are over.
    pub app: Option<Box<super::stream::TcpApp>>,
    /// The decoders were freed: the connection is over.
    pub app_closed: bool,
}

impl Conversation {
    /// Which side (0 or 1) is the client.
    pub fn client(&self) -> usize {
        match &self.tcp {
            Some(t) => t.client,
            None => 0,
        }
    }

    /// The side that sent a packet from `src`.
    pub fn side_of(&self, src: SocketAddr) -> usize {
        if self.endpoints[0] == src {
            0
        } else {
            1
        }
    }
}

/// The conversations of one transport, with their index table.
#[derive(Debug, Default)]
pub struct Table {
    index: HashMap<ConvKey, usize>,
    pub list: Vec<Conversation>,
}

impl Table {
    /// Finds the conversation of a packet from `src` to `dst`, or starts one.
    /// `restart` decides whether a packet starts a new conversation on a finished one
    /// (TCP port reuse: a SYN after both FINs or a RST).
    pub fn lookup(
        &mut self,
        transport: Transport,
        src: SocketAddr,
        dst: SocketAddr,
        number: u64,
        restart: impl Fn(&Conversation) -> bool,
        make_tcp: impl Fn() -> Option<TcpConn>,
        allow_new: bool,
    ) -> Option<usize> {
        let key = ConvKey::new((src.ip(), src.port()), (dst.ip(), dst.port()));
        if let Some(&i) = self.index.get(&key) {
            if !restart(&self.list[i]) {
                return Some(i);
            }
        }
        if !allow_new {
            return None;
        }
        let i = self.list.len();
        self.list.push(Conversation {
            index: i as u32,
            transport,
            endpoints: [src, dst],
            packets: [0, 0],
            bytes: [0, 0],
            first_frame: number,
            app: None,
            app_closed: false,
            tcp: make_tcp(),
            application: None,
        });
        self.index.insert(key, i);
        Some(i)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The `"type":"conversation"` JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationSummary {
    pub stream: u32,
    pub transport: Transport,
    pub client: String,
    pub server: String,
    pub handshake: Vec<u64>,
    pub teardown: Vec<u64>,
    pub reset: Option<u64>,
    pub application: Option<&'static str>,
    pub packets: u64,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<SideStates>,
    /// Packets and bytes each way.
    pub client_packets: u64,
    pub server_packets: u64,
    pub client_bytes: u64,
    pub server_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SideStates {
    pub client: TcpState,
    pub server: TcpState,
}

impl Conversation {
    pub fn summary(&self) -> ConversationSummary {
        let c = self.client();
        let s = 1 - c;
        let (handshake, teardown, reset, state) = match &self.tcp {
            Some(t) => (
                t.handshake.clone(),
                t.teardown.clone(),
                t.reset,
                Some(SideStates {
                    client: t.sides[c].state,
                    server: t.sides[s].state,
                }),
            ),
            None => (Vec::new(), Vec::new(), None, None),
        };
        ConversationSummary {
            stream: self.index,
            transport: self.transport,
            client: self.endpoints[c].to_string(),
            server: self.endpoints[s].to_string(),
            handshake,
            teardown,
            reset,
            application: self.application,
            packets: self.packets[0] + self.packets[1],
            bytes: self.bytes[0] + self.bytes[1],
            state,
            client_packets: self.packets[c],
            server_packets: self.packets[s],
            client_bytes: self.bytes[c],
            server_bytes: self.bytes[s],
        }
    }
}
