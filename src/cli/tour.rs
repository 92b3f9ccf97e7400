//! `wirewalk` / `wirewalk tour`: the guided walk-through. One packet at a time, layer by
//! layer, with what is happening in a sentence, and the ladder diagram of the
//! conversation growing as it goes; Enter goes on, `b` back, `q` quits. When standard
//! input is not a terminal it runs straight through.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Args;

use super::simulate::SimArgs;
use super::{Failure, Settings};
use crate::frame::Frame;
use crate::pipeline::{Packet, Pipeline};
use crate::render::diagram::{conversation_heading, Row};
use crate::render::terminal::{TreeOptions, TreeRender};
use crate::render::Render;
use crate::source::pcap::PcapReader;

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
        }
    }
}

/// One step of the tour: a packet and the sentence that says what happens in it.
struct Step {
    packet: Packet,
    caption: Option<String>,
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
    let mut pipeline = Pipeline::new();
    let (title, frames) = frames(args)?;
    let steps: Vec<Step> = frames
        .into_iter()
        .map(|(f, caption)| Step {
            packet: pipeline.process(f),
            caption,
        })
        .collect();
    let pause = settings.stdin_tty && !args.no_pause;
    let mut out = settings.stdout();
    let th = settings.theme;
    writeln!(
        out,
        "{}",
        th.bold(&format!(
            "wirewalk tour: {} packets of {title}, from the wire up.",
            steps.len()
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
    let rows: Vec<Row> = steps.iter().map(|s| Row::of(&s.packet)).collect();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut tree = TreeRender::new(opts);
    if let Some(first) = steps.first() {
        tree.set_start(first.packet.frame.time);
    }
    let mut i = 0usize;
    while i < steps.len() {
        let step = &steps[i];
        if let Some(c) = &step.caption {
            writeln!(
                out,
                "{}",
                th.bold(&format!("▶ {}", crate::render::escape(c)))
            )?;
        }
        tree.packet(&mut out, &step.packet, &pipeline.analyzer)?;
        ladder(&mut out, &steps, &rows, i, pause, &pipeline, settings)?;
        out.flush()?;
        if pause {
            write!(
                out,
                "{}",
                th.dim(&format!("[{}/{}] Enter / b / q › ", i + 1, steps.len()))
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
    crate::render::terminal::finish_text(&mut out, &pipeline.analyzer, &[], th)?;
    out.flush()?;
    Ok(())
}

/// The ladder of the current packet's conversation so far: all of it when the tour
/// pauses (it grows under the learner's eyes), only the new row when it runs through.
fn ladder(
    out: &mut dyn Write,
    steps: &[Step],
    rows: &[Row],
    i: usize,
    whole: bool,
    pipeline: &Pipeline,
    settings: &Settings,
) -> std::io::Result<()> {
    let th = settings.theme;
    let p = &steps[i].packet;
    let key = (p.analysis.transport, p.analysis.stream);
    if key.1.is_none() {
        return Ok(());
    }
    let mine: Vec<usize> = (0..=i)
        .filter(|&k| {
            (
                steps[k].packet.analysis.transport,
                steps[k].packet.analysis.stream,
            ) == key
        })
        .collect();
    if whole || mine.len() == 1 {
        if let (Some(tr), Some(s)) = key {
            if let Some(c) = pipeline.analyzer.conversation(tr, s) {
                writeln!(out, "{}", conversation_heading(c, th))?;
            }
        }
    }
    let shown: &[usize] = if whole {
        &mine
    } else {
        &mine[mine.len() - 1..]
    };
    for &k in shown {
        writeln!(out, "{}", rows[k].draw(th))?;
    }
    writeln!(out)
}
