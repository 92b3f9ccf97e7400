//! `wirewalk browse FILE` (and `inspect -i FILE`): the capture in the full-screen view.
//! The pipeline runs over the whole capture once; the screen draws only what it shows.

use super::{inspect, Failure, InspectArgs, Settings};
use crate::tui::{App, Mode, ViewOptions, Walk};

pub fn run(args: &InspectArgs, settings: &Settings) -> Result<(), Failure> {
    if !settings.stdout_tty {
        return Err(Failure::Message(
            2,
            "browse needs a terminal; in a pipe use `wirewalk inspect FILE` (or --summary)".into(),
        ));
    }
    let view = &args.view;
    let mut reader = inspect::open(args)?;
    let mut error = None;
    let frames = reader.by_ref().map_while(|r| match r {
        Ok(f) => Some((f, None)),
        Err(e) => {
            error = Some(e);
            None
        }
    });
    let path = inspect::capture_path(args);
    let title = format!("{}", path.display());
    let mut walk = Walk::new(title, inspect::pipeline(view), frames);
    let mut notes = reader.warnings().to_vec();
    notes.append(&mut walk.warnings);
    if let Some(e) = error {
        notes.push(format!("{} (the packets before it are shown)", e.0));
    }
    if walk.is_empty() {
        let why = notes.first().cloned().unwrap_or_default();
        return Err(Failure::Message(
            1,
            format!("{} has no packets to browse {why}", path.display()),
        ));
    }
    let mut app = App::new(
        walk,
        ViewOptions {
            mode: Mode::Browse,
            color: settings.theme.color,
            big: false,
            brief: view.brief,
            explain_all: view.explain_all,
        },
    );
    let mut filter = view.filter.clone();
    if let Some(s) = view.stream {
        filter = Some(match filter {
            Some(f) => format!("stream {s} and ({f})"),
            None => format!("stream {s}"),
        });
    }
    if let Some(f) = &filter {
        app.set_filter(f)
            .map_err(|e| Failure::Message(2, format!("bad filter: {e}")))?;
    }
    if let Some(n) = view.packet {
        if let Some(v) = app
            .visible
            .iter()
            .position(|&k| app.walk.packets[k].frame.number == n)
        {
            app.go(v);
        }
    }
    app.message = match notes.len() {
        0 => None,
        1 => Some(crate::render::escape(&notes[0]).into_owned()),
        n => Some(format!(
            "{} (and {} more warnings: `wirewalk inspect` lists them)",
            crate::render::escape(&notes[0]),
            n - 1
        )),
    };
    crate::tui::run(&mut app)?;
    Ok(())
}
