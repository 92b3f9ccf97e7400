//! The view's state and what each key does, apart from the terminal: a test sends keys
//! and draws into ratatui's `TestBackend`.

use std::collections::HashSet;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::walk::{Tree, Walk};
use crate::filter::Filter;
use crate::render::terminal::TreeOptions;
use crate::render::Theme;

/// What the screen is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `wirewalk browse FILE`: the packet list, tree, hex and ladder.
    Browse,
    /// The tour: one packet and its narration a screen, the ladder beside it.
    Tour,
}

/// The part of the screen the arrow keys move in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    Tree,
    Hex,
    Ladder,
}

/// A line being typed in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Search(String),
    Filter(String),
}

/// How the view was asked to look.
#[derive(Debug, Clone, Copy)]
pub struct ViewOptions {
    pub mode: Mode,
    /// Colours on screen (off with `--color never` or NO_COLOR).
    pub color: bool,
    /// Projector mode (`--big`).
    pub big: bool,
    /// Values only (`--brief`).
    pub brief: bool,
    /// Every explanation on every packet (`--explain-all`; `e` toggles it).
    pub explain_all: bool,
}

/// The renderers always colour for the view (see `Look`, which may drop the colours).
pub(super) const THEME: Theme = Theme { color: true };

/// A drawn tree, kept while the same packet is shown at the same width.
pub(super) struct CachedTree {
    pub key: (usize, usize, bool),
    pub tree: Tree,
}

