//! From the renderers' coloured text to ratatui lines: the tree, hex and ladder are
//! drawn once, by `render/`, for line mode and this view alike; here their colours
//! become styles, faint text becomes normal weight, and lines are fitted to a pane.

use ansi_to_tui::IntoText;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// How the view looks: the usual colours, or the projector's high contrast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// Colours at all (`--color never` and NO_COLOR turn them off).
    pub color: bool,
    /// Projector mode: bright colours, plain text in white, headings bold.
    pub big: bool,
}

impl Look {
    /// The style of plain text.
    pub fn plain(&self) -> Style {
        if self.big {
            Style::default().fg(Color::White)
        } else {
            Style::default()
        }
    }

    /// A heading: the caption of a tour step, a pane's title.
    pub fn heading(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.big {
            s.fg(Color::White)
        } else {
            s
        }
    }

    /// Restyles a span the renderers coloured: no faint text anywhere (it is hard to
    /// read on a projector, and explanations are what a learner reads), and in
    /// projector mode the dark colours made bright.
    pub fn fix(&self, style: Style) -> Style {
        let mut s = style.remove_modifier(Modifier::DIM);
        if !self.color {
            s.fg = None;
            s.bg = None;
        }
        if self.big {
            s.fg = Some(match s.fg {
                None | Some(Color::Reset) | Some(Color::Gray) | Some(Color::DarkGray) => {
                    Color::White
                }
                Some(Color::Blue) => Color::LightBlue,
                Some(Color::Green) => Color::LightGreen,
                Some(Color::Yellow) => Color::LightYellow,
                Some(Color::Cyan) => Color::LightCyan,
                Some(Color::Magenta) => Color::LightMagenta,
                Some(Color::Red) => Color::LightRed,
                Some(c) => c,
            });
        }
        s
    }

