//! WebSocket (RFC 6455): the opening handshake (its key arithmetic, and what a request
//! sent of what section 4.1 requires) and the frame decoder.

use crate::proto::websocket::{Inflated, Inflater};
use serde::Serialize;

use super::app::{AppEvent, AppMessage, Check, Dir, InProgress};

pub use crate::proto::websocket::{sec_websocket_accept, HANDSHAKE_GUID};

use super::http::HttpMessage;

/// The sample nonce of RFC 6455 section 1.3 (base64 of "the sample nonce"): a key copied
/// from the RFC, not one picked at random.
pub const RFC_SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// One header of an upgrade request: its name as sent and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentHeader {
    pub name: String,
    pub value: String,
}

/// What an upgrade request actually carried of the fields RFC 6455 section 4.1 requires,
/// kept on the request and on the response that answers it (so a refusal can point at
/// the header that caused it).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UpgradeRequest {
    pub method: String,
    /// `HTTP/1.1`.
    pub version: String,
    pub upgrade: Option<SentHeader>,
    pub connection: Option<SentHeader>,
    pub ws_version: Option<SentHeader>,
    pub key: Option<SentHeader>,
    pub origin: Option<SentHeader>,
}

/// One finding about an upgrade request: a required field present and right, or missing
/// or wrong. `key()` names its wording (`websocket.toml`, table `[request]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    MethodNotGet {
        method: String,
    },
    HttpTooOld {
        version: String,
    },
    UpgradeOk(SentHeader),
    ConnectionOk(SentHeader),
    ConnectionMissing,
    ConnectionWithoutUpgrade(SentHeader),
    VersionOk(SentHeader),
    VersionMissing,
    /// A number below 13: one of the drafts before RFC 6455.
    VersionDraft(SentHeader),
    VersionUnknown(SentHeader),
    KeyOk(SentHeader),
    /// The RFC's sample nonce.
    KeySample(SentHeader),
    /// Not base64 of 16 bytes (`len`: what it decodes to, if base64 at all).
    KeyBad {
        header: SentHeader,
        len: Option<usize>,
    },
    KeyMissing,
}

impl UpgradeRequest {
    /// The upgrade fields of a request (any request whose `Upgrade` names websocket).
    pub fn of(m: &HttpMessage) -> UpgradeRequest {
        let get = |name: &str| {
            m.header_joined(name).map(|value| SentHeader {
                name: m.name_sent(name).to_string(),
                value: value.trim().to_string(),
            })
        };
        UpgradeRequest {
            method: m.method.clone().unwrap_or_default(),
            version: m.version.clone(),
            upgrade: get("upgrade"),
            connection: get("connection"),
            ws_version: get("sec-websocket-version"),
            key: get("sec-websocket-key"),
            origin: get("origin"),
        }
    }

    /// Every required field, in the order of RFC 6455 section 4.1: present and right, or not.
    pub fn findings(&self) -> Vec<Finding> {
        let mut v = Vec::new();
        if self.method != "GET" {
            v.push(Finding::MethodNotGet {
                method: self.method.clone(),
            });
        }
        if self.version == "HTTP/1.0" {
            v.push(Finding::HttpTooOld {
                version: self.version.clone(),
            });
        }
        if let Some(u) = &self.upgrade {
            v.push(Finding::UpgradeOk(u.clone()));
        }
        v.push(match &self.connection {
            None => Finding::ConnectionMissing,
            Some(c)
                if c.value
                    .split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade")) =>
            {
                Finding::ConnectionOk(c.clone())
            }
            Some(c) => Finding::ConnectionWithoutUpgrade(c.clone()),
        });
        v.push(match &self.ws_version {
            None => Finding::VersionMissing,
            Some(h) if h.value == "13" => Finding::VersionOk(h.clone()),
            Some(h) if h.value.parse::<u8>().is_ok_and(|n| n < 13) => {
                Finding::VersionDraft(h.clone())
            }
            Some(h) => Finding::VersionUnknown(h.clone()),
        });
        v.push(match &self.key {
            None => Finding::KeyMissing,
            Some(k) if k.value == RFC_SAMPLE_KEY => Finding::KeySample(k.clone()),
            Some(k) => {
                use base64::Engine as _;
                let len = base64::engine::general_purpose::STANDARD
                    .decode(k.value.as_bytes())
                    .ok()
                    .map(|b| b.len());
                if len == Some(16) {
                    Finding::KeyOk(k.clone())
                } else {
                    Finding::KeyBad {
                        header: k.clone(),
                        len,
                    }
                }
            }
        });
        v
    }

