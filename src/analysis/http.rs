//! HTTP/1.x over one direction of a TCP connection: an incremental parser (httparse for
//! the header block) that finds message boundaries — Content-Length, chunked encoding, or
//! the connection's close — and the WebSocket upgrade fields of a message.
//!
//! The parser is pure: bytes in, [`HttpMessage`]s out. The per-connection logic (pairing
//! responses with requests, holding client bytes during an upgrade, switching to WebSocket)
//! lives in [`super::app`].

use std::collections::VecDeque;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::app::Check;
use super::websocket::{sec_websocket_accept, DeflateParams, UpgradeRequest};

/// The longest header block (request/status line + headers) accepted before giving up.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// The most headers in one message.
const MAX_HEADERS: usize = 128;

/// Request or response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpKind {
    Request,
    Response,
}

/// How the end of a message body is found (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyFraming {
    /// No body: a request without length headers, or a response to HEAD, 1xx, 204, 304.
    None,
    /// `Content-Length: N`.
    ContentLength,
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// A response with neither: the body runs until the server closes the connection.
    Close,
}

/// One HTTP/1.x message, as the `http` layer of SPEC.md.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpMessage {
    pub kind: HttpKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Names lower-cased, in the order they came; serialized as a JSON object in that
    /// order (repeated names joined with ", ").
    #[serde(serialize_with = "headers_as_object")]
    pub headers: Vec<(String, String)>,
    /// The header names as the sender spelled them (`Sec-WebSocket-Key`), one per entry of
    /// `headers`, for the text outputs; not serialized (SPEC keeps names lower-cased).
    #[serde(skip)]
    pub names_sent: Vec<String>,
    /// The body's length in bytes after removing chunked framing (bytes lost in a capture
    /// gap included).
    pub body_len: u64,
    pub body_framing: BodyFraming,
    /// The method of the request this response answers, when it was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_method: Option<String>,
    /// The `Upgrade` header (`websocket` for the WebSocket handshake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<String>,
    /// `Sec-WebSocket-Key` (on the upgrade request, and copied to its 101 response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket_key: Option<String>,
    /// `Sec-WebSocket-Accept` (on the 101 response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket_accept: Option<String>,
    /// base64(SHA-1(key + GUID)): what the server must answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_expected: Option<String>,
    /// Whether `websocket_accept` equals `accept_expected` (response only, when both known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_valid: Option<bool>,
    /// `Sec-WebSocket-Version` (13 for RFC 6455).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket_version: Option<String>,
    /// `Sec-WebSocket-Protocol`: offered subprotocols (request) or the chosen one (response).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket_protocol: Option<String>,
    /// `Sec-WebSocket-Extensions` as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket_extensions: Option<String>,
    /// permessage-deflate: offered (request) or negotiated (101 response), with its parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permessage_deflate: Option<DeflateParams>,
    /// This response answered a WebSocket upgrade request with a status other than 101:
    /// the connection stays HTTP.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub upgrade_refused: bool,
    /// The body (de-chunked), kept up to `AppLimits::max_message` bytes; not serialized.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// True when `body` holds less than `body_len` (limit reached or bytes not captured).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub body_truncated: bool,
    /// The WebSocket upgrade fields as the request sent them: on the request, and on the
    /// response that answers it; not serialized.
    #[serde(skip)]
    pub upgrade_request: Option<Box<UpgradeRequest>>,
}

impl HttpMessage {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers with their names as sent, in order.
    pub fn headers_as_sent(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().enumerate().map(|(i, (n, v))| {
            (
                self.names_sent.get(i).map_or(n.as_str(), String::as_str),
                v.as_str(),
            )
        })
    }

    /// A header's name as this message spelled it (the lower-case name when absent).
    pub fn name_sent<'a>(&'a self, name: &'a str) -> &'a str {
        self.headers
            .iter()
            .position(|(n, _)| n == name)
            .and_then(|i| self.names_sent.get(i))
            .map_or(name, String::as_str)
    }

    /// All values of a header joined with ", " (HTTP list semantics).
    pub fn header_joined(&self, name: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for (n, v) in &self.headers {
            if n == name {
                match &mut out {
                    Some(s) => {
                        s.push_str(", ");
                        s.push_str(v);
                    }
                    None => out = Some(v.clone()),
                }
            }
        }
        out
    }

