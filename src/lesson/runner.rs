//! The lesson runner: shows each step (text, packets with the focused layer marked,
//! prompt, question), reads the learner's keys through a `BufRead`, writes through a
//! `Write`, and saves progress after every step and answer.
//!
//! Keys, each followed by Enter: Enter goes on, `b` back, `h` a hint, `q` quits and
//! keeps the progress. With `pause` off the lesson runs straight through; answers come
//! from a list (`--answers FILE`, one a line) or are shown, not asked.
//!
//! In the full screen (`tui::lesson`) the same run talks to the screen instead of a
//! terminal: each step starts a page (a form feed), the keys are the screen's footer
//! rather than a prompt, and what the runner waits for is sent as a `Status`.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::Sender;

use super::model::{Focus, Kind, PacketRef, Question, Show, SourceSpec, Step};
use super::packets::{Fact, Loaded};
use super::progress::{now, Answered, LessonProgress, Progress};
use super::quiz::{self, Grade};
use super::LessonFile;
use crate::explain;
use crate::render::hex::HexRender;
use crate::render::terminal::{wrap, TreeOptions, TreeRender};
use crate::render::{Render, Theme};
use crate::source::simulate::builtin_scenario_text;

/// How to run a lesson, decided by the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Wait for the learner between steps and ask the questions.
    pub pause: bool,
    /// Without pauses: the answers to give, one per question, in order.
    pub answers: Option<Vec<String>>,
    pub theme: Theme,
    pub width: usize,
    /// Every packet of the lesson comes from this capture instead.
    pub pcap: Option<PathBuf>,
    /// Every simulation runs with this seed instead.
    pub seed: Option<u64>,
    /// Where progress is saved; None: not saved.
    pub progress_path: Option<PathBuf>,
    /// Start over, forgetting saved progress for this lesson.
    pub reset: bool,
    /// Run inside the full screen: what the runner waits for goes here.
    pub screen: Option<Sender<Status>>,
}

/// Where a run inside the full screen stands, sent before each wait for the learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The step on screen, from 0, of `steps`.
    pub step: usize,
    pub steps: usize,
    /// Questions answered right so far, of `questions`.
    pub right: usize,
    pub questions: usize,
    pub waiting: Waiting,
}

/// What the runner waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// A key to go on (the last step: to finish), back, or quit.
    Next { last: bool },
    /// An answer to the question on screen (or a hint, back, quit).
    Answer,
}

/// The page break the runner writes before each step in the full screen.
pub const PAGE: char = '\x0c';

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub finished: bool,
    pub right: usize,
    pub counted: usize,
}

/// The source in force at each step: the lesson's, or the last one a step switched to.
pub fn step_sources(lf: &LessonFile) -> Vec<Option<SourceSpec>> {
    let mut cur = lf.lesson.source.clone();
    lf.lesson
        .steps
        .iter()
        .map(|s| {
            if s.simulate.is_some() || s.capture.is_some() {
                cur = Some(SourceSpec {
                    simulate: s.simulate.clone(),
                    seed: s.seed,
                    capture: s.capture.clone(),
                });
            } else if let (Some(seed), Some(c)) = (s.seed, cur.as_mut()) {
                c.seed = Some(seed);
            }
            cur.clone()
        })
        .collect()
}

/// (scenario, seed) or capture path.
type SourceKey = (Option<String>, u64, Option<PathBuf>);

/// Loads sources once each.
pub struct Sources {
    base: PathBuf,
    pcap: Option<PathBuf>,
    seed: Option<u64>,
    cache: HashMap<SourceKey, Result<Rc<Loaded>, String>>,
}

impl Sources {
    pub fn new(base: PathBuf, pcap: Option<PathBuf>, seed: Option<u64>) -> Sources {
        Sources {
            base,
            pcap,
            seed,
            cache: HashMap::new(),
        }
    }

