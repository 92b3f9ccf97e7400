//! The anatomy of each header, as an RFC draws it: its fields in order with their widths
//! in bits, this packet's value in each, and one line saying what the value means and
//! the arithmetic behind it (`inspect --fields` draws it; the wording is in
//! `text/anatomy.toml`).
//!
//! The bits are read from the frame's own bytes, over the byte range the dissection
//! recorded for each layer; the derived numbers (relative sequence numbers, the scaled
//! window) come from the analysis, already written into the layer.

use super::layers::ip_protocol_name;
use super::template::text_of;
use crate::analysis::app::AppMessage;
use crate::analysis::websocket::WsFrame;
use crate::analysis::AppLayer;
use crate::dissect::{Dissection, Header, Layer, TcpFlags, TcpInfo};
use crate::frame::Frame;

/// One box of a diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's name, as written in the box when there is room.
    pub label: &'static str,
    pub bits: u32,
    /// This packet's value, as written in the box.
    pub value: String,
    /// What it means, with its arithmetic.
    pub meaning: String,
}

/// One header drawn as rows of 32 bits.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    pub title: String,
    pub osi: u8,
    /// The header's bytes in the frame, `[start, end)` (for an application message, the
    /// frame header's length from 0).
    pub range: (usize, usize),
    pub fields: Vec<Field>,
    /// Said once below the diagram (e.g. why clients mask).
    pub footnote: Option<String>,
}

fn t(key: &str, args: &[(&str, &str)]) -> String {
    text_of(&["anatomy.", key], args)
}

/// The sentence `anatomy.notes.{key}`.
fn note(key: &str, args: &[(&str, &str)]) -> String {
    text_of(&["anatomy.notes.", key], args)
}

/// Reads consecutive big-endian bit fields from a header's bytes.
struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
    fields: Vec<Field>,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            bit: 0,
            fields: Vec::new(),
        }
    }

    /// The next `bits` bits as a number (up to 64), or None past the captured bytes.
    fn peek(&self, bits: u32) -> Option<u64> {
        if self.bit + bits as usize > self.data.len() * 8 {
            return None;
        }
        let mut v = 0u64;
        for i in 0..bits as usize {
            let b = self.bit + i;
            let bit = (self.data[b / 8] >> (7 - b % 8)) & 1;
            v = (v << 1) | bit as u64;
        }
        Some(v)
    }

    fn bytes(&self, n: usize) -> Option<&'a [u8]> {
        let s = self.bit / 8;
        self.data.get(s..s + n)
    }

    /// Adds a field of `bits` bits; `show` turns its value into (box text, meaning).
    /// Returns the value, or None (and adds nothing) past the captured bytes.
    fn field(
        &mut self,
        label: &'static str,
        bits: u32,
        show: impl FnOnce(u64) -> (String, String),
    ) -> Option<u64> {
        let v = if bits <= 64 { self.peek(bits)? } else { 0 };
        if bits > 64 && self.bytes(bits as usize / 8).is_none() {
            return None;
        }
        let (value, meaning) = show(v);
        self.fields.push(Field {
            label,
            bits,
            value,
            meaning,
        });
        self.bit += bits as usize;
        Some(v)
    }

    /// A field whose meaning is one template filled with its value.
    fn simple(&mut self, label: &'static str, bits: u32, key: &str) -> Option<u64> {
        self.field(label, bits, |v| {
            let s = v.to_string();
            let m = t(key, &[("value", &s)]);
            (s, m)
        })
    }

    fn hex(&mut self, label: &'static str, bits: u32, key: &str) -> Option<u64> {
        let digits = bits.div_ceil(4) as usize;
        self.field(label, bits, |v| {
            let s = format!("0x{v:0digits$x}");
            let m = t(key, &[("value", &s)]);
            (s, m)
        })
    }
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Thousands separated by commas, as the explanations write byte counts.
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Every header of a frame as a diagram, from the link layer to the WebSocket frames
/// that completed in it. A masked frame carries why clients mask as its footnote (a
/// renderer says it where it is first seen).
pub fn diagrams(frame: &Frame, d: &Dissection, app: &[AppLayer]) -> Vec<Diagram> {
    let mut out = Vec::new();
    let ipv6 = d.has("ipv6");
    for l in &d.layers {
        out.push(layer_diagram(frame, l, ipv6));
    }
    for a in app {
        if let AppMessage::WebSocket(f) = &a.message {
            out.push(websocket(f, frame.number, a.from_client));
        }
    }
    out
}

