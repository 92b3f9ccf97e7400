//! TLS (RFC 5246, RFC 8446): the record layer of both directions, the handshake messages
//! inside it (reassembled across records and segments), and — given a key log — the
//! records opened and their content handed to the protocol it carries (HTTP, WebSocket,
//! Socket.IO), chosen by the same registry as on a plain connection.
//!
//! Each record, and each handshake message, is one `tls` layer. The layers of what the
//! records carried say which secret opened them. Nothing that failed to authenticate is
//! shown as plaintext.

mod decrypt;
mod handshake;
pub mod keylog;

use std::collections::VecDeque;

use serde::Serialize;

use super::{Context, Detect, Detector, Protocol};
use crate::analysis::app::{AppEvent, AppMessage, Application, Check, Dir, Stopped};
use decrypt::{strip_inner, RecordKeys, Suite};
pub use handshake::{is_grease, suite_name, version_name};
pub use keylog::{KeyLog, SharedKeyLog};

/// The largest record body TLS 1.2 allows (2^14 + 2048, RFC 5246 section 6.2.3).
const MAX_RECORD: usize = 16384 + 2048;

/// A TLS record's first bytes: content type 20–24, version 3.x.
pub fn detect(first: &[u8]) -> Detect {
    match first {
        [] => Detect::No,
        [t, ..] if !(20..=24).contains(t) => Detect::No,
        [_] => Detect::NeedMore,
        [_, 3] => Detect::NeedMore,
        [_, 3, minor, ..] if *minor <= 4 => Detect::Yes,
        _ => Detect::No,
    }
}

/// Whether `b` starts with a whole, plausible TLS record header (content type 20–24,
/// version 3.0–3.4, a length TLS allows): what a payload must look like to be called
/// TLS where no connection state says so (a guess about other bytes, said as one).
/// Returns the record's content type and, for a handshake record, its first message.
pub fn record_header(b: &[u8]) -> Option<(&'static str, Option<&'static str>)> {
    match b {
        [t @ 20..=24, 3, minor, hi, lo, rest @ ..]
            if *minor <= 4 && u16::from_be_bytes([*hi, *lo]) as usize <= MAX_RECORD =>
        {
            let first = (*t == 22)
                .then(|| rest.first().map(|&h| handshake::handshake_name(h)))
                .flatten();
            Some((record_type_name(*t), first))
        }
        _ => None,
    }
}

/// A certificate of the chain, read with x509-parser.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Certificate {
    pub subject: String,
    pub issuer: String,
    /// subjectAltName: the DNS names and addresses it is valid for.
    pub san: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub der_len: usize,
    /// False when the DER did not parse (the other fields are then empty).
    pub parsed: bool,
}

/// One TLS record, or one handshake message (the `tls` layer).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TlsRecord {
    /// `handshake`, `change_cipher_spec`, `alert`, `application_data`, `heartbeat`.
    pub record_type: &'static str,
    /// The record header's (legacy) version.
    pub version: String,
    /// The record header's length (of the record that completed this message).
    pub length: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_type: Option<&'static str>,
    /// The handshake type number (1 ClientHello, 2 ServerHello, …), as tshark shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_len: Option<u32>,
    /// The hello's own version field (TLS 1.3 keeps 1.2 there and says 1.3 in an extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub random: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<Vec<String>>,
    /// The suite the server chose (ServerHello).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite_id: Option<u16>,
    /// The suites the client offered (ClientHello), by IANA name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suites: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite_ids: Option<Vec<u16>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_versions: Option<Vec<String>>,
    /// The version the server chose (supported_versions in TLS 1.3, else its hello's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negotiated_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_share: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_algorithms: Option<Vec<String>>,
    /// How many GREASE values the hello carried (RFC 8701).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grease: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hello_retry: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Vec<Certificate>>,
    /// ServerKeyExchange: the ECDHE group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_exchange: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_description: Option<String>,
    /// Protected: its content is encrypted (and, unless `decrypted`, unknown).
    pub encrypted: bool,
    /// The key log secret that opened it, when it was decrypted.
    pub decrypted: Option<&'static str>,
    /// TLS 1.3: the real content type inside a decrypted record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inner_type: Option<&'static str>,
    /// The version the connection negotiated, when known (for the explanation).
    #[serde(skip)]
    pub tls13: bool,
}

