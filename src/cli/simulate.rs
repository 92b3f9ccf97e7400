//! `wirewalk simulate SCENARIO`: packets built in memory by the simulator, run through
//! the same pipeline as a capture; `-w FILE` writes them as pcap or pcapng.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::inspect::{self, Frames, Reading};
use super::output::{is_stdout, CaptureOut};
use super::{Failure, Settings, ViewArgs};
use crate::source::simulate::{builtin_scenarios, simulate, SimOptions, SimPacket};
use crate::source::SourceError;

#[derive(Debug, Args, Clone)]
pub struct SimArgs {
    /// A built-in scenario (handshake, websocket, socketio, teardown, reset, udp, lossy,
    /// rejected, lost-syn) or the path of a scenario file (.toml); --list shows them.
    #[arg(default_value = "websocket")]
    pub scenario: String,
    /// List the built-in scenarios.
    #[arg(long)]
    pub list: bool,
    /// The same seed gives the same bytes; another seed, other numbers.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// IPv6 instead of IPv4.
    #[arg(long)]
    pub ipv6: bool,
    /// One-way latency in microseconds (a LAN is a few hundred).
    #[arg(long, value_name = "US", value_parser = clap::value_parser!(u64).range(0..=MAX_LATENCY_US))]
    pub latency: Option<u64>,
}

/// The longest one-way latency simulated: 10 s (a geostationary hop is 0.25 s); beyond
/// that the simulated clock would overflow.
const MAX_LATENCY_US: u64 = 10_000_000;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Write the packets to FILE (.pcapng for pcapng, anything else pcap), for Wireshark;
    /// `-w -` writes pcap to standard output instead of the text.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    #[command(flatten)]
    pub view: ViewArgs,
}

impl SimArgs {
    pub fn options(&self) -> SimOptions {
        let mut o = SimOptions {
            seed: self.seed,
            ipv6: self.ipv6,
            ..SimOptions::default()
        };
        if let Some(l) = self.latency {
            o.latency_us = l;
        }
        o
    }

    /// Runs the simulator; the error is one line that says what to do.
    pub fn run(&self) -> Result<Vec<SimPacket>, Failure> {
        simulate(&self.scenario, &self.options()).map_err(|e| Failure::Message(1, e.to_string()))
    }
}

/// The built-in scenarios, one a line (`simulate --list`, `tour --list`).
pub fn list(settings: &Settings) -> Result<(), Failure> {
    let mut out = settings.stdout();
    for (name, what) in builtin_scenarios() {
        writeln!(out, "{:<10} {what}", settings.theme.bold(name))?;
    }
    out.flush()?;
    Ok(())
}

pub fn run(args: &SimulateArgs, settings: &Settings) -> Result<(), Failure> {
    if args.sim.list {
        return list(settings);
    }
    let packets = args.sim.run()?;
    let to_stdout = args.write.as_deref().is_some_and(is_stdout);
    if let Some(path) = &args.write {
        write_capture(path, &packets)?;
    }
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::sink())
    } else {
        settings.stdout_for(args.view.wants_json())
    };
    let mut frames = Frames(packets.into_iter().map(|p| Ok::<_, SourceError>(p.frame)));
    let reading = Reading {
        quiet: to_stdout,
        ..Reading::default()
    };
    let result = inspect::show(&mut frames, &args.view, settings, &mut out, reading);
    out.flush()?;
    result
}

/// Writes simulated packets to a capture file (or standard output for `-`).
pub fn write_capture(path: &std::path::Path, packets: &[SimPacket]) -> Result<(), Failure> {
    let mut w = CaptureOut::create(path, false)?;
    for p in packets {
        w.write(&p.frame)
            .map_err(|e| Failure::Message(1, format!("cannot write {}: {e}", w.name())))?;
    }
    w.finish()?;
    Ok(())
}