/// The diagram of one dissected layer.
pub fn layer_diagram(frame: &Frame, l: &Layer, ipv6: bool) -> Diagram {
    let (s, e) = (
        l.range.0.min(frame.data.len()),
        l.range.1.min(frame.data.len()),
    );
    let data = &frame.data[s..e.max(s)];
    let mut b = Bits::new(data);
    let name = match &l.header {
        Header::Ethernet(_) => {
            ethernet(&mut b);
            "Ethernet II"
        }
        Header::Vlan(_) => {
            vlan(&mut b);
            "802.1Q VLAN tag"
        }
        Header::Null(_) => {
            null(&mut b);
            "BSD loopback (NULL)"
        }
        Header::LinuxSll(_) => {
            sll(&mut b, false);
            "Linux cooked (SLL)"
        }
        Header::LinuxSll2(_) => {
            sll(&mut b, true);
            "Linux cooked v2 (SLL2)"
        }
        Header::Ipv4(ip) => {
            ipv4(&mut b, ip.checksum_ok);
            "IPv4"
        }
        Header::Ipv6(_) => {
            ipv6_header(&mut b);
            "IPv6"
        }
        Header::Tcp(tcp) => {
            tcp_header(&mut b, tcp, ipv6);
            "TCP"
        }
        Header::Udp(u) => {
            udp(&mut b, u.checksum_ok, u.checksum_partial);
            "UDP"
        }
        Header::Icmp(_) | Header::Icmpv6(_) => {
            icmp(&mut b, matches!(l.header, Header::Icmpv6(_)));
            if matches!(l.header, Header::Icmpv6(_)) {
                "ICMPv6"
            } else {
                "ICMP"
            }
        }
        other => other.protocol(),
    };
    let (first, last, len) = (
        l.range.0.to_string(),
        l.range.1.saturating_sub(1).to_string(),
        (l.range.1 - l.range.0).to_string(),
    );
    let num = frame.number.to_string();
    let args = [
        ("name", name),
        ("first", first.as_str()),
        ("last", last.as_str()),
        ("len", len.as_str()),
        ("frame", num.as_str()),
    ];
    let title = if b.fields.is_empty() {
        t("diagram.no_diagram", &args)
    } else {
        t("diagram.title", &args)
    };
    Diagram {
        title,
        osi: l.osi(),
        range: l.range,
        fields: b.fields,
        footnote: None,
    }
}

fn ethernet(b: &mut Bits) {
    for (label, key) in [
        ("Destination MAC", "ethernet.dst"),
        ("Source MAC", "ethernet.src"),
    ] {
        let Some(m) = b.bytes(6).map(mac) else { return };
        b.field(label, 48, |_| {
            let meaning = t(key, &[("value", &m)]);
            (m, meaning)
        });
    }
    b.hex("EtherType", 16, "ethernet.type");
}

fn vlan(b: &mut Bits) {
    b.simple("PCP", 3, "vlan.pcp");
    b.simple("DEI", 1, "vlan.dei");
    b.simple("VLAN ID", 12, "vlan.vid");
    b.hex("EtherType", 16, "vlan.type");
}

fn null(b: &mut Bits) {
    let Some(raw) = b.bytes(4) else { return };
    // Host byte order: read it whichever way gives a small number.
    let le = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let be = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let fam = le.min(be).to_string();
    b.field("Address family", 32, |_| {
        let m = t("null.family", &[("value", &fam)]);
        (fam, m)
    });
}

