//! The layer tree: every packet from the wire up, one OSI layer a line, each in its
//! colour, with the plain-language explanation under it.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use super::{escape, Asked, Context, Draw, Render, Theme};
use crate::analysis::app::AppMessage;
use crate::analysis::{Analyzer, Transport};
use crate::dissect::{Header, Level, TcpFlags};
use crate::explain;
use crate::pipeline::Packet;

/// Settings for the tree, decided once by the command line.
#[derive(Debug, Clone, Copy)]
pub struct TreeOptions {
    pub theme: Theme,
    /// Wrap explanations at this many columns.
    pub width: usize,
    /// Show the plain-language explanations (off: values only).
    pub explain: bool,
    /// Repeat every explanation on every packet (off: each is given once per
    /// conversation, the first time it applies).
    pub repeat: bool,
}

pub struct TreeRender {
    opts: TreeOptions,
    first_time: Option<crate::frame::Timestamp>,
    /// What was explained already.
    memory: Memory,
    /// The conversation of the packet being drawn (u32::MAX: none).
    current: u32,
    /// "  L4 Transport    ", coloured, for each OSI layer (made once).
    labels: Arc<[String]>,
    /// One packet's text, written in one call.
    buf: Vec<u8>,
    /// A line being put together (reused).
    line: String,
    /// Where each part of the packet being drawn begins (see `Section`).
    sections: Vec<Section>,
}

/// Explanations already given, per conversation (bounded: forgotten past a limit).
type Seen = HashMap<u32, HashSet<u64, Prehashed>, Prehashed>;

/// What the tree remembers having explained.
enum Memory {
    /// The memory itself, kept in capture order.
    Own(Seen),
    /// On a drawing thread: answers guessed from what any thread has drawn so far (the
    /// first packet known to ask each question), every answer logged for
    /// [`Render::settle`] to check in capture order.
    Guess {
        first_asker: Arc<Mutex<FirstAsker>>,
        packet: u64,
        log: Vec<Asked>,
    },
}

/// For each question (its conversation and kind folded into one number: two that fold
/// alike only make a guess wrong, never the output), the first packet known to ask it.
type FirstAsker = HashMap<u64, u64, Prehashed>;

fn question(scope: u32, kind: u64) -> u64 {
    kind ^ (scope as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Past this many remembered questions the guesses start afresh (they only make
/// redrawing rarer; the output does not depend on them).
const GUESS_LIMIT: usize = 1 << 18;

/// Whether `kind` is new in `scope`, remembering it.
fn remember(seen: &mut Seen, scope: u32, kind: u64) -> bool {
    if seen.len() > SEEN_LIMIT {
        seen.clear();
    }
    seen.entry(scope).or_default().insert(kind)
}

/// Replays a packet's logged answers on the memory; true if each is what the memory
/// says. When one is not, the memory is put back as it was and false returned.
fn replay(seen: &mut Seen, asked: &[Asked]) -> bool {
    // What was added (and whether its conversation was new), to take it back.
    let mut added: Vec<(u32, u64, bool)> = Vec::new();
    let mut before_clear: Option<(Seen, usize)> = None;
    for a in asked {
        if seen.len() > SEEN_LIMIT && before_clear.is_none() {
            before_clear = Some((std::mem::take(seen), added.len()));
        }
        let created = !seen.contains_key(&a.scope);
        let new = remember(seen, a.scope, a.kind);
        if new {
            added.push((a.scope, a.kind, created));
        }
        if new != a.new {
            if let Some((old, n)) = before_clear {
                *seen = old;
                added.truncate(n);
            }
            for (scope, kind, created) in added.into_iter().rev() {
                if created {
                    seen.remove(&scope);
                } else if let Some(set) = seen.get_mut(&scope) {
                    set.remove(&kind);
                }
            }
            return false;
        }
    }
    true
}

/// The layer tree drawn on the drawing threads (see [`Memory::Guess`]).
struct TreeDraw {
    opts: TreeOptions,
    labels: Arc<[String]>,
    first_asker: Arc<Mutex<FirstAsker>>,
}

impl Draw for TreeDraw {
    fn draw(&self, out: &mut Vec<u8>, p: &Packet, cx: Context) -> io::Result<()> {
        self.draw_guessing(out, p, cx, &mut Vec::new())
    }

    fn draw_guessing(
        &self,
        out: &mut Vec<u8>,
        p: &Packet,
        cx: Context,
        asked: &mut Vec<Asked>,
    ) -> io::Result<()> {
        let mut tree = TreeRender::with_memory(
            self.opts,
            Arc::clone(&self.labels),
            Memory::Guess {
                first_asker: Arc::clone(&self.first_asker),
                packet: p.frame.number,
                log: std::mem::take(asked),
            },
        );
        let drawn = tree.draw(out, p, cx);
        if let Memory::Guess { log, .. } = tree.memory {
            *asked = log;
        }
        drawn
    }
}

/// The rule after a packet's title, cut to the width.
const RULE: &str = "────────────────────────────────────────────────────────────";

/// How many conversations' explanations are remembered before starting afresh.
const SEEN_LIMIT: usize = 4096;

/// The scope of explanations given once per capture rather than per conversation.
const CAPTURE_WIDE: u32 = u32::MAX - 1;

/// The set's values are FNV hashes already: hashing them again would be wasted work.
#[derive(Default, Clone, Copy)]
struct Unhashed(u64);

impl std::hash::Hasher for Unhashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    /// A conversation's number, spread over the bits the table looks at.
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type Prehashed = std::hash::BuildHasherDefault<Unhashed>;

/// FNV-1a (the templates' hasher): the kinds hashed here are short, known strings, not
/// attacker-chosen keys.
fn hash_of(s: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = crate::explain::Fnv::default();
    h.write(s.as_bytes());
    h.finish()
}

/// The column where a layer's values and explanations begin.
pub const LABEL_WIDTH: usize = 18;

/// Where the closing lines wrap in the outputs that have no layout width of their own
/// (one line per packet: --summary, --hex, --diagram).
pub const FOOTER_WIDTH: usize = 100;

/// Word-wraps `text` to `width` columns, every line indented by `indent` spaces: at word
/// boundaries (first fit, no hyphenation), a word longer than a line is cut.
///
/// Where to break is textwrap's (Unicode line breaking, UAX #14). Most paragraphs here
/// are plain prose whose break opportunities are simply after each run of spaces; those
/// are wrapped here directly (the same lines, see `simple_words`), the rest by textwrap.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    wrap_each(text, width, indent, &mut |pad, line| {
        let mut l = String::with_capacity(pad.len() + line.len());
        l.push_str(pad);
        l.push_str(line);
        lines.push(l);
    });
    lines
}

