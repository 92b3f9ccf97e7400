//! Engine.IO, the transport under Socket.IO: its packets over WebSocket (one packet per
//! text message, a binary message per binary message) and over HTTP long-polling (the
//! packets of a request or response body, separated by the record separator 0x1e in
//! v4; length-prefixed in v3).
//!
//! Packet types: open (0), close (1), ping (2), pong (3), message (4), upgrade (5),
//! noop (6). The open packet's JSON gives the session id and the heartbeat timing.
//!
//! Also here: [`EioStream`], the per-connection state that [`super::app::AppStream`] uses
//! to recognise an Engine.IO connection (by its request URI) and to turn the HTTP bodies
//! and WebSocket messages it decodes into Engine.IO and Socket.IO messages.

use std::collections::VecDeque;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::app::{AppEvent, AppMessage, Check, Dir};
use super::http::{HttpKind, HttpMessage};
use super::socketio::{self, SioType};
use super::websocket::WsFrame;

/// The record separator between packets of a v4 polling body.
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// How many bytes of a binary message `data_hex` shows.
const HEX_SHOWN: usize = 64;

/// An Engine.IO packet type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EioType {
    Open,
    Close,
    Ping,
    Pong,
    Message,
    Upgrade,
    Noop,
}

impl EioType {
    pub const ALL: [EioType; 7] = [
        EioType::Open,
        EioType::Close,
        EioType::Ping,
        EioType::Pong,
        EioType::Message,
        EioType::Upgrade,
        EioType::Noop,
    ];

    /// From the type's number (0–6).
    pub fn from_code(code: u8) -> Option<EioType> {
        EioType::ALL.get(code as usize).copied()
    }

    /// The number written on the wire (as a digit in text).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// `open`, `close`, … as in SPEC.md.
    pub fn name(self) -> &'static str {
        match self {
            EioType::Open => "open",
            EioType::Close => "close",
            EioType::Ping => "ping",
            EioType::Pong => "pong",
            EioType::Message => "message",
            EioType::Upgrade => "upgrade",
            EioType::Noop => "noop",
        }
    }
}

/// How Engine.IO carries its packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EioTransport {
    /// HTTP long-polling: the client POSTs its packets and GETs the server's.
    #[serde(rename = "polling")]
    Polling,
    #[serde(rename = "websocket")]
    WebSocket,
}

impl EioTransport {
    pub fn name(self) -> &'static str {
        match self {
            EioTransport::Polling => "polling",
            EioTransport::WebSocket => "websocket",
        }
    }
}

/// The open packet's JSON (the handshake): what the server tells the client.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EioOpen {
    pub sid: String,
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// Milliseconds between heartbeats.
    pub ping_interval: u64,
    /// Milliseconds the other side waits for the answer before giving up.
    pub ping_timeout: u64,
    /// The most bytes the server accepts in one request body or message (v4).
    #[serde(default)]
    pub max_payload: Option<u64>,
}

/// A binary message that is an attachment of a Socket.IO BINARY_EVENT / BINARY_ACK: it
/// replaces the placeholder `{"_placeholder":true,"num":N}` in that packet's arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttachmentRef {
    /// The placeholder's `num` (0 for the first attachment).
    pub num: u32,
    /// How many attachments the packet announced.
    pub of: u32,
    pub packet_type: SioType,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_id: Option<u64>,
}

/// One Engine.IO packet (the `engineio` layer of SPEC.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EioPacket {
    pub packet_type: EioType,
    pub transport: EioTransport,
    /// The packet's data: the open packet's JSON object, the text after the type digit
    /// (`"probe"`, a Socket.IO packet like `"2[\"chat message\",\"hi\"]"`), or null when
    /// empty or binary (see `data_hex`).
    pub data: Value,
    /// Engine.IO protocol revision (4, or 3 for `EIO=3`).
    pub version: u8,
    /// A binary message (a binary WebSocket message, or `b`+base64 in a polling body).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
    /// A polling packet whose binary data travelled as base64 text (`b…`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub base64: bool,
    /// Length of the binary data in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_len: Option<u64>,
    /// The binary data's first 64 bytes in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_hex: Option<String>,
    /// `ping`/`pong` with data `probe`: the test of a new WebSocket during the upgrade.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub probe: bool,
    /// Position in the polling body (0 for the first packet) and how many it held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_index: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_count: Option<u32>,
    /// This binary message is an attachment of the Socket.IO packet described here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentRef>,
    /// The open packet's JSON, decoded (also in `data`).
    #[serde(skip)]
    pub open: Option<EioOpen>,
    /// The Engine.IO session id this packet belongs to, when known (from the request's
    /// `sid=` or from the open packet).
    #[serde(skip)]
    pub sid: Option<String>,
    /// The binary data, whole.
    #[serde(skip)]
    pub bytes: Option<Vec<u8>>,
}

impl EioPacket {
    fn new(packet_type: EioType, transport: EioTransport, version: u8) -> EioPacket {
        EioPacket {
            packet_type,
            transport,
            data: Value::Null,
            version,
            binary: false,
            base64: false,
            data_len: None,
            data_hex: None,
            probe: false,
            payload_index: None,
            payload_count: None,
            attachment: None,
            open: None,
            sid: None,
            bytes: None,
        }
    }

    fn binary_message(bytes: &[u8], transport: EioTransport, version: u8) -> EioPacket {
        let mut p = EioPacket::new(EioType::Message, transport, version);
        p.binary = true;
        p.data_len = Some(bytes.len() as u64);
        p.data_hex = Some(hex(&bytes[..bytes.len().min(HEX_SHOWN)]));
        p.bytes = Some(bytes.to_vec());
        p
    }

    /// The text data, for text packets.
    pub fn text(&self) -> Option<&str> {
        self.data.as_str()
    }

    /// The key of this packet's wording in `socketio.toml`, table `[engineio]`:
    /// `open`, `close`, `ping`, `ping_probe`, `pong`, `pong_probe`, `message`,
    /// `message_binary`, `attachment`, `upgrade`, `noop`.
    pub fn wording_key(&self) -> &'static str {
        match self.packet_type {
            EioType::Ping if self.probe => "ping_probe",
            EioType::Pong if self.probe => "pong_probe",
            // Engine.IO v3: the client pings, the server answers.
            EioType::Open if self.version == 3 => "open_v3",
            EioType::Ping if self.version == 3 => "ping_v3",
            EioType::Pong if self.version == 3 => "pong_v3",
            EioType::Message if self.attachment.is_some() => "attachment",
            EioType::Message if self.binary => "message_binary",
            t => t.name(),
        }
    }

    /// Values for the wording's `{placeholders}`: `transport`, `version`, and where they
    /// apply `sid`, `upgrades`, `ping_interval`, `ping_timeout`, `max_payload`, `data`,
    /// `data_len`, `count` (packets in the polling body), `num`, `of`, `event`,
    /// `socketio_type`, `namespace`.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("transport", self.transport.name().to_string()),
            ("version", self.version.to_string()),
        ];
        if let Some(o) = &self.open {
            v.push(("sid", o.sid.clone()));
            let up = if o.upgrades.is_empty() {
                "none".to_string()
            } else {
                o.upgrades.join(", ")
            };
            v.push(("upgrades", up));
            v.push(("ping_interval", o.ping_interval.to_string()));
            v.push(("ping_timeout", o.ping_timeout.to_string()));
            v.push((
                "max_payload",
                o.max_payload
                    .map_or("unlimited".to_string(), |m| m.to_string()),
            ));
        } else if let Some(s) = &self.sid {
            v.push(("sid", s.clone()));
        }
        if let Some(t) = self.text() {
            v.push(("data", t.to_string()));
        }
        if let Some(n) = self.data_len {
            v.push(("data_len", n.to_string()));
        }
        if let Some(n) = self.payload_count {
            v.push(("count", n.to_string()));
        }
        if let Some(a) = &self.attachment {
            v.push(("num", a.num.to_string()));
            v.push(("of", a.of.to_string()));
            v.push(("socketio_type", a.packet_type.name().to_string()));
            v.push(("namespace", a.namespace.clone()));
            v.push(("event", a.event.clone().unwrap_or_default()));
        }
        v
    }
}

