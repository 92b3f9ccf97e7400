//! The hex dump: the headers' bytes coloured by the OSI layer they belong to, with a
//! legend (without colour, a row of layer numbers under each line says the same), then
//! the payload field by field: each application message on its own, a WebSocket frame's
//! header apart from its payload with the masking key marked, and the unmasked text
//! beside the masked bytes. Long runs of bytes show their first and last rows and a
//! count, unless every byte is asked for (`--hex-all`).

use std::io::{self, Write};

use super::{terminal::finish_text, Render, Theme};
use crate::analysis::app::AppMessage;
use crate::analysis::websocket::WsFrame;
use crate::analysis::{Analyzer, AppLayer};
use crate::explain::text;
use crate::pipeline::Packet;

/// Sections longer than this many rows are shortened (without `--hex-all`).
const LONG_ROWS: usize = 8;
/// Rows kept at the start of a shortened section (one more is kept at its end).
const HEAD_ROWS: usize = 3;

#[derive(Clone)]
pub struct HexRender {
    theme: Theme,
    /// Every byte, however long the payload.
    all: bool,
    /// One packet's dump, written in one call (reused).
    buf: Vec<u8>,
}

impl HexRender {
    pub fn new(theme: Theme) -> HexRender {
        HexRender::with_all(theme, false)
    }

    /// `all`: show every byte of long payloads too (`--hex-all`).
    pub fn with_all(theme: Theme, all: bool) -> HexRender {
        HexRender {
            theme,
            all,
            buf: Vec::new(),
        }
    }
}

/// A section's title wrapped (at 80 columns, indented 2), through `each` line. Titles
/// repeat from packet to packet (a WebSocket header's differs only by its size and
/// kind): each thread keeps the last few wrapped.
fn title_lines(title: &str, mut each: impl FnMut(&str) -> io::Result<()>) -> io::Result<()> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static WRAPPED: RefCell<HashMap<String, Vec<String>>> = RefCell::new(HashMap::new());
    }
    WRAPPED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(title) {
            if cache.len() >= 64 {
                cache.clear();
            }
            cache.insert(title.to_string(), super::terminal::wrap(title, 80, 2));
        }
        cache[title].iter().try_for_each(|l| each(l))
    })
}

/// The OSI layer of every byte of the frame: the innermost layer whose range holds it;
/// bytes after the transport header count as the payload (layer 7); 0 = trailer/padding.
pub fn byte_layers(p: &Packet) -> Vec<u8> {
    let n = p.frame.data.len();
    let mut v = vec![0u8; n];
    for l in &p.dissection.layers {
        let (s, e) = (l.range.0.min(n), l.range.1.min(n));
        for b in &mut v[s..e] {
            *b = l.osi();
        }
    }
    if let Some((s, e)) = p.dissection.payload {
        for b in &mut v[s.min(n)..e.min(n)] {
            if *b < 7 {
                *b = 7;
            }
        }
    }
    v
}

/// The legend over a dump: one entry per layer present, in order, in its colour.
pub fn legend(p: &Packet, th: Theme) -> String {
    let mut legend = Vec::new();
    for l in &p.dissection.layers {
        legend.push(
            th.layer(l.osi(), &format!("L{} {}", l.osi(), l.header.protocol()))
                .into_owned(),
        );
    }
    if p.dissection.payload.is_some() {
        legend.push(th.layer(7, "L7 payload").into_owned());
    }
    format!("  {}", legend.join("  "))
}

/// The dump's lines, `per_row` bytes a line (16, or 8 in a narrow pane): offset, hex,
/// ASCII, each byte in its layer's colour; the bytes in `marked` (`[start, end)`) in
/// reverse video. Without colour a row of layer numbers under each line says the same.
pub fn rows(p: &Packet, th: Theme, marked: Option<(usize, usize)>, per_row: usize) -> Vec<String> {
    let data = &p.frame.data;
    let layers = byte_layers(p);
    let half = per_row / 2;
    let is_marked = |i: usize| marked.is_some_and(|(s, e)| i >= s && i < e);
    let mut lines = Vec::with_capacity(data.len() / per_row + 1);
    for (row, chunk) in data.chunks(per_row).enumerate() {
        let base = row * per_row;
        let mut hex = String::new();
        let mut ascii = String::new();
        let mut marks = String::new();
        for (i, b) in chunk.iter().enumerate() {
            let osi = layers[base + i];
            let m = is_marked(base + i);
            if i == half && half > 0 {
                hex.push(' ');
                marks.push(' ');
            }
            hex.push_str(&th.layer_marked(osi, &format!("{b:02x}"), m));
            hex.push(' ');
            marks.push_str(&if osi == 0 {
                "  ".to_string()
            } else {
                format!("L{osi}")
            });
            marks.push(' ');
            let c = if b.is_ascii_graphic() || *b == b' ' {
                *b as char
            } else {
                '.'
            };
            ascii.push_str(&th.layer_marked(osi, &c.to_string(), m));
        }
        let pad = per_row - chunk.len();
        let padding = "   ".repeat(pad) + if chunk.len() <= half { " " } else { "" };
        lines.push(format!("  {base:04x}  {hex}{padding} {ascii}"));
        if !th.color {
            lines.push(format!("        {}", marks.trim_end()));
        }
    }
    lines
}