/// [`wrap`], each line written into `out` with its newline (no line made as a string).
pub fn wrap_into(out: &mut Vec<u8>, text: &str, width: usize, indent: usize) {
    wrap_each(text, width, indent, &mut |pad, line| {
        out.extend_from_slice(pad.as_bytes());
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    });
}

/// Spaces to indent by, without making them (the tree's indents are all shorter).
const SPACES: &str = "                                                                ";

/// The lines of [`wrap`], each given to `emit` as its indentation and its text.
fn wrap_each(text: &str, width: usize, indent: usize, emit: &mut dyn FnMut(&str, &str)) {
    let avail = width.saturating_sub(indent).max(20);
    let owned;
    let pad = match SPACES.get(..indent) {
        Some(p) => p,
        None => {
            owned = " ".repeat(indent);
            &owned
        }
    };
    let mut ends = Vec::new();
    for para in text.split('\n') {
        if para.is_empty() {
            emit(pad, "");
            continue;
        }
        if wrap_simple(para, avail, &mut ends) {
            for &(a, b) in &ends {
                emit(pad, &para[a..b]);
            }
            continue;
        }
        if fits(para, avail) {
            // Nowhere to break: the line as it is (what textwrap gives, without its
            // search for break opportunities).
            emit(pad, para);
            continue;
        }
        wrap_textwrap_cached(para, avail, pad, emit);
    }
}

/// textwrap's lines for one paragraph, remembered: the paragraphs it gets (with a `/`, a
/// `§` or an ellipsis) are the same sentences conversation after conversation, and its
/// Unicode line breaking costs some 200 instructions a character.
fn wrap_textwrap_cached(para: &str, avail: usize, pad: &str, emit: &mut dyn FnMut(&str, &str)) {
    use std::cell::RefCell;
    use std::hash::BuildHasher as _;
    type Wrapped = (String, usize, usize, Vec<String>);
    thread_local! {
        static WRAPPED: RefCell<HashMap<u64, Wrapped, Prehashed>> = RefCell::default();
    }
    /// Paragraphs remembered per thread before starting afresh.
    const LIMIT: usize = 512;
    let key = foldhash::fast::FixedState::with_seed(0x77).hash_one((para, avail, pad.len()));
    WRAPPED.with(|w| {
        let mut w = w.borrow_mut();
        let hit = w
            .get(&key)
            .filter(|(p, a, i, _)| p == para && *a == avail && *i == pad.len());
        if let Some((_, _, _, lines)) = hit {
            for l in lines {
                emit("", l);
            }
            return;
        }
        let opts = textwrap::Options::new(avail + pad.len())
            .initial_indent(pad)
            .subsequent_indent(pad)
            .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        let lines: Vec<String> = textwrap::wrap(para, &opts)
            .into_iter()
            .map(|l| l.into_owned())
            .collect();
        for l in &lines {
            emit("", l);
        }
        if w.len() >= LIMIT {
            w.clear();
        }
        w.insert(key, (para.to_string(), avail, pad.len(), lines));
    });
}

/// `line` and a newline, without the formatting machinery.
fn put_line<W: Write + ?Sized>(out: &mut W, line: &str) -> io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")
}

/// Whether `para` is one line of at most `avail` columns as textwrap measures them, with
/// no whitespace at either end (which textwrap would trim or keep by its own rules) and
/// no control character.
fn fits(para: &str, avail: usize) -> bool {
    // No character is wider than its UTF-8 bytes: a paragraph of at most `avail`
    // bytes fits, a longer one in ASCII does not.
    if para.len() > 4 * avail || (para.len() > avail && para.is_ascii()) {
        return false;
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_whitespace());
    if edge(para.chars().next()) || edge(para.chars().next_back()) {
        return false;
    }
    if para.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    para.len() <= avail || textwrap::core::display_width(para) <= avail
}