pub struct App {
    pub walk: Walk,
    pub opts: ViewOptions,
    /// The packets shown (indices into the walk): all, or those the filter keeps.
    pub visible: Vec<usize>,
    /// The selected packet: an index into `visible`.
    pub cur: usize,
    /// The first row of the list on screen.
    pub list_top: usize,
    pub pane: Pane,
    /// The detail pane shown when the screen has room for only one.
    pub detail: Pane,
    /// The selected part of the tree, by its name, kept from packet to packet.
    pub section: Option<(u8, &'static str)>,
    /// How far the tree is scrolled (lines).
    pub tree_scroll: usize,
    /// The next drawing scrolls the tree to the selected part.
    pub(super) reveal: bool,
    /// How far the hex dump is scrolled (lines).
    pub hex_scroll: usize,
    /// Folded parts of the tree, by name: a folded layer stays folded on every packet.
    pub folded: HashSet<(u8, &'static str)>,
    pub prompt: Option<Prompt>,
    /// One line in the footer: what a search or a filter found, or why not.
    pub message: Option<String>,
    pub help: bool,
    /// Shown beside the first packet until the first key (the tour's introduction).
    pub intro: Option<String>,
    pub filter: Option<String>,
    /// A live source's line for the footer: packets so far, what is happening.
    pub live: Option<String>,
    last_search: String,
    pub quit: bool,
    pub(super) cache: Option<CachedTree>,
}

impl App {
    pub fn new(walk: Walk, opts: ViewOptions) -> App {
        let visible = (0..walk.len()).collect();
        App {
            walk,
            opts,
            visible,
            cur: 0,
            list_top: 0,
            pane: match opts.mode {
                Mode::Browse => Pane::List,
                Mode::Tour => Pane::Tree,
            },
            detail: match opts.mode {
                Mode::Browse => Pane::Tree,
                Mode::Tour => Pane::Ladder,
            },
            section: None,
            tree_scroll: 0,
            reveal: false,
            hex_scroll: 0,
            folded: HashSet::new(),
            prompt: None,
            message: None,
            help: false,
            intro: None,
            filter: None,
            live: None,
            last_search: String::new(),
            quit: false,
            cache: None,
        }
    }

    /// The selected packet (an index into the walk), if any packet is shown.
    pub fn packet(&self) -> Option<usize> {
        self.visible.get(self.cur).copied()
    }

    /// Shows only the packets `text` keeps (the same filter as `inspect -f`); empty: all.
    pub fn set_filter(&mut self, text: &str) -> Result<(), String> {
        let keep_packet = self.packet();
        if text.trim().is_empty() {
            self.visible = (0..self.walk.len()).collect();
            self.filter = None;
        } else {
            let f = Filter::parse(text)?;
            self.visible = (0..self.walk.len())
                .filter(|&i| f.matches(&self.walk.packets[i]))
                .collect();
            self.filter = Some(text.trim().to_string());
        }
        // Stay on the same packet if it is still shown, else the next one that is.
        self.cur = match keep_packet {
            Some(p) => self.visible.partition_point(|&i| i < p),
            None => 0,
        }
        .min(self.visible.len().saturating_sub(1));
        self.list_top = self.list_top.min(self.cur);
        self.moved();
        Ok(())
    }

    /// Packets were added to the walk (a live capture) from index `from`: those the filter
    /// keeps are shown, and the selection follows the newest while it was on the last.
    pub fn grew(&mut self, from: usize) {
        let following = self.visible.is_empty() || self.cur + 1 == self.visible.len();
        let filter = self.filter.as_deref().and_then(|f| Filter::parse(f).ok());
        let before = self.visible.len();
        for i in from..self.walk.len() {
            if filter
                .as_ref()
                .is_none_or(|f| f.matches(&self.walk.packets[i]))
            {
                self.visible.push(i);
            }
        }
        if following && self.visible.len() > before {
            self.go(self.visible.len() - 1);
            if before == 0 {
                self.moved();
            }
        }
    }

    /// Selects the `n`th shown packet.
    pub fn go(&mut self, n: usize) {
        let n = n.min(self.visible.len().saturating_sub(1));
        if n != self.cur {
            self.cur = n;
            self.moved();
        }
    }

    fn moved(&mut self) {
        self.tree_scroll = 0;
        self.hex_scroll = 0;
        self.reveal = true;
    }

    /// Moves to the previous (`by` < 0) or next packet of the selected packet's conversation.
    fn step_in_conversation(&mut self, by: isize) {
        let Some(i) = self.packet() else { return };
        let Some((list, place)) = self.walk.conversation(i) else {
            return;
        };
        let mut at = place as isize;
        loop {
            at += by;
            let Some(&k) = usize::try_from(at).ok().and_then(|a| list.get(a)) else {
                return;
            };
            if let Ok(v) = self.visible.binary_search(&k) {
                self.go(v);
                return;
            }
        }
    }

    /// Finds the next shown packet after the selected one whose line has `text`.
    pub fn search(&mut self, text: &str) {
        let needle = if text.is_empty() {
            self.last_search.clone()
        } else {
            text.to_lowercase()
        };
        if needle.is_empty() {
            return;
        }
        self.last_search = needle.clone();
        let n = self.visible.len();
        let found = (1..=n)
            .map(|k| (self.cur + k) % n)
            .find(|&v| self.walk.search_text(self.visible[v]).contains(&needle));
        match found {
            Some(v) => {
                let wrapped = v <= self.cur;
                self.go(v);
                self.message = Some(format!(
                    "found '{needle}' in packet {}{}",
                    self.walk.packets[self.visible[v]].frame.number,
                    if wrapped { " (from the top)" } else { "" }
                ));
            }
            None => self.message = Some(format!("no packet shown has '{needle}'")),
        }
    }

    /// The tree's options at a pane width.
    pub fn tree_options(&self, width: usize) -> TreeOptions {
        TreeOptions {
            theme: THEME,
            width,
            explain: !self.opts.brief,
            repeat: self.opts.explain_all,
        }
    }

    /// The selected packet's tree at `width` (drawn once, then kept).
    pub(super) fn tree(&mut self, width: usize) -> Option<&Tree> {
        let i = self.packet()?;
        let key = (i, width, self.opts.explain_all);
        if self.cache.as_ref().map(|c| c.key) != Some(key) {
            let tree = self.walk.tree(i, self.tree_options(width));
            self.cache = Some(CachedTree { key, tree });
        }
        self.cache.as_ref().map(|c| &c.tree)
    }

    /// The parts of the selected packet's tree, by name (from the last drawing).
    fn section_names(&self) -> Vec<(u8, &'static str)> {
        self.cache
            .as_ref()
            .map(|c| {
                c.tree
                    .sections
                    .iter()
                    .enumerate()
                    .filter(|(k, s)| {
                        let end = c
                            .tree
                            .sections
                            .get(k + 1)
                            .map(|n| n.offset)
                            .unwrap_or(c.tree.text.len());
                        end > s.offset
                    })
                    .map(|(_, s)| (s.osi, s.name))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Moves the selection in the tree by `by` parts.
    fn move_section(&mut self, by: isize) {
        let names = self.section_names();
        if names.is_empty() {
            return;
        }
        let at = self
            .section
            .and_then(|s| names.iter().position(|n| *n == s));
        let next = match at {
            None if by > 0 => 0,
            None => names.len() - 1,
            Some(k) => (k as isize + by).clamp(0, names.len() as isize - 1) as usize,
        };
        self.section = Some(names[next]);
        self.reveal = true;
    }

    fn toggle_fold(&mut self) {
        let Some(s) = self.section else {
            self.move_section(1);
            return;
        };
        if !self.folded.remove(&s) {
            self.folded.insert(s);
        }
    }

    fn cycle_pane(&mut self) {
        self.pane = match (self.opts.mode, self.pane) {
            (Mode::Browse, Pane::List) => Pane::Tree,
            (Mode::Browse, Pane::Tree) => Pane::Hex,
            (Mode::Browse, Pane::Hex) => Pane::Ladder,
            (Mode::Browse, Pane::Ladder) => Pane::List,
            // The tour: the tree stays in focus; Tab puts the hex or the ladder beside it.
            (Mode::Tour, p) => {
                self.detail = if self.detail == Pane::Ladder {
                    Pane::Hex
                } else {
                    Pane::Ladder
                };
                p
            }
        };
        if self.pane != Pane::List {
            self.detail = self.pane;
        }
    }

    /// Handles one key.
    pub fn key(&mut self, k: KeyEvent) {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if let Some(p) = self.prompt.take() {
            self.prompt_key(p, k);
            return;
        }
        if self.intro.take().is_some()
            && matches!(
                k.code,
                KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('n') | KeyCode::Enter
            )
        {
            // The first step is to read the introduction; the walk begins on this packet.
            return;
        }
        if self.help {
            self.help = false;
            if !matches!(k.code, KeyCode::Char('q')) {
                return;
            }
        }
        self.message = None;
        let page = 10;
        match k.code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Right | KeyCode::Char(' ') | KeyCode::Char('n') => self.go(self.cur + 1),
            KeyCode::Left | KeyCode::Char('b') | KeyCode::Char('p') => {
                self.go(self.cur.saturating_sub(1))
            }
            KeyCode::Home | KeyCode::Char('g') => self.go(0),
            KeyCode::End | KeyCode::Char('G') => self.go(usize::MAX),
            KeyCode::Up | KeyCode::Char('k') => match self.pane {
                Pane::List => self.go(self.cur.saturating_sub(1)),
                Pane::Tree => self.move_section(-1),
                Pane::Hex => self.hex_scroll = self.hex_scroll.saturating_sub(1),
                Pane::Ladder => self.step_in_conversation(-1),
            },
            KeyCode::Down | KeyCode::Char('j') => match self.pane {
                Pane::List => self.go(self.cur + 1),
                Pane::Tree => self.move_section(1),
                Pane::Hex => self.hex_scroll += 1,
                Pane::Ladder => self.step_in_conversation(1),
            },
            KeyCode::PageDown => match self.pane {
                Pane::List | Pane::Ladder => self.go(self.cur + page),
                Pane::Tree => self.tree_scroll += page,
                Pane::Hex => self.hex_scroll += page,
            },
            KeyCode::PageUp => match self.pane {
                Pane::List | Pane::Ladder => self.go(self.cur.saturating_sub(page)),
                Pane::Tree => self.tree_scroll = self.tree_scroll.saturating_sub(page),
                Pane::Hex => self.hex_scroll = self.hex_scroll.saturating_sub(page),
            },
            KeyCode::Enter => match self.pane {
                Pane::List => {
                    self.pane = Pane::Tree;
                    self.detail = Pane::Tree;
                }
                _ => self.toggle_fold(),
            },
            KeyCode::Tab | KeyCode::BackTab => self.cycle_pane(),
            KeyCode::Char('/') => self.prompt = Some(Prompt::Search(String::new())),
            KeyCode::Char('f') => {
                self.prompt = Some(Prompt::Filter(self.filter.clone().unwrap_or_default()))
            }
            KeyCode::Char('e') => {
                self.opts.explain_all = !self.opts.explain_all;
                self.message = Some(if self.opts.explain_all {
                    "every explanation on every packet".into()
                } else {
                    "each explanation once per conversation".into()
                });
            }
            KeyCode::Char('x') => {
                self.detail = if self.detail == Pane::Hex {
                    Pane::Ladder
                } else {
                    Pane::Hex
                };
            }
            KeyCode::Char('?') | KeyCode::Char('h') => self.help = true,
            _ => {}
        }
    }

    fn prompt_key(&mut self, p: Prompt, k: KeyEvent) {
        let (mut text, search) = match p {
            Prompt::Search(t) => (t, true),
            Prompt::Filter(t) => (t, false),
        };
        match k.code {
            KeyCode::Esc => return,
            KeyCode::Enter => {
                if search {
                    self.search(&text);
                } else if let Err(e) = self.set_filter(&text) {
                    self.message = Some(format!("bad filter: {e}"));
                    self.prompt = Some(Prompt::Filter(text));
                } else {
                    self.message = Some(match &self.filter {
                        Some(f) => format!("{} packets match '{f}'", self.visible.len()),
                        None => "every packet shown".into(),
                    });
                }
                return;
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) => text.push(c),
            _ => {}
        }
        self.prompt = Some(if search {
            Prompt::Search(text)
        } else {
            Prompt::Filter(text)
        });
    }
}