    /// True for a request or response whose `Upgrade` header names websocket.
    pub fn is_websocket_upgrade(&self) -> bool {
        self.upgrade.as_deref().is_some_and(|u| {
            u.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
        })
    }
}

fn headers_as_object<S: Serializer>(h: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    // Names in order of first appearance; repeated names joined.
    let mut names: Vec<&str> = Vec::with_capacity(h.len());
    for (n, _) in h {
        if !names.contains(&n.as_str()) {
            names.push(n);
        }
    }
    let mut map = s.serialize_map(Some(names.len()))?;
    for name in names {
        let mut vals = h.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let first = vals.next().unwrap_or("");
        let rest: Vec<&str> = vals.collect();
        if rest.is_empty() {
            map.serialize_entry(name, first)?;
        } else {
            let mut joined = first.to_string();
            for v in rest {
                joined.push_str(", ");
                joined.push_str(v);
            }
            map.serialize_entry(name, &joined)?;
        }
    }
    map.end()
}

/// A completed message: its `[start, end)` stream range, the message, its checks.
pub(crate) type HttpEvent = ((u64, u64), HttpMessage, Vec<Check>);

/// A request that is waiting for its response (kept per direction, oldest first).
#[derive(Clone, Debug)]
pub(crate) struct PendingRequest {
    pub method: String,
    pub websocket_upgrade: bool,
    pub websocket_key: Option<String>,
    pub upgrade_request: Option<Box<UpgradeRequest>>,
}

/// Why [`HttpDecoder::feed`] stopped before the end of its input.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A request asking to upgrade to WebSocket was completed: the bytes that follow belong
    /// to the new protocol or to HTTP depending on the answer.
    UpgradeRequested,
    /// A `101 Switching Protocols` response: what follows is the new protocol.
    Switched { websocket: bool },
    /// Not HTTP, or HTTP that could not be parsed: ignore this direction from now on.
    NotHttp { check: Option<Check> },
}

/// What one call to [`HttpDecoder::feed`] produced.
#[derive(Debug, Default)]
pub(crate) struct Feed {
    /// Completed messages with their `[start, end)` stream range and checks.
    pub messages: Vec<HttpEvent>,
    /// Set when the decoder stopped; `leftover` holds the bytes it did not consume.
    pub stop: Option<Stop>,
    pub leftover: Vec<u8>,
    /// A response answered an upgrade request with a status other than 101.
    pub upgrade_refused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading the chunk-size line.
    Size,
    /// Reading chunk data (this many bytes left).
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd,
    /// Trailer fields after the last chunk, up to an empty line.
    Trailer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between messages (or before the first one).
    Start,
    /// Reading a body of known length.
    Body(u64),
    Chunked(Chunk),
    /// A response body that ends with the connection.
    UntilClose,
}

/// The HTTP parser of one direction.
#[derive(Debug)]
pub(crate) struct HttpDecoder {
    state: State,
    /// Unconsumed bytes needing contiguous parsing (a header block, a chunk-size line).
    buf: Vec<u8>,
    /// Where to resume looking for the end of the header block in `buf`.
    scan_from: usize,
    /// Stream offset of the first byte of `buf` (= of the next unconsumed byte).
    offset: u64,
    /// True once a message has been parsed in this direction.
    pub seen_http: bool,
    /// The current message's first line was validated while its header block was partial.
    first_line_checked: bool,
    /// The message whose body is being read, and where it started.
    cur: Option<Box<(u64, HttpMessage, Vec<Check>)>>,
    max_body: usize,
}

impl HttpDecoder {
    /// About how many bytes this direction holds: the unparsed head, the body so far.
    pub fn memory(&self) -> usize {
        self.buf.capacity()
            + self
                .cur
                .as_ref()
                .map_or(0, |c| c.1.body.capacity() + 64 * c.1.headers.len())
    }

    pub fn new(offset: u64, max_body: usize) -> Self {
        HttpDecoder {
            state: State::Start,
            buf: Vec::new(),
            scan_from: 0,
            offset,
            seen_http: false,
            first_line_checked: false,
            cur: None,
            max_body,
        }
    }

