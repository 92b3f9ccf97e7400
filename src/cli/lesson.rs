//! `wirewalk lesson list | start NAME | check [PATH…]`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Failure, Settings};
use crate::lesson::progress::{progress_path, Progress};
use crate::lesson::runner::{run, RunError, RunOptions};
use crate::lesson::{self, check, LessonFile};
use crate::render::terminal::wrap;

#[derive(Debug, Args)]
pub struct LessonArgs {
    #[command(subcommand)]
    pub action: LessonAction,
}

#[derive(Debug, Subcommand)]
pub enum LessonAction {
    /// The lessons in course order, with your progress (done, in progress, score).
    List,
    /// Start a lesson, or resume it where you left it.
    Start(StartArgs),
    /// Validate lesson files: schema, sources, packets, and every answer key against the
    /// packets (without PATHs: the built-in lessons).
    Check {
        /// Lesson files, or folders of them.
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The lesson: its name (`handshake`), its number in the course, or a lesson file.
    pub name: String,
    /// Run straight through without waiting; questions are answered from --answers, or
    /// their answers are shown.
    #[arg(long)]
    pub no_pause: bool,
    /// With --no-pause: a file with one answer per line, in question order.
    #[arg(long, value_name = "FILE", requires = "no_pause")]
    pub answers: Option<PathBuf>,
    /// Use the packets of your own capture (pcap or pcapng) instead of the simulation;
    /// questions are graded against it.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Seed for the simulations (other numbers, same lesson; answers are computed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Forget your progress in this lesson and start over.
    #[arg(long)]
    pub reset: bool,
    /// Line by line, as in a pipe, instead of the full screen (keys then Enter).
    #[arg(long)]
    pub no_tui: bool,
    /// Projector mode in the full screen: high contrast, no faint text.
    #[arg(long)]
    pub big: bool,
}

pub fn run_lesson(args: &LessonArgs, settings: &Settings) -> Result<(), Failure> {
    match &args.action {
        LessonAction::List => list(settings),
        LessonAction::Start(s) => start(s, settings),
        LessonAction::Check { paths } => check_all(paths, settings),
    }
}

fn msg(e: String) -> Failure {
    Failure::Message(1, e)
}

fn list(settings: &Settings) -> Result<(), Failure> {
    let lessons = lesson::builtin().map_err(msg)?;
    let path = progress_path().ok();
    let progress = match &path {
        Some(p) => Progress::load(p).map_err(msg)?,
        None => Progress::default(),
    };
    let th = settings.theme;
    let mut out = settings.stdout();
    writeln!(out, "{}", th.bold("Lessons (wirewalk lesson start NAME):"))?;
    for lf in &lessons {
        let l = &lf.lesson;
        let questions = l.steps.iter().filter(|s| s.question.is_some()).count();
        let status = match progress.lessons.get(&l.name) {
            Some(p) if p.done => {
                let (r, c) = p.score();
                th.good(&format!("done · score {r}/{c}")).into_owned()
            }
            Some(p) => {
                let (r, _) = p.score();
                format!(
                    "in progress · step {}/{} · {r}/{questions} right so far",
                    p.step + 1,
                    l.steps.len()
                )
            }
            None => th.dim("not started").into_owned(),
        };
        writeln!(out, "{:>3}. {:<20} {}", l.order, th.bold(&l.name), l.title)?;
        writeln!(out, "     {status}")?;
        for line in wrap(&l.summary, settings.width, 5) {
            writeln!(out, "{}", th.dim(&line))?;
        }
        if let Some(h) = &l.pcap_hint {
            for line in wrap(&format!("--pcap FILE: {h}"), settings.width, 5) {
                writeln!(out, "{}", th.dim(&line))?;
            }
        }
    }
    // Lessons taken from files of one's own.
    for (name, p) in progress
        .lessons
        .iter()
        .filter(|(n, _)| !lessons.iter().any(|l| &l.lesson.name == *n))
    {
        let (r, c) = p.score();
        let status = if p.done {
            format!("done · score {r}/{c}")
        } else {
            format!(
                "in progress · step {}/{} · {r}/{} right so far",
                p.step + 1,
                p.steps,
                p.questions
            )
        };
        writeln!(out, "     {:<20} (a lesson file) {status}", th.bold(name))?;
    }
    if let Some(p) = path {
        writeln!(
            out,
            "{}",
            th.dim(&format!("Progress is saved in {}", p.display()))
        )?;
    }
    out.flush()?;
    Ok(())
}

fn start(args: &StartArgs, settings: &Settings) -> Result<(), Failure> {
    let lf = lesson::find(&args.name).map_err(msg)?;
    let answers = match &args.answers {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| msg(format!("cannot read the answers file {}: {e}", p.display())))?;
            Some(
                text.lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.starts_with('#'))
                    .collect(),
            )
        }
        None => None,
    };
    if let Some(p) = &args.pcap {
        if !p.is_file() {
            return Err(msg(format!("no capture file {}", p.display())));
        }
    }
    let opts = RunOptions {
        pause: !args.no_pause,
        answers,
        theme: settings.theme,
        width: settings.width,
        pcap: args.pcap.clone(),
        seed: args.seed,
        progress_path: Some(progress_path().map_err(msg)?),
        reset: args.reset,
        screen: None,
    };
    if !args.no_pause && !args.no_tui && settings.stdin_tty && settings.stdout_tty {
        let look = crate::tui::text::Look {
            color: settings.theme.color,
            big: args.big,
        };
        // The runner colours its pages for the screen, which keeps or drops the colours.
        let opts = RunOptions {
            theme: crate::render::Theme { color: true },
            ..opts
        };
        let mut after = settings.stdout();
        return match crate::tui::lesson::run(lf, opts, look, &mut after) {
            Ok(_) => Ok(()),
            Err(RunError::Io(e)) => Err(e.into()),
            Err(RunError::Message(m)) => Err(msg(m)),
        };
    }
    let mut out = settings.stdout();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let result = run(&lf, opts, &mut out, &mut input);
    out.flush()?;
    match result {
        Ok(_) => Ok(()),
        Err(RunError::Io(e)) => Err(e.into()),
        Err(RunError::Message(m)) => Err(msg(m)),
    }
}