fn printable(b: u8) -> u8 {
    if b.is_ascii_graphic() || b == b' ' {
        b
    } else {
        b'.'
    }
}

/// A row's offset as `{:04x}` writes it: at least four lowercase hex digits.
fn push_offset(out: &mut Vec<u8>, n: usize) {
    let digits = ((usize::BITS - n.leading_zeros()).div_ceil(4) as usize).max(4);
    for k in (0..digits).rev() {
        out.push(HEX_DIGITS[(n >> (4 * k)) & 15]);
    }
}

/// One part of the payload: its bytes `[start, end)` in the frame, a title, and, for a
/// masked WebSocket payload, the bytes unmasked (shown in the text column).
struct Section {
    start: usize,
    end: usize,
    title: String,
    unmasked: Option<Vec<u8>>,
    /// A WebSocket frame header: the byte roles and the sentence under it.
    ws_header: Option<(Vec<&'static str>, String)>,
}

fn ws_header_roles(f: &WsFrame) -> Vec<&'static str> {
    let mut v = vec!["F+", "M+"];
    let ext = match f.length_code() {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    v.extend(std::iter::repeat_n("ln", ext));
    if f.masked {
        v.extend(std::iter::repeat_n("mk", 4));
    }
    v
}

fn ws_header_sentence(f: &WsFrame) -> String {
    let code = f.length_code().to_string();
    let len = crate::explain::anatomy::grouped(f.payload_len);
    let length = text(
        match f.length_code() {
            126 => "anatomy.hex.len16",
            127 => "anatomy.hex.len64",
            _ => "anatomy.hex.len7",
        },
        &[("code", &code), ("len", &len)],
    );
    let key = f.masking_key.as_deref().map(spaced_hex).unwrap_or_default();
    let (fin, rsv, op) = (
        (f.fin as u8).to_string(),
        format!("{:03b}", f.rsv),
        f.opcode.to_string(),
    );
    let mask = text(
        if f.masked {
            "anatomy.hex.masked"
        } else {
            "anatomy.hex.unmasked"
        },
        &[("key", &key)],
    );
    text(
        "anatomy.hex.ws_header",
        &[
            ("fin", &fin),
            ("rsv", &rsv),
            ("opcode", &op),
            ("name", f.opcode_name),
            ("length", &length),
            ("mask", &mask),
        ],
    )
}

/// "0279d01c" → "02 79 d0 1c".
fn spaced_hex(h: &str) -> String {
    h.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn key_bytes(f: &WsFrame) -> Option<[u8; 4]> {
    let h = f.masking_key.as_deref()?;
    let mut k = [0u8; 4];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(k)
}

/// A WebSocket frame's bytes in this frame, split into its header and its payload.
fn ws_sections(f: &WsFrame, a: &AppLayer, out: &mut Vec<Section>, data: &[u8]) {
    let (s, e) = a.range;
    let here = e - s;
    let total = f.header_len as u64 + f.payload_len;
    // Where this frame's bytes begin within the WebSocket frame: its tail, if the frame
    // began in an earlier segment.
    let off = total.saturating_sub(here as u64) as usize;
    let hl = f.header_len as usize;
    let mut payload_start = s;
    let frames = a
        .frames
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if off < hl {
        let h_end = (s + hl - off).min(e);
        let roles = ws_header_roles(f)[off..].to_vec();
        let (len, name) = (f.header_len.to_string(), f.opcode_name);
        out.push(Section {
            start: s,
            end: h_end,
            title: text(
                "anatomy.hex.ws_header_title",
                &[("len", &len), ("name", name)],
            ),
            unmasked: None,
            ws_header: Some((roles, ws_header_sentence(f))),
        });
        payload_start = h_end;
    }
    if payload_start >= e {
        return;
    }
    let done = off.saturating_sub(hl) as u64;
    let unmasked = key_bytes(f).map(|k| {
        data[payload_start..e]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ k[((done + i as u64) % 4) as usize])
            .collect()
    });
    let (len, here_n) = (
        crate::explain::anatomy::grouped(f.payload_len),
        crate::explain::anatomy::grouped((e - payload_start) as u64),
    );
    let key = if unmasked.is_some() {
        "anatomy.hex.ws_payload_masked"
    } else {
        "anatomy.hex.ws_payload"
    };
    let mut title = text(key, &[("len", &len), ("here", &here_n)]);
    if a.frames.len() > 1 {
        title.push(' ');
        title.push_str(&text("anatomy.hex.frames", &[("frames", &frames)]));
    }
    out.push(Section {
        start: payload_start,
        end: e,
        title,
        unmasked,
        ws_header: None,
    });
}

/// The payload `[ps, pe)` of a packet cut into sections: each application message
/// (not the ones carried inside another's bytes), and the bytes between them.
fn sections(p: &Packet, ps: usize, pe: usize) -> Vec<Section> {
    let data = &p.frame.data;
    let mut msgs: Vec<Section> = Vec::new();
    let mut covered = ps;
    let mut apps: Vec<&AppLayer> = p
        .analysis
        .app
        .iter()
        .filter(|a| a.range.0 < a.range.1 && a.range.0 >= ps && a.range.1 <= pe)
        .collect();
    apps.sort_by_key(|a| a.range.0);
    let raw = |s: usize, e: usize| Section {
        start: s,
        end: e,
        title: text(
            "anatomy.hex.payload",
            &[("len", &crate::explain::anatomy::grouped((e - s) as u64))],
        ),
        unmasked: None,
        ws_header: None,
    };
    for a in apps {
        if a.range.0 < covered {
            continue; // carried by the message before (same bytes)
        }
        if a.range.0 > covered {
            msgs.push(raw(covered, a.range.0));
        }
        match &a.message {
            AppMessage::WebSocket(f) => ws_sections(f, a, &mut msgs, data),
            m => {
                let len = crate::explain::anatomy::grouped((a.range.1 - a.range.0) as u64);
                msgs.push(Section {
                    start: a.range.0,
                    end: a.range.1,
                    title: text(
                        "anatomy.hex.message",
                        &[("protocol", m.protocol()), ("len", &len)],
                    ),
                    unmasked: None,
                    ws_header: None,
                });
            }
        }
        covered = a.range.1;
    }
    if covered < pe {
        msgs.push(raw(covered, pe));
    }
    msgs
}

/// A byte's two hex digits, without formatting machinery (every byte of a packet).
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Every byte's two hex digits, in order: byte `b`'s are at `2b`.
const HEX_PAIRS: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/// The printable ASCII characters, from the space: byte `b`'s is at `b - 0x20`.
const PRINTABLE: &str = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

/// The hex cell of `b`.
fn hex_cell(b: u8) -> &'static str {
    let i = 2 * b as usize;
    &HEX_PAIRS[i..i + 2]
}

