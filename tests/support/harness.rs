//! The fuzz harnesses, shared by `fuzz/fuzz_targets/*.rs` (through `#[path]`) and by
//! `tests/fuzz_regressions.rs`, which replays every crash the fuzzers found. Each
//! function panics when an input breaks a promise: no panic, no hang, ranges inside the
//! data, one-line errors, and text output safe for a terminal.
#![allow(dead_code)]

use wirewalk::analysis::app::{AppEvent, AppLimits, AppMessage, AppStream, Dir};
use wirewalk::dissect::dissect as dissect_frame;
use wirewalk::explain;
use wirewalk::frame::{Frame, Link, Timestamp};
use wirewalk::pipeline::{Packet, Pipeline};
use wirewalk::render::hex::HexRender;
use wirewalk::render::json::JsonRender;
use wirewalk::render::summary::SummaryRender;
use wirewalk::render::terminal::{TreeOptions, TreeRender};
use wirewalk::render::{Render, Theme};
use wirewalk::source::pcap::PcapReader;

/// The capture reader on arbitrary bytes: every input ends (frames, then `None` or one
/// error) without a panic, a hang, or a buffer beyond the reader's cap.
pub fn capture_reader(data: &[u8]) {
    let Ok(reader) = PcapReader::from_reader(std::io::Cursor::new(data.to_vec()), "fuzz") else {
        return;
    };
    let mut last = 0;
    for item in reader {
        match item {
            Ok(frame) => {
                // Frames are numbered 1, 2, 3… and never hold more than the input.
                assert_eq!(frame.number, last + 1);
                last = frame.number;
                assert!(frame.data.len() <= data.len());
            }
            Err(e) => {
                assert!(!e.0.contains('\n'), "error messages are one line: {e}");
                break;
            }
        }
    }
}

/// The link types the first byte of a `dissect` input selects (low 4 bits).
pub const LINKS: [u32; 9] = [1, 113, 276, 0, 108, 101, 239, 228, 147];

/// One-frame dissection for each link type: never panics, every layer's byte range lies
/// inside the frame, and the explanations and JSON of every layer and note can be made.
/// Input: a selector byte (bits 0–3 the link type, bit 4 "cut by the snap length"),
/// then the frame.
pub fn dissect(input: &[u8]) {
    let Some((&sel, data)) = input.split_first() else {
        return;
    };
    let link = Link::from_linktype(LINKS[(sel & 0x0f) as usize % LINKS.len()]);
    let wire_len = if sel & 0x10 != 0 {
        data.len() as u32 + 1000
    } else {
        data.len() as u32
    };
    let frame = Frame {
        number: 1,
        time: Timestamp::default(),
        link,
        data: data.to_vec(),
        wire_len,
    };
    let d = dissect_frame(&frame);
    for l in &d.layers {
        assert!(
            l.range.0 <= l.range.1,
            "range {:?} of {}",
            l.range,
            l.header.protocol()
        );
        assert!(
            l.range.1 <= data.len(),
            "range {:?} of {} beyond {} bytes",
            l.range,
            l.header.protocol(),
            data.len()
        );
        let mut text = String::new();
        explain::layer_explain(&mut text, l);
        let _ = explain::layer_headline(l);
        let _ = explain::layer_details(l);
        serde_json::to_string(&l.header).expect("a layer serializes");
    }
    for n in &d.notes {
        let _ = explain::note(n);
    }
    if let Some((s, e)) = d.payload {
        assert!(
            s <= e && e <= data.len(),
            "payload {s}..{e} beyond {} bytes",
            data.len()
        );
    }
    let _ = d.payload_bytes(&frame);
}

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
const DEFLATE: &[u8] = b"Sec-WebSocket-Extensions: permessage-deflate\r\n";

fn check_events(events: &[AppEvent], pos: &[u64; 2]) {
    for e in events {
        let (s, t) = e.stream_range;
        assert!(s <= t, "range {s}..{t}");
        let d = if e.dir == Dir::ClientToServer { 0 } else { 1 };
        assert!(
            t <= pos[d],
            "event ends at {t}, past the {} bytes of its direction",
            pos[d]
        );
        serde_json::to_string(&e.message).expect("a message serializes");
        for c in &e.checks {
            let _ = (c.code(), c.level(), c.params());
        }
        if let AppMessage::WebSocket(f) = &e.message {
            assert!(f.header_len >= 2 && f.header_len <= 14);
        }
    }
}

