//! `wirewalk` / `wirewalk tour`: the guided walk-through. One packet at a time, layer by
//! layer, with what is happening in a sentence, and the ladder diagram of the
//! conversation growing as it goes.
//!
//! In a terminal it runs full screen (`crate::tui`): keys without Enter, one packet a
//! screen, the ladder beside it; `--big` for a projector. With `--no-tui`, or when
//! standard output is not a terminal, it prints line by line, laid out to the terminal's
//! width: Enter goes on, `b` back, `q` quits, and when standard input is not a terminal
//! it runs straight through.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Args;

use super::simulate::SimArgs;
use super::{Failure, Settings};
use crate::frame::Frame;
use crate::pipeline::Pipeline;
use crate::render::diagram::{conversation_heading, Row};
use crate::render::terminal::{TreeOptions, TreeRender};
use crate::render::{Render, Theme};
use crate::source::pcap::PcapReader;
use crate::tui::{App, Mode, ViewOptions, Walk};

#[derive(Debug, Args)]
pub struct TourArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Walk through a capture file instead of the simulation.
    #[arg(long, value_name = "FILE", conflicts_with = "live")]
    pub pcap: Option<PathBuf>,
    /// Walk through real traffic: a WebSocket server and client on loopback, captured
    /// live (needs the capture privilege, like `wirewalk demo`).
    #[arg(long)]
    pub live: bool,
    /// Never pause (the default when standard input is not a terminal).
    #[arg(long)]
    pub no_pause: bool,
    /// Values only, without the plain-language explanations.
    #[arg(long)]
    pub brief: bool,
    /// Line by line, even in a terminal (no full-screen view).
    #[arg(long)]
    pub no_tui: bool,
    /// Projector mode: high contrast, no faint text, bright colours.
    #[arg(long)]
    pub big: bool,
}

impl Default for TourArgs {
    fn default() -> Self {
        TourArgs {
            sim: SimArgs {
                scenario: "websocket".into(),
                list: false,
                seed: 1,
                ipv6: false,
                latency: None,
            },
            pcap: None,
            live: false,
            no_pause: false,
            brief: false,
            no_tui: false,
            big: false,
        }
    }
}

/// The frames to walk through, with the simulator's captions when there are any.
fn frames(args: &TourArgs) -> Result<(String, Vec<(Frame, Option<String>)>), Failure> {
    if let Some(path) = &args.pcap {
        let reader = PcapReader::open(path).map_err(|e| Failure::Message(1, e.0))?;
        let frames = reader
            .map(|f| f.map(|f| (f, None)).map_err(|e| Failure::Message(1, e.0)))
            .collect::<Result<_, _>>()?;
        return Ok((format!("the capture {}", path.display()), frames));
    }
    if args.live {
        let frames = super::demo::capture_websocket_demo()?;
        return Ok((
            "a real WebSocket session on loopback, captured just now".into(),
            frames.into_iter().map(|f| (f, None)).collect(),
        ));
    }
    let sim = args.sim.run()?;
    let title = format!(
        "the simulated '{}' scenario (seed {})",
        args.sim.scenario, args.sim.seed
    );
    Ok((
        title,
        sim.into_iter()
            .map(|s| (s.frame, Some(s.caption)))
            .collect(),
    ))
}

pub fn run(args: &TourArgs, settings: &Settings) -> Result<(), Failure> {
    if args.sim.list {
        return super::simulate::list(settings);
    }
    let (title, frames) = frames(args)?;
    let walk = Walk::new(title, Pipeline::new(), frames);
    let pause = settings.stdin_tty && !args.no_pause;
    if pause && settings.stdout_tty && !args.no_tui {
        let mut app = App::new(
            walk,
            ViewOptions {
                mode: Mode::Tour,
                color: settings.theme.color,
                big: args.big,
                brief: args.brief,
                explain_all: false,
            },
        );
        app.intro = Some(crate::explain::text("layers.tour.intro", &[]));
        crate::tui::run(&mut app)?;
        return Ok(());
    }
    lines(&walk, args, pause, settings)
}

/// The tour line by line: each packet's tree, then its conversation's ladder.
fn lines(walk: &Walk, args: &TourArgs, pause: bool, settings: &Settings) -> Result<(), Failure> {
    let mut out = settings.stdout();
    let th = settings.theme;
    writeln!(
        out,
        "{}",
        th.bold(&format!(
            "wirewalk tour: {} packets of {}, from the wire up.",
            walk.len(),
            walk.title
        ))
    )?;
    for line in crate::render::terminal::wrap(
        &crate::explain::text("layers.tour.intro", &[]),
        settings.width,
        0,
    ) {
        writeln!(out, "{line}")?;
    }
    if pause {
        writeln!(out, "{}", th.dim("Enter: next packet · b: back · q: quit"))?;
    }
    writeln!(out)?;
    out.flush()?;

    let opts = TreeOptions {
        theme: th,
        width: settings.width,
        explain: !args.brief,
        repeat: false,
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    // Straight through, one tree in order; with pauses each packet is drawn on its own
    // (as it was when going forward: going back shows the same text).
    let mut tree = TreeRender::new(opts);
    tree.set_start(walk.start());
    let mut i = 0usize;
    while i < walk.len() {
        if let Some(c) = &walk.captions[i] {
            writeln!(
                out,
                "{}",
                th.bold(&format!("▶ {}", crate::render::escape(c)))
            )?;
        }
        if pause {
            out.write_all(&walk.tree(i, opts).text)?;
        } else {
            tree.packet(&mut out, &walk.packets[i], &walk.analyzer)?;
        }
        ladder(&mut out, walk, i, pause, th)?;
        out.flush()?;
        if pause {
            write!(
                out,
                "{}",
                th.dim(&format!("[{}/{}] Enter / b / q › ", i + 1, walk.len()))
            )?;
            out.flush()?;
            let mut line = String::new();
            if input.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            match line.trim() {
                "q" | "Q" => break,
                "b" | "B" => {
                    i = i.saturating_sub(1);
                    continue;
                }
                _ => {}
            }
        }
        i += 1;
    }
    crate::render::terminal::finish_text(&mut out, &walk.analyzer, &[], th, settings.width)?;
    out.flush()?;
    Ok(())
}

/// The ladder of the current packet's conversation so far: all of it when the tour
/// pauses (it grows under the learner's eyes), only the new row when it runs through.
fn ladder(
    out: &mut dyn Write,
    walk: &Walk,
    i: usize,
    whole: bool,
    th: Theme,
) -> std::io::Result<()> {
    let Some((list, place)) = walk.conversation(i) else {
        return Ok(());
    };
    let p = &walk.packets[i];
    if whole || place == 0 {
        if let (Some(tr), Some(s)) = (p.analysis.transport, p.analysis.stream) {
            if let Some(c) = walk.analyzer.conversation(tr, s) {
                writeln!(out, "{}", conversation_heading(c, th))?;
            }
        }
    }
    let shown = if whole {
        &list[..=place]
    } else {
        &list[place..=place]
    };
    for &k in shown {
        writeln!(out, "{}", Row::of(&walk.packets[k]).draw(th))?;
    }
    writeln!(out)
}
