//! The HTML report: one self-contained page (no network, opens from `file://`) with the
//! packet list, the layer tree and its explanations, the hex by layer, each conversation's
//! ladder as SVG and the Socket.IO sessions, searchable and printable.
//!
//! The page's data is the JSON renderer's output (the contract of SPEC.md), plus what the
//! page needs to draw: the frame's bytes, the one-line summary, the ladder row and the
//! byte range of the fixed-offset header fields. It travels as a JSON island in which
//! `<`, `>`, `&`, U+2028 and U+2029 are `\u` escapes, so no byte of a capture can close
//! the island or open markup; the page inserts every string with `textContent`. The
//! page's own script carries a fresh nonce that the Content-Security-Policy requires.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::diagram::Row;
use super::json::JsonRender;
use super::Render;
use crate::analysis::app::AppMessage;
use crate::analysis::Analyzer;
use crate::explain;
use crate::pipeline::Packet;

const PAGE: &str = include_str!("report/page.html");
const STYLE: &str = include_str!("report/style.css");
const SCRIPT: &str = include_str!("report/app.js");

/// Packets kept in one report; later ones are counted (a page of a million rows helps nobody).
pub const MAX_PACKETS: usize = 20_000;
/// Bytes of one frame shown in the hex view; the rest are counted.
pub const MAX_HEX: usize = 4096;

/// Collects every packet, then writes the page in `finish`. Writes nothing per packet.
pub struct ReportRender {
    title: String,
    json: JsonRender,
    line: Vec<u8>,
    packets: Vec<String>,
    omitted: u64,
    out: Option<Box<dyn Write>>,
}

impl ReportRender {
    /// A report titled `title` (the capture's name), written to the `Write` that
    /// `finish` is given.
    pub fn new(title: &str) -> ReportRender {
        ReportRender {
            title: title.to_string(),
            json: JsonRender::new(),
            line: Vec::new(),
            packets: Vec::new(),
            omitted: 0,
            out: None,
        }
    }

    /// A report written to its own file, whatever output the command also writes
    /// (`--report FILE` beside the tree).
    pub fn to(title: &str, out: Box<dyn Write>) -> ReportRender {
        ReportRender {
            out: Some(out),
            ..ReportRender::new(title)
        }
    }

    /// One packet as the page's JSON object: the JSON Lines packet, in its key order,
    /// with the extras the page draws.
    pub fn packet_json(&mut self, p: &Packet, an: &Analyzer) -> io::Result<String> {
        self.line.clear();
        self.json.packet(&mut self.line, p, an)?;
        while self.line.last().is_some_and(|b| b.is_ascii_whitespace()) {
            self.line.pop();
        }
        if self.line.pop() != Some(b'}') {
            return Err(io::Error::other("the JSON renderer wrote no object"));
        }
        let mut s = String::from_utf8(std::mem::take(&mut self.line)).map_err(io::Error::other)?;
        for (k, v) in extras(p) {
            s.push_str(",\"");
            s.push_str(k);
            s.push_str("\":");
            s.push_str(&v.to_string());
        }
        s.push('}');
        Ok(s)
    }

    /// The conversations and summary, as the JSON renderer ends its output.
    pub fn finish_value(&mut self, an: &Analyzer, source_warnings: &[String]) -> io::Result<Value> {
        let mut tail = Vec::new();
        self.json.finish(&mut tail, an, source_warnings)?;
        let mut conversations = Vec::new();
        let mut summary = Value::Null;
        for line in tail.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line)?;
            match v.get("type").and_then(Value::as_str) {
                Some("conversation") => conversations.push(v),
                Some("summary") => summary = v,
                _ => {}
            }
        }
        let sessions: Vec<String> = an
            .sessions
            .sessions()
            .map(explain::session_summary)
            .collect();
        Ok(json!({
            "conversations": conversations,
            "summary": summary,
            "sessions": sessions,
            "omitted": self.omitted,
        }))
    }
}

