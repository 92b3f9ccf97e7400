//! Words for the application layer: HTTP requests and responses, the WebSocket upgrade
//! step by step, and WebSocket frames (what the opcode means, the unmasking XOR, server
//! push), and the protocol checks.

use super::template::{text, text_into};
use crate::analysis::app::{AppMessage, Check};
use crate::analysis::http::{BodyFraming, HttpKind, HttpMessage};
use crate::analysis::websocket::WsFrame;
use crate::analysis::AppLayer;

const PREVIEW: usize = 72;

fn preview(s: &str) -> String {
    let mut out: String = s.chars().take(PREVIEW).collect();
    if s.chars().count() > PREVIEW {
        out.push('…');
    }
    out
}

/// A few words for an application message, for the arrows of the ladder diagram:
/// `GET /chat`, `101 Switching Protocols`, `text "hi"`, `EVENT 'chat message'`.
pub fn app_short(l: &AppLayer) -> String {
    match &l.message {
        AppMessage::Http(h) => match h.kind {
            HttpKind::Request => format!(
                "{} {}",
                h.method.as_deref().unwrap_or("?"),
                h.uri.as_deref().unwrap_or("?")
            ),
            HttpKind::Response => format!(
                "{} {}",
                h.status.map(|s| s.to_string()).unwrap_or_default(),
                h.reason.as_deref().unwrap_or("")
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
                h.method.as_deref().unwrap_or("?"),
                h.uri.as_deref().unwrap_or("?"),
                h.version
            ),
            HttpKind::Response => {
                format!(
                    "{} {} {}",
                    h.version,
                    h.status.map(|s| s.to_string()).unwrap_or_default(),
                    h.reason.as_deref().unwrap_or("")
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
            if p.packet_type.is_event() {
                s.push_str(&format!(" socket.emit({})", preview(&p.emit_js())));
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
    let mut s = format!(
        "{}{}",
        w.opcode_name,
        if w.fin {
            ""
        } else {
            " (more fragments follow)"
        }
    );
    s.push_str(if w.masked {
        " · masked"
    } else {
        " · unmasked"
    });
    if w.compressed {
        s.push_str(" · compressed");
    }
    s.push_str(&format!(" · {} bytes", w.payload_len));
    if let Some(t) = &w.text {
        s.push_str(&format!(": \"{}\"", preview(t)));
    } else if let Some(code) = w.close_code {
        s.push_str(&format!(": {code} {}", w.close_code_name.unwrap_or("")));
        if let Some(r) = w.close_reason.as_deref().filter(|r| !r.is_empty()) {
            s.push_str(&format!(" \"{}\"", preview(r)));
        }
    } else if let Some(h) = &w.data_hex {
        s.push_str(&format!(": {}", preview(h)));
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

/// Appends the explanation of an application layer.
pub fn app_explain(out: &mut String, l: &AppLayer) {
    match &l.message {
        AppMessage::Http(h) => http_explain(out, h),
        AppMessage::WebSocket(w) => {
            text_into(out, &format!("websocket.opcode.{}", w.opcode_name), &[]);
            if let Some(key) = &w.masking_key {
                out.push(' ');
                text_into(out, "websocket.frame.unmask", &[("masking_key", key)]);
            }
            if l.push {
                out.push(' ');
                text_into(out, "websocket.frame.server_push", &[]);
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
        }
        AppMessage::SocketIo(p) => {
            let params = p.params();
            let args: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            text_into(
                out,
                &format!("socketio.socketio.{}", p.wording_key(l.from_client)),
                &args,
            );
            for key in p.lesson_keys(l.from_client) {
                out.push(' ');
                text_into(out, &format!("socketio.lesson.{key}"), &args);
            }
        }
        AppMessage::Tls(r) => super::tls::tls_explain(out, r),
        AppMessage::Stopped(_) => {}
    }
}

fn http_explain(out: &mut String, h: &HttpMessage) {
    let body_len = h.body_len.to_string();
    match h.kind {
        HttpKind::Request => {
            let (m, u) = (
                h.method.as_deref().unwrap_or(""),
                h.uri.as_deref().unwrap_or(""),
            );
            text_into(out, "http.message.request", &[("method", m), ("uri", u)]);
            if let Some(key) = &h.websocket_key {
                out.push(' ');
                text_into(out, "websocket.upgrade.request", &[]);
                out.push(' ');
                text_into(out, "websocket.upgrade.key", &[("websocket_key", key)]);
            }
        }
        HttpKind::Response => {
            let status = h.status.map(|s| s.to_string()).unwrap_or_default();
            text_into(out, "http.message.response", &[("status", &status)]);
            if h.status == Some(101) {
                out.push(' ');
                text_into(out, "websocket.upgrade.switching", &[]);
            }
            if let Some(exp) = &h.accept_expected {
                for step in ["guid", "sha1"] {
                    out.push(' ');
                    text_into(out, &format!("websocket.upgrade.{step}"), &[]);
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
    out.push('.');
    out
}
