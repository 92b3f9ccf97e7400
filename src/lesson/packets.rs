//! The packets a lesson shows, and the facts its questions are graded against.
//!
//! Whatever the source (a simulation, a capture file), the frames run through the same
//! pipeline as `inspect`, application layers included.
//!
//! Packets are found by *locator* (`syn-ack`, `websocket_accept`, `fin#2`, `packet:3`)
//! and facts are named by `answer_from` (`server_isn`, `frame_of:syn-ack`,
//! `accept_for_key`, `ttl_of_packet:1`…); the lists are in `lessons/README.md`.

use std::path::Path;

use crate::analysis::app::AppMessage;
use crate::analysis::engineio::EioType;
use crate::analysis::http::{HttpKind, HttpMessage};
use crate::analysis::socketio::SioType;
use crate::analysis::websocket::{sec_websocket_accept, WsFrame};
use crate::analysis::{Analyzer, Tag, Transport};
use crate::dissect::{Header, TcpFlags};
use crate::frame::Frame;
use crate::pipeline::{Packet, Pipeline};
use crate::source::pcap::PcapReader;
use crate::source::simulate::{simulate, SimOptions};

/// The most frames read from a learner's capture: a lesson needs the start of it.
pub const MAX_FRAMES: usize = 50_000;

/// One application message, with the frame that carried its last byte.
#[derive(Debug, Clone)]
pub struct AppRecord {
    pub frame: u64,
    pub stream: u32,
    pub from_client: bool,
    pub message: AppMessage,
}

impl AppRecord {
    pub fn http(&self) -> Option<&HttpMessage> {
        match &self.message {
            AppMessage::Http(m) => Some(m),
            _ => None,
        }
    }
    pub fn ws(&self) -> Option<&WsFrame> {
        match &self.message {
            AppMessage::WebSocket(f) => Some(f),
            _ => None,
        }
    }
}

/// Packets loaded from one source, analysed.
pub struct Loaded {
    /// Says where they came from: `simulation "handshake" (seed 1)` or `capture x.pcap`.
    pub label: String,
    pub packets: Vec<Packet>,
    /// The simulator's one-line caption of each packet (None for captures).
    pub captions: Vec<Option<String>>,
    pub app: Vec<AppRecord>,
    pub analyzer: Analyzer,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("label", &self.label)
            .field("packets", &self.packets.len())
            .finish()
    }
}

impl Loaded {
    /// Runs a simulation scenario.
    pub fn simulate(name: &str, seed: u64) -> Result<Loaded, String> {
        let opts = SimOptions {
            seed,
            ..SimOptions::default()
        };
        let sim = simulate(name, &opts).map_err(|e| e.to_string())?;
        let label = format!("simulation \"{name}\" (seed {seed})");
        let (frames, captions): (Vec<Frame>, Vec<Option<String>>) =
            sim.into_iter().map(|p| (p.frame, Some(p.caption))).unzip();
        Ok(Loaded::from_frames(label, frames, captions))
    }

    /// Reads a pcap or pcapng file (its first `MAX_FRAMES` frames).
    pub fn capture(path: &Path) -> Result<Loaded, String> {
        let reader = PcapReader::open(path).map_err(|e| e.0)?;
        Loaded::read(reader, format!("capture {}", path.display()))
    }

    /// A capture that ships inside the binary (`lessons/captures/`), by its name there.
    pub fn builtin_capture(name: &str) -> Option<Result<Loaded, String>> {
        let bytes = crate::lesson::builtin_capture(name)?;
        Some(
            PcapReader::from_reader(std::io::Cursor::new(bytes), name)
                .map_err(|e| e.0)
                .and_then(|r| Loaded::read(r, format!("capture {name}"))),
        )
    }

