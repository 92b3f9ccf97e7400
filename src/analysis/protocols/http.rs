//! HTTP/1.x and what grows out of it on the same connection: the WebSocket upgrade and
//! WebSocket frames, and — on a connection that requests an Engine.IO URI (`/socket.io/…`
//! or `EIO=` in the query) — the Engine.IO and Socket.IO packets in its polling bodies and
//! WebSocket messages, each reported as its own event right after the HTTP message or
//! WebSocket frame that carried it (same direction, same `stream_range`).
//!
//! Pure and synchronous: TCP reassembly pushes each direction's bytes in order
//! ([`AppStream::push`]), reports holes ([`AppStream::gap`]) and ends
//! ([`AppStream::end`]); each call returns the messages it completed, with their byte
//! ranges in that direction's stream, which the caller maps back to frames.
//!
//! Chosen by [`detect`] (a request line or a status line); a direction that then stops
//! parsing as HTTP is given up and costs nothing after.

use std::collections::VecDeque;

use super::{Detect, Protocol};
use crate::analysis::app::{
    AppEvent, AppLimits, AppMessage, Application, Check, Dir, InProgress, Stopped,
};
use crate::analysis::engineio::EioStream;
use crate::analysis::http::{sniff, Feed, HttpDecoder, HttpKind, PendingRequest, Stop};
use crate::analysis::websocket::{DeflateParams, WsDecoder};

/// HTTP's first bytes: a status line (`HTTP/`) or a method (an upper-case token, then a
/// space). `NeedMore` while a prefix of either.
pub fn detect(first: &[u8]) -> Detect {
    if first.is_empty() || !sniff(first) {
        return Detect::No;
    }
    if first.len() >= 5 || first.contains(&b' ') {
        Detect::Yes
    } else {
        Detect::NeedMore
    }
}

impl Protocol for AppStream {
    fn push(&mut self, dir: Dir, data: &[u8]) -> Vec<AppEvent> {
        AppStream::push(self, dir, data)
    }
    fn gap(&mut self, dir: Dir, missing: u64) -> Vec<AppEvent> {
        AppStream::gap(self, dir, missing)
    }
    fn end(&mut self, dir: Dir) -> Vec<AppEvent> {
        AppStream::end(self, dir)
    }
    fn application(&self) -> Option<&'static str> {
        AppStream::application(self).map(Application::name)
    }
    fn memory(&self) -> usize {
        let modes: usize = self
            .modes
            .iter()
            .map(|m| match m {
                Mode::Http(h) => h.memory(),
                Mode::Hold { buf, .. } => buf.capacity(),
                Mode::WebSocket(ws) => ws.memory(),
                Mode::Ignored => 0,
            })
            .sum();
        let pending: usize = self.pending.iter().map(|p| p.len() * PENDING_COST).sum();
        modes + pending + self.eio.as_ref().map_or(0, |e| e.memory())
    }
    fn in_progress(&self, dir: Dir) -> Option<InProgress> {
        match &self.modes[dir.idx()] {
            Mode::WebSocket(ws) => ws.in_progress(),
            _ => None,
        }
    }
}

/// What one request waiting for its answer costs (its method, its upgrade headers).
const PENDING_COST: usize = 256;

/// What one direction's bytes are being read as.
#[derive(Debug)]
enum Mode {
    Http(HttpDecoder),
    /// The client asked to upgrade: its bytes wait for the server's answer.
    Hold {
        start: u64,
        buf: Vec<u8>,
        broken: bool,
    },
    WebSocket(WsDecoder),
    /// Not HTTP, ended, or lost: bytes are counted and dropped.
    Ignored,
}

/// The application layer of one TCP connection, both directions.
#[derive(Debug)]
pub struct AppStream {
    limits: AppLimits,
    /// Bytes pushed or lost so far, per direction.
    pos: [u64; 2],
    modes: [Mode; 2],
    /// Requests sent in each direction and not yet answered.
    pending: [VecDeque<PendingRequest>; 2],
    app: Option<Application>,
    /// Negotiated permessage-deflate parameters, once upgraded.
    deflate: Option<DeflateParams>,
    /// Engine.IO state, once a request for an Engine.IO URI was seen.
    eio: Option<Box<EioStream>>,
    /// HTTP requests per direction not yet answered, counted until an Engine.IO one comes.
    pending_other: [u32; 2],
}

impl AppStream {
    pub fn new(limits: AppLimits) -> Self {
        AppStream {
            limits,
            pos: [0, 0],
            modes: [
                Mode::Http(HttpDecoder::new(0, limits.max_message)),
                Mode::Http(HttpDecoder::new(0, limits.max_message)),
            ],
            pending: [VecDeque::new(), VecDeque::new()],
            app: None,
            deflate: None,
            eio: None,
            pending_other: [0, 0],
        }
    }

    /// Bytes of one direction, contiguous with what that direction pushed before.
    pub fn push(&mut self, dir: Dir, data: &[u8]) -> Vec<AppEvent> {
        let d = dir.idx();
        self.pos[d] += data.len() as u64;
        let mut events = Vec::new();
        match &mut self.modes[d] {
            Mode::Ignored => {}
            Mode::WebSocket(ws) => {
                ws.push(data, &mut events);
                let peer_closed =
                    matches!(&self.modes[1 - d], Mode::WebSocket(w) if w.close_sent());
                crate::analysis::websocket::mark_close_replies(&mut events, peer_closed);
            }
            Mode::Hold { buf, broken, .. } => {
                if buf.len() + data.len() > self.limits.max_message {
                    *broken = true;
                } else if !*broken {
                    buf.extend_from_slice(data);
                }
            }
            Mode::Http(_) => self.feed_http(dir, data, &mut events),
        }
        self.decorate(events)
    }

