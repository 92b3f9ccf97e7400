//! Command line: clap arguments resolved once into plain settings (colour, terminal,
//! width), then the pipeline runs. Errors end as one line on stderr and an exit code.

mod browse;
mod capture;
mod demo;
mod help;
mod inspect;
mod lesson;
mod manual;
mod output;
mod pool;
mod progress;
mod report;
mod serve;
mod simulate;
mod tour;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use output::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "wirewalk",
    version,
    about = "Walk through the OSI layers of real packets: TCP handshakes, WebSocket upgrades and Socket.IO, explained",
    after_help = help::MAIN
)]
pub struct Cli {
    /// When to colour the output; auto follows NO_COLOR, CLICOLOR, CLICOLOR_FORCE and
    /// TERM=dumb, and colours only a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The guided walk-through (the default): a simulated TCP handshake, HTTP upgrade,
    /// WebSocket messages and teardown, packet by packet.
    #[command(after_help = help::TOUR)]
    Tour(tour::TourArgs),
    /// Build a scenario's packets in memory (byte-exact, seeded) and annotate them.
    #[command(after_help = help::SIMULATE)]
    Simulate(simulate::SimulateArgs),
    /// Annotate a pcap or pcapng capture, packet by packet, layer by layer.
    #[command(after_help = help::INSPECT)]
    Inspect(InspectArgs),
    /// Browse a capture full screen: packet list, layers with explanations, bytes, ladder
    /// (the same as `inspect -i`).
    Browse(InspectArgs),
    /// Capture live (pnet) on an interface, loopback by default, and annotate each packet as it arrives.
    #[command(after_help = help::CAPTURE)]
    Capture(capture::CaptureArgs),
    /// A real server and client talking on loopback, captured and annotated live.
    #[command(after_help = help::DEMO)]
    Demo(demo::DemoArgs),
    /// A short plain-language explanation of a concept (osi, syn, upgrade, mask, socketio…).
    #[command(after_help = help::EXPLAIN)]
    Explain {
        /// The topic; without one, the list of topics.
        topic: Option<String>,
    },
    /// Self-paced lessons with quizzes: `lesson list`, `lesson start NAME`, `lesson check`.
    #[command(after_help = help::LESSON)]
    Lesson(lesson::LessonArgs),
    /// Shell completions for bash, zsh or fish, on standard output.
    #[command(after_help = help::COMPLETIONS)]
    Completions { shell: clap_complete::Shell },
    /// The manual page (roff), on standard output or as files in a directory.
    #[command(after_help = help::MAN)]
    Man {
        /// Write wirewalk.1 and one page per command (wirewalk-inspect.1…) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Write a capture as one self-contained HTML page: packets, layers, bytes, ladders.
    Report(report::ReportArgs),
    /// The report page on 127.0.0.1, updated live as the capture is read (`-`: standard input).
    Serve(serve::ServeArgs),
}

/// How to show packets: shared by every command that shows packets. The short options
/// are tcpdump's and tshark's where they mean the same thing.
#[derive(Debug, Clone, Args)]
pub struct ViewArgs {
    /// JSON Lines (one object per packet, then conversations and a summary; docs/json.md).
    #[arg(long, group = "format")]
    pub json: bool,
    /// tshark's -T: `json` is --json, `text` the layer tree.
    #[arg(short = 'T', value_name = "FORMAT", value_enum, group = "format")]
    pub tshark_format: Option<TsharkFormat>,
    /// The layer tree of every packet (the default; tshark's -V).
    #[arg(short = 'V', long, group = "format")]
    pub tree: bool,
    /// One line per packet, like tcpdump -nn.
    #[arg(long, group = "format")]
    pub summary: bool,
    /// A hex dump with each byte coloured by its layer (tcpdump's -x and -X).
    #[arg(short = 'x', visible_short_alias = 'X', long, group = "format")]
    pub hex: bool,
    /// With --hex: every byte of long payloads too (by default a long run shows its
    /// first and last rows and a count).
    #[arg(long)]
    pub hex_all: bool,
    /// A ladder diagram of each conversation: client and server, one arrow per packet.
    #[arg(long, group = "format")]
    pub diagram: bool,
    /// Each header drawn as RFC-style rows of 32 bits, this packet's values in the
    /// boxes and what each means (Ethernet, IP, TCP and its options, UDP, WebSocket).
    #[arg(long, group = "format")]
    pub fields: bool,
    /// Per TCP conversation: the SYN's numbers, segments and data each way, throughput,
    /// RTT samples, the smallest advertised window, retransmissions.
    #[arg(long, group = "format")]
    pub stats: bool,
    /// Values only, without the plain-language explanations.
    #[arg(long)]
    pub brief: bool,
    /// Repeat every explanation on every packet (by default each is given once per
    /// conversation).
    #[arg(long)]
    pub explain_all: bool,
    /// Show at most N packets (N ≥ 1; a file is still read and analysed to its end).
    #[arg(short = 'c', long = "count", value_name = "N", value_parser = parse_count)]
    pub count: Option<u64>,
    /// Show only packet number N (counted from 1, as in Wireshark).
    #[arg(long, value_name = "N", value_parser = parse_packet_number)]
    pub packet: Option<u64>,
    /// Show only TCP/UDP conversation N (the stream index, as in Wireshark).
    #[arg(long, value_name = "N")]
    pub stream: Option<u32>,
    /// Follow at most N conversations (memory stays bounded; later ones are dissected only).
    #[arg(long, value_name = "N", default_value_t = crate::analysis::DEFAULT_MAX_CONVERSATIONS)]
    pub max_conversations: usize,
    /// Keep at most N bytes of one HTTP/WebSocket message, inflated or not (a decompression
    /// bomb cannot exhaust memory).
    #[arg(long, value_name = "BYTES", default_value_t = crate::analysis::Limits::default().max_message)]
    pub max_message: usize,
    /// Hold at most N bytes per direction waiting for a missing segment.
    #[arg(long, value_name = "BYTES", default_value_t = crate::analysis::Limits::default().max_reassembly)]
    pub max_reassembly: usize,
    /// Hold at most N bytes of application state for all conversations together; past it
    /// the least recently active conversation's decoders are given up (and the end says so).
    #[arg(long, value_name = "BYTES", default_value_t = crate::analysis::Limits::default().max_memory)]
    pub max_memory: usize,
    /// Show only packets that match, e.g. "tcp port 8080 and not rst", "websocket",
    /// 'http.request.method == "GET"' (tshark's -Y).
    #[arg(short = 'f', long, visible_short_alias = 'Y', value_name = "EXPR")]
    pub filter: Option<String>,
    /// Accepted for tcpdump's -n and -nn: addresses and ports are never resolved to names.
    #[arg(short = 'n', action = ArgAction::Count)]
    pub numeric: u8,
    /// Also write the packets shown as one self-contained HTML page (open it in a browser).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Decrypt TLS with this key log (NSS format, as SSLKEYLOGFILE writes it; without the
    /// flag, $SSLKEYLOGFILE is read when set).
    #[arg(long, value_name = "FILE")]
    pub keylog: Option<PathBuf>,
    /// The key log that TLS connections read (the file's secrets, and those a capture
    /// embeds); made by the command.
    #[arg(skip)]
    pub keys: Option<crate::analysis::protocols::tls::SharedKeyLog>,
    /// Threads that draw a capture file's packets (default: every core); the output is
    /// the same, byte for byte, with any number. Standard input is read by one.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
}

/// `--threads N`: at least one.
fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 threads would draw nothing: give 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a number of threads (1 or more)")),
    }
}