    /// Takes the unconsumed buffered bytes (used when the direction changes protocol).
    pub fn take_buffer(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Parses as much of `input` (contiguous with what came before) as possible.
    /// `own` holds requests sent in this direction, `other` those sent the other way
    /// (which this direction's responses answer).
    pub fn feed(
        &mut self,
        input: &[u8],
        own: &mut VecDeque<PendingRequest>,
        other: &mut VecDeque<PendingRequest>,
    ) -> Feed {
        let mut feed = Feed::default();
        let mut owned = std::mem::take(&mut self.buf);
        let used_owned = !owned.is_empty();
        if used_owned {
            owned.extend_from_slice(input);
        }
        let data: &[u8] = if used_owned { &owned } else { input };
        let mut i = 0usize;
        // Bytes of `data` already scanned for the end of a header block (relative to i).
        let mut scan_from = if used_owned { self.scan_from } else { 0 };
        while i < data.len() && feed.stop.is_none() {
            let rest = &data[i..];
            match self.state {
                State::Start => {
                    // Empty lines between messages are allowed (RFC 9112 section 2.2).
                    let skip = rest
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    if skip > 0 {
                        i += skip;
                        self.offset += skip as u64;
                        scan_from = 0;
                        continue;
                    }
                    if !sniff(rest) {
                        feed.stop = Some(Stop::NotHttp {
                            check: self.seen_http.then_some(Check::HttpMalformed),
                        });
                        break;
                    }
                    let Some(end) = find_header_end(rest, scan_from) else {
                        if rest.len() > MAX_HEADER_BLOCK {
                            feed.stop = Some(Stop::NotHttp {
                                check: Some(Check::HttpHeaderTooLarge {
                                    limit: MAX_HEADER_BLOCK,
                                }),
                            });
                            break;
                        }
                        // Reject a first line that is not HTTP as soon as it is complete.
                        if !self.first_line_checked && rest.contains(&b'\n') {
                            self.first_line_checked = true;
                            if parse_head(rest).is_err() {
                                feed.stop = Some(Stop::NotHttp {
                                    check: (self.seen_http || http_first_line(rest))
                                        .then_some(Check::HttpMalformed),
                                });
                                break;
                            }
                        }
                        scan_from = rest.len().saturating_sub(3);
                        break;
                    };
                    scan_from = 0;
                    self.first_line_checked = false;
                    let head = match parse_head(&rest[..end]) {
                        Ok(Some(h)) => h,
                        _ => {
                            feed.stop = Some(Stop::NotHttp {
                                check: (self.seen_http || http_first_line(rest))
                                    .then_some(Check::HttpMalformed),
                            });
                            break;
                        }
                    };
                    self.seen_http = true;
                    let start = self.offset;
                    i += end;
                    self.offset += end as u64;
                    match self.begin_message(start, head, own, other, &mut feed) {
                        Begin::Continue => {}
                        Begin::Stop(s) => feed.stop = Some(s),
                    }
                }
                State::Body(remaining) => {
                    let n = (remaining.min(rest.len() as u64)) as usize;
                    self.take_body(&rest[..n]);
                    i += n;
                    self.offset += n as u64;
                    if remaining == n as u64 {
                        self.finish(&mut feed);
                    } else {
                        self.state = State::Body(remaining - n as u64);
                    }
                }
                State::UntilClose => {
                    self.take_body(rest);
                    i += rest.len();
                    self.offset += rest.len() as u64;
                }
                State::Chunked(Chunk::Data(remaining)) => {
                    let n = (remaining.min(rest.len() as u64)) as usize;
                    self.take_body(&rest[..n]);
                    i += n;
                    self.offset += n as u64;
                    self.state = State::Chunked(if remaining == n as u64 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(remaining - n as u64)
                    });
                }
                State::Chunked(chunk) => {
                    // Line-oriented parts: size line, CRLF after data, trailer lines.
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > MAX_HEADER_BLOCK {
                            feed.stop = Some(Stop::NotHttp {
                                check: Some(Check::HttpBadChunk),
                            });
                        }
                        break;
                    };
                    let line = trim_cr(&rest[..nl]);
                    i += nl + 1;
                    self.offset += (nl + 1) as u64;
                    match chunk {
                        Chunk::Size => match parse_chunk_size(line) {
                            Some(0) => self.state = State::Chunked(Chunk::Trailer),
                            Some(n) => self.state = State::Chunked(Chunk::Data(n)),
                            None => {
                                feed.stop = Some(Stop::NotHttp {
                                    check: Some(Check::HttpBadChunk),
                                });
                            }
                        },
                        Chunk::DataEnd => {
                            if line.is_empty() {
                                self.state = State::Chunked(Chunk::Size);
                            } else {
                                feed.stop = Some(Stop::NotHttp {
                                    check: Some(Check::HttpBadChunk),
                                });
                            }
                        }
                        Chunk::Trailer => {
                            if line.is_empty() {
                                self.finish(&mut feed);
                            } else if let Some(cur) = &mut self.cur {
                                let m = &mut cur.1;
                                if let Some(c) = line.iter().position(|&b| b == b':') {
                                    let sent = String::from_utf8_lossy(&line[..c]).into_owned();
                                    let value = ows_trim(&String::from_utf8_lossy(&line[c + 1..]))
                                        .to_string();
                                    m.headers.push((sent.to_ascii_lowercase(), value));
                                    m.names_sent.push(sent);
                                }
                            }
                        }
                        Chunk::Data(_) => unreachable!("handled above"),
                    }
                }
            }
        }
        // Keep what is left.
        let tail = &data[i.min(data.len())..];
        if feed.stop.is_some() {
            feed.leftover = tail.to_vec();
            self.buf = Vec::new();
            self.scan_from = 0;
        } else if used_owned {
            let keep_from = i.min(owned.len());
            owned.drain(..keep_from);
            self.buf = owned;
            self.scan_from = scan_from;
        } else {
            self.buf = tail.to_vec();
            self.scan_from = scan_from;
        }
        feed
    }

    /// Bytes of this direction were not captured. `Err` when the parser lost track of
    /// message boundaries; `Ok(Some(..))` when the gap ended the message being read.
    #[allow(clippy::result_unit_err)]
    pub fn gap(&mut self, missing: u64) -> Result<Option<HttpEvent>, ()> {
        if !self.buf.is_empty() {
            return Err(());
        }
        match self.state {
            State::Start => {
                // Between messages: the next push is sniffed afresh.
                self.offset += missing;
                Ok(None)
            }
            State::Body(remaining) if missing <= remaining => {
                self.lose_body(missing);
                self.offset += missing;
                if remaining == missing {
                    let mut feed = Feed::default();
                    self.finish(&mut feed);
                    return Ok(feed.messages.pop());
                }
                self.state = State::Body(remaining - missing);
                Ok(None)
            }
            State::UntilClose => {
                self.lose_body(missing);
                self.offset += missing;
                Ok(None)
            }
            State::Chunked(Chunk::Data(remaining)) if missing <= remaining => {
                self.lose_body(missing);
                self.offset += missing;
                self.state = State::Chunked(if remaining == missing {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(remaining - missing)
                });
                Ok(None)
            }
            _ => Err(()),
        }
    }

    /// The direction ended: a body delimited by the close is complete; a message cut short
    /// is reported with a check.
    pub fn end(&mut self) -> Option<HttpEvent> {
        let state = self.state;
        let (start, mut msg, mut checks) = *self.cur.take()?;
        self.state = State::Start;
        match state {
            State::UntilClose => {}
            State::Body(0) => {}
            _ => checks.push(Check::HttpIncomplete),
        }
        msg.body_truncated |= (msg.body.len() as u64) < msg.body_len;
        Some(((start, self.offset), msg, checks))
    }

    fn take_body(&mut self, bytes: &[u8]) {
        if let Some(cur) = &mut self.cur {
            let m = &mut cur.1;
            m.body_len += bytes.len() as u64;
            let room = self.max_body.saturating_sub(m.body.len());
            if room < bytes.len() {
                m.body_truncated = true;
            }
            m.body.extend_from_slice(&bytes[..room.min(bytes.len())]);
        }
    }

    fn lose_body(&mut self, missing: u64) {
        if let Some(cur) = &mut self.cur {
            let (_, m, checks) = &mut **cur;
            m.body_len += missing;
            m.body_truncated = true;
            if !checks.iter().any(|c| matches!(c, Check::StreamGap { .. })) {
                checks.push(Check::StreamGap { missing });
            }
        }
    }

    fn finish(&mut self, feed: &mut Feed) {
        self.state = State::Start;
        if let Some(cur) = self.cur.take() {
            let (start, m, checks) = *cur;
            feed.messages.push(((start, self.offset), m, checks));
        }
    }

    /// A header block was parsed: decide the body and what happens next.
    fn begin_message(
        &mut self,
        start: u64,
        head: Head,
        own: &mut VecDeque<PendingRequest>,
        other: &mut VecDeque<PendingRequest>,
        feed: &mut Feed,
    ) -> Begin {
        let mut checks = Vec::new();
        if head.control_bytes > 0 {
            checks.push(Check::HttpControlBytes {
                count: head.control_bytes,
            });
        }
        let mut msg = head.into_message();
        let te = msg.header_joined("transfer-encoding");
        let chunked = te.as_deref().is_some_and(|t| {
            t.rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        });
        let content_length = match msg.header_joined("content-length") {
            None => None,
            Some(v) => {
                // Repeated identical values ("5, 5") are tolerated (RFC 9110 section 8.6).
                let mut vals = v.split(',').map(|s| s.trim().parse::<u64>());
                match vals.next() {
                    Some(Ok(n)) if vals.all(|x| x == Ok(n)) => Some(n),
                    _ => {
                        return Begin::Stop(Stop::NotHttp {
                            check: Some(Check::HttpBadContentLength),
                        })
                    }
                }
            }
        };
        if chunked && content_length.is_some() {
            checks.push(Check::HttpLengthAndChunked);
        }
        let mut stop = None;
        let framing = match msg.kind {
            HttpKind::Request => {
                let websocket_upgrade = msg.is_websocket_upgrade();
                if websocket_upgrade {
                    msg.upgrade_request = Some(Box::new(UpgradeRequest::of(&msg)));
                    if let Some(key) = &msg.websocket_key {
                        msg.accept_expected = Some(sec_websocket_accept(key));
                    }
                    // (An upgrade request with a body is not RFC 6455's GET: parse it as HTTP.)
                    if !chunked && content_length.unwrap_or(0) == 0 {
                        stop = Some(Stop::UpgradeRequested);
                    }
                }
                own.push_back(PendingRequest {
                    method: msg.method.clone().unwrap_or_default(),
                    websocket_upgrade,
                    websocket_key: msg.websocket_key.clone(),
                    upgrade_request: msg.upgrade_request.clone(),
                });
                if chunked {
                    BodyFraming::Chunked
                } else if content_length.is_some_and(|n| n > 0) {
                    BodyFraming::ContentLength
                } else {
                    BodyFraming::None
                }
            }
            HttpKind::Response => {
                let status = msg.status.unwrap_or(0);
                // 1xx other than 101 are interim: the request still waits for its answer.
                let req = if (100..200).contains(&status) && status != 101 {
                    other.front().cloned()
                } else {
                    other.pop_front()
                };
                if let Some(r) = &req {
                    msg.request_method = Some(r.method.clone());
                    msg.upgrade_request = r.upgrade_request.clone();
                }
                let upgrade_req = req.as_ref().is_some_and(|r| r.websocket_upgrade);
                if status == 101 {
                    let websocket = upgrade_req || msg.is_websocket_upgrade();
                    if websocket {
                        msg.websocket_key = req.as_ref().and_then(|r| r.websocket_key.clone());
                        if let Some(key) = &msg.websocket_key {
                            let expected = sec_websocket_accept(key);
                            msg.accept_valid = Some(
                                msg.websocket_accept.as_deref().map(str::trim)
                                    == Some(expected.as_str()),
                            );
                            if msg.accept_valid == Some(false) {
                                checks.push(Check::WsAcceptInvalid {
                                    expected: expected.clone(),
                                    got: msg.websocket_accept.clone().unwrap_or_default(),
                                });
                            }
                            msg.accept_expected = Some(expected);
                        }
                    }
                    stop = Some(Stop::Switched { websocket });
                } else if upgrade_req && status >= 200 {
                    feed.upgrade_refused = true;
                    msg.upgrade_refused = true;
                }
                let head_req = req
                    .as_ref()
                    .is_some_and(|r| r.method.eq_ignore_ascii_case("HEAD"));
                let connect_ok = req
                    .as_ref()
                    .is_some_and(|r| r.method.eq_ignore_ascii_case("CONNECT"))
                    && (200..300).contains(&status);
                if connect_ok {
                    // A tunnel: what follows is not HTTP.
                    stop = Some(Stop::NotHttp { check: None });
                }
                if stop.is_some()
                    || head_req
                    || (100..200).contains(&status)
                    || status == 204
                    || status == 304
                {
                    BodyFraming::None
                } else if chunked {
                    BodyFraming::Chunked
                } else if let Some(n) = content_length {
                    if n > 0 {
                        BodyFraming::ContentLength
                    } else {
                        BodyFraming::None
                    }
                } else {
                    BodyFraming::Close
                }
            }
        };
        msg.body_framing = framing;
        self.cur = Some(Box::new((start, msg, checks)));
        match framing {
            BodyFraming::None => self.finish(feed),
            BodyFraming::ContentLength => self.state = State::Body(content_length.unwrap_or(0)),
            BodyFraming::Chunked => self.state = State::Chunked(Chunk::Size),
            BodyFraming::Close => self.state = State::UntilClose,
        }
        match stop {
            Some(s) => Begin::Stop(s),
            None => Begin::Continue,
        }
    }
}

