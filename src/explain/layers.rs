//! Choosing the words for each layer of a packet: a headline (the values an engineer
//! checks), an explanation (what this layer is for and what it says here), and notes on
//! notable fields.

use std::fmt::Write as _;

use super::template::{text, text_into, text_with};
use crate::dissect::{ip_text, Header, Layer, TcpFlags, TcpInfo};

/// The name of an OSI layer (1–7).
pub fn osi_name(n: u8) -> String {
    text(&format!("layers.osi.{n}"), &[])
}

fn ethertype_name(t: u16) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x86dd => "IPv6",
        0x0806 => "ARP",
        0x8100 => "802.1Q VLAN",
        0x88a8 => "802.1ad VLAN",
        _ => "an unknown protocol",
    }
}

/// The name of an IP protocol number.
pub fn ip_protocol_name(p: u8) -> std::borrow::Cow<'static, str> {
    let name = match p {
        1 => "ICMP",
        2 => "IGMP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        47 => "GRE",
        50 => "ESP",
        58 => "ICMPv6",
        132 => "SCTP",
        n => return format!("protocol {n}").into(),
    };
    name.into()
}

/// The short line of values shown beside a layer's name.
pub fn layer_headline(layer: &Layer) -> String {
    match &layer.header {
        Header::Ethernet(_) | Header::Ipv4(_) | Header::Tcp(_) => {
            let mut s = String::new();
            layer_headline_into(&mut s, layer);
            s
        }
        Header::LinuxSll(s) | Header::LinuxSll2(s) => {
            let dir = match s.packet_type {
                0 => "to us",
                1 => "broadcast",
                2 => "multicast",
                3 => "to another host",
                4 => "sent by us",
                _ => "?",
            };
            let iface = s
                .interface_index
                .map(|i| format!("  interface #{i}"))
                .unwrap_or_default();
            format!(
                "{dir}  protocol 0x{:04x} ({}){iface}",
                s.protocol,
                ethertype_name(s.protocol)
            )
        }
        Header::Null(n) => format!("address family {}", n.family),
        Header::Nflog(n) => format!(
            "family {}  group {}{}",
            n.family,
            n.resource_id,
            n.prefix
                .as_ref()
                .map(|p| format!("  prefix \"{}\"", p))
                .unwrap_or_default()
        ),
        Header::Vlan(v) => format!(
            "VLAN {}  priority {}{}",
            v.id,
            v.priority,
            if v.drop_eligible {
                "  drop-eligible"
            } else {
                ""
            }
        ),
        Header::Arp(a) => {
            let op = if a.operation == 1 { "request" } else { "reply" };
            match (a.sender_ip, a.target_ip, a.sender_mac) {
                (Some(s), Some(t), Some(m)) if a.operation == 1 => {
                    format!("{op}: who has {t}? tell {s} ({m})")
                }
                (Some(s), _, Some(m)) => format!("{op}: {s} is at {m}"),
                _ => op.to_string(),
            }
        }
        Header::Ipv6(ip) => format!(
            "{} → {}  hop limit {}  {}",
            ip.src,
            ip.dst,
            ip.hop_limit,
            ip_protocol_name(ip.protocol)
        ),
        Header::Udp(u) => format!("{} → {}  length {}", u.src_port, u.dst_port, u.length),
        Header::Icmp(i) | Header::Icmpv6(i) => format!("type {} code {}", i.icmp_type, i.code),
        Header::Dns(d) => {
            let q = d
                .questions
                .first()
                .map(|q| format!("{} {}", q.qtype, q.name.clone()))
                .unwrap_or_default();
            if d.response {
                let a: Vec<String> = d.answers.iter().take(3).map(|a| a.data.clone()).collect();
                format!(
                    "response #{:04x}: {q} → {}",
                    d.id,
                    if a.is_empty() {
                        "no answer".into()
                    } else {
                        a.join(", ")
                    }
                )
            } else {
                format!("query #{:04x}: {q}", d.id)
            }
        }
    }
}

