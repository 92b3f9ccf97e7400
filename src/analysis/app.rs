//! The vocabulary every application protocol shares: the direction of a byte stream,
//! the decoded messages ([`AppMessage`], one variant per protocol layer), the events that
//! carry them with their byte ranges, and the protocol checks with their stable codes.
//!
//! The decoders themselves are in [`super::protocols`], one module per protocol, chosen
//! by each connection's first bytes. [`AppStream`] (HTTP, WebSocket, Engine.IO) is
//! re-exported here, where it used to live.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::engineio::EioPacket;
use super::http::HttpMessage;
pub use super::protocols::http::AppStream;
use super::protocols::tls::TlsRecord;
use super::socketio::SioPacket;
use super::websocket::WsFrame;

/// The direction of a byte stream within a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    ClientToServer,
    ServerToClient,
}

impl Dir {
    pub fn other(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }

    pub(crate) fn idx(self) -> usize {
        match self {
            Dir::ClientToServer => 0,
            Dir::ServerToClient => 1,
        }
    }
}

/// What a connection carries (the conversation's `application` key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Application {
    Http,
    #[serde(rename = "websocket")]
    WebSocket,
    /// Engine.IO / Socket.IO: requests for `/socket.io/` (or with `EIO=`), polling or
    /// upgraded to WebSocket.
    #[serde(rename = "socketio")]
    SocketIo,
    /// TLS records (what they carry, once decrypted, is reported as its own protocol).
    Tls,
}

impl Application {
    /// `http`, `websocket` or `socketio`, as in SPEC.md.
    pub fn name(self) -> &'static str {
        match self {
            Application::Http => "http",
            Application::WebSocket => "websocket",
            Application::SocketIo => "socketio",
            Application::Tls => "tls",
        }
    }
}

/// Bounds on memory per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppLimits {
    /// The most bytes kept for one message: an HTTP body, a WebSocket message (compressed
    /// and inflated), bytes held during an upgrade. Larger ones are counted, not kept.
    pub max_message: usize,
}

impl Default for AppLimits {
    fn default() -> Self {
        AppLimits {
            max_message: 16 * 1024 * 1024,
        }
    }
}

/// One decoded application message.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AppMessage {
    /// An HTTP request or response (the `http` layer).
    Http(HttpMessage),
    /// One WebSocket frame (the `websocket` layer); the frame completing a data message
    /// carries the message.
    WebSocket(WsFrame),
    /// One Engine.IO packet (the `engineio` layer), carried by the HTTP message or
    /// WebSocket message reported just before it, with the same `stream_range`.
    EngineIo(EioPacket),
    /// One Socket.IO packet (the `socketio` layer), inside the Engine.IO `message`
    /// reported just before it, with the same `stream_range`.
    SocketIo(SioPacket),
    /// One TLS record or handshake message (the `tls` layer).
    Tls(Box<TlsRecord>),
    /// Decoding of this direction stopped here (bytes not captured across a message
    /// boundary, or malformed HTTP); nothing more is reported for it. Not a layer: a note.
    Stopped(Stopped),
}

impl AppMessage {
    /// `http`, `websocket`, `engineio`, `socketio`, or `stopped`.
    pub fn protocol(&self) -> &'static str {
        match self {
            AppMessage::Http(_) => "http",
            AppMessage::WebSocket(_) => "websocket",
            AppMessage::EngineIo(_) => "engineio",
            AppMessage::SocketIo(_) => "socketio",
            AppMessage::Tls(_) => "tls",
            AppMessage::Stopped(_) => "stopped",
        }
    }

    /// The OSI layer it is shown at: 7 for what the programs say; 6 for TLS, which
    /// changes how the application's bytes are presented (encrypted, authenticated) without
    /// adding anything of its own to say — its records wrap the layer-7 messages.
    pub fn osi(&self) -> u8 {
        match self {
            AppMessage::Tls(_) => 6,
            _ => 7,
        }
    }

    /// The protocol's name as a learner reads it: `HTTP`, `WebSocket`, `TLS`, ….
    pub fn display_name(&self) -> &'static str {
        match self {
            AppMessage::Http(_) => "HTTP",
            AppMessage::WebSocket(_) => "WebSocket",
            AppMessage::EngineIo(_) => "Engine.IO",
            AppMessage::SocketIo(_) => "Socket.IO",
            AppMessage::Tls(_) => "TLS",
            AppMessage::Stopped(_) => "",
        }
    }
}