/// The text column's character for `b`: itself if printable ASCII, else a dot.
fn text_cell(b: u8) -> &'static str {
    match printable(b) {
        b'.' => ".",
        p => &PRINTABLE[(p - 0x20) as usize..(p - 0x1f) as usize],
    }
}

/// The layer marks under the bytes, made once.
const LAYER_MARKS: [&str; 8] = ["L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7"];

impl HexRender {
    /// One row of up to 16 bytes from `start`: offset, hex, text column (and without
    /// colour, or for a WebSocket header, the row of marks under it), bytes pushed
    /// straight into `out`.
    fn dump_row(
        &self,
        out: &mut Vec<u8>,
        data: &[u8],
        start: usize,
        layers: &[u8],
        shown: Option<&[u8]>,
        marks: Option<&[&str]>,
    ) {
        let th = self.theme;
        let mut ascii: Vec<u8> = Vec::with_capacity(if th.color { 256 } else { 16 });
        let mut marks_line: Vec<u8> = Vec::with_capacity(52);
        out.extend_from_slice(b"  ");
        push_offset(out, start);
        out.extend_from_slice(b"  ");
        for (i, b) in data.iter().enumerate() {
            let osi = layers[i];
            if i == 8 {
                out.push(b' ');
                marks_line.push(b' ');
            }
            let cell = hex_cell(*b);
            if th.color {
                let role = marks.and_then(|m| m.get(i).copied());
                let styled = if osi == 0 {
                    th.dim(cell)
                } else if role == Some("mk") {
                    th.warn(cell)
                } else {
                    th.layer(osi, cell)
                };
                out.extend_from_slice(styled.as_bytes());
            } else {
                out.extend_from_slice(cell.as_bytes());
            }
            out.push(b' ');
            let mark = match marks {
                Some(m) => m.get(i).copied().unwrap_or("  "),
                None if osi == 0 => "  ",
                None => LAYER_MARKS.get(osi as usize).copied().unwrap_or("L?"),
            };
            marks_line.extend_from_slice(mark.as_bytes());
            marks_line.push(b' ');
            let c = text_cell(shown.map_or(*b, |s| s[i]));
            if th.color {
                let styled = if osi == 0 {
                    th.dim(c)
                } else {
                    th.layer(osi, c)
                };
                ascii.extend_from_slice(styled.as_bytes());
            } else {
                ascii.extend_from_slice(c.as_bytes());
            }
        }
        for _ in data.len()..16 {
            out.extend_from_slice(b"   ");
        }
        if data.len() <= 8 {
            out.push(b' ');
        }
        out.push(b' ');
        out.extend_from_slice(&ascii);
        out.push(b'\n');
        if !th.color || marks.is_some() {
            while marks_line.last() == Some(&b' ') {
                marks_line.pop();
            }
            out.extend_from_slice(b"        ");
            out.extend_from_slice(&marks_line);
            out.push(b'\n');
        }
    }

