//! The full-screen view as a person meets it: the real binary in a real terminal (tmux),
//! keys sent one at a time without Enter, the screen read back with capture-pane. Each
//! test has its own tmux server, so they run side by side.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_wirewalk")
}

static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Tmux {
    socket: String,
    width: usize,
}

/// One test at a time drives a terminal.
fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tmux {
    /// Starts `cmd` in a `width`×`height` terminal; after it ends the pane prints
    /// `EXIT=code` and whether the terminal is back in canonical (line) mode.
    fn start(name: &str, width: usize, height: usize, cmd: &str) -> Tmux {
        let t = Tmux {
            socket: format!("wirewalk-tui-{name}"),
            width,
        };
        let _ = t.run(&["kill-server"]);
        let full = format!(
            "timeout --foreground 60 {cmd}; echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -- '-\\?icanon'; sleep 60"
        );
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            &full,
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .env_remove("TMUX")
            .stdin(Stdio::null())
            .output()
            .expect("tmux is installed (apt-get install tmux)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "w"])
    }

    /// The screen with its styles as escape codes.
    fn styled(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", "w"])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "w", k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Typed text, sent literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "w", "-l", text]);
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_for_within(needle, Duration::from_secs(15))
    }

    fn wait_for_within(&self, needle: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} for {needle:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the screen stops changing (a key's redraw has landed).
    fn settled(&self) -> String {
        let mut last = self.screen();
        loop {
            std::thread::sleep(Duration::from_millis(150));
            let now = self.screen();
            if now == last {
                return now;
            }
            last = now;
        }
    }

    fn resize(&mut self, width: usize, height: usize) {
        self.run(&[
            "resize-window",
            "-t",
            "w",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
        self.width = width;
    }

    fn assert_fits(&self, screen: &str) {
        for l in screen.lines() {
            assert!(
                l.chars().count() <= self.width,
                "a line wider than the {}-column pane: {l:?}",
                self.width
            );
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Whether any text on a `capture-pane -e` screen is faint (SGR 2).
fn has_faint(styled: &str) -> bool {
    let mut rest = styled;
    while let Some(at) = rest.find("\x1b[") {
        rest = &rest[at + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        let (params, after) = rest.split_at(end);
        if after.starts_with('m') {
            let p: Vec<&str> = params.split(';').collect();
            let mut k = 0;
            while k < p.len() {
                match p[k] {
                    // 38/48;5;N and 38/48;2;R;G;B are colours, not attributes.
                    "38" | "48" | "58" => {
                        k += if p.get(k + 1) == Some(&"2") { 5 } else { 3 };
                        continue;
                    }
                    "2" => return true,
                    _ => {}
                }
                k += 1;
            }
        }
        rest = after;
    }
    false
}

#[test]
fn faint_text_is_recognised_in_captured_escape_codes() {
    assert!(has_faint("a \x1b[2mfaint\x1b[0m"));
    assert!(has_faint("\x1b[1;2m"));
    assert!(!has_faint(
        "\x1b[32mgreen \x1b[38;5;2mindexed\x1b[38;2;2;2;2m"
    ));
}

/// The row of the ladder for packet `n` (marked `▶` when it is the current one), from
/// whichever pane it is in.
fn ladder_row(screen: &str, n: u64) -> Option<String> {
    screen
        .lines()
        .flat_map(|l| l.split('│'))
        .find(|piece| {
            let t = piece.trim_start_matches('▶').trim_start();
            t.starts_with(&format!("{n} ")) && (t.contains("─▶") || t.contains("◀─"))
        })
        .map(|l| l.to_string())
}

fn tour_at(width: usize, height: usize, extra: &str) {
    let _turn = turn();
    let name = format!("tour-{width}x{height}{}", extra.replace(' ', ""));
    let t = Tmux::start(&name, width, height, &format!("{} {extra}", bin()));
    // The first screen: packet 1 with its layers, the tour's introduction beside it.
    let first = t.wait_for("[1/18]");
    t.assert_fits(&first);
    for needle in [
        "Packet 1 ·",
        "L1 Physical",
        "L2 Data link",
        "SYN",
        "The tour",
    ] {
        assert!(
            first.contains(needle),
            "no {needle:?} on the first screen:\n{first}"
        );
    }
    assert!(!has_faint(&t.styled()), "faint text on the first screen");

    // → closes the introduction, then → → walks to the SYN-ACK and the ACK.
    t.keys(&["Right", "Right"]);
    t.wait_for("[2/18]");
    let syn_ack = t.settled();
    assert!(syn_ack.contains("SYN ACK"), "{syn_ack}");
    t.keys(&["Right"]);
    let ack = t.wait_for("[3/18]");
    t.assert_fits(&ack);
    let row = ladder_row(&ack, 3).unwrap_or_else(|| panic!("no ladder row 3:\n{ack}"));
    assert!(
        row.contains('▶'),
        "packet 3 is not marked as the current one: {row}"
    );
    assert_eq!(
        row.matches("ESTABLISHED").count(),
        2,
        "both sides ESTABLISHED after the ACK: {row}"
    );
    assert!(ack.contains("handshake"), "{ack}");
    assert!(!has_faint(&t.styled()), "faint text on packet 3");

    // ← shows exactly what → showed.
    t.keys(&["Left"]);
    t.wait_for("[2/18]");
    assert_eq!(t.settled(), syn_ack, "going back shows something else");

    // `/101` Enter finds the server's 101 Switching Protocols.
    t.keys(&["/"]);
    t.type_text("101");
    t.keys(&["Enter"]);
    let found = t.wait_for("found '101'");
    assert!(found.contains("[5/18]"), "{found}");
    assert!(found.contains("101 Switching Protocols"), "{found}");
    t.assert_fits(&found);

    // `q` quits at once and the terminal is as it was: the shell's screen, line mode on.
    let asked = Instant::now();
    t.keys(&["q"]);
    let after = t.wait_for_within("EXIT=0", Duration::from_secs(3));
    assert!(asked.elapsed() < Duration::from_secs(2));
    let after = if after.contains("icanon") {
        after
    } else {
        t.wait_for("icanon")
    };
    assert!(!after.contains("-icanon"), "left in raw mode:\n{after}");
    assert!(
        !after.contains("[5/18]"),
        "the tour's screen is still up:\n{after}"
    );
}

#[test]
#[ignore = "needs tmux"]
fn the_tour_full_screen_at_80x24() {
    tour_at(80, 24, "");
}

#[test]
#[ignore = "needs tmux"]
fn the_tour_full_screen_at_120x40() {
    tour_at(120, 40, "");
}

#[test]
#[ignore = "needs tmux"]
fn the_tour_on_a_projector_has_no_faint_text() {
    tour_at(120, 40, "tour --big");
}

#[test]
#[ignore = "needs tmux"]
fn a_resize_from_120x40_to_80x24_redraws_as_if_it_had_started_there() {
    let _turn = turn();
    let mut big = Tmux::start("resize-a", 120, 40, bin());
    big.wait_for("[1/18]");
    big.keys(&["Right", "Right", "Right"]);
    big.wait_for("[3/18]");
    big.resize(80, 24);
    std::thread::sleep(Duration::from_millis(300));
    let resized = big.settled();
    big.assert_fits(&resized);

    let small = Tmux::start("resize-b", 80, 24, bin());
    small.wait_for("[1/18]");
    small.keys(&["Right", "Right", "Right"]);
    small.wait_for("[3/18]");
    let fresh = small.settled();
    assert_eq!(
        resized, fresh,
        "the resized screen differs from a fresh one"
    );
}

#[test]
#[ignore = "needs tmux"]
fn browse_opens_a_39k_packet_capture_and_jumps_to_the_last_packet_within_a_second() {
    let make = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench/make_pcap.py");
    let dir = std::env::temp_dir().join(format!("wirewalk-tui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("bench.pcap");
    let ok = Command::new("python3")
        .args([
            make,
            pcap.to_str().unwrap(),
            "--flows",
            "1500",
            "--messages",
            "8",
        ])
        .status()
        .expect("python3 runs ../shared/bench/make_pcap.py");
    assert!(
        ok.success(),
        "make_pcap.py failed (it lives in ../shared/bench)"
    );
    let total = 39150;
    let _turn = turn();

    let started = Instant::now();
    let t = Tmux::start(
        "browse",
        120,
        40,
        &format!("{} browse {}", bin(), pcap.display()),
    );
    let first = t.wait_for(&format!("[1/{total}]"));
    let opened = started.elapsed();
    t.assert_fits(&first);
    // The list shows the first packets, not the whole capture.
    assert!(first.contains("Packets (39150)"), "{first}");
    let asked = Instant::now();
    t.keys(&["End"]);
    let last = t.wait_for(&format!("[{total}/{total}] packet {total}"));
    let jumped = asked.elapsed();
    eprintln!("browse {total} packets: opened in {opened:?}, End in {jumped:?}");
    assert!(
        opened + jumped < Duration::from_secs(1),
        "opened in {opened:?}, jumped to the last packet in {jumped:?}"
    );
    // The last packet's ladder: the final ACK of its teardown, marked.
    let row = ladder_row(&last, total).unwrap_or_else(|| panic!("no ladder row:\n{last}"));
    assert!(row.contains('▶') && row.contains("CLOSED"), "{row}");
    // G, Home and a filter as `-f` takes it.
    t.keys(&["Home"]);
    t.wait_for(&format!("[1/{total}]"));
    t.keys(&["f"]);
    t.type_text("udp");
    t.keys(&["Enter"]);
    let udp = t.wait_for("packets match 'udp'");
    assert!(udp.contains("UDP"), "{udp}");
    t.keys(&["q"]);
    t.wait_for_within("EXIT=0", Duration::from_secs(3));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs tmux and unshare (user namespaces)"]
fn the_websocket_demo_live_in_the_full_screen() {
    let _t = turn();
    // A private network namespace: the demo's loopback is its own, and it may capture.
    let cmd = format!(
        "unshare --user --map-root-user --net sh -c 'ip link set lo up && exec {} demo websocket --tui'",
        bin()
    );
    let t = Tmux::start("live-demo", 120, 40, &cmd);
    let end = t.wait_for_within("has ended; browse on", Duration::from_secs(30));
    t.assert_fits(&end);
    // The list grew with the demo's packets and follows the newest: the last one, the
    // closing handshake's ACK, is selected.
    assert!(end.contains("[FIN ACK]"), "{end}");
    assert!(
        end.contains("state client CLOSED · server TIME-WAIT"),
        "{end}"
    );
    // Browsing works on what was captured: back to packet 1, the handshake and the upgrade.
    t.keys(&["Home"]);
    let first = t.settled();
    assert!(first.contains("Packet 1 ·"), "{first}");
    assert!(first.contains("TCP [SYN]"), "{first}");
    assert!(first.contains("HTTP/1.1 101 Switchi"), "{first}");
    t.keys(&["q"]);
    let after = t.wait_for("EXIT=");
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(
        after.contains("packets captured from the WebSocket demo"),
        "{after}"
    );
    assert!(
        after.contains("\nicanon"),
        "the terminal is back in line mode: {after}"
    );
}
