//! The typed content of each header. Serialized, these are the `fields` objects of the
//! JSON Lines output, so their names are SPEC.md's keys.

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::DnsInfo;

/// A MAC address, shown as `02:00:00:00:00:01`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// `02:00:00:00:00:01`, made from a table (every frame's two addresses).
    fn text(&self) -> [u8; 17] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut t = [b':'; 17];
        for (i, b) in self.0.iter().enumerate() {
            t[3 * i] = HEX[(b >> 4) as usize];
            t[3 * i + 1] = HEX[(b & 15) as usize];
        }
        t
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.text()).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.text();
        s.serialize_str(std::str::from_utf8(&t).map_err(serde::ser::Error::custom)?)
    }
}

/// An IP address onto `out` as `Display` writes it; IPv4 from its four numbers directly
/// (every packet's two addresses, in the summary line and the explanations).
pub fn push_ip(out: &mut String, ip: std::net::IpAddr) {
    use std::fmt::Write as _;
    match ip {
        std::net::IpAddr::V4(a) => {
            let mut num = itoa::Buffer::new();
            for (i, o) in a.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(num.format(o));
            }
        }
        std::net::IpAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

/// An IP address as text (see [`push_ip`]).
pub fn ip_text(ip: impl Into<std::net::IpAddr>) -> String {
    let mut s = String::with_capacity(15);
    push_ip(&mut s, ip.into());
    s
}

/// TCP's flag bits, serialized as the list of names that are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NAMES: [(u16, &'static str); 8] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
    ];

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(b, _)| self.0 & b != 0)
            .map(|(_, n)| n)
    }
}