    /// The findings that break RFC 6455 (a server must refuse such a request).
    pub fn problems(&self) -> Vec<Finding> {
        self.findings()
            .into_iter()
            .filter(Finding::is_problem)
            .collect()
    }
}

impl Finding {
    /// The key of its wording in `websocket.toml`, table `[request]`.
    pub fn key(&self) -> &'static str {
        match self {
            Finding::MethodNotGet { .. } => "method_not_get",
            Finding::HttpTooOld { .. } => "http_too_old",
            Finding::UpgradeOk(_) => "upgrade_ok",
            Finding::ConnectionOk(_) => "connection_ok",
            Finding::ConnectionMissing => "connection_missing",
            Finding::ConnectionWithoutUpgrade(_) => "connection_without_upgrade",
            Finding::VersionOk(_) => "version_ok",
            Finding::VersionMissing => "version_missing",
            Finding::VersionDraft(_) => "version_draft",
            Finding::VersionUnknown(_) => "version_unknown",
            Finding::KeyOk(_) => "key_ok",
            Finding::KeySample(_) => "key_sample",
            Finding::KeyBad { len: Some(_), .. } => "key_bad_length",
            Finding::KeyBad { len: None, .. } => "key_not_base64",
            Finding::KeyMissing => "key_missing",
        }
    }

    /// True when the request breaks RFC 6455 here. (The sample nonce is a valid key: it
    /// is only not random.)
    pub fn is_problem(&self) -> bool {
        !matches!(
            self,
            Finding::UpgradeOk(_)
                | Finding::ConnectionOk(_)
                | Finding::VersionOk(_)
                | Finding::KeyOk(_)
                | Finding::KeySample(_)
        )
    }

    /// Values for the wording's placeholders: `name`, `value`, `method`, `version`, `len`.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Finding::MethodNotGet { method } => vec![("method", method.clone())],
            Finding::HttpTooOld { version } => vec![("version", version.clone())],
            Finding::UpgradeOk(h)
            | Finding::ConnectionOk(h)
            | Finding::ConnectionWithoutUpgrade(h)
            | Finding::VersionOk(h)
            | Finding::VersionDraft(h)
            | Finding::VersionUnknown(h)
            | Finding::KeyOk(h)
            | Finding::KeySample(h) => {
                vec![("name", h.name.clone()), ("value", h.value.clone())]
            }
            Finding::KeyBad { header, len } => vec![
                ("name", header.name.clone()),
                ("value", header.value.clone()),
                ("len", len.unwrap_or(0).to_string()),
            ],
            Finding::ConnectionMissing | Finding::VersionMissing | Finding::KeyMissing => {
                Vec::new()
            }
        }
    }
}

/// permessage-deflate (RFC 7692) parameters, as offered in a request or negotiated in a
/// 101 response. A `*_max_window_bits` given without a value reads as 15.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeflateParams {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_max_window_bits: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_max_window_bits: Option<u8>,
}