impl Render for ReportRender {
    fn packet(&mut self, _out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        if self.packets.len() >= MAX_PACKETS {
            self.omitted += 1;
            // Still through the JSON renderer, so the summary's warnings stay whole.
            self.line.clear();
            return self.json.packet(&mut self.line, p, an);
        }
        let v = self.packet_json(p, an)?;
        self.packets.push(v);
        Ok(())
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        let end = self.finish_value(an, source_warnings)?;
        let mut data =
            String::with_capacity(self.packets.iter().map(|p| p.len() + 1).sum::<usize>() + 4096);
        data.push_str("{\"title\":");
        data.push_str(&Value::String(self.title.clone()).to_string());
        data.push_str(",\"live\":false,\"packets\":[");
        for (i, p) in self.packets.iter().enumerate() {
            if i > 0 {
                data.push(',');
            }
            data.push_str(p);
        }
        data.push_str("],\"end\":");
        data.push_str(&end.to_string());
        data.push('}');
        let page = page(&data, false);
        match self.out.as_mut() {
            Some(f) => {
                f.write_all(page.as_bytes())?;
                f.flush()
            }
            None => out.write_all(page.as_bytes()),
        }
    }
}

/// Hands each packet, as the page's JSON, to a live page (`demo websocket --serve`,
/// `wirewalk serve`) together with the client it belongs to: the endpoint that is not
/// `server_port`. At the end, `{"type":"end", …}` with the conversations and summary.
pub struct LiveRender {
    report: ReportRender,
    server_port: Option<u16>,
    sink: Box<dyn FnMut(LivePacket)>,
}

/// One packet for a live page: its JSON, and what the classroom routes it by.
#[derive(Debug, Clone)]
pub struct LivePacket {
    /// The frame number (0 for the `end` object).
    pub number: u64,
    /// The client end of its connection to the server's port.
    pub client: Option<std::net::SocketAddr>,
    /// Its conversation (`tcp.stream`): a client's port used again is a new one.
    pub stream: Option<u32>,
    /// The Engine.IO session its messages name (`sid`), if any: what ties a Socket.IO
    /// client's long-polling and WebSocket connections together.
    pub session: Option<String>,
    pub json: String,
}

impl LiveRender {
    pub fn new(server_port: Option<u16>, sink: Box<dyn FnMut(LivePacket)>) -> LiveRender {
        LiveRender {
            report: ReportRender::new(""),
            server_port,
            sink,
        }
    }
}

/// The client end of a packet's connection to `server_port`, if it has one.
pub fn client_of(p: &Packet, server_port: u16) -> Option<std::net::SocketAddr> {
    let (src, dst) = p.dissection.ip_addrs()?;
    let t = p.dissection.tcp()?;
    if t.dst_port == server_port {
        Some(std::net::SocketAddr::new(src, t.src_port))
    } else if t.src_port == server_port {
        Some(std::net::SocketAddr::new(dst, t.dst_port))
    } else {
        None
    }
}

impl Render for LiveRender {
    fn packet(&mut self, _out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        let json = self.report.packet_json(p, an)?;
        (self.sink)(LivePacket {
            number: p.frame.number,
            client: self.server_port.and_then(|port| client_of(p, port)),
            stream: p.analysis.stream,
            session: crate::analysis::engineio::session_named(&p.analysis.app),
            json,
        });
        Ok(())
    }

    fn finish(
        &mut self,
        _out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        let mut end = self.report.finish_value(an, source_warnings)?;
        end["type"] = json!("end");
        (self.sink)(LivePacket {
            number: 0,
            client: None,
            stream: None,
            session: None,
            json: end.to_string(),
        });
        Ok(())
    }
}

/// The data of a live page before any packet: the title and the WebSocket path.
pub fn live_data(title: &str, path: &str) -> String {
    json!({"title": title, "live": path, "packets": [], "end": null}).to_string()
}

/// Renders nothing: the classroom's terminal shows events, not packets, unless asked.
pub struct Quiet;

impl Render for Quiet {
    fn packet(&mut self, _: &mut dyn Write, _: &Packet, _: &Analyzer) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &mut dyn Write, _: &Analyzer, _: &[String]) -> io::Result<()> {
        Ok(())
    }
}