/// Appends the headline of a layer to `out` (the hot ones, Ethernet, IPv4 and TCP, are
/// written in place: this runs for every packet of a capture).
pub fn layer_headline_into(out: &mut String, layer: &Layer) {
    use std::fmt::Write as _;
    match &layer.header {
        Header::Ethernet(e) => {
            let _ = write!(
                out,
                "{} → {}  type 0x{:04x} ({})",
                e.src,
                e.dst,
                e.ethertype,
                ethertype_name(e.ethertype)
            );
        }
        Header::Ipv4(ip) => {
            let _ = write!(
                out,
                "{} → {}  TTL {}  {}",
                ip.src,
                ip.dst,
                ip.ttl,
                ip_protocol_name(ip.protocol)
            );
            out.push_str(if ip.checksum_ok {
                "  checksum ok"
            } else {
                "  checksum WRONG"
            });
            if ip.more_fragments || ip.fragment_offset > 0 {
                let _ = write!(out, "  fragment at {}", ip.fragment_offset as u32 * 8);
            }
        }
        Header::Tcp(t) => {
            let _ = write!(out, "{} → {}", t.src_port, t.dst_port);
            if t.flags.is_some() {
                out.push_str("  [");
                for (i, n) in t.flags().names().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(n);
                }
                out.push(']');
            }
            match (t.seq, t.seq_raw) {
                (Some(seq), Some(raw)) => {
                    let _ = write!(out, "  seq {seq} (raw {raw})");
                }
                _ => {
                    if let Some(raw) = t.cut_seq_field {
                        let _ = write!(out, "  seq field {raw}");
                    }
                }
            }
            if t.has(TcpFlags::ACK) {
                if let (Some(ack), Some(raw)) = (t.ack, t.ack_raw) {
                    let _ = write!(out, "  ack {ack} (raw {raw})");
                }
            } else if let (None, Some(raw)) = (t.flags, t.cut_ack_field) {
                // The flags were not captured: whether this field counts is unknown.
                let _ = write!(out, "  ack field {raw}");
            }
            if let Some(w) = t.window {
                let _ = write!(out, "  win {w}");
            }
            if let Some(len) = t.payload_len {
                let _ = write!(out, "  len {len}");
            }
        }
        _ => out.push_str(&layer_headline(layer)),
    }
}