fn sll(b: &mut Bits, v2: bool) {
    if v2 {
        b.hex("Protocol", 16, "sll.protocol");
        b.simple("Reserved", 16, "sll.reserved");
        b.simple("Interface index", 32, "sll.ifindex");
        b.simple("ARPHRD type", 16, "sll.arphrd");
        b.simple("Packet type", 8, "sll.packet_type");
        let Some(n) = b.simple("Addr len", 8, "sll.addr_len") else {
            return;
        };
        sll_addr(b, n);
    } else {
        b.simple("Packet type", 16, "sll.packet_type");
        b.simple("ARPHRD type", 16, "sll.arphrd");
        let Some(n) = b.simple("Address length", 16, "sll.addr_len") else {
            return;
        };
        sll_addr(b, n);
        b.hex("Protocol", 16, "sll.protocol");
    }
}

fn sll_addr(b: &mut Bits, n: u64) {
    let Some(a) = b.bytes(8) else { return };
    let m = mac(&a[..(n as usize).min(8)]);
    b.field("Link-layer address", 64, |_| {
        let meaning = t("sll.addr", &[("value", &m)]);
        (m, meaning)
    });
}

/// The checksum's verdict; `partial`: it holds only the pseudo-header's sum, which
/// checksum offload leaves for the card (not wrong, unfinished).
fn verdict(section: &str, ok: Option<bool>, partial: bool) -> String {
    let which = match ok {
        Some(true) => "checksum_ok",
        Some(false) if partial => "checksum_partial",
        Some(false) => "checksum_bad",
        None => "checksum_unknown",
    };
    text_of(&["anatomy.", section, ".", which], &[])
}

fn ipv4(b: &mut Bits, checksum_ok: bool) {
    b.simple("Version", 4, "ipv4.version");
    let Some(ihl) = b.field("IHL", 4, |v| {
        let bytes = (v * 4).to_string();
        let s = v.to_string();
        let m = t("ipv4.ihl", &[("value", &s), ("bytes", &bytes)]);
        (s, m)
    }) else {
        return;
    };
    b.simple("DSCP", 6, "ipv4.dscp");
    b.simple("ECN", 2, "ipv4.ecn");
    b.field("Total Length", 16, |v| {
        let s = v.to_string();
        let (h, rest) = ((ihl * 4).to_string(), v.saturating_sub(ihl * 4).to_string());
        let m = t(
            "ipv4.total_len",
            &[("value", &s), ("ihl", &h), ("rest", &rest)],
        );
        (s, m)
    });
    b.simple("Identification", 16, "ipv4.id");
    b.simple("0", 1, "ipv4.reserved");
    b.simple("DF", 1, "ipv4.df");
    b.simple("MF", 1, "ipv4.mf");
    b.field("Fragment Offset", 13, |v| {
        let (s, bytes) = (v.to_string(), (v * 8).to_string());
        let m = t("ipv4.frag", &[("value", &s), ("bytes", &bytes)]);
        (s, m)
    });
    b.simple("TTL", 8, "ipv4.ttl");
    b.field("Protocol", 8, |v| {
        let s = v.to_string();
        let name = ip_protocol_name(v as u8);
        let m = t("ipv4.protocol", &[("value", &s), ("name", &name)]);
        (s, m)
    });
    b.field("Header Checksum", 16, |v| {
        let s = format!("0x{v:04x}");
        let verdict = verdict("ipv4", Some(checksum_ok), false);
        let m = t("ipv4.checksum", &[("value", &s), ("verdict", &verdict)]);
        (s, m)
    });
    for (label, key) in [
        ("Source Address", "ipv4.src"),
        ("Destination Address", "ipv4.dst"),
    ] {
        b.field(label, 32, |v| {
            let s = std::net::Ipv4Addr::from(v as u32).to_string();
            let m = t(key, &[("value", &s)]);
            (s, m)
        });
    }
    let opts = (ihl as usize * 4).saturating_sub(20);
    if opts > 0 && b.bytes(opts).is_some() {
        let n = opts.to_string();
        b.field("Options", opts as u32 * 8, |_| {
            let m = t("ipv4.options", &[("value", &n)]);
            (format!("{n} bytes"), m)
        });
    }
}

