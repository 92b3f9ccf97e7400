//! JSON Lines, exactly as SPEC.md says: one `packet` object per frame, then one
//! `conversation` object per stream, then a `summary`. Keys are a contract.

use std::io::{self, Write};

use serde::Serialize;

use super::{Draw, Render};
use crate::analysis::app::{AppMessage, Level as AppLevel};
use crate::analysis::websocket::WsFrame;
use crate::analysis::{Analyzer, TcpState};
use crate::dissect::{Header, Level};
use crate::explain;
use crate::pipeline::Packet;

#[derive(Serialize)]
#[serde(untagged)]
enum Fields<'a> {
    Header(&'a Header),
    WebSocket(WsFields<'a>),
    App(&'a AppMessage),
}

/// A WebSocket frame's fields, with the header's length code beside them.
#[derive(Serialize)]
struct WsFields<'a> {
    #[serde(flatten)]
    frame: &'a WsFrame,
    length_code: u8,
}

impl<'a> Fields<'a> {
    fn app(m: &'a AppMessage) -> Fields<'a> {
        match m {
            AppMessage::WebSocket(frame) => Fields::WebSocket(WsFields {
                frame,
                length_code: frame.length_code(),
            }),
            other => Fields::App(other),
        }
    }
}

#[derive(Serialize)]
struct JsonStates {
    client: TcpState,
    server: TcpState,
}

#[derive(Serialize)]
struct JsonWarning {
    packet: Option<u64>,
    text: String,
}

/// Writes JSON Lines.
#[derive(Default)]
pub struct JsonRender {
    /// Packet lines written (the summary's `shown`).
    shown: u64,
    warnings: Vec<JsonWarning>,
    warnings_omitted: u64,
    /// One packet's line, serialized here and written in one call.
    buf: Vec<u8>,
}

const MAX_LISTED_WARNINGS: usize = 10_000;

impl JsonRender {
    pub fn new() -> JsonRender {
        JsonRender::default()
    }

    fn warn(&mut self, packet: Option<u64>, text: String) {
        if self.warnings.len() < MAX_LISTED_WARNINGS {
            self.warnings.push(JsonWarning { packet, text });
        } else {
            self.warnings_omitted += 1;
        }
    }
}

impl Render for JsonRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        let cx = self.account(p, an);
        self.buf.clear();
        JsonDraw.draw(&mut self.buf, p, cx)?;
        out.write_all(&self.buf)
    }

    fn drawer(&self) -> Option<std::sync::Arc<dyn Draw>> {
        Some(std::sync::Arc::new(JsonDraw))
    }

    /// The line count and the warnings of the summary, in the order the packet's line
    /// gives them: its messages' checks, then its notes (with the checks of a message
    /// that stopped).
    fn account(&mut self, p: &Packet, _an: &Analyzer) -> super::Context {
        self.shown += 1;
        let number = Some(p.frame.number);
        let warning = |c: &&crate::analysis::app::Check| c.level() == AppLevel::Warning;
        for a in &p.analysis.app {
            if !matches!(a.message, AppMessage::Stopped(_)) {
                for c in a.checks.iter().filter(warning) {
                    self.warn(number, explain::check(c));
                }
            }
        }
        let d = &p.dissection;
        for n in d.notes.iter().chain(&p.analysis.notes) {
            if n.level == Level::Warning {
                self.warn(number, explain::note(n));
            }
        }
        for a in &p.analysis.app {
            if matches!(a.message, AppMessage::Stopped(_)) {
                for c in a.checks.iter().filter(warning) {
                    self.warn(number, explain::check(c));
                }
            }
        }
        super::Context {
            first: p.frame.time,
            ends: None,
        }
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        #[derive(Serialize)]
        struct Conv<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            c: &'a crate::analysis::ConversationSummary,
        }
        let mut tcp = 0;
        let mut udp = 0;
        for c in an.conversations() {
            let s = c.summary();
            match s.transport {
                crate::analysis::Transport::Tcp => tcp += 1,
                crate::analysis::Transport::Udp => udp += 1,
            }
            serde_json::to_writer(
                &mut *out,
                &Conv {
                    kind: "conversation",
                    c: &s,
                },
            )?;
            out.write_all(b"\n")?;
        }
        for w in source_warnings {
            self.warn(None, w.clone());
        }
        let t = &an.totals;
        let duration = match (t.first, t.last) {
            (Some(a), Some(b)) => b.since(a),
            _ => 0.0,
        };
        let summary = serde_json::json!({
            "type": "summary",
            "version": env!("CARGO_PKG_VERSION"),
            "packets": t.packets,
            "shown": self.shown,
            "bytes": t.bytes,
            "duration": duration,
            "conversations": {"tcp": tcp, "udp": udp},
            "analysis": t.problems,
            "socketio_sessions": [],
            "warnings": self.warnings,
            "warnings_omitted": self.warnings_omitted,
            "notes": t.info,
        });
        // The sessions (any number of them) are written one at a time, not built into one
        // value first; each the same object it would be inside it (keys in order).
        let serde_json::Value::Object(fields) = &summary else {
            unreachable!("an object")
        };
        out.write_all(b"{")?;
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, k)?;
            out.write_all(b":")?;
            if k != "socketio_sessions" {
                serde_json::to_writer(&mut *out, v)?;
                continue;
            }
            out.write_all(b"[")?;
            for (j, s) in an.sessions.sessions().enumerate() {
                if j > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, &serde_json::to_value(s)?)?;
            }
            out.write_all(b"]")?;
        }
        out.write_all(b"}\n")
    }
}

