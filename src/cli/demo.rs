//! `wirewalk demo websocket` / `demo socketio`: a real server and client on loopback,
//! captured live and annotated as they talk; `demo websocket --serve` and `demo socketio
//! --serve` keep a chat server running and show its visitors' traffic.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::capture::{after_open, open, Recording};
use super::inspect::{show, Reading};
use super::{Failure, Settings, ViewArgs};
use crate::source::demo::{self, DemoKind, DemoSource, Narrator};
use crate::source::demo_classroom::{Chat, Classroom, FeedItem, Listeners};
use crate::source::demo_tls::DemoTls;
use crate::source::live::{self, CaptureFilter};

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(subcommand)]
    pub which: DemoCommand,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// A real WebSocket server and client (tokio-tungstenite): handshake, Upgrade, a
    /// server push, text, binary, ping/pong, close, teardown.
    Websocket(ServedDemoArgs),
    /// A real Socket.IO server (socketioxide) and client: long-polling, the upgrade to
    /// WebSocket, connect, an event, a room broadcast, an acknowledgement, disconnect.
    Socketio(ServedDemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoCommon {
    /// Also write the captured packets to FILE (pcapng if it ends in .pcapng, else pcap).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// No running commentary on standard error.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Full screen: the demo's packets join the list as they are captured, its
    /// narration in the footer (the keys of `browse`).
    #[arg(long)]
    pub tui: bool,
    /// Over TLS (wss://, https://), TLS 1.3: rustls on both sides, a certificate for
    /// localhost made now; the secrets both sides log open the records as they are shown,
    /// and a -w FILE.pcapng embeds them (tshark -r FILE.pcapng decrypts it as it is).
    #[arg(long)]
    pub tls: bool,
    /// With --tls: TLS 1.2 instead (ECDHE, AES-GCM: the key exchange in clear, then
    /// ChangeCipherSpec where encryption starts).
    #[arg(long, requires = "tls")]
    pub tls12: bool,
    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Debug, Args)]
pub struct ServedDemoArgs {
    /// Keep a chat server running (a web page and its WebSocket; for `demo socketio`,
    /// Socket.IO with the real socket.io-client, long-polling then WebSocket) and show
    /// every visitor their own traffic explained live, until Ctrl-C. ADDR defaults to
    /// 127.0.0.1:8080; give 0.0.0.0:8080 to let a class connect.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8080", conflicts_with = "tls")]
    pub serve: Option<String>,
    /// With --serve: the interface to capture on (default: the one holding ADDR).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        requires = "serve"
    )]
    pub interface: Option<String>,
    /// With --serve: also accept WebSockets (or Socket.IO) from pages served elsewhere
    /// (an origin such as http://lab.example:3000, or * for any). By default only the
    /// server's own pages.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "serve")]
    pub allow_origin: Vec<String>,
    /// With --serve: show every packet on the terminal too (by default one line per
    /// event: who joined, who said what, what was refused).
    #[arg(long, requires = "serve")]
    pub packets: bool,
    #[command(flatten)]
    pub common: DemoCommon,
}

pub fn run(args: &DemoArgs, settings: &Settings) -> Result<(), Failure> {
    match &args.which {
        DemoCommand::Websocket(a) => match &a.serve {
            Some(addr) => serve(Chat::WebSocket, addr, a, settings),
            None => scripted(DemoKind::WebSocket, &a.common, settings),
        },
        DemoCommand::Socketio(a) => match &a.serve {
            Some(addr) => serve(Chat::SocketIo, addr, a, settings),
            None => scripted(DemoKind::SocketIo, &a.common, settings),
        },
    }
}

fn narrator(quiet: bool, settings: &Settings) -> Narrator {
    if quiet {
        return Arc::new(|_: &str| {});
    }
    let color = settings.err_theme.color;
    Arc::new(move |line: &str| {
        // Names and messages come from students: escaped before the terminal sees them.
        let line = format!("▶ {}", crate::render::escape(line));
        if color {
            super::output::narrate(&format!("\x1b[2m{line}\x1b[0m"), true)
        } else {
            super::output::narrate(&line, false)
        }
    })
}

