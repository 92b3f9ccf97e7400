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
    pub const ALL: [EioType; 7] =
        [EioType::Open, EioType::Close, EioType::Ping, EioType::Pong, EioType::Message, EioType::Upgrade, EioType::Noop];

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
        let mut v = vec![("transport", self.transport.name().to_string()), ("version", self.version.to_string())];
        if let Some(o) = &self.open {
            v.push(("sid", o.sid.clone()));
            let up = if o.upgrades.is_empty() { "none".to_string() } else { o.upgrades.join(", ") };
            v.push(("upgrades", up));
            v.push(("ping_interval", o.ping_interval.to_string()));
            v.push(("ping_timeout", o.ping_timeout.to_string()));
            v.push(("max_payload", o.max_payload.map_or("unlimited".to_string(), |m| m.to_string())));
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
    let Some(first) = s.chars().next() else { return Err(EioError::Empty) };
    let t = first
        .to_digit(10)
        .and_then(|d| EioType::from_code(d as u8))
        .ok_or_else(|| EioError::UnknownType(first.to_string()))?;
    let rest = &s[first.len_utf8()..];
    let mut p = EioPacket::new(t, transport, version);
    if t == EioType::Open {
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
pub fn parse_binary(bytes: &[u8], transport: EioTransport, version: u8) -> Result<EioPacket, EioError> {
    if version == 3 && transport == EioTransport::WebSocket {
        let Some((&t, rest)) = bytes.split_first() else { return Err(EioError::Empty) };
        return match EioType::from_code(t) {
            Some(EioType::Message) => Ok(EioPacket::binary_message(rest, transport, version)),
            _ => Err(EioError::UnknownType(format!("0x{t:02x}"))),
        };
    }
    Ok(EioPacket::binary_message(bytes, transport, version))
}

/// Every packet of a polling body, in order (index and count filled in).
pub fn parse_payload(body: &[u8], version: u8) -> Vec<Result<EioPacket, EioError>> {
    let mut out = if version == 3 { parse_payload_v3(body) } else { parse_payload_v4(body) };
    let n = out.len() as u32;
    for (i, p) in out.iter_mut().enumerate() {
        if let Ok(p) = p {
            p.payload_index = Some(i as u32);
            p.payload_count = Some(n);
        }
    }
    out
}

fn parse_payload_v4(body: &[u8]) -> Vec<Result<EioPacket, EioError>> {
    let t = EioTransport::Polling;
    body.split(|&b| b == RECORD_SEPARATOR)
        .map(|part| {
            if let Some(b64) = part.strip_prefix(b"b") {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| EioError::BadPayload)?;
                let mut p = EioPacket::binary_message(&bytes, t, 4);
                p.base64 = true;
                Ok(p)
            } else {
                let s = std::str::from_utf8(part).map_err(|_| EioError::BadPayload)?;
                parse_text(s, t, 4)
            }
        })
        .collect()
}

/// v3: `<length>:<packet>` repeated, the length in UTF-16 code units (JavaScript string
/// length); binary data as `b4<base64>`. With XHR2, a binary framing: a 0 (string) or
/// 1 (binary) byte, the length as digit bytes, 0xff, the packet.
fn parse_payload_v3(body: &[u8]) -> Vec<Result<EioPacket, EioError>> {
    let t = EioTransport::Polling;
    let mut out = Vec::new();
    if matches!(body.first(), Some(0 | 1)) {
        let mut rest = body;
        while let Some((&kind, r)) = rest.split_first() {
            let Some(ff) = r.iter().position(|&b| b == 0xff) else {
                out.push(Err(EioError::BadPayload));
                break;
            };
            let len = r[..ff].iter().try_fold(0usize, |n, &d| {
                if d > 9 { None } else { n.checked_mul(10)?.checked_add(d as usize) }
            });
            let data = &r[ff + 1..];
            match len {
                Some(len) if ff > 0 && len <= data.len() && kind <= 1 => {
                    let pkt = &data[..len];
                    out.push(if kind == 1 {
                        parse_binary(pkt, EioTransport::WebSocket, 3).map(|mut p| {
                            p.transport = t;
                            p
                        })
                    } else {
                        std::str::from_utf8(pkt).map_err(|_| EioError::BadPayload).and_then(|s| parse_text(s, t, 3))
                    });
                    rest = &data[len..];
                }
                _ => {
                    out.push(Err(EioError::BadPayload));
                    break;
                }
            }
        }
        return out;
    }
    let Ok(mut s) = std::str::from_utf8(body) else { return vec![Err(EioError::BadPayload)] };
    while !s.is_empty() {
        let len = s.find(':').and_then(|c| s[..c].parse::<usize>().ok().map(|n| (c, n)));
        let Some((colon, units)) = len else {
            out.push(Err(EioError::BadPayload));
            break;
        };
        let rest = &s[colon + 1..];
        // Walk `units` UTF-16 code units.
        let mut taken = 0usize;
        let mut end = 0usize;
        for ch in rest.chars() {
            if taken >= units {
                break;
            }
            taken += ch.len_utf16();
            end += ch.len_utf8();
        }
        if taken != units {
            out.push(Err(EioError::BadPayload));
            break;
        }
        let pkt = &rest[..end];
        out.push(if let Some(b64) = pkt.strip_prefix('b') {
            // `b4…`: the type digit, then base64.
            match (b64.chars().next(), base64::engine::general_purpose::STANDARD.decode(&b64[b64.len().min(1)..])) {
                (Some('4'), Ok(bytes)) => {
                    let mut p = EioPacket::binary_message(&bytes, t, 3);
                    p.base64 = true;
                    Ok(p)
                }
                _ => Err(EioError::BadPayload),
            }
        } else {
            parse_text(pkt, t, 3)
        });
        s = &rest[end..];
    }
    out
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
    let mut u = EioUri { version: 4, ..Default::default() };
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

    fn on_http(&mut self, ev: &AppEvent, m: &HttpMessage, out: &mut Vec<AppEvent>, bad: &mut Option<Check>) {
        let d = idx(ev.dir);
        match m.kind {
            HttpKind::Request => {
                let uri = m.uri.as_deref().and_then(parse_uri);
                let req = uri.map(|uri| EioRequest { post: m.method.as_deref() == Some("POST"), uri });
                if let Some(r) = &req {
                    self.version = r.uri.version;
                    if r.uri.sid.is_some() {
                        self.sid = r.uri.sid.clone();
                    }
                    if r.post && r.uri.transport != Some(EioTransport::WebSocket) && !m.body.is_empty() {
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
                let Some(Some(req)) = self.requests[1 - d].pop_front() else { return };
                if status == 101 {
                    self.websocket = true;
                    self.attaching = [None, None];
                    return;
                }
                let polling = req.uri.transport != Some(EioTransport::WebSocket);
                if polling && !req.post && status == 200 && !m.body.is_empty() {
                    self.payload(ev, &m.body, out, bad);
                }
            }
        }
    }

    fn on_frame(&mut self, ev: &AppEvent, f: &WsFrame, out: &mut Vec<AppEvent>, bad: &mut Option<Check>) {
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

    fn payload(&mut self, ev: &AppEvent, body: &[u8], out: &mut Vec<AppEvent>, bad: &mut Option<Check>) {
        for p in parse_payload(body, self.version) {
            let failed = p.is_err();
            self.packet(ev, p, out, bad);
            if failed {
                break;
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
                    checks.push(Check::SioAttachmentsMissing { missing: (a.of - a.next) as u64 });
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
        out.push(AppEvent { dir: ev.dir, stream_range: ev.stream_range, message: AppMessage::EngineIo(p), checks: eio_checks });
        if let Some((s, checks)) = sio {
            out.push(AppEvent { dir: ev.dir, stream_range: ev.stream_range, message: AppMessage::SocketIo(s), checks });
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
        assert_eq!((o.ping_interval, o.ping_timeout, o.max_payload), (25000, 20000, Some(1_000_000)));
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
        assert_eq!(parse_text("0{\"sid\":1}", EioTransport::WebSocket, 4), Err(EioError::BadOpen));
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
        assert_eq!(parse_text("", EioTransport::WebSocket, 4), Err(EioError::Empty));
        assert_eq!(parse_text("7", EioTransport::WebSocket, 4), Err(EioError::UnknownType("7".into())));
        assert_eq!(parse_text("é", EioTransport::WebSocket, 4), Err(EioError::UnknownType("é".into())));
        assert_eq!(parse_text("2probe", EioTransport::WebSocket, 4).unwrap().wording_key(), "ping_probe");
    }

    #[test]
    fn polling_body_v4() {
        let body = b"40{\"sid\":\"We3xv6C4MYQApbetAAAA\"}\x1e42[\"welcome\",\"hello from the Socket.IO server\"]";
        let ps: Vec<EioPacket> = parse_payload(body, 4).into_iter().map(Result::unwrap).collect();
        assert_eq!(ps.len(), 2);
        assert_eq!(ps[0].text(), Some("0{\"sid\":\"We3xv6C4MYQApbetAAAA\"}"));
        assert_eq!(ps[1].text(), Some("2[\"welcome\",\"hello from the Socket.IO server\"]"));
        assert_eq!((ps[1].payload_index, ps[1].payload_count), (Some(1), Some(2)));
        // Binary as `b` + base64.
        let ps = parse_payload(b"451-[\"file\",{\"_placeholder\":true,\"num\":0}]\x1ebiVBORw0KGgo=", 4);
        let b = ps[1].as_ref().unwrap();
        assert!(b.binary && b.base64);
        assert_eq!(b.bytes.as_deref(), Some(&[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a][..]));
        assert_eq!(b.data_hex.as_deref(), Some("89504e470d0a1a0a"));
        assert_eq!(parse_payload(b"6", 4)[0].as_ref().unwrap().packet_type, EioType::Noop);
        assert_eq!(parse_payload(b"b!!!", 4)[0], Err(EioError::BadPayload));
    }

    #[test]
    fn polling_body_v3() {
        // String framing; lengths count UTF-16 units ("é" is 1, "😀" is 2).
        let ps: Vec<EioPacket> = parse_payload("2:407:42[\"é\"]1:6".as_bytes(), 3).into_iter().map(Result::unwrap).collect();
        assert_eq!(ps.len(), 3);
        assert_eq!(ps[1].text(), Some("2[\"é\"]"));
        assert_eq!(ps[2].packet_type, EioType::Noop);
        let ps = parse_payload("5:4\"😀\"".as_bytes(), 3);
        assert_eq!(ps[0].as_ref().unwrap().text(), Some("\"😀\""));
        let ps = parse_payload(b"10:b4AQIDBA==", 3);
        assert_eq!(ps[0].as_ref().unwrap().bytes.as_deref(), Some(&[1, 2, 3, 4][..]));
        assert_eq!(parse_payload(b"9:40", 3)[0], Err(EioError::BadPayload));
        // XHR2 binary framing: 0 = string, 1 = binary, length digits, 0xff.
        let ps = parse_payload(&[0, 2, 0xff, b'4', b'0', 1, 3, 0xff, 4, 0xaa, 0xbb], 3);
        assert_eq!(ps[0].as_ref().unwrap().text(), Some("0"));
        let b = ps[1].as_ref().unwrap();
        assert_eq!((b.binary, b.transport, b.bytes.as_deref()), (true, EioTransport::Polling, Some(&[0xaa, 0xbb][..])));
        // v3 binary over WebSocket: the first byte is the type.
        let p = parse_binary(&[4, 1, 2], EioTransport::WebSocket, 3).unwrap();
        assert_eq!(p.bytes.as_deref(), Some(&[1, 2][..]));
    }

    #[test]
    fn uris() {
        let u = parse_uri("/socket.io/?EIO=4&transport=polling&t=7zu1655x&sid=Wm0JFyaze4SWzjoUAAAA").unwrap();
        assert_eq!((u.version, u.transport, u.sid.as_deref()), (4, Some(EioTransport::Polling), Some("Wm0JFyaze4SWzjoUAAAA")));
        let u = parse_uri("/socket.io/?EIO=4&transport=websocket").unwrap();
        assert_eq!((u.transport, u.sid), (Some(EioTransport::WebSocket), None));
        assert_eq!(parse_uri("/custom/?EIO=3&transport=polling").unwrap().version, 3);
        assert!(parse_uri("/chat").is_none());
        assert!(parse_uri("/index.html?x=EIO").is_none());
    }
}