    /// The frames of a capture, with the TLS secrets it embeds (pcapng Decryption Secrets
    /// Blocks) opening its TLS connections, as `inspect` does.
    fn read(mut reader: PcapReader, label: String) -> Result<Loaded, String> {
        let keys = crate::analysis::protocols::tls::SharedKeyLog::default();
        reader.set_keylog(keys.clone());
        let mut frames = Vec::new();
        for item in reader.take(MAX_FRAMES) {
            match item {
                Ok(f) => frames.push(f),
                // Keep what came before a damaged record, like `inspect`.
                Err(e) if !frames.is_empty() => {
                    let _ = e;
                    break;
                }
                Err(e) => return Err(e.0),
            }
        }
        let n = frames.len();
        let mut pipeline = Pipeline::new();
        pipeline.analyzer.keys = Some(keys);
        Ok(Loaded::run(label, pipeline, frames, vec![None; n]))
    }

    pub fn from_frames(label: String, frames: Vec<Frame>, captions: Vec<Option<String>>) -> Loaded {
        Loaded::run(label, Pipeline::new(), frames, captions)
    }

    fn run(
        label: String,
        mut pipeline: Pipeline,
        frames: Vec<Frame>,
        captions: Vec<Option<String>>,
    ) -> Loaded {
        let packets: Vec<Packet> = frames.into_iter().map(|f| pipeline.process(f)).collect();
        let app = packets
            .iter()
            .flat_map(|p| {
                p.analysis
                    .app
                    .iter()
                    .filter(|l| !matches!(l.message, AppMessage::Stopped(_)))
                    .map(move |l| AppRecord {
                        frame: p.frame.number,
                        stream: p.analysis.stream.unwrap_or(0),
                        from_client: l.from_client,
                        message: l.message.clone(),
                    })
            })
            .collect();
        Loaded {
            label,
            packets,
            captions,
            app,
            analyzer: pipeline.analyzer,
        }
    }

    pub fn by_number(&self, n: u64) -> Option<(usize, &Packet)> {
        self.packets
            .iter()
            .enumerate()
            .find(|(_, p)| p.frame.number == n)
    }

    /// The frame numbers of every packet the locator matches, in order.
    pub fn find_all(&self, locator: &str) -> Result<Vec<u64>, String> {
        let loc = locator.trim();
        if let Some(n) = loc.strip_prefix("packet:") {
            let n: u64 = n
                .trim()
                .parse()
                .map_err(|_| format!("\"{loc}\": packet:N needs a number"))?;
            return Ok(self
                .by_number(n)
                .map(|(_, p)| vec![p.frame.number])
                .unwrap_or_default());
        }
        if let Some(m) = packet_matcher(loc) {
            return Ok(self
                .packets
                .iter()
                .filter(|p| m(p))
                .map(|p| p.frame.number)
                .collect());
        }
        if let Some(m) = app_matcher(loc) {
            let mut v: Vec<u64> = self.app.iter().filter(|r| m(r)).map(|r| r.frame).collect();
            v.dedup();
            return Ok(v);
        }
        Err(format!(
            "unknown packet locator \"{loc}\" (see lessons/README.md for the list)"
        ))
    }

    /// The frame number a packet reference points to: `3`, `syn-ack`, `fin#2`, `packet:3`.
    pub fn locate(&self, locator: &str) -> Result<u64, String> {
        let (base, nth) = split_nth(locator)?;
        let all = self.find_all(base)?;
        all.get(nth - 1).copied().ok_or_else(|| {
            if all.is_empty() {
                format!("no packet here is \"{base}\"")
            } else {
                format!(
                    "only {} packet(s) here are \"{base}\", not {nth}",
                    all.len()
                )
            }
        })
    }

    /// The application message a locator matches (for app-level facts).
    fn locate_app(&self, locator: &str) -> Result<&AppRecord, String> {
        let (base, nth) = split_nth(locator)?;
        let m = app_matcher(base)
            .ok_or_else(|| format!("\"{base}\" is not an HTTP/WebSocket locator"))?;
        let all: Vec<&AppRecord> = self.app.iter().filter(|r| m(r)).collect();
        all.get(nth - 1)
            .copied()
            .ok_or_else(|| format!("no message here is \"{locator}\""))
    }

    fn packet_at(&self, locator: &str) -> Result<&Packet, String> {
        let n = self.locate(locator)?;
        Ok(self.by_number(n).expect("located packets exist").1)
    }

