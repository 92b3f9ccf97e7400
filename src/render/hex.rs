//! The hex dump: every byte coloured by the OSI layer it belongs to, with a legend.
//! Without colour, a row of layer numbers under each line says the same.

use std::io::{self, Write};

use super::{terminal::finish_text, Render, Theme};
use crate::analysis::Analyzer;
use crate::pipeline::Packet;

pub struct HexRender {
    theme: Theme,
}

impl HexRender {
    pub fn new(theme: Theme) -> HexRender {
        HexRender { theme }
    }
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

impl Render for HexRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, _an: &Analyzer) -> io::Result<()> {
        let th = self.theme;
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
        for line in rows(p, th, None, 16) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        finish_text(out, an, source_warnings, self.theme)
    }
}
