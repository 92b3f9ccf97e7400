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

impl Render for HexRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, _an: &Analyzer) -> io::Result<()> {
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
        // Legend: one entry per layer present, in order.
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
        writeln!(out, "  {}", legend.join("  "))?;
        for (row, chunk) in data.chunks(16).enumerate() {
            let base = row * 16;
            let mut hex = String::new();
            let mut ascii = String::new();
            let mut marks = String::new();
            for (i, b) in chunk.iter().enumerate() {
                let osi = layers[base + i];
                if i == 8 {
                    hex.push(' ');
                    marks.push(' ');
                }
                let cell = format!("{b:02x}");
                hex.push_str(&if osi == 0 {
                    th.dim(&cell)
                } else {
                    th.layer(osi, &cell)
                });
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
                ascii.push_str(&if osi == 0 {
                    th.dim(&c.to_string()).into_owned()
                } else {
                    th.layer(osi, &c.to_string()).into_owned()
                });
            }
            let pad = 16 - chunk.len();
            let padding = "   ".repeat(pad) + if chunk.len() <= 8 { " " } else { "" };
            writeln!(out, "  {base:04x}  {hex}{padding} {ascii}")?;
            if !th.color {
                writeln!(out, "        {}", marks.trim_end())?;
            }
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