fn scripted(kind: DemoKind, common: &DemoCommon, settings: &Settings) -> Result<(), Failure> {
    // The capture opens first (and privileges go), so the client's SYN is never missed.
    // The port filter comes once the server has a port: until then nothing is read.
    if common.tui {
        super::capture::need_terminal(settings, "demo --tui")?;
    }
    let capture = open(&live::loopback_name(), CaptureFilter::default())?;
    let link = capture.link();
    let dropped = after_open()?;
    let mut recording = Recording::new((), common.write.as_deref(), link, &dropped)?;
    let mut view = common.view.clone();
    let tls = match common.tls {
        false => None,
        true => {
            // The secrets the peers log: read by the analysis as the records come, and
            // embedded in the capture written.
            let keys = view.keys.get_or_insert_with(Default::default).clone();
            recording.embed_secrets(keys.clone());
            Some(DemoTls::new(common.tls12, keys).map_err(|e| Failure::Message(1, e))?)
        }
    };
    if common.tui {
        // The narration goes to the screen's footer, not over the screen.
        let (tx, rx) = std::sync::mpsc::channel();
        let notes = std::sync::Mutex::new(tx.clone());
        let narrate: Narrator = Arc::new(move |line: &str| {
            if let Ok(tx) = notes.lock() {
                let _ = tx.send(crate::tui::live::Live::Note(format!("▶ {line}")));
            }
        });
        let source =
            demo::start(kind, capture, narrate, tls).map_err(|e| Failure::Message(1, e.0))?;
        let place = match kind {
            DemoKind::WebSocket => "from the WebSocket demo on loopback",
            DemoKind::SocketIo => "from the Socket.IO demo on loopback",
        };
        return super::capture::full_screen(recording.wrap(source), rx, tx, &view, settings, place);
    }
    let source = demo::start(kind, capture, narrator(common.quiet, settings), tls)
        .map_err(|e| Failure::Message(1, e.0))?;
    run_source(source, recording, &view, settings)
}

