//! One table from OSI layer to colour, used alike by the layer tree, the hex dump and
//! the ladder diagram, so a learner can follow a layer by its colour everywhere.

use std::borrow::Cow;

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
    pub fn layer<'a>(&self, osi: u8, text: &'a str) -> Cow<'a, str> {
        if self.color {
            Cow::Owned(text.color(layer_color(osi)).to_string())
        } else {
            Cow::Borrowed(text)
        }
    }

    pub fn layer_bold<'a>(&self, osi: u8, text: &'a str) -> Cow<'a, str> {
        if self.color {
            Cow::Owned(text.color(layer_color(osi)).bold().to_string())
        } else {
            Cow::Borrowed(text)
        }
    }

    /// `text` in the colour of OSI layer `osi`, in reverse video when `marked` (the
    /// bytes of the part of a packet the learner has selected).
    pub fn layer_marked<'a>(&self, osi: u8, text: &'a str, marked: bool) -> Cow<'a, str> {
        if !marked {
            return if osi == 0 { self.dim(text) } else { self.layer(osi, text) };
        }
        if self.color {
            let c = if osi == 0 { Color::White } else { layer_color(osi) };
            Cow::Owned(text.color(c).reversed().to_string())
        } else {
            Cow::Borrowed(text)
        }
    }

    pub fn dim<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.color {
            Cow::Owned(text.dimmed().to_string())
        } else {
            Cow::Borrowed(text)
        }
    }

    pub fn bold<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.color {
            Cow::Owned(text.bold().to_string())
        } else {
            Cow::Borrowed(text)
        }
    }

    pub fn warn<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.color {
            Cow::Owned(text.red().bold().to_string())
        } else {
            Cow::Borrowed(text)
        }
    }

    pub fn good<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.color {
            Cow::Owned(text.green().to_string())
        } else {
            Cow::Borrowed(text)
        }
    }
}