    /// `missing` bytes of this direction were never captured (a gap in the stream).
    pub fn gap(&mut self, dir: Dir, missing: u64) -> Vec<AppEvent> {
        let d = dir.idx();
        let at = self.pos[d];
        self.pos[d] += missing;
        let mut events = Vec::new();
        match &mut self.modes[d] {
            Mode::Ignored => {}
            Mode::Hold { broken, .. } => *broken = true,
            Mode::WebSocket(ws) => {
                let was_lost = ws.lost;
                ws.gap(missing, &mut events);
                if ws.lost && !was_lost {
                    events.push(stopped(dir, at, missing, Application::WebSocket));
                }
            }
            Mode::Http(h) => match h.gap(missing) {
                Ok(msg) => {
                    if let Some((range, m, checks)) = msg {
                        events.push(AppEvent {
                            dir,
                            stream_range: range,
                            message: AppMessage::Http(m),
                            checks,
                        });
                    }
                }
                Err(()) => {
                    if h.seen_http {
                        events.push(stopped(dir, at, missing, Application::Http));
                    }
                    self.modes[d] = Mode::Ignored;
                }
            },
        }
        self.decorate(events)
    }

    /// The direction ended (FIN or RST): flush a body delimited by the connection close.
    pub fn end(&mut self, dir: Dir) -> Vec<AppEvent> {
        let d = dir.idx();
        let mut events = Vec::new();
        match std::mem::replace(&mut self.modes[d], Mode::Ignored) {
            Mode::Http(mut h) => {
                if let Some((range, m, checks)) = h.end() {
                    events.push(AppEvent {
                        dir,
                        stream_range: range,
                        message: AppMessage::Http(m),
                        checks,
                    });
                }
            }
            Mode::WebSocket(mut ws) => ws.end(&mut events),
            // Held bytes stay held: the answer may still come the other way.
            hold @ Mode::Hold { .. } => self.modes[d] = hold,
            Mode::Ignored => {}
        }
        self.decorate(events)
    }

    /// What this connection carries so far.
    pub fn application(&self) -> Option<Application> {
        self.app
    }

    /// The permessage-deflate parameters negotiated in the upgrade, if any.
    pub fn deflate(&self) -> Option<&DeflateParams> {
        self.deflate.as_ref()
    }

    /// The Engine.IO session id this connection carries, once known (from a request's
    /// `sid=` or from the open packet).
    pub fn engineio_sid(&self) -> Option<&str> {
        self.eio.as_ref().and_then(|e| e.sid())
    }

    /// The Engine.IO protocol revision (3 or 4) of a Socket.IO connection.
    pub fn engineio_version(&self) -> Option<u8> {
        self.eio.as_ref().map(|e| e.version())
    }

    /// Adds, after each HTTP message or WebSocket message of an Engine.IO connection, the
    /// Engine.IO and Socket.IO packets it carries.
    fn decorate(&mut self, events: Vec<AppEvent>) -> Vec<AppEvent> {
        if self.eio.is_none()
            && !events
                .iter()
                .any(|e| matches!(e.message, AppMessage::Http(_)))
        {
            return events;
        }
        let mut out = Vec::with_capacity(events.len() * 3);
        for mut ev in events {
            if self.eio.is_none() {
                if is_eio_request(&ev) {
                    self.eio = Some(Box::new(EioStream::new()));
                } else {
                    if let AppMessage::Http(m) = &ev.message {
                        if m.kind == HttpKind::Request {
                            // Held for the request/response order, should an Engine.IO
                            // request follow before its answer.
                            self.pending_other[ev.dir.idx()] += 1;
                        } else if !(100..200).contains(&m.status.unwrap_or(0))
                            || m.status == Some(101)
                        {
                            let o = ev.dir.other().idx();
                            self.pending_other[o] = self.pending_other[o].saturating_sub(1);
                        }
                    }
                    out.push(ev);
                    continue;
                }
                let eio = self.eio.as_mut().expect("just set");
                for d in [Dir::ClientToServer, Dir::ServerToClient] {
                    for _ in 0..self.pending_other[d.idx()] {
                        eio.other_request(d);
                    }
                }
            }
            self.app = Some(Application::SocketIo);
            let mut derived = Vec::new();
            if let Some(eio) = &mut self.eio {
                eio.on_event(&mut ev, &mut derived);
            }
            out.push(ev);
            out.extend(derived);
        }
        out
    }