impl DeflateParams {
    /// The first `permessage-deflate` in a `Sec-WebSocket-Extensions` value, if any.
    pub fn parse(header: &str) -> Option<DeflateParams> {
        for ext in header.split(',') {
            let mut parts = ext.split(';').map(str::trim);
            if !parts
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("permessage-deflate"))
            {
                continue;
            }
            let mut p = DeflateParams::default();
            for param in parts {
                let (name, value) = match param.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
                    None => (param, None),
                };
                let bits = || value.and_then(|v| v.parse::<u8>().ok()).unwrap_or(15);
                match name.to_ascii_lowercase().as_str() {
                    "server_no_context_takeover" => p.server_no_context_takeover = true,
                    "client_no_context_takeover" => p.client_no_context_takeover = true,
                    "server_max_window_bits" => p.server_max_window_bits = Some(bits()),
                    "client_max_window_bits" => p.client_max_window_bits = Some(bits()),
                    _ => {}
                }
            }
            return Some(p);
        }
        None
    }

    /// Whether the sender of one direction resets its compression context per message.
    pub fn no_context_takeover(&self, from_client: bool) -> bool {
        if from_client {
            self.client_no_context_takeover
        } else {
            self.server_no_context_takeover
        }
    }
}

/// The name of an opcode, as SPEC.md spells it (`reserved` for the unassigned ones).
pub fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        0x0 => "continuation",
        0x1 => "text",
        0x2 => "binary",
        0x8 => "close",
        0x9 => "ping",
        0xA => "pong",
        _ => "reserved",
    }
}

/// The registered name of a close status code (RFC 6455 section 7.4 and the IANA registry).
pub fn close_code_name(code: u16) -> &'static str {
    match code {
        1000 => "normal closure",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1004 => "reserved",
        1005 => "no status received",
        1006 => "abnormal closure",
        1007 => "invalid frame payload data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        1015 => "TLS handshake failure",
        3000..=3999 => "registered for libraries and frameworks",
        4000..=4999 => "private use",
        _ => "unassigned",
    }
}

/// May an endpoint put this code in a Close frame? (RFC 6455 section 7.4.1; 1005, 1006 and
/// 1015 are only for reporting locally, 1004 is reserved, 1016–2999 are unassigned.)
pub fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// One WebSocket frame, as the `websocket` layer of SPEC.md. The frame that completes a
/// data message also carries the message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WsFrame {
    pub fin: bool,
    /// RSV1..RSV3 as a number 0–7 (RSV1 = 4).
    pub rsv: u8,
    pub opcode: u8,
    pub opcode_name: &'static str,
    pub masked: bool,
    /// The 4-byte masking key in hex, when masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masking_key: Option<String>,
    /// The frame's payload length as on the wire.
    pub payload_len: u64,
    /// The payload is deflate data (permessage-deflate: RSV1 on the message's first frame).
    pub compressed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_code_name: Option<&'static str>,
    /// Length of the complete message (unmasked, joined, inflated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_len: Option<u64>,
    /// The complete text message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A binary message's first 64 bytes, or a ping/pong payload, in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_hex: Option<String>,
    /// How many frames the message took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragments: Option<u32>,
    /// Bytes of the frame header (2 to 14).
    pub header_len: u8,
    /// The message is incomplete: over the size limit, or bytes were not captured.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// A complete binary message's bytes (up to the limit); not serialized.
    #[serde(skip)]
    pub data: Option<Vec<u8>>,
    /// A Close frame sent after the other side's Close: the reply that completes the
    /// closing handshake (false for the Close that starts it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub close_reply: bool,
}

impl WsFrame {
    /// The 7-bit length code of the header's second byte (`websocket.payload_length`):
    /// the length itself up to 125, 126 when a 16-bit length follows, 127 when a 64-bit
    /// one does. Read back from the header's size: 2 bytes, +2 or +8 for the extended
    /// length, +4 for the masking key.
    pub fn length_code(&self) -> u8 {
        match self.header_len - if self.masked { 4 } else { 0 } {
            4 => 126,
            10 => 127,
            _ => self.payload_len.min(125) as u8,
        }
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug)]
struct Header {
    fin: bool,
    rsv: u8,
    opcode: u8,
    masked: bool,
    key: [u8; 4],
    len: u64,
    header_len: u8,
    /// Bits of the length field that was used (7, 16 or 64).
    len_bits: u8,
}

/// Header length from the first two bytes.
#[inline]
fn header_len(b1: u8) -> usize {
    let ext = match b1 & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + ext + if b1 & 0x80 != 0 { 4 } else { 0 }
}

