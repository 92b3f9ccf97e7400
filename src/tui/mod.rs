//! The full-screen view (ratatui + crossterm), shared by `wirewalk browse FILE`
//! (`inspect -i`) and the tour in a terminal: the packet list, the selected packet's
//! layer tree with its explanations (each layer folds), its bytes with the selected
//! layer's highlighted, and the ladder of its conversation with the packet marked.
//!
//! - `walk.rs`: the packets, kept after the pipeline, drawn on demand in any order
//! - `app.rs`: the state and the keys (testable without a terminal)
//! - `draw.rs`: the panes at each terminal size
//! - `text.rs`: the renderers' coloured text as ratatui lines
//! - `live.rs`: the view on a live capture, packets joining as they arrive
//! - `lesson.rs`: a lesson's steps, questions and answer box (the lesson runner on its thread)
//!
//! Keys act at once, without Enter. The terminal is restored on every way out: `q`,
//! Esc, Ctrl-C (raw mode delivers it as a key), an error, or a panic (ratatui's hook).

pub mod app;
mod draw;
pub mod lesson;
pub mod live;
pub mod text;
pub mod walk;

pub use app::{App, Mode, ViewOptions};
pub use draw::draw;
pub use walk::Walk;

use std::io;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

/// Runs the view until the learner quits, then puts the terminal back as it was.
pub fn run(app: &mut App) -> io::Result<()> {
    // The renderers colour their text and the view turns the colours into styles (or
    // drops them, with `--color never`): the highlight of selected bytes stays either way.
    colored::control::set_override(true);
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> io::Result<()> {
        while !app.quit {
            terminal.draw(|f| draw(f, app))?;
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => app.key(k),
                // The next drawing takes the new size.
                Event::Resize(..) => terminal.autoresize()?,
                _ => {}
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests;