/// AppStream (HTTP, the WebSocket upgrade, WebSocket frames, permessage-deflate) on
/// arbitrary byte streams in both directions, split, with gaps and ends anywhere.
///
/// Input: one byte of settings, then operations. Settings bit 0 starts the streams with
/// a valid upgrade (so that the fuzzer reaches WebSocket frames at once), bit 1 asks for
/// permessage-deflate in it, bit 2 makes the message limit tiny. Each operation is one
/// byte (low 2 bits: push, push, gap, end; bit 2: direction) and, for a push, a length
/// byte and that many bytes; for a gap, a length byte (bit 3: in KiB).
pub fn app_stream(input: &[u8]) {
    let Some((&settings, ops)) = input.split_first() else {
        return;
    };
    let limits = if settings & 4 != 0 {
        AppLimits { max_message: 64 }
    } else {
        AppLimits::default()
    };
    let mut app = AppStream::new(limits);
    let mut pos = [0u64; 2];
    let idx = |dir: Dir| if dir == Dir::ClientToServer { 0 } else { 1 };
    let push = |app: &mut AppStream, pos: &mut [u64; 2], dir: Dir, bytes: &[u8]| {
        pos[idx(dir)] += bytes.len() as u64;
        let ev = app.push(dir, bytes);
        check_events(&ev, pos);
    };
    if settings & 1 != 0 {
        let deflate: &[u8] = if settings & 2 != 0 { DEFLATE } else { b"" };
        push(
            &mut app,
            &mut pos,
            Dir::ClientToServer,
            &[REQUEST, deflate, b"\r\n"].concat(),
        );
        push(
            &mut app,
            &mut pos,
            Dir::ServerToClient,
            &[RESPONSE, deflate, b"\r\n"].concat(),
        );
    }
    for (op, at) in parse_ops(ops, pos) {
        let ev = match op {
            Op::Push(dir, bytes) => app.push(dir, bytes),
            Op::Gap(dir, missing) => app.gap(dir, missing),
            Op::End(dir) => app.end(dir),
        };
        pos = at;
        check_events(&ev, &pos);
    }
    for dir in [Dir::ClientToServer, Dir::ServerToClient] {
        let ev = app.end(dir);
        check_events(&ev, &pos);
    }
}

/// One step of a fuzzed connection.
enum Op<'a> {
    Push(Dir, &'a [u8]),
    Gap(Dir, u64),
    End(Dir),
}

/// The operations of a fuzz input: each one byte (low 2 bits: push, push, gap, end;
/// bit 2: direction) and, for a push, a length byte and that many bytes; for a gap, a
/// length byte (bit 3: in KiB). With each, both directions' positions after it.
fn parse_ops(mut ops: &[u8], mut pos: [u64; 2]) -> Vec<(Op<'_>, [u64; 2])> {
    let mut out = Vec::new();
    let idx = |dir: Dir| if dir == Dir::ClientToServer { 0 } else { 1 };
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        let dir = if op & 4 == 0 {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        };
        match op & 3 {
            0 | 1 => {
                let Some((&n, rest)) = ops.split_first() else {
                    break;
                };
                let n = (n as usize).min(rest.len());
                pos[idx(dir)] += n as u64;
                out.push((Op::Push(dir, &rest[..n]), pos));
                ops = &rest[n..];
            }
            2 => {
                let Some((&n, rest)) = ops.split_first() else {
                    break;
                };
                ops = rest;
                let missing = if op & 8 != 0 {
                    n as u64 * 1024
                } else {
                    n as u64
                };
                pos[idx(dir)] += missing;
                out.push((Op::Gap(dir, missing), pos));
            }
            _ => out.push((Op::End(dir), pos)),
        }
    }
    out
}