    /// Runs the HTTP decoder of `dir` over `data` and acts on where it stops.
    fn feed_http(&mut self, dir: Dir, data: &[u8], events: &mut Vec<AppEvent>) {
        let d = dir.idx();
        let Mode::Http(h) = &mut self.modes[d] else {
            return;
        };
        let [p0, p1] = &mut self.pending;
        let (own, other) = if d == 0 { (p0, p1) } else { (p1, p0) };
        let Feed {
            messages,
            stop,
            leftover,
            upgrade_refused,
        } = h.feed(data, own, other);
        // Stream offset of the first byte the decoder left.
        let stop_offset = self.pos[d] - leftover.len() as u64;
        if !messages.is_empty() && self.app.is_none() {
            self.app = Some(Application::Http);
        }
        let mut switched_deflate = None;
        for (range, m, checks) in messages {
            if m.status == Some(101) && stop_is_ws(&stop) {
                switched_deflate = Some(m.permessage_deflate.clone());
            }
            events.push(AppEvent {
                dir,
                stream_range: range,
                message: AppMessage::Http(m),
                checks,
            });
        }
        if upgrade_refused {
            self.release_hold(dir.other(), events);
        }
        match stop {
            None => {}
            Some(Stop::UpgradeRequested) => {
                self.modes[d] = Mode::Hold {
                    start: stop_offset,
                    buf: leftover,
                    broken: false,
                };
            }
            Some(Stop::Switched { websocket: true }) => {
                self.app = Some(Application::WebSocket);
                self.deflate = switched_deflate.flatten();
                // The other direction is the client: what it held (or buffered) is frames.
                let o = dir.other().idx();
                let (start, held) = match std::mem::replace(&mut self.modes[o], Mode::Ignored) {
                    Mode::Hold {
                        start,
                        buf,
                        broken: false,
                    } => (Some(start), buf),
                    Mode::Http(mut hd) => {
                        let buf = hd.take_buffer();
                        (Some(self.pos[o] - buf.len() as u64), buf)
                    }
                    _ => (None, Vec::new()),
                };
                if let Some(start) = start {
                    let mut ws = WsDecoder::new(
                        dir.other(),
                        start,
                        true,
                        self.deflate.as_ref(),
                        self.limits.max_message,
                    );
                    let first = events.len();
                    ws.push(&held, events);
                    // RFC 6455 section 4.1: the client waits for the 101 before sending frames.
                    for e in &mut events[first..] {
                        e.checks.push(Check::WsClientSentBeforeAccept);
                    }
                    self.modes[o] = Mode::WebSocket(ws);
                }
                // This direction answered the upgrade: it is the server. Bytes after the 101
                // headers (in the same push) are already frames.
                let mut ws = WsDecoder::new(
                    dir,
                    stop_offset,
                    false,
                    self.deflate.as_ref(),
                    self.limits.max_message,
                );
                ws.push(&leftover, events);
                self.modes[d] = Mode::WebSocket(ws);
            }
            Some(Stop::Switched { websocket: false }) => {
                // Another protocol (h2c, …): not decoded.
                self.modes = [Mode::Ignored, Mode::Ignored];
            }
            Some(Stop::NotHttp { check }) => {
                if let Some(c) = check {
                    events.push(AppEvent {
                        dir,
                        stream_range: (stop_offset, self.pos[d]),
                        message: AppMessage::Stopped(Stopped {
                            application: Application::Http,
                        }),
                        checks: vec![c],
                    });
                }
                self.modes[d] = Mode::Ignored;
            }
        }
    }

    /// The upgrade was refused: the client's held bytes are HTTP again.
    fn release_hold(&mut self, dir: Dir, events: &mut Vec<AppEvent>) {
        let d = dir.idx();
        if let Mode::Hold { start, buf, broken } =
            std::mem::replace(&mut self.modes[d], Mode::Ignored)
        {
            if broken {
                return;
            }
            self.modes[d] = Mode::Http(HttpDecoder::new(start, self.limits.max_message));
            if let Mode::Http(h) = &mut self.modes[d] {
                h.seen_http = true;
            }
            // Bytes pushed after `start` are all in `buf`; re-feed them.
            self.feed_http(dir, &buf, events);
        }
    }
}

/// An HTTP request for an Engine.IO URI.
fn is_eio_request(ev: &AppEvent) -> bool {
    matches!(&ev.message, AppMessage::Http(m)
        if m.kind == HttpKind::Request && m.uri.as_deref().and_then(crate::analysis::engineio::parse_uri).is_some())
}

fn stop_is_ws(stop: &Option<Stop>) -> bool {
    matches!(stop, Some(Stop::Switched { websocket: true }))
}