/// Where and why a direction stopped being decoded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stopped {
    /// What was being decoded.
    pub application: Application,
}

/// A message whose first bytes have come and whose end has not: said on the packet where
/// it starts (it is decoded, and shown whole, in the packet where it ends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InProgress {
    /// `WebSocket`.
    pub protocol: &'static str,
    /// `text frame`, `binary frame`, …
    pub kind: &'static str,
    /// Its payload's length, as its header declares.
    pub total: u64,
    /// Payload bytes come so far.
    pub have: u64,
    /// Its first byte's offset in the direction's stream.
    pub start: u64,
}

/// One message or frame found in a direction's bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct AppEvent {
    pub dir: Dir,
    /// `[start, end)` offsets in this direction's byte stream (0 = first byte ever pushed
    /// for `dir`, gaps count as bytes), covering the whole message/frame.
    pub stream_range: (u64, u64),
    pub message: AppMessage,
    /// Protocol rule violations (level warning) and decoding notes (level note) found in
    /// this message.
    pub checks: Vec<Check>,
}

/// How serious a [`Check`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Something the capture or the tool's limits caused (not the peers' fault).
    Note,
    /// A protocol rule was broken.
    Warning,
}

/// A protocol rule found broken in a message (or a note about how it was decoded).
/// `code()` is stable and keys the wording in `src/explain/text/{websocket,http}.toml`
/// (table `[check]`); `params()` fill that template's `{placeholders}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A client-to-server frame without a mask (RFC 6455 section 5.1).
    WsClientUnmasked,
    /// A server-to-client frame with a mask (section 5.1).
    WsServerMasked,
    /// A control frame with a payload over 125 bytes (section 5.5).
    WsControlTooLong { len: u64 },
    /// A control frame with FIN clear (section 5.5).
    WsControlFragmented,
    /// RSV bits set that no negotiated extension defines (section 5.2).
    WsRsvWithoutExtension { rsv: u8 },
    /// RSV1 on a control frame or a continuation under permessage-deflate (RFC 7692 section 6).
    WsRsv1Misplaced,
    /// A length written with more bytes than needed (section 5.2).
    WsLengthNotMinimal { len: u64, bits: u8 },
    /// A 64-bit length with its most significant bit set (section 5.2).
    WsLengthMsbSet,
    /// A text message or close reason that is not valid UTF-8 (sections 5.6, 8.1).
    WsInvalidUtf8,
    /// A close frame with a 1-byte payload (section 5.5.1).
    WsClosePayloadShort,
    /// A close code that must not be sent (section 7.4).
    WsBadCloseCode { code: u16 },
    /// A frame after this side's close frame (section 5.5.1).
    WsDataAfterClose,
    /// A reserved opcode (section 5.2).
    WsReservedOpcode { opcode: u8 },
    /// The client sent this frame before the server accepted the upgrade (section 4.1).
    WsClientSentBeforeAccept,
    /// A continuation frame with no message started (section 5.4).
    WsContinuationWithoutStart,
    /// A new text/binary frame while a fragmented message is still open (section 5.4).
    WsDataDuringFragment,
    /// Sec-WebSocket-Accept is not base64(SHA-1(key + GUID)) (section 4.2.2).
    WsAcceptInvalid { expected: String, got: String },
    /// The inflated message passed the size limit and was cut (note).
    WsInflateLimit { limit: usize },
    /// The compressed data could not be inflated.
    WsInflateError,
    /// An earlier message could not be inflated, so this one cannot be (shared context; note).
    WsInflateContextLost,
    /// The message passed the size limit: only its start was kept (note).
    WsMessageLimit { limit: usize },
    /// The stream ended inside this frame (note).
    WsIncompleteFrame { missing: u64 },
    /// A direction that had carried HTTP stopped parsing as HTTP.
    HttpMalformed,
    /// A header block longer than the parser accepts (note).
    HttpHeaderTooLarge { limit: usize },
    /// Control bytes in a header block, which HTTP forbids (decoded anyway).
    HttpControlBytes { count: usize },
    /// Trailer fields past the header block's limit (the rest are not kept).
    HttpTrailerTooLarge { limit: usize },
    /// A Content-Length that is not a number (or conflicting values).
    HttpBadContentLength,
    /// Chunked encoding that does not follow the grammar.
    HttpBadChunk,
    /// Both Content-Length and Transfer-Encoding: chunked (RFC 9112 section 6.3).
    HttpLengthAndChunked,
    /// The stream ended before the message was complete (note).
    HttpIncomplete,
    /// Bytes of this message were not captured (note).
    StreamGap { missing: u64 },
    /// Bytes not captured across a message boundary: decoding of this direction stops (note).
    StreamDesync { missing: u64 },
    /// A body or message of an Engine.IO connection that does not start with a packet
    /// type 0–6 (on the HTTP / WebSocket message that carried it).
    EioUnknownType { found: String },
    /// A polling body whose framing is broken (v3 length prefix, bad base64).
    EioBadPayload,
    /// An open packet without sid, pingInterval or pingTimeout in its JSON.
    EioBadOpen,
    /// A polling body of more packets than are decoded: `count` after the first `limit`
    /// were counted, not decoded (note).
    EioPacketsNotDecoded { count: u64, limit: usize },
    /// An Engine.IO message that does not start with a Socket.IO type 0–6.
    SioUnknownType { found: String },
    /// A Socket.IO header (attachments count, namespace, ack id) that breaks the grammar.
    SioMalformed,
    /// A Socket.IO payload that is not JSON.
    SioBadJson,
    /// JSON nested deeper than the tool decodes (the output must parse with any reader).
    SioJsonTooDeep { limit: usize },
    /// A payload of the wrong shape for its type (an EVENT without a name, data on a
    /// DISCONNECT, an ACK that is not an array).
    SioBadPayload { packet_type: &'static str },
    /// An ACK without the id of the EVENT it answers.
    SioAckWithoutId,
    /// The attachment count differs from the number of placeholders in the arguments.
    SioPlaceholderMismatch { attachments: u32, placeholders: u32 },
    /// A packet arrived while `missing` attachments of the previous binary packet were
    /// still expected.
    SioAttachmentsMissing { missing: u64 },
    /// A binary message that no BINARY_EVENT / BINARY_ACK announced.
    SioUnexpectedBinary,
    /// A TLS record header whose length passes the limit (RFC 5246 section 6.2.3).
    TlsBadRecordLength { len: usize },
    /// Bytes where a TLS record should start that are not one.
    TlsNotRecord { found: u8 },
    /// A handshake message that does not parse (or claims an impossible length).
    TlsMalformedHandshake { handshake_type: String },
    /// The stream ended inside a record (note).
    TlsIncompleteRecord { missing: u64 },
    /// Encrypted records and no key log given (note, once per connection).
    TlsNoKeyLog,
    /// The key log has no secret for this connection (note, once per connection).
    TlsNoKey { client_random: String },
    /// The handshake was not captured: the records cannot be matched to a key (note).
    TlsNoHandshake,
    /// A cipher suite this tool does not decrypt (note).
    TlsUnsupportedSuite { suite: String },
    /// A record that failed authentication with the logged key.
    TlsAuthFailed { secret: String },
}

