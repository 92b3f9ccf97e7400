//! The lesson file format (`lessons/*.toml`, documented in `lessons/README.md`), as
//! serde types. Every table refuses unknown keys, so a typo is an error that names it.

use serde::{Deserialize, Serialize};

/// One lesson: metadata, where its packets come from, and its steps in order.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// Short name used on the command line (`wirewalk lesson start NAME`).
    pub name: String,
    pub title: String,
    /// One or two sentences for `lesson list`.
    pub summary: String,
    /// Position in the course (lessons are listed in this order).
    pub order: u32,
    /// The packets shown when the lesson starts (a step may switch to others).
    #[serde(default)]
    pub source: Option<SourceSpec>,
    /// What kind of capture of your own works with `--pcap FILE` (shown by `list` and `start`).
    #[serde(default)]
    pub pcap_hint: Option<String>,
    #[serde(rename = "step", default)]
    pub steps: Vec<Step>,
}

/// Where packets come from: a built-in (or file) simulation scenario, or a capture file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// A scenario name (`handshake`, `websocket`, …) or the path of a scenario file.
    #[serde(default)]
    pub simulate: Option<String>,
    /// The simulation's seed (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// A pcap/pcapng file, relative to the lesson file.
    #[serde(default)]
    pub capture: Option<String>,
}

/// One step: any mix of a title, text, packets to show, a prompt and a question,
/// shown in that order.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// Switch to other packets from this step on (a scenario or a capture).
    #[serde(default)]
    pub simulate: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub capture: Option<String>,
    /// Packets to show, with the layer to focus on.
    #[serde(default)]
    pub show: Option<Show>,
    /// Something to try at the keyboard (a command to run, a thing to look for).
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub question: Option<Question>,
}

/// Which packet to show and how.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Show {
    /// A packet number (`3`) or a locator (`"syn-ack"`, `"websocket_accept"`, `"fin#2"`…,
    /// see `lessons/README.md`), so the step works on any capture.
    pub packet: PacketRef,
    /// The layer to highlight: a protocol (`"tcp"`, `"ipv4"`, `"ethernet"`, `"http"`…)
    /// or an OSI layer number (1–7).
    #[serde(default)]
    pub focus: Option<Focus>,
    /// Also show the hex dump, bytes coloured by layer.
    #[serde(default)]
    pub hex: bool,
    /// Show the packet without the plain-language explanations (values only).
    #[serde(default)]
    pub brief: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PacketRef {
    Number(u64),
    Locator(String),
}

impl std::fmt::Display for PacketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacketRef::Number(n) => write!(f, "packet {n}"),
            PacketRef::Locator(l) => f.write_str(l),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Focus {
    Osi(u8),
    Protocol(String),
}

/// The kinds of question.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Pick one of `choices`; `correct` is its number, from 1.
    Choice,
    /// Fill in the blank (`____` in `ask`): `answer` plus `accept` synonyms; case, spaces
    /// and a leading article do not matter.
    Blank,
    /// Put `items` (written in the right order) in order; they are shown shuffled.
    Order,
    /// Answered from the packets on screen: the right value is computed by the pipeline
    /// from `answer_from`; `answer` is what it gives on the lesson's own source (checked
    /// by `wirewalk lesson check`).
    Packet,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub kind: Kind,
    pub ask: String,
    #[serde(default)]
    pub choices: Vec<String>,
    #[serde(default)]
    pub correct: Option<usize>,
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub accept: Vec<String>,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub answer_from: Option<String>,
    /// Shown one at a time on `h`, and the first after a wrong try.
    #[serde(default)]
    pub hints: Vec<String>,
    /// Shown after the answer, right or wrong.
    #[serde(default)]
    pub explain: Option<String>,
}

/// Parses a lesson file's text; the error is one line naming the key or the line.
pub fn parse(text: &str) -> Result<Lesson, String> {
    toml::from_str::<Lesson>(text).map_err(|e| {
        let msg = e.message().to_string();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: {msg}")
            }
            None => msg,
        }
    })
}