enum Begin {
    Continue,
    Stop(Stop),
}

/// The parsed header block, owned.
struct Head {
    kind: HttpKind,
    method: Option<String>,
    uri: Option<String>,
    version: u8,
    status: Option<u16>,
    reason: Option<String>,
    /// Names as sent, and values.
    headers: Vec<(String, String)>,
    /// Control bytes HTTP forbids that the head carried (decoded anyway; a warning).
    control_bytes: usize,
}

impl Head {
    fn into_message(self) -> HttpMessage {
        let mut m = HttpMessage {
            kind: self.kind,
            method: self.method,
            uri: self.uri,
            version: format!("HTTP/1.{}", self.version),
            status: self.status,
            reason: self.reason,
            names_sent: self.headers.iter().map(|(n, _)| n.clone()).collect(),
            headers: self
                .headers
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect(),
            body_len: 0,
            body_framing: BodyFraming::None,
            request_method: None,
            upgrade: None,
            websocket_key: None,
            websocket_accept: None,
            accept_expected: None,
            accept_valid: None,
            websocket_version: None,
            websocket_protocol: None,
            websocket_extensions: None,
            permessage_deflate: None,
            upgrade_refused: false,
            body: Vec::new(),
            body_truncated: false,
            upgrade_request: None,
        };
        m.upgrade = m.header_joined("upgrade");
        m.websocket_key = m.header("sec-websocket-key").map(|s| s.trim().to_string());
        m.websocket_accept = m
            .header("sec-websocket-accept")
            .map(|s| s.trim().to_string());
        m.websocket_version = m.header_joined("sec-websocket-version");
        m.websocket_protocol = m.header_joined("sec-websocket-protocol");
        m.websocket_extensions = m.header_joined("sec-websocket-extensions");
        m.permessage_deflate = m
            .websocket_extensions
            .as_deref()
            .and_then(DeflateParams::parse);
        m
    }
}