/// The page around a data island. `live` says whether the page may open a WebSocket to
/// the server it came from (`wirewalk serve`, whose data names the path in `"live"`);
/// a static report may connect nowhere.
pub fn page(data_json: &str, live: bool) -> String {
    let nonce = nonce();
    let connect = if live { "'self'" } else { "'none'" };
    PAGE.replace("{{nonce}}", &nonce)
        .replace("{{connect}}", connect)
        .replace("{{style}}", STYLE)
        .replace("{{script}}", SCRIPT)
        // Last, so nothing in the data can be taken for a placeholder.
        .replace("{{data}}", &island(data_json))
}

/// JSON made safe to sit inside `<script type="application/json">`: every character
/// that could end the element or start markup (`<`, `>`, `&`) and the two line
/// separators JavaScript once treated as newlines become `\u` escapes. They can only
/// occur inside JSON strings, where the escape means the same character.
pub fn island(json: &str) -> String {
    let mut s = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => s.push_str("\\u003c"),
            '>' => s.push_str("\\u003e"),
            '&' => s.push_str("\\u0026"),
            '\u{2028}' => s.push_str("\\u2028"),
            '\u{2029}' => s.push_str("\\u2029"),
            c => s.push(c),
        }
    }
    s
}

/// A fresh value for the script nonce: std's randomly seeded hasher, twice.
fn nonce() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut s = String::new();
    for i in 0..2u8 {
        let mut h = RandomState::new().build_hasher();
        h.write_u8(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        s.push_str(&format!("{:016x}", h.finish()));
    }
    s
}

/// What the page draws besides the JSON Lines packet: `hex` (the frame's first bytes),
/// `hex_more` (how many were left out), `info` (the one-line summary), `ladder` (the
/// arrow of the ladder diagram), and for each entry of `layers` its `headlines` and
/// `field_ranges`.
fn extras(p: &Packet) -> Vec<(&'static str, Value)> {
    let data = &p.frame.data;
    let shown = &data[..data.len().min(MAX_HEX)];
    let mut hex = String::with_capacity(shown.len() * 2);
    for b in shown {
        hex.push_str(&format!("{b:02x}"));
    }
    let mut info = String::new();
    super::summary::describe(p, &mut info);
    let row = Row::of(p);
    // The JSON layers are the dissected headers, then the application messages that
    // were decoded, in that order.
    let apps = p
        .analysis
        .app
        .iter()
        .filter(|a| !matches!(a.message, AppMessage::Stopped(_)));
    let headlines: Vec<String> = p
        .dissection
        .layers
        .iter()
        .map(explain::layer_headline)
        .chain(apps.map(explain::app_short))
        .collect();
    let ranges: Vec<Value> = p
        .dissection
        .layers
        .iter()
        .map(|l| Value::Object(field_ranges(l)))
        .collect();
    vec![
        ("hex", Value::String(hex)),
        ("hex_more", json!(data.len() - shown.len())),
        ("info", Value::String(info)),
        (
            "ladder",
            json!({
                "from_client": row.from_client,
                "label": row.label,
                "osi": row.osi,
                "problem": row.problem,
            }),
        ),
        ("headlines", json!(headlines)),
        ("field_ranges", Value::Array(ranges)),
    ]
}

