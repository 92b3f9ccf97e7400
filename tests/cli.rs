//! Command-line manners, as tcpdump and tshark users expect them: the aliases, the exit
//! codes, data on stdout and warnings on stderr, the colour variables, the whole capture
//! analysed whatever is shown, completions and the man page, and standard input read
//! packet by packet as it arrives.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wirewalk");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wirewalk-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn summary(o: &Output) -> Value {
    let text = stdout(o);
    serde_json::from_str(text.lines().last().expect("a summary line")).unwrap()
}

const WS: &str = "ws-python-plain.pcap"; // 24 packets, one TCP stream

#[test]
fn tcpdump_and_tshark_aliases_mean_the_same_as_the_long_flags() {
    let f = fixture(WS);
    let f = f.to_str().unwrap();
    let same = |a: &[&str], b: &[&str]| {
        let (x, y) = (run(a), run(b));
        assert!(x.status.success(), "{a:?}: {}", stderr(&x));
        assert_eq!(stdout(&x), stdout(&y), "{a:?} vs {b:?}");
    };
    same(
        &["inspect", "-r", f, "--summary"],
        &["inspect", f, "--summary"],
    );
    same(
        &["inspect", "-nn", "-r", f, "--summary"],
        &["inspect", f, "--summary"],
    );
    same(
        &["inspect", "-n", f, "--summary"],
        &["inspect", f, "--summary"],
    );
    same(
        &["inspect", f, "-x", "-c", "2"],
        &["inspect", f, "--hex", "-c", "2"],
    );
    same(
        &["inspect", f, "-X", "-c", "2"],
        &["inspect", f, "--hex", "-c", "2"],
    );
    same(&["inspect", f, "-V", "-c", "2"], &["inspect", f, "-c", "2"]);
    same(
        &["inspect", f, "-T", "text", "-c", "2"],
        &["inspect", f, "-c", "2"],
    );
    same(&["inspect", f, "-T", "json"], &["inspect", f, "--json"]);
    same(
        &["inspect", f, "-Y", "tcp.len > 0", "--summary"],
        &["inspect", f, "-f", "tcp.len > 0", "--summary"],
    );
    // -q: nothing but the end.
    let q = run(&["inspect", f, "-q"]);
    assert!(q.status.success());
    // The totals line, then the capture-wide notes (indented), and no packet.
    assert_eq!(
        stdout(&q).lines().filter(|l| !l.starts_with("  ")).count(),
        1,
        "{}",
        stdout(&q)
    );
    assert!(stdout(&q).starts_with("24 packets,"), "{}", stdout(&q));
    // -r - reads standard input.
    let mut child = Command::new(BIN)
        .args(["inspect", "-r", "-", "--summary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(f).unwrap())
        .unwrap();
    let piped = child.wait_with_output().unwrap();
    assert_eq!(stdout(&piped), stdout(&run(&["inspect", f, "--summary"])));
}

#[test]
fn w_dash_writes_pcap_to_stdout_and_w_file_the_packets_shown() {
    let f = fixture(WS);
    let f = f.to_str().unwrap();
    let o = run(&["inspect", f, "-f", "websocket", "-w", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        &o.stdout[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "a pcap on stdout"
    );
    let file = temp("ws-only.pcap");
    std::fs::write(&file, &o.stdout).unwrap();
    let back = run(&["inspect", file.to_str().unwrap(), "--json"]);
    let websocket = run(&["inspect", f, "-f", "websocket", "--json"]);
    assert_eq!(summary(&back)["packets"], summary(&websocket)["shown"]);
    assert!(stderr(&o).contains("wrote"), "{}", stderr(&o));
    let o = run(&[
        "inspect",
        f,
        "-c",
        "3",
        "-w",
        file.to_str().unwrap(),
        "--summary",
    ]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).lines().filter(|l| l.starts_with("    ")).count(),
        3
    );
    assert_eq!(
        summary(&run(&["inspect", file.to_str().unwrap(), "--json"]))["packets"],
        3
    );
    let sim = run(&["simulate", "handshake", "-w", "-"]);
    assert_eq!(&sim.stdout[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
}

#[test]
fn the_whole_capture_is_analysed_whatever_is_shown() {
    let f = fixture(WS);
    let f = f.to_str().unwrap();
    for args in [
        &["--packet", "4"][..],
        &["-c", "2"],
        &["--stream", "0", "-c", "1"],
        &["-f", "websocket"],
    ] {
        let o = run(&[&["inspect", f, "--json"], args].concat());
        assert!(o.status.success(), "{args:?}");
        let s = summary(&o);
        assert_eq!(s["packets"], 24, "{args:?}: every packet read");
        assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
        let lines = stdout(&o)
            .lines()
            .filter(|l| l.contains("\"type\":\"packet\""))
            .count();
        assert_eq!(s["shown"], lines as u64, "{args:?}");
        // The conversation covers the whole connection, teardown included.
        let conv: Value = serde_json::from_str(
            stdout(&o)
                .lines()
                .find(|l| l.contains("\"type\":\"conversation\""))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(conv["packets"], 24, "{args:?}");
    }
    // Times count from the capture's first packet (as Wireshark), not the first shown.
    let all = run(&["inspect", f, "--summary"]);
    let fourth = all.stdout.split(|b| *b == b'\n').nth(3).unwrap().to_vec();
    let only = run(&["inspect", f, "--summary", "--packet", "4"]);
    assert_eq!(
        only.stdout.split(|b| *b == b'\n').next().unwrap(),
        &fourth[..]
    );
    assert!(
        stdout(&only).contains("Showed 1 of the 24 packets read"),
        "{}",
        stdout(&only)
    );
}

#[test]
fn exit_codes_are_documented_and_kept() {
    let f = fixture(WS);
    let f = f.to_str().unwrap();
    let help = stdout(&run(&["--help"]));
    for line in [
        "0  success",
        "1  a damaged or truncated input",
        "2  a usage error",
    ] {
        assert!(help.contains(line), "--help documents {line}");
    }
    // 2: usage.
    for args in [
        &["inspect", f, "-c", "0"][..],
        &["inspect", f, "--packet", "0"],
        &["inspect", f, "--packet", "99"],
        &["inspect", f, "--stream", "7"],
        &["inspect", f, "-f", "port eighty"],
        &["inspect", f, "--no-such-flag"],
        &["explain", "no-such-topic"],
        &["demo", "socketio", "--serve", "nowhere"],
        &["demo", "socketio", "--serve", "--tls"],
        &["demo", "socketio", "-i", "lo"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
    let e = stderr(&run(&["inspect", f, "--packet", "99"]));
    assert!(e.contains("the capture has 24 (1 to 24)"), "{e}");
    let e = stderr(&run(&["inspect", f, "--stream", "7"]));
    assert!(e.contains("1 TCP stream (0) and no UDP stream"), "{e}");
    let e = stderr(&run(&["demo", "socketio", "--serve", "nowhere"]));
    assert!(e.contains("'nowhere' is not an address to serve on"), "{e}");
    let e = stderr(&run(&["inspect", f, "-c", "0"]));
    assert!(e.contains("a count of 0"), "{e}");
    // 1: a capture cut short, shown up to the cut; the note on stderr, the data on stdout.
    let whole = std::fs::read(f).unwrap();
    let cut = temp("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 10]).unwrap();
    let o = run(&["inspect", cut.to_str().unwrap(), "--summary"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o)
            .lines()
            .filter(|l| l
                .split_whitespace()
                .nth(1)
                .is_some_and(|w| w.parse::<f64>().is_ok()))
            .count(),
        23
    );
    assert!(stderr(&o).contains("was cut"), "{}", stderr(&o));
    assert!(!stdout(&o).contains("was cut"), "the warning is not data");
    let o = run(&["inspect", cut.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(summary(&o)["warnings"].to_string().contains("was cut"));
    // 0.
    assert_eq!(run(&["inspect", f, "-q"]).status.code(), Some(0));
}

#[test]
fn colour_follows_the_flag_and_the_usual_variables() {
    let f = fixture(WS);
    let f = f.to_str().unwrap();
    let coloured = |args: &[&str], env: &[(&str, &str)]| {
        stdout(&run_env(
            &[&["inspect", f, "--summary", "-c", "3"], args].concat(),
            env,
        ))
        .contains('\u{1b}')
    };
    // stdout is a pipe here: auto means no colour…
    assert!(!coloured(&[], &[]));
    // …unless forced, by the flag or CLICOLOR_FORCE; NO_COLOR wins over CLICOLOR_FORCE.
    assert!(coloured(&["--color", "always"], &[]));
    assert!(coloured(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!coloured(
        &[],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    assert!(!coloured(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(coloured(
        &["--color", "always"],
        &[("NO_COLOR", "1"), ("TERM", "dumb")]
    ));
}

#[test]
fn completions_parse_and_the_man_page_is_made() {
    let bash = run(&["completions", "bash"]);
    assert!(bash.status.success());
    let file = temp("wirewalk.bash");
    std::fs::write(&file, &bash.stdout).unwrap();
    assert!(stdout(&bash).contains("inspect"));
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(check.status.success(), "bash -n: {}", stderr(&check));
    for shell in ["zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert!(
            o.status.success() && stdout(&o).contains("inspect"),
            "{shell}"
        );
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
    let man = stdout(&run(&["man"]));
    assert!(
        man.starts_with(".ie") || man.contains(".TH wirewalk"),
        "{}",
        &man[..80.min(man.len())]
    );
    assert!(
        man.contains("Exit status"),
        "the exit codes are in the man page"
    );
    let dir = temp("man");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(run(&["man", "--dir", dir.to_str().unwrap()])
        .status
        .success());
    assert!(dir.join("wirewalk-inspect.1").exists());
}

#[test]
fn every_command_shows_examples_and_tour_list_exists() {
    for cmd in [
        "inspect",
        "simulate",
        "tour",
        "capture",
        "demo",
        "explain",
        "lesson",
        "completions",
        "man",
    ] {
        let help = stdout(&run(&[cmd, "--help"]));
        assert!(help.contains("Examples:"), "{cmd} --help has examples");
    }
    let list = run(&["tour", "--list"]);
    assert!(list.status.success());
    assert!(stdout(&list).contains("websocket") && stdout(&list).contains("lossy"));
}

#[test]
#[ignore = "needs tcpdump and root (a private network namespace); .ci/run runs it"]
fn a_pipe_from_tcpdump_is_shown_packet_by_packet_as_it_arrives() {
    // In a private network namespace: tcpdump captures its own lo (--immediate-mode, so
    // that the kernel hands each packet over at once); the shell sends one UDP datagram
    // every 400 ms and prints when (to stderr); wirewalk's lines are timed as they arrive
    // on our end of its pipe.
    let dir = temp("stream");
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("pcap");
    let script = format!(
        "ip link set lo up || exit 99
         rm -f '{fifo}'; mkfifo '{fifo}'
         tcpdump -U --immediate-mode -Z root -i lo -w '{fifo}' udp port 9999 2>/dev/null & T=$!
         '{BIN}' inspect -r - --summary --color never < '{fifo}' & W=$!
         sleep 1.5
         for i in 1 2 3 4 5; do date +%s.%N >&2; printf 'hello %s' $i > /dev/udp/127.0.0.1/9999; sleep 0.4; done
         sleep 0.3; kill $T; wait $W; exit 0",
        fifo = fifo.display()
    );
    let mut child = Command::new("timeout")
        .args(["-k", "5", "30", "unshare", "--net", "bash", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("timeout and unshare run");
    let reader = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut arrivals = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if line.contains("UDP") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            arrivals.push(now);
        }
        if arrivals.len() == 5 || started.elapsed() > Duration::from_secs(25) {
            break;
        }
    }
    let out = child.wait_with_output().unwrap();
    let sent: Vec<f64> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(
        sent.len(),
        5,
        "the sender ran: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(arrivals.len(), 5, "five packets shown");
    for (i, (s, a)) in sent.iter().zip(&arrivals).enumerate() {
        let delay = a - s;
        assert!(
            delay < 0.100,
            "packet {}: shown {:.0} ms after it was sent",
            i + 1,
            delay * 1000.0
        );
    }
}