/// Appends the plain-language explanation of a layer to `out`.
pub fn layer_explain(out: &mut String, layer: &Layer) {
    match &layer.header {
        Header::Ethernet(e) => {
            let (src, dst, et) = (
                e.src.to_string(),
                e.dst.to_string(),
                format!("0x{:04x}", e.ethertype),
            );
            let zero = e.src.0 == [0; 6] && e.dst.0 == [0; 6];
            let key = if zero {
                "layers.ethernet.loopback"
            } else {
                "layers.ethernet.text"
            };
            text_into(
                out,
                key,
                &[
                    ("src", &src),
                    ("dst", &dst),
                    ("ethertype", &et),
                    ("next", ethertype_name(e.ethertype)),
                ],
            );
        }
        Header::LinuxSll(_) | Header::LinuxSll2(_) => text_into(out, "layers.sll.text", &[]),
        Header::Null(n) => {
            let fam = if n.family == 2 { "IPv4" } else { "IPv6" };
            text_into(
                out,
                "layers.null.text",
                &[("family", &n.family.to_string()), ("next", fam)],
            )
        }
        Header::Nflog(_) => text_into(out, "layers.nflog.text", &[]),
        Header::Vlan(v) => text_into(
            out,
            "layers.vlan.text",
            &[
                ("id", &v.id.to_string()),
                ("priority", &v.priority.to_string()),
            ],
        ),
        Header::Arp(_) => text_into(out, "layers.arp.text", &[]),
        Header::Ipv4(ip) => {
            let (src, dst, ttl) = (ip_text(ip.src), ip_text(ip.dst), ip.ttl.to_string());
            let key = if ip.src.is_loopback() || ip.dst.is_loopback() {
                "layers.ipv4.loopback"
            } else {
                "layers.ipv4.text"
            };
            text_into(
                out,
                key,
                &[
                    ("src", &src),
                    ("dst", &dst),
                    ("ttl", &ttl),
                    ("proto", &ip_protocol_name(ip.protocol)),
                ],
            );
        }
        Header::Ipv6(ip) => {
            let (src, dst, hl) = (
                ip.src.to_string(),
                ip.dst.to_string(),
                ip.hop_limit.to_string(),
            );
            let key = if ip.src.is_loopback() || ip.dst.is_loopback() {
                "layers.ipv6.loopback"
            } else {
                "layers.ipv6.text"
            };
            text_into(
                out,
                key,
                &[
                    ("src", &src),
                    ("dst", &dst),
                    ("hop_limit", &hl),
                    ("proto", &ip_protocol_name(ip.protocol)),
                ],
            );
        }
        Header::Tcp(t) => tcp_explain(out, t),
        Header::Udp(u) => {
            let (sp, dp, len) = (
                u.src_port.to_string(),
                u.dst_port.to_string(),
                u.length.saturating_sub(8).to_string(),
            );
            text_into(
                out,
                "layers.udp.text",
                &[("src_port", &sp), ("dst_port", &dp), ("len", &len)],
            );
        }
        Header::Icmp(i) | Header::Icmpv6(i) => {
            let v6 = matches!(layer.header, Header::Icmpv6(_));
            let kind = icmp_kind(i.icmp_type, v6);
            text_into(out, "layers.icmp.text", &[("kind", &kind)]);
        }
        Header::Dns(d) => {
            let key = if d.response {
                "layers.dns.response"
            } else {
                "layers.dns.query"
            };
            let name = d
                .questions
                .first()
                .map(|q| q.name.clone())
                .unwrap_or_default();
            let qtype = d
                .questions
                .first()
                .map(|q| q.qtype.clone())
                .unwrap_or_default();
            let answers = d.answers.len().to_string();
            text_into(
                out,
                key,
                &[("name", &name), ("qtype", &qtype), ("answers", &answers)],
            );
            if d.heuristic {
                text_into(out, "layers.dns.heuristic", &[]);
            }
        }
    }
}

fn icmp_kind(t: u8, v6: bool) -> String {
    let k = match (v6, t) {
        (false, 0) | (true, 129) => "an echo reply (the answer to ping)",
        (false, 8) | (true, 128) => "an echo request (ping)",
        (false, 3) | (true, 1) => "a 'destination unreachable' report",
        (false, 11) | (true, 3) => "a 'time exceeded' report (a TTL ran out: traceroute uses this)",
        (true, 135) => "a neighbour solicitation (IPv6's ARP: who has this address?)",
        (true, 136) => "a neighbour advertisement (IPv6's ARP reply)",
        (true, 133) | (true, 134) => "router discovery",
        _ => "a control message",
    };
    k.to_string()
}

/// Which kind of TCP segment this is, for the wording: syn, synack, fin, rst, data, ack.
pub fn tcp_kind(t: &TcpInfo) -> &'static str {
    let f = t.flags();
    if t.flags.is_none() {
        // The flags byte was not captured: what kind of segment this is is unknown.
        "partial"
    } else if f.has(TcpFlags::SYN) && (f.has(TcpFlags::FIN) || f.has(TcpFlags::RST)) {
        // No stack opens and closes (or resets) in one segment: a crafted packet.
        "crafted"
    } else if f.has(TcpFlags::RST) {
        "rst"
    } else if f.has(TcpFlags::SYN) && f.has(TcpFlags::ACK) {
        "synack"
    } else if f.has(TcpFlags::SYN) {
        "syn"
    } else if f.has(TcpFlags::FIN) {
        "fin"
    } else if t.payload_len() > 0 {
        "data"
    } else if f.has(TcpFlags::ACK) {
        "ack"
    } else {
        "noflags"
    }
}

/// The kind of segment, told by what the connection's state adds: a FIN that answers
/// the peer's FIN (its sender is now in LAST-ACK) closes the second half, it does not
/// start the closing.
pub fn tcp_kind_in(t: &TcpInfo, sender: Option<crate::analysis::TcpState>) -> &'static str {
    match (tcp_kind(t), sender) {
        ("fin", Some(crate::analysis::TcpState::LastAck)) => "fin_reply",
        (k, _) => k,
    }
}