    /// The capture or scenario file path a spec names, resolved against the lesson's folder.
    pub fn resolve_path(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base.join(path)
        }
    }

    pub fn load(&mut self, spec: &SourceSpec) -> Result<Rc<Loaded>, String> {
        let key = if let Some(p) = &self.pcap {
            (None, 0, Some(p.clone()))
        } else if let Some(c) = &spec.capture {
            (None, 0, Some(self.resolve_path(c)))
        } else {
            let name = spec.simulate.clone().unwrap_or_default();
            let name = if builtin_scenario_text(&name).is_some() {
                name
            } else {
                self.resolve_path(&name).display().to_string()
            };
            (Some(name), self.seed.or(spec.seed).unwrap_or(1), None)
        };
        self.cache
            .entry(key.clone())
            .or_insert_with(|| match key {
                (_, _, Some(path)) => match (path.exists(), spec.capture.as_deref()) {
                    // A built-in lesson's capture ships inside the binary.
                    (false, Some(c)) if self.pcap.is_none() => Loaded::builtin_capture(c)
                        .unwrap_or_else(|| Loaded::capture(&path))
                        .map(Rc::new),
                    _ => Loaded::capture(&path).map(Rc::new),
                },
                (Some(name), seed, None) => Loaded::simulate(&name, seed).map(Rc::new),
                _ => Err("a source needs `simulate` or `capture`".into()),
            })
            .clone()
    }
}

enum Next {
    Forward,
    Back,
    Quit,
}

struct Run<'a> {
    lf: &'a LessonFile,
    opts: RunOptions,
    out: &'a mut dyn Write,
    input: &'a mut dyn BufRead,
    sources: Sources,
    specs: Vec<Option<SourceSpec>>,
    progress: Progress,
    answers: std::collections::VecDeque<String>,
    /// The step on screen.
    at: usize,
}

/// Runs a lesson from where the learner left it (or from the start).
pub fn run(
    lf: &LessonFile,
    opts: RunOptions,
    out: &mut dyn Write,
    input: &mut dyn BufRead,
) -> Result<Outcome, RunError> {
    let progress = match &opts.progress_path {
        Some(p) => Progress::load(p).map_err(RunError::Message)?,
        None => Progress::default(),
    };
    let answers = opts.answers.clone().unwrap_or_default().into();
    let mut r = Run {
        lf,
        sources: Sources::new(lf.base_dir(), opts.pcap.clone(), opts.seed),
        specs: step_sources(lf),
        opts,
        out,
        input,
        progress,
        answers,
        at: 0,
    };
    r.go().map_err(RunError::Io)
}

/// Why a run could not go on.
#[derive(Debug)]
pub enum RunError {
    Io(io::Error),
    Message(String),
}

impl<'a> Run<'a> {
    fn th(&self) -> Theme {
        self.opts.theme
    }

    /// Whether answers are asked and progress saved.
    fn records(&self) -> bool {
        self.opts.progress_path.is_some() && (self.opts.pause || self.opts.answers.is_some())
    }

    fn entry(&mut self) -> &mut LessonProgress {
        let name = self.lf.lesson.name.clone();
        let steps = self.lf.lesson.steps.len();
        let questions = self
            .lf
            .lesson
            .steps
            .iter()
            .filter(|s| s.question.is_some())
            .count();
        let e = self.progress.lessons.entry(name).or_default();
        e.steps = steps;
        e.questions = questions;
        e
    }

    fn save(&mut self) -> io::Result<()> {
        if !self.records() {
            return Ok(());
        }
        self.entry().updated = now();
        let path = self
            .opts
            .progress_path
            .clone()
            .expect("records() checked it");
        if let Err(e) = self.progress.save(&path) {
            writeln!(self.out, "{} {e}", self.th().warn("warning:"))?;
        }
        Ok(())
    }

    fn para(&mut self, text: &str, indent: usize) -> io::Result<()> {
        for line in text.trim_end().lines() {
            let extra = line.len() - line.trim_start().len();
            for w in wrap(line.trim_start(), self.opts.width, indent + extra) {
                writeln!(self.out, "{w}")?;
            }
        }
        Ok(())
    }

