//! Plain language for every layer, field, note and tag. Pure functions: (layer or event,
//! context) → text. The wording itself lives in the TOML files of `text/`, one per
//! subject, so that it is easy to review and translate; this module only picks the
//! template and fills its `{placeholders}`.

pub mod anatomy;
mod app;
mod layers;
mod presentation;
mod template;
mod tls;

pub use app::{
    app_asides, app_explain, app_headline, app_kind, app_main, app_short, check, session_summary,
};
pub use layers::{
    is_loopback, layer_details, layer_details_wanted, layer_explain, layer_headline,
    layer_headline_into, osi_name, physical, physical_explain, state_qualifier, tcp_intro,
    tcp_kind, tcp_kind_in, tcp_step,
};
pub use presentation::{presentation, Presentation};
pub use template::{text, text_into, texts, write_template_log, Args, Fnv};

use crate::analysis::Tag;
use crate::dissect::Note;

/// The sentence for a note (a cut, a bad checksum, a protocol violation).
/// A count of bytes in words: "1 byte", "2 bytes".
pub fn bytes(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 byte".to_string(),
        n => format!("{n} bytes"),
    }
}

pub fn note(n: &Note) -> String {
    let args: Vec<(&str, &str)> = n.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Notes of the dissector live in notes.toml; Socket.IO session notes in socketio.toml.
    let key = format!("notes.{}", n.key);
    if texts().contains_key(&key) {
        text(&key, &args)
    } else {
        text(&format!("socketio.session.{}", n.key), &args)
    }
}

/// A packet captured twice: what it is, why captures do that, and what Wireshark's tags
/// (listed) would have it be.
pub fn copy(original: u64, nth: u32, link: crate::frame::Link, tags: &[Tag]) -> String {
    let why = if link == crate::frame::Link::Nflog {
        "notes.copy.nflog"
    } else {
        "notes.copy.twice"
    };
    let names: Vec<&str> = tags
        .iter()
        .filter(|t| t.is_problem())
        .map(|t| t.name())
        .collect();
    let times = match nth {
        1 => "twice".to_string(),
        2 => "three times".to_string(),
        n => format!("{} times", n + 1),
    };
    let mut s = text(
        why,
        &[("original", &original.to_string()), ("times", &times)],
    );
    if !names.is_empty() {
        s.push(' ');
        s.push_str(&text("notes.copy.tags", &[("tags", &names.join(", "))]));
    }
    s
}

/// What an analysis tag means, for a learner.
pub fn tag(t: Tag) -> String {
    template::text_of(&["tags.", t.name()], &[])
}

/// A topic for `wirewalk explain TOPIC`, if there is one by that name (in topics.toml,
/// or in a protocol's own file under `[topics]`).
pub fn topic(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    let key = format!("topics.{name}");
    let own = format!(".topics.{name}");
    texts()
        .get(&key)
        .or_else(|| {
            texts()
                .iter()
                .find(|(k, _)| k.ends_with(&own))
                .map(|(_, t)| t)
        })
        .map(|t| t.render(&[]))
}

/// The names of all topics, sorted.
pub fn topics() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = texts()
        .keys()
        .filter_map(|k| {
            k.strip_prefix("topics.")
                .or_else(|| k.split_once(".topics.").map(|(_, t)| t))
        })
        .collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests;
