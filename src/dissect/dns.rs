//! A short reading of DNS (RFC 1035) over UDP: the header, the questions and the answers,
//! enough to show a query and its answer side by side with TCP's ceremony.

use serde::Serialize;

use super::{Dissection, Header, Layer, Note};

#[derive(Debug, Clone, Serialize)]
pub struct DnsQuestion {
    pub name: String,
    #[serde(rename = "type")]
    pub qtype: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DnsAnswer {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    pub data: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DnsInfo {
    pub id: u16,
    pub response: bool,
    pub opcode: u8,
    pub rcode: u8,
    pub questions: Vec<DnsQuestion>,
    pub answers: Vec<DnsAnswer>,
    /// Read as DNS by its shape on a port that is not DNS's (53, 5353): a guess.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub heuristic: bool,
}

fn type_name(t: u16) -> String {
    match t {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        41 => "OPT".into(),
        65 => "HTTPS".into(),
        255 => "ANY".into(),
        n => format!("TYPE{n}"),
    }
}

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Option<u8> {
        let b = *self.msg.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(((self.u16()? as u32) << 16) | self.u16()? as u32)
    }
    /// A possibly compressed name; pointers are followed a bounded number of times.
    fn name(&mut self) -> Option<String> {
        let mut out = String::new();
        let mut pos = self.pos;
        let mut jumped = false;
        for _ in 0..128 {
            let len = *self.msg.get(pos)? as usize;
            if len & 0xc0 == 0xc0 {
                let target = ((len & 0x3f) << 8) | *self.msg.get(pos + 1)? as usize;
                if !jumped {
                    self.pos = pos + 2;
                }
                jumped = true;
                pos = target;
                continue;
            }
            if len == 0 {
                if !jumped {
                    self.pos = pos + 1;
                }
                if out.is_empty() {
                    out.push('.');
                }
                return Some(out);
            }
            let label = self.msg.get(pos + 1..pos + 1 + len)?;
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&String::from_utf8_lossy(label));
            pos += 1 + len;
        }
        None
    }
}

fn parse(msg: &[u8]) -> Option<DnsInfo> {
    let mut r = Reader { msg, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let (qd, an) = (r.u16()?, r.u16()?);
    let _ = (r.u16()?, r.u16()?);
    let mut info = DnsInfo {
        id,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        rcode: (flags & 0x0f) as u8,
        questions: Vec::new(),
        answers: Vec::new(),
        heuristic: false,
    };
    for _ in 0..qd.min(32) {
        let name = r.name()?;
        let qtype = r.u16()?;
        let _class = r.u16()?;
        info.questions.push(DnsQuestion {
            name,
            qtype: type_name(qtype),
        });
    }
    for _ in 0..an.min(64) {
        let name = r.name()?;
        let rtype = r.u16()?;
        let _class = r.u16()?;
        let ttl = r.u32()?;
        let rdlen = r.u16()? as usize;
        let rdata_start = r.pos;
        let rdata = msg.get(rdata_start..rdata_start + rdlen)?;
        let data = match (rtype, rdlen) {
            (1, 4) => std::net::Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string(),
            (28, 16) => {
                let a: [u8; 16] = rdata.try_into().ok()?;
                std::net::Ipv6Addr::from(a).to_string()
            }
            (2 | 5 | 12, _) => {
                let mut nr = Reader {
                    msg,
                    pos: rdata_start,
                };
                nr.name()?
            }
            _ => format!("{rdlen} bytes"),
        };
        r.pos = rdata_start + rdlen;
        info.answers.push(DnsAnswer {
            name,
            rtype: type_name(rtype),
            ttl,
            data,
        });
    }
    Some(info)
}

/// True when a datagram on another port has exactly the shape of a DNS query or answer:
/// a standard query opcode, zero reserved bit, one to four questions of class IN whose
/// names are host names, and resource records that end exactly where the datagram ends.
/// Wireshark reads DNS by port only; this guess is said as a guess.
fn looks_like_dns(msg: &[u8]) -> bool {
    let word = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]);
    if msg.len() < 17 || msg.len() > 4096 {
        return false;
    }
    let (flags, qd) = (word(2), word(4));
    let records = [word(6), word(8), word(10)];
    if (flags >> 11) & 0x0f != 0 || flags & 0x0040 != 0 || !(1..=4).contains(&qd) {
        return false;
    }
    if flags & 0x8000 == 0 && (records[0] != 0 || records[1] != 0 || records[2] > 1) {
        return false;
    }
    let mut r = Reader { msg, pos: 12 };
    let host = |n: &str| {
        n.len() <= 253
            && n.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
    };
    for _ in 0..qd {
        let ok = r.name().is_some_and(|n| host(&n))
            && r.u16().is_some()
            && matches!(r.u16(), Some(1 | 255));
        if !ok {
            return false;
        }
    }
    for _ in 0..records.iter().map(|&n| n as u32).sum::<u32>().min(256) {
        let skipped = r.name().is_some()
            && r.u16().is_some()
            && r.u16().is_some()
            && r.u32().is_some()
            && r.u16().is_some_and(|len| {
                r.pos += len as usize;
                r.pos <= msg.len()
            });
        if !skipped {
            return false;
        }
    }
    r.pos == msg.len()
}

/// Reads a DNS message from a UDP payload on a port that is not DNS's, if it has DNS's
/// exact shape ([`looks_like_dns`]); the layer says it was a guess.
pub(super) fn dissect_heuristic(d: &mut Dissection, payload: &[u8], start: usize) {
    if !looks_like_dns(payload) {
        return;
    }
    if let Some(mut info) = parse(payload) {
        info.heuristic = true;
        d.layers.push(Layer {
            range: (start, start + payload.len()),
            header: Header::Dns(info),
        });
    }
}

/// Reads a DNS message from a UDP payload starting at `start` in the frame.
pub(super) fn dissect(d: &mut Dissection, payload: &[u8], start: usize) {
    match parse(payload) {
        Some(info) => d.layers.push(Layer {
            range: (start, start + payload.len()),
            header: Header::Dns(info),
        }),
        None if !payload.is_empty() => d.notes.push(Note::info("dns.malformed")),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_compressed_answer() {
        // A query for example.com A, and its answer with a compression pointer to offset 12.
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        let info = parse(&q).unwrap();
        assert_eq!(info.id, 0x1234);
        assert!(!info.response);
        assert_eq!(info.questions[0].name, "example.com");
        assert_eq!(info.questions[0].qtype, "A");

        let mut a = q.clone();
        a[2] = 0x81;
        a[3] = 0x80;
        a[7] = 1;
        a.extend_from_slice(&[
            0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
        ]);
        let info = parse(&a).unwrap();
        assert!(info.response);
        assert_eq!(info.answers[0].name, "example.com");
        assert_eq!(info.answers[0].ttl, 3600);
        assert_eq!(info.answers[0].data, "93.184.216.34");
    }

    #[test]
    fn only_the_exact_shape_of_dns_is_guessed_on_another_port() {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert!(looks_like_dns(&q));
        // One byte more, or a name that is not a host name, or a class that is not IN.
        let mut longer = q.clone();
        longer.push(0);
        assert!(!looks_like_dns(&longer));
        let mut odd = q.clone();
        odd[13] = b' ';
        assert!(!looks_like_dns(&odd));
        let mut chaos = q.clone();
        let n = chaos.len();
        chaos[n - 1] = 3;
        assert!(!looks_like_dns(&chaos));
        assert!(!looks_like_dns(b"hello server, please answer"));
    }

    #[test]
    fn pointer_loop_is_refused() {
        let mut q = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(parse(&q).is_none());
    }
}