/// How a character takes part in line breaking, for the characters `simple_words`
/// knows (UAX #14 classes): `None` for any other.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Brk {
    /// Letters and the symbols that break like them (AL).
    Word,
    /// Digits (NU).
    Digit,
    /// `-` (HY): textwrap never breaks after it, UAX #14 never before it.
    Hyphen,
    /// `. , : ;` (IS): never broken before.
    Infix,
    /// `(` (OP): never broken after, even after spaces.
    Open,
    /// `)` (CP): never broken before.
    Close,
    /// `! ?` (EX): never broken before.
    Exclaim,
    /// `'` (QU): never broken before or after.
    Quote,
    /// `· → ↔ —`: kept where they stand only between spaces.
    Alone,
    /// `+` (PR): never broken from a letter or digit beside it (LB24, LB25).
    Plus,
    /// `/` (SY): never broken before, even after spaces (LB13); after it, a break before
    /// a letter, `(` or `+`, none before a digit (LB25) or a hyphen.
    Slash,
    /// `…` (IN): never broken before (LB22); after it, a break before a letter, a
    /// digit, `(` or `+`.
    Ellipsis,
}

/// [`brk`] of each ASCII character, looked up once per byte.
const ASCII_BRK: [Option<Brk>; 128] = {
    let mut t = [None; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = brk(i as u8 as char);
        i += 1;
    }
    t
};

const fn brk(c: char) -> Option<Brk> {
    Some(match c {
        'a'..='z' | 'A'..='Z' | '=' | '#' | '*' | '&' | '@' | '_' | '<' | '>' => Brk::Word,
        '0'..='9' => Brk::Digit,
        '-' => Brk::Hyphen,
        '/' => Brk::Slash,
        '…' => Brk::Ellipsis,
        '.' | ',' | ':' | ';' => Brk::Infix,
        '(' => Brk::Open,
        ')' => Brk::Close,
        '!' | '?' => Brk::Exclaim,
        '\'' => Brk::Quote,
        '·' | '→' | '↔' | '—' => Brk::Alone,
        '+' => Brk::Plus,
        _ => return None,
    })
}

/// Whether textwrap finds a break opportunity between the non-space characters `a` and
/// `b` (UAX #14: LB13 no break before IS, CP, EX, SY; LB14 none after OP; LB19 none
/// around QU; LB22 none before IN; LB25 none between SY and NU; LB21 none before a hyphen, and textwrap drops those after one; LB23,
/// LB25, LB28 none inside words and numbers; LB29 none after IS before a letter; LB30
/// none between a letter and `(`, nor between `)` and a letter).
fn pair(a: Brk, b: Brk) -> Pair {
    use Brk::*;
    let word = |k: Brk| matches!(k, Word | Digit | Hyphen);
    match (a, b) {
        (_, Alone) | (Alone, _) => Pair::Unknown,
        (_, Infix | Close | Exclaim | Slash | Ellipsis) => Pair::Join,
        (Open, _) => Pair::Join,
        (Slash, Digit | Hyphen | Quote) | (Ellipsis, Hyphen | Quote) => Pair::Join,
        (Slash | Ellipsis, Word | Digit | Open | Plus) => Pair::Break,
        (x, y) if word(x) && (word(y) || matches!(y, Open | Quote | Plus)) => Pair::Join,
        (Quote | Plus | Infix | Close, y) if word(y) => Pair::Join,
        _ => Pair::Unknown,
    }
}

/// What textwrap does between two non-space characters side by side.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pair {
    /// No break: one word.
    Join,
    /// A break opportunity with no space: a word ends after the first.
    Break,
    /// A case `wrap_simple` does not know: textwrap decides.
    Unknown,
}

/// Whether textwrap breaks after the spaces between `a` (or the paragraph's start) and
/// `b` (LB18), where no earlier rule forbids it: LB13 (before IS, CP, EX), LB14 (after
/// OP), LB15 (a quote, spaces, OP: a quote stands only inside words here), LB17 (B2
/// spaces B2: `—`).
fn breaks_after_spaces(a: Option<(Brk, char)>, b: (Brk, char)) -> bool {
    match (a, b) {
        (None, _) => false,
        (Some((Brk::Open, _)), _) => false,
        (_, (Brk::Infix | Brk::Close | Brk::Exclaim | Brk::Slash, _)) => false,
        (Some((Brk::Quote, _)), _) => false,
        (Some((_, '—')), (_, '—')) => false,
        _ => true,
    }
}

/// `para` wrapped as textwrap would (each line's range into `lines`), when its break opportunities are
/// exactly the starts of the words after each run of spaces and every word fits a line;
/// false (nothing added) otherwise. Every character it accepts is one column wide.
fn wrap_simple(para: &str, avail: usize, lines: &mut Vec<(usize, usize)>) -> bool {
    lines.clear();
    let mut fill = Fill {
        avail,
        line_start: 0,
        line_end: 0,
        width: 0,
        words: 0,
    };
    let mut prev: Option<(Brk, char)> = None;
    let mut in_spaces = false;
    let (mut start, mut word_end, mut cols) = (0, 0, 0);
    let simple = 'scan: {
        let bytes = para.as_bytes();
        let mut i = 0;
        while let Some(&byte) = bytes.get(i) {
            if byte == b' ' {
                if !in_spaces {
                    if prev.is_none() {
                        break 'scan false; // leading spaces
                    }
                    in_spaces = true;
                    word_end = i;
                }
                i += 1;
                continue;
            }
            let (b, c) = if byte < 0x80 {
                let Some(b) = ASCII_BRK[byte as usize] else {
                    break 'scan false;
                };
                (b, byte as char)
            } else {
                let c = para[i..].chars().next().expect("a character starts here");
                let Some(b) = brk(c) else { break 'scan false };
                (b, c)
            };
            if in_spaces {
                if !breaks_after_spaces(prev, (b, c)) {
                    break 'scan false;
                }
                fill.word(lines, start, word_end, i, cols);
                start = i;
                cols = 0;
                in_spaces = false;
            } else if let Some((a, _)) = prev {
                match pair(a, b) {
                    Pair::Join => {}
                    Pair::Break => {
                        fill.word(lines, start, i, i, cols);
                        start = i;
                        cols = 0;
                    }
                    Pair::Unknown => break 'scan false,
                }
            }
            cols += 1;
            i += c.len_utf8();
            if matches!(b, Brk::Word | Brk::Digit | Brk::Hyphen) {
                // The rest of a word's letters, digits and hyphens: joined, one column
                // each, and what may follow them is the same after any of the three.
                while let Some(&n) = bytes.get(i) {
                    if n >= 0x80
                        || !matches!(
                            ASCII_BRK[n as usize],
                            Some(Brk::Word | Brk::Digit | Brk::Hyphen)
                        )
                    {
                        break;
                    }
                    cols += 1;
                    i += 1;
                }
            }
            if cols > avail {
                break 'scan false; // textwrap would cut the word
            }
            prev = Some((b, c));
        }
        prev.is_some()
    };
    if !simple {
        return false;
    }
    let end = if in_spaces { word_end } else { para.len() };
    fill.word(lines, start, end, para.len(), cols);
    fill.push(lines);
    true
}