fn stopped(dir: Dir, at: u64, missing: u64, application: Application) -> AppEvent {
    AppEvent {
        dir,
        stream_range: (at, at + missing),
        message: AppMessage::Stopped(Stopped { application }),
        checks: vec![Check::StreamDesync { missing }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::http::{BodyFraming, HttpMessage};
    use crate::analysis::websocket::WsFrame;
    use Dir::{ClientToServer as C2S, ServerToClient as S2C};

    const REQ: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const RESP: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";

    fn upgraded(extensions: Option<&str>) -> AppStream {
        let mut s = AppStream::new(AppLimits::default());
        let ev = s.push(C2S, REQ);
        assert_eq!(ev.len(), 1);
        let resp = match extensions {
            None => RESP.to_vec(),
            Some(e) => {
                let mut r = RESP[..RESP.len() - 2].to_vec();
                r.extend_from_slice(format!("Sec-WebSocket-Extensions: {e}\r\n\r\n").as_bytes());
                r
            }
        };
        let ev = s.push(S2C, &resp);
        assert_eq!(ev.len(), 1);
        assert_eq!(s.application(), Some(Application::WebSocket));
        s
    }

    fn ws(e: &AppEvent) -> &WsFrame {
        match &e.message {
            AppMessage::WebSocket(f) => f,
            other => panic!("not a frame: {other:?}"),
        }
    }

    fn http(e: &AppEvent) -> &HttpMessage {
        match &e.message {
            AppMessage::Http(m) => m,
            other => panic!("not http: {other:?}"),
        }
    }

    fn codes(e: &AppEvent) -> Vec<&'static str> {
        e.checks.iter().map(Check::code).collect()
    }

    #[test]
    fn rfc6455_unmasked_hello_from_server() {
        let mut s = upgraded(None);
        let ev = s.push(S2C, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(ev.len(), 1);
        let f = ws(&ev[0]);
        assert!(f.fin && !f.masked && f.opcode == 1 && f.opcode_name == "text");
        assert_eq!(f.text.as_deref(), Some("Hello"));
        assert_eq!(
            (f.payload_len, f.message_len, f.fragments),
            (5, Some(5), Some(1))
        );
        assert_eq!(
            ev[0].stream_range,
            (RESP.len() as u64, RESP.len() as u64 + 7)
        );
        assert!(ev[0].checks.is_empty());
    }

    #[test]
    fn rfc6455_masked_hello_from_client() {
        let mut s = upgraded(None);
        let ev = s.push(
            C2S,
            &[
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
        );
        let f = ws(&ev[0]);
        assert!(f.masked);
        assert_eq!(f.masking_key.as_deref(), Some("37fa213d"));
        assert_eq!(f.text.as_deref(), Some("Hello"));
        assert_eq!(f.header_len, 6);
        assert_eq!(
            ev[0].stream_range,
            (REQ.len() as u64, REQ.len() as u64 + 11)
        );
        assert!(ev[0].checks.is_empty(), "{:?}", ev[0].checks);
    }

    #[test]
    fn rfc6455_fragmented_hello() {
        let mut s = upgraded(None);
        let ev = s.push(S2C, &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
        assert_eq!(ev.len(), 2);
        let (a, b) = (ws(&ev[0]), ws(&ev[1]));
        assert!(!a.fin && a.opcode == 1 && a.text.is_none() && a.message_len.is_none());
        assert!(b.fin && b.opcode == 0 && b.opcode_name == "continuation");
        assert_eq!(b.text.as_deref(), Some("Hello"));
        assert_eq!((b.fragments, b.message_len), (Some(2), Some(5)));
        assert!(ev.iter().all(|e| e.checks.is_empty()));
    }

    #[test]
    fn rfc6455_ping_and_pong() {
        let mut s = upgraded(None);
        let ev = s.push(S2C, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        let f = ws(&ev[0]);
        assert_eq!(
            (f.opcode_name, f.data_hex.as_deref()),
            ("ping", Some("48656c6c6f"))
        );
        assert!(f.message_len.is_none() && f.fragments.is_none());
        let ev = s.push(
            C2S,
            &[
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
        );
        let f = ws(&ev[0]);
        assert_eq!(
            (f.opcode_name, f.data_hex.as_deref()),
            ("pong", Some("48656c6c6f"))
        );
        assert!(ev[0].checks.is_empty());
    }

    #[test]
    fn rfc6455_256_and_65536_byte_binary() {
        let mut s = upgraded(None);
        let mut frame = vec![0x82, 0x7e, 0x01, 0x00];
        frame.extend((0..256u32).map(|i| i as u8));
        let ev = s.push(S2C, &frame);
        let f = ws(&ev[0]);
        assert_eq!(
            (f.payload_len, f.header_len, f.message_len),
            (256, 4, Some(256))
        );
        let expect: String = (0..64u8).map(|b| format!("{b:02x}")).collect();
        assert_eq!(f.data_hex.as_deref(), Some(expect.as_str()));
        assert_eq!(f.data.as_ref().map(Vec::len), Some(256));
        assert!(ev[0].checks.is_empty());

        let mut frame = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
        frame.extend(std::iter::repeat_n(0xab, 65536));
        // Split across many pushes, like TCP segments.
        let mut events = Vec::new();
        for part in frame.chunks(1448) {
            events.extend(s.push(S2C, part));
        }
        assert_eq!(events.len(), 1);
        let f = ws(&events[0]);
        assert_eq!(
            (f.payload_len, f.header_len, f.message_len),
            (65536, 10, Some(65536))
        );
        assert!(events[0].checks.is_empty());
    }

    #[test]
    fn upgrade_fields_and_sample_key() {
        let mut s = AppStream::new(AppLimits::default());
        let ev = s.push(C2S, REQ);
        let m = http(&ev[0]);
        assert_eq!(m.method.as_deref(), Some("GET"));
        assert_eq!(m.uri.as_deref(), Some("/chat"));
        assert_eq!(m.websocket_key.as_deref(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(
            m.accept_expected.as_deref(),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(m.websocket_protocol.as_deref(), Some("chat, superchat"));
        assert_eq!(s.application(), Some(Application::Http));
        let ev = s.push(S2C, RESP);
        let m = http(&ev[0]);
        assert_eq!(
            (m.status, m.reason.as_deref()),
            (Some(101), Some("Switching Protocols"))
        );
        assert_eq!(m.accept_valid, Some(true));
        assert_eq!(
            m.websocket_accept.as_deref(),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(m.websocket_protocol.as_deref(), Some("chat"));
        let json = serde_json::to_value(&ev[0].message).unwrap();
        assert_eq!(json["kind"], "response");
        assert_eq!(json["status"], 101);
        assert_eq!(json["accept_valid"], true);
        assert_eq!(json["headers"]["upgrade"], "websocket");
        assert!(json.get("method").is_none());
    }

    #[test]
    fn invalid_accept_is_flagged() {
        let mut s = AppStream::new(AppLimits::default());
        s.push(C2S, REQ);
        let bad = String::from_utf8_lossy(RESP).replace(
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        );
        let ev = s.push(S2C, bad.as_bytes());
        assert_eq!(http(&ev[0]).accept_valid, Some(false));
        assert_eq!(codes(&ev[0]), ["ws-accept-invalid"]);
        assert_eq!(
            ev[0].checks[0].params(),
            vec![
                ("expected", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string()),
                ("got", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string())
            ]
        );
    }

    /// A whole conversation: upgrade, frames both ways, close.
    fn conversation() -> Vec<(Dir, Vec<u8>)> {
        let mut resp = RESP.to_vec();
        resp.extend_from_slice(&[0x89, 0x00]); // a ping right behind the 101
        vec![
            (C2S, REQ.to_vec()),
            (
                C2S,
                vec![
                    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
            ), // held
            (S2C, resp),
            (
                S2C,
                vec![
                    0x01, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x00, 0x80, 0x02, 0x6c, 0x6f,
                ],
            ),
            (C2S, vec![0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]),
            (S2C, vec![0x88, 0x02, 0x03, 0xe8]),
        ]
    }

    fn run(parts: &[(Dir, Vec<u8>)], split: usize) -> Vec<AppEvent> {
        let mut s = AppStream::new(AppLimits::default());
        let mut out = Vec::new();
        for (dir, bytes) in parts {
            for p in bytes.chunks(split) {
                out.extend(s.push(*dir, p));
            }
        }
        out.extend(s.end(C2S));
        out.extend(s.end(S2C));
        out
    }

    #[test]
    fn byte_by_byte_equals_all_at_once() {
        let all = run(&conversation(), usize::MAX);
        let one = run(&conversation(), 1);
        let three = run(&conversation(), 3);
        assert_eq!(all, one);
        assert_eq!(all, three);
        let names: Vec<&str> = all
            .iter()
            .map(|e| match &e.message {
                AppMessage::Http(m) => {
                    if m.status.is_some() {
                        "101"
                    } else {
                        "GET"
                    }
                }
                AppMessage::WebSocket(f) => f.opcode_name,
                other => other.protocol(),
            })
            .collect();
        assert_eq!(
            names,
            [
                "GET",
                "101",
                "text",
                "ping",
                "text",
                "ping",
                "continuation",
                "close",
                "close"
            ]
        );
        // The held client frame is reported in the client direction at its own offsets.
        assert_eq!(all[2].dir, C2S);
        assert_eq!(
            all[2].stream_range,
            (REQ.len() as u64, REQ.len() as u64 + 11)
        );
        assert_eq!(ws(&all[2]).text.as_deref(), Some("Hello"));
        // The ping shares the segment of the 101.
        assert_eq!(
            all[3].stream_range,
            (RESP.len() as u64, RESP.len() as u64 + 2)
        );
        // The fragmented message survives an interleaved ping.
        assert_eq!(ws(&all[6]).text.as_deref(), Some("Hello"));
        assert_eq!(ws(&all[7]).close_code, Some(1000));
        assert_eq!(ws(&all[7]).close_code_name, Some("normal closure"));
        // …which it should not have sent before the 101.
        assert_eq!(codes(&all[2]), ["ws-client-sent-before-accept"]);
        assert!(
            all.iter()
                .enumerate()
                .all(|(k, e)| k == 2 || e.checks.is_empty()),
            "{all:?}"
        );
    }

    #[test]
    fn every_length_form_at_every_split() {
        let mut bytes = Vec::new();
        for (i, len) in [0usize, 1, 125, 126, 300, 65535, 65536]
            .into_iter()
            .enumerate()
        {
            for masked in [false, true] {
                let payload: Vec<u8> = (0..len).map(|k| (k * 7 + i) as u8).collect();
                let mut f = vec![0x82];
                let m = if masked { 0x80 } else { 0 };
                match len {
                    0..=125 => f.push(m | len as u8),
                    126..=65535 => {
                        f.push(m | 126);
                        f.extend_from_slice(&(len as u16).to_be_bytes());
                    }
                    _ => {
                        f.push(m | 127);
                        f.extend_from_slice(&(len as u64).to_be_bytes());
                    }
                }
                let key = [0x12, 0x34, 0x56, i as u8];
                if masked {
                    f.extend_from_slice(&key);
                    f.extend(payload.iter().enumerate().map(|(k, b)| b ^ key[k % 4]));
                } else {
                    f.extend_from_slice(&payload);
                }
                bytes.extend(f);
            }
        }
        let parts = |split: usize| {
            let mut s = upgraded(None);
            let mut ev = Vec::new();
            for p in bytes.chunks(split) {
                ev.extend(s.push(S2C, p));
            }
            ev
        };
        let all = parts(usize::MAX);
        assert_eq!(all.len(), 14);
        for (k, e) in all.iter().enumerate() {
            let f = ws(e);
            let want: Vec<u8> = (0..f.payload_len as usize)
                .map(|j| (j * 7 + k / 2) as u8)
                .collect();
            assert_eq!(f.data.as_deref(), Some(&want[..]));
            assert_eq!(f.masked, k % 2 == 1);
            let expect: &[&str] = if f.masked { &["ws-server-masked"] } else { &[] };
            assert_eq!(codes(e), expect);
        }
        for split in [1, 2, 3, 5, 7, 1448, 65536] {
            assert!(parts(split) == all, "split {split}");
        }
    }

    #[test]
    fn refused_upgrade_stays_http() {
        let mut s = AppStream::new(AppLimits::default());
        s.push(C2S, REQ);
        // The client sends another request before the answer: held, then parsed as HTTP.
        assert!(s
            .push(C2S, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
            .is_empty());
        let ev = s.push(
            S2C,
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nno ws",
        );
        assert_eq!(ev.len(), 2);
        assert_eq!(http(&ev[0]).status, Some(400));
        assert!(http(&ev[0]).upgrade_refused);
        assert_eq!(http(&ev[0]).body, b"no ws");
        assert_eq!(ev[1].dir, C2S);
        assert_eq!(http(&ev[1]).uri.as_deref(), Some("/other"));
        assert_eq!(
            ev[1].stream_range,
            (REQ.len() as u64, REQ.len() as u64 + 32)
        );
        assert_eq!(s.application(), Some(Application::Http));
        let ev = s.push(S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_eq!(http(&ev[0]).request_method.as_deref(), Some("GET"));
    }

    #[test]
    fn keep_alive_bodies_and_bodiless_responses() {
        let mut s = AppStream::new(AppLimits::default());
        let reqs = b"HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\nGET /e HTTP/1.0\r\n\r\n";
        let ev = s.push(C2S, reqs);
        assert_eq!(ev.len(), 5);
        assert_eq!(http(&ev[1]).body_len, 3);
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n\
HTTP/1.0 200 OK\r\n\r\nuntil the end";
        let mut ev = Vec::new();
        for p in resp.chunks(7) {
            ev.extend(s.push(S2C, p));
        }
        assert_eq!(ev.len(), 5, "{ev:?}");
        assert_eq!(
            (
                http(&ev[0]).body_len,
                http(&ev[0]).request_method.as_deref()
            ),
            (0, Some("HEAD"))
        );
        assert_eq!(http(&ev[1]).status, Some(100));
        assert_eq!((http(&ev[2]).status, http(&ev[2]).body_len), (Some(201), 3));
        assert_eq!(http(&ev[2]).request_method.as_deref(), Some("POST"));
        assert_eq!((http(&ev[3]).status, http(&ev[3]).body_len), (Some(304), 0));
        assert_eq!(http(&ev[4]).status, Some(204));
        let ev = s.end(S2C);
        assert_eq!(ev.len(), 1);
        let m = http(&ev[0]);
        assert_eq!((m.body_len, m.body_framing), (13, BodyFraming::Close));
        assert_eq!(ev[0].stream_range.1, resp.len() as u64);
        assert!(ev[0].checks.is_empty());
    }

    #[test]
    fn non_http_is_ignored_at_once() {
        for first in [
            &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
            b"220 smtp.example.com ESMTP\r\n",
            b"\x00\x00\x00\x08\x04\xd2\x16\x2f",
        ] {
            let mut s = AppStream::new(AppLimits::default());
            assert!(s.push(C2S, first).is_empty());
            assert!(matches!(s.modes[0], Mode::Ignored));
            assert!(s.push(C2S, &[0u8; 5000]).is_empty());
            assert!(s.push(S2C, b"\x16\x03\x03\x00\x5a\x02").is_empty());
            assert!(matches!(s.modes[1], Mode::Ignored));
            assert_eq!(s.application(), None);
        }
    }

    #[test]
    fn reversed_direction_is_tolerated() {
        // The capture started mid-way and the tracker guessed the roles backwards.
        let mut s = AppStream::new(AppLimits::default());
        let ev = s.push(S2C, REQ);
        assert_eq!(http(&ev[0]).kind, HttpKind::Request);
        let mut resp = RESP.to_vec();
        resp.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        let ev = s.push(C2S, &resp);
        assert_eq!(http(&ev[0]).accept_valid, Some(true));
        assert_eq!(ws(&ev[1]).text.as_deref(), Some("hi"));
        assert!(
            ev[1].checks.is_empty(),
            "the 101 sender is the server: unmasked is right"
        );
        let ev = s.push(
            S2C,
            &[
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
        );
        assert!(ev[0].checks.is_empty());
    }

    #[test]
    fn rfc7692_compressed_hello_with_context_takeover() {
        let mut s = upgraded(Some("permessage-deflate"));
        assert_eq!(s.deflate(), Some(&DeflateParams::default()));
        let ev = s.push(S2C, &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        let f = ws(&ev[0]);
        assert!(f.compressed && f.rsv == 4);
        assert_eq!(
            (f.text.as_deref(), f.message_len, f.payload_len),
            (Some("Hello"), Some(5), 7)
        );
        assert!(ev[0].checks.is_empty(), "{:?}", ev[0].checks);
        // The second "Hello" refers back to the first (section 7.2.3.2).
        let ev = s.push(S2C, &[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
        assert_eq!(ws(&ev[0]).text.as_deref(), Some("Hello"));
        // Fragmented (7.2.3.1), stored block (7.2.3.3), BFINAL set (7.2.3.4).
        let ev = s.push(
            S2C,
            &[
                0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
            ],
        );
        assert!(ws(&ev[0]).compressed && ws(&ev[1]).compressed);
        assert_eq!(ws(&ev[1]).text.as_deref(), Some("Hello"));
        assert!(ev.iter().all(|e| e.checks.is_empty()));
        let ev = s.push(
            S2C,
            &[
                0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ],
        );
        assert_eq!(ws(&ev[0]).text.as_deref(), Some("Hello"));
        let ev = s.push(
            S2C,
            &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
        );
        assert_eq!(ws(&ev[0]).text.as_deref(), Some("Hello"));
        // Uncompressed messages are allowed too.
        let ev = s.push(S2C, &[0x81, 0x02, b'o', b'k']);
        assert!(!ws(&ev[0]).compressed);
        assert_eq!(ws(&ev[0]).text.as_deref(), Some("ok"));
    }

    #[test]
    fn no_context_takeover_resets_per_message() {
        let mut s = upgraded(Some(
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10",
        ));
        let d = s.deflate().unwrap().clone();
        assert!(d.server_no_context_takeover && d.client_max_window_bits == Some(10));
        for _ in 0..3 {
            let ev = s.push(S2C, &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
            assert_eq!(ws(&ev[0]).text.as_deref(), Some("Hello"));
        }
        // Client side keeps its context: a compressed masked frame from the client.
        let payload = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let key = [1, 2, 3, 4];
        let mut frame = vec![0xc1, 0x80 | 7, 1, 2, 3, 4];
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        let ev = s.push(C2S, &frame);
        assert_eq!(ws(&ev[0]).text.as_deref(), Some("Hello"));
        let mut frame = vec![0xc1, 0x80 | 5, 1, 2, 3, 4];
        frame.extend(
            [0xf2, 0x00, 0x11, 0x00, 0x00]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4]),
        );
        let ev = s.push(C2S, &frame);
        assert_eq!(ws(&ev[0]).text.as_deref(), Some("Hello"));
    }

    #[test]
    fn inflate_is_capped() {
        use std::io::Write;
        let mut s = AppStream::new(AppLimits { max_message: 1000 });
        s.push(C2S, REQ);
        let mut r = RESP[..RESP.len() - 2].to_vec();
        r.extend_from_slice(b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
        s.push(S2C, &r);
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&vec![b'a'; 100_000]).unwrap();
        enc.flush().unwrap();
        let mut z = enc.get_ref().clone();
        assert_eq!(&z[z.len() - 4..], &[0, 0, 0xff, 0xff]);
        z.truncate(z.len() - 4);
        let mut frame = if z.len() < 126 {
            vec![0xc1, z.len() as u8]
        } else {
            let mut f = vec![0xc1, 0x7e];
            f.extend_from_slice(&(z.len() as u16).to_be_bytes());
            f
        };
        frame.extend_from_slice(&z);
        let ev = s.push(S2C, &frame);
        let f = ws(&ev[0]);
        assert!(f.truncated);
        assert_eq!(f.text.as_ref().map(String::len), Some(1000));
        assert_eq!(codes(&ev[0]), ["ws-inflate-limit"]);
        // The context is now unknown: the next compressed message cannot be read.
        let ev = s.push(S2C, &[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
        assert_eq!(codes(&ev[0]), ["ws-inflate-context-lost"]);
    }

    #[test]
    fn rfc6455_checks() {
        let mut s = upgraded(None);
        let cases: Vec<(Dir, Vec<u8>, Vec<&str>)> = vec![
            (
                C2S,
                vec![0x81, 0x02, b'h', b'i'],
                vec!["ws-client-unmasked"],
            ),
            (
                S2C,
                vec![0x81, 0x82, 0, 0, 0, 0, b'h', b'i'],
                vec!["ws-server-masked"],
            ),
            (
                S2C,
                [vec![0x89, 0x7e, 0x00, 0x7e], vec![0; 126]].concat(),
                vec!["ws-control-too-long"],
            ),
            (S2C, vec![0x09, 0x00], vec!["ws-control-fragmented"]),
            (
                S2C,
                vec![0xc1, 0x01, b'x'],
                vec!["ws-rsv-without-extension"],
            ),
            (
                S2C,
                vec![0x91, 0x01, b'x'],
                vec!["ws-rsv-without-extension"],
            ),
            (
                S2C,
                vec![0x81, 0x7e, 0x00, 0x01, b'x'],
                vec!["ws-length-not-minimal"],
            ),
            (
                S2C,
                vec![0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0],
                vec!["ws-length-not-minimal"],
            ),
            (S2C, vec![0x81, 0x02, 0xc3, 0x28], vec!["ws-invalid-utf8"]),
            (S2C, vec![0x83, 0x00], vec!["ws-reserved-opcode"]),
            (
                S2C,
                vec![0x80, 0x01, b'x'],
                vec!["ws-continuation-without-start"],
            ),
            (
                S2C,
                vec![0x01, 0x01, b'a', 0x81, 0x01, b'b'],
                vec!["ws-data-during-fragment"],
            ),
            (S2C, vec![0x88, 0x01, 0x03], vec!["ws-close-payload-short"]),
            (
                S2C,
                vec![0x88, 0x02, 0x03, 0xed],
                vec!["ws-bad-close-code", "ws-data-after-close"],
            ),
            (S2C, vec![0x81, 0x01, b'x'], vec!["ws-data-after-close"]),
        ];
        for (dir, bytes, want) in cases {
            let ev = s.push(dir, &bytes);
            let last = ev.last().expect("an event");
            let mut got: Vec<&str> = ev.iter().flat_map(codes).collect();
            got.sort();
            let mut want = want;
            want.sort();
            assert_eq!(got, want, "{bytes:02x?} -> {last:?}");
        }
    }

    #[test]
    fn close_code_1005_must_not_be_sent() {
        let mut s = upgraded(None);
        let ev = s.push(S2C, &[0x88, 0x04, 0x03, 0xed, b'o', b'k']);
        let f = ws(&ev[0]);
        assert_eq!(
            (f.close_code, f.close_reason.as_deref()),
            (Some(1005), Some("ok"))
        );
        assert_eq!(codes(&ev[0]), ["ws-bad-close-code"]);
        assert_eq!(ev[0].checks[0].params()[1].1, "no status received");
    }

    #[test]
    fn gaps_inside_and_across_frames() {
        let mut s = upgraded(None);
        // A 10-byte binary frame whose middle 4 bytes were not captured.
        let mut ev = s.push(S2C, &[0x82, 0x0a, 1, 2, 3]);
        ev.extend(s.gap(S2C, 4));
        ev.extend(s.push(S2C, &[8, 9, 10, 0x81, 0x01, b'x']));
        assert_eq!(ev.len(), 2);
        assert_eq!(codes(&ev[0]), ["stream-gap"]);
        assert!(ws(&ev[0]).truncated);
        assert_eq!(ws(&ev[1]).text.as_deref(), Some("x"));
        // A gap at a frame boundary: lost.
        let ev = s.gap(S2C, 3);
        assert_eq!(ev.len(), 1);
        assert!(matches!(ev[0].message, AppMessage::Stopped(_)));
        assert_eq!(codes(&ev[0]), ["stream-desync"]);
        assert!(s.push(S2C, &[0x81, 0x01, b'x']).is_empty());
        // HTTP: a gap inside a Content-Length body keeps the parser in step.
        let mut s = AppStream::new(AppLimits::default());
        s.push(S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
        let ev = s.gap(S2C, 6);
        assert_eq!(http(&ev[0]).body_len, 10);
        assert_eq!(codes(&ev[0]), ["stream-gap"]);
        let ev = s.push(S2C, b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(http(&ev[0]).status, Some(204));
    }

    #[test]
    fn end_mid_frame_and_mid_body() {
        let mut s = upgraded(None);
        assert!(s.push(S2C, &[0x81, 0x05, b'H']).is_empty());
        let ev = s.end(S2C);
        assert_eq!(codes(&ev[0]), ["ws-incomplete-frame"]);
        assert!(ws(&ev[0]).truncated);
        let mut s = AppStream::new(AppLimits::default());
        s.push(S2C, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
        let ev = s.end(S2C);
        assert_eq!(codes(&ev[0]), ["http-incomplete"]);
    }

    #[test]
    fn frame_json_keys() {
        let mut s = upgraded(None);
        let ev = s.push(
            C2S,
            &[
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
        );
        let v = serde_json::to_value(&ev[0].message).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "compressed",
                "fin",
                "fragments",
                "header_len",
                "masked",
                "masking_key",
                "message_len",
                "opcode",
                "opcode_name",
                "payload_len",
                "rsv",
                "text"
            ]
        );
        let ev = s.push(S2C, &[0x88, 0x02, 0x03, 0xe9]);
        let v = serde_json::to_value(&ev[0].message).unwrap();
        assert_eq!(v["close_code"], 1001);
        assert!(v.get("masking_key").is_none() && v.get("text").is_none());
        let c = serde_json::to_value(Check::WsBadCloseCode { code: 1005 }).unwrap();
        assert_eq!(c["code"], "ws-bad-close-code");
        assert_eq!(c["level"], "warning");
        assert_eq!(c["close_code"], "1005");
    }

    #[test]
    fn garbage_never_panics() {
        let mut rng = crate::source::simulate::rng::Rng::new(7);
        for round in 0..300 {
            let limits = AppLimits {
                max_message: 1 + (rng.next_u64() % 5000) as usize,
            };
            let mut s = match round % 3 {
                0 => AppStream::new(limits),
                1 => upgraded(None),
                _ => upgraded(Some("permessage-deflate; client_no_context_takeover")),
            };
            s.limits = limits;
            for _ in 0..60 {
                let dir = if rng.next_u64().is_multiple_of(2) {
                    C2S
                } else {
                    S2C
                };
                match rng.next_u64() % 10 {
                    0 => {
                        s.gap(dir, rng.next_u64() % 300);
                    }
                    1 => {
                        s.end(dir);
                    }
                    _ => {
                        let len = (rng.next_u64() % 400) as usize;
                        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                        // Bias toward plausible headers so the decoders go deep.
                        if len > 2 && rng.next_u64().is_multiple_of(2) {
                            bytes[0] = [0x81, 0x82, 0x01, 0x80, 0x88, 0x89, 0xc1, 0x41]
                                [(rng.next_u64() % 8) as usize];
                            bytes[1] &= 0xfe;
                        }
                        if rng.next_u64().is_multiple_of(5) {
                            let heads: [&[u8]; 4] = [
                                REQ,
                                RESP,
                                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
                            ];
                            bytes = [heads[(rng.next_u64() % 4) as usize], &bytes[..]].concat();
                        }
                        for ev in s.push(dir, &bytes) {
                            assert!(ev.stream_range.0 <= ev.stream_range.1);
                            let _ = serde_json::to_string(&ev.message).unwrap();
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod bench {
    use super::*;

    #[test]
    fn stream_stays_small() {
        // Many connections are not HTTP: each costs little more than this.
        eprintln!("AppStream is {} bytes", std::mem::size_of::<AppStream>());
        assert!(std::mem::size_of::<AppStream>() < 1024);
    }

    /// `cargo test --release --lib bench_small_frames -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_small_frames() {
        let mut s = AppStream::new(AppLimits::default());
        s.push(Dir::ClientToServer, b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        s.push(
            Dir::ServerToClient,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        );
        let client = [
            0x81u8, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let server = b"\x81\x1a42[\"chat message\",\"hello\"]";
        let t = std::time::Instant::now();
        let mut n = 0usize;
        for i in 0..500_000 {
            n += s.push(Dir::ClientToServer, &client).len();
            // Every tenth server segment carries a frame split in two.
            if i % 10 == 0 {
                n += s.push(Dir::ServerToClient, &server[..7]).len();
                n += s.push(Dir::ServerToClient, &server[7..]).len();
            } else {
                n += s.push(Dir::ServerToClient, server).len();
            }
        }
        eprintln!("{n} events from ~1.05M pushes in {:?}", t.elapsed());
        assert_eq!(n, 1_000_000);
    }
}
