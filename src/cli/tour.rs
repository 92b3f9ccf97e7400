//! `wirewalk` / `wirewalk tour`: the guided walk-through. One packet at a time, layer by
//! layer, with what is happening in a sentence; Enter goes on, `b` back, `q` quits.
//! When standard input is not a terminal it runs straight through.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Args;

use super::simulate::SimArgs;
use super::{Failure, Settings};
use crate::pipeline::{Packet, Pipeline};
use crate::render::terminal::{TreeOptions, TreeRender};
use crate::render::Render;
use crate::source::pcap::PcapReader;

#[derive(Debug, Args)]
pub struct TourArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Walk through a capture file instead of the simulation.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
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
                seed: 1,
                ipv6: false,
                latency: None,
            },
            pcap: None,
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

pub fn run(args: &TourArgs, settings: &Settings) -> Result<(), Failure> {
    let mut pipeline = Pipeline::new();
    let (title, steps): (String, Vec<Step>) = match &args.pcap {
        Some(path) => {
            let reader = PcapReader::open(path).map_err(|e| Failure::Message(1, e.0))?;
            let mut steps = Vec::new();
            for f in reader {
                let f = f.map_err(|e| Failure::Message(1, e.0))?;
                steps.push(Step {
                    packet: pipeline.process(f),
                    caption: None,
                });
            }
            (format!("the capture {}", path.display()), steps)
        }
        None => {
            let sim = args.sim.run()?;
            let steps = sim
                .into_iter()
                .map(|s| Step {
                    packet: pipeline.process(s.frame),
                    caption: Some(s.caption),
                })
                .collect();
            (
                format!(
                    "the simulated '{}' scenario (seed {})",
                    args.sim.scenario, args.sim.seed
                ),
                steps,
            )
        }
    };
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
    };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
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
        let mut tree = TreeRender::new(opts);
        tree.set_start(steps[0].packet.frame.time);
        tree.packet(&mut out, &step.packet, &pipeline.analyzer)?;
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