/// Could these bytes begin an HTTP/1.x message? Answers true while undecided.
pub(crate) fn sniff(b: &[u8]) -> bool {
    const HTTP: &[u8] = b"HTTP/";
    let n = b.len().min(HTTP.len());
    if b[..n] == HTTP[..n] {
        return true;
    }
    // A method: an upper-case token, then a space.
    for (k, &c) in b.iter().enumerate().take(21) {
        if c == b' ' {
            return k > 0;
        }
        if !(c.is_ascii_uppercase() || c == b'-' || c == b'_') {
            return false;
        }
    }
    b.len() <= 20
}

/// The length of the header block (through its empty line), searching from `from`.
fn find_header_end(b: &[u8], from: usize) -> Option<usize> {
    let mut k = from.min(b.len());
    while let Some(p) = b[k..].iter().position(|&c| c == b'\n') {
        let nl = k + p;
        if nl + 1 < b.len() && b[nl + 1] == b'\n' {
            return Some(nl + 2);
        }
        if nl + 2 < b.len() && b[nl + 1] == b'\r' && b[nl + 2] == b'\n' {
            return Some(nl + 3);
        }
        k = nl + 1;
    }
    None
}

/// Parses a complete header block; `Ok(None)` when incomplete, `Err` when not HTTP.
/// Control bytes (which HTTP forbids anywhere in a head; httparse refuses some, and drops
/// a header line that has others, in silence) are counted, and a head that has them is
/// parsed with them read as `?`, its texts keeping the bytes as sent: one stray byte
/// does not hide a header, or the whole direction (an upgrade, the WebSocket after it).
fn parse_head(b: &[u8]) -> Result<Option<Head>, ()> {
    let control = |c: &u8| (*c < 0x20 && !matches!(c, b'\r' | b'\n' | b'\t')) || *c == 0x7f;
    let count = b.iter().filter(|c| control(c)).count();
    if count == 0 {
        return parse_head_in(b, b);
    }
    let masked: Vec<u8> = b
        .iter()
        .map(|c| if control(c) { b'?' } else { *c })
        .collect();
    let mut head = parse_head_in(&masked, b)?;
    if let Some(h) = head.as_mut() {
        h.control_bytes = count;
    }
    Ok(head)
}

