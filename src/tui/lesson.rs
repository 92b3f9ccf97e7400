//! A lesson in the full screen: the step's page (its text, the packet with the layer in
//! focus marked, the question and what was answered), an answer box while a question
//! waits, and the progress and keys in the footer.
//!
//! The lesson itself is `lesson::runner`, unchanged in what it teaches and grades: it
//! runs on its own thread, writes its pages into a channel (a form feed starts each
//! step's page) and reads the learner's lines from another; before each wait it says
//! what it waits for (`Status`). Keys act at once, without Enter, except an answer,
//! which is typed into the box and sent with Enter.

use std::io::{self, Read, Write};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::text::{cut, fit, Look};
use crate::lesson::runner::{self, Outcome, RunError, RunOptions, Status, Waiting, PAGE};
use crate::lesson::LessonFile;

/// The runner's pages, as bytes, through a channel.
struct PageWriter {
    buf: Vec<u8>,
    tx: Sender<Vec<u8>>,
}

impl Write for PageWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            // A screen that has gone away: the runner's next read ends the lesson.
            let _ = self.tx.send(std::mem::take(&mut self.buf));
        }
        Ok(())
    }
}

impl Drop for PageWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// The learner's lines, as the runner reads them; the end when the screen closes.
struct LineReader {
    rx: Receiver<String>,
    pending: Vec<u8>,
}

impl Read for LineReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv() {
                Ok(line) => self.pending = format!("{line}\n").into_bytes(),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// The screen's state: the page, the box, what the runner waits for.
pub struct LessonScreen {
    pub title: String,
    /// The current step's page, as the runner wrote it (ANSI colours).
    page: Vec<u8>,
    /// The first line of the page in view; None: the end of the page is in view.
    pub top: Option<usize>,
    /// The page's length and the pane's height at the last drawing (for scrolling).
    geometry: std::cell::Cell<(usize, usize)>,
    /// Pages begun: the lesson's opening words stay on the first step's page.
    pages_begun: usize,
    /// The answer being typed.
    pub input: String,
    pub status: Option<Status>,
    /// The runner has finished (the lesson done, or quit).
    pub ended: bool,
    pub look: Look,
    pages: Receiver<Vec<u8>>,
    statuses: Receiver<Status>,
    lines: Option<Sender<String>>,
    runner: Option<JoinHandle<Result<Outcome, RunError>>>,
    /// How the run ended, once it has.
    result: Option<Result<Outcome, RunError>>,
    /// What the runner wrote since the learner's last line: once it has ended, its
    /// last words (the score, or where progress was kept), printed under the screen.
    pub last_words: Vec<u8>,
}

impl LessonScreen {
    /// Starts the lesson on its thread; `opts.width` is the page width it lays text to.
    pub fn start(lf: LessonFile, mut opts: RunOptions, look: Look) -> LessonScreen {
        let (page_tx, pages) = channel();
        let (status_tx, statuses) = channel();
        let (line_tx, line_rx) = channel();
        opts.screen = Some(status_tx);
        opts.pause = true;
        let title = format!("Lesson {} · {}", lf.lesson.order, lf.lesson.title);
        let runner = std::thread::spawn(move || {
            let mut out = PageWriter {
                buf: Vec::new(),
                tx: page_tx,
            };
            let mut input = io::BufReader::new(LineReader {
                rx: line_rx,
                pending: Vec::new(),
            });
            runner::run(&lf, opts, &mut out, &mut input)
        });
        LessonScreen {
            title,
            page: Vec::new(),
            top: None,
            geometry: std::cell::Cell::new((0, 0)),
            pages_begun: 0,
            input: String::new(),
            status: None,
            ended: false,
            look,
            pages,
            statuses,
            lines: Some(line_tx),
            runner: Some(runner),
            result: None,
            last_words: Vec::new(),
        }
    }

    /// Takes what the runner wrote and said since the last call; true when the runner
    /// is waiting for the learner (or has ended), so the screen is up to date.
    pub fn pump(&mut self) -> bool {
        // The statuses first: the page bytes before a status were sent before it.
        let mut told = false;
        while let Ok(s) = self.statuses.try_recv() {
            // A question is at the end of its page: it is shown, the packet above it.
            if s.waiting == Waiting::Answer {
                self.top = None;
            }
            self.status = Some(s);
            told = true;
        }
        loop {
            match self.pages.try_recv() {
                Ok(bytes) => self.add(&bytes),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.end();
                    return true;
                }
            }
        }
        told
    }

