//! The tour, as a newcomer meets it: `wirewalk` with no arguments. In a pipe it prints
//! the whole walk-through and exits 0; line by line in a terminal (`--no-tui`, driven
//! here through tmux, as a person would) it pauses between packets, `b` goes back and
//! `q` quits. The full-screen tour is tested in `tests/tui.rs`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_wirewalk")
}

#[test]
fn in_a_pipe_the_tour_runs_straight_through() {
    let out = Command::new(bin())
        .args(["--color", "never"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // The simulated WebSocket session, whole: handshake, upgrade, frames, teardown.
    assert!(
        text.contains("wirewalk tour: 18 packets of the simulated 'websocket' scenario"),
        "{}",
        &text[..200]
    );
    for needle in [
        "[SYN]",
        "[SYN ACK]",
        "GET /chat HTTP/1.1",
        "HTTP/1.1 101 Switching Protocols",
        "Sec-WebSocket-Accept",
        "ping",
        "pong",
        "close",
        "[FIN ACK]",
        "TIME-WAIT",
    ] {
        assert!(text.contains(needle), "the tour never shows {needle}");
    }
    assert!(text.contains("── Packet 18 "), "the tour stops early");
    assert!(!text.contains('\u{1b}'), "colour codes in a pipe");
}

#[test]
fn in_a_pipe_the_tour_is_laid_out_to_columns_at_word_boundaries() {
    for cols in [60usize, 100, 160] {
        let out = Command::new(bin())
            .args(["--color", "never"])
            .env("COLUMNS", cols.to_string())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        // Explanations (the lines indented under a layer) fit the width and end on whole words.
        let prose: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&" ".repeat(18)) && !l.trim().is_empty())
            .collect();
        assert!(prose.len() > 50, "few explanation lines at {cols}");
        for l in &prose {
            assert!(l.chars().count() <= cols, "wider than {cols}: {l:?}");
        }
        // Wrapped at word boundaries: no line of prose ends inside a word that the next
        // line continues (the word "handshake" and "acknowledges" stay whole).
        assert!(text.contains("handshake"), "at {cols}");
        let widest = prose.iter().map(|l| l.chars().count()).max().unwrap();
        assert!(widest > cols - 15, "the width is not used at {cols}: widest {widest}");
    }
}

#[test]
fn colour_in_line_mode_leaves_explanations_in_normal_weight() {
    let out = Command::new(bin())
        .args(["--color", "always"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("74 bytes crossed the wire"))
        .expect("the L1 explanation of packet 1");
    assert!(!line.contains("\u{1b}[2m"), "faint explanation: {line:?}");
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", "wirewalk-tour-test"])
        .args(args)
        .env_remove("TMUX")
        .stdin(Stdio::null())
        .output()
        .expect("tmux is installed (apt-get install tmux)");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Waits until `needle` shows `times` times in the pane and its history.
fn wait_for_n(needle: &str, times: usize) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", "tour", "-S", "-2000"]);
        if screen.matches(needle).count() >= times {
            return screen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "waited for {needle:?} ×{times}; the screen shows:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_for(needle: &str) -> String {
    wait_for_n(needle, 1)
}

#[test]
#[ignore = "needs tmux"]
fn in_a_terminal_the_line_mode_tour_pauses_goes_back_and_quits() {
    let _ = tmux(&["kill-server"]);
    std::thread::sleep(Duration::from_millis(300));
    let cmd = format!(
        "timeout --foreground 60 {} tour --no-tui --color never; echo TOUR-EXIT=$?; sleep 30",
        bin()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "tour",
        "-x",
        "120",
        "-y",
        "50",
        &cmd,
    ]);
    wait_for("[1/18] Enter / b / q");
    tmux(&["send-keys", "-t", "tour", "Enter"]);
    wait_for("[2/18] Enter / b / q");
    tmux(&["send-keys", "-t", "tour", "Enter"]);
    let screen = wait_for("[3/18] Enter / b / q");
    // The ladder grows: by packet 3 the three handshake arrows are drawn.
    assert!(screen.contains("   3 ESTABLISHED"), "{screen}");
    tmux(&["send-keys", "-t", "tour", "b", "Enter"]);
    // Back to packet 2: its prompt comes a second time, and it shows what it showed going
    // forward, explanations included.
    let screen = wait_for_n("[2/18] Enter / b / q", 2);
    let told = "Step 2 of the handshake";
    assert_eq!(screen.matches(told).count(), 2, "{screen}");
    tmux(&["send-keys", "-t", "tour", "q", "Enter"]);
    let screen = wait_for("TOUR-EXIT=");
    assert!(screen.contains("TOUR-EXIT=0"), "{screen}");
    let _ = tmux(&["kill-server"]);
}
