//! Words for the application layer: HTTP requests and responses, the WebSocket upgrade
//! step by step, and WebSocket frames (what the opcode means, the unmasking XOR, server
//! push), and the protocol checks.

use super::template::{text, text_into};
use crate::analysis::app::{AppMessage, Check};
use crate::analysis::http::{BodyFraming, HttpKind, HttpMessage};
use crate::analysis::protocols::tls;
use crate::analysis::stream::Unasked;
use crate::analysis::websocket::{Finding, SentHeader, UpgradeRequest, WsFrame};
use crate::analysis::AppLayer;
use crate::value::short;

const PREVIEW: usize = 72;

/// The kind of the server-push aside (WebSocket's and Socket.IO's say the same thing).
const PUSH_ASIDE: &str = "aside:server_push";

fn preview(s: &str) -> String {
    let mut out = String::new();
    push_preview(&mut out, s);
    out
}

/// The first `PREVIEW` characters of `s` onto `out`, and `…` when there were more.
fn push_preview(out: &mut String, s: &str) {
    match s.char_indices().nth(PREVIEW) {
        None => out.push_str(s),
        Some((cut, _)) => {
            out.push_str(&s[..cut]);
            out.push('…');
        }
    }
}

/// A few words for an application message, for the arrows of the ladder diagram:
/// `GET /chat`, `101 Switching Protocols`, `text "hi"`, `EVENT 'chat message'`.
pub fn app_short(l: &AppLayer) -> String {
    match &l.message {
        AppMessage::Http(h) => match h.kind {
            HttpKind::Request => format!(
                "{} {}",
                short(h.method.as_deref().unwrap_or("?")),
                short(h.uri.as_deref().unwrap_or("?"))
            ),
            HttpKind::Response => format!(
                "{} {}",
                h.status.map(|s| s.to_string()).unwrap_or_default(),
                short(h.reason.as_deref().unwrap_or(""))
            ),
        },
        AppMessage::WebSocket(w) => {
            let mut s = w.opcode_name.to_string();
            if let Some(t) = &w.text {
                s.push_str(&format!(" \"{}\"", t));
            } else if let Some(c) = w.close_code {
                s.push_str(&format!(" {c}"));
            } else if w.message_len.is_some() || w.opcode >= 8 {
                s.push_str(&format!(" {}B", w.message_len.unwrap_or(w.payload_len)));
            }
            s
        }
        AppMessage::EngineIo(e) => format!("eio {}", e.packet_type.name()),
        AppMessage::SocketIo(p) => match (&p.event, p.ack_id) {
            (Some(ev), _) => format!("{} '{ev}'", p.packet_type.name()),
            (None, Some(id)) => format!("{} #{id}", p.packet_type.name()),
            _ => p.packet_type.name().to_string(),
        },
        AppMessage::Tls(r) => super::tls::tls_short(r),
        AppMessage::Stopped(_) => String::new(),
    }
}

/// The short line of values for an application layer.
pub fn app_headline(l: &AppLayer) -> String {
    match &l.message {
        AppMessage::Http(h) => match h.kind {
            HttpKind::Request => format!(
                "{} {} {}",
                short(h.method.as_deref().unwrap_or("?")),
                short(h.uri.as_deref().unwrap_or("?")),
                short(&h.version)
            ),
            HttpKind::Response => {
                format!(
                    "{} {} {}",
                    short(&h.version),
                    h.status.map(|s| s.to_string()).unwrap_or_default(),
                    short(h.reason.as_deref().unwrap_or(""))
                )
            }
        },
        AppMessage::WebSocket(w) => ws_headline(w),
        AppMessage::EngineIo(e) => {
            let mut s = format!("{} ({})", e.packet_type.name(), e.transport.name());
            if let Some(t) = e.text().filter(|t| !t.is_empty()) {
                s.push_str(&format!(": {}", preview(t)));
            }
            s
        }
        AppMessage::SocketIo(p) => {
            let mut s = format!("{} {}", p.packet_type.name(), p.namespace);
            if let Some(id) = p.ack_id {
                s.push_str(&format!(" #{id}"));
            }
            if p.packet_type.is_event() && l.from_client {
                s.push_str(&format!(" socket.emit({})", preview(&p.emit_js())));
            } else if p.packet_type.is_event() {
                // Which server call sent it (socket.emit, io.emit, a room's) is not in
                // the packet.
                s.push_str(&format!(
                    " {} · an emit on the server",
                    preview(&p.emit_js())
                ));
            } else if let Some(a) = &p.args {
                s.push_str(&format!(" {}", preview(&a.to_string())));
            }
            s
        }
        AppMessage::Tls(r) => super::tls::tls_headline(r),
        AppMessage::Stopped(_) => String::new(),
    }
}