fn ipv6_header(b: &mut Bits) {
    b.simple("Version", 4, "ipv6.version");
    b.hex("Traffic Class", 8, "ipv6.tc");
    b.hex("Flow Label", 20, "ipv6.flow");
    b.simple("Payload Length", 16, "ipv6.payload_len");
    b.field("Next Header", 8, |v| {
        let s = v.to_string();
        let name = ip_protocol_name(v as u8);
        let m = t("ipv6.next", &[("value", &s), ("name", &name)]);
        (s, m)
    });
    b.simple("Hop Limit", 8, "ipv6.hop");
    for (label, key) in [
        ("Source Address", "ipv6.src"),
        ("Destination Address", "ipv6.dst"),
    ] {
        let Some(a) = b.bytes(16) else { return };
        let mut o = [0u8; 16];
        o.copy_from_slice(a);
        let s = std::net::Ipv6Addr::from(o).to_string();
        b.field(label, 128, |_| {
            let m = t(key, &[("value", &s)]);
            (s, m)
        });
    }
    let ext = b.data.len().saturating_sub(40);
    if ext > 0 {
        let n = ext.to_string();
        b.field("Extension headers", ext as u32 * 8, |_| {
            let m = t("ipv6.ext", &[("value", &n)]);
            (format!("{n} bytes"), m)
        });
    }
}

