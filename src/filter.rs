//! A simple display filter: protocol names, ports, hosts, streams and analysis tags,
//! joined with `and`, `or`, `not` and parentheses — e.g. `tcp port 8080 and not rst`.

use std::net::IpAddr;

use crate::pipeline::Packet;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Proto(String),
    Port(u16),
    Host(IpAddr),
    Stream(u32),
    Tag(String),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

const PROTOCOLS: &[&str] = &[
    "ethernet",
    "eth",
    "linux-sll",
    "linux-sll2",
    "null",
    "nflog",
    "vlan",
    "arp",
    "ip",
    "ipv4",
    "ipv6",
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "dns",
    "http",
    "websocket",
    "ws",
    "engineio",
    "socketio",
];

impl Filter {
    /// Parses a filter; the error says what was not understood.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let spaced = text.replace('(', " ( ").replace(')', " ) ");
        let tokens: Vec<String> = spaced
            .split_whitespace()
            .map(|t| t.to_ascii_lowercase())
            .collect();
        if tokens.is_empty() {
            return Err("the filter is empty".into());
        }
        let mut p = Parser { tokens, pos: 0 };
        let f = p.or()?;
        if p.pos < p.tokens.len() {
            return Err(format!("unexpected '{}' in the filter", p.tokens[p.pos]));
        }
        Ok(f)
    }

    pub fn matches(&self, p: &Packet) -> bool {
        let d = &p.dissection;
        match self {
            Filter::Proto(name) => match name.as_str() {
                "ip" => d.has("ipv4") || d.has("ipv6"),
                "eth" => d.has("ethernet"),
                "ws" => d.has("websocket"),
                other => d.has(other),
            },
            Filter::Port(port) => {
                d.tcp()
                    .map(|t| t.src_port == *port || t.dst_port == *port)
                    .unwrap_or(false)
                    || d.udp()
                        .map(|u| u.src_port == *port || u.dst_port == *port)
                        .unwrap_or(false)
            }
            Filter::Host(ip) => d
                .ip_addrs()
                .map(|(s, t)| s == *ip || t == *ip)
                .unwrap_or(false),
            Filter::Stream(n) => p.analysis.stream == Some(*n),
            Filter::Tag(t) => p.analysis.tags.iter().any(|x| x.name() == t),
            Filter::Not(f) => !f.matches(p),
            Filter::And(a, b) => a.matches(p) && b.matches(p),
            Filter::Or(a, b) => a.matches(p) || b.matches(p),
        }
    }
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(|s| s.as_str())
    }
    fn next(&mut self) -> Option<String> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while matches!(self.peek(), Some("or") | Some("||")) {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        loop {
            match self.peek() {
                Some("and") | Some("&&") => {
                    self.pos += 1;
                }
                // tcpdump style: `tcp port 80` means `tcp and port 80`.
                Some(t) if t != "or" && t != "||" && t != ")" => {}
                _ => break,
            }
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Filter, String> {
        match self.next().as_deref() {
            Some("not") | Some("!") => Ok(Filter::Not(Box::new(self.unary()?))),
            Some("(") => {
                let f = self.or()?;
                match self.next().as_deref() {
                    Some(")") => Ok(f),
                    _ => Err("a '(' in the filter is not closed".into()),
                }
            }
            Some("port") => {
                let v = self.next().ok_or("'port' needs a number, e.g. port 8080")?;
                v.parse().map(Filter::Port).map_err(|_| format!("'{v}' is not a port number"))
            }
            Some("host") => {
                let v = self.next().ok_or("'host' needs an address, e.g. host 127.0.0.1")?;
                v.parse().map(Filter::Host).map_err(|_| format!("'{v}' is not an IP address"))
            }
            Some("stream") => {
                let v = self.next().ok_or("'stream' needs a number")?;
                v.parse().map(Filter::Stream).map_err(|_| format!("'{v}' is not a stream number"))
            }
            Some(word) if PROTOCOLS.contains(&word) => Ok(Filter::Proto(word.to_string())),
            Some(word) if is_tag(word) => Ok(Filter::Tag(word.to_string())),
            Some(word) => Err(format!(
                "'{word}' is not a filter word: use protocol names (tcp, udp, http, websocket…), port N, host ADDR, stream N, a tag (syn, retransmission…), and/or/not"
            )),
            None => Err("the filter ends too early".into()),
        }
    }
}

fn is_tag(word: &str) -> bool {
    matches!(
        word,
        "handshake-syn"
            | "handshake-syn-ack"
            | "handshake-ack"
            | "fin"
            | "rst"
            | "retransmission"
            | "out-of-order"
            | "duplicate-ack"
            | "zero-window"
            | "window-full"
            | "keep-alive"
            | "bad-checksum"
            | "fast-retransmission"
            | "spurious-retransmission"
            | "previous-segment-not-captured"
            | "window-update"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tcpdump_style() {
        let f = Filter::parse("tcp port 8080 and not rst").unwrap();
        assert_eq!(
            f,
            Filter::And(
                Box::new(Filter::And(
                    Box::new(Filter::Proto("tcp".into())),
                    Box::new(Filter::Port(8080))
                )),
                Box::new(Filter::Not(Box::new(Filter::Tag("rst".into()))))
            )
        );
    }

    #[test]
    fn explains_mistakes() {
        assert!(Filter::parse("port eighty")
            .unwrap_err()
            .contains("not a port"));
        assert!(Filter::parse("(tcp").unwrap_err().contains("not closed"));
        assert!(Filter::parse("bogus")
            .unwrap_err()
            .contains("not a filter word"));
    }
}