fn serve(
    chat: Chat,
    addr: &str,
    args: &ServedDemoArgs,
    settings: &Settings,
) -> Result<(), Failure> {
    let common = &args.common;
    let addr = parse_addr(addr).map_err(|e| Failure::Message(2, e))?;
    let iface = match args.interface.as_deref() {
        Some(i) => i.to_string(),
        None => live::interface_for(addr.ip()).ok_or_else(|| {
            Failure::Message(
                2,
                format!("no interface holds {} (give one with -i)", addr.ip()),
            )
        })?,
    };
    let filter = CaptureFilter {
        ports: vec![addr.port()],
        hosts: Vec::new(),
    };
    let capture = open(&iface, filter)?;
    let listeners = Listeners::bind(addr).map_err(|e| Failure::Message(1, e.0))?;
    let link = capture.link();
    let dropped = after_open()?;
    let recording = Recording::new((), common.write.as_deref(), link, &dropped)?;
    let narrate = narrator(common.quiet, settings);
    let teacher = crate::render::report::page(
        &crate::render::report::live_data("the classroom, live", "/feed"),
        true,
    );
    let classroom = Classroom {
        chat,
        teacher_page: teacher,
        allowed_origins: args.allow_origin.clone(),
        ..Classroom::default()
    };
    let (source, served) = demo::serve(listeners, capture, narrate.clone(), classroom)
        .map_err(|e| Failure::Message(1, e.0))?;
    let urls: Vec<String> = live::reachable_addresses(served.chat_addr.ip())
        .into_iter()
        .map(|ip| format!("http://{}/", SocketAddr::new(ip, served.chat_addr.port())))
        .collect();
    let shown = match urls.as_slice() {
        [] => format!(
            "http://<this machine's address>:{}/ (no interface has an address yet)",
            served.chat_addr.port()
        ),
        _ => urls.join(" or "),
    };
    let what = match chat {
        Chat::WebSocket => "WebSocket",
        Chat::SocketIo => "Socket.IO",
    };
    narrate(&format!(
        "{what} classroom on {shown} — students open it in a browser; the teacher's page is http://127.0.0.1:{}/teacher; capturing on {iface}; Ctrl-C ends",
        served.feed_addr.port()
    ));
    // Beyond loopback, a phone in the room points its camera at the address.
    if let (Some(url), false, false) = (urls.first(), addr.ip().is_loopback(), common.quiet) {
        let colour = settings.err_theme.color;
        if let Some(lines) = crate::render::qr::lines(url, colour) {
            narrate(&format!("{url} as a QR code, for phones:"));
            for l in lines {
                super::output::narrate(&l, colour);
            }
        }
    }
    let feed = served.feed.clone();
    let port = served.chat_addr.port();
    let live = crate::render::report::LiveRender::new(
        Some(port),
        Box::new(move |p| feed.send(FeedItem::from_live(p))),
    );
    let v = &common.view;
    let asked = args.packets || v.wants_json() || v.summary || v.hex || v.diagram;
    let primary: Box<dyn crate::render::Render> = if asked {
        super::inspect::renderer(v, settings, &super::report::command_title())?
    } else {
        Box::new(crate::render::report::Quiet)
    };
    let render = Box::new(crate::render::Tee(primary, Box::new(live)));
    let mut source = recording.wrap(source);
    let mut out = settings.stdout_for(v.wants_json());
    let feed = served.feed.clone();
    let reading = Reading {
        live: true,
        flush_each: true,
        more_notes: Some(Box::new(move || {
            let lost = feed.lost();
            if lost > 0 {
                vec![format!("{lost} packets were captured faster than the pages could be sent them and are missing from the pages (not from the capture)")]
            } else {
                Vec::new()
            }
        })),
        ..Reading::default()
    };
    let result = super::inspect::show_with(&mut source, v, settings, render, &mut out, reading);
    out.flush().ok();
    source.finish(result)
}

fn run_source(
    source: DemoSource,
    recording: Recording<()>,
    view: &ViewArgs,
    settings: &Settings,
) -> Result<(), Failure> {
    let mut source = recording.wrap(source);
    let mut out = settings.stdout_for(view.wants_json());
    let reading = Reading {
        live: true,
        flush_each: true,
        ..Reading::default()
    };
    let result = show(&mut source, view, settings, &mut out, reading);
    out.flush().ok();
    source.finish(result)
}

/// `IP:PORT`, `IP` (port 8080), `PORT` or `:PORT` (on 127.0.0.1).
fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = s.trim_matches(|c| c == '[' || c == ']').parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 8080));
    }
    if let Ok(port) = s.trim_start_matches(':').parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    Err(format!(
        "'{s}' is not an address to serve on (try 127.0.0.1:8080, 0.0.0.0:8080 or 8080)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_addresses() {
        assert_eq!(
            parse_addr("127.0.0.1:9000").unwrap().to_string(),
            "127.0.0.1:9000"
        );
        assert_eq!(parse_addr("0.0.0.0").unwrap().to_string(), "0.0.0.0:8080");
        assert_eq!(parse_addr("9000").unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!(parse_addr(":9000").unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!(parse_addr("[::1]:9000").unwrap().to_string(), "[::1]:9000");
        assert!(parse_addr("nowhere").is_err());
    }
}

/// Runs the scripted WebSocket demo quietly and returns its captured frames, for
/// `wirewalk tour --live` (needs the same privileges as `demo`).
pub fn capture_websocket_demo() -> Result<Vec<crate::frame::Frame>, Failure> {
    let capture = open(&live::loopback_name(), CaptureFilter::default())?;
    after_open()?;
    let source = demo::start(DemoKind::WebSocket, capture, Arc::new(|_: &str| {}), None)
        .map_err(|e| Failure::Message(1, e.0))?;
    source
        .map(|f| f.map_err(|e| Failure::Message(1, e.0)))
        .collect()
}