fn tcp_explain(out: &mut String, t: &TcpInfo) {
    tcp_words(out, t, true, Some(tcp_kind(t)));
}

fn tcp_words(out: &mut String, t: &TcpInfo, intro: bool, step: Option<&str>) {
    let key = match step.unwrap_or("") {
        "fin_reply" => "layers.tcp.fin_reply",
        "partial" => "layers.tcp.partial",
        "crafted" => "layers.tcp.crafted",
        "noflags" => "layers.tcp.noflags",
        "rst" => "layers.tcp.rst",
        "synack" => "layers.tcp.synack",
        "syn" => "layers.tcp.syn",
        "fin" => "layers.tcp.fin",
        "data" => "layers.tcp.data",
        _ => "layers.tcp.ack",
    };
    let seq = t.seq.unwrap_or(0);
    let len = t.payload_len();
    let fill = |hole: &str, o: &mut String| {
        match hole {
            "src_port" => write!(o, "{}", t.src_port),
            "dst_port" => write!(o, "{}", t.dst_port),
            "seq" | "first" => write!(o, "{seq}"),
            "seq_raw" => write!(o, "{}", t.seq_raw.unwrap_or(0)),
            "ack" => write!(o, "{}", t.ack.unwrap_or(0)),
            "ack_raw" => write!(o, "{}", t.ack_raw.unwrap_or(0)),
            "peer_isn" => write!(o, "{}", t.ack_raw.unwrap_or(0).wrapping_sub(1)),
            "len" => write!(o, "{len}"),
            "last" => write!(o, "{}", (seq as u64 + len as u64).saturating_sub(1)),
            "next" => write!(o, "{}", seq.wrapping_add(len)),
            "window" => write!(o, "{}", t.window.unwrap_or(0)),
            "captured" => write!(
                o,
                "{}",
                match (t.cut_seq_field, t.cut_ack_field) {
                    (Some(_), Some(_)) =>
                        "the ports, the sequence number and the acknowledgement field",
                    (Some(_), None) => "the ports and the sequence number",
                    _ => "the ports",
                }
            ),
            _ => return false,
        }
        .is_ok()
    };
    if intro {
        text_with(out, "layers.tcp.intro", &fill);
    }
    if intro && step.is_some() {
        out.push(' ');
    }
    if step.is_some() {
        text_with(out, key, &fill);
    }
}

/// What TCP is for, with this segment's ports.
pub fn tcp_intro(out: &mut String, t: &TcpInfo) {
    tcp_words(out, t, true, None);
}

/// What this kind of segment (SYN, data, FIN…, as `tcp_kind_in` tells) does, with its
/// numbers.
pub fn tcp_step(out: &mut String, t: &TcpInfo, kind: &str) {
    tcp_words(out, t, false, Some(kind));
}

/// The TTL (IPv4) or hop limit (IPv6) note: each router lowers it by one and the router
/// that brings it to 0 drops the packet, so a value of N lets N − 1 more routers forward
/// it; on loopback no router ever sees the packet.
fn hop_note(field: &str, value: u8, loopback: bool) -> String {
    let guess = match value {
        0..=64 => "64 (Linux, macOS, Android)",
        65..=128 => "128 (Windows)",
        _ => "255 (network equipment)",
    };
    let key = match (field, loopback) {
        ("ttl", false) => "layers.field.ttl",
        ("ttl", true) => "layers.field.ttl_loopback",
        (_, false) => "layers.field.hop_limit",
        (_, true) => "layers.field.hop_limit_loopback",
    };
    let (v, more) = (value.to_string(), value.saturating_sub(1).to_string());
    text(
        key,
        &[
            ("ttl", &v),
            ("hop_limit", &v),
            ("more", &more),
            ("start", guess),
        ],
    )
}

/// Notes on the notable fields of a layer, one sentence each (the tree shows them).
pub fn layer_details(layer: &Layer) -> Vec<String> {
    layer_details_wanted(layer, &mut |_| true)
}

