//! One filter language for `-f`/`-Y` (and every view that selects packets): protocol
//! names at every layer (`tcp`, `http`, `websocket`, `socketio`…), tcpdump's primitives
//! (`host`, `src host`, `net`, `port`, `dst port`, `portrange`), Wireshark-style field
//! comparisons over the fields the JSON carries (`tcp.flags.syn == 1`,
//! `socketio.event == "chat message"`, `websocket.text contains "hi"`), analysis tags
//! (`rst`, `retransmission`), joined with `and`/`&&`, `or`/`||`, `not`/`!` and
//! parentheses; two primitives side by side mean `and`, as in tcpdump (`tcp port 80`).
//!
//! `parse.rs` is the grammar (winnow), `names.rs` the protocol and field names.

mod names;
mod parse;

use std::cmp::Ordering;
use std::net::IpAddr;

use serde_json::Value;

pub use names::{Access, PROTOCOLS};

use crate::analysis::app::AppMessage;
use crate::pipeline::Packet;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// A protocol at any layer; the names are the JSON's (`ipv4`, `websocket`).
    Proto(&'static [&'static str]),
    Host(Dir, IpAddr),
    /// An address block: the network address and the prefix length.
    Net(Dir, IpAddr, u8),
    /// A TCP or UDP port in `[low, high]` (`port 80` is `[80, 80]`).
    Port(Dir, u16, u16),
    Stream(u32),
    Tag(&'static str),
    /// A field: present (no comparison) or compared with a value.
    Field {
        name: String,
        access: Access,
        test: Option<(Op, Literal)>,
    },
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

/// tcpdump's `src`/`dst` qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Any,
    Src,
    Dst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

/// A value in a comparison: a quoted string, or a bare word (a number, an address, a
/// name) that is compared as a number when both sides are numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Word(String),
}

impl Literal {
    fn text(&self) -> &str {
        match self {
            Literal::Text(t) | Literal::Word(t) => t,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Literal::Text(_) => None,
            Literal::Word(w) => match w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok().map(|n| n as f64),
                None => w.parse().ok(),
            },
        }
    }

    fn boolean(&self) -> Option<bool> {
        match self.text().to_ascii_lowercase().as_str() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        }
    }
}

impl Filter {
    /// Parses a filter; the error names the column of the token it could not take.
    pub fn parse(text: &str) -> Result<Filter, String> {
        parse::parse(text)
    }

    pub fn matches(&self, p: &Packet) -> bool {
        let d = &p.dissection;
        match self {
            Filter::Proto(names) => layers(p).any(|(proto, _)| names.contains(&proto)),
            Filter::Host(dir, ip) => d
                .ip_addrs()
                .is_some_and(|(s, t)| dir_matches(*dir, s == *ip, t == *ip)),
            Filter::Net(dir, net, len) => d.ip_addrs().is_some_and(|(s, t)| {
                dir_matches(*dir, in_net(s, *net, *len), in_net(t, *net, *len))
            }),
            Filter::Port(dir, lo, hi) => {
                let ports = d
                    .tcp()
                    .map(|t| (t.src_port, t.dst_port))
                    .or_else(|| d.udp().map(|u| (u.src_port, u.dst_port)));
                ports.is_some_and(|(s, t)| {
                    let inside = |p: u16| (*lo..=*hi).contains(&p);
                    dir_matches(*dir, inside(s), inside(t))
                })
            }
            Filter::Stream(n) => p.analysis.stream == Some(*n),
            Filter::Tag(t) => p.analysis.tags.iter().any(|x| x.name() == *t),
            Filter::Field { access, test, .. } => {
                let values = values(p, access);
                match test {
                    None => !values.is_empty(),
                    // Wireshark: `a != b` is `!(a == b)`, for a field that is there.
                    Some((Op::Ne, lit)) => {
                        !values.is_empty() && !values.iter().any(|v| compare(v, Op::Eq, lit))
                    }
                    Some((op, lit)) => values.iter().any(|v| compare(v, *op, lit)),
                }
            }
            Filter::Not(f) => !f.matches(p),
            Filter::And(a, b) => a.matches(p) && b.matches(p),
            Filter::Or(a, b) => a.matches(p) || b.matches(p),
        }
    }
}