    /// Reads one line; None at the end of input (treated as quit). In the full screen
    /// the screen is told first what is awaited.
    fn read(&mut self, waiting: Waiting) -> io::Result<Option<String>> {
        self.out.flush()?;
        if let Some(tx) = &self.opts.screen {
            // After the page: what the screen is told it has already been sent.
            let (right, questions) = self.score();
            let status = Status {
                step: self.at,
                steps: self.lf.lesson.steps.len(),
                right,
                questions,
                waiting,
            };
            // A screen that has gone away reads as the end of input below.
            let _ = tx.send(status);
        }
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line.trim().to_string()))
    }

    fn go(&mut self) -> io::Result<Outcome> {
        let l = &self.lf.lesson;
        let n = l.steps.len();
        let th = self.th();
        if self.opts.reset {
            self.progress.lessons.remove(&l.name);
        }
        let mut i = match self.progress.lessons.get(&l.name) {
            Some(p) if self.records() && !p.done && p.step < n => p.step,
            _ => 0,
        };
        if self.records() && self.progress.lessons.get(&l.name).is_some_and(|p| p.done) {
            // Taking a finished lesson again: start afresh.
            self.progress.lessons.remove(&l.name);
        }
        writeln!(
            self.out,
            "{}",
            th.bold(&format!("Lesson {} · {}", l.order, l.title))
        )?;
        let summary = l.summary.clone();
        self.para(&summary, 2)?;
        if let Some(p) = &self.opts.pcap {
            writeln!(
                self.out,
                "  Packets from your capture {} (questions are graded against it).",
                p.display()
            )?;
        }
        if i > 0 {
            writeln!(self.out, "  Resuming at step {} of {n}.", i + 1)?;
        }
        if self.opts.pause && self.opts.screen.is_none() {
            writeln!(
                self.out,
                "{}",
                th.dim(
                    "  Keys (then Enter): Enter next · b back · h hint · q quit (progress is kept)"
                )
            )?;
        }
        writeln!(self.out)?;
        if self.records() {
            self.entry();
            self.save()?;
        }
        while i < n {
            self.entry_step(i);
            self.save()?;
            let next = self.step(i)?;
            match next {
                Next::Forward => i += 1,
                Next::Back => i = i.saturating_sub(1),
                Next::Quit => {
                    self.entry_step(i);
                    self.save()?;
                    let (right, counted) = self.score();
                    writeln!(self.out, "Progress kept: step {} of {n}, {right}/{counted} right so far. `wirewalk lesson start {}` resumes.", i + 1, l.name)?;
                    self.out.flush()?;
                    return Ok(Outcome {
                        finished: false,
                        right,
                        counted,
                    });
                }
            }
        }
        let (right, counted) = self.score();
        if self.records() {
            let e = self.entry();
            e.done = true;
            e.step = n;
        }
        self.save()?;
        let first = self
            .progress
            .lessons
            .get(&l.name)
            .map(|p| p.first_try())
            .unwrap_or(0);
        writeln!(
            self.out,
            "{}",
            th.bold(&format!(
                "Lesson {} done: {} · score {right}/{counted}",
                l.order, l.title
            ))
        )?;
        if self.records() && counted > 0 {
            writeln!(self.out, "  {first} right at the first try.")?;
        }
        self.out.flush()?;
        Ok(Outcome {
            finished: true,
            right,
            counted,
        })
    }

    fn entry_step(&mut self, i: usize) {
        if self.records() {
            self.entry().step = i;
        }
    }

    fn score(&self) -> (usize, usize) {
        match self.progress.lessons.get(&self.lf.lesson.name) {
            Some(p) if self.records() => p.score(),
            _ => (
                0,
                self.lf
                    .lesson
                    .steps
                    .iter()
                    .filter(|s| s.question.is_some())
                    .count(),
            ),
        }
    }

    fn step(&mut self, i: usize) -> io::Result<Next> {
        let step: Step = self.lf.lesson.steps[i].clone();
        let n = self.lf.lesson.steps.len();
        let th = self.th();
        self.at = i;
        if self.opts.screen.is_some() {
            write!(self.out, "{PAGE}")?;
        }
        let head = match &step.title {
            Some(t) => format!("── Step {}/{n} · {t} ", i + 1),
            None => format!("── Step {}/{n} ", i + 1),
        };
        let rule = "─".repeat(self.opts.width.saturating_sub(head.chars().count()).min(60));
        writeln!(self.out, "{}", th.bold(&format!("{head}{rule}")))?;
        if let Some(t) = &step.text {
            self.para(t, 0)?;
            writeln!(self.out)?;
        }
        if let Some(show) = &step.show {
            self.show(i, show)?;
        }
        if let Some(p) = &step.prompt {
            writeln!(self.out, "{}", th.bold("Try it:"))?;
            self.para(p, 2)?;
            writeln!(self.out)?;
        }
        if let Some(q) = &step.question {
            match self.question(i, q)? {
                Next::Forward => {}
                other => return Ok(other),
            }
        }
        if !self.opts.pause {
            return Ok(Next::Forward);
        }
        loop {
            let last = i + 1 == n;
            if self.opts.screen.is_none() {
                let keys = if last {
                    "[Enter] finish · b back · q quit"
                } else {
                    "[Enter] next · b back · q quit"
                };
                write!(self.out, "{} ", th.dim(keys))?;
            }
            match self.read(Waiting::Next { last })?.as_deref() {
                None | Some("q") | Some("Q") => return Ok(Next::Quit),
                Some("") | Some("n") => {
                    writeln!(self.out)?;
                    return Ok(Next::Forward);
                }
                Some("b") | Some("B") => {
                    writeln!(self.out)?;
                    return Ok(Next::Back);
                }
                Some("h") | Some("H") => {
                    writeln!(self.out, "No hint on this step: press Enter to go on.")?
                }
                Some(_) => writeln!(
                    self.out,
                    "Enter goes on, b goes back, q quits (your progress is kept)."
                )?,
            }
        }
    }

    /// The packets the step shows: the tree with the focused layer marked, the
    /// application messages the packet completes, optionally the hex dump.
    fn show(&mut self, i: usize, show: &Show) -> io::Result<()> {
        let th = self.th();
        let Some(spec) = self.specs[i].clone() else {
            writeln!(
                self.out,
                "{} this step shows packets but the lesson names no source.\n",
                th.warn("!")
            )?;
            return Ok(());
        };
        let loaded = match self.sources.load(&spec) {
            Ok(l) => l,
            Err(e) => {
                writeln!(self.out, "{} cannot load the packets: {e}\n", th.warn("!"))?;
                return Ok(());
            }
        };
        let number = match &show.packet {
            PacketRef::Number(n) => Ok(*n).and_then(|n| {
                loaded
                    .by_number(n)
                    .map(|_| n)
                    .ok_or(format!("there is no packet {n}"))
            }),
            PacketRef::Locator(l) => loaded.locate(l),
        };
        let number = match number {
            Ok(n) => n,
            Err(e) => {
                writeln!(
                    self.out,
                    "{} {} — {e}; this step is skipped.\n",
                    th.warn("!"),
                    loaded.label
                )?;
                return Ok(());
            }
        };
        let (idx, packet) = loaded.by_number(number).expect("located");
        let what = match &show.packet {
            PacketRef::Locator(l) => format!(" ({l})"),
            PacketRef::Number(_) => String::new(),
        };
        writeln!(
            self.out,
            "{}",
            th.bold(&format!(
                "Packet {number} of {}{what} · {}",
                loaded.packets.len(),
                loaded.label
            ))
        )?;
        if let Some(Some(c)) = loaded.captions.get(idx) {
            self.para(&format!("What happens: {c}"), 2)?;
        }
        // The tree, plain (to find the layers) and themed (to print), line for line.
        let mut plain = Vec::new();
        let mut themed = Vec::new();
        let topts = TreeOptions {
            theme: Theme::plain(),
            width: self.opts.width.saturating_sub(2),
            explain: !show.brief,
            repeat: true,
        };
        // Times count from the first packet of the source, as in `inspect`.
        let first = &loaded.packets[0];
        let mut tr = TreeRender::new(topts);
        tr.title(first, &loaded.analyzer);
        tr.packet(&mut plain, packet, &loaded.analyzer)?;
        let mut tr = TreeRender::new(TreeOptions { theme: th, ..topts });
        tr.title(first, &loaded.analyzer);
        tr.packet(&mut themed, packet, &loaded.analyzer)?;
        let plain = String::from_utf8_lossy(&plain).into_owned();
        let themed = String::from_utf8_lossy(&themed).into_owned();
        let focus = focus_osi(&show.focus, packet);
        let plain_lines: Vec<&str> = plain.trim_end().lines().collect();
        let themed_lines: Vec<&str> = themed.trim_end().lines().collect();
        let same = plain_lines.len() == themed_lines.len();
        let mut current: Option<u8> = None;
        for (k, pl) in plain_lines.iter().enumerate() {
            let shown = if same { themed_lines[k] } else { pl };
            let label = label_osi(pl);
            if label.is_some() {
                current = label;
            } else if !pl.starts_with("   ") {
                current = None;
            }
            let gutter = match (focus, current) {
                (Some(f), Some(c)) if f == c => {
                    if label.is_some() {
                        th.layer_bold(f, "▶")
                    } else {
                        th.layer(f, "┃")
                    }
                }
                _ => " ".into(),
            };
            writeln!(self.out, "{gutter} {shown}")?;
        }
        if let Some(f) = focus {
            let name = explain::osi_name(f);
            let mut line = format!("▶ marks layer {f} ({name})");
            if let Some(l) = focused_layer(&show.focus, packet) {
                line.push_str(&format!(
                    ": its header is bytes {}–{} of this frame",
                    l.0,
                    l.1.saturating_sub(1)
                ));
            }
            writeln!(self.out, "{}", th.layer_bold(f, &line))?;
        }
        if show.hex {
            writeln!(self.out)?;
            HexRender::new(th).packet(self.out, packet, &loaded.analyzer)?;
        } else {
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// Asks a question (or, without pauses, answers it) and records the result.
    fn question(&mut self, i: usize, q: &Question) -> io::Result<Next> {
        let th = self.th();
        let key = (i + 1).to_string();
        writeln!(self.out, "{} {}", th.bold("Question:"), q.ask.trim())?;
        match q.kind {
            Kind::Choice => {
                for (k, c) in q.choices.iter().enumerate() {
                    self.para(&format!("{}. {c}", k + 1), 2)?;
                }
            }
            Kind::Order => {
                for (k, &s) in quiz::shuffled(q).iter().enumerate() {
                    self.para(&format!("{}. {}", k + 1, q.items[s]), 2)?;
                }
                writeln!(
                    self.out,
                    "{}",
                    th.dim("  (type the numbers in the right order, e.g. 3 1 2)")
                )?;
            }
            Kind::Blank | Kind::Packet => {}
        }
        // The value from the packets on screen.
        let mut fact: Option<Fact> = None;
        if q.kind == Kind::Packet {
            let spec = self.specs[i].clone();
            let from = q.answer_from.clone().unwrap_or_default();
            let got = match spec {
                Some(s) => self
                    .sources
                    .load(&s)
                    .and_then(|l| l.fact(&from).map_err(|e| format!("{e} in the {}", l.label))),
                None => Err("the lesson names no packets".into()),
            };
            match got {
                Ok(f) => fact = Some(f),
                Err(e) => {
                    writeln!(self.out, "{} These packets cannot answer this question ({e}): skipped, it does not count.\n", th.warn("!"))?;
                    if self.records() {
                        self.entry().answers.insert(
                            key,
                            Answered {
                                correct: false,
                                tries: 0,
                                skipped: true,
                            },
                        );
                    }
                    return Ok(Next::Forward);
                }
            }
        }
        if self.records() {
            if let Some(a) = self
                .progress
                .lessons
                .get(&self.lf.lesson.name)
                .and_then(|p| p.answers.get(&key))
                .cloned()
            {
                let verdict = if a.skipped {
                    "skipped"
                } else if a.correct {
                    "right"
                } else {
                    "not right"
                };
                writeln!(
                    self.out,
                    "(Answered before: {verdict}.) The answer: {}",
                    quiz::right_answer(q, fact.as_ref())
                )?;
                self.explain(q)?;
                return Ok(Next::Forward);
            }
        }
        if !self.opts.pause {
            if self.opts.answers.is_none() {
                writeln!(
                    self.out,
                    "{} {}",
                    th.good("Answer:"),
                    quiz::right_answer(q, fact.as_ref())
                )?;
                self.explain(q)?;
                return Ok(Next::Forward);
            }
            let given = self.answers.pop_front().unwrap_or_default();
            writeln!(self.out, "> {given}")?;
            let right = quiz::grade(q, &given, fact.as_ref()) == Grade::Right;
            if right {
                writeln!(self.out, "{}", th.good("✓ Right."))?;
            } else {
                self.not_right(q, fact.as_ref())?;
            }
            self.record(key, right, 1);
            self.explain(q)?;
            return Ok(Next::Forward);
        }
        let mut tries = 0u32;
        let mut hints = 0usize;
        loop {
            if self.opts.screen.is_none() {
                write!(self.out, "{} ", th.bold("answer>"))?;
            }
            let Some(line) = self.read(Waiting::Answer)? else {
                return Ok(Next::Quit);
            };

            match line.as_str() {
                "q" | "Q" => return Ok(Next::Quit),
                "b" | "B" => {
                    writeln!(self.out)?;
                    return Ok(Next::Back);
                }
                "h" | "H" | "?" => {
                    match q.hints.get(hints) {
                        Some(h) => {
                            let h = h.clone();
                            self.para(&format!("Hint: {h}"), 2)?;
                            hints += 1;
                        }
                        None => writeln!(self.out, "  No more hints.")?,
                    }
                    continue;
                }
                "" => {
                    writeln!(
                        self.out,
                        "  Type your answer (h for a hint, b back, q quit)."
                    )?;
                    continue;
                }
                _ => {}
            }
            if self.opts.screen.is_some() {
                // The screen's answer box empties on Enter: the page keeps what was said.
                writeln!(self.out, "{} {line}", th.bold(">"))?;
            }
            match quiz::grade(q, &line, fact.as_ref()) {
                Grade::Unreadable(msg) => {
                    writeln!(self.out, "  {msg}.")?;
                    continue;
                }
                Grade::Right => {
                    tries += 1;
                    writeln!(
                        self.out,
                        "{}",
                        th.good(if tries == 1 {
                            "✓ Right."
                        } else {
                            "✓ Right, at the second try."
                        })
                    )?;
                    self.record(key, true, tries);
                    break;
                }
                Grade::Wrong => {
                    tries += 1;
                    if tries < 2 {
                        writeln!(self.out, "{}", th.warn("✗ Not quite — one more try."))?;
                        if let Some(h) = q.hints.get(hints) {
                            let h = h.clone();
                            self.para(&format!("Hint: {h}"), 2)?;
                            hints += 1;
                        }
                        continue;
                    }
                    self.not_right(q, fact.as_ref())?;
                    self.record(key, false, tries);
                    break;
                }
            }
        }
        self.save()?;
        self.explain(q)?;
        Ok(Next::Forward)
    }

    /// Saves how a question went: right or not, after how many tries.
    fn record(&mut self, key: String, correct: bool, tries: u32) {
        self.entry().answers.insert(
            key,
            Answered {
                correct,
                tries,
                skipped: false,
            },
        );
    }

    /// After a miss: say so, and give the right answer.
    fn not_right(&mut self, q: &Question, fact: Option<&Fact>) -> io::Result<()> {
        let th = self.th();
        writeln!(
            self.out,
            "{} The answer: {}",
            th.warn("✗ Not right."),
            quiz::right_answer(q, fact)
        )
    }

    fn explain(&mut self, q: &Question) -> io::Result<()> {
        if let Some(e) = &q.explain {
            let e = e.clone();
            self.para(&e, 2)?;
        }
        writeln!(self.out)
    }
}

/// `  L4 Transport   …` → 4.
fn label_osi(line: &str) -> Option<u8> {
    let rest = line.strip_prefix("  L")?;
    let mut c = rest.chars();
    let d = c.next()?.to_digit(10)?;
    (c.next() == Some(' ') && (1..=7).contains(&d)).then_some(d as u8)
}

/// The OSI layer a step's focus names, in this packet.
fn focus_osi(focus: &Option<Focus>, p: &crate::pipeline::Packet) -> Option<u8> {
    match focus.as_ref()? {
        Focus::Osi(n) => Some(*n),
        Focus::Protocol(name) => {
            let name = name.to_ascii_lowercase();
            if let Some(l) = p
                .dissection
                .layers
                .iter()
                .find(|l| l.header.protocol() == name)
            {
                return Some(l.osi());
            }
            Some(match name.as_str() {
                "ethernet" | "linux-sll" | "linux-sll2" | "null" | "vlan" | "arp" => 2,
                "ipv4" | "ipv6" | "ip" | "icmp" | "icmpv6" => 3,
                "tcp" | "udp" => 4,
                "session" => 5,
                "presentation" | "tls" => 6,
                _ => 7,
            })
        }
    }
}

/// The byte range of the focused header, when the focus names one that is present.
fn focused_layer(focus: &Option<Focus>, p: &crate::pipeline::Packet) -> Option<(usize, usize)> {
    match focus.as_ref()? {
        Focus::Protocol(name) => p
            .dissection
            .layers
            .iter()
            .find(|l| l.header.protocol() == name.to_ascii_lowercase())
            .map(|l| l.range),
        Focus::Osi(n) => p
            .dissection
            .layers
            .iter()
            .find(|l| l.osi() == *n)
            .map(|l| l.range),
    }
}