    /// Coloured text (ANSI escapes, as the renderers write it) as lines.
    pub fn lines(&self, text: &[u8]) -> Vec<Line<'static>> {
        // The terminal guard first, as on standard output: colours pass, nothing else.
        let mut safe = Vec::with_capacity(text.len());
        crate::render::escape::sanitize(
            text,
            crate::render::Guard::Text { colour: true },
            false,
            &mut safe,
        );
        let text = &safe[..];
        let parsed = match text.into_text() {
            Ok(t) => t.lines,
            // Not expected (the renderers write only SGR codes); show the text without them.
            Err(_) => String::from_utf8_lossy(text)
                .lines()
                .map(|l| Line::from(l.to_string()))
                .collect(),
        };
        parsed
            .into_iter()
            .map(|l| {
                Line::from(
                    l.spans
                        .into_iter()
                        .map(|s| Span::styled(s.content, self.fix(s.style)))
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    }

    /// One line of coloured text.
    pub fn line(&self, text: &str) -> Line<'static> {
        self.lines(text.as_bytes())
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// The colour of OSI layer `osi`, as the renderers use it (see `render::theme`).
    pub fn layer(&self, osi: u8) -> Style {
        if !self.color {
            return self.plain();
        }
        let c = match crate::render::theme::layer_color(osi) {
            colored::Color::Blue => Color::Blue,
            colored::Color::Green => Color::Green,
            colored::Color::Yellow => Color::Yellow,
            colored::Color::Cyan => Color::Cyan,
            colored::Color::BrightMagenta => Color::LightMagenta,
            colored::Color::Magenta => Color::Magenta,
            _ => Color::White,
        };
        self.fix(Style::default().fg(c))
    }

    pub fn warn(&self) -> Style {
        if self.color {
            self.fix(Style::default().fg(Color::Red).add_modifier(Modifier::BOLD))
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }
}

/// The width of a line in columns (every character the renderers write is one column:
/// capture bytes are escaped before they reach them).
pub fn width(line: &Line) -> usize {
    line.spans.iter().map(|s| s.content.chars().count()).sum()
}

/// Breaks a line into lines of at most `width` columns (a long headline goes on under
/// itself rather than past the pane's edge), at the last space that fits, so that words
/// and numbers stay whole; only a word longer than a line is cut. The lines after the
/// first are indented by `indent` columns when that leaves room.
pub fn fit(line: Line<'static>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    if self::width(&line) <= width {
        return vec![line];
    }
    let indent = if indent * 2 < width { indent } else { 0 };
    let chars: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let room = if out.is_empty() {
            width
        } else {
            width - indent
        };
        let mut end = (start + room).min(chars.len());
        if end < chars.len() && chars[end].0 != ' ' {
            // Back to the last space on the line, if there is one.
            if let Some(sp) = (start + 1..end).rev().find(|&i| chars[i].0 == ' ') {
                end = sp;
            }
        }
        let mut spans: Vec<Span<'static>> = Vec::new();
        if !out.is_empty() && indent > 0 {
            spans.push(Span::raw(" ".repeat(indent)));
        }
        let mut piece = &chars[start..end];
        while piece.len() > 1 && piece[piece.len() - 1].0 == ' ' {
            piece = &piece[..piece.len() - 1];
        }
        let mut i = 0;
        while i < piece.len() {
            let style = piece[i].1;
            let run: String = piece[i..]
                .iter()
                .take_while(|(_, st)| *st == style)
                .map(|(c, _)| *c)
                .collect();
            i += run.chars().count();
            spans.push(Span::styled(run, style));
        }
        out.push(Line::from(spans));
        // Spaces at a break are dropped: the next line starts with the next word.
        start = end;
        while start < chars.len() && chars[start].0 == ' ' {
            start += 1;
        }
    }
    out
}

/// Cuts a line to at most `width` columns, an ellipsis at the end when it was longer.
pub fn cut(line: Line<'static>, width: usize) -> Line<'static> {
    if self::width(&line) <= width {
        return line;
    }
    let mut spans = Vec::new();
    let mut left = width.saturating_sub(1);
    for span in line.spans {
        if left == 0 {
            break;
        }
        let s: String = span.content.chars().take(left).collect();
        left -= s.chars().count();
        spans.push(Span::styled(s, span.style));
    }
    spans.push(Span::raw("…"));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faint_text_becomes_normal_weight_and_colours_stay() {
        let look = Look {
            color: true,
            big: false,
        };
        let lines = look.lines(b"\x1b[2mfaint\x1b[0m \x1b[33mtcp\x1b[0m");
        assert_eq!(lines.len(), 1);
        let spans = &lines[0].spans;
        let faint = spans.iter().find(|s| s.content == "faint").unwrap();
        assert!(!faint.style.add_modifier.contains(Modifier::DIM));
        let tcp = spans.iter().find(|s| s.content == "tcp").unwrap();
        assert_eq!(tcp.style.fg, Some(Color::Yellow));
        let big = Look {
            color: true,
            big: true,
        };
        let lines = big.lines(b"\x1b[34mL2\x1b[0m plain");
        assert_eq!(lines[0].spans[0].style.fg, Some(Color::LightBlue));
        assert_eq!(lines[0].spans.last().unwrap().style.fg, Some(Color::White));
    }

    #[test]
    fn fitting_cuts_at_the_width_and_keeps_every_character() {
        let line = Line::from(vec![Span::raw("abcdef"), Span::raw("ghij")]);
        let lines = fit(line, 4, 0);
        let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(texts, ["abcd", "efgh", "ij"]);
        let lines = fit(Line::from("abcdefghij"), 6, 2);
        let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(texts, ["abcdef", "  ghij"]);
        // At a space when there is one: numbers and words stay whole.
        let lines = fit(Line::from("seq 1 (raw 3276606464)  ack 1"), 16, 2);
        let texts: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(texts, ["seq 1 (raw", "  3276606464)", "  ack 1"]);
        assert_eq!(cut(Line::from("abcdef"), 4).to_string(), "abc…");
        assert_eq!(cut(Line::from("abc"), 4).to_string(), "abc");
    }
}