/// The notes on notable fields for which `want(key)` says yes; a note's key names the
/// field and, where it matters, its value (`ttl:64`), so a caller can give each note
/// once and again only when the value changes. Unwanted notes cost nothing.
pub fn layer_details_wanted(layer: &Layer, want: &mut dyn FnMut(&str) -> bool) -> Vec<String> {
    let mut v = Vec::new();
    match &layer.header {
        Header::Ipv4(ip) => {
            let lo = ip.src.is_loopback() || ip.dst.is_loopback();
            if want(&format!("ttl:{}", ip.ttl)) {
                v.push(hop_note("ttl", ip.ttl, lo));
            }
            if ip.dont_fragment && want("df") {
                v.push(text("layers.field.df", &[]));
            }
            if (ip.more_fragments || ip.fragment_offset > 0) && want("fragment") {
                v.push(text(
                    "layers.field.fragment",
                    &[("offset", &(ip.fragment_offset as u32 * 8).to_string())],
                ));
            }
            if ip.options_len > 0 && want("ip_options") {
                v.push(text(
                    "layers.field.ip_options",
                    &[("len", &ip.options_len.to_string())],
                ));
            }
            let ck = if ip.checksum_ok {
                "layers.field.ip_checksum_ok"
            } else {
                "layers.field.ip_checksum_bad"
            };
            if want(ck) {
                v.push(text(ck, &[("checksum", &format!("0x{:04x}", ip.checksum))]));
            }
        }
        Header::Ipv6(ip) => {
            let lo = ip.src.is_loopback() || ip.dst.is_loopback();
            if want(&format!("hop_limit:{}", ip.hop_limit)) {
                v.push(hop_note("hop_limit", ip.hop_limit, lo));
            }
            if want("ipv6_no_checksum") {
                v.push(text("layers.field.ipv6_no_checksum", &[]));
            }
            if !ip.extension_headers.is_empty() && want("ipv6_ext") {
                let names: Vec<String> = ip
                    .extension_headers
                    .iter()
                    .map(|n| ip_protocol_name(*n).into_owned())
                    .collect();
                v.push(text(
                    "layers.field.ipv6_ext",
                    &[("list", &names.join(", "))],
                ));
            }
        }
        Header::Tcp(t) => {
            // On a SYN, ECE and CWR negotiate ECN (RFC 3168): they signal no congestion.
            let syn = t.has(TcpFlags::SYN);
            for name in t.flags().names() {
                let key = match (name, syn) {
                    ("ECE" | "CWR", true) => format!("layers.flag.{name}_syn"),
                    _ => format!("layers.flag.{name}"),
                };
                if want(&key) {
                    v.push(text(&key, &[]));
                }
            }
            // A RST's window means nothing: the connection is gone. A SYN's is never scaled.
            if let Some(w) = t.window.filter(|_| !t.has(TcpFlags::RST)) {
                let key = if syn {
                    "layers.field.window_syn"
                } else {
                    "layers.field.window"
                };
                if want(key) {
                    v.push(text(key, &[("window", &w.to_string())]));
                }
            }
            if let Some(mss) = t.mss {
                if want("mss") {
                    v.push(text("layers.field.mss", &[("mss", &mss.to_string())]));
                }
            }
            if let Some(ws) = t.window_scale {
                if want("wscale") {
                    let factor = 1u64 << ws.min(14);
                    v.push(text(
                        "layers.field.wscale",
                        &[("shift", &ws.to_string()), ("factor", &factor.to_string())],
                    ));
                }
            }
            if t.sack_permitted && want("sack_perm") {
                v.push(text("layers.field.sack_perm", &[]));
            }
            // SACK blocks are said by the TCP arithmetic (explain/anatomy.rs), in relative
            // numbers and D-SACK aware.
            if let Some((val, ecr)) = t.timestamps {
                if want("timestamps") {
                    v.push(text(
                        "layers.field.timestamps",
                        &[("val", &val.to_string()), ("ecr", &ecr.to_string())],
                    ));
                }
            }
            match t.checksum_ok {
                Some(true) if want("tcp_checksum_ok") => {
                    v.push(text("layers.field.tcp_checksum_ok", &[]))
                }
                Some(false) if t.checksum_partial => {
                    if want("checksum_partial") {
                        v.push(text("layers.field.checksum_partial", &[]))
                    }
                }
                Some(false) if want("tcp_checksum_bad") => {
                    v.push(text("layers.field.tcp_checksum_bad", &[]))
                }
                _ => {}
            }
        }
        Header::Udp(u) => {
            if u.checksum == 0 {
                if want("udp_no_checksum") {
                    v.push(text("layers.field.udp_no_checksum", &[]));
                }
            } else if u.checksum_partial {
                if want("checksum_partial") {
                    v.push(text("layers.field.checksum_partial", &[]));
                }
            } else if u.checksum_ok == Some(false) && want("udp_checksum_bad") {
                v.push(text("layers.field.udp_checksum_bad", &[]));
            }
        }
        _ => {}
    }
    v
}