/// A connection's application layer as the analysis runs it — the protocol chosen by
/// the first bytes (TLS, HTTP, …) — on arbitrary operations (as for `app_stream`). The
/// first input byte's bit 0 gives it the key log of the `tls13-python-wss` fixture, so
/// inputs seeded from that capture reach decryption.
pub fn protocol_stream(input: &[u8]) {
    use wirewalk::analysis::protocols::{tls::KeyLog, Context, Detector};
    let Some((&settings, ops)) = input.split_first() else {
        return;
    };
    let mut cx = Context::default();
    if settings & 1 != 0 {
        let mut log = KeyLog::default();
        log.add_text(include_str!("../fixtures/tls13-python-wss.keys"));
        cx.keys = Some(std::sync::Arc::new(std::sync::Mutex::new(log)));
    }
    if settings & 4 != 0 {
        cx.limits = AppLimits { max_message: 64 };
    }
    let mut d = Detector::new(cx);
    let mut ops = parse_ops(ops, [0, 0]);
    let last = ops.last().map(|o| o.1).unwrap_or_default();
    ops.push((Op::End(Dir::ClientToServer), last));
    ops.push((Op::End(Dir::ServerToClient), last));
    for (op, pos) in ops {
        let ev = match op {
            Op::Push(dir, bytes) => d.push(dir, bytes),
            Op::Gap(dir, missing) => d.gap(dir, missing),
            Op::End(dir) => d.end(dir),
        };
        let ev: Vec<AppEvent> = ev.into_iter().map(|e| e.event).collect();
        check_events(&ev, &pos);
        for e in &ev {
            if let AppMessage::Tls(r) = &e.message {
                let mut text = String::new();
                explain::app_explain(
                    &mut text,
                    &wirewalk::analysis::AppLayer {
                        message: AppMessage::Tls(r.clone()),
                        checks: e.checks.clone(),
                        frames: Vec::new(),
                        range: (0, 0),
                        from_client: true,
                        push: wirewalk::analysis::stream::Unasked::No,
                        decrypted: r.decrypted,
                    },
                );
                assert!(!text.is_empty());
            }
        }
    }
}

/// A character that must never reach a terminal raw: controls (but the newline), the
/// bidi controls, zero-width characters, U+2028/2029 and the tag characters.
pub fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c,
            '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{e0000}'..='\u{e007f}')
}

/// Every renderer over the packets of `data` (a capture), colour off: (name, output).
pub fn render_all(
    data: &[u8],
    max_packets: usize,
    source_warnings: &[String],
) -> Vec<(&'static str, String)> {
    let Ok(reader) = PcapReader::from_reader(std::io::Cursor::new(data.to_vec()), "fuzz") else {
        return Vec::new();
    };
    let mut pipeline = Pipeline::new();
    let packets: Vec<Packet> = reader
        .take(max_packets)
        .map_while(Result::ok)
        .map(|f| pipeline.process(f))
        .collect();
    let theme = Theme::plain();
    let mut renders: Vec<(&'static str, Box<dyn Render>)> = vec![
        (
            "tree",
            Box::new(TreeRender::new(TreeOptions {
                theme,
                width: 80,
                explain: true,
                repeat: true,
            })),
        ),
        (
            "brief",
            Box::new(TreeRender::new(TreeOptions {
                theme,
                width: 40,
                explain: false,
                repeat: false,
            })),
        ),
        ("summary", Box::new(SummaryRender::new(theme))),
        (
            "diagram",
            Box::new(wirewalk::render::diagram::DiagramRender::new(theme)),
        ),
        ("hex", Box::new(HexRender::new(theme))),
        (
            "fields",
            Box::new(wirewalk::render::fields::FieldsRender::new(theme)),
        ),
        ("json", Box::new(JsonRender::new())),
    ];
    let mut outputs = Vec::new();
    for (name, r) in renders.iter_mut() {
        let mut out = Vec::new();
        for p in &packets {
            r.packet(&mut out, p, &pipeline.analyzer)
                .expect("writing to a Vec");
        }
        r.finish(&mut out, &pipeline.analyzer, source_warnings)
            .expect("writing to a Vec");
        outputs.push((*name, String::from_utf8(out).expect("output is UTF-8")));
    }
    outputs
}

/// Rendering (tree, summary, hex, JSON) of whatever the pipeline makes of a capture.
/// Besides not panicking, the text outputs (colour off) must carry no ESC, no other
/// control character but the newline, and no bidi override; every JSON line must parse.
pub fn render(data: &[u8]) {
    let warnings = vec!["a \u{1b}[2J warning \u{202e}".to_string()];
    for (name, text) in render_all(data, 64, &warnings) {
        if name == "json" {
            for line in text.lines() {
                serde_json::from_str::<serde_json::Value>(line).expect("each JSON line parses");
            }
        } else if let Some(c) = text.chars().find(|&c| unsafe_char(c)) {
            panic!("{name} output carries U+{:04X}:\n{text}", c as u32);
        }
    }
}