/// Parses a complete header (`h.len() == header_len(h[1])`).
#[inline]
fn parse_header(h: &[u8]) -> Header {
    let (b0, b1) = (h[0], h[1]);
    let (len, len_bits, mut k) = match b1 & 0x7f {
        126 => (u16::from_be_bytes([h[2], h[3]]) as u64, 16, 4),
        127 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[2..10]);
            (u64::from_be_bytes(b), 64, 10)
        }
        n => (n as u64, 7, 2),
    };
    let masked = b1 & 0x80 != 0;
    let mut key = [0u8; 4];
    if masked {
        key.copy_from_slice(&h[k..k + 4]);
        k += 4;
    }
    Header {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 7,
        opcode: b0 & 0x0f,
        masked,
        key,
        len,
        header_len: k as u8,
        len_bits,
    }
}

/// XORs `data` with the masking key, `offset` bytes into the payload.
#[inline]
fn unmask(data: &mut [u8], key: [u8; 4], offset: u64) {
    let rot = (offset & 3) as usize;
    let k = [
        key[rot],
        key[(rot + 1) & 3],
        key[(rot + 2) & 3],
        key[(rot + 3) & 3],
    ];
    let mut chunks = data.chunks_exact_mut(4);
    for c in &mut chunks {
        c[0] ^= k[0];
        c[1] ^= k[1];
        c[2] ^= k[2];
        c[3] ^= k[3];
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(k) {
        *b ^= m;
    }
}

fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// The frame being read.
#[derive(Debug)]
struct Cur {
    h: Header,
    start: u64,
    remaining: u64,
    /// Payload bytes seen (or lost) so far: the masking key's position.
    done: u64,
    checks: Vec<Check>,
    /// Where the payload goes.
    sink: Sink,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Message,
    Control,
    Discard,
}

/// A data message being assembled from its fragments.
#[derive(Debug)]
struct Msg {
    opcode: u8,
    compressed: bool,
    /// Unmasked payload (still compressed when `compressed`), up to the limit.
    data: Vec<u8>,
    /// Payload bytes on the wire (all fragments).
    wire_len: u64,
    fragments: u32,
    overflow: bool,
    gap: bool,
}

/// The WebSocket frame decoder of one direction.
#[derive(Debug)]
pub(crate) struct WsDecoder {
    dir: Dir,
    from_client: bool,
    /// Stream offset of the next byte.
    offset: u64,
    max: usize,
    hdr: [u8; 14],
    hdr_have: usize,
    cur: Option<Cur>,
    msg: Option<Msg>,
    ctrl: Vec<u8>,
    inflater: Option<Inflater>,
    /// A Close frame was sent in this direction.
    closed: bool,
    /// A gap made frame boundaries unknown: everything after is ignored.
    pub lost: bool,
}

/// Marks the Close frames among `events` as replies when the other direction had already
/// sent its Close (`peer_closed`).
pub(crate) fn mark_close_replies(events: &mut [AppEvent], peer_closed: bool) {
    for e in events {
        if let AppMessage::WebSocket(f) = &mut e.message {
            f.close_reply = peer_closed && f.opcode == 0x8;
        }
    }
}

/// What one direction's inflater holds (zlib's state and its 32 KiB window, measured:
/// about 43 KiB).
const INFLATER_COST: usize = 44 << 10;

impl WsDecoder {
    /// About how many bytes this direction holds: the message being joined, a control
    /// frame's payload, the inflater.
    pub(crate) fn memory(&self) -> usize {
        self.msg.as_ref().map_or(0, |m| m.data.capacity())
            + self.ctrl.capacity()
            + self.inflater.as_ref().map_or(0, |_| INFLATER_COST)
    }

    /// The frame whose header has come and whose payload is not whole yet.
    pub(crate) fn in_progress(&self) -> Option<InProgress> {
        let cur = self.cur.as_ref().filter(|c| c.remaining > 0)?;
        let kind = match cur.h.opcode {
            0 => "continuation frame",
            1 => "text frame",
            2 => "binary frame",
            8 => "close frame",
            9 => "ping frame",
            10 => "pong frame",
            _ => "frame",
        };
        Some(InProgress {
            protocol: "WebSocket",
            kind,
            total: cur.h.len,
            have: cur.done,
            start: cur.start,
        })
    }

    /// True once this direction sent a Close frame.
    pub(crate) fn close_sent(&self) -> bool {
        self.closed
    }

    /// `deflate`: the negotiated permessage-deflate parameters, if any.
    /// `dir`: the direction reported in events; `from_client`: whether this direction is the
    /// one that sent the upgrade request (which decides the masking rules).
    pub fn new(
        dir: Dir,
        offset: u64,
        from_client: bool,
        deflate: Option<&DeflateParams>,
        max_message: usize,
    ) -> Self {
        WsDecoder {
            dir,
            from_client,
            offset,
            max: max_message,
            hdr: [0; 14],
            hdr_have: 0,
            cur: None,
            msg: None,
            ctrl: Vec::new(),
            inflater: deflate.map(|p| Inflater::new(p.no_context_takeover(from_client))),
            closed: false,
            lost: false,
        }
    }

    /// Decodes bytes contiguous with the previous ones.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<AppEvent>) {
        if self.lost {
            self.offset += data.len() as u64;
            return;
        }
        while !data.is_empty() {
            if self.cur.is_none() {
                if self.hdr_have == 0 && data.len() >= 2 {
                    // Fast path: the header lies whole in this push.
                    let n = header_len(data[1]);
                    if data.len() >= n {
                        let h = parse_header(&data[..n]);
                        let start = self.offset;
                        self.offset += n as u64;
                        data = &data[n..];
                        self.begin(h, start, out);
                        continue;
                    }
                }
                // Slow path: gather the header across pushes.
                let need = if self.hdr_have + data.len() >= 2 || self.hdr_have >= 2 {
                    let b1 = if self.hdr_have >= 2 {
                        self.hdr[1]
                    } else {
                        data[1 - self.hdr_have]
                    };
                    header_len(b1)
                } else {
                    2
                };
                let take = (need - self.hdr_have).min(data.len());
                self.hdr[self.hdr_have..self.hdr_have + take].copy_from_slice(&data[..take]);
                self.hdr_have += take;
                self.offset += take as u64;
                data = &data[take..];
                if self.hdr_have >= 2 && self.hdr_have == header_len(self.hdr[1]) {
                    let h = parse_header(&self.hdr[..self.hdr_have]);
                    let start = self.offset - self.hdr_have as u64;
                    self.hdr_have = 0;
                    self.begin(h, start, out);
                }
            } else {
                let cur = self.cur.as_mut().expect("checked");
                let n = cur.remaining.min(data.len() as u64) as usize;
                let chunk = &data[..n];
                let (key, masked, done, sink) = (cur.h.key, cur.h.masked, cur.done, cur.sink);
                cur.remaining -= n as u64;
                cur.done += n as u64;
                let finished = cur.remaining == 0;
                self.offset += n as u64;
                data = &data[n..];
                let target = match sink {
                    Sink::Message => self.msg.as_mut().map(|m| (&mut m.data, &mut m.overflow)),
                    Sink::Control => None,
                    Sink::Discard => None,
                };
                match (sink, target) {
                    (Sink::Message, Some((buf, overflow))) => {
                        append_capped(buf, overflow, chunk, self.max, masked, key, done)
                    }
                    (Sink::Control, _) => {
                        let mut ov = false;
                        append_capped(&mut self.ctrl, &mut ov, chunk, self.max, masked, key, done)
                    }
                    _ => {}
                }
                if finished {
                    self.finish(out);
                }
            }
        }
    }

    /// `missing` bytes were not captured.
    pub fn gap(&mut self, missing: u64, out: &mut Vec<AppEvent>) {
        if self.lost {
            self.offset += missing;
            return;
        }
        match &mut self.cur {
            Some(cur) if self.hdr_have == 0 && missing <= cur.remaining => {
                cur.remaining -= missing;
                cur.done += missing;
                if !cur
                    .checks
                    .iter()
                    .any(|c| matches!(c, Check::StreamGap { .. }))
                {
                    cur.checks.push(Check::StreamGap { missing });
                }
                if cur.sink == Sink::Message {
                    if let Some(m) = &mut self.msg {
                        m.gap = true;
                    }
                }
                let finished = cur.remaining == 0;
                self.offset += missing;
                if finished {
                    self.finish(out);
                }
            }
            _ => {
                self.lost = true;
                self.offset += missing;
            }
        }
    }

    /// The direction ended: a frame cut short is reported with a check.
    pub fn end(&mut self, out: &mut Vec<AppEvent>) {
        if let Some(mut cur) = self.cur.take() {
            cur.checks.push(Check::WsIncompleteFrame {
                missing: cur.remaining,
            });
            let (frame, checks) = self.frame_of(&cur, false);
            out.push(AppEvent {
                dir: self.dir,
                stream_range: (cur.start, self.offset),
                message: AppMessage::WebSocket(frame),
                checks,
            });
        }
        self.hdr_have = 0;
    }

    fn begin(&mut self, h: Header, start: u64, out: &mut Vec<AppEvent>) {
        let mut checks = Vec::new();
        if self.closed {
            checks.push(Check::WsDataAfterClose);
        }
        if self.from_client && !h.masked {
            checks.push(Check::WsClientUnmasked);
        } else if !self.from_client && h.masked {
            checks.push(Check::WsServerMasked);
        }
        let minimal = match h.len_bits {
            16 => h.len >= 126,
            64 => h.len > 0xffff,
            _ => true,
        };
        if !minimal {
            checks.push(Check::WsLengthNotMinimal {
                len: h.len,
                bits: h.len_bits,
            });
        }
        if h.len_bits == 64 && h.len >> 63 != 0 {
            checks.push(Check::WsLengthMsbSet);
        }
        let deflate = self.inflater.is_some();
        let is_control = h.opcode >= 8;
        // RSV1 belongs to permessage-deflate, on the first frame of a data message only.
        let rsv1_ok = deflate && (h.opcode == 1 || h.opcode == 2);
        if h.rsv & 4 != 0 && !rsv1_ok {
            if deflate {
                checks.push(Check::WsRsv1Misplaced);
            } else {
                checks.push(Check::WsRsvWithoutExtension { rsv: h.rsv });
            }
        }
        if h.rsv & 3 != 0 {
            checks.push(Check::WsRsvWithoutExtension { rsv: h.rsv });
        }
        let sink = match h.opcode {
            0x8..=0xA => {
                if h.len > 125 {
                    checks.push(Check::WsControlTooLong { len: h.len });
                }
                if !h.fin {
                    checks.push(Check::WsControlFragmented);
                }
                self.ctrl.clear();
                Sink::Control
            }
            0x1 | 0x2 => {
                if self.msg.is_some() {
                    checks.push(Check::WsDataDuringFragment);
                }
                self.msg = Some(Msg {
                    opcode: h.opcode,
                    compressed: deflate && h.rsv & 4 != 0,
                    data: Vec::with_capacity((h.len as usize).min(self.max).min(1 << 16)),
                    wire_len: 0,
                    fragments: 0,
                    overflow: false,
                    gap: false,
                });
                Sink::Message
            }
            0x0 => {
                if self.msg.is_some() {
                    Sink::Message
                } else {
                    checks.push(Check::WsContinuationWithoutStart);
                    Sink::Discard
                }
            }
            op => {
                checks.push(Check::WsReservedOpcode { opcode: op });
                if is_control {
                    self.ctrl.clear();
                }
                Sink::Discard
            }
        };
        if sink == Sink::Message {
            if let Some(m) = &mut self.msg {
                // Lengths come from the capture: frames of 2^63 bytes each must not overflow.
                m.fragments = m.fragments.saturating_add(1);
                m.wire_len = m.wire_len.saturating_add(h.len);
            }
        }
        self.cur = Some(Cur {
            h,
            start,
            remaining: h.len,
            done: 0,
            checks,
            sink,
        });
        if h.len == 0 {
            self.finish(out);
        }
    }

    /// The frame's payload is complete.
    fn finish(&mut self, out: &mut Vec<AppEvent>) {
        let Some(cur) = self.cur.take() else { return };
        let (frame, checks) = self.frame_of(&cur, true);
        if cur.h.opcode == 0x8 {
            self.closed = true;
        }
        out.push(AppEvent {
            dir: self.dir,
            stream_range: (cur.start, self.offset),
            message: AppMessage::WebSocket(frame),
            checks,
        });
    }

    /// Builds the frame report; `complete` when all its payload was read.
    fn frame_of(&mut self, cur: &Cur, complete: bool) -> (WsFrame, Vec<Check>) {
        let h = &cur.h;
        let mut checks = cur.checks.clone();
        let mut f = WsFrame {
            fin: h.fin,
            rsv: h.rsv,
            opcode: h.opcode,
            opcode_name: opcode_name(h.opcode),
            masked: h.masked,
            masking_key: h.masked.then(|| hex(&h.key)),
            payload_len: h.len,
            compressed: false,
            close_code: None,
            close_reason: None,
            close_code_name: None,
            message_len: None,
            text: None,
            data_hex: None,
            fragments: None,
            header_len: h.header_len,
            truncated: !complete,
            data: None,
            close_reply: false,
        };
        match cur.sink {
            Sink::Control if complete => {
                let p = &self.ctrl;
                match h.opcode {
                    0x8 => {
                        if p.len() == 1 {
                            checks.push(Check::WsClosePayloadShort);
                        }
                        if p.len() >= 2 {
                            let code = u16::from_be_bytes([p[0], p[1]]);
                            f.close_code = Some(code);
                            f.close_code_name = Some(close_code_name(code));
                            if !close_code_allowed(code) {
                                checks.push(Check::WsBadCloseCode { code });
                            }
                            let reason = &p[2..];
                            f.close_reason = Some(match std::str::from_utf8(reason) {
                                Ok(s) => s.to_string(),
                                Err(_) => {
                                    checks.push(Check::WsInvalidUtf8);
                                    String::from_utf8_lossy(reason).into_owned()
                                }
                            });
                        }
                    }
                    _ => f.data_hex = Some(hex(&p[..p.len().min(125)])),
                }
            }
            Sink::Message => {
                let compressed = self.msg.as_ref().is_some_and(|m| m.compressed);
                f.compressed = compressed;
                if h.fin && complete {
                    if let Some(m) = self.msg.take() {
                        self.complete_message(m, &mut f, &mut checks);
                    }
                } else if !complete {
                    self.msg = None;
                }
            }
            _ => {}
        }
        (f, checks)
    }

    fn complete_message(&mut self, m: Msg, f: &mut WsFrame, checks: &mut Vec<Check>) {
        f.fragments = Some(m.fragments);
        let mut truncated = m.overflow || m.gap;
        let data = if m.compressed {
            let inf = self
                .inflater
                .as_mut()
                .expect("compressed implies negotiated");
            if inf.broken {
                checks.push(Check::WsInflateContextLost);
                None
            } else if m.gap || m.overflow {
                // Cannot inflate a message with missing bytes; later ones share its context.
                inf.lose_message();
                if m.overflow {
                    checks.push(Check::WsMessageLimit { limit: self.max });
                }
                None
            } else {
                match inf.inflate(&m.data, self.max) {
                    Inflated::Ok(v) => Some(v),
                    Inflated::Limit(v) => {
                        checks.push(Check::WsInflateLimit { limit: self.max });
                        truncated = true;
                        Some(v)
                    }
                    Inflated::Error => {
                        checks.push(Check::WsInflateError);
                        None
                    }
                }
            }
        } else {
            if m.overflow {
                checks.push(Check::WsMessageLimit { limit: self.max });
            }
            Some(m.data)
        };
        f.truncated = truncated || data.is_none();
        let Some(data) = data else { return };
        f.message_len = Some(if m.compressed || m.gap {
            data.len() as u64
        } else {
            m.wire_len
        });
        if m.opcode == 0x1 {
            f.text = Some(match String::from_utf8(data) {
                Ok(s) => s,
                Err(e) => {
                    // A message cut by the limit may end inside a character: not an error.
                    let valid_up_to = e.utf8_error().valid_up_to();
                    let bytes = e.into_bytes();
                    if !(truncated
                        && bytes.len() - valid_up_to < 4
                        && e_is_incomplete(&bytes[valid_up_to..]))
                    {
                        checks.push(Check::WsInvalidUtf8);
                    }
                    String::from_utf8_lossy(&bytes).into_owned()
                }
            });
        } else {
            f.data_hex = Some(hex(&data[..data.len().min(64)]));
            f.data = Some(data);
        }
    }
}