/// First fit, a word at a time: a word goes on the line if the line's words, the
/// spaces after them and the word fit.
struct Fill {
    avail: usize,
    /// The line being filled: from its first word's start to its last word's end.
    line_start: usize,
    line_end: usize,
    /// Its columns, with the spaces after each word; its words.
    width: usize,
    words: usize,
}

impl Fill {
    /// The word `[start, end)` of `cols` columns, its spaces up to `spaces_end`.
    fn word(
        &mut self,
        lines: &mut Vec<(usize, usize)>,
        start: usize,
        end: usize,
        spaces_end: usize,
        cols: usize,
    ) {
        if self.words > 0 && self.width + cols > self.avail {
            self.push(lines);
            self.width = 0;
            self.words = 0;
        }
        if self.words == 0 {
            self.line_start = start;
        }
        self.width += cols + (spaces_end - end);
        self.line_end = end;
        self.words += 1;
    }

    fn push(&self, lines: &mut Vec<(usize, usize)>) {
        lines.push((self.line_start, self.line_end));
    }
}

/// textwrap's own wrapping, for the tests that check `wrap` gives the same lines.
#[cfg(test)]
fn wrap_textwrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let avail = width.saturating_sub(indent).max(20);
    let pad = " ".repeat(indent);
    let opts = textwrap::Options::new(avail + indent)
        .initial_indent(&pad)
        .subsequent_indent(&pad)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    text.split('\n')
        .flat_map(|para| {
            if para.is_empty() {
                vec![pad.clone()]
            } else {
                textwrap::wrap(para, &opts)
                    .into_iter()
                    .map(|l| l.into_owned())
                    .collect()
            }
        })
        .collect()
}

/// Where one part of a packet's tree begins in the drawn text, and what it stands for:
/// the full-screen view folds a packet by these and highlights their bytes in the hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Byte offset in the drawn text where the section's first line starts.
    pub offset: usize,
    /// The OSI layer (1–7; 0 for the analysis: tags, notes, states).
    pub osi: u8,
    /// A short name that stays the same from packet to packet ("tcp", "wire", "app").
    pub name: &'static str,
    /// The frame's bytes this section describes, `[start, end)`.
    pub bytes: Option<(usize, usize)>,
}

impl TreeRender {
    pub fn new(opts: TreeOptions) -> TreeRender {
        let labels = (0..=7u8)
            .map(|osi| {
                let text = format!("L{osi} {}", explain::osi_name(osi));
                opts.theme
                    .layer_bold(osi, &format!("  {text:<w$}", w = LABEL_WIDTH - 2))
                    .into_owned()
            })
            .collect();
        TreeRender::with_memory(opts, labels, Memory::Own(Seen::default()))
    }

    fn with_memory(opts: TreeOptions, labels: Arc<[String]>, memory: Memory) -> TreeRender {
        TreeRender {
            opts,
            first_time: None,
            memory,
            current: u32::MAX,
            labels,
            buf: Vec::new(),
            line: String::with_capacity(160),
            sections: Vec::with_capacity(8),
        }
    }

    /// True the first time `kind` comes up in the current conversation (always, with
    /// `repeat`): a learner is told each thing once, not on every packet.
    fn is_new(&mut self, kind: &str) -> bool {
        self.is_new_in(self.current, kind)
    }

    /// True the first time `kind` comes up in the whole capture: what layers 1–3 are for
    /// is the same in every conversation, so it is said once.
    fn is_new_in_capture(&mut self, kind: &str) -> bool {
        self.is_new_in(CAPTURE_WIDE, kind)
    }

    fn is_new_in(&mut self, scope: u32, kind: &str) -> bool {
        if self.opts.repeat {
            return true;
        }
        let kind = hash_of(kind);
        match &mut self.memory {
            Memory::Own(seen) => remember(seen, scope, kind),
            Memory::Guess {
                first_asker,
                packet,
                log,
            } => {
                let again = log.iter().any(|a| a.scope == scope && a.kind == kind);
                let new = !again && {
                    let mut m = first_asker.lock().unwrap_or_else(|e| e.into_inner());
                    if m.len() > GUESS_LIMIT {
                        m.clear();
                    }
                    let first = m.entry(question(scope, kind)).or_insert(*packet);
                    let new = *first >= *packet;
                    *first = (*first).min(*packet);
                    new
                };
                log.push(Asked { scope, kind, new });
                new
            }
        }
    }

