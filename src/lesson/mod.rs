//! Self-paced lessons: files in `lessons/` (format in `lessons/README.md`) with steps
//! that mix text, packets (simulated or from a capture) with one layer in focus,
//! prompts, and questions — some graded against values the pipeline computes from the
//! packets on screen. Progress is saved per user.
//!
//! `model` (serde types), `packets` (sources, locators, facts), `quiz` (grading),
//! `progress` (the saved file), `runner` (the interactive walk, through a `Write` and a
//! `BufRead`), `check` (validation of lesson files).

pub mod check;
pub mod model;
pub mod packets;
pub mod progress;
pub mod quiz;
pub mod runner;

use std::path::{Path, PathBuf};

pub use model::Lesson;

/// A lesson and where it came from.
#[derive(Debug, Clone)]
pub struct LessonFile {
    pub lesson: Lesson,
    /// The file, or None for a built-in lesson.
    pub path: Option<PathBuf>,
    /// How to name it in messages: `lessons/02-handshake.toml` or `built-in "handshake"`.
    pub origin: String,
}

impl LessonFile {
    /// Where the paths in this lesson (captures, scenario files) are relative to.
    pub fn base_dir(&self) -> PathBuf {
        match &self.path {
            Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
            None => PathBuf::from("."),
        }
    }
}

/// The lessons that ship inside the binary (the files in `lessons/`).
const BUILTIN: &[(&str, &str)] = &[
    (
        "lessons/01-osi.toml",
        include_str!("../../lessons/01-osi.toml"),
    ),
    (
        "lessons/02-handshake.toml",
        include_str!("../../lessons/02-handshake.toml"),
    ),
    (
        "lessons/03-teardown.toml",
        include_str!("../../lessons/03-teardown.toml"),
    ),
    (
        "lessons/04-tcp-udp.toml",
        include_str!("../../lessons/04-tcp-udp.toml"),
    ),
    (
        "lessons/05-websocket-upgrade.toml",
        include_str!("../../lessons/05-websocket-upgrade.toml"),
    ),
    (
        "lessons/06-websocket-frames.toml",
        include_str!("../../lessons/06-websocket-frames.toml"),
    ),
    (
        "lessons/07-socketio.toml",
        include_str!("../../lessons/07-socketio.toml"),
    ),
    (
        "lessons/08-proof-of-life.toml",
        include_str!("../../lessons/08-proof-of-life.toml"),
    ),
    (
        "lessons/09-tls-wss.toml",
        include_str!("../../lessons/09-tls-wss.toml"),
    ),
];

/// The captures built-in lessons read (`capture = "captures/NAME"`), inside the binary:
/// each made by the project itself (see lessons/README.md).
const BUILTIN_CAPTURES: &[(&str, &[u8])] = &[(
    "captures/wss-tls13.pcapng",
    include_bytes!("../../lessons/captures/wss-tls13.pcapng"),
)];

/// A built-in lesson's capture, by the name its lesson gives.
pub fn builtin_capture(name: &str) -> Option<&'static [u8]> {
    BUILTIN_CAPTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
}

/// Every built-in lesson, in course order. A built-in that does not parse is a bug that
/// `lesson check` and the tests catch; here it is an error naming the file.
pub fn builtin() -> Result<Vec<LessonFile>, String> {
    let mut v = Vec::new();
    for (file, text) in BUILTIN {
        let lesson = model::parse(text).map_err(|e| format!("{file}: {e}"))?;
        v.push(LessonFile {
            lesson,
            path: None,
            origin: format!("built-in {file}"),
        });
    }
    v.sort_by_key(|l| l.lesson.order);
    Ok(v)
}

/// Reads a lesson file.
pub fn load_file(path: &Path) -> Result<LessonFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read lesson {}: {e}", path.display()))?;
    let lesson = model::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(LessonFile {
        lesson,
        path: Some(path.to_path_buf()),
        origin: path.display().to_string(),
    })
}

/// A lesson by built-in name (`handshake`), by number in the course (`2`), or by path.
pub fn find(name: &str) -> Result<LessonFile, String> {
    let all = builtin()?;
    if let Some(l) = all.iter().find(|l| l.lesson.name == name) {
        return Ok(l.clone());
    }
    if let Ok(n) = name.parse::<u32>() {
        if let Some(l) = all.iter().find(|l| l.lesson.order == n) {
            return Ok(l.clone());
        }
    }
    let p = Path::new(name);
    if p.is_file() {
        return load_file(p);
    }
    let names: Vec<&str> = all.iter().map(|l| l.lesson.name.as_str()).collect();
    Err(format!(
        "no lesson called \"{name}\": use one of {} (or the path of a lesson file)",
        names.join(", ")
    ))
}
