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
}

impl Dissection {
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
    if frame.is_cut() {
        let last = d
            .layers
            .last()
            .map(|l| l.header.protocol())
            .unwrap_or("link");
        d.notes.push(
            Note::info("cut.snaplen")
                .arg("captured", frame.data.len())
                .arg("wire", frame.wire_len)
                .arg("layer", last),
        );
    }
    d
}

#[cfg(test)]
mod tests;