    /// Computes an `answer_from` fact from these packets.
    pub fn fact(&self, spec: &str) -> Result<Fact, String> {
        let spec = spec.trim();
        match spec {
            "client_isn" => return self.fact("seq_raw_of:syn"),
            "server_isn" => return self.fact("seq_raw_of:syn-ack"),
            "server_port" => {
                return self
                    .fact("dst_port_of:syn")
                    .or_else(|_| self.fact("dst_port_of:udp"));
            }
            "websocket_key" => {
                let r = self.locate_app("upgrade-request")?;
                let key = r
                    .http()
                    .and_then(|h| h.websocket_key.clone())
                    .ok_or("the upgrade request has no Sec-WebSocket-Key")?;
                return Ok(Fact::text(key, r.frame, true));
            }
            "websocket_accept" => {
                let r = self.locate_app("websocket_accept")?;
                let acc = r
                    .http()
                    .and_then(|h| h.websocket_accept.clone())
                    .ok_or("the 101 response has no Sec-WebSocket-Accept")?;
                return Ok(Fact::text(acc, r.frame, true));
            }
            "accept_for_key" => {
                let r = self.locate_app("upgrade-request")?;
                let key = r
                    .http()
                    .and_then(|h| h.websocket_key.clone())
                    .ok_or("the upgrade request has no Sec-WebSocket-Key")?;
                return Ok(Fact::text(sec_websocket_accept(&key), r.frame, true));
            }
            _ => {}
        }
        if let Some(n) = spec.strip_prefix("ttl_of_packet:") {
            return self.fact(&format!("ttl_of:packet:{n}"));
        }
        let (what, loc) = spec
            .split_once(':')
            .ok_or_else(|| format!("unknown answer_from \"{spec}\" (see lessons/README.md)"))?;
        match what {
            "frame_of" => {
                let n = self.locate(loc)?;
                Ok(Fact::number(n, n))
            }
            "count_of" => {
                let all = self.find_all(loc)?;
                Ok(Fact {
                    value: all.len().to_string(),
                    frame: None,
                    kind: FactKind::Number,
                })
            }
            "seq_raw_of" | "ack_raw_of" | "seq_of" | "ack_of" | "flags_of" | "src_port_of"
            | "dst_port_of" | "window_of" | "mss_of" | "payload_len_of" | "udp_length_of" => {
                let p = self.packet_at(loc)?;
                let n = p.frame.number;
                if let Some(u) = p.dissection.udp() {
                    return match what {
                        "src_port_of" => Ok(Fact::number(u.src_port, n)),
                        "dst_port_of" => Ok(Fact::number(u.dst_port, n)),
                        "udp_length_of" => Ok(Fact::number(u.length, n)),
                        _ => Err(format!(
                            "packet {n} is UDP: it has no {}",
                            what.trim_end_matches("_of")
                        )),
                    };
                }
                let t = p
                    .dissection
                    .tcp()
                    .ok_or_else(|| format!("packet {n} has no TCP or UDP header"))?;
                if what == "udp_length_of" {
                    return Err(format!("packet {n} is TCP, not UDP"));
                }
                let v: Option<String> = match what {
                    "seq_raw_of" => t.seq_raw.map(|v| v.to_string()),
                    "ack_raw_of" => t.ack_raw.map(|v| v.to_string()),
                    "seq_of" => t.seq.map(|v| v.to_string()),
                    "ack_of" => t.ack.map(|v| v.to_string()),
                    "src_port_of" => Some(t.src_port.to_string()),
                    "dst_port_of" => Some(t.dst_port.to_string()),
                    "window_of" => t.window.map(|v| v.to_string()),
                    "mss_of" => t.mss.map(|v| v.to_string()),
                    "payload_len_of" => t.payload_len.map(|v| v.to_string()),
                    _ => {
                        let names: Vec<&str> = t.flags().names().collect();
                        return Ok(Fact {
                            value: names.join(" "),
                            frame: Some(n),
                            kind: FactKind::Flags,
                        });
                    }
                };
                let v = v.ok_or_else(|| {
                    format!(
                        "packet {n}'s TCP header has no {}",
                        what.trim_end_matches("_of")
                    )
                })?;
                Ok(Fact {
                    value: v,
                    frame: Some(n),
                    kind: FactKind::Number,
                })
            }
            "ttl_of" | "src_ip_of" | "dst_ip_of" | "src_mac_of" | "dst_mac_of" | "ethertype_of"
            | "ip_protocol_of" | "transport_of" | "layers_of" | "wire_len_of" => {
                let p = self.packet_at(loc)?;
                let n = p.frame.number;
                let layers = &p.dissection.layers;
                let v = match what {
                    "ttl_of" => layers.iter().find_map(|l| match &l.header {
                        Header::Ipv4(ip) => Some(Fact::number(ip.ttl, n)),
                        Header::Ipv6(ip) => Some(Fact::number(ip.hop_limit, n)),
                        _ => None,
                    }),
                    "src_ip_of" | "dst_ip_of" => p.dissection.ip_addrs().map(|(s, d)| {
                        Fact::text(
                            if what == "src_ip_of" {
                                s.to_string()
                            } else {
                                d.to_string()
                            },
                            n,
                            false,
                        )
                    }),
                    "src_mac_of" | "dst_mac_of" => layers.iter().find_map(|l| match &l.header {
                        Header::Ethernet(e) => Some(Fact::text(
                            if what == "src_mac_of" {
                                e.src.to_string()
                            } else {
                                e.dst.to_string()
                            },
                            n,
                            false,
                        )),
                        _ => None,
                    }),
                    "ethertype_of" => layers.iter().find_map(|l| match &l.header {
                        Header::Ethernet(e) => {
                            Some(Fact::text(format!("0x{:04x}", e.ethertype), n, false))
                        }
                        _ => None,
                    }),
                    "ip_protocol_of" => layers.iter().find_map(|l| match &l.header {
                        Header::Ipv4(ip) => Some(Fact::number(ip.protocol, n)),
                        Header::Ipv6(ip) => Some(Fact::number(ip.protocol, n)),
                        _ => None,
                    }),
                    "transport_of" => p.analysis.transport.map(|t| {
                        Fact::text(
                            if t == Transport::Tcp { "tcp" } else { "udp" }.to_string(),
                            n,
                            false,
                        )
                    }),
                    "layers_of" => {
                        let app = self
                            .app
                            .iter()
                            .filter(|r| {
                                r.frame == n && !matches!(r.message, AppMessage::Stopped(_))
                            })
                            .count();
                        let app_in_dissection = layers.iter().any(|l| l.osi() == 7);
                        let count =
                            layers.len() + if app > 0 && !app_in_dissection { 1 } else { 0 };
                        Some(Fact::number(count, n))
                    }
                    _ => Some(Fact::number(p.frame.wire_len, n)),
                };
                v.ok_or_else(|| format!("packet {n} has no {}", what.trim_end_matches("_of")))
            }
            "masking_key_of" | "text_of" | "opcode_of" | "close_code_of" | "status_of"
            | "method_of" | "uri_of" | "event_of" | "message_len_of" | "sni_of"
            | "cipher_suite_of" | "tls_version_of" | "alpn_of" => {
                let r = self.locate_app(loc)?;
                let n = r.frame;
                let v: Option<Fact> = match (what, &r.message) {
                    ("masking_key_of", AppMessage::WebSocket(f)) => {
                        f.masking_key.clone().map(|k| Fact::text(k, n, false))
                    }
                    ("text_of", AppMessage::WebSocket(f)) => {
                        f.text.clone().map(|t| Fact::text(t, n, true))
                    }
                    ("opcode_of", AppMessage::WebSocket(f)) => {
                        Some(Fact::text(f.opcode_name.to_string(), n, false))
                    }
                    ("close_code_of", AppMessage::WebSocket(f)) => {
                        f.close_code.map(|c| Fact::number(c, n))
                    }
                    ("message_len_of", AppMessage::WebSocket(f)) => {
                        f.message_len.map(|c| Fact::number(c, n))
                    }
                    ("event_of", AppMessage::SocketIo(p)) => {
                        p.event.clone().map(|e| Fact::text(e, n, true))
                    }
                    ("status_of", AppMessage::Http(h)) => h.status.map(|s| Fact::number(s, n)),
                    ("method_of", AppMessage::Http(h)) => {
                        h.method.clone().map(|m| Fact::text(m, n, false))
                    }
                    ("uri_of", AppMessage::Http(h)) => {
                        h.uri.clone().map(|u| Fact::text(u, n, true))
                    }
                    ("sni_of", AppMessage::Tls(t)) => {
                        t.sni.clone().map(|v| Fact::text(v, n, false))
                    }
                    ("cipher_suite_of", AppMessage::Tls(t)) => {
                        t.cipher_suite.clone().map(|v| Fact::text(v, n, false))
                    }
                    ("tls_version_of", AppMessage::Tls(t)) => t
                        .negotiated_version
                        .clone()
                        .map(|v| Fact::text(v, n, false)),
                    ("alpn_of", AppMessage::Tls(t)) => {
                        t.alpn.as_ref().map(|v| Fact::text(v.join(","), n, false))
                    }
                    _ => None,
                };
                v.ok_or_else(|| {
                    format!(
                        "the message in packet {n} (\"{loc}\") has no {}",
                        what.trim_end_matches("_of")
                    )
                })
            }
            _ => Err(format!(
                "unknown answer_from \"{spec}\" (see lessons/README.md)"
            )),
        }
    }
}