    /// Times are shown relative to this instant (by default, the first packet of the capture).
    pub fn set_start(&mut self, t: crate::frame::Timestamp) {
        self.first_time = Some(t);
    }

    fn label(&self, osi: u8) -> &str {
        &self.labels[osi.min(7) as usize]
    }

    /// Writes an explanation, unless this kind of explanation was given already.
    fn prose_once(
        &mut self,
        out: &mut Vec<u8>,
        kind: &str,
        text: impl FnOnce() -> String,
    ) -> io::Result<()> {
        if self.opts.explain && self.is_new(kind) {
            self.prose(out, &text())?;
        }
        Ok(())
    }

    /// One detail of a layer or message: "· " and its sentence, wrapped under the values.
    fn detail(&mut self, out: &mut Vec<u8>, d: &str) {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str("· ");
        line.push_str(&escape(d));
        wrap_into(out, &line, self.opts.width, LABEL_WIDTH);
        self.line = line;
    }

    fn prose(&self, out: &mut Vec<u8>, text: &str) -> io::Result<()> {
        if !self.opts.explain || text.is_empty() {
            return Ok(());
        }
        wrap_into(out, &escape(text), self.opts.width, LABEL_WIDTH);
        Ok(())
    }

    /// The header line of a packet.
    pub fn title(&mut self, p: &Packet, an: &Analyzer) -> String {
        let mut t = String::new();
        let cx = self.account(p, an);
        self.title_into(&mut t, p, cx);
        t
    }

    /// Appends the header line of a packet to `t`.
    fn title_into(&mut self, t: &mut String, p: &Packet, cx: Context) {
        use std::fmt::Write as _;
        let _ = write!(t, "Packet {} · ", p.frame.number);
        p.frame.time.push_since(cx.first, t, true, 0);
        let _ = write!(t, " s · {} bytes", p.frame.wire_len);
        if let (Some(tr), Some(s)) = (p.analysis.transport, p.analysis.stream) {
            let name = if tr == Transport::Tcp { "TCP" } else { "UDP" };
            let _ = write!(t, " · {name} stream {s}");
            if let Some([cl, sv]) = cx.ends {
                let from_client = p.analysis.from_client.unwrap_or(true);
                if tr == Transport::Tcp {
                    t.push_str(if from_client {
                        " · client → server"
                    } else {
                        " · server → client"
                    });
                } else {
                    let _ = write!(
                        t,
                        " · {} → {}",
                        if from_client { cl } else { sv },
                        if from_client { sv } else { cl }
                    );
                }
            }
        }
    }
}

impl Render for TreeRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        let cx = self.account(p, an);
        self.draw_out(out, p, cx)
    }

    fn drawer(&self) -> Option<Arc<dyn Draw>> {
        Some(Arc::new(TreeDraw {
            opts: self.opts,
            labels: Arc::clone(&self.labels),
            first_asker: Arc::default(),
        }))
    }

    fn account(&mut self, p: &Packet, an: &Analyzer) -> Context {
        // Relative to the first packet of the capture (as Wireshark), not the first shown.
        let first = *self
            .first_time
            .get_or_insert(an.totals.first.unwrap_or(p.frame.time));
        Context {
            first,
            ends: Context::ends_of(p, an),
        }
    }

    fn settle(
        &mut self,
        out: &mut dyn Write,
        p: &Packet,
        cx: Context,
        asked: &[Asked],
        drawn: &[u8],
    ) -> io::Result<()> {
        let right = match &mut self.memory {
            Memory::Own(seen) => replay(seen, asked),
            Memory::Guess { .. } => false,
        };
        if right {
            out.write_all(drawn)
        } else {
            self.draw_out(out, p, cx)
        }
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        finish_text(out, an, source_warnings, self.opts.theme, self.opts.width)
    }
}

impl TreeRender {
    /// One packet's tree as text, and where each of its parts begins in it.
    pub fn packet_sections(&mut self, p: &Packet, an: &Analyzer) -> (Vec<u8>, Vec<Section>) {
        let mut buf = Vec::new();
        let cx = self.account(p, an);
        // Writing into a Vec cannot fail.
        let _ = self.draw(&mut buf, p, cx);
        (buf, std::mem::take(&mut self.sections))
    }

