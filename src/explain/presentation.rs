//! L6, the presentation layer: what a packet's payload bytes are — text, binary,
//! compressed, masked, encrypted — said from the messages the analysis decoded in them
//! (a WebSocket text frame is UTF-8 text once unmasked, even though its bytes on the wire
//! are not), and from the bytes themselves only when nothing was decoded.

use super::template::text;
use crate::analysis::app::AppMessage;
use crate::analysis::protocols::tls;
use crate::analysis::AppLayer;

/// The most characters of an undecoded text payload shown on the L6 line.
const TEXT_SHOWN: usize = 100;

/// The L6 line and its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    /// The short value for the L6 line: `20 bytes: a WebSocket frame header …`.
    pub line: String,
    /// The explanation's key, for giving it once per conversation.
    pub key: String,
    /// The explanation's template and its values: made into words by [`Presentation::text`]
    /// only when it is told (once per conversation), not for every packet.
    text_key: String,
    args: Vec<(&'static str, String)>,
}

impl Presentation {
    /// The explanation.
    pub fn text(&self) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        text(&self.text_key, &args)
    }
}

/// What the `payload` of a packet is, from the application messages with bytes in it.
pub fn presentation(apps: &[AppLayer], payload: &[u8]) -> Presentation {
    let len = payload.len().to_string();
    let socketio = apps
        .iter()
        .any(|a| matches!(a.message, AppMessage::EngineIo(_) | AppMessage::SocketIo(_)));
    let here: Vec<&AppLayer> = apps
        .iter()
        .filter(|a| a.range.1 > a.range.0)
        .filter(|a| matches!(a.message, AppMessage::Http(_) | AppMessage::WebSocket(_)))
        .collect();
    let (name, args): (&str, Vec<(&str, String)>) = match here.first().map(|a| &a.message) {
        Some(AppMessage::Http(h)) => {
            let encoding = h
                .header("content-encoding")
                .filter(|e| !e.eq_ignore_ascii_case("identity"));
            let text_body = std::str::from_utf8(&h.body).is_ok();
            match encoding {
                Some(e) => (
                    "http_binary",
                    vec![("encoding", format!(" (Content-Encoding: {e})"))],
                ),
                None if !text_body => ("http_binary", vec![("encoding", String::new())]),
                None => (
                    "http_text",
                    vec![(
                        "body",
                        if h.body_len > 0 {
                            " and a text body".to_string()
                        } else {
                            String::new()
                        },
                    )],
                ),
            }
        }
        Some(AppMessage::WebSocket(w)) => {
            let is_text = w.opcode == 1 || w.text.is_some();
            let masked = if w.masked {
                ", masked with XOR".to_string()
            } else {
                String::new()
            };
            let carried = if socketio && is_text {
                text("presentation.carried.socketio", &[])
            } else {
                String::new()
            };
            let name = match w.opcode {
                8 => "ws_close",
                9 | 10 => "ws_control",
                _ if w.compressed && is_text => "ws_compressed",
                _ if w.compressed => "ws_compressed_binary",
                0 if w.text.is_none() && w.message_len.is_none() => "ws_continuation",
                _ if is_text && w.masked => "ws_text_masked",
                _ if is_text => "ws_text",
                _ => "ws_binary",
            };
            let close_parts = match (w.close_code, w.close_reason.as_deref()) {
                (Some(_), Some(r)) if !r.is_empty() => "code_reason",
                (Some(_), _) => "code",
                _ => "empty",
            };
            (
                name,
                vec![
                    ("masked", masked),
                    ("carried", carried),
                    (
                        "close_parts",
                        text(&format!("presentation.close_parts.{close_parts}"), &[]),
                    ),
                ],
            )
        }
        _ if tls::record_header(payload).is_some() => {
            // In clear (a hello, a certificate in TLS 1.2, ChangeCipherSpec), protected, or
            // both in one segment (TLS 1.3's ServerHello and the encrypted records after it).
            let tls: Vec<bool> = apps
                .iter()
                .filter_map(|a| match &a.message {
                    AppMessage::Tls(t) if a.range.1 > a.range.0 => Some(t.encrypted),
                    _ => None,
                })
                .collect();
            let name = match (tls.iter().any(|e| !e), tls.iter().any(|e| *e)) {
                (true, false) => "tls_clear",
                (true, true) => "tls_mixed",
                _ => "tls",
            };
            (name, Vec::new())
        }
        _ => {
            // Nothing decoded: say only what the bytes themselves show.
            let texty = payload.iter().all(|&b| {
                b == b'\r' || b == b'\n' || b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
            }) && std::str::from_utf8(payload).is_ok();
            let (key, what) = if texty {
                ("layers.presentation.text", "UTF-8 text")
            } else {
                ("layers.presentation.binary", "binary")
            };
            // Small text is shown as it is (the renderer escapes it for the terminal).
            let shown = match std::str::from_utf8(payload) {
                Ok(s) if texty && s.chars().count() <= TEXT_SHOWN => format!(": \"{s}\""),
                Ok(s) if texty => {
                    let cut: String = s.chars().take(TEXT_SHOWN).collect();
                    format!(": \"{cut}…\"")
                }
                _ => String::new(),
            };
            return Presentation {
                line: format!("{} of {what}{shown}", super::bytes(payload.len() as u64)),
                key: key.to_string(),
                text_key: key.to_string(),
                args: vec![("len", len)],
            };
        }
    };
    let mut owned = args;
    owned.push(("len", len.clone()));
    let args: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // On the wire these bytes were ciphertext: say so, and what the key log opened.
    if let Some(secret) = here.iter().find_map(|a| a.decrypted) {
        let inside = match here.first().map(|a| &a.message) {
            Some(AppMessage::Http(_)) => "http",
            _ => "websocket",
        };
        let inside = text(&format!("presentation.inside_tls.{inside}"), &[]);
        let more = if here.len() > 1 {
            format!(" (and {} more message(s))", here.len() - 1)
        } else {
            String::new()
        };
        let args = [
            ("len", len.as_str()),
            ("secret", secret),
            ("inside", inside.as_str()),
            ("more", more.as_str()),
        ];
        return Presentation {
            line: text("presentation.inside_tls.line", &args),
            key: "presentation.inside_tls".into(),
            text_key: "presentation.inside_tls.text".into(),
            args: args.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        };
    }
    let mut line = text(&format!("presentation.{name}.line"), &args);
    if here.len() > 1 {
        line.push_str(&format!(" (and {} more message(s))", here.len() - 1));
    }
    Presentation {
        line,
        key: format!("presentation.{name}"),
        text_key: format!("presentation.{name}.text"),
        args: owned,
    }
}