fn record_type_name(t: u8) -> &'static str {
    match t {
        20 => "change_cipher_spec",
        21 => "alert",
        22 => "handshake",
        23 => "application_data",
        24 => "heartbeat",
        _ => "unknown",
    }
}

/// Offsets of bytes built from pieces of the stream (handshake messages across records,
/// decrypted content) back to where those bytes sit in the TCP stream.
#[derive(Debug, Default)]
struct OffsetMap {
    /// (inner start, outer start, length, secret that decrypted it)
    pieces: VecDeque<(u64, u64, u64, Option<&'static str>)>,
}

const MAX_PIECES: usize = 4096;

impl OffsetMap {
    fn add(&mut self, inner: u64, outer: u64, len: u64, secret: Option<&'static str>) {
        if len == 0 {
            return;
        }
        self.pieces.push_back((inner, outer, len, secret));
        if self.pieces.len() > MAX_PIECES {
            self.pieces.pop_front();
        }
    }

    fn at(&self, inner: u64) -> Option<(u64, Option<&'static str>)> {
        self.pieces
            .iter()
            .rev()
            .find(|p| p.0 <= inner && inner < p.0 + p.2)
            .map(|p| (p.1 + (inner - p.0), p.3))
    }

    /// The outer range of inner `[s, t)`, and the secret of its last byte.
    fn range(&self, s: u64, t: u64) -> Option<((u64, u64), Option<&'static str>)> {
        let (a, _) = self.at(s)?;
        let (b, secret) = self.at(t.saturating_sub(1).max(s))?;
        Some(((a, b + 1), secret))
    }

    /// Forgets pieces wholly before `inner`.
    fn drop_before(&mut self, inner: u64) {
        while self.pieces.front().is_some_and(|p| p.0 + p.2 <= inner) {
            self.pieces.pop_front();
        }
    }
}

/// One direction of the record layer.
#[derive(Debug, Default)]
struct Side {
    /// Bytes of an incomplete record, starting at stream offset `at`.
    buf: Vec<u8>,
    at: u64,
    /// Not read any more (not TLS, a bogus length, a hole).
    stopped: bool,
    /// Handshake bytes not yet a whole message; `hs_at` is the handshake-stream offset
    /// of `hs[0]`.
    hs: Vec<u8>,
    hs_at: u64,
    hs_map: OffsetMap,
    /// TLS 1.2: this side sent ChangeCipherSpec; what follows is protected.
    protected: bool,
    keys: Option<RecordKeys>,
    secret: &'static str,
    /// A record did not authenticate: nothing more is opened on this side.
    failed: bool,
    /// Decrypted application bytes so far (offset of the next one) and their map.
    plain_at: u64,
    plain_map: OffsetMap,
}

/// What the two directions share: the handshake's facts and the keys.
#[derive(Debug)]
pub struct TlsStream {
    cx: Context,
    sides: [Side; 2],
    client_random: Option<Vec<u8>>,
    server_random: Option<Vec<u8>>,
    suite: Option<u16>,
    tls13: bool,
    /// "Cannot decrypt" was said for this connection.
    said_why_not: bool,
    /// The protocol inside the decrypted records.
    inner: Option<Box<Detector>>,
    /// Events of the last call that were decrypted: (index, secret).
    marks: Vec<(usize, &'static str)>,
}

impl TlsStream {
    pub fn new(cx: &Context) -> TlsStream {
        TlsStream {
            cx: cx.clone(),
            sides: Default::default(),
            client_random: None,
            server_random: None,
            suite: None,
            tls13: false,
            said_why_not: false,
            inner: None,
            marks: Vec::new(),
        }
    }