fn ws_headline(w: &WsFrame) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(128);
    s.push_str(w.opcode_name);
    if !w.fin {
        s.push_str(" (more fragments follow)");
    }
    s.push_str(if w.masked {
        " · masked"
    } else {
        " · unmasked"
    });
    if w.compressed {
        s.push_str(" · compressed");
    }
    s.push_str(" · ");
    s.push_str(&super::bytes(w.payload_len));
    if let Some(t) = &w.text {
        s.push_str(": \"");
        push_preview(&mut s, t);
        s.push('"');
    } else if let Some(code) = w.close_code {
        let _ = write!(s, ": {code} {}", w.close_code_name.unwrap_or(""));
        if let Some(r) = w.close_reason.as_deref().filter(|r| !r.is_empty()) {
            s.push_str(" \"");
            push_preview(&mut s, r);
            s.push('"');
        }
    } else if let Some(h) = &w.data_hex {
        s.push_str(": ");
        push_preview(&mut s, h);
    }
    if let (Some(n), Some(f)) = (w.message_len, w.fragments) {
        if f > 1 || w.compressed {
            s.push_str(&format!(
                " (message of {n} bytes in {f} frame{})",
                if f == 1 { "" } else { "s" }
            ));
        }
    }
    s
}

/// The wording of a WebSocket opcode: a Close that answers a Close is the reply.
fn ws_opcode_key(w: &WsFrame) -> &'static str {
    match w.opcode {
        8 if w.close_reply => "close_reply",
        1 if w.compressed => "text_compressed",
        2 if w.compressed => "binary_compressed",
        _ => w.opcode_name,
    }
}

/// What kind of explanation this application message gets, for saying each kind once per
/// conversation: `websocket:text`, `websocket:close_reply`, `socketio:EVENT_server`.
pub fn app_kind(l: &AppLayer) -> String {
    match &l.message {
        AppMessage::Http(h) => format!("http:{:?}", h.kind),
        AppMessage::WebSocket(w) => format!("websocket:{}", ws_opcode_key(w)),
        AppMessage::EngineIo(e) => format!("engineio:{}", e.wording_key()),
        AppMessage::SocketIo(p) => format!("socketio:{}", p.wording_key(l.from_client)),
        AppMessage::Tls(r) => format!("tls:{}", super::tls::tls_short(r)),
        AppMessage::Stopped(_) => String::new(),
    }
}

/// Appends the explanation of an application layer: its own wording, then every aside
/// (the JSON output's `explain`).
pub fn app_explain(out: &mut String, l: &AppLayer) {
    app_main(out, l);
    for (_, aside) in app_asides(l) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&aside);
    }
}

/// The wording of this message itself, from its values.
pub fn app_main(out: &mut String, l: &AppLayer) {
    match &l.message {
        AppMessage::Http(h) => http_explain(out, h),
        AppMessage::WebSocket(w) => {
            super::template::text_of_into(out, &["websocket.opcode.", ws_opcode_key(w)], &[]);
            if let Some(key) = &w.masking_key {
                out.push(' ');
                text_into(out, "websocket.frame.unmask", &[("masking_key", key)]);
            }
        }
        AppMessage::EngineIo(e) => {
            let params = e.params();
            let args: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            text_into(
                out,
                &format!("socketio.engineio.{}", e.wording_key()),
                &args,
            );
            // The first packet of a polling body that batched several says how.
            if e.payload_index == Some(0) && e.payload_count.is_some_and(|n| n > 1) {
                out.push(' ');
                let key = if e.version == 3 {
                    "socketio.engineio.payload_v3"
                } else {
                    "socketio.engineio.payload"
                };
                text_into(out, key, &args);
            }
        }
        AppMessage::SocketIo(p) => {
            let params = p.params();
            let args: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            text_into(
                out,
                &format!("socketio.socketio.{}", p.wording_key(l.from_client)),
                &args,
            );
        }
        AppMessage::Tls(r) => super::tls::tls_explain(out, r),
        AppMessage::Stopped(_) => {}
    }
}

