//! `wirewalk serve [FILE]`: the report page on 127.0.0.1, fed live over a WebSocket as
//! the pipeline reads the capture (`-`, standard input, makes it follow a live capture:
//! `tcpdump -U -w - | wirewalk serve -`). Runs until Ctrl-C.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{inspect, Failure, Settings, ViewArgs};
use crate::render::report::{live_data, page, LiveRender, Quiet, MAX_PACKETS};
use crate::render::{escape, Tee};
use crate::source::demo_classroom::{start_page, Classroom, FeedItem};
use crate::source::live;
use crate::source::pcap::PcapReader;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The capture file (.pcap or .pcapng); `-` (the default) reads standard input as it arrives.
    #[arg(default_value = "-")]
    pub file: PathBuf,
    /// The port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 8088)]
    pub port: u16,
    #[command(flatten)]
    pub view: ViewArgs,
}

pub fn run(args: &ServeArgs, settings: &Settings) -> Result<(), Failure> {
    let stdin = args.file.as_os_str() == "-";
    let title = if stdin {
        "standard input".to_string()
    } else {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // A file is opened before the page is served (a wrong file fails at once); standard
    // input after, because reading its header waits for the capture's first bytes.
    let open = || {
        if stdin {
            PcapReader::from_reader(std::io::stdin(), "standard input")
        } else {
            PcapReader::open(&args.file)
        }
        .map_err(|e| Failure::Message(1, e.0))
    };
    let mut file = if stdin { None } else { Some(open()?) };
    let classroom = Classroom {
        teacher_page: page(&live_data(&title, "/feed"), true),
        teacher_history: MAX_PACKETS + 1,
        ..Classroom::default()
    };
    let say = |line: &str| super::output::say(line);
    let (feed, addr) = start_page(
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), args.port),
        Arc::new(move |l: &str| say(l)),
        classroom,
    )
    .map_err(|e| Failure::Message(1, e.0))?;
    live::stop_on_interrupt();
    super::output::say(&format!(
        "serving {} on http://{addr}/ — open it in a browser; Ctrl-C ends",
        escape(&title)
    ));
    let mut reader = match file.take() {
        Some(r) => r,
        None => open()?,
    };
    let f = feed.clone();
    let live = LiveRender::new(None, Box::new(move |p| f.send(FeedItem::from_live(p))));
    let v = &args.view;
    let primary: Box<dyn crate::render::Render> = if v.json || v.summary || v.hex || v.diagram {
        inspect::output_renderer(v, settings)
    } else {
        Box::new(Quiet)
    };
    let mut out = settings.stdout_for(v.json);
    let reading = inspect::Reading {
        flush_each: true,
        ..inspect::Reading::default()
    };
    let result = inspect::show_with(
        &mut reader,
        v,
        settings,
        Box::new(Tee(primary, Box::new(live))),
        &mut out,
        reading,
    );
    use std::io::Write as _;
    out.flush()?;
    result?;
    if feed.lost() > 0 {
        super::output::say(&format!(
            "{} packets came faster than the page server could take them and are not on the page",
            feed.lost()
        ));
    }
    super::output::say("the whole capture is on the page; still serving it until Ctrl-C");
    while !live::stop_requested() {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    Ok(())
}
