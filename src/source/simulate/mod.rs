//! `wirewalk simulate`: packets built in memory, byte-exact, with no network.
//!
//! A simulated client and server, each with a TCP endpoint that follows the protocol
//! (`tcp.rs`), exchange what a scenario says (`scenarios/*.toml`, format in
//! `scenarios/README.md`); every frame they put on the wire is an Ethernet II + IPv4 or
//! IPv6 + TCP/UDP frame with correct checksums (`wire.rs`, etherparse's builders), kept
//! with a one-line caption of what happens. The same seed gives the same bytes.

mod app;
mod engine;
pub mod rng;
pub mod scenario;
pub mod tcp;
pub mod wire;

use std::fmt;
use std::path::Path;

use crate::frame::{Frame, Link, Timestamp};

/// How to run a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOptions {
    /// Seeds every random choice: initial sequence numbers, ports, masks, keys, jitter.
    pub seed: u64,
    /// IPv6 instead of IPv4.
    pub ipv6: bool,
    /// One-way latency between the hosts in microseconds; each packet gets ±1/3 of it
    /// as seeded jitter.
    pub latency_us: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        // A switched LAN: 200–400 µs one way.
        SimOptions {
            seed: 1,
            ipv6: false,
            latency_us: 300,
        }
    }
}

/// One simulated frame and what happens in it, in one line.
#[derive(Debug, Clone)]
pub struct SimPacket {
    pub frame: Frame,
    pub caption: String,
}

/// Why a scenario could not run; `Display` gives one line that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// Neither a built-in scenario nor a readable file.
    UnknownScenario(String),
    /// The file exists but could not be read.
    Io { path: String, message: String },
    /// The file is not valid TOML or has unknown keys.
    Parse { source: String, message: String },
    /// A step or host that makes no sense (the message names it).
    Invalid(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::UnknownScenario(name) => {
                let names: Vec<&str> = BUILTIN.iter().map(|b| b.0).collect();
                write!(
                    f,
                    "no scenario called \"{name}\": use one of {} or the path of a scenario file (.toml)",
                    names.join(", ")
                )
            }
            SimError::Io { path, message } => {
                write!(f, "cannot read scenario file {path}: {message}")
            }
            SimError::Parse { source, message } => {
                write!(
                    f,
                    "scenario {source} is not valid (see scenarios/README.md): {message}"
                )
            }
            SimError::Invalid(msg) => write!(f, "scenario error: {msg}"),
        }
    }
}

impl std::error::Error for SimError {}

struct Builtin(&'static str, &'static str, &'static str);

/// Built-in scenarios: name, one-line description, file text (embedded so the binary
/// works anywhere).
const BUILTIN: &[Builtin] = &[
    Builtin("handshake", "the TCP three-way handshake: SYN, SYN-ACK, ACK", include_str!("../../../scenarios/handshake.toml")),
    Builtin("websocket", "a WebSocket session: HTTP upgrade, masked client text, server push, binary, ping/pong, close", include_str!("../../../scenarios/websocket.toml")),
    Builtin("socketio", "Socket.IO: long-polling open, upgrade to WebSocket, events, an ack, a binary attachment, disconnect", include_str!("../../../scenarios/socketio.toml")),
    Builtin("teardown", "closing TCP: a half-close (FIN, data still flowing back, FIN), then a simultaneous close", include_str!("../../../scenarios/teardown.toml")),
    Builtin("reset", "RST: a SYN to a closed port is refused; a connection aborted mid-stream", include_str!("../../../scenarios/reset.toml")),
    Builtin("udp", "UDP for contrast: DNS queries and answers, no handshake, no ACKs, a lost datagram", include_str!("../../../scenarios/udp.toml")),
    Builtin("lossy", "a lost segment: duplicate ACKs with SACK, then the retransmission after a timeout", include_str!("../../../scenarios/lossy.toml")),
    Builtin("rejected", "a WebSocket upgrade the server refuses (HTTP 403), then the connection closes", include_str!("../../../scenarios/rejected.toml")),
    Builtin("lost-syn", "what if the SYN is lost? The client waits a second and sends it again", include_str!("../../../scenarios/lost-syn.toml")),
];

/// The built-in scenarios: (name, one-line description).
pub fn builtin_scenarios() -> &'static [(&'static str, &'static str)] {
    const LIST: &[(&str, &str)] = &{
        let mut out = [("", ""); BUILTIN.len()];
        let mut i = 0;
        while i < BUILTIN.len() {
            out[i] = (BUILTIN[i].0, BUILTIN[i].1);
            i += 1;
        }
        out
    };
    LIST
}

/// The TOML text of a built-in scenario (a teacher can start from it).
pub fn builtin_scenario_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|b| b.0 == name).map(|b| b.2)
}

/// Runs a scenario, given by built-in name or by the path of a scenario file, and
/// returns its frames (Ethernet, numbered from 1, in time order) with captions.
pub fn simulate(scenario: &str, opts: &SimOptions) -> Result<Vec<SimPacket>, SimError> {
    let (source, text): (String, String) = match builtin_scenario_text(scenario) {
        Some(t) => (format!("\"{scenario}\""), t.to_string()),
        None => {
            let path = Path::new(scenario);
            if !path.is_file() {
                return Err(SimError::UnknownScenario(scenario.to_string()));
            }
            let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
                path: scenario.to_string(),
                message: e.to_string(),
            })?;
            (path.display().to_string(), text)
        }
    };
    simulate_text(&text, &source, opts)
}

/// Runs a scenario given as TOML text; `source` names it in error messages.
pub fn simulate_text(
    text: &str,
    source: &str,
    opts: &SimOptions,
) -> Result<Vec<SimPacket>, SimError> {
    let file = scenario::parse(text).map_err(|message| SimError::Parse {
        source: source.to_string(),
        message,
    })?;
    let mut engine = engine::Engine::new(&file, opts)?;
    engine.run(&file.steps)?;
    let (secs, micros) = engine.epoch();
    let mut recorded = std::mem::take(&mut engine.packets);
    recorded.sort_by_key(|r| (r.time_us, r.order));
    Ok(recorded
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let total = micros + r.time_us;
            let time = Timestamp::new(
                secs + (total / 1_000_000) as i64,
                ((total % 1_000_000) * 1000) as u32,
            );
            let wire_len = r.bytes.len() as u32;
            SimPacket {
                frame: Frame {
                    number: i as u64 + 1,
                    time,
                    link: Link::Ethernet,
                    data: r.bytes,
                    wire_len,
                },
                caption: r.caption,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests;
