//! Each learner's progress, saved as JSON in the XDG data directory:
//! `$WIREWALK_DATA_DIR/progress.json` if set (tests), else
//! `$XDG_DATA_HOME/wirewalk/progress.json`, else `~/.local/share/wirewalk/progress.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    #[serde(default)]
    pub lessons: BTreeMap<String, LessonProgress>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LessonProgress {
    /// The step to resume at (from 0).
    pub step: usize,
    /// How many steps the lesson had when this was saved.
    pub steps: usize,
    pub done: bool,
    /// How many questions the lesson has.
    pub questions: usize,
    /// Answers by step number (from 1, as shown).
    #[serde(default)]
    pub answers: BTreeMap<String, Answered>,
    /// Seconds since the epoch of the last save.
    #[serde(default)]
    pub updated: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Answered {
    pub correct: bool,
    /// 1 = right at the first try.
    pub tries: u32,
    /// The packets on screen could not answer it (a capture without that packet).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl LessonProgress {
    /// (right, counted): questions answered right, and questions that count (not skipped).
    pub fn score(&self) -> (usize, usize) {
        let right = self.answers.values().filter(|a| a.correct).count();
        let skipped = self.answers.values().filter(|a| a.skipped).count();
        (right, self.questions.saturating_sub(skipped))
    }
    pub fn first_try(&self) -> usize {
        self.answers
            .values()
            .filter(|a| a.correct && a.tries == 1)
            .count()
    }
}

/// Where progress is kept.
pub fn data_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("WIREWALK_DATA_DIR") {
        return Some(d);
    }
    if let Some(d) = env("XDG_DATA_HOME").filter(|p| p.is_absolute()) {
        return Some(d.join("wirewalk"));
    }
    env("HOME").map(|h| h.join(".local/share/wirewalk"))
}

pub fn progress_path() -> Result<PathBuf, String> {
    data_dir().map(|d| d.join("progress.json")).ok_or_else(|| {
        "cannot tell where to save progress: set HOME, XDG_DATA_HOME or WIREWALK_DATA_DIR"
            .to_string()
    })
}

impl Progress {
    /// Reads the file; a missing file is empty progress, a damaged one an error that names it.
    pub fn load(path: &Path) -> Result<Progress, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                format!(
                    "the progress file {} is damaged ({e}); move it away to start afresh",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
            Err(e) => Err(format!(
                "cannot read the progress file {}: {e}",
                path.display()
            )),
        }
    }

    /// Writes the file whole (a temporary file renamed over it), creating the directory.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(self).expect("progress serializes");
        crate::outfile::write_whole(path, (text + "\n").as_bytes())
            .map_err(|e| format!("cannot save progress to {}: {e}", path.display()))
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