/// A SACK option's blocks in relative numbers, and whether it is a D-SACK (RFC 2883:
/// the first block lies at or below the ACK, or inside the second block).
fn sack_blocks(raw: &[u8], tcp: &TcpInfo) -> (String, bool) {
    let peer_base = match (tcp.ack_raw, tcp.ack) {
        (Some(raw), Some(rel)) => raw.wrapping_sub(rel),
        _ => 0,
    };
    let blocks: Vec<(u32, u32)> = raw
        .chunks_exact(8)
        .map(|c| {
            (
                u32::from_be_bytes([c[0], c[1], c[2], c[3]]),
                u32::from_be_bytes([c[4], c[5], c[6], c[7]]),
            )
        })
        .collect();
    let le = |a: u32, b: u32| (b.wrapping_sub(a) as i32) >= 0;
    let dsack = match (blocks.first(), tcp.ack_raw) {
        (Some(&(l, r)), Some(ack)) => {
            le(r, ack)
                || blocks
                    .get(1)
                    .is_some_and(|&(l2, r2)| le(l2, l) && le(r, r2))
        }
        _ => false,
    };
    let text = blocks
        .iter()
        .map(|(l, r)| {
            format!(
                "{}–{}",
                l.wrapping_sub(peer_base),
                r.wrapping_sub(peer_base)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    (text, dsack)
}

fn tcp_header(b: &mut Bits, tcp: &TcpInfo, ipv6: bool) {
    let flags = tcp.flags();
    let syn = flags.has(TcpFlags::SYN);
    b.simple("Source Port", 16, "tcp.src_port");
    b.simple("Destination Port", 16, "tcp.dst_port");
    b.field("Sequence Number", 32, |v| {
        let s = v.to_string();
        let rel = tcp.seq.unwrap_or(0);
        let base = (v as u32).wrapping_sub(rel).to_string();
        let rel = rel.to_string();
        let key = if syn { "tcp.isn" } else { "tcp.seq" };
        let m = t(key, &[("value", &s), ("rel", &rel), ("base", &base)]);
        (s, m)
    });
    b.field("Acknowledgment Number", 32, |v| {
        let s = v.to_string();
        let rel = tcp.ack.unwrap_or(0).to_string();
        let key = match (flags.has(TcpFlags::ACK), syn) {
            (false, _) => "tcp.ack_unused",
            (true, true) => "tcp.ack_syn",
            (true, false) => "tcp.ack",
        };
        let m = t(key, &[("value", &s), ("rel", &rel)]);
        (s, m)
    });
    let Some(off) = b.field("Offset", 4, |v| {
        let s = v.to_string();
        let bytes = (v * 4).to_string();
        let opts = (v * 4).saturating_sub(20).to_string();
        let m = t(
            "tcp.offset",
            &[("value", &s), ("bytes", &bytes), ("options", &opts)],
        );
        (s, m)
    }) else {
        return;
    };
    b.simple("Rsrvd", 4, "tcp.reserved");
    for (label, key) in [
        ("CWR", "tcp.cwr"),
        ("ECE", "tcp.ece"),
        ("URG", "tcp.urg"),
        ("ACK", "tcp.ack_flag"),
        ("PSH", "tcp.psh"),
        ("RST", "tcp.rst"),
        ("SYN", "tcp.syn"),
        ("FIN", "tcp.fin"),
    ] {
        b.simple(label, 1, key);
    }
    b.field("Window", 16, |v| {
        let s = v.to_string();
        let scaled = tcp.window_scaled.unwrap_or(v as u32) as u64;
        let m = if syn {
            t("tcp.window_syn", &[("value", &s)])
        } else if scaled != v && v > 0 {
            let mult = scaled / v;
            let shift = mult.trailing_zeros().to_string();
            let (mult, bytes) = (grouped(mult), grouped(scaled));
            t(
                "tcp.window_scaled",
                &[
                    ("value", &s),
                    ("mult", &mult),
                    ("bytes", &bytes),
                    ("shift", &shift),
                ],
            )
        } else {
            t("tcp.window_plain", &[("value", &grouped(v))])
        };
        (s, m)
    });
    b.field("Checksum", 16, |v| {
        let s = format!("0x{v:04x}");
        let verdict = verdict("tcp", tcp.checksum_ok, tcp.checksum_partial);
        let m = t("tcp.checksum", &[("value", &s), ("verdict", &verdict)]);
        (s, m)
    });
    b.simple("Urgent Pointer", 16, "tcp.urgent");
    tcp_options(b, tcp, (off as usize * 4).saturating_sub(20), ipv6);
}

fn tcp_options(b: &mut Bits, tcp: &TcpInfo, len: usize, ipv6: bool) {
    let end = b.bit / 8 + len;
    while b.bit / 8 < end {
        let at = b.bit / 8;
        let Some(&kind) = b.data.get(at) else { return };
        let olen = match kind {
            0 | 1 => 1,
            _ => match b.data.get(at + 1) {
                Some(&n) if n >= 2 && at + n as usize <= end => n as usize,
                _ => end - at,
            },
        };
        let Some(raw) = b.bytes(olen) else { return };
        let bits = olen as u32 * 8;
        let kind_s = kind.to_string();
        let (label, value, meaning): (&'static str, String, String) = match (kind, olen) {
            (0, _) => ("EOL", String::new(), t("tcp.eol", &[])),
            (1, _) => ("NOP", String::new(), t("tcp.nop", &[])),
            (2, 4) => {
                let mss = u16::from_be_bytes([raw[2], raw[3]]) as u64;
                let overhead: u64 = if ipv6 { 60 } else { 40 };
                let (v, o, mtu) = (grouped(mss), overhead.to_string(), grouped(mss + overhead));
                let m = t("tcp.mss", &[("value", &v), ("overhead", &o), ("mtu", &mtu)]);
                ("MSS", mss.to_string(), m)
            }
            (3, 3) => {
                let shift = raw[2].min(14);
                let (v, mult) = (raw[2].to_string(), grouped(1u64 << shift));
                let m = t("tcp.ws", &[("value", &v), ("mult", &mult)]);
                ("Window scale", raw[2].to_string(), m)
            }
            (4, 2) => ("SACK permitted", String::new(), t("tcp.sack_perm", &[])),
            (8, 10) => {
                let tsval = u32::from_be_bytes([raw[2], raw[3], raw[4], raw[5]]).to_string();
                let tsecr = u32::from_be_bytes([raw[6], raw[7], raw[8], raw[9]]).to_string();
                let m = t("tcp.ts", &[("tsval", &tsval), ("tsecr", &tsecr)]);
                ("Timestamps", format!("TSval {tsval} TSecr {tsecr}"), m)
            }
            (5, n) if n >= 10 => {
                let (blocks, dsack) = sack_blocks(&raw[2..], tcp);
                let key = if dsack { "tcp.dsack" } else { "tcp.sack" };
                let m = t(key, &[("blocks", &blocks)]);
                ("SACK", blocks, m)
            }
            _ => {
                let n = olen.to_string();
                let m = t("tcp.other", &[("value", &kind_s), ("len", &n)]);
                ("Option", format!("kind {kind}"), m)
            }
        };
        b.field(label, bits, |_| (value, meaning));
        if kind == 0 {
            let rest = end.saturating_sub(b.bit / 8);
            if rest > 0 && b.bytes(rest).is_some() {
                b.field("Padding", rest as u32 * 8, |_| {
                    ("0".into(), t("tcp.padding", &[]))
                });
            }
            return;
        }
    }
}

fn udp(b: &mut Bits, checksum_ok: Option<bool>, partial: bool) {
    b.simple("Source Port", 16, "udp.src_port");
    b.simple("Destination Port", 16, "udp.dst_port");
    b.field("Length", 16, |v| {
        let (s, data) = (v.to_string(), v.saturating_sub(8).to_string());
        let m = t("udp.length", &[("value", &s), ("data", &data)]);
        (s, m)
    });
    b.field("Checksum", 16, |v| {
        let s = format!("0x{v:04x}");
        let verdict = if v == 0 {
            t("udp.checksum_none", &[])
        } else {
            verdict("udp", checksum_ok, partial)
        };
        let m = t("udp.checksum", &[("value", &s), ("verdict", &verdict)]);
        (s, m)
    });
}

fn icmp(b: &mut Bits, v6: bool) {
    b.field("Type", 8, |v| {
        let s = v.to_string();
        let name = match (v6, v) {
            (false, 0) | (true, 129) => "echo reply",
            (false, 8) | (true, 128) => "echo request",
            (false, 3) | (true, 1) => "destination unreachable",
            (false, 11) | (true, 3) => "time exceeded",
            (true, 135) => "neighbour solicitation",
            (true, 136) => "neighbour advertisement",
            (true, 133) => "router solicitation",
            (true, 134) => "router advertisement",
            _ => "another ICMP message",
        };
        let m = t("icmp.type", &[("value", &s), ("name", name)]);
        (s, m)
    });
    b.simple("Code", 8, "icmp.code");
    b.hex("Checksum", 16, "icmp.checksum");
    b.hex("Rest of header", 32, "icmp.rest");
}

/// The frame header of one WebSocket frame, from its decoded fields.
pub fn websocket(f: &WsFrame, frame: u64, from_client: bool) -> Diagram {
    let bit = |b: bool| if b { "1" } else { "0" }.to_string();
    let mut fields = Vec::new();
    let mut push = |label: &'static str, bits: u32, value: String, meaning: String| {
        fields.push(Field {
            label,
            bits,
            value,
            meaning,
        })
    };
    let fin = bit(f.fin);
    let fin_m = t(
        if f.fin {
            "websocket.fin_1"
        } else {
            "websocket.fin_0"
        },
        &[],
    );
    push(
        "FIN",
        1,
        fin.clone(),
        t("websocket.fin", &[("value", &fin), ("meaning", &fin_m)]),
    );
    let rsv1 = bit(f.rsv & 4 != 0);
    let rsv1_m = t(
        if f.compressed || (f.rsv & 4 != 0 && f.opcode != 0 && f.opcode < 8) {
            "websocket.rsv1_deflate"
        } else {
            "websocket.rsv1_plain"
        },
        &[],
    );
    push(
        "RSV1",
        1,
        rsv1.clone(),
        t("websocket.rsv1", &[("value", &rsv1), ("meaning", &rsv1_m)]),
    );
    let rsv2 = bit(f.rsv & 2 != 0);
    push(
        "RSV2",
        1,
        rsv2.clone(),
        t("websocket.rsv2", &[("value", &rsv2)]),
    );
    let rsv3 = bit(f.rsv & 1 != 0);
    push(
        "RSV3",
        1,
        rsv3.clone(),
        t("websocket.rsv3", &[("value", &rsv3)]),
    );
    let op = f.opcode.to_string();
    push(
        "Opcode",
        4,
        op.clone(),
        t(
            "websocket.opcode",
            &[("value", &op), ("name", f.opcode_name)],
        ),
    );
    let mask = bit(f.masked);
    let mask_m = t(
        if f.masked {
            "websocket.mask_1"
        } else {
            "websocket.mask_0"
        },
        &[],
    );
    push(
        "MASK",
        1,
        mask.clone(),
        t("websocket.mask", &[("value", &mask), ("meaning", &mask_m)]),
    );
    let code = f.length_code();
    let code_s = code.to_string();
    let len_key = match code {
        126 => "websocket.len16",
        127 => "websocket.len64",
        _ => "websocket.len7",
    };
    push(
        "Payload len",
        7,
        code_s.clone(),
        t(len_key, &[("value", &code_s)]),
    );
    let len = grouped(f.payload_len);
    match code {
        126 => push(
            "Extended payload length",
            16,
            f.payload_len.to_string(),
            t("websocket.ext16", &[("value", &len)]),
        ),
        127 => push(
            "Extended payload length",
            64,
            f.payload_len.to_string(),
            t("websocket.ext64", &[("value", &len)]),
        ),
        _ => {}
    }
    if let Some(key) = &f.masking_key {
        push(
            "Masking key",
            32,
            key.clone(),
            t("websocket.key", &[("value", key)]),
        );
    }
    let footnote = f.masked.then(|| t("websocket.why_mask", &[]));
    let from = if from_client {
        "client → server"
    } else {
        "server → client"
    };
    let (hl, num) = (f.header_len.to_string(), frame.to_string());
    Diagram {
        title: t(
            "diagram.ws_title",
            &[("from", from), ("len", &hl), ("frame", &num)],
        ),
        osi: 7,
        range: (0, f.header_len as usize),
        fields,
        footnote,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(65536), "65,536");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(70000), "70,000");
    }

    #[test]
    fn bits_are_read_big_endian_across_bytes() {
        let data = [0x45, 0x00, 0x01, 0x2c];
        let mut b = Bits::new(&data);
        assert_eq!(b.peek(4), Some(4));
        b.bit = 4;
        assert_eq!(b.peek(4), Some(5));
        b.bit = 16;
        assert_eq!(b.peek(16), Some(300));
        b.bit = 20;
        assert_eq!(b.peek(16), None);
    }

    /// RFC 2883's first example: ACK 4000, SACK 3000–3500 reports a duplicate.
    #[test]
    fn a_dsack_block_below_the_ack_reports_a_duplicate() {
        let tcp = TcpInfo {
            ack_raw: Some(4000),
            ack: Some(4000),
            ..TcpInfo::default()
        };
        let mut raw = Vec::new();
        raw.extend(3000u32.to_be_bytes());
        raw.extend(3500u32.to_be_bytes());
        assert_eq!(sack_blocks(&raw, &tcp), ("3000–3500".to_string(), true));
        let mut raw = Vec::new();
        raw.extend(5000u32.to_be_bytes());
        raw.extend(5500u32.to_be_bytes());
        assert_eq!(sack_blocks(&raw, &tcp), ("5000–5500".to_string(), false));
    }
}