/// `name#N` → (name, N); N defaults to 1.
fn split_nth(locator: &str) -> Result<(&str, usize), String> {
    let loc = locator.trim();
    match loc.rsplit_once('#') {
        Some((base, n)) => {
            let n: usize = n
                .trim()
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("\"{loc}\": after # comes a count from 1"))?;
            Ok((base.trim(), n))
        }
        None => Ok((loc, 1)),
    }
}

/// How an answer is compared with a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    /// Compared as a number (spaces and thousands separators ignored).
    Number,
    /// TCP flag names, in any order and case.
    Flags,
    /// Text compared exactly (base64, message text) or ignoring case.
    Text { case_sensitive: bool },
}

/// A value computed from the packets, and the packet that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub value: String,
    pub frame: Option<u64>,
    pub kind: FactKind,
}

impl Fact {
    fn number(v: impl ToString, frame: u64) -> Fact {
        Fact {
            value: v.to_string(),
            frame: Some(frame),
            kind: FactKind::Number,
        }
    }
    fn text(v: String, frame: u64, case_sensitive: bool) -> Fact {
        Fact {
            value: v,
            frame: Some(frame),
            kind: FactKind::Text { case_sensitive },
        }
    }

    /// Whether a learner's answer (or an answer key) says this value.
    pub fn matches(&self, answer: &str) -> bool {
        let a = answer.trim();
        match self.kind {
            FactKind::Number => {
                let digits: String = a
                    .chars()
                    .filter(|c| !matches!(c, ' ' | ',' | '_' | '\''))
                    .collect();
                let digits = digits.trim_start_matches('#');
                match (digits.parse::<u64>(), self.value.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x == y,
                    _ => digits == self.value,
                }
            }
            FactKind::Flags => {
                let set = |s: &str| {
                    let mut v: Vec<String> = s
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .map(|w| w.to_ascii_uppercase())
                        .collect();
                    v.sort();
                    v.dedup();
                    v
                };
                set(a) == set(&self.value)
            }
            FactKind::Text {
                case_sensitive: true,
            } => a.trim_matches('"') == self.value,
            FactKind::Text {
                case_sensitive: false,
            } => a.trim_matches('"').eq_ignore_ascii_case(&self.value),
        }
    }
}

