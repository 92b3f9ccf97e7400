//! The names the filter language knows: protocol words, and Wireshark's field names where
//! they differ from the keys of the JSON (docs/json.md). Adding a protocol is one line
//! in `PROTOCOLS`; adding a Wireshark alias is one line in `ALIASES`.

/// A filter word → the layer protocol names (as in the JSON) it stands for.
pub const PROTOCOLS: &[(&str, &[&str])] = &[
    ("eth", &["ethernet"]),
    ("ethernet", &["ethernet"]),
    ("sll", &["linux-sll", "linux-sll2"]),
    ("linux-sll", &["linux-sll"]),
    ("linux-sll2", &["linux-sll2"]),
    ("null", &["null"]),
    ("nflog", &["nflog"]),
    ("vlan", &["vlan"]),
    ("arp", &["arp"]),
    // As in Wireshark and tcpdump, `ip` is IPv4; `ip6` is IPv6.
    ("ip", &["ipv4"]),
    ("ipv4", &["ipv4"]),
    ("ip6", &["ipv6"]),
    ("ipv6", &["ipv6"]),
    ("icmp", &["icmp"]),
    ("icmpv6", &["icmpv6"]),
    ("tcp", &["tcp"]),
    ("udp", &["udp"]),
    ("dns", &["dns"]),
    ("http", &["http"]),
    ("tls", &["tls"]),
    ("websocket", &["websocket"]),
    ("ws", &["websocket"]),
    ("engineio", &["engineio"]),
    ("socketio", &["socketio"]),
];

/// The layer protocol names a filter word stands for.
pub fn protocol(word: &str) -> Option<&'static [&'static str]> {
    PROTOCOLS
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(word))
        .map(|(_, p)| *p)
}

/// How a field's values are found in a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// A key path in the fields of every layer of these protocols; with `kind`, only the
    /// layers whose `kind` is that (`http.request.*` are the requests).
    Json {
        protocols: &'static [&'static str],
        kind: Option<&'static str>,
        path: Vec<String>,
    },
    /// Either of two keys (`tcp.port`: the source or the destination port).
    Either {
        protocols: &'static [&'static str],
        keys: [&'static str; 2],
    },
    /// A TCP flag as 1 or 0 (`tcp.flags.syn`), from the JSON's flag names.
    TcpFlag(&'static str),
    /// An analysis tag: present or not (`tcp.analysis.retransmission`).
    Tag(&'static str),
    /// The conversation index (`tcp.stream`, `udp.stream`).
    Stream(&'static str),
    FrameNumber,
    FrameLen,
}

fn json(protocols: &'static [&'static str], kind: Option<&'static str>, key: &str) -> Access {
    Access::Json {
        protocols,
        kind,
        path: key.split('.').map(str::to_string).collect(),
    }
}

const TCP: &[&str] = &["tcp"];
const UDP: &[&str] = &["udp"];
const IP: &[&str] = &["ipv4"];
const IP6: &[&str] = &["ipv6"];
const ETH: &[&str] = &["ethernet"];
const HTTP: &[&str] = &["http"];
const WS: &[&str] = &["websocket"];

/// Wireshark's names that are not simply `protocol.json_key`.
fn alias(name: &str) -> Option<Access> {
    use Access::*;
    Some(match name {
        "frame.number" => FrameNumber,
        "frame.len" => FrameLen,
        "eth.addr" => Either {
            protocols: ETH,
            keys: ["src", "dst"],
        },
        "eth.type" => json(ETH, None, "ethertype"),
        "ip.addr" => Either {
            protocols: IP,
            keys: ["src", "dst"],
        },
        "ip.proto" => json(IP, None, "protocol"),
        "ip.len" => json(IP, None, "total_len"),
        "ipv6.addr" => Either {
            protocols: IP6,
            keys: ["src", "dst"],
        },
        "ipv6.hlim" => json(IP6, None, "hop_limit"),
        "ipv6.nxt" => json(IP6, None, "next_header"),
        "tcp.port" => Either {
            protocols: TCP,
            keys: ["src_port", "dst_port"],
        },
        "tcp.srcport" => json(TCP, None, "src_port"),
        "tcp.dstport" => json(TCP, None, "dst_port"),
        "tcp.len" => json(TCP, None, "payload_len"),
        "tcp.hdr_len" => json(TCP, None, "header_len"),
        "tcp.window_size_value" => json(TCP, None, "window"),
        "tcp.stream" => Stream("tcp"),
        "tcp.flags.fin" => TcpFlag("FIN"),
        "tcp.flags.syn" => TcpFlag("SYN"),
        "tcp.flags.reset" | "tcp.flags.rst" => TcpFlag("RST"),
        "tcp.flags.push" | "tcp.flags.psh" => TcpFlag("PSH"),
        "tcp.flags.ack" => TcpFlag("ACK"),
        "tcp.flags.urg" => TcpFlag("URG"),
        "tcp.flags.ece" => TcpFlag("ECE"),
        "tcp.flags.cwr" => TcpFlag("CWR"),
        "tcp.analysis.lost_segment" => Tag("previous-segment-not-captured"),
        "udp.port" => Either {
            protocols: UDP,
            keys: ["src_port", "dst_port"],
        },
        "udp.srcport" => json(UDP, None, "src_port"),
        "udp.dstport" => json(UDP, None, "dst_port"),
        "udp.stream" => Stream("udp"),
        "http.request" => json(HTTP, Some("request"), "kind"),
        "http.response" => json(HTTP, Some("response"), "kind"),
        "http.request.method" => json(HTTP, Some("request"), "method"),
        "http.request.uri" => json(HTTP, Some("request"), "uri"),
        "http.request.version" => json(HTTP, Some("request"), "version"),
        "http.response.code" => json(HTTP, Some("response"), "status"),
        "http.response.phrase" => json(HTTP, Some("response"), "reason"),
        "http.host" => json(HTTP, None, "headers.host"),
        "http.user_agent" => json(HTTP, None, "headers.user-agent"),
        "http.upgrade" => json(HTTP, None, "headers.upgrade"),
        "websocket.mask" => json(WS, None, "masked"),
        "websocket.masking_key" => json(WS, None, "masking_key"),
        "websocket.payload_length" => json(WS, None, "payload_len"),
        "websocket.rsv" => json(WS, None, "rsv"),
        _ => return None,
    })
}

/// Resolves a field name: a Wireshark alias, `tcp.analysis.TAG`, or `protocol.key.key…`
/// over the JSON's fields. `None` when its protocol is not one the filter knows.
pub fn field(name: &str) -> Option<Access> {
    let name = name.to_ascii_lowercase();
    if let Some(a) = alias(&name) {
        return Some(a);
    }
    let (proto, rest) = name.split_once('.')?;
    if proto == "tcp" {
        if let Some(tag) = rest.strip_prefix("analysis.") {
            let tag = tag.replace('_', "-");
            return crate::analysis::Tag::ALL
                .iter()
                .find(|t| t.name() == tag)
                .map(|t| Access::Tag(t.name()));
        }
    }
    let protocols = protocol(proto)?;
    Some(Access::Json {
        protocols,
        kind: None,
        path: rest.split('.').map(str::to_string).collect(),
    })
}

/// An analysis tag word (`rst`, `retransmission`, `duplicate-ack`…).
pub fn tag(word: &str) -> Option<&'static str> {
    crate::analysis::Tag::ALL
        .iter()
        .map(|t| t.name())
        .find(|n| n.eq_ignore_ascii_case(word))
}
