//! `inspect --fields`: each header drawn as an RFC draws it, in rows of 32 bits, with
//! this packet's values in the boxes and one line under each row for every box that
//! starts there: what the value means and its arithmetic. Fits 80 columns.

use std::io::{self, Write};

use super::{terminal::finish_text, terminal::wrap, Render, Theme};
use crate::analysis::Analyzer;
use crate::explain::anatomy::{diagrams, Diagram, Field};
use crate::pipeline::Packet;

/// Every line written fits in this many columns.
pub const WIDTH: usize = 80;
const INDENT: &str = "  ";

pub struct FieldsRender {
    theme: Theme,
    /// Each footnote is said once, where first seen.
    said: Vec<String>,
}

impl FieldsRender {
    pub fn new(theme: Theme) -> FieldsRender {
        FieldsRender {
            theme,
            said: Vec::new(),
        }
    }
}

/// The text written in a box `width` columns wide: name and value when they fit, else
/// the value, else the value cut with an ellipsis.
fn box_text(f: &Field, width: usize) -> String {
    let full = format!("{} {}", f.label, f.value).trim_end().to_string();
    if full.chars().count() <= width {
        return full;
    }
    if f.value.chars().count() <= width {
        return f.value.clone();
    }
    let keep = width.saturating_sub(1);
    let mut s: String = f.value.chars().take(keep).collect();
    if width > 1 {
        s.push('…');
    }
    s
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Which field owns each bit of row `row` (`None` past the header's end).
fn owners(starts: &[u32], fields: &[Field], total: u32, row: u32) -> Vec<Option<usize>> {
    (0..32)
        .map(|i| {
            let bit = row * 32 + i;
            if bit >= total {
                return None;
            }
            // The last field starting at or before the bit.
            let k = starts.partition_point(|&s| s <= bit) - 1;
            (bit < starts[k] + fields[k].bits).then_some(k)
        })
        .collect()
}

/// The border line between two rows (either may be absent): `+-+-` where a box edge
/// runs, blank where one field continues from the row above into the row below.
fn border(above: &[Option<usize>], below: &[Option<usize>]) -> String {
    let w = (0..32)
        .rev()
        .find(|&i| above[i].is_some() || below[i].is_some())
        .map_or(0, |i| i + 1);
    let cont = |i: usize| above[i].is_some() && above[i] == below[i];
    let mut s = String::with_capacity(2 * w + 1);
    for i in 0..=w {
        let open = i > 0 && i < w && cont(i - 1) && cont(i) && above[i - 1] == above[i];
        s.push(if open { ' ' } else { '+' });
        if i < w {
            s.push(if cont(i) { ' ' } else { '-' });
        }
    }
    s
}

/// Draws one diagram into lines (colour applied to the box text only).
pub fn draw(d: &Diagram, th: Theme) -> Vec<String> {
    let mut lines: Vec<String> = wrap(&d.title, WIDTH, 0)
        .iter()
        .map(|l| th.layer_bold(d.osi, l).into_owned())
        .collect();
    if d.fields.is_empty() {
        return lines;
    }
    let mut starts = Vec::with_capacity(d.fields.len());
    let mut total = 0u32;
    for f in &d.fields {
        starts.push(total);
        total += f.bits;
    }
    // Each field's label goes in its widest segment (the first, of equals).
    let mut label_row: Vec<(u32, u32)> = vec![(u32::MAX, 0); d.fields.len()];
    let rows = total.div_ceil(32);
    for r in 0..rows {
        let o = owners(&starts, &d.fields, total, r);
        for k in 0..d.fields.len() {
            let n = o.iter().filter(|x| **x == Some(k)).count() as u32;
            if n > label_row[k].1 {
                label_row[k] = (r, n);
            }
        }
    }
    lines.push(format!(
        "{INDENT} 0                   1                   2                   3"
    ));
    lines.push(format!(
        "{INDENT} 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1"
    ));
    let none = vec![None; 32];
    let mut above = none.clone();
    for r in 0..rows {
        let o = owners(&starts, &d.fields, total, r);
        lines.push(format!("{INDENT}{}", border(&above, &o)));
        let mut row = String::from("|");
        let mut i = 0;
        while i < 32 {
            let Some(k) = o[i] else { break };
            let end = (i..32).find(|&j| o[j] != Some(k)).unwrap_or(32);
            let width = 2 * (end - i) - 1;
            let text = if label_row[k].0 == r {
                box_text(&d.fields[k], width)
            } else {
                String::new()
            };
            let n = text.chars().count();
            let left = (width - n) / 2;
            row.push_str(&" ".repeat(left));
            row.push_str(&th.layer(d.osi, &text));
            row.push_str(&" ".repeat(width - n - left));
            row.push('|');
            i = end;
        }
        lines.push(format!("{INDENT}{row}"));
        above = o;
        for (k, f) in d.fields.iter().enumerate() {
            if label_row[k].0 == r {
                let line = capitalized(&f.meaning);
                lines.extend(
                    wrap(&line, WIDTH - 2, 4)
                        .into_iter()
                        .enumerate()
                        .map(|(n, l)| if n == 0 { l } else { format!("  {l}") }),
                );
            }
        }
    }
    lines.push(format!("{INDENT}{}", border(&above, &none)));
    if let Some(note) = &d.footnote {
        lines.extend(wrap(note, WIDTH, 4));
    }
    lines
}

impl Render for FieldsRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, _an: &Analyzer) -> io::Result<()> {
        let th = self.theme;
        let mut line = String::new();
        super::summary::describe(p, &mut line);
        let head = format!("Packet {}: {}", p.frame.number, super::escape(&line));
        for l in wrap(&head, WIDTH, 0) {
            writeln!(out, "{}", th.bold(&l))?;
        }
        for mut d in diagrams(&p.frame, &p.dissection, &p.analysis.app) {
            if let Some(n) = d.footnote.take() {
                if !self.said.contains(&n) {
                    self.said.push(n.clone());
                    d.footnote = Some(n);
                }
            }
            writeln!(out)?;
            for l in draw(&d, th) {
                writeln!(out, "{l}")?;
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
        // The totals and warnings, kept within the same 80 columns.
        finish_text(out, an, source_warnings, self.theme, WIDTH)
    }
}