type PacketMatch = fn(&Packet) -> bool;

fn tcp_flag(p: &Packet, on: u16, off: u16) -> bool {
    p.dissection
        .tcp()
        .map(|t| t.flags().0 & on == on && t.flags().0 & off == 0)
        .unwrap_or(false)
}

/// Locators answered by the L2–L4 headers and the TCP analysis.
fn packet_matcher(name: &str) -> Option<PacketMatch> {
    Some(match name {
        "any" => |_| true,
        "syn" => |p| tcp_flag(p, TcpFlags::SYN, TcpFlags::ACK),
        "syn-ack" => |p| tcp_flag(p, TcpFlags::SYN | TcpFlags::ACK, 0),
        "handshake-ack" => |p| p.analysis.tags.contains(&Tag::HandshakeAck),
        "fin" => |p| tcp_flag(p, TcpFlags::FIN, 0),
        "rst" => |p| tcp_flag(p, TcpFlags::RST, 0),
        "ack" => |p| {
            tcp_flag(
                p,
                TcpFlags::ACK,
                TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST,
            ) && p
                .dissection
                .tcp()
                .map(|t| t.payload_len() == 0)
                .unwrap_or(false)
        },
        "data" => |p| {
            p.dissection
                .tcp()
                .map(|t| t.payload_len() > 0)
                .unwrap_or(false)
        },
        "client-data" => |p| {
            p.analysis.from_client == Some(true)
                && p.dissection
                    .tcp()
                    .map(|t| t.payload_len() > 0)
                    .unwrap_or(false)
        },
        "server-data" => |p| {
            p.analysis.from_client == Some(false)
                && p.dissection
                    .tcp()
                    .map(|t| t.payload_len() > 0)
                    .unwrap_or(false)
        },
        "retransmission" => |p| p.analysis.tags.contains(&Tag::Retransmission),
        "duplicate-ack" => |p| p.analysis.tags.contains(&Tag::DuplicateAck),
        "tcp" => |p| p.dissection.tcp().is_some(),
        "udp" => |p| p.dissection.udp().is_some(),
        "dns-query" => |p| {
            p.dissection
                .layers
                .iter()
                .any(|l| matches!(&l.header, Header::Dns(d) if !d.response))
        },
        "dns-answer" => |p| {
            p.dissection
                .layers
                .iter()
                .any(|l| matches!(&l.header, Header::Dns(d) if d.response))
        },
        _ => return None,
    })
}