    /// Rows over `[s, e)`; a long run shows its first and last rows and a count.
    #[allow(clippy::too_many_arguments)]
    fn dump_rows(
        &self,
        out: &mut Vec<u8>,
        data: &[u8],
        (s, e): (usize, usize),
        layers: &[u8],
        shown: Option<&[u8]>,
        marks: Option<&[&str]>,
        shorten: bool,
    ) -> io::Result<()> {
        let n = (e - s).div_ceil(16);
        let short = shorten && !self.all && n > LONG_ROWS;
        for r in 0..n {
            if short && r == HEAD_ROWS {
                let hidden = n - HEAD_ROWS - 1;
                let bytes = crate::explain::anatomy::grouped(
                    ((s + (n - 1) * 16) - (s + HEAD_ROWS * 16)) as u64,
                );
                let rows = hidden.to_string();
                let line = text(
                    "anatomy.hex.shortened",
                    &[("rows", &rows), ("bytes", &bytes)],
                );
                writeln!(out, "        {}", self.theme.dim(&line))?;
            }
            if short && r >= HEAD_ROWS && r < n - 1 {
                continue;
            }
            let a = s + r * 16;
            let b = (a + 16).min(e);
            self.dump_row(
                out,
                &data[a..b],
                a,
                &layers[a..b],
                shown.map(|x| &x[a - s..b - s]),
                marks.map(|m| &m[(a - s).min(m.len())..(b - s).min(m.len())]),
            );
        }
        Ok(())
    }
}

impl Render for HexRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, _an: &Analyzer) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let drawn = self.dump_packet(&mut buf, p);
        let written = out.write_all(&buf);
        self.buf = buf;
        drawn.and(written)
    }

    fn drawer(&self) -> Option<std::sync::Arc<dyn super::Draw>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        finish_text(
            out,
            an,
            source_warnings,
            self.theme,
            super::terminal::FOOTER_WIDTH,
        )
    }
}

impl super::Draw for HexRender {
    fn draw(&self, out: &mut Vec<u8>, p: &Packet, _cx: super::Context) -> io::Result<()> {
        self.dump_packet(out, p)
    }
}

impl HexRender {
    /// One packet: its summary line, the legend, then its bytes by layer and by field.
    fn dump_packet(&self, out: &mut Vec<u8>, p: &Packet) -> io::Result<()> {
        let th = self.theme;
        let data = &p.frame.data;
        let layers = byte_layers(p);
        let mut line = String::new();
        super::summary::describe(p, &mut line);
        writeln!(
            out,
            "{}",
            th.bold(&format!(
                "Packet {}: {}",
                p.frame.number,
                super::escape(&line)
            ))
        )?;
        writeln!(out, "{}", legend(p, th))?;
        let n = data.len();
        let (ps, pe) = match p.dissection.payload {
            Some((s, e)) if s < e.min(n) => (s, e.min(n)),
            _ => (n, n),
        };
        // The headers, coloured by layer.
        self.dump_rows(out, data, (0, ps), &layers, None, None, false)?;
        for sec in sections(p, ps, pe) {
            title_lines(&sec.title, |l| writeln!(out, "{}", th.layer_bold(7, l)))?;
            match &sec.ws_header {
                Some((roles, sentence)) => {
                    self.dump_rows(
                        out,
                        data,
                        (sec.start, sec.end),
                        &layers,
                        None,
                        Some(roles),
                        false,
                    )?;
                    for l in super::terminal::wrap(sentence, 80, 8) {
                        writeln!(out, "{l}")?;
                    }
                }
                None => self.dump_rows(
                    out,
                    data,
                    (sec.start, sec.end),
                    &layers,
                    sec.unmasked.as_deref(),
                    None,
                    true,
                )?,
            }
        }
        if pe < n {
            // Bytes after the IP packet: Ethernet padding or a trailer.
            self.dump_rows(out, data, (pe, n), &layers, None, None, true)?;
        }
        writeln!(out)
    }
}