fn dir_matches(dir: Dir, src: bool, dst: bool) -> bool {
    match dir {
        Dir::Any => src || dst,
        Dir::Src => src,
        Dir::Dst => dst,
    }
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let bits = |ip: IpAddr| -> (u128, u8) {
        match ip {
            IpAddr::V4(a) => (u32::from(a) as u128, 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    };
    let ((a, wa), (n, wn)) = (bits(ip), bits(net));
    if wa != wn {
        return false;
    }
    let shift = u32::from(wa - len.min(wa));
    a.checked_shr(shift).unwrap_or(0) == n.checked_shr(shift).unwrap_or(0)
}

/// A layer of a packet, as the JSON shows it.
enum Layer<'a> {
    Header(&'a crate::dissect::Header),
    App(&'a AppMessage),
}

impl Layer<'_> {
    fn fields(&self) -> Value {
        match self {
            Layer::Header(h) => serde_json::to_value(h),
            Layer::App(m) => serde_json::to_value(m),
        }
        .unwrap_or(Value::Null)
    }
}

/// Every layer of a packet, from the link layer up to the application messages, with
/// its protocol name (the same list as the JSON's `layers`).
fn layers(p: &Packet) -> impl Iterator<Item = (&'static str, Layer<'_>)> {
    let headers = p
        .dissection
        .layers
        .iter()
        .map(|l| (l.header.protocol(), Layer::Header(&l.header)));
    let app = p
        .analysis
        .app
        .iter()
        .filter(|a| !matches!(a.message, AppMessage::Stopped(_)))
        .map(|a| (a.message.protocol(), Layer::App(&a.message)));
    headers.chain(app)
}

/// Every value of a field in a packet (several when several layers carry it).
fn values(p: &Packet, access: &Access) -> Vec<Value> {
    let mut out = Vec::new();
    let mut push = |v: &Value| match v {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().cloned()),
        v => out.push(v.clone()),
    };
    match access {
        Access::Json {
            protocols,
            kind,
            path,
        } => {
            for (proto, layer) in layers(p) {
                if !protocols.contains(&proto) {
                    continue;
                }
                let fields = layer.fields();
                if kind.is_some_and(|k| fields.get("kind").and_then(Value::as_str) != Some(k)) {
                    continue;
                }
                let mut v = &fields;
                for key in path {
                    v = v.get(key.as_str()).unwrap_or(&Value::Null);
                }
                push(v);
            }
        }
        Access::Either { protocols, keys } => {
            for (proto, layer) in layers(p) {
                if protocols.contains(&proto) {
                    let fields = layer.fields();
                    for k in keys {
                        push(fields.get(*k).unwrap_or(&Value::Null));
                    }
                }
            }
        }
        Access::TcpFlag(name) => {
            if let Some(t) = p
                .dissection
                .layers
                .iter()
                .find(|l| l.header.protocol() == "tcp")
            {
                let flags = Layer::Header(&t.header).fields();
                let set = flags
                    .get("flags")
                    .and_then(Value::as_array)
                    .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(name)));
                push(&Value::from(u8::from(set)));
            }
        }
        Access::Tag(tag) => {
            if p.analysis.tags.iter().any(|t| t.name() == *tag) {
                push(&Value::Bool(true));
            }
        }
        Access::Stream(transport) => {
            if let (Some(s), true) = (p.analysis.stream, p.dissection.has(transport)) {
                push(&Value::from(s));
            }
        }
        Access::FrameNumber => push(&Value::from(p.frame.number)),
        Access::FrameLen => push(&Value::from(p.frame.wire_len)),
    }
    out
}

/// One value against a literal.
fn compare(v: &Value, op: Op, lit: &Literal) -> bool {
    if op == Op::Contains {
        return match v {
            Value::String(s) => s.contains(lit.text()),
            _ => false,
        };
    }
    let ord: Option<Ordering> = match v {
        Value::Number(n) => n
            .as_f64()
            .zip(lit.number())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        Value::Bool(b) => lit.boolean().map(|l| b.cmp(&l)),
        Value::String(s) => {
            let t = lit.text();
            match (s.parse::<IpAddr>(), t.parse::<IpAddr>()) {
                (Ok(a), Ok(b)) => Some(a.cmp(&b)),
                _ => match (s.parse::<f64>(), lit.number()) {
                    (Ok(a), Some(b)) => a.partial_cmp(&b),
                    _ if s.eq_ignore_ascii_case(t) && looks_like_mac(t) => Some(Ordering::Equal),
                    _ => Some(s.as_str().cmp(t)),
                },
            }
        }
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Contains => false,
    }
}

fn looks_like_mac(t: &str) -> bool {
    t.len() == 17
        && t.split(':')
            .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests;