/// What a 101 response agreed on for permessage-deflate, parameter by parameter.
fn deflate_explain(
    out: &mut String,
    h: &HttpMessage,
    p: &crate::analysis::websocket::DeflateParams,
) {
    let value = h.websocket_extensions.as_deref().unwrap_or("");
    let name = h.name_sent("sec-websocket-extensions");
    out.push(' ');
    text_into(
        out,
        "websocket.upgrade.permessage_deflate",
        &[("name", name), ("value", value)],
    );
    for (side, no_takeover, bits) in [
        (
            "server",
            p.server_no_context_takeover,
            p.server_max_window_bits,
        ),
        (
            "client",
            p.client_no_context_takeover,
            p.client_max_window_bits,
        ),
    ] {
        if no_takeover {
            out.push(' ');
            text_into(
                out,
                "websocket.upgrade.no_context_takeover",
                &[("side", side)],
            );
        }
        if let Some(b) = bits {
            out.push(' ');
            let b = b.to_string();
            text_into(
                out,
                "websocket.upgrade.max_window_bits",
                &[("side", side), ("bits", &b)],
            );
        }
    }
    if !(p.server_no_context_takeover && p.client_no_context_takeover) {
        out.push(' ');
        text_into(out, "websocket.upgrade.context_takeover", &[]);
    }
}

/// General lessons this message is an example of, each with its key (the text outputs
/// give each once per conversation): server push, what an emit reaches, acks…
pub fn app_asides(l: &AppLayer) -> Vec<(String, String)> {
    let mut v = Vec::new();
    if let AppMessage::SocketIo(p) = &l.message {
        let params = p.params();
        let args: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for key in p.lesson_keys(l.from_client) {
            let key = match (key, l.push) {
                // An event that follows the client's own (an echo, a broadcast of it)
                // was not sent unasked.
                ("server_push", Unasked::No) => continue,
                ("server_push", Unasked::Maybe) => "server_push_maybe",
                (k, _) => k,
            };
            let t = text(&format!("socketio.lesson.{key}"), &args);
            // One server-push lesson, whichever layer gives it first.
            let kind = if key.starts_with("server_push") {
                PUSH_ASIDE.to_string()
            } else {
                format!("socketio.lesson.{key}")
            };
            v.push((kind, t));
        }
    } else if let AppMessage::WebSocket(w) = &l.message {
        // A binary message that starts like a TLS record: a tunnel, said as a guess.
        let header = w.data.as_deref().filter(|_| w.opcode == 2);
        if let Some((record, first)) = header.and_then(tls::record_header) {
            let key = match first {
                Some(_) => "websocket.opcode.binary_tls_handshake",
                None => "websocket.opcode.binary_tls",
            };
            let args = [("record", record), ("first", first.unwrap_or(""))];
            v.push(("aside:ws_tls_tunnel".to_string(), text(key, &args)));
        }
        let key = match l.push {
            Unasked::No => None,
            Unasked::First => Some("websocket.frame.server_push"),
            Unasked::Maybe => Some("websocket.frame.server_push_maybe"),
        };
        if let Some(key) = key {
            v.push((PUSH_ASIDE.to_string(), text(key, &[])));
        }
    }
    v
}

