//! JSON Lines, exactly as SPEC.md says: one `packet` object per frame, then one
//! `conversation` object per stream, then a `summary`. Keys are a contract.

use std::io::{self, Write};

use serde::Serialize;

use super::{Draw, Render};
use crate::analysis::app::{AppMessage, Level as AppLevel};
use crate::analysis::websocket::WsFrame;
use crate::analysis::{Analyzer, Tag, TcpState};
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
struct JsonLayer<'a> {
    osi: u8,
    protocol: &'static str,
    range: [usize; 2],
    fields: Fields<'a>,
    explain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    frames: Option<&'a [u64]>,
    /// For application messages: who sent it, `client` or `server`.
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Vec<JsonNote>>,
    /// Read from decrypted TLS records: the key log secret that opened them.
    #[serde(skip_serializing_if = "Option::is_none")]
    decrypted: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonNote {
    level: Level,
    text: String,
}

#[derive(Serialize)]
struct JsonStates {
    client: TcpState,
    server: TcpState,
}

#[derive(Serialize)]
struct JsonPacket<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    number: u64,
    time: f64,
    wire_len: u32,
    captured_len: usize,
    link: &'static str,
    stream: Option<u32>,
    layers: Vec<JsonLayer<'a>>,
    analysis: &'a [Tag],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<JsonNote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<JsonStates>,
    /// This packet is a second copy of that frame (captured twice), not a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    copy_of: Option<u64>,
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

/// One packet's JSON line, drawn on any thread.
struct JsonDraw;

impl Draw for JsonDraw {
    fn draw(&self, out: &mut Vec<u8>, p: &Packet, _cx: super::Context) -> io::Result<()> {
        let d = &p.dissection;
        let mut layers: Vec<JsonLayer> = d
            .layers
            .iter()
            .map(|l| {
                let mut text = String::new();
                explain::layer_explain(&mut text, l);
                JsonLayer {
                    osi: l.osi(),
                    protocol: l.header.protocol(),
                    range: [l.range.0, l.range.1],
                    fields: Fields::Header(&l.header),
                    explain: text,
                    frames: None,
                    from: None,
                    checks: None,
                    decrypted: None,
                }
            })
            .collect();
        let mut notes: Vec<JsonNote> = d
            .notes
            .iter()
            .chain(&p.analysis.notes)
            .map(|n| JsonNote {
                level: n.level,
                text: explain::note(n),
            })
            .collect();
        for a in &p.analysis.app {
            let checks: Vec<JsonNote> = a
                .checks
                .iter()
                .map(|c| JsonNote {
                    level: if c.level() == AppLevel::Warning {
                        Level::Warning
                    } else {
                        Level::Info
                    },
                    text: explain::check(c),
                })
                .collect();
            if let AppMessage::Stopped(_) = a.message {
                notes.extend(checks);
                continue;
            }
            let mut text = String::new();
            explain::app_explain(&mut text, a);
            layers.push(JsonLayer {
                osi: a.message.osi(),
                protocol: a.message.protocol(),
                range: [a.range.0, a.range.1],
                fields: Fields::app(&a.message),
                explain: text,
                frames: Some(&a.frames),
                from: Some(if a.from_client { "client" } else { "server" }),
                checks: (!checks.is_empty()).then_some(checks),
                decrypted: a.decrypted,
            });
        }
        let pkt = JsonPacket {
            kind: "packet",
            number: p.frame.number,
            time: p.frame.time.as_f64(),
            wire_len: p.frame.wire_len,
            captured_len: p.frame.data.len(),
            link: p.frame.link.name(),
            stream: p.analysis.stream,
            layers,
            analysis: &p.analysis.tags,
            notes,
            state: p.analysis.states.map(|[c, s]| JsonStates {
                client: c,
                server: s,
            }),
            copy_of: p.analysis.copy_of.map(|(n, _)| n),
        };
        serde_json::to_writer(&mut *out, &pkt)?;
        out.push(b'\n');
        Ok(())
    }
}