    /// Draws `p` on this thread, with the memory, and writes it in one call.
    fn draw_out(&mut self, out: &mut dyn Write, p: &Packet, cx: Context) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let drawn = self.draw(&mut buf, p, cx);
        let written = out.write_all(&buf);
        self.buf = buf;
        drawn.and(written)
    }

    fn section(&mut self, out: &[u8], osi: u8, name: &'static str, bytes: Option<(usize, usize)>) {
        self.sections.push(Section {
            offset: out.len(),
            osi,
            name,
            bytes,
        });
    }

    /// Draws one packet into `out`.
    fn draw(&mut self, out: &mut Vec<u8>, p: &Packet, cx: Context) -> io::Result<()> {
        let th = self.opts.theme;
        self.sections.clear();
        self.current = p
            .analysis
            .stream
            .map(|s| {
                if p.analysis.transport == Some(Transport::Udp) {
                    s | 1 << 31
                } else {
                    s
                }
            })
            .unwrap_or(u32::MAX);
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str("── ");
        self.title_into(&mut line, p, cx);
        line.push(' ');
        let rule = self
            .opts
            .width
            .saturating_sub(line.chars().count() + 1)
            .min(RULE.len() / 3);
        line.push_str(&RULE[..rule * 3]);
        writeln!(out, "{}", th.bold(&line))?;
        self.line = line;

        // L1: the bits on the wire, where there was a wire.
        self.section(out, 1, "wire", Some((0, p.frame.data.len())));
        let (l1_head, l1) = explain::physical(&p.frame, &p.dissection);
        writeln!(out, "{}{}", self.label(1), l1_head)?;
        if self.opts.explain && self.is_new_in_capture(l1) {
            self.prose(out, &explain::physical_explain(&p.frame, l1))?;
        }

        for layer in &p.dissection.layers {
            let osi = layer.osi();
            let name = match layer.header.protocol() {
                "ethernet" => "Ethernet II",
                _ => crate::dissect::layer_title(layer),
            };
            if osi == 7 {
                self.section(out, 5, "session", p.dissection.payload);
                self.session_lines(out, p, cx)?;
            }
            self.section(out, osi, layer.header.protocol(), Some(layer.range));
            let mut head = std::mem::take(&mut self.line);
            head.clear();
            explain::layer_headline_into(&mut head, layer);
            writeln!(
                out,
                "{}{}  {}",
                self.label(osi),
                th.layer_bold(osi, name),
                th.layer(osi, &escape(&head))
            )?;
            self.line = head;
            if self.opts.explain {
                let sender = p.analysis.states.map(|st| {
                    st[if p.analysis.from_client.unwrap_or(true) {
                        0
                    } else {
                        1
                    }]
                });
                let tcp_kind = match &layer.header {
                    Header::Tcp(t) => explain::tcp_kind_in(t, sender),
                    _ => "",
                };
                let kind = match &layer.header {
                    Header::Tcp(_) => format!("tcp:{tcp_kind}"),
                    h => h.protocol().to_string(),
                };
                if let Header::Tcp(t) = &layer.header {
                    // What TCP is for, once; what this kind of segment does, once per kind.
                    let mut text = String::new();
                    if self.is_new("tcp:intro") {
                        explain::tcp_intro(&mut text, t);
                        text.push(' ');
                    }
                    if self.is_new(&kind) {
                        explain::tcp_step(&mut text, t, tcp_kind);
                    }
                    self.prose(out, text.trim_end())?;
                } else if if osi <= 3 {
                    self.is_new_in_capture(&kind)
                } else {
                    self.is_new(&kind)
                } {
                    let mut text = String::new();
                    explain::layer_explain(&mut text, layer);
                    self.prose(out, &text)?;
                }
                let details = explain::layer_details_wanted(layer, &mut |key| {
                    if osi <= 3 || key == "checksum_partial" {
                        self.is_new_in_capture(key)
                    } else {
                        self.is_new(key)
                    }
                });
                let mut details = details;
                if let Header::Tcp(t) = &layer.header {
                    let ipv6 = p.dissection.has("ipv6");
                    details.extend(explain::anatomy::tcp_notes(t, ipv6, &mut |k| {
                        self.is_new(k)
                    }));
                }
                for d in details {
                    self.detail(out, &d);
                }
            }
        }
        if !p.dissection.layers.iter().any(|l| l.osi() == 7) {
            self.section(out, 5, "session", p.dissection.payload);
            self.session_lines(out, p, cx)?;
        }
        for a in &p.analysis.app {
            self.section(out, 7, "app", p.dissection.payload);
            let checks: Vec<String> = a.checks.iter().map(explain::check).collect();
            if let AppMessage::Stopped(_) = a.message {
                for c in checks {
                    for line in wrap(&format!("! {}", escape(&c)), self.opts.width, 2) {
                        writeln!(out, "{}", th.warn(&line))?;
                    }
                }
                continue;
            }
            let name = a.message.display_name();
            let osi = a.message.osi();
            writeln!(
                out,
                "{}{}  {}",
                self.label(osi),
                th.layer_bold(osi, name),
                th.layer(osi, &escape(&explain::app_headline(a)))
            )?;
            if a.frames.len() > 1 {
                // A long message has many frames: the list is wrapped like prose.
                let list: Vec<String> = a.frames.iter().map(|f| f.to_string()).collect();
                let text = format!("carried by frames {}", list.join(", "));
                for line in wrap(&text, self.opts.width, LABEL_WIDTH) {
                    writeln!(out, "{}", th.dim(&line))?;
                }
            }
            if let AppMessage::Http(h) = &a.message {
                if self.opts.explain {
                    for (k, v) in h.headers_as_sent().take(24) {
                        let (k, v) = (escape(k), escape(v));
                        let lines = wrap(&format!("{k}: {v}"), self.opts.width, LABEL_WIDTH);
                        for (n, line) in lines.iter().enumerate() {
                            // The header's name in the layer's colour, the value plain.
                            match line.trim_start().strip_prefix(k.as_ref()) {
                                Some(rest) if n == 0 => writeln!(
                                    out,
                                    "{:w$}{}{rest}",
                                    "",
                                    th.layer(7, &k),
                                    w = LABEL_WIDTH
                                )?,
                                _ => writeln!(out, "{line}")?,
                            }
                        }
                    }
                }
            }
            // A message's own wording states its values: HTTP and Socket.IO get it every
            // time. The general lessons (server push, what an emit reaches) come once.
            let mut text = String::new();
            explain::app_main(&mut text, a);
            if !matches!(a.message, AppMessage::Http(_) | AppMessage::SocketIo(_))
                && !self.is_new(&explain::app_kind(a))
            {
                text.clear();
            }
            for (key, aside) in explain::app_asides(a) {
                if self.is_new(&key) {
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    text.push_str(&aside);
                }
            }
            if self.opts.explain {
                self.prose(out, &text)?;
            }
            if let (AppMessage::WebSocket(f), true) = (&a.message, self.opts.explain) {
                let notes = explain::anatomy::ws_notes(f, &mut |k| self.is_new_in_capture(k));
                for d in notes {
                    self.detail(out, &d);
                }
            }
            for c in checks {
                for (i, line) in wrap(&escape(&c), self.opts.width, LABEL_WIDTH)
                    .into_iter()
                    .enumerate()
                {
                    let line = if i == 0 {
                        format!("{:w$}! {}", "", line.trim_start(), w = LABEL_WIDTH - 2)
                    } else {
                        line
                    };
                    writeln!(out, "{}", th.warn(&line))?;
                }
            }
        }
        if let Some(s) = &p.analysis.started {
            // A message that starts here and ends later: said where it starts.
            self.section(out, 7, "app", p.dissection.payload);
            writeln!(
                out,
                "{}{}  {}",
                self.label(7),
                th.layer_bold(7, s.protocol),
                th.layer(7, &explain::anatomy::started(s))
            )?;
        }
        let analysis = !p.analysis.tags.is_empty()
            || !p.dissection.notes.is_empty()
            || !p.analysis.notes.is_empty()
            || p.analysis.states.is_some()
            || p.analysis.copy_of.is_some();
        if analysis {
            self.section(out, 0, "analysis", None);
        }
        if let Some((original, nth)) = p.analysis.copy_of {
            // A copy: Wireshark's tags are listed as what they are, its reading of a copy.
            writeln!(
                out,
                "{}",
                th.warn(&format!("  = a copy of packet {original}"))
            )?;
            let link = p.frame.link;
            self.prose(out, &explain::copy(original, nth, link, &p.analysis.tags))?;
        }
        // A crafted segment (SYN with FIN or RST) is no step of any exchange: the tags
        // say what its flags would mean, the words would tell a story that is not there.
        let crafted = p
            .dissection
            .tcp()
            .is_some_and(|t| explain::tcp_kind(t) == "crafted");
        for tag in &p.analysis.tags {
            if p.analysis.copy_of.is_some() && tag.is_problem() {
                continue;
            }
            let mark = if tag.is_problem() {
                th.warn(&format!("  ! {}", tag.name())).into_owned()
            } else {
                th.bold(&format!("  ▸ {}", tag.name())).into_owned()
            };
            writeln!(out, "{mark}")?;
            if !crafted {
                self.prose_once(out, tag.name(), || explain::tag(*tag))?;
            }
        }
        for n in p.dissection.notes.iter().chain(&p.analysis.notes) {
            let text = escape(&explain::note(n)).into_owned();
            let lines = wrap(&text, self.opts.width, 4);
            let mark = if n.level == Level::Warning {
                th.warn("  ! ")
            } else {
                "  · ".into()
            };
            for (i, l) in lines.iter().enumerate() {
                if i == 0 {
                    writeln!(out, "{mark}{}", l.trim_start())?;
                } else {
                    writeln!(out, "{l}")?;
                }
            }
        }
        if let Some(states) = p.analysis.states {
            let mut line = format!("  {}", th.dim("state"));
            for (i, who) in ["client", "server"].into_iter().enumerate() {
                if i == 1 {
                    line.push_str(" ·");
                }
                line.push_str(&format!(" {who} {}", th.bold(states[i].name())));
                line.push_str(&explain::state_qualifier(
                    states[i],
                    p.analysis.sent[i] == 0,
                    p.analysis.fin_incoming[i],
                ));
            }
            put_line(out, &line)?;
        }
        writeln!(out)
    }
}

