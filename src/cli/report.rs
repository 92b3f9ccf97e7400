//! `wirewalk report FILE -o report.html`, and `--report FILE` on the commands that show
//! packets: the capture as one self-contained HTML page (src/render/report.rs).

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{inspect, Failure, Settings, ViewArgs};
use crate::render::report::ReportRender;
use crate::render::{escape, Render};
use crate::source::pcap::PcapReader;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The capture file (.pcap or .pcapng; `-` reads standard input).
    pub file: PathBuf,
    /// Where to write the page (default: the capture's name with .html, here).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub view: ViewArgs,
}

pub fn run(args: &ReportArgs, settings: &Settings) -> Result<(), Failure> {
    let v = &args.view;
    if v.json || v.summary || v.hex || v.diagram || v.report.is_some() {
        return Err(Failure::Message(
            2,
            "`report` writes only the HTML page (use -o FILE); --json, --summary, --hex, --diagram and --report belong to `inspect`".into(),
        ));
    }
    let output = match &args.output {
        Some(o) => o.clone(),
        None => {
            let stem = args
                .file
                .file_stem()
                .filter(|s| args.file.as_os_str() != "-" && !s.is_empty())
                .map(|s| s.to_os_string())
                .unwrap_or_else(|| "report".into());
            PathBuf::from(stem).with_extension("html")
        }
    };
    let mut reader = if args.file.as_os_str() == "-" {
        PcapReader::from_reader(std::io::stdin(), "standard input")
    } else {
        PcapReader::open(&args.file)
    }
    .map_err(|e| Failure::Message(1, e.0))?;
    let title = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "standard input".into());
    let mut view = v.clone();
    view.report = Some(output.clone());
    // The one-line summary is the cheapest primary output; it goes nowhere.
    view.summary = true;
    let mut sink = std::io::sink();
    let result = inspect::show_titled(
        &mut reader,
        &view,
        settings,
        &mut sink,
        &title,
        inspect::Reading::default(),
    );
    if result.is_ok() || output.exists() {
        super::output::say(&format!(
            "wrote {} — open it in a browser",
            escape(&output.display().to_string())
        ));
    }
    result
}

/// A report renderer writing to `path`, titled `title`. The file is created afresh and a
/// symbolic link in its place is refused rather than followed.
pub fn to_file(path: &Path, title: &str) -> Result<Box<dyn Render>, Failure> {
    let file = crate::outfile::create(path).map_err(|e| {
        Failure::Message(
            1,
            format!(
                "cannot write the report to {}: {e}",
                escape(&path.display().to_string())
            ),
        )
    })?;
    Ok(Box::new(ReportRender::to(
        title,
        Box::new(BufWriter::with_capacity(1 << 16, file)),
    )))
}

/// The title of a report made beside another output: the command line that made it.
pub fn command_title() -> String {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("wirewalk {}", args.join(" "))
}
