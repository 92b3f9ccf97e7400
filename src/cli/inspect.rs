//! `wirewalk inspect FILE`: read the capture streaming, run every frame through the
//! pipeline, show the ones asked for.

use std::io::Write;

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

pub fn run(args: &InspectArgs, settings: &Settings) -> Result<(), Failure> {
    if args.interactive {
        return super::browse::run(args, settings);
    }
    let reader = open(args)?;
    let mut out = settings.stdout();
    let mut reader = reader;
    let mut view = args.view.clone();
    let keys = view.keys.get_or_insert_with(Default::default).clone();
    reader.set_keylog(keys);
    let result = show(&mut reader, &view, settings, &mut out, |r| {
        r.warnings().to_vec()
    });
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

/// The capture the arguments name (`-`: standard input).
pub fn open(args: &InspectArgs) -> Result<PcapReader, Failure> {
    if args.file.as_os_str() == "-" {
        PcapReader::from_reader(std::io::stdin(), "standard input")
    } else {
        PcapReader::open(&args.file)
    }
    .map_err(|e| Failure::Message(1, e.0))
}

/// The pipeline with the limits the view flags set.
pub fn pipeline(view: &ViewArgs) -> Pipeline {
    Pipeline {
        analyzer: crate::analysis::Analyzer::with_limits(crate::analysis::Limits {
            max_conversations: view.max_conversations,
            max_message: view.max_message,
            max_reassembly: view.max_reassembly,
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
    if view.json {
        Box::new(JsonRender::new())
    } else if view.summary {
        Box::new(SummaryRender::new(settings.theme))
    } else if view.diagram {
        Box::new(crate::render::diagram::DiagramRender::new(settings.theme))
    } else if view.fields {
        Box::new(crate::render::fields::FieldsRender::new(settings.theme))
    } else if view.hex {
        Box::new(HexRender::new(settings.theme))
    } else {
        Box::new(TreeRender::new(TreeOptions {
            theme: settings.theme,
            width: settings.width,
            explain: !view.brief,
            repeat: view.explain_all,
        }))
    }
}

/// Runs frames from any source through the pipeline and the chosen renderer.
pub fn show<S>(
    source: &mut S,
    view: &ViewArgs,
    settings: &Settings,
    out: &mut dyn Write,
    warnings: impl Fn(&S) -> Vec<String>,
) -> Result<(), Failure>
where
    S: Iterator<Item = Result<Frame, SourceError>>,
{
    let title = super::report::command_title();
    show_titled(source, view, settings, out, &title, warnings)
}

/// `show`, with the title a `--report` page carries.
pub fn show_titled<S>(
    source: &mut S,
    view: &ViewArgs,
    settings: &Settings,
    out: &mut dyn Write,
    title: &str,
    warnings: impl Fn(&S) -> Vec<String>,
) -> Result<(), Failure>
where
    S: Iterator<Item = Result<Frame, SourceError>>,
{
    let render = renderer(view, settings, title)?;
    show_with(source, view, render, out, warnings)
}

/// `show` with a renderer of the caller's (the classroom's live pages, for one).
pub fn show_with<S>(
    source: &mut S,
    view: &ViewArgs,
    mut render: Box<dyn Render>,
    out: &mut dyn Write,
    warnings: impl Fn(&S) -> Vec<String>,
) -> Result<(), Failure>
where
    S: Iterator<Item = Result<Frame, SourceError>>,
{
    let filter = match &view.filter {
        Some(f) => {
            Some(Filter::parse(f).map_err(|e| Failure::Message(2, format!("bad filter: {e}")))?)
        }
        None => None,
    };
    let mut pipeline = pipeline(view);
    pipeline.analyzer.keys = Some(keylog(view)?);
    let mut shown = 0u64;
    let mut error = None;
    for item in source.by_ref() {
        let frame = match item {
            Ok(f) => f,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        let packet = pipeline.process(frame);
        if view.packet.is_some_and(|n| n != packet.frame.number)
            || view
                .stream
                .is_some_and(|s| packet.analysis.stream != Some(s))
            || filter.as_ref().is_some_and(|f| !f.matches(&packet))
        {
            continue;
        }
        render.packet(out, &packet, &pipeline.analyzer)?;
        shown += 1;
        if view.count.is_some_and(|c| shown >= c) || view.packet.is_some() {
            break;
        }
    }
    pipeline.analyzer.finish();
    let mut notes = warnings(source);
    notes.extend(pipeline.analyzer.totals.warnings.iter().cloned());
    if let Some(e) = &error {
        notes.push(e.0.clone());
    }
    render.finish(out, &pipeline.analyzer, &notes)?;
    match error {
        // Packets before a corrupt record were shown; the command still failed.
        Some(e) => Err(Failure::Message(1, e.0)),
        None => Ok(()),
    }
}
