//! Lessons: `lesson check` on every built-in lesson and on a fixture with a wrong answer
//! key; the runner driven through a `BufRead` and a `Vec<u8>`; and a person at a
//! terminal, played through tmux (`#[ignore]`d: `.ci/run` runs it with `-- --ignored`).

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use wirewalk::lesson::progress::Progress;
use wirewalk::lesson::runner::{run, RunOptions};
use wirewalk::lesson::{self, check, quiz};
use wirewalk::render::Theme;

const BIN: &str = env!("CARGO_BIN_EXE_wirewalk");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lessons")
        .join(name)
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wirewalk-lessons-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_builtin_lesson_checks_and_has_three_questions() {
    let all = lesson::builtin().unwrap();
    assert_eq!(all.len(), 9);
    for lf in &all {
        let problems = check::check(lf);
        assert!(problems.is_empty(), "{}: {problems:?}", lf.origin);
        let q = lf
            .lesson
            .steps
            .iter()
            .filter(|s| s.question.is_some())
            .count();
        assert!(q >= 3, "{} has {q} questions", lf.lesson.name);
    }
    // The files on disk are the ones built in.
    let out = Command::new(BIN)
        .args(["lesson", "check", "--color", "never"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_fails_clearly_on_a_wrong_answer_key() {
    let out = Command::new(BIN)
        .args(["lesson", "check", "--color", "never"])
        .arg(fixture("wrong-key.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL wrong-key"), "{text}");
    assert!(
        text.contains("step 2: wrong answer key: answer = \"12345\", but answer_from = \"server_isn\" gives \"3768183916\" (packet 2)"),
        "{text}"
    );
    assert!(
        text.contains("step 3: wrong answer key: correct = 3, but there are 2 choices"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 1 lesson file(s) have problems"));
}

/// The order answer a person would type for the tiny lesson's order question.
fn tiny_order_answer() -> String {
    let lf = lesson::load_file(&fixture("tiny.toml")).unwrap();
    let q = lf
        .lesson
        .steps
        .iter()
        .filter_map(|s| s.question.as_ref())
        .find(|q| q.kind == lesson::model::Kind::Order)
        .unwrap();
    let shown = quiz::shuffled(q);
    (0..q.items.len())
        .map(|i| (shown.iter().position(|&s| s == i).unwrap() + 1).to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn opts(progress: &Path) -> RunOptions {
    RunOptions {
        pause: true,
        answers: None,
        theme: Theme::plain(),
        width: 100,
        pcap: None,
        seed: None,
        progress_path: Some(progress.to_path_buf()),
        reset: false,
        screen: None,
    }
}

#[test]
fn runner_grades_quits_resumes_and_saves() {
    let dir = temp_dir("runner");
    let path = dir.join("progress.json");
    let lf = lesson::load_file(&fixture("tiny.toml")).unwrap();

    // Enter past the packet, a hint, a wrong try, the right one, then quit at question 2.
    let mut out = Vec::new();
    let input = "\nh\n1\n3768183916\n\nq\n";
    let r = run(&lf, opts(&path), &mut out, &mut Cursor::new(input))
        .map_err(|e| format!("{e:?}"))
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!r.finished);
    assert!(
        text.contains("▶   L4 Transport    TCP  8080 → 47777  [SYN ACK]"),
        "{text}"
    );
    assert!(
        text.contains("Hint: It is the raw seq of the SYN-ACK."),
        "{text}"
    );
    assert!(text.contains("✗ Not quite — one more try."), "{text}");
    assert!(text.contains("✓ Right, at the second try."), "{text}");
    assert!(text.contains("EXPLAIN-ISN"), "{text}");
    assert!(
        text.contains("Progress kept: step 3 of 5, 1/3 right so far."),
        "{text}"
    );
    let p = Progress::load(&path).unwrap();
    let t = &p.lessons["tiny"];
    assert_eq!((t.step, t.done, t.questions), (2, false, 3));
    assert_eq!((t.answers["2"].correct, t.answers["2"].tries), (true, 2));

    // Resume: a right blank, back (the answer is remembered), on, the order wrong twice.
    let mut out = Vec::new();
    let input = "  HTTP  Request \n\nb\n\n\n1 2 3\n1 2 3\n\n\n";
    let r = run(&lf, opts(&path), &mut out, &mut Cursor::new(input))
        .map_err(|e| format!("{e:?}"))
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("Resuming at step 3 of 5."), "{text}");
    assert!(
        text.contains("(Answered before: right.) The answer: request"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "✗ Not right. The answer: {} — SYN → SYN-ACK → ACK",
            tiny_order_answer()
        )),
        "{text}"
    );
    assert!(
        text.contains("Lesson 98 done: A tiny handshake lesson · score 2/3"),
        "{text}"
    );
    assert_eq!(
        r,
        wirewalk::lesson::runner::Outcome {
            finished: true,
            right: 2,
            counted: 3
        }
    );
    let t = &Progress::load(&path).unwrap().lessons["tiny"];
    assert!(t.done);
    assert!(!t.answers["4"].correct);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_pause_with_an_answers_file_and_without() {
    let dir = temp_dir("nopause");
    let answers = dir.join("answers.txt");
    std::fs::write(
        &answers,
        format!("3768183916\nresponse\n{}\n", tiny_order_answer()),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args([
            "lesson",
            "start",
            "--color",
            "never",
            "--no-pause",
            "--answers",
        ])
        .arg(&answers)
        .arg(fixture("tiny.toml"))
        .env("WIREWALK_DATA_DIR", &dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("score 2/3"), "{text}");
    let p = Progress::load(&dir.join("progress.json")).unwrap();
    assert!(p.lessons["tiny"].done);

    // Without answers: the answers are shown and nothing is saved.
    let dir2 = temp_dir("shown");
    let out = Command::new(BIN)
        .args([
            "lesson",
            "start",
            "handshake",
            "--color",
            "never",
            "--no-pause",
        ])
        .env("WIREWALK_DATA_DIR", &dir2)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("Answer: 3768183916 (packet 2)"), "{text}");
    assert!(!dir2.join("progress.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn packet_questions_follow_the_source() {
    // Another seed gives other numbers: the lesson grades against them, not the key.
    let dir = temp_dir("seed");
    let out = Command::new(BIN)
        .args([
            "lesson",
            "start",
            "handshake",
            "--color",
            "never",
            "--no-pause",
            "--seed",
            "7",
        ])
        .env("WIREWALK_DATA_DIR", &dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(!text.contains("Answer: 3768183916"), "{text}");
    // A capture of the handshake written by the simulator stands in for a learner's own.
    let pcap = dir.join("hs.pcap");
    let frames = wirewalk::source::simulate::simulate("handshake", &Default::default()).unwrap();
    {
        let file = std::fs::File::create(&pcap).unwrap();
        let link = wirewalk::frame::Link::Ethernet;
        let mut w = wirewalk::render::pcap_out::PcapWriter::new(
            file,
            link,
            wirewalk::render::pcap_out::PcapFormat::Pcap,
        )
        .unwrap();
        for p in &frames {
            w.write(&p.frame).unwrap();
        }
    }
    let out = Command::new(BIN)
        .args([
            "lesson",
            "start",
            "websocket-upgrade",
            "--color",
            "never",
            "--no-pause",
            "--pcap",
        ])
        .arg(&pcap)
        .env("WIREWALK_DATA_DIR", &dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("These packets cannot answer this question"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- a person at a terminal, through tmux ----

struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }
    fn start(tag: &str, command: &str) -> Option<Tmux> {
        Tmux::start_sized(tag, command, 120, 50)
    }
    fn start_sized(tag: &str, command: &str, width: u16, height: u16) -> Option<Tmux> {
        let t = Tmux {
            socket: format!("wirewalk-test-{tag}-{}", std::process::id()),
            session: "lesson".into(),
        };
        let ok = t
            .cmd()
            .args([
                "new-session",
                "-d",
                "-s",
                &t.session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                command,
            ])
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        let _ = t
            .cmd()
            .args(["set-option", "-t", &t.session, "remain-on-exit", "on"])
            .status();
        Some(t)
    }
    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args([
                "capture-pane",
                "-p",
                "-J",
                "-S",
                "-2000",
                "-t",
                &self.session,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Waits (at most 15 s) until the screen shows `text` `n` times.
    fn wait(&self, text: &str, n: usize) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.matches(text).count() >= n {
                return s;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("timed out waiting for {text:?} (×{n}); the screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// Sends keys by tmux's names (`Right`, `Escape`, `Space`), no Enter after them.
    fn press(&self, names: &[&str]) {
        assert!(self
            .cmd()
            .args(["send-keys", "-t", &self.session])
            .args(names)
            .status()
            .unwrap()
            .success());
    }
    fn keys(&self, keys: &str) {
        assert!(self
            .cmd()
            .args(["send-keys", "-t", &self.session, "-l", keys])
            .status()
            .unwrap()
            .success());
        assert!(self
            .cmd()
            .args(["send-keys", "-t", &self.session, "Enter"])
            .status()
            .unwrap()
            .success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
#[ignore = "needs tmux; .ci/run runs it"]
fn a_person_takes_a_lesson_in_tmux() {
    assert!(
        have_tmux(),
        "tmux is not installed (apt-get install -y tmux)"
    );
    let dir = temp_dir("tmux");
    let lesson = fixture("tiny.toml");
    let command = format!(
        "env WIREWALK_DATA_DIR='{}' COLUMNS=110 timeout 60 '{BIN}' lesson start --no-tui --color never '{}'",
        dir.display(),
        lesson.display()
    );
    // First sitting: a wrong answer, the right one, then quit at the second question.
    let t = Tmux::start("a", &command).expect("tmux starts");
    t.wait("[Enter] next", 1);
    t.keys("");
    t.wait("answer>", 1);
    t.keys("42");
    t.wait("one more try", 1);
    t.keys("3768183916");
    t.wait("Right, at the second try", 1);
    t.keys("");
    t.wait("Question: WebSockets", 1);
    t.keys("q");
    let s = t.wait("Progress kept", 1);
    assert!(
        s.contains("Progress kept: step 3 of 5, 1/3 right so far."),
        "{s}"
    );
    drop(t);
    let saved = Progress::load(&dir.join("progress.json")).unwrap();
    assert_eq!(saved.lessons["tiny"].step, 2);

    // Second sitting: resumes at the blank; a hint; right; the order right; finish.
    let t = Tmux::start("b", &command).expect("tmux starts");
    t.wait("Resuming at step 3 of 5", 1);
    t.wait("answer>", 1);
    t.keys("h");
    t.wait("HINT-BLANK", 1);
    t.keys("Request");
    t.wait("✓ Right.", 1);
    t.keys("");
    t.wait("Order the handshake", 1);
    t.keys(&tiny_order_answer());
    t.wait("✓ Right.", 2);
    t.keys("");
    t.wait("[Enter] finish", 1);
    t.keys("");
    let s = t.wait("score 3/3", 1);
    assert!(
        s.contains("1 right at the first try") || s.contains("2 right at the first try"),
        "{s}"
    );
    drop(t);
    let saved = Progress::load(&dir.join("progress.json")).unwrap();
    let tiny = &saved.lessons["tiny"];
    assert!(tiny.done);
    assert_eq!(tiny.score(), (3, 3));
    assert_eq!(tiny.first_try(), 2);

    // `lesson list` shows it.
    let out = Command::new(BIN)
        .args(["lesson", "list", "--color", "never"])
        .env("WIREWALK_DATA_DIR", &dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("tiny") && text.contains("done · score 3/3"),
        "{text}"
    );
    assert!(text.contains("not started"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs tmux; .ci/run runs it"]
fn a_person_takes_a_lesson_in_the_full_screen() {
    assert!(
        have_tmux(),
        "tmux is not installed (apt-get install -y tmux)"
    );
    let dir = temp_dir("tmux-screen");
    let lesson = fixture("tiny.toml");
    // The shell prints a marker after wirewalk: the pane under it shows what was left.
    let command = format!(
        "env WIREWALK_DATA_DIR='{}' timeout --foreground 60 '{BIN}' lesson start --color never '{}'; echo AFTER-WIREWALK; sleep 60",
        dir.display(),
        lesson.display()
    );
    let t = Tmux::start_sized("screen", &command, 80, 24).expect("tmux starts");
    let first = t.wait("→ Enter next", 1);
    assert!(
        first.starts_with("Lesson 98 · A tiny handshake lesson — step 1 of 5"),
        "{first}"
    );
    assert!(first.lines().all(|l| l.chars().count() <= 80), "{first}");
    // Keys act at once: → goes to the question, typed into the box, Enter sends.
    t.press(&["Right"]);
    t.wait("your answer (Enter sends)", 1);
    t.keys("42");
    t.wait("one more try", 1);
    t.keys("3768183916");
    let s = t.wait("Right, at the second try", 1);
    assert!(s.contains("step 2 of 5 · 1 of 3 right so far"), "{s}");
    // ← and → again, then the blank: right at once; Esc quits and keeps the progress.
    t.press(&["Left"]);
    t.wait("Packet 2 of 3 (syn-ack)", 1);
    t.press(&["Right"]);
    t.wait("Answered before: right", 1);
    t.press(&["Right"]);
    t.wait("without first receiving a ____", 1);
    t.keys("request");
    t.wait("✓ Right.", 1);
    t.press(&["Escape"]);
    let after = t.wait("AFTER-WIREWALK", 1);
    // The full screen is gone (the alternate screen left): only the last words remain.
    assert!(!after.contains("your answer"), "{after}");
    assert!(
        after.contains("Progress kept: step 3 of 5, 2/3 right so far."),
        "{after}"
    );
    drop(t);
    let saved = Progress::load(&dir.join("progress.json")).unwrap();
    assert_eq!(saved.lessons["tiny"].score(), (2, 3));
    let _ = std::fs::remove_dir_all(&dir);
}