impl TreeRender {
    /// L5 and L6: said only where there is something true to say.
    fn session_lines(&mut self, out: &mut Vec<u8>, p: &Packet, cx: Context) -> io::Result<()> {
        let (Some(tr), Some(stream)) = (p.analysis.transport, p.analysis.stream) else {
            return Ok(());
        };
        let Some([client, server]) = cx.ends else {
            return Ok(());
        };
        let key = if tr == Transport::Tcp {
            "layers.session.tcp"
        } else {
            "layers.session.udp"
        };
        // The session is named once, on the conversation's first packet shown (the title
        // of every packet carries its stream number after that).
        if self.is_new("L5") || self.opts.repeat {
            let cl = client.to_string();
            let sv = server.to_string();
            let (stream_s, nth) = (stream.to_string(), p.analysis.nth_in_stream.to_string());
            writeln!(
                out,
                "{}{}",
                self.label(5),
                self.opts
                    .theme
                    .layer(5, &format!("conversation {stream} · {cl} ↔ {sv}"))
            )?;
            self.prose_once(out, key, || {
                explain::text(
                    key,
                    &[
                        ("stream", &stream_s),
                        ("client", &cl),
                        ("server", &sv),
                        ("nth", &nth),
                    ],
                )
            })?;
        }
        let payload = p.dissection.payload_bytes(&p.frame);
        let is_syn = p
            .dissection
            .tcp()
            .map(|t| t.has(TcpFlags::SYN))
            .unwrap_or(false);
        if !payload.is_empty() && !is_syn {
            // What the bytes are, from the messages decoded in them (explain::presentation).
            let l6 = explain::presentation(&p.analysis.app, payload);
            writeln!(
                out,
                "{}{}",
                self.label(6),
                self.opts.theme.layer(6, &escape(&l6.line))
            )?;
            self.prose_once(out, &l6.key, || l6.text())?;
        }
        Ok(())
    }
}