impl Check {
    /// The stable code, e.g. `ws-client-unmasked`.
    pub fn code(&self) -> &'static str {
        match self {
            Check::WsClientUnmasked => "ws-client-unmasked",
            Check::WsServerMasked => "ws-server-masked",
            Check::WsControlTooLong { .. } => "ws-control-too-long",
            Check::WsControlFragmented => "ws-control-fragmented",
            Check::WsRsvWithoutExtension { .. } => "ws-rsv-without-extension",
            Check::WsRsv1Misplaced => "ws-rsv1-misplaced",
            Check::WsLengthNotMinimal { .. } => "ws-length-not-minimal",
            Check::WsLengthMsbSet => "ws-length-msb-set",
            Check::WsInvalidUtf8 => "ws-invalid-utf8",
            Check::WsClosePayloadShort => "ws-close-payload-short",
            Check::WsBadCloseCode { .. } => "ws-bad-close-code",
            Check::WsDataAfterClose => "ws-data-after-close",
            Check::WsReservedOpcode { .. } => "ws-reserved-opcode",
            Check::WsClientSentBeforeAccept => "ws-client-sent-before-accept",
            Check::WsContinuationWithoutStart => "ws-continuation-without-start",
            Check::WsDataDuringFragment => "ws-data-during-fragment",
            Check::WsAcceptInvalid { .. } => "ws-accept-invalid",
            Check::WsInflateLimit { .. } => "ws-inflate-limit",
            Check::WsInflateError => "ws-inflate-error",
            Check::WsInflateContextLost => "ws-inflate-context-lost",
            Check::WsMessageLimit { .. } => "ws-message-limit",
            Check::WsIncompleteFrame { .. } => "ws-incomplete-frame",
            Check::HttpMalformed => "http-malformed",
            Check::HttpHeaderTooLarge { .. } => "http-header-too-large",
            Check::HttpControlBytes { .. } => "http-control-bytes",
            Check::HttpTrailerTooLarge { .. } => "http-trailer-too-large",
            Check::HttpBadContentLength => "http-bad-content-length",
            Check::HttpBadChunk => "http-bad-chunk",
            Check::HttpLengthAndChunked => "http-length-and-chunked",
            Check::HttpIncomplete => "http-incomplete",
            Check::StreamGap { .. } => "stream-gap",
            Check::StreamDesync { .. } => "stream-desync",
            Check::EioUnknownType { .. } => "eio-unknown-type",
            Check::EioBadPayload => "eio-bad-payload",
            Check::EioBadOpen => "eio-bad-open",
            Check::EioPacketsNotDecoded { .. } => "eio-packets-not-decoded",
            Check::SioUnknownType { .. } => "sio-unknown-type",
            Check::SioMalformed => "sio-malformed",
            Check::SioBadJson => "sio-bad-json",
            Check::SioJsonTooDeep { .. } => "sio-json-too-deep",
            Check::SioBadPayload { .. } => "sio-bad-payload",
            Check::SioAckWithoutId => "sio-ack-without-id",
            Check::SioPlaceholderMismatch { .. } => "sio-placeholder-mismatch",
            Check::SioAttachmentsMissing { .. } => "sio-attachments-missing",
            Check::SioUnexpectedBinary => "sio-unexpected-binary",
            Check::TlsBadRecordLength { .. } => "tls-bad-record-length",
            Check::TlsNotRecord { .. } => "tls-not-record",
            Check::TlsMalformedHandshake { .. } => "tls-malformed-handshake",
            Check::TlsIncompleteRecord { .. } => "tls-incomplete-record",
            Check::TlsNoKeyLog => "tls-no-keylog",
            Check::TlsNoKey { .. } => "tls-no-key",
            Check::TlsNoHandshake => "tls-no-handshake",
            Check::TlsUnsupportedSuite { .. } => "tls-unsupported-suite",
            Check::TlsAuthFailed { .. } => "tls-auth-failed",
        }
    }

    /// Every code, for tests and for checking the wording files.
    pub const ALL_CODES: &'static [&'static str] = &[
        "ws-client-unmasked",
        "ws-server-masked",
        "ws-control-too-long",
        "ws-control-fragmented",
        "ws-rsv-without-extension",
        "ws-rsv1-misplaced",
        "ws-length-not-minimal",
        "ws-length-msb-set",
        "ws-invalid-utf8",
        "ws-close-payload-short",
        "ws-bad-close-code",
        "ws-data-after-close",
        "ws-reserved-opcode",
        "ws-client-sent-before-accept",
        "ws-continuation-without-start",
        "ws-data-during-fragment",
        "ws-accept-invalid",
        "ws-inflate-limit",
        "ws-inflate-error",
        "ws-inflate-context-lost",
        "ws-message-limit",
        "ws-incomplete-frame",
        "http-malformed",
        "http-header-too-large",
        "http-control-bytes",
        "http-trailer-too-large",
        "http-bad-content-length",
        "http-bad-chunk",
        "http-length-and-chunked",
        "http-incomplete",
        "stream-gap",
        "stream-desync",
        "eio-unknown-type",
        "eio-bad-payload",
        "eio-bad-open",
        "eio-packets-not-decoded",
        "sio-unknown-type",
        "sio-malformed",
        "sio-bad-json",
        "sio-json-too-deep",
        "sio-bad-payload",
        "sio-ack-without-id",
        "sio-placeholder-mismatch",
        "sio-attachments-missing",
        "sio-unexpected-binary",
        "tls-bad-record-length",
        "tls-not-record",
        "tls-malformed-handshake",
        "tls-incomplete-record",
        "tls-no-keylog",
        "tls-no-key",
        "tls-no-handshake",
        "tls-unsupported-suite",
        "tls-auth-failed",
    ];

    /// Warning for broken rules, note for what the capture or the limits caused.
    pub fn level(&self) -> Level {
        match self {
            Check::WsInflateLimit { .. }
            | Check::WsInflateContextLost
            | Check::WsMessageLimit { .. }
            | Check::WsIncompleteFrame { .. }
            | Check::HttpHeaderTooLarge { .. }
            | Check::HttpIncomplete
            | Check::EioPacketsNotDecoded { .. }
            | Check::StreamGap { .. }
            | Check::StreamDesync { .. }
            | Check::TlsIncompleteRecord { .. }
            | Check::TlsNoKeyLog
            | Check::TlsNoKey { .. }
            | Check::TlsNoHandshake
            | Check::TlsUnsupportedSuite { .. } => Level::Note,
            _ => Level::Warning,
        }
    }

    /// Values for the wording template's `{placeholders}`.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            Check::WsControlTooLong { len } => vec![("len", len.to_string())],
            Check::WsRsvWithoutExtension { rsv } => vec![("rsv", rsv.to_string())],
            Check::WsLengthNotMinimal { len, bits } => {
                vec![("len", len.to_string()), ("bits", bits.to_string())]
            }
            Check::WsBadCloseCode { code } => vec![
                ("close_code", code.to_string()),
                ("name", super::websocket::close_code_name(*code).to_string()),
            ],
            Check::WsReservedOpcode { opcode } => vec![("opcode", opcode.to_string())],
            Check::WsAcceptInvalid { expected, got } => {
                vec![("expected", expected.clone()), ("got", got.clone())]
            }
            Check::WsInflateLimit { limit }
            | Check::WsMessageLimit { limit }
            | Check::HttpHeaderTooLarge { limit }
            | Check::SioJsonTooDeep { limit }
            | Check::HttpTrailerTooLarge { limit } => vec![("limit", limit.to_string())],
            Check::HttpControlBytes { count } => vec![("count", count.to_string())],
            Check::EioPacketsNotDecoded { count, limit } => {
                vec![("count", count.to_string()), ("limit", limit.to_string())]
            }
            Check::WsIncompleteFrame { missing }
            | Check::StreamGap { missing }
            | Check::StreamDesync { missing } => vec![("missing", missing.to_string())],
            Check::EioUnknownType { found } | Check::SioUnknownType { found } => {
                vec![("found", found.clone())]
            }
            Check::SioBadPayload { packet_type } => vec![("packet_type", packet_type.to_string())],
            Check::SioPlaceholderMismatch {
                attachments,
                placeholders,
            } => {
                vec![
                    ("attachments", attachments.to_string()),
                    ("placeholders", placeholders.to_string()),
                ]
            }
            Check::SioAttachmentsMissing { missing } => vec![("missing", missing.to_string())],
            Check::TlsBadRecordLength { len } => vec![("len", len.to_string())],
            Check::TlsNotRecord { found } => vec![("found", found.to_string())],
            Check::TlsMalformedHandshake { handshake_type } => {
                vec![("handshake_type", handshake_type.clone())]
            }
            Check::TlsIncompleteRecord { missing } => vec![("missing", missing.to_string())],
            Check::TlsNoKey { client_random } => vec![("client_random", client_random.clone())],
            Check::TlsUnsupportedSuite { suite } => vec![("suite", suite.clone())],
            Check::TlsAuthFailed { secret } => vec![("secret", secret.clone())],
            _ => Vec::new(),
        }
    }
}