/// One packet's JSON line, drawn on any thread. The line's frame is written here
/// directly, field by field in the order SPEC.md gives, its texts escaped by
/// [`write_str`]; the headers' and messages' fields (their own `Serialize`) go through
/// serde_json.
struct JsonDraw;

impl Draw for JsonDraw {
    fn draw(&self, out: &mut Vec<u8>, p: &Packet, _cx: super::Context) -> io::Result<()> {
        let d = &p.dissection;
        let mut num = itoa::Buffer::new();
        let mut text = String::new();
        out.extend_from_slice(b"{\"type\":\"packet\",\"number\":");
        out.extend_from_slice(num.format(p.frame.number).as_bytes());
        out.extend_from_slice(b",\"time\":");
        serde_json::to_writer(&mut *out, &p.frame.time.as_f64())?;
        out.extend_from_slice(b",\"wire_len\":");
        out.extend_from_slice(num.format(p.frame.wire_len).as_bytes());
        out.extend_from_slice(b",\"captured_len\":");
        out.extend_from_slice(num.format(p.frame.data.len()).as_bytes());
        out.extend_from_slice(b",\"link\":");
        write_str(out, p.frame.link.name());
        out.extend_from_slice(b",\"stream\":");
        match p.analysis.stream {
            Some(s) => out.extend_from_slice(num.format(s).as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"layers\":[");
        let mut first = true;
        for l in &d.layers {
            text.clear();
            explain::layer_explain(&mut text, l);
            layer_head(out, &mut first, l.osi(), l.header.protocol(), l.range);
            serde_json::to_writer(&mut *out, &Fields::Header(&l.header))?;
            out.extend_from_slice(b",\"explain\":");
            write_str(out, &text);
            out.push(b'}');
        }
        // A stopped message's checks are the packet's notes, after its own.
        let mut stopped = Vec::new();
        for a in &p.analysis.app {
            if let AppMessage::Stopped(_) = a.message {
                stopped.extend(a.checks.iter().map(|c| (check_level(c), explain::check(c))));
                continue;
            }
            text.clear();
            explain::app_explain(&mut text, a);
            layer_head(
                out,
                &mut first,
                a.message.osi(),
                a.message.protocol(),
                a.range,
            );
            serde_json::to_writer(&mut *out, &Fields::app(&a.message))?;
            out.extend_from_slice(b",\"explain\":");
            write_str(out, &text);
            out.extend_from_slice(b",\"frames\":[");
            for (i, f) in a.frames.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(num.format(*f).as_bytes());
            }
            out.extend_from_slice(b"],\"from\":");
            write_str(out, if a.from_client { "client" } else { "server" });
            if !a.checks.is_empty() {
                out.extend_from_slice(b",\"checks\":[");
                for (i, c) in a.checks.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_note(out, check_level(c), &explain::check(c));
                }
                out.push(b']');
            }
            if let Some(secret) = a.decrypted {
                out.extend_from_slice(b",\"decrypted\":");
                write_str(out, secret);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"analysis\":");
        serde_json::to_writer(&mut *out, &p.analysis.tags)?;
        let mut notes = d.notes.iter().chain(&p.analysis.notes).peekable();
        if notes.peek().is_some() || !stopped.is_empty() {
            out.extend_from_slice(b",\"notes\":[");
            let mut first = true;
            for n in notes {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                write_note(out, n.level, &explain::note(n));
            }
            for (level, t) in &stopped {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                write_note(out, *level, t);
            }
            out.push(b']');
        }
        if let Some([client, server]) = p.analysis.states {
            out.extend_from_slice(b",\"state\":");
            serde_json::to_writer(&mut *out, &JsonStates { client, server })?;
        }
        if let Some((n, _)) = p.analysis.copy_of {
            out.extend_from_slice(b",\"copy_of\":");
            out.extend_from_slice(num.format(n).as_bytes());
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}

/// `{"osi":…,"protocol":…,"range":[…],"fields":` of a layer, after a comma unless first.
fn layer_head(out: &mut Vec<u8>, first: &mut bool, osi: u8, protocol: &str, range: (usize, usize)) {
    let mut num = itoa::Buffer::new();
    if !std::mem::take(first) {
        out.push(b',');
    }
    out.extend_from_slice(b"{\"osi\":");
    out.extend_from_slice(num.format(osi).as_bytes());
    out.extend_from_slice(b",\"protocol\":");
    write_str(out, protocol);
    out.extend_from_slice(b",\"range\":[");
    out.extend_from_slice(num.format(range.0).as_bytes());
    out.push(b',');
    out.extend_from_slice(num.format(range.1).as_bytes());
    out.extend_from_slice(b"],\"fields\":");
}

fn check_level(c: &crate::analysis::app::Check) -> Level {
    if c.level() == AppLevel::Warning {
        Level::Warning
    } else {
        Level::Info
    }
}

/// `{"level":…,"text":…}`
fn write_note(out: &mut Vec<u8>, level: Level, text: &str) {
    out.extend_from_slice(match level {
        Level::Info => b"{\"level\":\"info\",\"text\":",
        Level::Warning => b"{\"level\":\"warning\",\"text\":",
    });
    write_str(out, text);
    out.push(b'}');
}

/// `s` as a JSON string, escaped exactly as serde_json escapes it (`\"`, `\\`, the
/// short escapes `\b \f \n \r \t`, other control bytes as `\u00XX`), skipping eight
/// bytes at a time where there is nothing to escape.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut at = 0;
    let mut i = 0;
    while i < b.len() {
        while let Some(chunk) = b.get(i..i + 8) {
            if !needs_json_escape(u64::from_le_bytes(chunk.try_into().expect("eight bytes"))) {
                i += 8;
            } else {
                break;
            }
        }
        let Some(&c) = b.get(i) else { break };
        let short: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[at..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]);
        } else {
            out.extend_from_slice(short);
        }
        i += 1;
        at = i;
    }
    out.extend_from_slice(&b[at..]);
    out.push(b'"');
}

/// Whether any of eight bytes is a control byte, `"` or `\\`.
fn needs_json_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    control | zero_in(w ^ (ONES * b'"' as u64)) | zero_in(w ^ (ONES * b'\\' as u64)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written escaping gives serde_json's bytes for every byte value, at
    /// every position of an eight-byte step.
    #[test]
    fn strings_are_escaped_as_serde_json_does() {
        let mut samples: Vec<String> = (0u32..0x100)
            .filter_map(char::from_u32)
            .flat_map(|c| {
                (0..10).map(move |k| format!("{}{c}{}", "a".repeat(k), "b".repeat(9 - k)))
            })
            .collect();
        samples.push("→ · — é 日本 \u{202e} \u{7f}\u{80}".to_string());
        samples.push(String::new());
        samples.push("\"\\\n\u{1}\u{1f}\"".repeat(5));
        for s in samples {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }
}