fn check_all(paths: &[PathBuf], settings: &Settings) -> Result<(), Failure> {
    let th = settings.theme;
    let mut files: Vec<Result<LessonFile, String>> = Vec::new();
    if paths.is_empty() {
        files.extend(lesson::builtin().map_err(msg)?.into_iter().map(Ok));
    }
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| msg(format!("cannot read {}: {e}", p.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                .collect();
            entries.sort();
            files.extend(entries.iter().map(|f| lesson::load_file(f)));
        } else {
            files.push(lesson::load_file(p));
        }
    }
    if files.is_empty() {
        return Err(msg("no lesson files to check".into()));
    }
    let mut out = settings.stdout();
    let mut bad = 0;
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for f in &files {
        match f {
            Err(e) => {
                bad += 1;
                writeln!(out, "{} {e}", th.warn("FAIL"))?;
            }
            Ok(lf) => {
                let mut problems = check::check(lf);
                if let Some(other) = names.insert(lf.lesson.name.clone(), lf.origin.clone()) {
                    problems.push(format!(
                        "name \"{}\" is also used by {other}",
                        lf.lesson.name
                    ));
                }
                let questions = lf
                    .lesson
                    .steps
                    .iter()
                    .filter(|s| s.question.is_some())
                    .count();
                if problems.is_empty() {
                    writeln!(
                        out,
                        "{}   {} ({}): {} steps, {questions} questions",
                        th.good("ok"),
                        lf.lesson.name,
                        lf.origin,
                        lf.lesson.steps.len()
                    )?;
                } else {
                    bad += 1;
                    writeln!(
                        out,
                        "{} {} ({}):",
                        th.warn("FAIL"),
                        lf.lesson.name,
                        lf.origin
                    )?;
                    for p in problems {
                        writeln!(out, "  {p}")?;
                    }
                }
            }
        }
    }
    out.flush()?;
    if bad > 0 {
        return Err(Failure::Message(
            1,
            format!(
                "{bad} of {} lesson file(s) have problems (listed above)",
                files.len()
            ),
        ));
    }
    Ok(())
}