/// Parses `b`; the texts are taken from `orig` (the same bytes but for control bytes
/// masked in `b`) at the same offsets.
fn parse_head_in(b: &[u8], orig: &[u8]) -> Result<Option<Head>, ()> {
    let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_responses(true)
        .ignore_invalid_headers_in_requests(true);
    // The same span of `orig` as `part` is of `b`.
    let base = b.as_ptr() as usize;
    let as_sent = |part: &[u8]| -> String {
        let at = part.as_ptr() as usize - base;
        String::from_utf8_lossy(&orig[at..at + part.len()]).into_owned()
    };
    let own = |h: &[httparse::Header]| -> Vec<(String, String)> {
        h.iter()
            .map(|h| (h.name.to_string(), ows_trim(&as_sent(h.value)).to_string()))
            .collect()
    };
    if b.starts_with(b"HTTP/") {
        let mut r = httparse::Response::new(&mut hdrs);
        match config.parse_response(&mut r, b) {
            Ok(httparse::Status::Complete(_)) => Ok(Some(Head {
                kind: HttpKind::Response,
                method: None,
                uri: None,
                version: r.version.unwrap_or(1),
                status: r.code,
                reason: r.reason.map(|t| as_sent(t.as_bytes())),
                headers: own(r.headers),
                control_bytes: 0,
            })),
            Ok(httparse::Status::Partial) => Ok(None),
            Err(_) => Err(()),
        }
    } else {
        let mut r = httparse::Request::new(&mut hdrs);
        match config.parse_request(&mut r, b) {
            Ok(httparse::Status::Complete(_)) => Ok(Some(Head {
                kind: HttpKind::Request,
                method: r.method.map(str::to_string),
                uri: r.path.map(|t| as_sent(t.as_bytes())),
                version: r.version.unwrap_or(1),
                status: None,
                reason: None,
                headers: own(r.headers),
                control_bytes: 0,
            })),
            Ok(httparse::Status::Partial) => Ok(None),
            Err(_) => Err(()),
        }
    }
}

