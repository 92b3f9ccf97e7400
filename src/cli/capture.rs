//! `wirewalk capture`: live capture with pnet, annotated as the packets arrive.
//! Also the pieces `demo` shares: opening a capture (the one place privileges are
//! checked and dropped) and recording what passes to a capture file.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::inspect::{show, Reading, Source};
use super::output::{is_stdout, CaptureOut};
use super::{Failure, Settings, ViewArgs};
use crate::frame::{Frame, Link};
use crate::source::demo::DemoSource;
use crate::source::live::{self, CaptureFilter, LiveCapture, OpenError};
use crate::source::SourceError;

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The interface to capture on (default: the loopback interface).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// List the interfaces and their addresses, then exit.
    #[arg(long)]
    pub list: bool,
    /// Keep only packets to or from this TCP/UDP port (repeat for several).
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Vec<u16>,
    /// Keep only packets to or from this address (repeat for several).
    #[arg(long = "host", value_name = "ADDR")]
    pub host: Vec<IpAddr>,
    /// Stop after this long: 30 (seconds), 30s, 500ms, 2m.
    #[arg(short = 'd', long, value_name = "TIME", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Also write the captured packets to FILE (pcapng if it ends in .pcapng, else pcap);
    /// `-w -` writes pcap to standard output instead of the text, as tcpdump does.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Full screen: the packets join the list as they arrive (the keys of `browse`).
    #[arg(long)]
    pub tui: bool,
    #[command(flatten)]
    pub view: ViewArgs,
}

pub fn run(args: &CaptureArgs, settings: &Settings) -> Result<(), Failure> {
    if args.list {
        return list(args.view.wants_json(), settings);
    }
    let iface = args.interface.clone().unwrap_or_else(live::loopback_name);
    let filter = CaptureFilter {
        ports: args.port.clone(),
        hosts: args.host.clone(),
    };
    if args.tui {
        need_terminal(settings, "capture --tui")?;
    }
    let capture = open(&iface, filter)?.with_duration(args.duration);
    let link = capture.link();
    let dropped = after_open()?;
    let mut source = Recording::new(capture, args.write.as_deref(), link, &dropped)?;
    if args.tui {
        let (tx, rx) = std::sync::mpsc::channel();
        return full_screen(source, rx, tx, &args.view, settings, &format!("on {iface}"));
    }
    let to_stdout = args.write.as_deref().is_some_and(is_stdout);
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::sink())
    } else {
        settings.stdout_for(args.view.wants_json())
    };
    let reading = Reading {
        live: true,
        flush_each: true,
        quiet: to_stdout,
        ..Reading::default()
    };
    let result = show(&mut source, &args.view, settings, &mut out, reading);
    out.flush().ok();
    source.finish(result)
}

fn list(json: bool, settings: &Settings) -> Result<(), Failure> {
    let mut out = settings.stdout_for(json);
    for i in live::interfaces() {
        if json {
            let v = serde_json::json!({
                "type": "interface", "name": i.name, "index": i.index, "up": i.up,
                "loopback": i.loopback, "mac": i.mac, "addresses": i.addrs, "link": i.link.name(),
            });
            writeln!(out, "{v}")?;
        } else {
            let state = if i.up { "up" } else { "down" };
            let kind = if i.loopback {
                "loopback".to_string()
            } else {
                i.mac.clone().unwrap_or_else(|| i.link.name().to_string())
            };
            writeln!(
                out,
                "{:<12} {:<5} {:<18} {}",
                i.name,
                state,
                kind,
                i.addrs.join(" ")
            )?;
        }
    }
    Ok(())
}

/// Opens a live capture; without the privilege, the one-line message and exit code 2.
pub(super) fn open(iface: &str, filter: CaptureFilter) -> Result<LiveCapture, Failure> {
    LiveCapture::open(iface, filter).map_err(|e| match e {
        OpenError::Permission | OpenError::NoSuchInterface(..) => {
            Failure::Message(2, e.to_string())
        }
        OpenError::Other(m) => Failure::Message(1, m),
    })
}

/// Proof that privileges are gone: [`Recording::new`] takes it, so the `-w` file is
/// opened as the user, never as root (a path through a planted link, or into a
/// directory only root may write, fails as it would for the user).
pub(super) struct Unprivileged(());

/// Once the socket is open: give up privileges (become the user who ran sudo, or drop
/// setcap's capabilities, or, as root with nobody to become, shed every capability), and
/// let Ctrl-C end the capture cleanly. Must run before any other thread is started, and
/// before any output file is opened.
pub(super) fn after_open() -> Result<Unprivileged, Failure> {
    live::drop_privileges().map_err(|e| Failure::Message(1, e))?;
    crate::source::root::shed_root_capabilities().map_err(|e| Failure::Message(1, e))?;
    live::stop_on_interrupt();
    Ok(Unprivileged(()))
}

