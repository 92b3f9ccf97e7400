//! One frame → its layers, L2 to L4 (and DNS over UDP), laxly: every layer that parsed
//! is kept, and a note says where and why dissection stopped. Never panics.
//!
//! Each protocol has its own file; the types every layer shares live here.

mod dns;
mod fields;
mod link;
mod network;
mod transport;

pub use dns::DnsInfo;
pub use fields::*;

use crate::frame::{Frame, Link};

/// How much a note matters. Warnings are repeated in the JSON summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
}

/// Something worth telling about a packet. The wording lives in the explain data files:
/// `key` names the template and `args` fill its `{placeholders}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub level: Level,
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Note {
    pub fn info(key: &'static str) -> Note {
        Note {
            level: Level::Info,
            key,
            args: Vec::new(),
        }
    }
    pub fn warning(key: &'static str) -> Note {
        Note {
            level: Level::Warning,
            key,
            args: Vec::new(),
        }
    }
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Note {
        self.args.push((name, value.to_string()));
        self
    }
}

/// One parsed header: its OSI layer, where its bytes are, and what it says.
#[derive(Debug, Clone)]
pub struct Layer {
    /// `[start, end)` byte span of this layer's header in the frame.
    pub range: (usize, usize),
    pub header: Header,
}

impl Layer {
    pub fn osi(&self) -> u8 {
        self.header.osi()
    }
}

/// Everything that was read from one frame.
#[derive(Debug, Clone, Default)]
pub struct Dissection {
    pub layers: Vec<Layer>,
    /// Notes about the packet as a whole: cuts, bad checksums, malformed fields.
    pub notes: Vec<Note>,
    /// Where the transport payload lies in the frame (`[start, end)`), if any was reached.
    pub payload: Option<(usize, usize)>,
    /// True when the transport payload in the frame is shorter than the headers say
    /// (the capture's snap length cut it).
    pub payload_cut: bool,
    /// The header the captured bytes ended in, if they ended inside one:
    /// (its name, the bytes of it that were captured, the bytes it needs).
    pub cut_in: Option<(&'static str, usize, usize)>,
    /// Where the IP packet ends in the frame by its own length field, when it says.
    pub ip_end: Option<usize>,
}

impl Dissection {
    /// The captured bytes ran out inside the `layer` header: `have` of its `need` bytes.
    pub(crate) fn cut_header(&mut self, layer: &'static str, need: usize, have: usize) {
        self.notes.push(
            Note::warning("cut.header")
                .arg("layer", layer)
                .arg("need", need)
                .arg("have", have),
        );
        self.cut_in = Some((layer, have, need));
    }

    pub fn tcp(&self) -> Option<&TcpInfo> {
        self.layers.iter().find_map(|l| match &l.header {
            Header::Tcp(t) => Some(t),
            _ => None,
        })
    }
    pub fn tcp_mut(&mut self) -> Option<&mut TcpInfo> {
        self.layers.iter_mut().find_map(|l| match &mut l.header {
            Header::Tcp(t) => Some(t),
            _ => None,
        })
    }
    pub fn udp(&self) -> Option<&UdpInfo> {
        self.layers.iter().find_map(|l| match &l.header {
            Header::Udp(u) => Some(u),
            _ => None,
        })
    }
    /// The network layer's source and destination addresses, if an IP layer was read.
    pub fn ip_addrs(&self) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
        self.layers.iter().find_map(|l| match &l.header {
            Header::Ipv4(ip) => Some((ip.src.into(), ip.dst.into())),
            Header::Ipv6(ip) => Some((ip.src.into(), ip.dst.into())),
            _ => None,
        })
    }
    /// The transport payload's bytes in `frame`.
    pub fn payload_bytes<'a>(&self, frame: &'a Frame) -> &'a [u8] {
        match self.payload {
            Some((s, e)) if s <= e && e <= frame.data.len() => &frame.data[s..e],
            _ => &[],
        }
    }
    pub fn has(&self, proto: &str) -> bool {
        self.layers.iter().any(|l| l.header.protocol() == proto)
    }
}

/// What the next header is, as the previous one announced it.
#[derive(Debug, Clone, Copy)]
enum Next {
    EtherType(u16),
    Ip,
    Done,
}