fn http_explain(out: &mut String, h: &HttpMessage) {
    let body_len = h.body_len.to_string();
    match h.kind {
        HttpKind::Request => {
            let (m, u) = (
                short(h.method.as_deref().unwrap_or("")),
                short(h.uri.as_deref().unwrap_or("")),
            );
            let (m, u) = (&*m, &*u);
            text_into(
                out,
                "http.message.request",
                &[("method", m), ("uri", u), ("version", &h.version)],
            );
            if let Some(req) = &h.upgrade_request {
                upgrade_request_explain(out, req);
            }
        }
        HttpKind::Response => {
            let status = h.status.map(|s| s.to_string()).unwrap_or_default();
            let reason = h.reason.as_deref().unwrap_or("");
            let key = if reason.trim().is_empty() {
                "http.message.response_no_reason"
            } else {
                "http.message.response"
            };
            text_into(
                out,
                key,
                &[
                    ("version", &h.version),
                    ("status", &status),
                    ("reason", reason),
                ],
            );
            if h.status == Some(101) {
                out.push(' ');
                if h.accept_expected.is_some() || h.is_websocket_upgrade() {
                    text_into(out, "websocket.upgrade.switching", &[]);
                } else {
                    let up = h.upgrade.as_deref().unwrap_or("another protocol");
                    text_into(out, "websocket.upgrade.switching_other", &[("upgrade", up)]);
                }
                if let Some(p) = &h.permessage_deflate {
                    deflate_explain(out, h, p);
                }
            }
            if let Some(exp) = &h.accept_expected {
                for step in ["guid", "sha1"] {
                    out.push(' ');
                    super::template::text_of_into(out, &["websocket.upgrade.", step], &[]);
                }
                out.push(' ');
                text_into(out, "websocket.upgrade.base64", &[("accept_expected", exp)]);
                if h.accept_valid == Some(true) {
                    out.push(' ');
                    text_into(out, "websocket.upgrade.accept_valid", &[]);
                }
            }
            if h.upgrade_refused {
                out.push(' ');
                text_into(out, "websocket.upgrade.refused", &[("status", &status)]);
                refusal_explain(out, h);
            }
            if let Some(p) = &h.websocket_protocol {
                out.push(' ');
                text_into(
                    out,
                    "websocket.upgrade.subprotocol",
                    &[("websocket_protocol", p)],
                );
            }
        }
    }
    let framing = match h.body_framing {
        BodyFraming::None => "http.body.none",
        BodyFraming::ContentLength => "http.body.content-length",
        BodyFraming::Chunked => "http.body.chunked",
        BodyFraming::Close => "http.body.close",
    };
    out.push(' ');
    text_into(out, framing, &[("body_len", &body_len)]);
}

/// What the upgrade request sent of each field RFC 6455 requires, from its own values.
fn upgrade_request_explain(out: &mut String, req: &UpgradeRequest) {
    out.push(' ');
    text_into(out, "websocket.upgrade.request", &[]);
    let findings = req.findings();
    for f in &findings {
        let params = f.params();
        let args: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        out.push(' ');
        super::template::text_of_into(out, &["websocket.request.", f.key()], &args);
    }
    if findings.iter().any(Finding::is_problem) {
        out.push(' ');
        text_into(out, "websocket.upgrade.request_problems", &[]);
    }
}