type AppMatch = Box<dyn Fn(&AppRecord) -> bool>;

/// What a `tls-…` locator may name: any, a protected record, a handshake message, or a
/// record of another type.
const TLS_KINDS: &[&str] = &[
    "",
    "encrypted",
    "client_hello",
    "server_hello",
    "encrypted_extensions",
    "certificate",
    "server_key_exchange",
    "certificate_request",
    "server_hello_done",
    "certificate_verify",
    "client_key_exchange",
    "finished",
    "new_session_ticket",
    "key_update",
    "change_cipher_spec",
    "alert",
    "application_data",
];

/// Locators answered by the application layer (HTTP, WebSocket, Engine.IO/Socket.IO).
fn app_matcher(name: &str) -> Option<AppMatch> {
    let http = |f: fn(&HttpMessage) -> bool| -> AppMatch {
        Box::new(move |r: &AppRecord| r.http().is_some_and(f))
    };
    match name {
        "http-request" => return Some(http(|h| h.kind == HttpKind::Request)),
        "http-response" => return Some(http(|h| h.kind == HttpKind::Response)),
        "upgrade-request" => {
            return Some(http(|h| {
                h.kind == HttpKind::Request && h.is_websocket_upgrade()
            }))
        }
        "websocket_accept" | "upgrade-response" => return Some(http(|h| h.status == Some(101))),
        "upgrade-refused" => return Some(http(|h| h.upgrade_refused)),
        "polling-request" => {
            return Some(http(|h| {
                h.kind == HttpKind::Request
                    && h.uri
                        .as_deref()
                        .is_some_and(|u| u.contains("transport=polling"))
            }))
        }
        _ => {}
    }
    // Engine.IO and Socket.IO packets, as decoded (over WebSocket or long-polling).
    let eio = |t: EioType| -> AppMatch {
        Box::new(
            move |r: &AppRecord| matches!(&r.message, AppMessage::EngineIo(e) if e.packet_type == t),
        )
    };
    let sio = |t: SioType| -> AppMatch {
        Box::new(
            move |r: &AppRecord| matches!(&r.message, AppMessage::SocketIo(p) if p.packet_type == t),
        )
    };
    match name {
        "engineio-open" => return Some(eio(EioType::Open)),
        "engineio-ping" => return Some(eio(EioType::Ping)),
        "engineio-pong" => return Some(eio(EioType::Pong)),
        "engineio-upgrade" => return Some(eio(EioType::Upgrade)),
        "socketio-connect" => return Some(sio(SioType::Connect)),
        "socketio-disconnect" => return Some(sio(SioType::Disconnect)),
        "socketio-event" => return Some(sio(SioType::Event)),
        "socketio-ack" => return Some(sio(SioType::Ack)),
        "socketio-binary-event" => return Some(sio(SioType::BinaryEvent)),
        _ => {}
    }
    // TLS: tls (any record or handshake message), tls-encrypted (a protected record),
    // tls-client-hello, tls-change-cipher-spec, … (a handshake message or record type).
    if let Some(rest) = name.strip_prefix("tls") {
        let kind = rest.strip_prefix('-').unwrap_or(rest).replace('-', "_");
        if !TLS_KINDS.contains(&kind.as_str()) {
            return None;
        }
        return Some(Box::new(move |r: &AppRecord| {
            let AppMessage::Tls(t) = &r.message else {
                return false;
            };
            match kind.as_str() {
                "" => true,
                "encrypted" => t.encrypted,
                k => {
                    t.handshake_type == Some(k)
                        || (t.handshake_type.is_none() && t.record_type == k)
                }
            }
        }));
    }
    // ws, ws-text, ws-client-text, ws-server-ping, ws-client, …
    let rest = name.strip_prefix("ws")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let (side, op) = if let Some(op) = rest.strip_prefix("client") {
        (Some(true), op.trim_start_matches('-'))
    } else if let Some(op) = rest.strip_prefix("server") {
        (Some(false), op.trim_start_matches('-'))
    } else {
        (None, rest)
    };
    let op = op.to_string();
    if ![
        "",
        "text",
        "binary",
        "ping",
        "pong",
        "close",
        "continuation",
        "masked",
    ]
    .contains(&op.as_str())
    {
        return None;
    }
    Some(Box::new(move |r: &AppRecord| {
        let Some(f) = r.ws() else { return false };
        side.is_none_or(|s| s == r.from_client)
            && match op.as_str() {
                "" => true,
                "masked" => f.masked,
                o => f.opcode_name == o,
            }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_facts() {
        let l = Loaded::simulate("handshake", 1).unwrap();
        assert_eq!(l.locate("syn").unwrap(), 1);
        assert_eq!(l.locate("syn-ack").unwrap(), 2);
        assert_eq!(l.locate("handshake-ack").unwrap(), 3);
        let isn = l.fact("client_isn").unwrap();
        let ack = l.fact("ack_raw_of:syn-ack").unwrap();
        assert_eq!(
            isn.value.parse::<u64>().unwrap() + 1,
            ack.value.parse::<u64>().unwrap()
        );
        assert!(l.fact("flags_of:syn-ack").unwrap().matches("ack, syn"));
        assert!(l.fact("ttl_of_packet:1").unwrap().matches("64"));
        assert!(l.fact("frame_of:rst").is_err());
    }

    #[test]
    fn websocket_facts() {
        let l = Loaded::simulate("websocket", 1).unwrap();
        assert_eq!(l.locate("websocket_accept").unwrap(), 5);
        assert_eq!(l.locate("upgrade-request").unwrap(), 4);
        let acc = l.fact("websocket_accept").unwrap();
        assert_eq!(
            acc,
            Fact {
                frame: Some(5),
                ..l.fact("accept_for_key").unwrap()
            }
        );
        assert_eq!(l.locate("ws-server-text#2").unwrap(), 9);
        assert!(l.fact("masking_key_of:ws-client-text").is_ok());
        assert!(l.fact("masking_key_of:ws-server-text").is_err());
    }

    #[test]
    fn socketio_facts() {
        let l = Loaded::simulate("socketio", 1).unwrap();
        assert_eq!(
            l.fact("event_of:socketio-event").unwrap().value,
            "chat message"
        );
        assert_eq!(l.locate("socketio-ack").unwrap(), 23);
        assert!(l.locate("polling-request").is_ok());
    }
}
