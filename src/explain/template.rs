//! The text tables: every `text/*.toml` file, flattened to `file-section.key` → template.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// The files of wording, built into the binary so it works from anywhere.
const FILES: &[(&str, &str)] = &[
    ("layers", include_str!("text/layers.toml")),
    ("http", include_str!("text/http.toml")),
    ("websocket", include_str!("text/websocket.toml")),
    ("socketio", include_str!("text/socketio.toml")),
    ("tls", include_str!("text/tls.toml")),
    ("notes", include_str!("text/notes.toml")),
    ("tags", include_str!("text/tags.toml")),
    ("topics", include_str!("text/topics.toml")),
    ("presentation", include_str!("text/presentation.toml")),
    ("anatomy", include_str!("text/anatomy.toml")),
];

/// A template split once into literal text and `{name}` holes.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Lit(String),
    Hole(String),
}

pub type Args<'a> = [(&'a str, &'a str)];

impl Template {
    fn parse(s: &str) -> Template {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            match rest[open..].find('}') {
                Some(close) => {
                    if open > 0 {
                        parts.push(Part::Lit(rest[..open].to_string()));
                    }
                    parts.push(Part::Hole(rest[open + 1..open + close].to_string()));
                    rest = &rest[open + close + 1..];
                }
                None => break,
            }
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Template { parts }
    }

    /// Appends the filled template to `out`. A hole with no value keeps its `{name}`,
    /// which a test catches.
    pub fn render_into(&self, out: &mut String, args: &Args<'_>) {
        let mut one = false;
        for p in &self.parts {
            match p {
                Part::Lit(s) => push_lit(out, s, one),
                Part::Hole(name) => match args.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => {
                        out.push_str(&crate::value::short(v));
                        one = *v == "1";
                        continue;
                    }
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
            }
            one = false;
        }
    }

    /// Like `render_into`, but each hole's value is written by `fill` straight into `out`
    /// (no string per value: the hot path of `inspect`). `fill` returns false for a hole
    /// it does not know, which then keeps its `{name}`.
    pub fn render_with(&self, out: &mut String, fill: &dyn Fn(&str, &mut String) -> bool) {
        let mut one = false;
        for p in &self.parts {
            match p {
                Part::Lit(s) => push_lit(out, s, one),
                Part::Hole(name) => {
                    let at = out.len();
                    if fill(name, out) {
                        crate::value::cut_from(out, at, crate::value::MAX_SHOWN);
                        one = &out[at..] == "1";
                        continue;
                    }
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
            one = false;
        }
    }

    pub fn render(&self, args: &Args<'_>) -> String {
        let mut s = String::new();
        self.render_into(&mut s, args);
        s
    }

    /// The names of the holes, for checks.
    pub fn holes(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Hole(h) => Some(h.as_str()),
            Part::Lit(_) => None,
        })
    }
}

/// A literal after a hole; after a hole that said 1, "1 bytes" is "1 byte".
fn push_lit(out: &mut String, lit: &str, one: bool) {
    match lit.strip_prefix(" bytes") {
        Some(rest) if one => {
            out.push_str(" byte");
            out.push_str(rest);
        }
        _ => out.push_str(lit),
    }
}

/// FNV-1a over a key's bytes: the template keys are the project's own short strings,
/// looked up many times a packet, where SipHash's protection against chosen keys buys
/// nothing.
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The templates, by key.
pub type Texts = HashMap<String, Template, std::hash::BuildHasherDefault<Fnv>>;

fn flatten(prefix: &str, v: &toml::Value, out: &mut Texts) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), Template::parse(s.trim_end()));
        }
        other => {
            out.insert(prefix.to_string(), Template::parse(&other.to_string()));
        }
    }
}

/// All templates by key. The files are checked by tests; a broken file is a build bug.
pub fn texts() -> &'static Texts {
    static TEXTS: OnceLock<Texts> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut out = Texts::default();
        for (name, src) in FILES {
            match src.parse::<toml::Table>() {
                Ok(t) => flatten(name, &toml::Value::Table(t), &mut out),
                Err(e) => {
                    out.insert(format!("{name}.__error"), Template::parse(&e.to_string()));
                }
            }
        }
        out
    })
}

/// The filled template for `key`, or the key itself when there is no such text
/// (tests make sure every key used has its text).
pub fn text(key: &str, args: &Args<'_>) -> String {
    let mut s = String::new();
    text_into(&mut s, key, args);
    s
}

/// [`text`] of the key made of `parts` (`["anatomy.notes.", key]`), the key put
/// together on the stack: the notes of every packet look up their sentences this way.
pub fn text_of(parts: &[&str], args: &Args<'_>) -> String {
    let mut s = String::new();
    text_of_into(&mut s, parts, args);
    s
}

/// [`text_into`] of the key made of `parts`.
pub fn text_of_into(out: &mut String, parts: &[&str], args: &Args<'_>) {
    let mut buf = [0u8; 96];
    let mut n = 0;
    for p in parts {
        let Some(to) = buf.get_mut(n..n + p.len()) else {
            return text_into(out, &parts.concat(), args);
        };
        to.copy_from_slice(p.as_bytes());
        n += p.len();
    }
    // Whole strs joined: valid UTF-8.
    match std::str::from_utf8(&buf[..n]) {
        Ok(key) => text_into(out, key, args),
        Err(_) => text_into(out, &parts.concat(), args),
    }
}

/// Appends the filled template to `out` (no allocation for the lookup's result).
pub fn text_into(out: &mut String, key: &str, args: &Args<'_>) {
    let at = out.len();
    match texts().get(key) {
        Some(t) => t.render_into(out, args),
        None => out.push_str(key),
    }
    if let Some(log) = fired() {
        log.note(key, &out[at..]);
    }
}

/// With `WIREWALK_TEMPLATE_LOG=FILE`, the templates this run filled, each with the first
/// sentence it made from a packet's values, appended to FILE when the run ends:
/// `scripts/template-review.sh` gathers them over every capture and scenario the project
/// has, to read each template against a packet where it fires (and list those that never
/// do). Unset, it costs one check per sentence.
struct Fired {
    path: std::path::PathBuf,
    seen: Mutex<HashMap<String, String>>,
}

impl Fired {
    fn note(&self, key: &str, said: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            if !seen.contains_key(key) {
                seen.insert(key.to_string(), said.replace(['\t', '\n'], " "));
            }
        }
    }
}

fn fired() -> Option<&'static Fired> {
    static FIRED: OnceLock<Option<Fired>> = OnceLock::new();
    FIRED
        .get_or_init(|| {
            std::env::var_os("WIREWALK_TEMPLATE_LOG").map(|p| Fired {
                path: p.into(),
                seen: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
}

/// Appends what `WIREWALK_TEMPLATE_LOG` asked for (`key TAB run TAB sentence` lines).
pub fn write_template_log(run: &str) {
    let Some(log) = fired() else { return };
    let Ok(seen) = log.seen.lock() else { return };
    let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log.path)
    else {
        return;
    };
    let mut keys: Vec<_> = seen.iter().collect();
    keys.sort();
    for (key, said) in keys {
        let _ = writeln!(f, "{key}\t{run}\t{said}");
    }
}

/// Appends the template for `key`, its holes filled by `fill` (see `Template::render_with`).
pub fn text_with(out: &mut String, key: &str, fill: &dyn Fn(&str, &mut String) -> bool) {
    let at = out.len();
    match texts().get(key) {
        Some(t) => t.render_with(out, fill),
        None => out.push_str(key),
    }
    if let Some(log) = fired() {
        log.note(key, &out[at..]);
    }
}