    /// Waits (up to `limit`) until the runner waits for the learner or ends.
    pub fn settle(&mut self, limit: Duration) {
        if self.status.is_some() {
            // Already waiting for the learner: nothing more is coming.
            self.pump();
            return;
        }
        let until = std::time::Instant::now() + limit;
        loop {
            if self.pump() || self.ended {
                return;
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match self.pages.recv_timeout(left.min(Duration::from_millis(20))) {
                Ok(bytes) => self.add(&bytes),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.end(),
            }
        }
    }

    fn add(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        // A form feed starts the next step's page; what came before it is the last page.
        while let Some(k) = rest.iter().position(|&b| b == PAGE as u8) {
            self.page.extend_from_slice(&rest[..k]);
            if self.pages_begun > 0 {
                self.page.clear();
            }
            self.pages_begun += 1;
            self.top = Some(0);
            rest = &rest[k + 1..];
        }
        self.page.extend_from_slice(rest);
        self.last_words.extend_from_slice(bytes);
    }

    fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.status = None;
        self.lines = None;
        self.last_words.retain(|&b| b != PAGE as u8);
        // The runner has written its last page: its thread is ending.
        if let Some(h) = self.runner.take() {
            self.result = Some(h.join().unwrap_or_else(|_| {
                Err(RunError::Message(
                    "the lesson stopped on an internal error".into(),
                ))
            }));
        }
    }

    /// Whether the run came to the lesson's end (rather than a quit or an error).
    pub fn finished(&self) -> bool {
        matches!(&self.result, Some(Ok(o)) if o.finished)
    }

    /// Closes the screen's side: the runner, if still reading, reads the end (a quit,
    /// progress kept) and its result is taken.
    fn close(mut self) -> (Result<Outcome, RunError>, Vec<u8>) {
        self.lines = None;
        while !self.ended {
            self.settle(Duration::from_millis(50));
        }
        let result = self.result.take().unwrap_or_else(|| {
            Err(RunError::Message(
                "the lesson ended without a result".into(),
            ))
        });
        (result, std::mem::take(&mut self.last_words))
    }

    fn send(&mut self, line: &str) {
        if let Some(tx) = &self.lines {
            if tx.send(line.to_string()).is_ok() {
                // The runner answers; until it waits again, keys are not taken twice.
                self.status = None;
                // The reply comes at the end of the page.
                self.top = None;
                self.last_words.clear();
            }
        }
    }

    /// What a key does. Returns false when the screen should close.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.send("q");
            return false;
        }
        let (len, height) = self.geometry.get();
        let page = height.saturating_sub(1).max(1);
        match k.code {
            KeyCode::Up => self.scroll_by(len, height, -1),
            KeyCode::Down => self.scroll_by(len, height, 1),
            KeyCode::PageUp => self.scroll_by(len, height, -(page as isize)),
            KeyCode::PageDown => self.scroll_by(len, height, page as isize),
            // Space reads on down a long page before it goes to the next step.
            KeyCode::Char(' ') if self.below(len, height) > 0 => {
                self.scroll_by(len, height, page as isize);
                return true;
            }
            _ => {}
        }
        if self.ended {
            return !matches!(
                k.code,
                KeyCode::Char('q') | KeyCode::Esc | KeyCode::Enter | KeyCode::Char(' ')
            );
        }
        match self.status.map(|s| s.waiting) {
            Some(Waiting::Next { .. }) => match k.code {
                KeyCode::Right | KeyCode::Enter | KeyCode::Char(' ') | KeyCode::Char('n') => {
                    self.send("")
                }
                KeyCode::Left | KeyCode::Char('b') | KeyCode::Char('p') => self.send("b"),
                KeyCode::Char('q') | KeyCode::Esc => self.send("q"),
                _ => {}
            },
            Some(Waiting::Answer) => match k.code {
                KeyCode::Enter if !self.input.trim().is_empty() => {
                    let line = std::mem::take(&mut self.input);
                    self.send(line.trim());
                }
                KeyCode::Backspace => {
                    self.input.pop();
                }
                KeyCode::Char('?') if self.input.is_empty() => self.send("h"),
                KeyCode::Left if self.input.is_empty() => self.send("b"),
                KeyCode::Esc => self.send("q"),
                KeyCode::Char(c) if !c.is_control() && self.input.chars().count() < 200 => {
                    self.input.push(c)
                }
                _ => {}
            },
            // The runner is busy: the key waits for nothing.
            None => {}
        }
        true
    }

    /// The first line in view, for a page of `len` lines in a pane `height` high.
    fn first(&self, len: usize, height: usize) -> usize {
        let last_top = len.saturating_sub(height);
        self.top.map_or(last_top, |t| t.min(last_top))
    }

    /// Lines of the page below the pane.
    fn below(&self, len: usize, height: usize) -> usize {
        len.saturating_sub(self.first(len, height) + height)
    }

    fn scroll_by(&mut self, len: usize, height: usize, by: isize) {
        let first = self.first(len, height).saturating_add_signed(by);
        let last_top = len.saturating_sub(height);
        self.top = (first < last_top).then_some(first);
    }

    /// The page as lines fitted to `width`.
    fn page_lines(&self, width: usize) -> Vec<Line<'static>> {
        self.look
            .lines(&self.page)
            .into_iter()
            .flat_map(|l| {
                let indent = l
                    .spans
                    .iter()
                    .flat_map(|s| s.content.chars())
                    .take_while(|c| *c == ' ')
                    .count();
                fit(l, width, indent)
            })
            .collect()
    }
}