/// Why a server refused an upgrade, pointing at the request's header where the status
/// names one, and what its body says.
fn refusal_explain(out: &mut String, h: &HttpMessage) {
    let req = h.upgrade_request.as_deref();
    let sent = |f: fn(&UpgradeRequest) -> &Option<SentHeader>| req.and_then(|r| f(r).clone());
    out.push(' ');
    match h.status {
        Some(426) => {
            let supported = h.header_joined("sec-websocket-version");
            let name = h.name_sent("sec-websocket-version");
            match (sent(|r| &r.ws_version), supported) {
                (Some(v), Some(sup)) => text_into(
                    out,
                    "websocket.upgrade.refused_426",
                    &[
                        ("request_version_name", &v.name),
                        ("request_version", &v.value),
                        ("name", name),
                        ("supported", &sup),
                    ],
                ),
                (Some(v), None) => text_into(
                    out,
                    "websocket.upgrade.refused_426_unlisted",
                    &[
                        ("request_version_name", &v.name),
                        ("request_version", &v.value),
                    ],
                ),
                (None, sup) => text_into(
                    out,
                    "websocket.upgrade.refused_426_no_version",
                    &[("supported", sup.as_deref().unwrap_or("not listed"))],
                ),
            }
        }
        Some(400) => {
            let problems = req.map(UpgradeRequest::problems).unwrap_or_default();
            if problems.is_empty() {
                text_into(out, "websocket.upgrade.refused_400_clean", &[]);
            } else {
                let list: Vec<String> = problems
                    .iter()
                    .map(|f| {
                        let params = f.params();
                        let args: Vec<(&str, &str)> =
                            params.iter().map(|(k, v)| (*k, v.as_str())).collect();
                        let s = text(&format!("websocket.request.{}", f.key()), &args);
                        lower_first(s.trim_end_matches('.'))
                    })
                    .collect();
                text_into(
                    out,
                    "websocket.upgrade.refused_400",
                    &[("problems", &list.join("; "))],
                );
            }
        }
        Some(403) => match sent(|r| &r.origin) {
            Some(o) => text_into(
                out,
                "websocket.upgrade.refused_403",
                &[("origin", &format!("{}: {}", o.name, o.value))],
            ),
            None => text_into(out, "websocket.upgrade.refused_403_no_origin", &[]),
        },
        _ => {
            out.pop();
        }
    }
    if h.body_len > 0 && !h.body.is_empty() {
        out.push(' ');
        let len = h.body_len.to_string();
        match std::str::from_utf8(&h.body) {
            Ok(t) => text_into(
                out,
                "websocket.upgrade.body",
                &[("body_len", &len), ("body", &preview(t.trim_end()))],
            ),
            Err(_) => {
                let hex: String = h.body.iter().take(16).map(|b| format!("{b:02x}")).collect();
                text_into(
                    out,
                    "websocket.upgrade.body_binary",
                    &[("body_len", &len), ("body_hex", &hex)],
                )
            }
        }
    }
}

/// "The method is POST" → "the method is POST" (a sentence used inside another).
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep a header name's capital ("Sec-WebSocket-Key: …").
        Some(f) if s.starts_with("The ") || s.starts_with("There ") => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_string(),
    }
}

/// The wording of a protocol check.
pub fn check(c: &Check) -> String {
    let params = c.params();
    let args: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for file in ["websocket", "http", "socketio", "tls"] {
        let key = format!("{file}.check.{}", c.code());
        if super::texts().contains_key(&key) {
            return text(&key, &args);
        }
    }
    c.code().to_string()
}

/// One Socket.IO session across its connections, in a sentence or two: which streams
/// polled and which carried the WebSocket, and the upgrade dance frame by frame.
pub fn session_summary(s: &crate::analysis::socketio::Session) -> String {
    let list = |v: &[u32]| {
        v.iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!("Socket.IO session {} (Engine.IO v{}): ", s.sid, s.version);
    if !s.polling_streams.is_empty() {
        out.push_str(&format!(
            "long-polling over TCP stream(s) {}",
            list(&s.polling_streams)
        ));
    }
    if !s.websocket_streams.is_empty() {
        if !s.polling_streams.is_empty() {
            out.push_str(", then ");
        }
        out.push_str(&format!(
            "WebSocket over TCP stream {}",
            list(&s.websocket_streams)
        ));
    }
    let d = &s.upgrade;
    let step = |what: &str, f: Option<u64>| f.map(|f| format!("{what} in packet {f}"));
    let dance: Vec<String> = [
        step("2probe", d.probe),
        step("3probe", d.probe_answer),
        step("noop ending the last poll", d.noop),
        step("5 (upgrade)", d.upgrade),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !dance.is_empty() {
        out.push_str(&format!("; the upgrade: {}", dance.join(", ")));
    }
    out.push_str(&format!(
        "; {} event(s), {} ack(s), {} ping(s)",
        s.events, s.acks, s.pings
    ));
    if let (Some(i), Some(t)) = (s.ping_interval, s.ping_timeout) {
        out.push_str(&format!(" (pingInterval {i} ms, pingTimeout {t} ms)"));
    }
    if s.streams_not_listed() > 0 {
        out.push_str(&format!(
            "; {} more stream(s) carried it, not listed (each list stops at {})",
            s.streams_not_listed(),
            crate::analysis::socketio::MAX_STREAMS
        ));
    }
    out.push('.');
    out
}