/// The TCP arithmetic said on a segment in the layer tree: the real window, the frame an
/// ACK acknowledges, bytes in flight, the initial RTT, the ISN, the MSS, SACK blocks in
/// relative numbers. `want(key)` says whether a once-per-conversation line is new.
pub fn tcp_notes(tcp: &TcpInfo, ipv6: bool, want: &mut dyn FnMut(&str) -> bool) -> Vec<String> {
    let n = note;
    let mut v = Vec::new();
    let flags = tcp.flags();
    let syn = flags.has(TcpFlags::SYN);
    if let (true, Some(seq)) = (syn, tcp.seq_raw) {
        if want("anatomy:isn") {
            v.push(n("isn", &[("isn", &seq.to_string())]));
        }
        // The SYN-ACK's ack = ISN + 1 is said by its own sentence (layers.tcp.synack).
        if let Some(mss) = tcp.mss {
            let overhead: u64 = if ipv6 { 60 } else { 40 };
            v.push(n(
                if mss as u64 + overhead == 65_535 {
                    "mss_lo"
                } else {
                    "mss"
                },
                &[
                    ("mss", &grouped(mss as u64)),
                    ("mtu", &grouped(mss as u64 + overhead)),
                    ("overhead", &overhead.to_string()),
                ],
            ));
        }
    }
    if let (Some(raw), Some(scaled)) = (tcp.window, tcp.window_scaled) {
        // A SYN's window is never scaled: the layer tree says so with the window itself.
        if !syn && raw > 0 && scaled != raw as u32 && want(&format!("anatomy:win:{scaled}")) {
            let mult = scaled / raw as u32;
            v.push(n(
                "window_scaled",
                &[
                    ("raw", &raw.to_string()),
                    ("mult", &grouped(mult as u64)),
                    ("bytes", &grouped(scaled as u64)),
                    ("shift", &mult.trailing_zeros().to_string()),
                ],
            ));
        }
    }
    if let Some(f) = tcp.acks_frame {
        let ack = tcp.ack.unwrap_or(0).to_string();
        v.push(n("acks_frame", &[("frame", &f.to_string()), ("ack", &ack)]));
    }
    if let Some(b) = tcp.bytes_in_flight {
        v.push(n("in_flight", &[("bytes", &grouped(b as u64))]));
    }
    if let Some(r) = tcp.irtt {
        if want("anatomy:irtt") {
            v.push(n("irtt", &[("ms", &format!("{:.3}", r * 1000.0))]));
        }
    }
    if !tcp.sack.is_empty() {
        let mut raw = Vec::new();
        for (l, r) in &tcp.sack {
            raw.extend(l.to_be_bytes());
            raw.extend(r.to_be_bytes());
        }
        let (blocks, dsack) = sack_blocks(&raw, tcp);
        v.push(n(
            if dsack { "dsack" } else { "sack" },
            &[("blocks", &blocks)],
        ));
    }
    v
}

