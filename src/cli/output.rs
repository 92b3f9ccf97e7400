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
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .filter(|w: &usize| *w >= 40)
            .unwrap_or(100);
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
