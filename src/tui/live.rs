//! The full-screen view on a live source (`capture --tui`, `demo --tui`): packets join
//! the list as they arrive, the selection follows the newest until the learner moves
//! away from it, and every key of `browse` works meanwhile. The source runs on its own
//! thread and sends what it reads here.

use std::io;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use super::{draw, App};
use crate::frame::Frame;

/// What a live source sends the screen.
pub enum Live {
    /// The next packet.
    Frame(Frame),
    /// A line to show in the footer (what the demo narrates, a warning).
    Note(String),
    /// The source has ended; with the reason when it was an error.
    End(Option<String>),
}

/// Most packets taken between two drawings: a flood does not freeze the keys.
const BATCH: usize = 2_000;

/// Shows the live source until the learner quits; the terminal is put back as it was.
/// Returns how many packets arrived and whether the source had ended by itself.
pub fn run(app: &mut App, from: &Receiver<Live>, describe: &str) -> io::Result<(usize, bool)> {
    colored::control::set_override(true);
    let mut terminal = ratatui::try_init()?;
    let mut ended = false;
    let mut note: Option<String> = None;
    let result = (|| -> io::Result<()> {
        while !app.quit {
            let before = app.walk.len();
            for _ in 0..BATCH {
                match from.try_recv() {
                    Ok(Live::Frame(f)) => app.walk.add(f),
                    Ok(Live::Note(n)) => note = Some(crate::render::escape(&n).into_owned()),
                    Ok(Live::End(why)) => {
                        ended = true;
                        app.walk.finish();
                        note = Some(match why {
                            Some(e) => format!("capture stopped: {}", crate::render::escape(&e)),
                            None => format!("{describe} has ended; browse on, q quits"),
                        });
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        if !ended {
                            ended = true;
                            app.walk.finish();
                        }
                        break;
                    }
                }
            }
            if app.walk.len() > before {
                app.grew(before);
            }
            let state = if ended { "" } else { "live · " };
            let packets = app.walk.len();
            app.live = Some(match &note {
                Some(n) => format!("{state}{packets} packets · {n}"),
                None => format!("{state}{describe} · {packets} packets"),
            });
            terminal.draw(|f| draw(f, app))?;
            // Keys at once; new packets at least ten times a second.
            if event::poll(Duration::from_millis(100))? {
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => app.key(k),
                    Event::Resize(..) => terminal.autoresize()?,
                    _ => {}
                }
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result.map(|()| (app.walk.len(), ended))
}