/// The closing lines of the text outputs: totals, conversations, problems, warnings,
/// wrapped at `width` columns.
pub fn finish_text(
    out: &mut dyn Write,
    an: &Analyzer,
    source_warnings: &[String],
    th: Theme,
    width: usize,
) -> io::Result<()> {
    let t = &an.totals;
    let dur = match (t.first, t.last) {
        (Some(a), Some(b)) => b.since(a),
        _ => 0.0,
    };
    let convs: Vec<_> = an.conversations().collect();
    let tcp = convs
        .iter()
        .filter(|c| c.transport == Transport::Tcp)
        .count();
    let udp = convs.len() - tcp;
    writeln!(
        out,
        "{}",
        th.bold(&format!(
            "{} packets, {} bytes, {:.6} s; {} TCP and {} UDP conversations",
            t.packets, t.bytes, dur, tcp, udp
        ))
    )?;
    // Copies are no trouble on the wire: their tags are said with them, not as problems.
    for (name, n) in &t.problems {
        let n = n - t.problems_on_copies.get(name).copied().unwrap_or(0);
        if n > 0 {
            writeln!(out, "  {} {n} packet(s)", th.warn(&format!("! {name}:")))?;
        }
    }
    if t.copies > 0 {
        let tags: Vec<String> = t
            .problems_on_copies
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        let mut said =
            crate::explain::text("notes.copy.total", &[("count", &t.copies.to_string())]);
        if !tags.is_empty() {
            said.push(' ');
            said.push_str(&crate::explain::text(
                "notes.copy.total_tags",
                &[("tags", &tags.join(", "))],
            ));
        }
        for line in wrap(&format!("· {said}"), width, 2) {
            put_line(out, &line)?;
        }
    }
    for sess in an.sessions.sessions() {
        for line in wrap(&escape(&crate::explain::session_summary(sess)), width, 2) {
            writeln!(out, "{}", th.layer(7, &line))?;
        }
    }
    for i in &t.info {
        for line in wrap(&format!("· {}", escape(i)), width, 2) {
            put_line(out, &line)?;
        }
    }
    for w in source_warnings {
        writeln!(out, "{} {}", th.warn("warning:"), escape(w))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `wrap` gives textwrap's lines, byte for byte, on prose built from the characters
    /// it wraps itself and from characters it leaves to textwrap, at many widths.
    #[test]
    fn wrapping_is_textwraps() {
        let pieces = [
            "a",
            "frame",
            "16-bit",
            "ACK",
            "12",
            "1.5",
            "e.g.",
            "(text)",
            "(",
            ")",
            "·",
            "→",
            "—",
            "server's",
            "'",
            "\"",
            "=",
            "146.",
            "ok,",
            "ok;",
            "done!",
            "why?",
            "a/b",
            "HTTP/1.1",
            "é",
            "日本",
            "-",
            "--",
            "x(",
            ")(",
            ".(",
            "a-(",
            "'q'",
            "%",
            "+1",
            "$5",
            "…",
            "¿",
            "ab:cd",
            "?",
            "!",
            "[x]",
            "{y}",
            "\t",
            "↔",
            "F+",
            "+",
            "(+1)",
            "1+2",
            "+(",
            "++",
            "x+)",
            "+.",
            "-+",
            "+'",
            "'+",
            ")+",
            "+·",
            "/",
            "x/",
            "/chat",
            "(/chat)",
            "1/2",
            "a…",
            "…b",
            "…)",
            "-/1",
            "a/=b",
            "…'",
            "/'",
            "'/",
            "…1",
            "a/(b",
            "key…",
            "…hashes",
            "ab/cd+ef==",
            "1/-2",
            "…/a",
            "a/…",
            "……",
            "//",
        ];
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let mut simple = 0;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..1 + next(40) {
                text.push_str(pieces[next(pieces.len())]);
                match next(10) {
                    0 => {}
                    1 => text.push_str("  "),
                    2 => text.push('\n'),
                    _ => text.push(' '),
                }
            }
            let (width, indent): (usize, usize) =
                [(100, 18), (40, 4), (60, 2), (30, 0), (80, 18)][next(5)];
            let mut probe = Vec::new();
            simple += text
                .split('\n')
                .filter(|p| wrap_simple(p, width.saturating_sub(indent).max(20), &mut probe))
                .count();
            assert_eq!(
                wrap(&text, width, indent),
                wrap_textwrap(&text, width, indent),
                "{text:?} at {width}/{indent}"
            );
        }
        // The fast way is taken often enough for the comparison to mean something.
        assert!(simple > 5_000, "{simple} paragraphs wrapped directly");
    }

    #[test]
    fn plain_prose_is_wrapped_at_spaces() {
        let text = "· Bytes in flight: 150 sent by this side and not yet acknowledged, neither by an ACK nor by a SACK block.";
        let mut lines = Vec::new();
        assert!(wrap_simple(text, 82, &mut lines));
        assert_eq!(
            lines.iter().map(|&(a, b)| format!("  {}", &text[a..b])).collect::<Vec<_>>(),
            [
                "  · Bytes in flight: 150 sent by this side and not yet acknowledged, neither by an",
                "  ACK nor by a SACK block."
            ]
        );
        // A quotation is left to textwrap.
        assert!(!wrap_simple("say \"hi\"", 82, &mut lines));
    }
}
