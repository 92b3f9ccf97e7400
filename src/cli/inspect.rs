//! `wirewalk inspect FILE`: read the capture in constant memory (mapped, or streamed from
//! a pipe), run every frame through the pipeline, show the ones asked for.
//!
//! Every source is read to its end (a live one until `-c` or Ctrl-C), whatever is
//! selected: `--packet`, `-c`, `--stream` and the filter choose what is shown, never what
//! is analysed, so a conversation's warnings judge all its packets and times count from
//! the capture's first packet.

use std::io::Write;
use std::path::Path;

use super::output::{is_stdout, CaptureOut};
use super::progress::Progress;
use super::{Failure, InspectArgs, Settings, ViewArgs};
use crate::filter::Filter;
use crate::frame::Frame;
use crate::pipeline::Pipeline;
use crate::render::hex::HexRender;
use crate::render::json::JsonRender;
use crate::render::summary::SummaryRender;
use crate::render::terminal::{TreeOptions, TreeRender};
use crate::render::Render;
use crate::source::pcap::PcapReader;
use crate::source::SourceError;

/// A source of frames, with what it has to say about itself at the end.
pub trait Source: Iterator<Item = Result<Frame, SourceError>> {
    /// Warnings about the source (skipped blocks, dropped packets).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    /// The input was damaged (cut short) but read up to the damage: exit code 1.
    fn damage(&self) -> Option<String> {
        None
    }
}

impl Source for PcapReader {
    fn notes(&self) -> Vec<String> {
        let n = self.warnings().len() - usize::from(self.cut().is_some());
        self.warnings()[..n].to_vec()
    }
    fn damage(&self) -> Option<String> {
        self.cut().map(str::to_string)
    }
}

/// Frames without anything to say about themselves (the simulator's).
pub struct Frames<I>(pub I);