/// Draws the lesson screen.
pub fn draw(f: &mut Frame, s: &LessonScreen) {
    let area = f.area();
    let look = s.look;
    if look.big {
        f.render_widget(
            Block::default().style(Style::default().bg(Color::Black)),
            area,
        );
    }
    let asking = s.status.is_some_and(|st| st.waiting == Waiting::Answer);
    let [head, body, answer, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(if asking { 3 } else { 0 }),
        Constraint::Length(2),
    ])
    .areas(area);
    let w = area.width as usize;
    let step = s
        .status
        .map(|st| format!(" — step {} of {}", st.step + 1, st.steps))
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(cut(
            Line::styled(format!("{}{step}", s.title), look.heading()),
            w,
        )),
        head,
    );
    page(f, s, body);
    if asking {
        let block = Block::default()
            .borders(Borders::ALL)
            .title(" your answer (Enter sends) ")
            .style(look.plain());
        let inner = block.inner(answer);
        f.render_widget(block, answer);
        let shown: String = {
            // The end of a long answer stays in view.
            let room = (inner.width as usize).saturating_sub(1);
            let n = s.input.chars().count();
            s.input.chars().skip(n.saturating_sub(room)).collect()
        };
        f.render_widget(
            Paragraph::new(Line::styled(format!("{shown}▏"), look.plain())),
            inner,
        );
    }
    let (len, height) = s.geometry.get();
    let (above, below) = (s.first(len, height), s.below(len, height));
    let more = match (above, below) {
        (0, 0) => String::new(),
        (_, 0) => format!(" · ↑ {above} lines above"),
        (_, b) => format!(" · ↓ {b} more lines (space)"),
    };
    let progress = match s.status {
        Some(st) => format!(
            "step {} of {} · {} of {} right so far{more}",
            st.step + 1,
            st.steps,
            st.right,
            st.questions,
        ),
        None if s.ended => "the lesson has ended".into(),
        None => "…".into(),
    };
    let keys = match s.status.map(|st| st.waiting) {
        Some(Waiting::Next { last: false }) => {
            "→ Enter next · ← back · ↑↓ scroll · q quit (progress is kept)"
        }
        Some(Waiting::Next { last: true }) => {
            "→ Enter finish · ← back · ↑↓ scroll · q quit (progress is kept)"
        }
        Some(Waiting::Answer) => {
            "type, Enter sends · ? hint · ← back (box empty) · ↑↓ scroll · Esc quit"
        }
        None if s.ended => "q Enter leave",
        None => "",
    };
    f.render_widget(
        Paragraph::new(vec![
            cut(Line::styled(progress, look.heading()), w),
            cut(Line::styled(keys.to_string(), look.plain()), w),
        ]),
        footer,
    );
}

fn page(f: &mut Frame, s: &LessonScreen, area: Rect) {
    let lines = s.page_lines(area.width as usize);
    let h = area.height as usize;
    s.geometry.set((lines.len(), h));
    let top = s.first(lines.len(), h);
    let shown: Vec<Line> = lines.into_iter().skip(top).take(h).collect();
    f.render_widget(Paragraph::new(shown).style(s.look.plain()), area);
}

/// Runs a lesson in the full screen until it ends or the learner quits; the terminal is
/// put back as it was and the run's last words are printed under it.
/// The last words (score, where progress was kept) go to `after` once the terminal is
/// back, coloured only when `look` is.
pub fn run(
    lf: LessonFile,
    mut opts: RunOptions,
    look: Look,
    after: &mut dyn Write,
) -> Result<Outcome, RunError> {
    let size = ratatui::crossterm::terminal::size().map_err(RunError::Io)?;
    opts.width = (size.0 as usize).clamp(40, 120);
    let mut screen = LessonScreen::start(lf, opts, look);
    colored::control::set_override(true);
    let mut terminal = ratatui::try_init().map_err(RunError::Io)?;
    let shown = (|| -> io::Result<()> {
        loop {
            screen.settle(Duration::from_millis(50));
            terminal.draw(|f| draw(f, &screen))?;
            // A quit (or an error) leaves at once; the lesson's end waits for a key.
            if screen.ended && !screen.finished() {
                return Ok(());
            }
            if event::poll(Duration::from_millis(50))? {
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        if !screen.key(k) {
                            return Ok(());
                        }
                    }
                    Event::Resize(..) => terminal.autoresize()?,
                    _ => {}
                }
            }
        }
    })();
    ratatui::restore();
    let (result, last_words) = screen.close();
    shown.map_err(RunError::Io)?;
    if look.color {
        after.write_all(&last_words).map_err(RunError::Io)?;
    } else {
        for line in look.lines(&last_words) {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            writeln!(after, "{text}").map_err(RunError::Io)?;
        }
    }
    after.flush().map_err(RunError::Io)?;
    result
}