/// Why bytes are not an Engine.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EioError {
    /// An empty packet (no type digit).
    Empty,
    /// The first character is not a packet type 0–6.
    UnknownType(String),
    /// A polling body whose framing is broken (v3 length prefix, base64).
    BadPayload,
    /// An open packet whose JSON lacks sid, pingInterval or pingTimeout.
    BadOpen,
}

impl EioError {
    pub fn check(&self) -> Check {
        match self {
            EioError::Empty | EioError::UnknownType(_) => Check::EioUnknownType {
                found: match self {
                    EioError::UnknownType(s) => s.clone(),
                    _ => "nothing".into(),
                },
            },
            EioError::BadPayload => Check::EioBadPayload,
            EioError::BadOpen => Check::EioBadOpen,
        }
    }
}

/// One text packet: a type digit and its data (a WebSocket text message, or one
/// packet of a polling body).
pub fn parse_text(s: &str, transport: EioTransport, version: u8) -> Result<EioPacket, EioError> {
    let Some(first) = s.chars().next() else {
        return Err(EioError::Empty);
    };
    let t = first
        .to_digit(10)
        .and_then(|d| EioType::from_code(d as u8))
        .ok_or_else(|| EioError::UnknownType(first.to_string()))?;
    let rest = &s[first.len_utf8()..];
    let mut p = EioPacket::new(t, transport, version);
    if t == EioType::Open {
        if super::app::json_depth(rest) > super::app::MAX_JSON_DEPTH {
            return Err(EioError::BadOpen);
        }
        let v: Value = serde_json::from_str(rest).map_err(|_| EioError::BadOpen)?;
        let open: EioOpen = serde_json::from_value(v.clone()).map_err(|_| EioError::BadOpen)?;
        p.sid = Some(open.sid.clone());
        p.open = Some(open);
        p.data = v;
        return Ok(p);
    }
    if !rest.is_empty() {
        p.data = Value::String(rest.to_string());
    }
    p.probe = matches!(t, EioType::Ping | EioType::Pong) && rest == "probe";
    Ok(p)
}

/// One binary WebSocket message. In v4 it is a binary `message` whole; in v3 its first
/// byte is the packet type (4).
pub fn parse_binary(
    bytes: &[u8],
    transport: EioTransport,
    version: u8,
) -> Result<EioPacket, EioError> {
    if version == 3 && transport == EioTransport::WebSocket {
        let Some((&t, rest)) = bytes.split_first() else {
            return Err(EioError::Empty);
        };
        return match EioType::from_code(t) {
            Some(EioType::Message) => Ok(EioPacket::binary_message(rest, transport, version)),
            _ => Err(EioError::UnknownType(format!("0x{t:02x}"))),
        };
    }
    Ok(EioPacket::binary_message(bytes, transport, version))
}

/// The most packets of one polling body decoded and shown: a body is up to
/// `--max-message` bytes, and one of millions of 1-byte packets must not become millions
/// of events at once (they are all reported in the packet that ends the body). The rest
/// are counted (`eio-packets-not-decoded`), not decoded.
pub const MAX_BODY_PACKETS: usize = 256;

/// Every packet of a polling body, in order (index and count filled in).
pub fn parse_payload(body: &[u8], version: u8) -> Vec<Result<EioPacket, EioError>> {
    let mut out: Vec<_> = payload_packets(body, version).collect();
    let n = out.len() as u32;
    for (i, p) in out.iter_mut().enumerate() {
        if let Ok(p) = p {
            p.payload_index = Some(i as u32);
            p.payload_count = Some(n);
        }
    }
    out
}

/// The packets of a polling body one at a time, decoded as they are asked for (without
/// index and count): a caller keeps what it wants and counts the rest. After a framing
/// error nothing more comes (v3); in v4 each part between separators stands alone.
pub fn payload_packets(
    body: &[u8],
    version: u8,
) -> Box<dyn Iterator<Item = Result<EioPacket, EioError>> + '_> {
    if version == 3 {
        Box::new(payload_v3(body))
    } else {
        Box::new(body.split(|&b| b == RECORD_SEPARATOR).map(part_v4))
    }
}

fn part_v4(part: &[u8]) -> Result<EioPacket, EioError> {
    let t = EioTransport::Polling;
    if let Some(b64) = part.strip_prefix(b"b") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| EioError::BadPayload)?;
        let mut p = EioPacket::binary_message(&bytes, t, 4);
        p.base64 = true;
        Ok(p)
    } else {
        let s = std::str::from_utf8(part).map_err(|_| EioError::BadPayload)?;
        parse_text(s, t, 4)
    }
}

/// v3: `<length>:<packet>` repeated, the length in UTF-16 code units (JavaScript string
/// length); binary data as `b4<base64>`. With XHR2, a binary framing: a 0 (string) or
/// 1 (binary) byte, the length as digit bytes, 0xff, the packet.
fn payload_v3(body: &[u8]) -> impl Iterator<Item = Result<EioPacket, EioError>> + '_ {
    let t = EioTransport::Polling;
    let binary = matches!(body.first(), Some(0 | 1));
    let text = if binary {
        Ok("")
    } else {
        std::str::from_utf8(body)
    };
    let mut rest = body;
    let mut s = text.unwrap_or("");
    let mut done = false;
    let mut bad_utf8 = text.is_err();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        if bad_utf8 {
            done = true;
            bad_utf8 = false;
            return Some(Err(EioError::BadPayload));
        }
        let fail = |done: &mut bool| {
            *done = true;
            Some(Err(EioError::BadPayload))
        };
        if binary {
            let (&kind, r) = rest.split_first()?;
            let Some(ff) = r.iter().position(|&b| b == 0xff) else {
                return fail(&mut done);
            };
            let len = r[..ff].iter().try_fold(0usize, |n, &d| {
                if d > 9 {
                    None
                } else {
                    n.checked_mul(10)?.checked_add(d as usize)
                }
            });
            let data = &r[ff + 1..];
            return match len {
                Some(len) if ff > 0 && len <= data.len() && kind <= 1 => {
                    let pkt = &data[..len];
                    rest = &data[len..];
                    Some(if kind == 1 {
                        parse_binary(pkt, EioTransport::WebSocket, 3).map(|mut p| {
                            p.transport = t;
                            p
                        })
                    } else {
                        std::str::from_utf8(pkt)
                            .map_err(|_| EioError::BadPayload)
                            .and_then(|s| parse_text(s, t, 3))
                    })
                }
                _ => fail(&mut done),
            };
        }
        if s.is_empty() {
            return None;
        }
        let len = s
            .find(':')
            .and_then(|c| s[..c].parse::<usize>().ok().map(|n| (c, n)));
        let Some((colon, units)) = len else {
            return fail(&mut done);
        };
        let after = &s[colon + 1..];
        // Walk `units` UTF-16 code units.
        let mut taken = 0usize;
        let mut end = 0usize;
        for ch in after.chars() {
            if taken >= units {
                break;
            }
            taken += ch.len_utf16();
            end += ch.len_utf8();
        }
        if taken != units {
            return fail(&mut done);
        }
        let pkt = &after[..end];
        s = &after[end..];
        Some(if let Some(b64) = pkt.strip_prefix('b') {
            // `b4…`: the type digit, then base64.
            match b64
                .strip_prefix('4')
                .map(|b| base64::engine::general_purpose::STANDARD.decode(b))
            {
                Some(Ok(bytes)) => {
                    let mut p = EioPacket::binary_message(&bytes, t, 3);
                    p.base64 = true;
                    Ok(p)
                }
                _ => Err(EioError::BadPayload),
            }
        } else {
            parse_text(pkt, t, 3)
        })
    })
}