/// Dissects one frame. Never fails: what could not be read is said in `notes`.
pub fn dissect(frame: &Frame) -> Dissection {
    let mut d = Dissection::default();
    let data = &frame.data[..];
    let mut off = 0usize;
    let mut end = data.len();
    let mut next = match frame.link {
        Link::Ethernet => link::ethernet(&mut d, data, &mut off),
        Link::LinuxSll => link::linux_sll(&mut d, data, &mut off),
        Link::LinuxSll2 => link::linux_sll2(&mut d, data, &mut off),
        Link::Null => link::null(&mut d, data, &mut off, false),
        Link::Loop => link::null(&mut d, data, &mut off, true),
        Link::Nflog => link::nflog(&mut d, data, &mut off, &mut end),
        Link::Raw => Next::Ip,
        Link::Other(n) => {
            d.notes
                .push(Note::info("cut.unknown_link").arg("linktype", n));
            Next::Done
        }
    };
    // Bound the loop: each step consumes a header, and VLAN stacks are short.
    for _ in 0..8 {
        next = match next {
            Next::EtherType(t) => match t {
                0x8100 | 0x88a8 | 0x9100 => link::vlan(&mut d, data, &mut off),
                0x0800 | 0x86dd => Next::Ip,
                0x0806 => {
                    network::arp(&mut d, &data[..end], off);
                    Next::Done
                }
                other => {
                    d.notes.push(
                        Note::info("cut.unknown_ethertype")
                            .arg("ethertype", format!("0x{other:04x}")),
                    );
                    Next::Done
                }
            },
            Next::Ip => {
                network::ip(&mut d, &data[..end], off);
                Next::Done
            }
            Next::Done => break,
        };
    }
    if let Some(n) = cut_note(frame, &d) {
        d.notes.push(n);
    }
    d
}

/// How much a link adds around the IP packet at most (its header, a VLAN tag or two,
/// padding to the 60-byte minimum frame, a trailer): more than this beyond the length the
/// IP header declares, and the record's "length on the wire" cannot be true.
const LINK_SLACK: usize = 128;

/// Whether the record's length on the wire can be believed: not when it exceeds, by more
/// than any link adds, the length that the packet's own IP header declares.
pub fn wire_len_plausible(frame: &Frame, d: &Dissection) -> bool {
    match d.ip_end {
        Some(end) => (frame.wire_len as usize) <= end + LINK_SLACK,
        None => true,
    }
}

/// Where the capture cut the packet, found from the lengths its headers declare: inside a
/// header, inside the payload, or only in the padding after the IP packet.
fn cut_note(frame: &Frame, d: &Dissection) -> Option<Note> {
    if !frame.is_cut() {
        return None;
    }
    let (captured, wire) = (frame.data.len(), frame.wire_len);
    let base = |key| Note::info(key).arg("captured", captured).arg("wire", wire);
    if !wire_len_plausible(frame, d) {
        let ip_len = d.ip_end.unwrap_or(0)
            - d.layers
                .iter()
                .find(|l| l.osi() == 3)
                .map(|l| l.range.0)
                .unwrap_or(0);
        return Some(
            Note::warning("cut.implausible")
                .arg("captured", captured)
                .arg("wire", wire)
                .arg("ip_len", ip_len),
        );
    }
    if let Some((layer, have, _need)) = d.cut_in {
        return Some(base("cut.in_header").arg("layer", layer).arg("have", have));
    }
    if let Some(end) = d.ip_end {
        if captured >= end {
            let ip_start = d
                .layers
                .iter()
                .find(|l| l.osi() == 3)
                .map(|l| l.range.0)
                .unwrap_or(0);
            return Some(
                base("cut.padding")
                    .arg("missing", wire as usize - captured)
                    .arg("ip_len", end - ip_start),
            );
        }
    }
    match (d.payload, d.layers.last()) {
        (Some((s, e)), Some(last)) if d.payload_cut => {
            let announced = d
                .ip_end
                .map(|end| end.saturating_sub(s))
                .unwrap_or(wire as usize - s);
            Some(
                base("cut.in_payload")
                    .arg("layer", layer_title(last))
                    .arg("kept", e.saturating_sub(s))
                    .arg("payload", announced),
            )
        }
        (_, Some(last)) => Some(base("cut.after").arg("layer", layer_title(last))),
        (_, None) => Some(base("cut.after").arg("layer", frame.link.name())),
    }
}

/// A header's name as a learner reads it in a sentence.
pub fn layer_title(l: &Layer) -> &'static str {
    match l.header.protocol() {
        "ethernet" => "Ethernet",
        "linux-sll" => "Linux cooked (SLL)",
        "linux-sll2" => "Linux cooked (SLL2)",
        "null" => "BSD loopback",
        "nflog" => "NFLOG",
        "vlan" => "802.1Q VLAN",
        "arp" => "ARP",
        "ipv4" => "IPv4",
        "ipv6" => "IPv6",
        "tcp" => "TCP",
        "udp" => "UDP",
        "icmp" => "ICMP",
        "icmpv6" => "ICMPv6",
        "dns" => "DNS",
        other => other,
    }
}

#[cfg(test)]
mod tests;