/// Whether the first line names an HTTP version (`GET / HTTP/1.1`, `HTTP/1.1 200`):
/// bytes that said they were HTTP and then broke its syntax are reported, not dropped
/// in silence (another protocol's first line, `EHLO x`, is simply not HTTP).
fn http_first_line(b: &[u8]) -> bool {
    let line = &b[..b.iter().position(|&c| c == b'\n').unwrap_or(b.len())];
    line.starts_with(b"HTTP/") || line.windows(6).any(|w| w == b" HTTP/")
}

/// A field value without its optional whitespace (RFC 9110 section 5.5: SP and HTAB
/// only). `str::trim` would also take Unicode spaces such as U+0085 or U+00A0 that are
/// part of the value, and the JSON output must keep the exact text.
fn ows_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `1a;ext=1` → 26.
fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let hex = std::str::from_utf8(&line[..end]).ok()?.trim();
    if hex.is_empty() || hex.len() > 15 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(d: &mut HttpDecoder, parts: &[&[u8]]) -> Vec<HttpEvent> {
        let mut own = VecDeque::new();
        let mut other = VecDeque::new();
        let mut out = Vec::new();
        for p in parts {
            let f = d.feed(p, &mut own, &mut other);
            out.extend(f.messages);
            assert!(f.stop.is_none(), "{:?}", f.stop);
        }
        out
    }

    #[test]
    fn chunked_response_rfc9112_example() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";
        let mut d = HttpDecoder::new(0, 1 << 20);
        let m = feed_all(&mut d, &[raw]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, (0, raw.len() as u64));
        assert_eq!(m[0].1.body, b"Wikipedia in\r\n\r\nchunks.");
        assert_eq!(m[0].1.body_len, 23);
        assert_eq!(m[0].1.body_framing, BodyFraming::Chunked);
        assert_eq!(m[0].1.header("expires"), Some("never"));
        // Byte by byte gives the same.
        let mut d = HttpDecoder::new(0, 1 << 20);
        let parts: Vec<&[u8]> = raw.chunks(1).collect();
        let m2 = feed_all(&mut d, &parts);
        assert_eq!(m2.len(), 1);
        assert_eq!(m2[0].1, m[0].1);
        assert_eq!(m2[0].0, m[0].0);
    }

    #[test]
    fn sniffing() {
        assert!(sniff(b"GET / HTTP/1.1"));
        assert!(sniff(b"HTT"));
        assert!(sniff(b"HTTP/1.1 200"));
        assert!(sniff(b"M-SEARCH * HTTP/1.1"));
        assert!(!sniff(b"\x16\x03\x01\x02\x00"));
        assert!(!sniff(b"220 mx.google.com ESMTP"));
        assert!(!sniff(b"\x00\x00\x00\x08\x04\xd2\x16\x2f"));
        assert!(!sniff(b"get / HTTP/1.1"));
    }

    #[test]
    fn control_bytes_in_a_head_are_decoded_and_counted() {
        // A BEL in a header value and an ESC in the target: httparse refuses both, the
        // head is decoded anyway, with the bytes as sent, and a check says how many.
        let raw = b"GET /a\x1bb HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-Bell: ring\x07\r\n\r\n";
        let mut d = HttpDecoder::new(0, 1 << 20);
        let m = feed_all(&mut d, &[raw]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, (0, raw.len() as u64));
        assert_eq!(m[0].1.uri.as_deref(), Some("/a\x1bb"));
        assert_eq!(m[0].1.header("x-bell"), Some("ring\x07"));
        assert_eq!(m[0].1.header("accept"), Some("*/*"));
        assert_eq!(m[0].2, vec![Check::HttpControlBytes { count: 2 }]);
        // A clean head has no such check.
        let mut d = HttpDecoder::new(0, 1 << 20);
        let m = feed_all(&mut d, &[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"]);
        assert!(m[0].2.is_empty(), "{:?}", m[0].2);
    }

    #[test]
    fn broken_syntax_after_an_http_first_line_is_reported() {
        // The first message of the direction: no `seen_http` yet, but the first line
        // named an HTTP version (one httparse does not know), so the stop says http-malformed instead of nothing.
        let mut d = HttpDecoder::new(0, 1 << 20);
        let f = d.feed(
            b"GET / HTTP/1.7\r\nHost: x\r\n\r\n",
            &mut VecDeque::new(),
            &mut VecDeque::new(),
        );
        assert!(
            matches!(
                f.stop,
                Some(Stop::NotHttp {
                    check: Some(Check::HttpMalformed)
                })
            ),
            "{:?}",
            f.stop
        );
        assert!(http_first_line(b"HTTP/1.1 200 OK\r\n"));
        assert!(!http_first_line(b"EHLO HTTP\r\nGET / HTTP/1.1"));
    }

    #[test]
    fn smtp_client_is_rejected_at_first_line() {
        let mut d = HttpDecoder::new(0, 1 << 20);
        let f = d.feed(
            b"EHLO example.com\r\n",
            &mut VecDeque::new(),
            &mut VecDeque::new(),
        );
        assert!(matches!(f.stop, Some(Stop::NotHttp { check: None })));
    }
}
