//! One table from OSI layer to colour, used alike by the layer tree, the hex dump and
//! the ladder diagram, so a learner can follow a layer by its colour everywhere.

use colored::{Color, Colorize};

/// The colour of each OSI layer (index 1–7).
pub fn layer_color(osi: u8) -> Color {
    match osi {
        1 => Color::White,
        2 => Color::Blue,
        3 => Color::Green,
        4 => Color::Yellow,
        5 => Color::Cyan,
        6 => Color::BrightMagenta,
        _ => Color::Magenta,
    }
}

/// Decided once from `--color` and the terminal; printers get only this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn plain() -> Theme {
        Theme { color: false }
    }

    /// `text` in the colour of OSI layer `osi`.
    pub fn layer(&self, osi: u8, text: &str) -> String {
        if self.color {
            text.color(layer_color(osi)).to_string()
        } else {
            text.to_string()
        }
    }

    pub fn layer_bold(&self, osi: u8, text: &str) -> String {
        if self.color {
            text.color(layer_color(osi)).bold().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn dim(&self, text: &str) -> String {
        if self.color {
            text.dimmed().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        if self.color {
            text.bold().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn warn(&self, text: &str) -> String {
        if self.color {
            text.red().bold().to_string()
        } else {
            text.to_string()
        }
    }

    pub fn good(&self, text: &str) -> String {
        if self.color {
            text.green().to_string()
        } else {
            text.to_string()
        }
    }
}