impl Serialize for TcpFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for n in self.names() {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EthernetInfo {
    pub src: Mac,
    pub dst: Mac,
    pub ethertype: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct SllInfo {
    /// 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
    pub packet_type: u16,
    pub arphrd_type: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Mac>,
    pub protocol: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_index: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NullInfo {
    /// The address family: 2 is IPv4; 24, 28 or 30 is IPv6 (BSD, FreeBSD, macOS).
    pub family: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct NflogInfo {
    pub family: u8,
    pub resource_id: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VlanInfo {
    pub id: u16,
    pub priority: u8,
    pub drop_eligible: bool,
    pub ethertype: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArpInfo {
    /// 1 request, 2 reply.
    pub operation: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_mac: Option<Mac>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_ip: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_mac: Option<Mac>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_ip: Option<Ipv4Addr>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ipv4Info {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub protocol: u8,
    pub checksum: u16,
    pub checksum_ok: bool,
    pub total_len: u16,
    pub header_len: u8,
    pub id: u16,
    pub dont_fragment: bool,
    pub more_fragments: bool,
    pub fragment_offset: u16,
    pub dscp: u8,
    pub ecn: u8,
    #[serde(skip_serializing_if = "is_zero")]
    pub options_len: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ipv6Info {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub next_header: u8,
    pub payload_len: u16,
    pub traffic_class: u8,
    pub flow_label: u32,
    /// The extension headers between this header and the transport, by protocol number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension_headers: Vec<u8>,
    /// The protocol after the extension headers (6 TCP, 17 UDP, 58 ICMPv6…).
    pub protocol: u8,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TcpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    /// Relative sequence number, as Wireshark shows it (set by analysis).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
    /// Relative acknowledgement number (set by analysis).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_raw: Option<u32>,
    /// A header cut before its flags: the sequence and acknowledgement fields that were
    /// captured, shown as bytes of the packet but not read as TCP numbers (tshark reads
    /// no field of a TCP header shorter than 20 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_seq_field: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_ack_field: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_raw: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<TcpFlags>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_len: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_len: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<u16>,
    /// None when the checksum could not be verified (segment cut, or IP fragment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_ok: Option<bool>,
    /// The checksum field holds only the pseudo-header's partial sum: checksum offload
    /// left it for the network card, after the capture point (see `checksum_ok`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub checksum_partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent_pointer: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_scale: Option<u8>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sack_permitted: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sack: Vec<(u32, u32)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamps: Option<(u32, u32)>,
    /// The window in bytes: `window` shifted by the sender's window scale from its SYN
    /// (a SYN's own window is never scaled), as tshark's `tcp.window_size` (set by analysis).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_scaled: Option<u32>,
    /// The frame of the segment this ACK acknowledges (`tcp.analysis.acks_frame`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acks_frame: Option<u64>,
    /// Bytes sent and not yet acknowledged after this segment (`tcp.analysis.bytes_in_flight`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_in_flight: Option<u32>,
    /// The initial round-trip time in seconds, SYN to the handshake's ACK
    /// (`tcp.analysis.initial_rtt`, shown where tshark shows it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irtt: Option<f64>,
}

impl TcpInfo {
    pub fn flags(&self) -> TcpFlags {
        self.flags.unwrap_or_default()
    }
    pub fn has(&self, bit: u16) -> bool {
        self.flags().has(bit)
    }
    pub fn payload_len(&self) -> u32 {
        self.payload_len.unwrap_or(0)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UdpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    pub length: u16,
    pub checksum: u16,
    /// None when not verifiable (cut) or not used (checksum 0 over IPv4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_ok: Option<bool>,
    /// The field holds only the pseudo-header's partial sum (checksum offload).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub checksum_partial: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct IcmpInfo {
    #[serde(rename = "type")]
    pub icmp_type: u8,
    pub code: u8,
    pub checksum: u16,
    /// Echo identifier and sequence, for echo request and reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub echo: Option<(u16, u16)>,
}

/// One header, typed. `protocol()` is the name used in JSON (SPEC.md).
#[derive(Debug, Clone)]
pub enum Header {
    Ethernet(EthernetInfo),
    LinuxSll(SllInfo),
    LinuxSll2(SllInfo),
    Null(NullInfo),
    Nflog(NflogInfo),
    Vlan(VlanInfo),
    Arp(ArpInfo),
    Ipv4(Ipv4Info),
    Ipv6(Ipv6Info),
    Tcp(TcpInfo),
    Udp(UdpInfo),
    Icmp(IcmpInfo),
    Icmpv6(IcmpInfo),
    Dns(DnsInfo),
}

impl Header {
    pub fn protocol(&self) -> &'static str {
        match self {
            Header::Ethernet(_) => "ethernet",
            Header::LinuxSll(_) => "linux-sll",
            Header::LinuxSll2(_) => "linux-sll2",
            Header::Null(_) => "null",
            Header::Nflog(_) => "nflog",
            Header::Vlan(_) => "vlan",
            Header::Arp(_) => "arp",
            Header::Ipv4(_) => "ipv4",
            Header::Ipv6(_) => "ipv6",
            Header::Tcp(_) => "tcp",
            Header::Udp(_) => "udp",
            Header::Icmp(_) => "icmp",
            Header::Icmpv6(_) => "icmpv6",
            Header::Dns(_) => "dns",
        }
    }

    /// The OSI layer this header belongs to.
    pub fn osi(&self) -> u8 {
        match self {
            Header::Ethernet(_)
            | Header::LinuxSll(_)
            | Header::LinuxSll2(_)
            | Header::Null(_)
            | Header::Nflog(_)
            | Header::Vlan(_)
            | Header::Arp(_) => 2,
            Header::Ipv4(_) | Header::Ipv6(_) | Header::Icmp(_) | Header::Icmpv6(_) => 3,
            Header::Tcp(_) | Header::Udp(_) => 4,
            Header::Dns(_) => 7,
        }
    }
}

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Header::Ethernet(x) => x.serialize(s),
            Header::LinuxSll(x) | Header::LinuxSll2(x) => x.serialize(s),
            Header::Null(x) => x.serialize(s),
            Header::Nflog(x) => x.serialize(s),
            Header::Vlan(x) => x.serialize(s),
            Header::Arp(x) => x.serialize(s),
            Header::Ipv4(x) => x.serialize(s),
            Header::Ipv6(x) => x.serialize(s),
            Header::Tcp(x) => x.serialize(s),
            Header::Udp(x) => x.serialize(s),
            Header::Icmp(x) | Header::Icmpv6(x) => x.serialize(s),
            Header::Dns(x) => x.serialize(s),
        }
    }
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}