/// `-c N`: tcpdump rejects 0 ("invalid packet count"), and so does wirewalk.
fn parse_count(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => {
            Err("a count of 0 would show nothing: give 1 or more (tcpdump rejects 0 too)".into())
        }
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "'{s}' is not a packet count (a whole number, 1 or more)"
        )),
    }
}

/// `--packet N`: packets are numbered from 1, as in Wireshark.
fn parse_packet_number(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("packets are numbered from 1, as in Wireshark".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a packet number (1 or more)")),
    }
}

/// The values of tshark's -T that wirewalk has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TsharkFormat {
    Json,
    Text,
}

impl ViewArgs {
    /// JSON Lines asked for, as --json or -T json.
    pub fn wants_json(&self) -> bool {
        self.json || self.tshark_format == Some(TsharkFormat::Json)
    }

    pub fn filter_text(&self) -> Option<&str> {
        self.filter.as_deref()
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The capture file (.pcap or .pcapng; `-` reads standard input, packet by packet as
    /// it arrives).
    #[arg(
        value_name = "FILE",
        required_unless_present = "read",
        conflicts_with = "read"
    )]
    pub file: Option<PathBuf>,
    /// The capture file, as tcpdump and tshark take it (`-r -`: standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,
    /// Also write the packets shown to FILE (pcapng if it ends in .pcapng, else pcap);
    /// `-w -` writes pcap to standard output instead of the text, as tcpdump does.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// No packet, only the summary at the end (tshark's -q).
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Full screen: browse the packets with the keys (what `wirewalk browse FILE` does).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// Runs wirewalk with the process's arguments and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let settings = Settings::resolve(cli.color);
    let result = match cli.command {
        Some(Command::Inspect(args)) => inspect::run(&args, &settings),
        Some(Command::Browse(args)) => browse::run(&args, &settings),
        Some(Command::Capture(args)) => capture::run(&args, &settings),
        Some(Command::Demo(args)) => demo::run(&args, &settings),
        Some(Command::Explain { topic }) => explain(topic.as_deref(), &settings),
        Some(Command::Tour(args)) => tour::run(&args, &settings),
        Some(Command::Simulate(args)) => simulate::run(&args, &settings),
        Some(Command::Lesson(args)) => lesson::run_lesson(&args, &settings),
        Some(Command::Completions { shell }) => manual::completions(shell),
        Some(Command::Man { dir }) => manual::man(dir.as_deref()),
        Some(Command::Report(args)) => report::run(&args, &settings),
        Some(Command::Serve(args)) => serve::run(&args, &settings),
        None => tour::run(&tour::TourArgs::default(), &settings),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    crate::explain::write_template_log(&argv.join(" "));
    match result {
        Ok(()) => 0,
        Err(Failure::BrokenPipe) => 0,
        Err(Failure::Message(code, msg)) => {
            output::say(&msg);
            code
        }
    }
}

/// Why a command stopped early.
#[derive(Debug)]
pub enum Failure {
    /// The reader went away (`| head`): not an error.
    BrokenPipe,
    /// A one-line message and the exit code.
    Message(i32, String),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(1, format!("cannot write the output: {e}"))
        }
    }
}

fn explain(topic: Option<&str>, settings: &Settings) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = settings.stdout();
    match topic {
        Some(t) => match crate::explain::topic(t) {
            Some(text) => {
                writeln!(out, "{}", settings.theme.bold(t))?;
                for line in text.trim().lines() {
                    for w in crate::render::terminal::wrap(line, settings.width, 0) {
                        writeln!(out, "{w}")?;
                    }
                }
            }
            None => {
                return Err(Failure::Message(
                    2,
                    format!(
                        "no topic '{t}' — `wirewalk explain` lists them: {}",
                        crate::explain::topics().join(", ")
                    ),
                ))
            }
        },
        None => {
            writeln!(out, "Topics (wirewalk explain TOPIC):")?;
            for line in crate::render::terminal::wrap(
                &crate::explain::topics().join(", "),
                settings.width,
                2,
            ) {
                writeln!(out, "{line}")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