/// Whether a packet stayed inside one machine: the loopback interface (zero MACs, BSD
/// loopback framing) or loopback addresses (127.0.0.0/8, ::1).
pub fn is_loopback(frame: &crate::frame::Frame, d: &crate::dissect::Dissection) -> bool {
    use crate::frame::Link;
    if matches!(frame.link, Link::Null | Link::Loop) {
        return true;
    }
    let zero_macs = d.layers.iter().any(
        |l| matches!(&l.header, Header::Ethernet(e) if e.src.0 == [0; 6] && e.dst.0 == [0; 6]),
    );
    zero_macs
        || d.ip_addrs()
            .is_some_and(|(s, t)| s.is_loopback() || t.is_loopback())
}

/// What a capture can say of layer 1 for this packet: (the headline, the template key).
/// Only an Ethernet capture of a real interface saw a wire; loopback, cooked, NFLOG and
/// raw captures did not, and a record length no link can explain is called implausible.
pub fn physical(
    frame: &crate::frame::Frame,
    d: &crate::dissect::Dissection,
) -> (String, &'static str) {
    use crate::frame::Link;
    let (wire, cap) = (frame.wire_len, frame.data.len());
    if !crate::dissect::wire_len_plausible(frame, d) {
        return (
            format!("{wire} bytes claimed (implausible), {cap} captured"),
            "layers.physical.implausible",
        );
    }
    let key = if frame.is_cut() {
        "layers.physical.cut"
    } else if is_loopback(frame, d) {
        "layers.physical.loopback"
    } else {
        match frame.link {
            Link::Ethernet => "layers.physical.ethernet",
            Link::LinuxSll | Link::LinuxSll2 => "layers.physical.cooked",
            Link::Nflog => "layers.physical.nflog",
            Link::Null | Link::Loop => "layers.physical.loopback",
            Link::Raw | Link::Other(_) => "layers.physical.raw",
        }
    };
    let wired = frame.link == Link::Ethernet && !is_loopback(frame, d);
    let head = if wired {
        format!("{wire} bytes on the wire, {cap} captured")
    } else {
        format!("{wire} bytes, {cap} captured")
    };
    (head, key)
}

/// The sentence for layer 1 (see `physical`).
pub fn physical_explain(frame: &crate::frame::Frame, key: &str) -> String {
    let (w, c, b) = (
        frame.wire_len.to_string(),
        frame.data.len().to_string(),
        (frame.wire_len as u64 * 8).to_string(),
    );
    text(key, &[("wire", &w), ("captured", &c), ("bits", &b)])
}

/// What a side's state does not say by itself: that it is assumed (the side has sent
/// nothing yet), or that a FIN is on its way to it (its state moves once it has it).
pub fn state_qualifier(
    state: crate::analysis::TcpState,
    unheard: bool,
    fin_incoming: bool,
) -> String {
    use crate::analysis::TcpState;
    if unheard && state == TcpState::Listen {
        text("layers.state.assumed_listen", &[])
    } else if fin_incoming {
        text("layers.state.fin_incoming", &[])
    } else {
        String::new()
    }
}