/// The full screen needs a terminal on both ends.
pub(super) fn need_terminal(settings: &Settings, what: &str) -> Result<(), Failure> {
    if settings.stdout_tty && settings.stdin_tty {
        return Ok(());
    }
    Err(Failure::Message(
        2,
        format!("{what} needs a terminal; in a pipe leave out --tui (or use --summary)"),
    ))
}

/// A live source in the full screen: read on its own thread (recording `-w` as it goes),
/// shown as it arrives; `q` ends the capture. `tx` may also carry the source's notes
/// (a demo's narration) to the footer. `place` says where: "on lo".
pub(super) fn full_screen<I>(
    mut source: Recording<I>,
    rx: std::sync::mpsc::Receiver<crate::tui::live::Live>,
    tx: std::sync::mpsc::Sender<crate::tui::live::Live>,
    view: &ViewArgs,
    settings: &Settings,
    place: &str,
) -> Result<(), Failure>
where
    I: Iterator<Item = Result<Frame, SourceError>> + Send + 'static,
{
    use crate::tui::live::Live;
    let reader = std::thread::spawn(move || {
        let mut error = None;
        for item in source.by_ref() {
            match item {
                Ok(f) => {
                    if tx.send(Live::Frame(f)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    error = Some(e.0);
                    break;
                }
            }
            if live::stop_requested() {
                break;
            }
        }
        let _ = tx.send(Live::End(error));
        source.finish(Ok(()))
    });
    let describe = format!("capturing {place}");
    let walk = crate::tui::Walk::live(describe.clone(), super::inspect::pipeline(view));
    let mut app = crate::tui::App::new(
        walk,
        crate::tui::ViewOptions {
            mode: crate::tui::Mode::Browse,
            color: settings.theme.color,
            big: false,
            brief: view.brief,
            explain_all: view.explain_all,
        },
    );
    if let Some(f) = &view.filter {
        app.set_filter(f)
            .map_err(|e| Failure::Message(2, format!("bad filter: {e}")))?;
    }
    let shown = crate::tui::live::run(&mut app, &rx, &describe);
    // The reader sees the stop within a read timeout, flushes the -w file and ends.
    live::request_stop();
    drop(rx);
    let recorded = reader.join().unwrap_or_else(|_| {
        Err(Failure::Message(
            1,
            "the capture stopped on an internal error".into(),
        ))
    });
    let (packets, _) = shown?;
    recorded?;
    super::output::say(&format!("{packets} packets captured {place}."));
    Ok(())
}

/// Passes frames through, writing each to the `-w` file as it goes.
pub(super) struct Recording<I> {
    pub inner: I,
    writer: Option<CaptureOut>,
    failed: bool,
}

impl<I> Recording<I> {
    /// Creates the file now, with the privileges of the user (see [`Unprivileged`]).
    pub fn new(
        inner: I,
        path: Option<&Path>,
        _link: Link,
        _dropped: &Unprivileged,
    ) -> Result<Self, Failure> {
        let writer = match path {
            Some(p) => Some(CaptureOut::create(p, true)?),
            None => None,
        };
        Ok(Recording {
            inner,
            writer,
            failed: false,
        })
    }

    /// The file (if any) embeds these TLS secrets as they come (`CaptureOut::embed_secrets`).
    pub fn embed_secrets(&mut self, keys: crate::analysis::protocols::tls::SharedKeyLog) {
        if let Some(w) = self.writer.as_mut() {
            w.embed_secrets(keys);
        }
    }

    /// The same file, recording another source.
    pub fn wrap<J>(self, inner: J) -> Recording<J> {
        Recording {
            inner,
            writer: self.writer,
            failed: self.failed,
        }
    }

    /// Flushes the file and reports it; returns the run's result (its error first).
    pub fn finish(self, result: Result<(), Failure>) -> Result<(), Failure> {
        if let Some(w) = self.writer {
            if let Err(e) = w.finish() {
                result?;
                return Err(e);
            }
        }
        result
    }
}

impl Source for Recording<LiveCapture> {
    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }
}

impl Source for Recording<DemoSource> {
    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }
}

impl<I: Iterator<Item = Result<Frame, SourceError>>> Iterator for Recording<I> {
    type Item = Result<Frame, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.inner.next()?;
        if let (Ok(frame), Some(w)) = (&item, self.writer.as_mut()) {
            if let Err(e) = w.write(frame) {
                self.failed = true;
                return Some(Err(SourceError(format!("cannot write {}: {e}", w.name()))));
            }
        }
        Some(item)
    }
}

/// `30`, `30s`, `500ms`, `2m`, `1h`, `1.5s`.
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (try 30s, 500ms, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (ms, s, m, h)")),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("'{s}' is not a usable duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("3x").is_err());
        assert!(parse_duration("").is_err());
    }
}