/// `{"code":"ws-bad-close-code","level":"warning","close_code":"1005",…}`: code, level, params.
impl Serialize for Check {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_coded(s, self.code(), self.level(), &self.params())
    }
}

/// A coded note as JSON: `{"code":…,"level":…, <each parameter>}` (checks and the
/// Socket.IO session notes alike).
pub fn serialize_coded<S: Serializer>(
    s: S,
    code: &str,
    level: Level,
    params: &[(&'static str, String)],
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(2 + params.len()))?;
    m.serialize_entry("code", code)?;
    m.serialize_entry("level", &level)?;
    for (k, v) in params {
        m.serialize_entry(k, v)?;
    }
    m.end()
}

/// The deepest nesting of JSON taken from a capture (Socket.IO arguments, an Engine.IO
/// open packet). The JSON lines put it four levels down, and readers stop at 128
/// (serde_json's own default): deeper payloads are not decoded, and a check says so.
pub const MAX_JSON_DEPTH: usize = 64;

/// How deep `s` nests arrays and objects (brackets inside strings do not count); stops
/// counting past `MAX_JSON_DEPTH`.
pub fn json_depth(s: &str) -> usize {
    let (mut depth, mut deepest, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for b in s.bytes() {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_JSON_DEPTH {
                    break;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wording_exists_for_every_check() {
        let mut tables = Vec::new();
        for text in [
            include_str!("../explain/text/websocket.toml"),
            include_str!("../explain/text/http.toml"),
            include_str!("../explain/text/socketio.toml"),
            include_str!("../explain/text/tls.toml"),
        ] {
            let v: toml::Table = toml::from_str(text).expect("valid TOML");
            tables.push(v);
        }
        let checks: Vec<Check> = vec![
            Check::WsControlTooLong { len: 1 },
            Check::WsRsvWithoutExtension { rsv: 1 },
            Check::WsLengthNotMinimal { len: 1, bits: 16 },
            Check::WsBadCloseCode { code: 1005 },
            Check::WsReservedOpcode { opcode: 3 },
            Check::WsAcceptInvalid {
                expected: "a".into(),
                got: "b".into(),
            },
            Check::WsInflateLimit { limit: 1 },
            Check::WsMessageLimit { limit: 1 },
            Check::WsIncompleteFrame { missing: 1 },
            Check::HttpHeaderTooLarge { limit: 1 },
            Check::HttpControlBytes { count: 1 },
            Check::EioPacketsNotDecoded { count: 1, limit: 1 },
            Check::HttpTrailerTooLarge { limit: 1 },
            Check::StreamGap { missing: 1 },
            Check::StreamDesync { missing: 1 },
            Check::EioUnknownType { found: "x".into() },
            Check::SioUnknownType { found: "x".into() },
            Check::SioBadPayload {
                packet_type: "EVENT",
            },
            Check::SioPlaceholderMismatch {
                attachments: 1,
                placeholders: 0,
            },
            Check::SioAttachmentsMissing { missing: 1 },
            Check::SioJsonTooDeep { limit: 1 },
            Check::TlsBadRecordLength { len: 1 },
            Check::TlsNotRecord { found: 1 },
            Check::TlsMalformedHandshake {
                handshake_type: "x".into(),
            },
            Check::TlsIncompleteRecord { missing: 1 },
            Check::TlsNoKey {
                client_random: "x".into(),
            },
            Check::TlsUnsupportedSuite { suite: "x".into() },
            Check::TlsAuthFailed { secret: "x".into() },
        ];
        for code in Check::ALL_CODES {
            let template = tables
                .iter()
                .find_map(|t| {
                    t.get("check")
                        .and_then(|c| c.get(*code))
                        .and_then(|v| v.as_str())
                })
                .unwrap_or_else(|| panic!("no wording for {code}"));
            // Every placeholder must be a parameter of that check.
            let params: Vec<&str> = checks
                .iter()
                .filter(|c| c.code() == *code)
                .flat_map(|c| c.params().into_iter().map(|(k, _)| k))
                .collect();
            let mut rest = template;
            while let Some(i) = rest.find('{') {
                let j = rest[i..].find('}').expect("closed placeholder") + i;
                let name = &rest[i + 1..j];
                assert!(
                    params.contains(&name),
                    "{code}: unknown placeholder {{{name}}}"
                );
                rest = &rest[j + 1..];
            }
        }
    }
}