    fn stop(&mut self, dir: Dir, at: u64, end: u64, check: Check, out: &mut Vec<AppEvent>) {
        let s = &mut self.sides[dir.idx()];
        s.stopped = true;
        s.buf = Vec::new();
        s.hs = Vec::new();
        out.push(AppEvent {
            dir,
            stream_range: (at, end.max(at)),
            message: AppMessage::Stopped(Stopped {
                application: Application::Tls,
            }),
            checks: vec![check],
        });
    }

    /// Makes the keys of side `d` for what it sends next, from the key log: `Err` with the
    /// reason when they cannot be had.
    fn keys_for(&self, dir: Dir, application: bool) -> Result<(RecordKeys, &'static str), Check> {
        let Some(random) = &self.client_random else {
            return Err(Check::TlsNoHandshake);
        };
        let Some(id) = self.suite else {
            return Err(Check::TlsNoHandshake);
        };
        let Some(suite) = Suite::of(id) else {
            return Err(Check::TlsUnsupportedSuite {
                suite: suite_name(id),
            });
        };
        let Some(log) = &self.cx.keys else {
            return Err(Check::TlsNoKeyLog);
        };
        let log = log.lock().map_err(|_| Check::TlsNoKeyLog)?;
        if log.is_empty() {
            return Err(Check::TlsNoKeyLog);
        }
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let missing = || Check::TlsNoKey {
            client_random: hex.clone(),
        };
        let secrets = log.get(random).ok_or_else(missing)?;
        let client = dir == Dir::ClientToServer;
        if self.tls13 {
            let (secret, name) = match (client, application) {
                (true, false) => (&secrets.client_handshake, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
                (false, false) => (&secrets.server_handshake, "SERVER_HANDSHAKE_TRAFFIC_SECRET"),
                (true, true) => (&secrets.client_traffic, "CLIENT_TRAFFIC_SECRET_0"),
                (false, true) => (&secrets.server_traffic, "SERVER_TRAFFIC_SECRET_0"),
            };
            let secret = secret.as_ref().ok_or_else(missing)?;
            let keys = RecordKeys::tls13(suite, secret).ok_or(Check::TlsNoKey {
                client_random: hex.clone(),
            })?;
            Ok((keys, name))
        } else {
            let master = secrets.master.as_ref().ok_or_else(missing)?;
            let server_random = self.server_random.as_ref().ok_or(Check::TlsNoHandshake)?;
            let (c, s) = RecordKeys::tls12(suite, master, random, server_random);
            Ok((if client { c } else { s }, "CLIENT_RANDOM"))
        }
    }

    /// Gets side `dir` ready to open records, once; says once per connection why not.
    fn arm(&mut self, dir: Dir, application: bool, checks: &mut Vec<Check>) {
        let d = dir.idx();
        if self.sides[d].keys.is_some() || self.sides[d].failed {
            return;
        }
        match self.keys_for(dir, application) {
            Ok((k, name)) => {
                self.sides[d].keys = Some(k);
                self.sides[d].secret = name;
            }
            Err(c) => {
                self.sides[d].failed = true;
                if !self.said_why_not {
                    self.said_why_not = true;
                    checks.push(c);
                }
            }
        }
    }

    /// Whole records of one direction.
    fn records(&mut self, dir: Dir, out: &mut Vec<AppEvent>) {
        let d = dir.idx();
        loop {
            let s = &self.sides[d];
            if s.stopped || s.buf.len() < 5 {
                return;
            }
            let t = s.buf[0];
            let version = u16::from_be_bytes([s.buf[1], s.buf[2]]);
            let len = u16::from_be_bytes([s.buf[3], s.buf[4]]) as usize;
            let at = s.at;
            if !(20..=24).contains(&t) || s.buf[1] != 3 {
                let found = t;
                let end = at + s.buf.len() as u64;
                self.stop(dir, at, end, Check::TlsNotRecord { found }, out);
                return;
            }
            if len > MAX_RECORD {
                let end = at + self.sides[d].buf.len() as u64;
                self.stop(dir, at, end, Check::TlsBadRecordLength { len }, out);
                return;
            }
            if s.buf.len() < 5 + len {
                return;
            }
            let record: Vec<u8> = self.sides[d].buf.drain(..5 + len).collect();
            self.sides[d].at += (5 + len) as u64;
            self.record(dir, at, t, version, &record, out);
        }
    }

    fn base(&self, t: u8, version: u16, len: usize) -> TlsRecord {
        TlsRecord {
            record_type: record_type_name(t),
            version: version_name(version),
            length: len,
            tls13: self.tls13,
            ..Default::default()
        }
    }

    fn push_record(
        &mut self,
        dir: Dir,
        range: (u64, u64),
        r: TlsRecord,
        checks: Vec<Check>,
        out: &mut Vec<AppEvent>,
    ) {
        if let Some(secret) = r.decrypted {
            self.marks.push((out.len(), secret));
        }
        out.push(AppEvent {
            dir,
            stream_range: range,
            message: AppMessage::Tls(Box::new(r)),
            checks,
        });
    }

    /// One whole record at stream offset `at`.
    fn record(
        &mut self,
        dir: Dir,
        at: u64,
        t: u8,
        version: u16,
        rec: &[u8],
        out: &mut Vec<AppEvent>,
    ) {
        let d = dir.idx();
        let body = &rec[5..];
        let end = at + rec.len() as u64;
        let protected = t == 23 || (self.sides[d].protected && t != 20);
        if !protected {
            match t {
                22 => {
                    let hs_end = self.sides[d].hs_at + self.sides[d].hs.len() as u64;
                    self.sides[d]
                        .hs_map
                        .add(hs_end, at + 5, body.len() as u64, None);
                    self.sides[d].hs.extend_from_slice(body);
                    self.handshakes(dir, t, version, body.len(), out);
                }
                20 => {
                    let r = self.base(t, version, body.len());
                    if !self.tls13 {
                        self.sides[d].protected = true;
                    }
                    self.push_record(dir, (at, end), r, Vec::new(), out);
                }
                21 => {
                    let mut r = self.base(t, version, body.len());
                    alert(&mut r, body);
                    self.push_record(dir, (at, end), r, Vec::new(), out);
                }
                _ => {
                    let r = self.base(t, version, body.len());
                    self.push_record(dir, (at, end), r, Vec::new(), out);
                }
            }
            return;
        }
        // Protected. TLS 1.3: handshake keys until this side's Finished.
        let mut checks = Vec::new();
        let application = !self.tls13;
        self.arm(dir, application, &mut checks);
        let mut r = self.base(t, version, body.len());
        r.encrypted = true;
        let side = &mut self.sides[d];
        let opened = match side.keys.as_mut() {
            Some(k) if !side.failed => {
                let prefix = k.prefix_len() as u64;
                match k.open(&rec[..5], body) {
                    Ok(p) => Some((p, prefix)),
                    Err(()) => {
                        side.failed = true;
                        checks.push(Check::TlsAuthFailed {
                            secret: side.secret.to_string(),
                        });
                        None
                    }
                }
            }
            _ => None,
        };
        let Some((plain, prefix)) = opened else {
            self.push_record(dir, (at, end), r, checks, out);
            return;
        };
        let secret = self.sides[d].secret;
        let (inner_t, content) = if self.tls13 {
            match strip_inner(plain) {
                Some(x) => x,
                None => {
                    r.decrypted = Some(secret);
                    self.push_record(dir, (at, end), r, checks, out);
                    return;
                }
            }
        } else {
            (t, plain)
        };
        r.decrypted = Some(secret);
        r.inner_type = self.tls13.then(|| record_type_name(inner_t));
        let content_at = at + 5 + prefix;
        match inner_t {
            22 => {
                // The decrypted handshake messages are their own layers.
                if !checks.is_empty() {
                    self.push_record(dir, (at, end), r, checks, out);
                }
                let side = &mut self.sides[d];
                let hs_end = side.hs_at + side.hs.len() as u64;
                side.hs_map
                    .add(hs_end, content_at, content.len() as u64, Some(secret));
                side.hs.extend_from_slice(&content);
                self.handshakes(dir, t, version, body.len(), out);
            }
            23 => {
                self.push_record(dir, (at, end), r, checks, out);
                let side = &mut self.sides[d];
                side.plain_map.add(
                    side.plain_at,
                    content_at,
                    content.len() as u64,
                    Some(secret),
                );
                side.plain_at += content.len() as u64;
                let cx = self.cx.clone();
                let inner = self
                    .inner
                    .get_or_insert_with(|| Box::new(Detector::new(cx)));
                let decoded = inner.push(dir, &content);
                for ev in decoded {
                    let mut e = ev.event;
                    let map = &self.sides[e.dir.idx()].plain_map;
                    let Some((range, _)) = map.range(e.stream_range.0, e.stream_range.1) else {
                        continue;
                    };
                    e.stream_range = range;
                    self.marks.push((out.len(), secret));
                    out.push(e);
                }
                let side = &mut self.sides[d];
                // What the inner decoders still need lies after their last event.
                if side.plain_map.pieces.len() > MAX_PIECES / 2 {
                    let keep = side.plain_at.saturating_sub(1 << 20);
                    side.plain_map.drop_before(keep);
                }
            }
            21 => {
                alert(&mut r, &content);
                self.push_record(dir, (at, end), r, checks, out);
            }
            _ => self.push_record(dir, (at, end), r, checks, out),
        }
    }

    /// Whole handshake messages of one direction's handshake bytes.
    fn handshakes(&mut self, dir: Dir, t: u8, version: u16, len: usize, out: &mut Vec<AppEvent>) {
        let d = dir.idx();
        loop {
            let side = &self.sides[d];
            if side.hs.len() < 4 {
                return;
            }
            let n = u32::from_be_bytes([0, side.hs[1], side.hs[2], side.hs[3]]) as usize;
            if n > self.cx.limits.max_message.max(1 << 16) {
                let at = side.hs_map.at(side.hs_at).map(|x| x.0).unwrap_or(0);
                self.stop(
                    dir,
                    at,
                    at + 4,
                    Check::TlsMalformedHandshake {
                        handshake_type: handshake::handshake_name(side.hs[0]).into(),
                    },
                    out,
                );
                return;
            }
            if side.hs.len() < 4 + n {
                return;
            }
            let msg: Vec<u8> = self.sides[d].hs.drain(..4 + n).collect();
            let start = self.sides[d].hs_at;
            self.sides[d].hs_at += (4 + n) as u64;
            let Some((range, secret)) = self.sides[d].hs_map.range(start, start + 4 + n as u64)
            else {
                continue;
            };
            self.sides[d].hs_map.drop_before(start + 4 + n as u64);
            let mut r = self.base(t, version, len);
            r.encrypted = secret.is_some();
            r.decrypted = secret;
            r.inner_type = (secret.is_some() && self.tls13).then_some("handshake");
            let mut learnt = handshake::Learnt::default();
            let mut checks = Vec::new();
            if !handshake::describe(&mut r, &msg, self.tls13, &mut learnt) {
                checks.push(Check::TlsMalformedHandshake {
                    handshake_type: r.handshake_type.unwrap_or("unknown").into(),
                });
            }
            if let Some(cr) = learnt.client_random {
                self.client_random = Some(cr);
            }
            if let Some(sr) = learnt.server_random {
                self.server_random = Some(sr);
                self.tls13 = learnt.tls13;
            }
            if learnt.suite.is_some() {
                self.suite = learnt.suite;
            }
            r.tls13 = self.tls13;
            let code = msg[0];
            self.push_record(dir, range, r, checks, out);
            if self.tls13 && secret.is_some() {
                match code {
                    // This side's Finished: its application traffic keys from now on.
                    20 => {
                        let s = &mut self.sides[d];
                        if !s.failed {
                            s.keys = None;
                            let mut c = Vec::new();
                            self.arm(dir, true, &mut c);
                        }
                    }
                    // KeyUpdate: the next generation of this side's secret.
                    24 => {
                        let s = &mut self.sides[d];
                        s.keys = s.keys.as_ref().and_then(|k| k.update());
                        if s.keys.is_none() {
                            s.failed = true;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

fn alert(r: &mut TlsRecord, body: &[u8]) {
    if let [level, desc, ..] = body {
        r.alert_level = Some(
            match level {
                1 => "warning",
                2 => "fatal",
                _ => "unknown",
            }
            .into(),
        );
        r.alert_description = Some(alert_name(*desc));
    }
}

/// An alert's description as RFC 8446 names it (`close_notify`, `bad_record_mac`), from
/// tls-parser's names (`CloseNotify`); an unknown one by its number.
fn alert_name(desc: u8) -> String {
    let d = tls_parser::TlsAlertDescription(desc);
    let name = d.to_string();
    if name.chars().all(|c| c.is_ascii_alphanumeric()) {
        let mut out = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    } else {
        format!("unknown alert {desc}")
    }
}

impl Protocol for TlsStream {
    fn memory(&self) -> usize {
        let sides: usize = self
            .sides
            .iter()
            .map(|s| s.buf.capacity() + s.hs.capacity())
            .sum();
        sides + self.inner.as_ref().map_or(0, |d| d.memory())
    }

    fn push(&mut self, dir: Dir, data: &[u8]) -> Vec<AppEvent> {
        let mut out = Vec::new();
        self.marks.clear();
        let s = &mut self.sides[dir.idx()];
        if s.stopped {
            return out;
        }
        s.buf.extend_from_slice(data);
        self.records(dir, &mut out);
        out
    }

    fn gap(&mut self, dir: Dir, missing: u64) -> Vec<AppEvent> {
        let mut out = Vec::new();
        self.marks.clear();
        let s = &self.sides[dir.idx()];
        if s.at == 0 && s.buf.is_empty() && !s.stopped {
            // Nothing of this direction was TLS (its first bytes were not a record).
            self.sides[dir.idx()].stopped = true;
        } else if !s.stopped {
            // Records cannot be found again after a hole: this direction stops.
            let at = s.at + s.buf.len() as u64;
            self.stop(
                dir,
                at,
                at + missing,
                Check::StreamDesync { missing },
                &mut out,
            );
        }
        out
    }

    fn end(&mut self, dir: Dir) -> Vec<AppEvent> {
        let mut out = Vec::new();
        self.marks.clear();
        let s = &self.sides[dir.idx()];
        if !s.stopped && !s.buf.is_empty() {
            let have = s.buf.len();
            let want = if have >= 5 {
                5 + u16::from_be_bytes([s.buf[3], s.buf[4]]) as usize
            } else {
                5
            };
            let at = s.at;
            self.stop(
                dir,
                at,
                at + have as u64,
                Check::TlsIncompleteRecord {
                    missing: (want - have) as u64,
                },
                &mut out,
            );
        }
        if let Some(inner) = self.inner.as_mut() {
            for ev in inner.end(dir) {
                let mut e = ev.event;
                if let Some((range, secret)) = self.sides[e.dir.idx()]
                    .plain_map
                    .range(e.stream_range.0, e.stream_range.1)
                {
                    e.stream_range = range;
                    if let Some(s) = secret {
                        self.marks.push((out.len(), s));
                    }
                    out.push(e);
                }
            }
        }
        out
    }

    fn application(&self) -> Option<&'static str> {
        self.inner
            .as_ref()
            .and_then(|i| i.application())
            .or(Some("tls"))
    }

    fn take_decrypted(&mut self) -> Vec<(usize, &'static str)> {
        std::mem::take(&mut self.marks)
    }
}

#[cfg(test)]
mod tests;