/// The anatomy of a WebSocket frame, said on the frame in the layer tree: its header bit
/// by bit, RSV1 under permessage-deflate, a control frame's payload as text when it is
/// text, and why clients mask where a masked frame is first seen (`want("anatomy:mask")`).
pub fn ws_notes(f: &WsFrame, want: &mut dyn FnMut(&str) -> bool) -> Vec<String> {
    let n = note;
    let bit = |b: bool| if b { "1" } else { "0" };
    let len = grouped(f.payload_len);
    let length = n(
        match f.length_code() {
            126 => "ws_len16",
            127 => "ws_len64",
            _ => "ws_len7",
        },
        &[("len", &len)],
    );
    let key = f
        .masking_key
        .as_deref()
        .map(|k| n("ws_key", &[("key", k)]))
        .unwrap_or_default();
    let op = f.opcode.to_string();
    let mut v = vec![n(
        "ws_anatomy",
        &[
            ("fin", bit(f.fin)),
            ("rsv1", bit(f.rsv & 4 != 0)),
            ("rsv2", bit(f.rsv & 2 != 0)),
            ("rsv3", bit(f.rsv & 1 != 0)),
            ("opcode", &op),
            ("name", f.opcode_name),
            ("mask", bit(f.masked)),
            ("length", &length),
            ("key", &key),
        ],
    )];
    if f.compressed {
        v.push(n("ws_rsv1", &[]));
    }
    if matches!(f.opcode, 9 | 10) {
        if let Some(text) = f.data_hex.as_deref().and_then(control_text) {
            v.push(n("control_text", &[("text", &text)]));
        }
    }
    if f.masked && want("anatomy:mask") {
        v.push(t("websocket.why_mask", &[]));
    }
    v
}

/// A message that starts in this packet and ends in a later one: its declared length,
/// how much of it is here, how much is to come.
pub fn started(s: &crate::analysis::app::InProgress) -> String {
    t(
        "notes.started",
        &[
            ("total", &grouped(s.total)),
            ("kind", s.kind),
            ("have", &grouped(s.have)),
            ("rest", &grouped(s.total.saturating_sub(s.have))),
        ],
    )
}

/// A ping or pong payload (hex) as text, when it is printable UTF-8.
fn control_text(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect();
    let s = String::from_utf8(bytes?).ok()?;
    (!s.is_empty() && s.chars().all(|c| !c.is_control())).then_some(s)
}
