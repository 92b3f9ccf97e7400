//! Output settings decided once: colour (flag, NO_COLOR, terminal), width, and the
//! buffered standard output every command writes to.

use std::io::{self, BufWriter, IsTerminal, Write};

use super::ColorChoice;
use crate::render::Theme;

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub theme: Theme,
    pub width: usize,
    pub stdout_tty: bool,
    pub stdin_tty: bool,
}

impl Settings {
    pub fn resolve(choice: ColorChoice) -> Settings {
        let stdout_tty = io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR")
            .map(|v| !v.is_empty())
            .unwrap_or(false);
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_tty && !no_color,
        };
        colored::control::set_override(color);
        let width = width(stdout_tty);
        Settings {
            theme: Theme { color },
            width,
            stdout_tty,
            stdin_tty: io::stdin().is_terminal(),
        }
    }

    /// Standard output, buffered (one lock for the whole run).
    pub fn stdout(&self) -> Box<dyn Write> {
        Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock()))
    }
}

/// The columns to lay text out in: the terminal's real width when standard output is
/// one, else `$COLUMNS`, else 100 (the same layout in every pipe). Never below 40.
fn width(stdout_tty: bool) -> usize {
    let of =
        |s: Option<(terminal_size::Width, terminal_size::Height)>| s.map(|(w, _)| w.0 as usize);
    let tty = if stdout_tty {
        of(terminal_size::terminal_size_of(io::stdout()))
    } else {
        None
    };
    tty.or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .unwrap_or(100)
        .max(40)
}