/// True when `tail` is the start of a multi-byte UTF-8 character.
fn e_is_incomplete(tail: &[u8]) -> bool {
    matches!(std::str::from_utf8(tail), Err(e) if e.error_len().is_none())
}

/// Appends a payload chunk to `buf`, unmasked, keeping at most `cap` bytes.
#[inline]
fn append_capped(
    buf: &mut Vec<u8>,
    overflow: &mut bool,
    chunk: &[u8],
    cap: usize,
    masked: bool,
    key: [u8; 4],
    done: u64,
) {
    let room = cap.saturating_sub(buf.len());
    let take = room.min(chunk.len());
    if take < chunk.len() {
        *overflow = true;
    }
    let at = buf.len();
    buf.extend_from_slice(&chunk[..take]);
    if masked {
        unmask(&mut buf[at..], key, done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deflate_params() {
        let p = DeflateParams::parse(
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
        )
        .unwrap();
        assert_eq!(p.server_max_window_bits, Some(12));
        assert_eq!(p.client_max_window_bits, Some(12));
        assert!(!p.server_no_context_takeover);
        let p = DeflateParams::parse("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits; server_no_context_takeover").unwrap();
        assert_eq!(p.client_max_window_bits, Some(15));
        assert!(p.server_no_context_takeover);
        assert!(DeflateParams::parse("x-webkit-deflate-frame").is_none());
    }

    #[test]
    fn close_codes() {
        for ok in [
            1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1014, 3000, 4999,
        ] {
            assert!(close_code_allowed(ok), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!close_code_allowed(bad), "{bad}");
        }
        assert_eq!(close_code_name(1001), "going away");
    }

    #[test]
    fn unmask_rotates() {
        let mut d = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut d, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&d, b"Hello");
        let mut d = [0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut d, [0x37, 0xfa, 0x21, 0x3d], 1);
        assert_eq!(&d, b"ello");
    }

    /// RFC 6455 section 5.7's examples: "Hello" masked (code 5), a 256-byte binary
    /// frame (126, 16-bit length) and a 64 KiB one (127, 64-bit length).
    #[test]
    fn length_code_from_the_header() {
        let frame = |bytes: &[u8]| {
            let mut d = WsDecoder::new(Dir::ClientToServer, 0, true, None, 1 << 20);
            let mut out = Vec::new();
            d.push(bytes, &mut out);
            d.end(&mut out);
            match &out[0].message {
                AppMessage::WebSocket(f) => f.clone(),
                other => panic!("{other:?}"),
            }
        };
        let hello = frame(&[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ]);
        assert_eq!((hello.length_code(), hello.payload_len), (5, 5));
        let mut b = vec![0x82, 0x7e, 0x01, 0x00];
        b.resize(4 + 256, 0);
        let f = frame(&b);
        assert_eq!(
            (f.length_code(), f.payload_len, f.header_len),
            (126, 256, 4)
        );
        let mut b = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
        b.resize(10 + 65536, 0);
        let f = frame(&b);
        assert_eq!(
            (f.length_code(), f.payload_len, f.header_len),
            (127, 65536, 10)
        );
    }
}
