//! Small valid captures, built in memory by the tests that need them (so CI needs no
//! files): a TCP conversation with an HTTP upgrade and WebSocket frames, DNS over UDP,
//! written as pcap or pcapng with the tool's own writer.
#![allow(dead_code)]

use etherparse::PacketBuilder;
use wirewalk::frame::{Frame, Link, Timestamp};
use wirewalk::render::pcap_out::{PcapFormat, PcapWriter};

pub const CLIENT: [u8; 4] = [10, 0, 0, 2];
pub const SERVER: [u8; 4] = [10, 0, 0, 1];
const CLIENT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const SERVER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

/// Frames in order, numbered and timed as they are added.
#[derive(Default)]
pub struct Capture {
    pub frames: Vec<Frame>,
}

impl Capture {
    pub fn push(&mut self, data: Vec<u8>) {
        let n = self.frames.len() as u64;
        let wire_len = data.len() as u32;
        let time = Timestamp::new(
            1_700_000_000 + (n / 1000) as i64,
            ((n % 1000) * 1_000_000) as u32,
        );
        self.frames.push(Frame {
            number: n + 1,
            time,
            link: Link::Ethernet,
            data,
            wire_len,
        });
    }

    /// The capture as a file of `format`.
    pub fn bytes(&self, format: PcapFormat) -> Vec<u8> {
        let mut w = PcapWriter::new(Vec::new(), Link::Ethernet, format).expect("writing to a Vec");
        for f in &self.frames {
            w.write(f).expect("writing to a Vec");
        }
        w.finish().expect("writing to a Vec")
    }

    /// A DNS query for `name` and its answer (UDP port 53).
    pub fn dns(&mut self, name: &str, sport: u16) {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        let mut a = q.clone();
        a[2] = 0x81;
        a[3] = 0x80;
        a[7] = 1;
        a.extend_from_slice(&[
            0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
        ]);
        self.push(udp(CLIENT_MAC, SERVER_MAC, CLIENT, SERVER, sport, 53, &q));
        self.push(udp(SERVER_MAC, CLIENT_MAC, SERVER, CLIENT, 53, sport, &a));
    }
}

pub fn udp(
    smac: [u8; 6],
    dmac: [u8; 6],
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(smac, dmac)
        .ipv4(src, dst, 64)
        .udp(sport, dport);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("a small datagram");
    out
}

/// One TCP connection between CLIENT:`port` and SERVER:80, segment by segment.
pub struct Tcp {
    pub port: u16,
    seq: [u32; 2],
}

impl Tcp {
    /// A connection that has sent nothing yet.
    pub fn new(port: u16) -> Tcp {
        Tcp {
            port,
            seq: [1000, 5000],
        }
    }

    /// Sets the next sequence numbers of the client and the server (to build segments
    /// out of their natural order).
    pub fn set_seq(&mut self, client: u32, server: u32) {
        self.seq = [client, server];
    }

    /// SYN, SYN-ACK, ACK.
    pub fn open(cap: &mut Capture, port: u16) -> Tcp {
        let mut t = Tcp::new(port);
        t.segment(cap, true, &[], SYN);
        t.seq[0] += 1;
        t.segment(cap, false, &[], SYN | ACK);
        t.seq[1] += 1;
        t.segment(cap, true, &[], ACK);
        t
    }

    /// Data segments (PSH, ACK) from the client (`true`) or the server.
    pub fn send(&mut self, cap: &mut Capture, from_client: bool, payload: &[u8]) {
        for chunk in payload.chunks(1400) {
            self.segment(cap, from_client, chunk, PSH | ACK);
            self.seq[if from_client { 0 } else { 1 }] += chunk.len() as u32;
        }
    }

    /// FIN from each side, the server first, then the last ACK.
    pub fn close(&mut self, cap: &mut Capture) {
        self.close_first(cap, false);
    }

    /// FIN from each side, the client first when `client_first`, then the last ACK.
    pub fn close_first(&mut self, cap: &mut Capture, client_first: bool) {
        let (a, b) = if client_first { (0, 1) } else { (1, 0) };
        self.segment(cap, a == 0, &[], FIN | ACK);
        self.seq[a] += 1;
        self.segment(cap, b == 0, &[], FIN | ACK);
        self.seq[b] += 1;
        self.segment(cap, a == 0, &[], ACK);
    }

    pub fn segment(&self, cap: &mut Capture, from_client: bool, payload: &[u8], flags: u8) {
        let (s, d) = if from_client { (0, 1) } else { (1, 0) };
        let (smac, dmac, sip, dip, sport, dport) = if from_client {
            (CLIENT_MAC, SERVER_MAC, CLIENT, SERVER, self.port, 80)
        } else {
            (SERVER_MAC, CLIENT_MAC, SERVER, CLIENT, 80, self.port)
        };
        let mut b = PacketBuilder::ethernet2(smac, dmac).ipv4(sip, dip, 64).tcp(
            sport,
            dport,
            self.seq[s],
            64240,
        );
        if flags & SYN != 0 {
            b = b.syn();
        }
        if flags & FIN != 0 {
            b = b.fin();
        }
        if flags & PSH != 0 {
            b = b.psh();
        }
        if flags & RST != 0 {
            b = b.rst();
        }
        if flags & ACK != 0 {
            b = b.ack(self.seq[d]);
        }
        let mut out = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut out, payload).expect("a small segment");
        cap.push(out);
    }
}

pub const FIN: u8 = 1;
pub const SYN: u8 = 2;
pub const RST: u8 = 4;
pub const PSH: u8 = 8;
pub const ACK: u8 = 16;

pub const UPGRADE_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
pub const UPGRADE_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

/// A WebSocket frame: FIN, `opcode`, the shortest length form (or `len_override` as a
/// 64-bit length), masked with `mask` when given.
pub fn ws_frame(
    opcode: u8,
    payload: &[u8],
    mask: Option<[u8; 4]>,
    len_override: Option<u64>,
) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match (len_override, payload.len()) {
        (Some(n), _) => {
            f.push(m | 127);
            f.extend_from_slice(&n.to_be_bytes());
        }
        (None, n) if n < 126 => f.push(m | n as u8),
        (None, n) if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        (None, n) => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

/// A whole WebSocket session: handshake, upgrade (with `extra_request_headers`), a
/// masked client text, a server text, a close each way, FINs.
pub fn websocket_session(
    cap: &mut Capture,
    port: u16,
    extra_request_headers: &str,
    client_text: &str,
    server_text: &str,
) {
    let mut t = Tcp::open(cap, port);
    t.send(
        cap,
        true,
        format!("{UPGRADE_REQUEST}{extra_request_headers}\r\n").as_bytes(),
    );
    t.send(cap, false, format!("{UPGRADE_RESPONSE}\r\n").as_bytes());
    t.send(
        cap,
        true,
        &ws_frame(1, client_text.as_bytes(), Some([1, 2, 3, 4]), None),
    );
    t.send(cap, false, &ws_frame(1, server_text.as_bytes(), None, None));
    t.send(
        cap,
        true,
        &ws_frame(8, &[3, 0xe8], Some([5, 6, 7, 8]), None),
    );
    t.send(cap, false, &ws_frame(8, &[3, 0xe8], None, None));
    t.close(cap);
}

/// The small valid capture the corrupt variants start from: a WebSocket session and a
/// DNS exchange.
pub fn baseline() -> Capture {
    let mut cap = Capture::default();
    websocket_session(
        &mut cap,
        40000,
        "User-Agent: test\r\n",
        "Hello, server!",
        "Hello, browser!",
    );
    cap.dns("example.com", 5353);
    cap
}