/// Where each fixed-offset field of a header lies in the frame, `[start, end)`, keyed by
/// its JSON name: the header layouts of IEEE 802.3, RFC 791, RFC 8200, RFC 9293 and
/// RFC 768. Fields that are computed (relative numbers) point at the bytes they come from.
fn field_ranges(l: &crate::dissect::Layer) -> Map<String, Value> {
    use crate::dissect::Header;
    let offsets: &[(&str, usize, usize)] = match &l.header {
        Header::Ethernet(_) => &[("dst", 0, 6), ("src", 6, 12), ("ethertype", 12, 14)],
        Header::Ipv4(_) => &[
            ("header_len", 0, 1),
            ("dscp", 1, 2),
            ("ecn", 1, 2),
            ("total_len", 2, 4),
            ("id", 4, 6),
            ("dont_fragment", 6, 7),
            ("more_fragments", 6, 7),
            ("fragment_offset", 6, 8),
            ("ttl", 8, 9),
            ("protocol", 9, 10),
            ("checksum", 10, 12),
            ("checksum_ok", 10, 12),
            ("src", 12, 16),
            ("dst", 16, 20),
        ],
        Header::Ipv6(_) => &[
            ("traffic_class", 0, 2),
            ("flow_label", 1, 4),
            ("payload_len", 4, 6),
            ("next_header", 6, 7),
            ("hop_limit", 7, 8),
            ("src", 8, 24),
            ("dst", 24, 40),
        ],
        Header::Tcp(_) => &[
            ("src_port", 0, 2),
            ("dst_port", 2, 4),
            ("seq", 4, 8),
            ("seq_raw", 4, 8),
            ("ack", 8, 12),
            ("ack_raw", 8, 12),
            ("header_len", 12, 13),
            ("flags", 12, 14),
            ("window", 14, 16),
            ("checksum", 16, 18),
            ("checksum_ok", 16, 18),
            ("urgent_pointer", 18, 20),
        ],
        Header::Udp(_) => &[
            ("src_port", 0, 2),
            ("dst_port", 2, 4),
            ("length", 4, 6),
            ("checksum", 6, 8),
            ("checksum_ok", 6, 8),
        ],
        _ => &[],
    };
    let (start, end) = l.range;
    offsets
        .iter()
        .filter(|(_, _, e)| start + e <= end)
        .map(|(k, s, e)| (k.to_string(), json!([start + s, start + e])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn island_escapes_everything_that_could_end_the_script_element() {
        let hostile = json!({"t": "</script><img src=x onerror=alert(1)>&amp;\u{2028}\u{2029}"});
        let s = island(&hostile.to_string());
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!s.contains(bad), "{bad:?} left in {s}");
        }
        assert_eq!(
            s,
            r#"{"t":"\u003c/script\u003e\u003cimg src=x onerror=alert(1)\u003e\u0026amp;\u2028\u2029"}"#
        );
        // Still JSON, and the same value.
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, hostile);
    }

    #[test]
    fn island_leaves_other_text_alone() {
        let v = json!({"a": "héllo \"quoted\" \\ back / slash ✓", "n": [1, 2.5, null]});
        assert_eq!(island(&v.to_string()), v.to_string());
    }

    #[test]
    fn the_page_holds_one_script_element_with_the_nonce_and_no_raw_data() {
        let data = json!({"x": "</script><script>alert(1)</script>"}).to_string();
        let page = page(&data, false);
        assert_eq!(page.matches("<script").count(), 2, "the island and the app");
        assert!(!page.contains("alert(1)</script>"));
        assert!(!page.contains("{{"), "a placeholder was left");
        let nonce = page
            .split("nonce-")
            .nth(1)
            .and_then(|s| s.split('\'').next())
            .unwrap();
        assert_eq!(nonce.len(), 32);
        assert!(page.contains(&format!("<script nonce=\"{nonce}\">")));
        assert!(page.contains("connect-src 'none'"));
        assert_ne!(super::nonce(), super::nonce());
    }

    #[test]
    fn tcp_field_ranges_follow_rfc_9293() {
        let sim = crate::source::simulate::simulate("handshake", &Default::default())
            .expect("the handshake scenario");
        let mut pl = crate::pipeline::Pipeline::new();
        let p = pl.process(sim.into_iter().next().unwrap().frame);
        let tcp = p
            .dissection
            .layers
            .iter()
            .find(|l| l.header.protocol() == "tcp")
            .unwrap();
        let r = field_ranges(tcp);
        let at = |k: &str| {
            r[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect::<Vec<_>>()
        };
        // Ethernet 14 + IPv4 20: the TCP header starts at byte 34.
        assert_eq!(tcp.range.0, 34);
        assert_eq!(at("dst_port"), vec![36, 38]);
        let port = u16::from_be_bytes([p.frame.data[36], p.frame.data[37]]);
        assert_eq!(Some(port), p.dissection.tcp().map(|t| t.dst_port));
        assert_eq!(at("window"), vec![48, 50]);
    }
}