impl<I: Iterator<Item = Result<Frame, SourceError>>> Iterator for Frames<I> {
    type Item = Result<Frame, SourceError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

impl<I: Iterator<Item = Result<Frame, SourceError>>> Source for Frames<I> {}

/// How a source is read.
#[derive(Default)]
pub struct Reading {
    /// A live source never ends by itself: stop once `-c` packets are shown (a file is
    /// always read to its end).
    pub live: bool,
    /// Flush the output after every packet (a pipe or a live source: each packet is seen
    /// as it arrives).
    pub flush_each: bool,
    /// `-q`: no packet, only the end.
    pub quiet: bool,
    /// `-w`: the packets shown are also written here.
    pub save: Option<CaptureOut>,
    pub progress: Option<Progress>,
    /// What the caller has to add at the end (the classroom: packets its pages missed).
    pub more_notes: Option<Box<dyn Fn() -> Vec<String>>>,
}

pub fn run(args: &InspectArgs, settings: &Settings) -> Result<(), Failure> {
    if args.interactive {
        return super::browse::run(args, settings);
    }
    let path = capture_path(args);
    let stdin = is_stdout(path);
    let save = match &args.write {
        Some(w) => Some(CaptureOut::create(w, stdin)?),
        None => None,
    };
    let pcap_on_stdout = args.write.as_deref().is_some_and(is_stdout);
    let show_bar = settings.stderr_tty && (!settings.stdout_tty || args.quiet || pcap_on_stdout);
    let (mut reader, progress) = open_file(path, show_bar)?;
    let mut out: Box<dyn Write> = if pcap_on_stdout {
        Box::new(std::io::sink())
    } else {
        settings.stdout_for(args.view.wants_json())
    };
    let reading = Reading {
        flush_each: stdin,
        quiet: args.quiet || pcap_on_stdout,
        save,
        progress,
        ..Reading::default()
    };
    let mut view = args.view.clone();
    let keys = view.keys.get_or_insert_with(Default::default).clone();
    reader.set_keylog(keys);
    let result = show(&mut reader, &view, settings, &mut out, reading);
    out.flush()?;
    result
}

/// The TLS key log: `--keylog FILE`, else `$SSLKEYLOGFILE` when set, added to what the
/// command already gathered (a capture's embedded secrets).
fn keylog(view: &ViewArgs) -> Result<crate::analysis::protocols::tls::SharedKeyLog, Failure> {
    let keys = view.keys.clone().unwrap_or_default();
    let (path, from_env) = match &view.keylog {
        Some(p) => (Some(p.clone()), false),
        None => (
            std::env::var_os("SSLKEYLOGFILE").map(std::path::PathBuf::from),
            true,
        ),
    };
    if let Some(path) = path {
        match std::fs::read(&path) {
            Ok(bytes) => {
                if let Ok(mut k) = keys.lock() {
                    k.add_text(&String::from_utf8_lossy(&bytes));
                }
            }
            // The variable is often set for a browser while the file does not exist yet.
            Err(_) if from_env => {}
            Err(e) => {
                return Err(Failure::Message(
                    1,
                    format!(
                        "cannot read the key log {}: {} — give the file the browser or program wrote with SSLKEYLOGFILE",
                        path.display(),
                        crate::source::pcap::io_reason(&e)
                    ),
                ))
            }
        }
    }
    Ok(keys)
}

/// The capture the arguments name: `-r FILE` or the FILE argument (clap makes sure there
/// is exactly one).
pub fn capture_path(args: &InspectArgs) -> &Path {
    args.read
        .as_deref()
        .or(args.file.as_deref())
        .unwrap_or(Path::new("-"))
}

/// The capture the arguments name (`-`: standard input).
pub fn open(args: &InspectArgs) -> Result<PcapReader, Failure> {
    open_file(capture_path(args), false).map(|(r, _)| r)
}

/// Opens a capture (`-`: standard input, read as it arrives), with a progress bar on
/// stderr for a large file when `bar` allows one.
fn open_file(path: &Path, bar: bool) -> Result<(PcapReader, Option<Progress>), Failure> {
    let fail = |e: SourceError| Failure::Message(1, e.0);
    if is_stdout(path) {
        return Ok((
            PcapReader::from_reader(std::io::stdin(), "standard input").map_err(fail)?,
            None,
        ));
    }
    // A missing file or a directory: the reader's own message says what to do.
    let len = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map_or(0, |m| m.len());
    let (read, progress) = Progress::for_file(len, bar);
    let reader = PcapReader::open_counted(path, Some(read)).map_err(fail)?;
    Ok((reader, progress))
}

/// The pipeline with the limits the view flags set.
pub fn pipeline(view: &ViewArgs) -> Pipeline {
    Pipeline {
        analyzer: crate::analysis::Analyzer::with_limits(crate::analysis::Limits {
            max_conversations: view.max_conversations,
            max_message: view.max_message,
            max_reassembly: view.max_reassembly,
            max_memory: view.max_memory,
        }),
    }
}

/// The renderer the view flags ask for, with a report beside it for `--report FILE`.
pub fn renderer(
    view: &ViewArgs,
    settings: &Settings,
    title: &str,
) -> Result<Box<dyn Render>, Failure> {
    let primary = output_renderer(view, settings);
    Ok(match &view.report {
        Some(path) => Box::new(crate::render::Tee(
            primary,
            super::report::to_file(path, title)?,
        )),
        None => primary,
    })
}

/// The renderer of the command's own output.
pub fn output_renderer(view: &ViewArgs, settings: &Settings) -> Box<dyn Render> {
    if view.wants_json() {
        Box::new(JsonRender::new())
    } else if view.summary {
        Box::new(SummaryRender::new(settings.theme))
    } else if view.diagram {
        Box::new(crate::render::diagram::DiagramRender::new(settings.theme))
    } else if view.stats {
        Box::new(crate::render::stats::StatsRender::new(settings.theme))
    } else if view.fields {
        Box::new(crate::render::fields::FieldsRender::new(settings.theme))
    } else if view.hex || view.hex_all {
        Box::new(HexRender::with_all(settings.theme, view.hex_all))
    } else {
        Box::new(TreeRender::new(TreeOptions {
            theme: settings.theme,
            width: settings.width,
            explain: !view.brief,
            repeat: view.explain_all,
        }))
    }
}

/// Runs frames from any source through the pipeline and the chosen renderer: every
/// frame is analysed, the selected ones are shown. Warnings go to standard error (and
/// into the JSON summary); a damaged source ends with exit code 1 after what could be
/// read was shown.
pub fn show<S: Source>(
    source: &mut S,
    view: &ViewArgs,
    settings: &Settings,
    out: &mut dyn Write,
    reading: Reading,
) -> Result<(), Failure> {
    let title = super::report::command_title();
    show_titled(source, view, settings, out, &title, reading)
}

/// `show`, with the title a `--report` page carries.
pub fn show_titled<S: Source>(
    source: &mut S,
    view: &ViewArgs,
    settings: &Settings,
    out: &mut dyn Write,
    title: &str,
    reading: Reading,
) -> Result<(), Failure> {
    let render = renderer(view, settings, title)?;
    show_with(source, view, settings, render, out, reading)
}

/// `show` with a renderer of the caller's (the classroom's live pages, for one).
pub fn show_with<S: Source>(
    source: &mut S,
    view: &ViewArgs,
    settings: &Settings,
    mut render: Box<dyn Render>,
    out: &mut dyn Write,
    mut reading: Reading,
) -> Result<(), Failure> {
    let filter = match view.filter_text() {
        Some(f) => {
            Some(Filter::parse(f).map_err(|e| Failure::Message(2, format!("bad filter: {e}")))?)
        }
        None => None,
    };
    let mut pipeline = pipeline(view);
    pipeline.analyzer.keys = Some(keylog(view)?);
    let (mut read, mut shown) = (0u64, 0u64);
    let mut stream_seen = false;
    let mut error = None;
    let mut write_error = None;
    // A file's packets are drawn on every core when the format allows (their order
    // kept); standard input and live sources, which show each packet as it arrives, and
    // formats where a packet's text depends on those before it, on this thread; so is a
    // light drawing (the summary), which costs less than handing its packets over.
    let threads = super::pool::threads(view.threads);
    let drawer = (threads > 1 && !reading.quiet && !reading.flush_each && !reading.live)
        .then(|| render.drawer())
        .flatten()
        .filter(|d| !d.light());
    let shown_all = std::thread::scope(|scope| -> Result<(), Failure> {
        let mut pool = drawer.map(|d| super::pool::Pool::start(scope, d, threads));
        for item in source.by_ref() {
            let frame = match item {
                Ok(f) => f,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            let packet = pipeline.process(frame);
            read += 1;
            if let Some(p) = &reading.progress {
                p.packet(read);
            }
            let in_stream = view
                .stream
                .is_none_or(|s| packet.analysis.stream == Some(s));
            stream_seen |= view.stream.is_some() && in_stream;
            let wanted = view.packet.is_none_or(|n| n == packet.frame.number)
                && in_stream
                && view.count.is_none_or(|c| shown < c)
                && filter.as_ref().is_none_or(|f| f.matches(&packet));
            if !wanted {
                continue;
            }
            shown += 1;
            if let Some(save) = reading.save.as_mut() {
                if let Err(e) = save.write(&packet.frame) {
                    write_error = Some(Failure::Message(
                        1,
                        format!("cannot write {}: {e}", save.name()),
                    ));
                    break;
                }
            }
            if !reading.quiet {
                match pool.as_mut() {
                    Some(pool) => {
                        let cx = render.account(&packet, &pipeline.analyzer);
                        pool.packet(packet, cx, out, &mut *render)?;
                    }
                    None => {
                        render.packet(out, &packet, &pipeline.analyzer)?;
                        if reading.flush_each {
                            out.flush()?;
                        }
                    }
                }
            }
            if reading.live && (view.count.is_some_and(|c| shown >= c) || view.packet.is_some()) {
                break;
            }
        }
        if let Some(pool) = pool.as_mut() {
            pool.finish(out, &mut *render)?;
        }
        Ok(())
    });
    shown_all?;
    if let Some(p) = &reading.progress {
        p.done();
    }
    pipeline.analyzer.finish();
    let an = &pipeline.analyzer;
    // What the source and the analysis warn about: stderr for people, and the JSON
    // summary for programs (with the damage, which ends the run below).
    let mut notes = source.notes();
    if let Some(more) = &reading.more_notes {
        notes.extend(more());
    }
    notes.extend(an.totals.warnings.iter().cloned());
    let damage = error.map(|e| e.0).or_else(|| source.damage());
    if view.wants_json() {
        let mut all = notes.clone();
        all.extend(damage.iter().cloned());
        render.finish(out, an, &all)?;
    } else {
        render.finish(out, an, &[])?;
        if !reading.quiet && shown != read {
            writeln!(
                out,
                "{}",
                settings.theme.dim(&format!(
                    "Showed {shown} of the {read} packets read (the analysis covers all {read})."
                ))
            )?;
        }
    }
    out.flush()?;
    for n in &notes {
        settings.warn(n);
    }
    if let Some(save) = reading.save.take() {
        save.finish()?;
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(d) = damage {
        // The packets before the damage were shown; the command still failed.
        return Err(Failure::Message(1, d));
    }
    if let Some(n) = view.packet {
        if n > read {
            return Err(Failure::Message(
                2,
                format!(
                    "--packet {n}: there is no such packet; the capture has {read} (1 to {read})"
                ),
            ));
        }
    }
    if let Some(s) = view.stream {
        if !stream_seen {
            let tcp = an
                .conversations()
                .filter(|c| c.transport == crate::analysis::Transport::Tcp)
                .count();
            let udp = an.conversations().count() - tcp;
            return Err(Failure::Message(
                2,
                format!(
                    "--stream {s}: there is no such conversation; the capture has {} and {} (each counted from 0; `--diagram` draws them)",
                    plural(tcp, "TCP stream"),
                    plural(udp, "UDP stream")
                ),
            ));
        }
    }
    Ok(())
}

fn plural(n: usize, what: &str) -> String {
    match n {
        0 => format!("no {what}"),
        1 => format!("1 {what} (0)"),
        n => format!("{n} {what}s (0 to {})", n - 1),
    }
}