/// What an Engine.IO request URI says: `/socket.io/?EIO=4&transport=polling&sid=…`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EioUri {
    /// `EIO=` (4 when absent).
    pub version: u8,
    /// `transport=`, when it names polling or websocket.
    pub transport: Option<EioTransport>,
    pub sid: Option<String>,
}

/// Reads an Engine.IO request URI; None when the path has no `/socket.io/` and the query
/// no `EIO=`.
pub fn parse_uri(uri: &str) -> Option<EioUri> {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut u = EioUri {
        version: 4,
        ..Default::default()
    };
    let mut has_eio = false;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "EIO" => {
                has_eio = true;
                u.version = if v == "3" { 3 } else { 4 };
            }
            "transport" => {
                u.transport = match v {
                    "polling" => Some(EioTransport::Polling),
                    "websocket" => Some(EioTransport::WebSocket),
                    _ => None,
                }
            }
            "sid" if !v.is_empty() => u.sid = Some(v.to_string()),
            _ => {}
        }
    }
    (has_eio || path.contains("/socket.io/")).then_some(u)
}

/// The Engine.IO session a packet's application messages name, if any: the `sid` of an
/// Engine.IO packet (its connection's, from a request's `sid=` or the open packet), else
/// the `sid=` of an Engine.IO request — the GET that upgrades a session to WebSocket names
/// it before any Engine.IO packet crosses its connection. A bare TCP segment names none.
pub fn session_named(app: &[super::stream::AppLayer]) -> Option<String> {
    let eio = app.iter().find_map(|a| match &a.message {
        AppMessage::EngineIo(p) => p.sid.clone(),
        _ => None,
    });
    eio.or_else(|| {
        app.iter().find_map(|a| match &a.message {
            AppMessage::Http(m) if m.kind == HttpKind::Request => {
                m.uri.as_deref().and_then(parse_uri).and_then(|u| u.sid)
            }
            _ => None,
        })
    })
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// A request in flight on this connection: is it Engine.IO, and how.
#[derive(Clone, Debug)]
struct EioRequest {
    post: bool,
    uri: EioUri,
}

/// A BINARY_EVENT/BINARY_ACK waiting for its attachments, per direction.
#[derive(Clone, Debug)]
struct Attaching {
    next: u32,
    of: u32,
    packet_type: SioType,
    namespace: String,
    event: Option<String>,
    ack_id: Option<u64>,
}

/// The Engine.IO side of one TCP connection: kept by [`super::app::AppStream`] once a
/// request for an Engine.IO URI is seen on it.
#[derive(Debug)]
pub(crate) struct EioStream {
    version: u8,
    sid: Option<String>,
    /// The connection was upgraded to WebSocket (after a 101 to an Engine.IO request).
    websocket: bool,
    /// Requests per direction waiting for their response (None: not Engine.IO).
    requests: [VecDeque<Option<EioRequest>>; 2],
    attaching: [Option<Attaching>; 2],
}

impl EioStream {
    pub(crate) fn new() -> EioStream {
        EioStream {
            version: 4,
            sid: None,
            websocket: false,
            requests: [VecDeque::new(), VecDeque::new()],
            attaching: [None, None],
        }
    }

    /// About how many bytes it holds: requests waiting for their responses.
    pub(crate) fn memory(&self) -> usize {
        self.requests.iter().map(|r| r.len() * 64).sum::<usize>() + 128
    }

    pub(crate) fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    pub(crate) fn version(&self) -> u8 {
        self.version
    }

    /// Notes an HTTP request before any Engine.IO one was seen (it holds a place in the
    /// request/response order).
    pub(crate) fn other_request(&mut self, dir: Dir) {
        self.requests[idx(dir)].push_back(None);
    }

    /// Appends to `out` the Engine.IO and Socket.IO messages that `ev` carries; a body or
    /// message that is not Engine.IO gets a check on `ev` itself.
    pub(crate) fn on_event(&mut self, ev: &mut AppEvent, out: &mut Vec<AppEvent>) {
        let mut bad = None;
        match &ev.message {
            AppMessage::Http(m) => self.on_http(ev, m, out, &mut bad),
            AppMessage::WebSocket(f) if self.websocket => self.on_frame(ev, f, out, &mut bad),
            _ => {}
        }
        if let Some(c) = bad {
            ev.checks.push(c);
        }
    }

    fn on_http(
        &mut self,
        ev: &AppEvent,
        m: &HttpMessage,
        out: &mut Vec<AppEvent>,
        bad: &mut Option<Check>,
    ) {
        let d = idx(ev.dir);
        match m.kind {
            HttpKind::Request => {
                let uri = m.uri.as_deref().and_then(parse_uri);
                let req = uri.map(|uri| EioRequest {
                    post: m.method.as_deref() == Some("POST"),
                    uri,
                });
                if let Some(r) = &req {
                    self.version = r.uri.version;
                    if r.uri.sid.is_some() {
                        self.sid = r.uri.sid.clone();
                    }
                    // A body with bytes missing (gap, size limit) is not split: its
                    // StreamGap / limit check already says why.
                    if r.post
                        && r.uri.transport != Some(EioTransport::WebSocket)
                        && !m.body.is_empty()
                        && !m.body_truncated
                    {
                        self.payload(ev, &m.body, out, bad);
                    }
                }
                self.requests[d].push_back(req);
            }
            HttpKind::Response => {
                let status = m.status.unwrap_or(0);
                // Informational answers (100 Continue) do not end the request.
                if (100..200).contains(&status) && status != 101 {
                    return;
                }
                let Some(Some(req)) = self.requests[1 - d].pop_front() else {
                    return;
                };
                if status == 101 {
                    self.websocket = true;
                    self.attaching = [None, None];
                    return;
                }
                let polling = req.uri.transport != Some(EioTransport::WebSocket);
                if polling && !req.post && status == 200 && !m.body.is_empty() && !m.body_truncated
                {
                    self.payload(ev, &m.body, out, bad);
                }
            }
        }
    }

    fn on_frame(
        &mut self,
        ev: &AppEvent,
        f: &WsFrame,
        out: &mut Vec<AppEvent>,
        bad: &mut Option<Check>,
    ) {
        if f.truncated || !f.fin || f.opcode >= 8 {
            return;
        }
        let t = EioTransport::WebSocket;
        let parsed = if let Some(text) = &f.text {
            parse_text(text, t, self.version)
        } else if let Some(data) = &f.data {
            parse_binary(data, t, self.version)
        } else {
            return;
        };
        self.packet(ev, parsed, out, bad);
    }

    /// The packets of a polling body, decoded as they come: the first
    /// [`MAX_BODY_PACKETS`] (up to a broken one) are reported, the rest only counted.
    fn payload(
        &mut self,
        ev: &AppEvent,
        body: &[u8],
        out: &mut Vec<AppEvent>,
        bad: &mut Option<Check>,
    ) {
        let first = out.len();
        let (mut total, mut decoded, mut given_up) = (0u32, 0usize, 0u64);
        let mut stopped = false;
        for p in payload_packets(body, self.version) {
            total += 1;
            if stopped {
                continue;
            }
            if decoded == MAX_BODY_PACKETS {
                given_up += 1;
                continue;
            }
            let failed = p.is_err();
            let p = p.map(|mut p| {
                p.payload_index = Some(total - 1);
                p
            });
            self.packet(ev, p, out, bad);
            decoded += 1;
            stopped = failed;
        }
        for e in &mut out[first..] {
            if let AppMessage::EngineIo(p) = &mut e.message {
                p.payload_count = Some(total);
            }
        }
        if given_up > 0 {
            // Said on the body's first packet, where a reader of the body starts.
            let note = Check::EioPacketsNotDecoded {
                count: given_up,
                limit: MAX_BODY_PACKETS,
            };
            match out[first..]
                .iter_mut()
                .find(|e| matches!(e.message, AppMessage::EngineIo(_)))
            {
                Some(e) => e.checks.push(note),
                None => *bad = Some(note),
            }
        }
    }

    /// Reports one Engine.IO packet (or why it is not one), and the Socket.IO packet
    /// inside a text message.
    fn packet(
        &mut self,
        ev: &AppEvent,
        parsed: Result<EioPacket, EioError>,
        out: &mut Vec<AppEvent>,
        bad: &mut Option<Check>,
    ) {
        let d = idx(ev.dir);
        let mut p = match parsed {
            Ok(p) => p,
            Err(e) => {
                *bad = Some(e.check());
                return;
            }
        };
        if let Some(o) = &p.open {
            self.sid = Some(o.sid.clone());
        }
        p.sid = self.sid.clone();
        let mut eio_checks = Vec::new();
        let mut sio = None;
        if p.packet_type == EioType::Message {
            if p.binary {
                match self.attaching[d].as_mut() {
                    Some(a) => {
                        p.attachment = Some(AttachmentRef {
                            num: a.next,
                            of: a.of,
                            packet_type: a.packet_type,
                            namespace: a.namespace.clone(),
                            event: a.event.clone(),
                            ack_id: a.ack_id,
                        });
                        a.next += 1;
                        if a.next >= a.of {
                            self.attaching[d] = None;
                        }
                    }
                    None => eio_checks.push(Check::SioUnexpectedBinary),
                }
            } else {
                let text = p.text().unwrap_or("");
                let mut checks = Vec::new();
                if let Some(a) = self.attaching[d].take() {
                    checks.push(Check::SioAttachmentsMissing {
                        missing: (a.of - a.next) as u64,
                    });
                }
                match socketio::parse(text) {
                    Ok(s) => {
                        checks.extend(s.checks());
                        if s.attachments > 0 {
                            self.attaching[d] = Some(Attaching {
                                next: 0,
                                of: s.attachments,
                                packet_type: s.packet_type,
                                namespace: s.namespace.clone(),
                                event: s.event.clone(),
                                ack_id: s.ack_id,
                            });
                        }
                        sio = Some((s, checks));
                    }
                    Err(e) => {
                        eio_checks.extend(checks);
                        eio_checks.push(e.check());
                    }
                }
            }
        }
        out.push(AppEvent {
            dir: ev.dir,
            stream_range: ev.stream_range,
            message: AppMessage::EngineIo(p),
            checks: eio_checks,
        });
        if let Some((s, checks)) = sio {
            out.push(AppEvent {
                dir: ev.dir,
                stream_range: ev.stream_range,
                message: AppMessage::SocketIo(s),
                checks,
            });
        }
    }
}

fn idx(d: Dir) -> usize {
    match d {
        Dir::ClientToServer => 0,
        Dir::ServerToClient => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &str = r#"0{"sid":"Wm0JFyaze4SWzjoUAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

    #[test]
    fn open_packet() {
        let p = parse_text(OPEN, EioTransport::Polling, 4).unwrap();
        assert_eq!(p.packet_type, EioType::Open);
        let o = p.open.as_ref().unwrap();
        assert_eq!(o.sid, "Wm0JFyaze4SWzjoUAAAA");
        assert_eq!(o.upgrades, ["websocket"]);
        assert_eq!(
            (o.ping_interval, o.ping_timeout, o.max_payload),
            (25000, 20000, Some(1_000_000))
        );
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["packet_type"], "open");
        assert_eq!(v["transport"], "polling");
        assert_eq!(v["data"]["sid"], "Wm0JFyaze4SWzjoUAAAA");
        assert_eq!(v["data"]["pingInterval"], 25000);
        assert_eq!(v["data"]["maxPayload"], 1000000);
        // The open of a WebSocket-only connection offers no upgrade.
        let ws = r#"0{"sid":"UfNa9loifA1IuP-mAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        let p = parse_text(ws, EioTransport::WebSocket, 4).unwrap();
        assert!(p.open.unwrap().upgrades.is_empty());
        assert_eq!(
            parse_text("0{\"sid\":1}", EioTransport::WebSocket, 4),
            Err(EioError::BadOpen)
        );
    }

    #[test]
    fn every_type_and_probe() {
        let cases = [
            ("1", EioType::Close, Value::Null, false),
            ("2", EioType::Ping, Value::Null, false),
            ("3", EioType::Pong, Value::Null, false),
            ("2probe", EioType::Ping, "probe".into(), true),
            ("3probe", EioType::Pong, "probe".into(), true),
            ("40", EioType::Message, "0".into(), false),
            ("5", EioType::Upgrade, Value::Null, false),
            ("6", EioType::Noop, Value::Null, false),
        ];
        for (s, t, data, probe) in cases {
            let p = parse_text(s, EioTransport::WebSocket, 4).unwrap();
            assert_eq!((p.packet_type, &p.data, p.probe), (t, &data, probe), "{s}");
        }
        assert_eq!(
            parse_text("", EioTransport::WebSocket, 4),
            Err(EioError::Empty)
        );
        assert_eq!(
            parse_text("7", EioTransport::WebSocket, 4),
            Err(EioError::UnknownType("7".into()))
        );
        assert_eq!(
            parse_text("é", EioTransport::WebSocket, 4),
            Err(EioError::UnknownType("é".into()))
        );
        assert_eq!(
            parse_text("2probe", EioTransport::WebSocket, 4)
                .unwrap()
                .wording_key(),
            "ping_probe"
        );
    }

    #[test]
    fn polling_body_v4() {
        let body = b"40{\"sid\":\"We3xv6C4MYQApbetAAAA\"}\x1e42[\"welcome\",\"hello from the Socket.IO server\"]";
        let ps: Vec<EioPacket> = parse_payload(body, 4)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].text(), Some("0{\"sid\":\"We3xv6C4MYQApbetAAAA\"}"));
        assert_eq!(
            ps[1].text(),
            Some("2[\"welcome\",\"hello from the Socket.IO server\"]")
        );
        assert_eq!(
            (ps[1].payload_index, ps[1].payload_count),
            (Some(1), Some(2))
        );
        // Binary as `b` + base64.
        let ps = parse_payload(
            b"451-[\"file\",{\"_placeholder\":true,\"num\":0}]\x1ebiVBORw0KGgo=",
            4,
        );
        let b = ps[1].as_ref().unwrap();
        assert!(b.binary && b.base64);
        assert_eq!(
            b.bytes.as_deref(),
            Some(&[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a][..])
        );
        assert_eq!(b.data_hex.as_deref(), Some("89504e470d0a1a0a"));
        assert_eq!(
            parse_payload(b"6", 4)[0].as_ref().unwrap().packet_type,
            EioType::Noop
        );
        assert_eq!(parse_payload(b"b!!!", 4)[0], Err(EioError::BadPayload));
    }

    #[test]
    fn polling_body_v3() {
        // String framing; lengths count UTF-16 units ("é" is 1, "😀" is 2).
        let ps: Vec<EioPacket> = parse_payload("2:407:42[\"é\"]1:6".as_bytes(), 3)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(ps.len(), 3);
        assert_eq!(ps[1].text(), Some("2[\"é\"]"));
        assert_eq!(ps[2].packet_type, EioType::Noop);
        let ps = parse_payload("5:4\"😀\"".as_bytes(), 3);
        assert_eq!(ps[0].as_ref().unwrap().text(), Some("\"😀\""));
        assert_eq!(
            parse_payload("3:bé".as_bytes(), 3)[0],
            Err(EioError::BadPayload)
        );
        let ps = parse_payload(b"10:b4AQIDBA==", 3);
        assert_eq!(
            ps[0].as_ref().unwrap().bytes.as_deref(),
            Some(&[1, 2, 3, 4][..])
        );
        assert_eq!(parse_payload(b"9:40", 3)[0], Err(EioError::BadPayload));
        // XHR2 binary framing: 0 = string, 1 = binary, length digits, 0xff.
        let ps = parse_payload(&[0, 2, 0xff, b'4', b'0', 1, 3, 0xff, 4, 0xaa, 0xbb], 3);
        assert_eq!(ps[0].as_ref().unwrap().text(), Some("0"));
        let b = ps[1].as_ref().unwrap();
        assert_eq!(
            (b.binary, b.transport, b.bytes.as_deref()),
            (true, EioTransport::Polling, Some(&[0xaa, 0xbb][..]))
        );
        // v3 binary over WebSocket: the first byte is the type.
        let p = parse_binary(&[4, 1, 2], EioTransport::WebSocket, 3).unwrap();
        assert_eq!(p.bytes.as_deref(), Some(&[1, 2][..]));
    }

    #[test]
    fn uris() {
        let u =
            parse_uri("/socket.io/?EIO=4&transport=polling&t=7zu1655x&sid=Wm0JFyaze4SWzjoUAAAA")
                .unwrap();
        assert_eq!(
            (u.version, u.transport, u.sid.as_deref()),
            (4, Some(EioTransport::Polling), Some("Wm0JFyaze4SWzjoUAAAA"))
        );
        let u = parse_uri("/socket.io/?EIO=4&transport=websocket").unwrap();
        assert_eq!((u.transport, u.sid), (Some(EioTransport::WebSocket), None));
        assert_eq!(
            parse_uri("/custom/?EIO=3&transport=polling")
                .unwrap()
                .version,
            3
        );
        assert!(parse_uri("/chat").is_none());
        assert!(parse_uri("/index.html?x=EIO").is_none());
    }

    // ---- Through AppStream, with the payloads of the peers' captures ----

    use super::super::app::{AppLimits, AppStream, Application};
    use Dir::{ClientToServer as C2S, ServerToClient as S2C};

    const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn upgrade_req(uri: &str) -> Vec<u8> {
        format!("GET {uri} HTTP/1.1\r\nHost: 127.0.0.1:9107\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {WS_KEY}\r\n\r\n").into_bytes()
    }

    const RESP_101: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    /// A frame as a peer sends it: the client masks (with a fixed key), the server does not.
    fn frame(dir: Dir, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let masked = dir == C2S;
        let mut f = vec![0x80 | opcode];
        let m = if masked { 0x80 } else { 0 };
        match payload.len() {
            n @ 0..=125 => f.push(m | n as u8),
            n => {
                f.push(m | 126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        let key = [0x5a, 0x13, 0xc7, 0x02];
        if masked {
            f.extend_from_slice(&key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            f.extend_from_slice(payload);
        }
        f
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// socketio-websocket-only.pcap, stream 0: the WebSocket messages after the 101, as
    /// its expected.json lists them (`text` or binary hex).
    fn websocket_only() -> Vec<(Dir, u8, Vec<u8>)> {
        let t = |d, s: &str| (d, 1u8, s.as_bytes().to_vec());
        let b = |d, h: &str| (d, 2u8, unhex(h));
        vec![
            t(
                S2C,
                r#"0{"sid":"UfNa9loifA1IuP-mAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
            ),
            t(C2S, "40"),
            t(S2C, r#"40{"sid":"pcnuZAeivwZHXu3uAAAA"}"#),
            t(S2C, r#"42["welcome","hello from the Socket.IO server"]"#),
            t(C2S, r#"42["chat message","hi everyone"]"#),
            t(S2C, r#"42["chat message","hi everyone"]"#),
            t(C2S, r#"420["add",2,3]"#),
            t(S2C, "430[5]"),
            t(
                C2S,
                r#"451-1["upload","hello.bin",{"_placeholder":true,"num":0}]"#,
            ),
            b(
                C2S,
                "62696e617279206174746163686d656e743a200001020320726177206279746573",
            ),
            t(S2C, r#"431[{"name":"hello.bin","bytes":33}]"#),
            t(
                S2C,
                r#"451-["file","signature.png",{"_placeholder":true,"num":0}]"#,
            ),
            b(S2C, "89504e470d0a1a0a"),
            t(S2C, r#"420["question","ready to leave?"]"#),
            t(C2S, r#"430["yes"]"#),
            t(C2S, "40/chat,"),
            t(S2C, r#"40/chat,{"sid":"FHyKxYkpESNwc6r9AAAB"}"#),
            t(C2S, r#"42/chat,0["say","hello, /chat"]"#),
            t(S2C, r#"43/chat,0["ok"]"#),
            t(S2C, r#"42/chat,["said","you said: hello, /chat"]"#),
            t(
                C2S,
                r#"451-/chat,1["upload","chat.bin",{"_placeholder":true,"num":0}]"#,
            ),
            b(C2S, "0102030405"),
            t(S2C, r#"43/chat,1[{"name":"chat.bin","bytes":5}]"#),
            t(C2S, "41/chat,"),
            t(C2S, "41"),
        ]
    }

    fn run_websocket_only(split: usize) -> (AppStream, Vec<AppEvent>) {
        let mut s = AppStream::new(AppLimits::default());
        let mut ev = s.push(C2S, &upgrade_req("/socket.io/?EIO=4&transport=websocket"));
        ev.extend(s.push(S2C, RESP_101));
        for (dir, op, payload) in websocket_only() {
            for part in frame(dir, op, &payload).chunks(split) {
                ev.extend(s.push(dir, part));
            }
        }
        (s, ev)
    }

    fn eio_of(e: &AppEvent) -> &EioPacket {
        match &e.message {
            AppMessage::EngineIo(p) => p,
            other => panic!("not engineio: {other:?}"),
        }
    }

    #[test]
    fn websocket_only_capture() {
        let (s, ev) = run_websocket_only(usize::MAX);
        assert_eq!(s.application(), Some(Application::SocketIo));
        assert_eq!(
            (s.engineio_sid(), s.engineio_version()),
            (Some("UfNa9loifA1IuP-mAAAA"), Some(4))
        );
        assert!(
            ev.iter().all(|e| e.checks.is_empty()),
            "{:?}",
            ev.iter()
                .filter(|e| !e.checks.is_empty())
                .collect::<Vec<_>>()
        );
        let eio: Vec<&AppEvent> = ev
            .iter()
            .filter(|e| e.message.protocol() == "engineio")
            .collect();
        assert_eq!(eio.len(), 25);
        // Each Engine.IO packet follows the WebSocket message that carried it, at its offsets.
        for (k, e) in ev.iter().enumerate() {
            if e.message.protocol() == "engineio" {
                assert_eq!(ev[k - 1].message.protocol(), "websocket");
                assert_eq!(
                    (ev[k - 1].dir, ev[k - 1].stream_range),
                    (e.dir, e.stream_range)
                );
            }
        }
        let open = eio_of(eio[0]);
        assert_eq!(
            (open.packet_type, open.open.as_ref().unwrap().ping_interval),
            (EioType::Open, 25000)
        );
        let sio: Vec<(Dir, serde_json::Value)> = ev
            .iter()
            .filter_map(|e| match &e.message {
                AppMessage::SocketIo(p) => Some((e.dir, serde_json::to_value(p).unwrap())),
                _ => None,
            })
            .collect();
        // The expected.json's socketio list: type, namespace, event, args, ack_id, attachments.
        let want = [
            (C2S, "CONNECT", "/", None, "null", None, 0),
            (S2C, "CONNECT", "/", None, "null", None, 0),
            (
                S2C,
                "EVENT",
                "/",
                Some("welcome"),
                r#"["hello from the Socket.IO server"]"#,
                None,
                0,
            ),
            (
                C2S,
                "EVENT",
                "/",
                Some("chat message"),
                r#"["hi everyone"]"#,
                None,
                0,
            ),
            (
                S2C,
                "EVENT",
                "/",
                Some("chat message"),
                r#"["hi everyone"]"#,
                None,
                0,
            ),
            (C2S, "EVENT", "/", Some("add"), "[2,3]", Some(0), 0),
            (S2C, "ACK", "/", None, "[5]", Some(0), 0),
            (
                C2S,
                "BINARY_EVENT",
                "/",
                Some("upload"),
                r#"["hello.bin",{"_placeholder":true,"num":0}]"#,
                Some(1),
                1,
            ),
            (
                S2C,
                "ACK",
                "/",
                None,
                r#"[{"bytes":33,"name":"hello.bin"}]"#,
                Some(1),
                0,
            ),
            (
                S2C,
                "BINARY_EVENT",
                "/",
                Some("file"),
                r#"["signature.png",{"_placeholder":true,"num":0}]"#,
                None,
                1,
            ),
            (
                S2C,
                "EVENT",
                "/",
                Some("question"),
                r#"["ready to leave?"]"#,
                Some(0),
                0,
            ),
            (C2S, "ACK", "/", None, r#"["yes"]"#, Some(0), 0),
            (C2S, "CONNECT", "/chat", None, "null", None, 0),
            (S2C, "CONNECT", "/chat", None, "null", None, 0),
            (
                C2S,
                "EVENT",
                "/chat",
                Some("say"),
                r#"["hello, /chat"]"#,
                Some(0),
                0,
            ),
            (S2C, "ACK", "/chat", None, r#"["ok"]"#, Some(0), 0),
            (
                S2C,
                "EVENT",
                "/chat",
                Some("said"),
                r#"["you said: hello, /chat"]"#,
                None,
                0,
            ),
            (
                C2S,
                "BINARY_EVENT",
                "/chat",
                Some("upload"),
                r#"["chat.bin",{"_placeholder":true,"num":0}]"#,
                Some(1),
                1,
            ),
            (
                S2C,
                "ACK",
                "/chat",
                None,
                r#"[{"bytes":5,"name":"chat.bin"}]"#,
                Some(1),
                0,
            ),
            (C2S, "DISCONNECT", "/chat", None, "null", None, 0),
            (C2S, "DISCONNECT", "/", None, "null", None, 0),
        ];
        assert_eq!(sio.len(), want.len());
        for ((dir, v), (wdir, ty, ns, event, args, ack, att)) in sio.iter().zip(want) {
            assert_eq!(*dir, wdir, "{v}");
            assert_eq!(v["packet_type"], ty, "{v}");
            assert_eq!(v["namespace"], ns, "{v}");
            assert_eq!(v["event"].as_str(), event, "{v}");
            assert_eq!(v["args"].to_string(), args, "{v}");
            assert_eq!(v["ack_id"].as_u64(), ack, "{v}");
            assert_eq!(v["attachments"], att, "{v}");
        }
        assert_eq!(sio[1].1["data"]["sid"], "pcnuZAeivwZHXu3uAAAA");
        // The binary messages are linked to the packets whose placeholders they fill.
        let bins: Vec<&EioPacket> = eio.iter().map(|e| eio_of(e)).filter(|p| p.binary).collect();
        assert_eq!(bins.len(), 3);
        let a = bins[0].attachment.as_ref().unwrap();
        assert_eq!(
            (a.num, a.of, a.packet_type, a.event.as_deref(), a.ack_id),
            (0, 1, SioType::BinaryEvent, Some("upload"), Some(1))
        );
        assert_eq!(
            bins[0].bytes.as_deref(),
            Some(&b"binary attachment: \x00\x01\x02\x03 raw bytes"[..])
        );
        assert_eq!(bins[1].data_hex.as_deref(), Some("89504e470d0a1a0a"));
        assert_eq!(bins[2].attachment.as_ref().unwrap().namespace, "/chat");
        assert_eq!(bins[2].wording_key(), "attachment");
        // JSON of an Engine.IO layer.
        let v = serde_json::to_value(&eio[9].message).unwrap();
        assert_eq!(v["packet_type"], "message");
        assert_eq!(v["transport"], "websocket");
        assert_eq!(v["binary"], true);
        assert_eq!(v["attachment"]["event"], "upload");
        let v = serde_json::to_value(&eio[4].message).unwrap();
        assert_eq!(v["data"], r#"2["chat message","hi everyone"]"#);
    }

    #[test]
    fn websocket_split_anywhere() {
        let (_, all) = run_websocket_only(usize::MAX);
        for split in [1, 2, 7, 100] {
            let (_, ev) = run_websocket_only(split);
            assert!(ev == all, "split {split}");
        }
    }

    fn ok_response(body: &[u8]) -> Vec<u8> {
        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\ncache-control: no-store\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
        r.extend_from_slice(body);
        r
    }

    fn protocols(ev: &[AppEvent]) -> Vec<&'static str> {
        ev.iter().map(|e| e.message.protocol()).collect()
    }

    #[test]
    fn polling_capture() {
        // Stream 3 of socketio-polling-upgrade.pcap: a poll answered with two packets.
        let mut s = AppStream::new(AppLimits::default());
        let ev = s.push(C2S, b"GET /socket.io/?EIO=4&transport=polling&t=7zu18vg9&sid=Wm0JFyaze4SWzjoUAAAA HTTP/1.1\r\nUser-Agent: node-XMLHttpRequest\r\nAccept: */*\r\nHost: 127.0.0.1:9106\r\nConnection: close\r\n\r\n");
        assert_eq!(protocols(&ev), ["http"]);
        assert_eq!(
            (s.application(), s.engineio_sid()),
            (Some(Application::SocketIo), Some("Wm0JFyaze4SWzjoUAAAA"))
        );
        let body = b"40{\"sid\":\"We3xv6C4MYQApbetAAAA\"}\x1e42[\"welcome\",\"hello from the Socket.IO server\"]";
        assert_eq!(body.len(), 80);
        let ev = s.push(S2C, &ok_response(body));
        assert_eq!(
            protocols(&ev),
            ["http", "engineio", "socketio", "engineio", "socketio"]
        );
        assert!(ev
            .iter()
            .all(|e| e.checks.is_empty() && e.stream_range == ev[0].stream_range));
        let p = eio_of(&ev[3]);
        assert_eq!(
            (p.transport, p.payload_index, p.payload_count),
            (EioTransport::Polling, Some(1), Some(2))
        );
        assert_eq!(p.sid.as_deref(), Some("Wm0JFyaze4SWzjoUAAAA"));

        // Stream 1: the client's CONNECT in a POST; the server's "ok" is not Engine.IO.
        let mut s = AppStream::new(AppLimits::default());
        let ev = s.push(C2S, b"POST /socket.io/?EIO=4&transport=polling&t=7zu1655x&sid=Wm0JFyaze4SWzjoUAAAA HTTP/1.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\nHost: 127.0.0.1:9106\r\nConnection: close\r\n\r\n40");
        assert_eq!(protocols(&ev), ["http", "engineio", "socketio"]);
        let ev = s.push(S2C, &ok_response(b"ok"));
        assert_eq!(protocols(&ev), ["http"]);
        assert!(ev[0].checks.is_empty());

        // Stream 0: the handshake; the open packet gives the sid.
        let mut s = AppStream::new(AppLimits::default());
        s.push(C2S, b"GET /socket.io/?EIO=4&transport=polling&t=7zu0qagw HTTP/1.1\r\nHost: 127.0.0.1:9106\r\n\r\n");
        assert_eq!(s.engineio_sid(), None);
        let ev = s.push(S2C, &ok_response(br#"0{"sid":"Wm0JFyaze4SWzjoUAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#));
        assert_eq!(protocols(&ev), ["http", "engineio"]);
        assert_eq!(s.engineio_sid(), Some("Wm0JFyaze4SWzjoUAAAA"));
        // Keep-alive: a second poll on the same connection, answered with a binary attachment.
        s.push(C2S, b"GET /socket.io/?EIO=4&transport=polling&t=x&sid=Wm0JFyaze4SWzjoUAAAA HTTP/1.1\r\n\r\n");
        let ev = s.push(S2C, &ok_response(b"451-[\"file\",\"signature.png\",{\"_placeholder\":true,\"num\":0}]\x1ebiVBORw0KGgo="));
        assert_eq!(protocols(&ev), ["http", "engineio", "socketio", "engineio"]);
        let p = eio_of(&ev[3]);
        assert!(
            p.base64
                && p.attachment
                    .as_ref()
                    .is_some_and(|a| a.event.as_deref() == Some("file"))
        );
        assert!(ev.iter().all(|e| e.checks.is_empty()));
        // A body with a hole is not split into packets.
        s.push(
            C2S,
            b"GET /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\n\r\n",
        );
        s.push(S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n42[");
        let ev = s.gap(S2C, 7);
        assert_eq!(protocols(&ev), ["http"]);
        assert_eq!(
            ev[0].checks.iter().map(Check::code).collect::<Vec<_>>(),
            ["stream-gap"]
        );
        // An error answer is not decoded.
        s.push(
            C2S,
            b"GET /socket.io/?EIO=4&transport=polling&sid=nope HTTP/1.1\r\n\r\n",
        );
        let ev = s.push(S2C, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 41\r\n\r\n{\"code\":1,\"message\":\"Session ID unknown\"}"[..].as_ref());
        assert_eq!(protocols(&ev), ["http"]);
    }

    /// A body of more packets than are decoded: the first MAX_BODY_PACKETS are reported
    /// (each knowing the body's whole count), the rest counted in a note on the first.
    #[test]
    fn a_body_of_many_packets_is_decoded_up_to_the_limit() {
        let n = MAX_BODY_PACKETS + 1000;
        for v in [4u8, 3] {
            let body: Vec<u8> = if v == 4 {
                vec!["6"; n].join("\x1e").into_bytes()
            } else {
                "1:6".repeat(n).into_bytes()
            };
            let mut s = AppStream::new(AppLimits::default());
            s.push(
                C2S,
                format!("GET /socket.io/?EIO={v}&transport=polling&sid=x HTTP/1.1\r\n\r\n")
                    .as_bytes(),
            );
            let ev = s.push(S2C, &ok_response(&body));
            assert_eq!(ev.len(), 1 + MAX_BODY_PACKETS, "v{v}");
            let eio: Vec<&EioPacket> = ev[1..].iter().map(eio_of).collect();
            assert!(eio.iter().all(|p| p.packet_type == EioType::Noop));
            assert!(eio.iter().all(|p| p.payload_count == Some(n as u32)));
            assert_eq!(eio[9].payload_index, Some(9));
            let codes: Vec<Vec<(&str, Vec<(&str, String)>)>> = ev
                .iter()
                .map(|e| e.checks.iter().map(|c| (c.code(), c.params())).collect())
                .collect();
            assert_eq!(
                codes[1],
                [(
                    "eio-packets-not-decoded",
                    vec![
                        ("count", "1000".to_string()),
                        ("limit", MAX_BODY_PACKETS.to_string())
                    ]
                )],
                "v{v}"
            );
            assert!(codes
                .iter()
                .enumerate()
                .all(|(i, c)| i == 1 || c.is_empty()));
        }
        // Up to the limit, nothing is said.
        let mut s = AppStream::new(AppLimits::default());
        s.push(
            C2S,
            b"GET /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\n\r\n",
        );
        let body = vec!["6"; MAX_BODY_PACKETS].join("\x1e");
        let ev = s.push(S2C, &ok_response(body.as_bytes()));
        assert_eq!(ev.len(), 1 + MAX_BODY_PACKETS);
        assert!(ev.iter().all(|e| e.checks.is_empty()));
    }

    #[test]
    fn plain_websocket_is_not_socketio() {
        let mut s = AppStream::new(AppLimits::default());
        s.push(C2S, &upgrade_req("/chat"));
        s.push(S2C, RESP_101);
        let ev = s.push(S2C, &frame(S2C, 1, br#"42["chat message","hi"]"#));
        assert_eq!(protocols(&ev), ["websocket"]);
        assert_eq!(s.application(), Some(Application::WebSocket));
        // A page fetched before the Engine.IO request on the same connection keeps its order.
        let mut s = AppStream::new(AppLimits::default());
        s.push(C2S, b"GET /index.html HTTP/1.1\r\n\r\n");
        s.push(
            C2S,
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n",
        );
        let ev = s.push(S2C, &ok_response(b"6"));
        assert_eq!(protocols(&ev), ["http"]);
        let ev = s.push(S2C, &ok_response(b"6"));
        assert_eq!(protocols(&ev), ["http", "engineio"]);
    }

    #[test]
    fn broken_packets_are_flagged() {
        let mut s = AppStream::new(AppLimits::default());
        s.push(C2S, &upgrade_req("/socket.io/?EIO=4&transport=websocket"));
        s.push(S2C, RESP_101);
        let codes = |ev: &[AppEvent]| -> Vec<Vec<&'static str>> {
            ev.iter()
                .map(|e| e.checks.iter().map(Check::code).collect())
                .collect()
        };
        let ev = s.push(S2C, &frame(S2C, 1, b"hello"));
        assert_eq!(codes(&ev), [vec!["eio-unknown-type"]]);
        let ev = s.push(S2C, &frame(S2C, 2, b"\x01\x02"));
        assert_eq!(codes(&ev), [vec![], vec!["sio-unexpected-binary"]]);
        let ev = s.push(S2C, &frame(S2C, 1, b"4hello"));
        assert_eq!(codes(&ev), [vec![], vec!["sio-unknown-type"]]);
        let ev = s.push(S2C, &frame(S2C, 1, b"42[\"x\""));
        assert_eq!(codes(&ev), [vec![], vec!["sio-bad-json"]]);
        s.push(
            S2C,
            &frame(
                S2C,
                1,
                br#"452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            ),
        );
        s.push(S2C, &frame(S2C, 2, b"\x01"));
        let ev = s.push(S2C, &frame(S2C, 1, br#"42["y"]"#));
        assert_eq!(
            codes(&ev),
            [vec![], vec![], vec!["sio-attachments-missing"]]
        );
        let ev = s.push(S2C, &frame(S2C, 1, b"431"));
        assert_eq!(codes(&ev), [vec![], vec![], vec!["sio-bad-payload"]]);
        let mut p = AppStream::new(AppLimits::default());
        p.push(
            C2S,
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n",
        );
        let ev = p.push(S2C, &ok_response(b"40\x1eb!!\x1e6"));
        assert_eq!(protocols(&ev), ["http", "engineio", "socketio"]);
        assert_eq!(codes(&ev)[0], ["eio-bad-payload"]);
    }

    #[test]
    fn engineio_v3_over_websocket_and_polling() {
        let mut s = AppStream::new(AppLimits::default());
        s.push(
            C2S,
            b"GET /socket.io/?EIO=3&transport=polling HTTP/1.1\r\n\r\n",
        );
        let ev = s.push(S2C, &ok_response(br#"79:0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}2:40"#));
        assert_eq!(protocols(&ev), ["http", "engineio", "engineio", "socketio"]);
        assert!(ev.iter().all(|e| e.checks.is_empty()), "{ev:?}");
        assert_eq!(eio_of(&ev[1]).version, 3);
        let mut s = AppStream::new(AppLimits::default());
        s.push(
            C2S,
            &upgrade_req("/socket.io/?EIO=3&transport=websocket&sid=abc"),
        );
        s.push(S2C, RESP_101);
        s.push(
            C2S,
            &frame(C2S, 1, br#"451-["f",{"_placeholder":true,"num":0}]"#),
        );
        let ev = s.push(C2S, &frame(C2S, 2, b"\x04\xaa"));
        let p = eio_of(&ev[1]);
        assert_eq!(
            (p.bytes.as_deref(), p.attachment.is_some()),
            (Some(&[0xaa][..]), true)
        );
    }

    /// Random packets from the grammar's own pieces: decoding and tracking never panic.
    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 11;
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let pieces: [&[u8]; 24] = [
            b"0",
            b"1",
            b"2",
            b"3",
            b"4",
            b"5",
            b"6",
            b"9",
            b"-",
            b"/chat",
            b",",
            b"[",
            b"]",
            b"{",
            b"}",
            b"\"x\"",
            b"\x1e",
            b"b",
            b"AQID",
            b"probe",
            b"{\"_placeholder\":true,\"num\":0}",
            b":",
            b"\xff",
            "é".as_bytes(),
        ];
        let mut tracker = super::super::socketio::SessionTracker::new();
        for round in 0..200u32 {
            let mut s = AppStream::new(AppLimits::default());
            let ws = round % 2 == 0;
            let v = if round % 5 == 0 { 3 } else { 4 };
            if ws {
                s.push(
                    C2S,
                    &upgrade_req(&format!(
                        "/socket.io/?EIO={v}&transport=websocket&sid=s{}",
                        round % 7
                    )),
                );
                s.push(S2C, RESP_101);
            }
            for k in 0..40u64 {
                let mut body = Vec::new();
                for _ in 0..next() % 12 {
                    body.extend_from_slice(pieces[next() % pieces.len()]);
                }
                let dir = if next() % 2 == 0 { C2S } else { S2C };
                let bytes = if ws {
                    frame(
                        dir,
                        if next() % 4 == 0 { 2 } else { 1 },
                        &body[..body.len().min(300)],
                    )
                } else if dir == C2S {
                    let mut r = format!("POST /socket.io/?EIO={v}&transport=polling&sid=s{} HTTP/1.1\r\nContent-Length: {}\r\n\r\n", round % 7, body.len()).into_bytes();
                    r.extend_from_slice(&body);
                    r
                } else {
                    s.push(
                        C2S,
                        format!("GET /socket.io/?EIO={v}&transport=polling HTTP/1.1\r\n\r\n")
                            .as_bytes(),
                    );
                    ok_response(&body)
                };
                let _ = parse_payload(&body, v);
                if let Ok(t) = std::str::from_utf8(&body) {
                    let _ = super::super::socketio::parse(t);
                }
                for e in s.push(dir, &bytes) {
                    let _ = serde_json::to_string(&e.message).unwrap();
                    tracker.observe(round, k, crate::frame::Timestamp::new(k as i64, 0), &e);
                }
            }
        }
        let _ = tracker.finish();
    }
}
