//! Capture bytes never take over the terminal. A capture (written here) whose HTTP
//! headers, WebSocket texts and DNS names carry ANSI sequences (ESC [ 2J, an OSC 0
//! title, BEL), a C1 control (U+009B, CSI) and a bidi override (U+202E): the tree,
//! summary and hex outputs (colour off) hold no ESC byte and no raw control or bidi
//! character, while `--json` keeps the exact text, escaped only as JSON escapes.

#[path = "support/captures.rs"]
mod captures;
#[path = "support/harness.rs"]
mod harness;

use std::process::Command;

use captures::{websocket_session, Capture};
use wirewalk::render::pcap_out::PcapFormat;

const EVIL: &str = "hi\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}gpj.exe\u{2066}\r\u{7f}";
/// HTTP header values may carry only visible ASCII and obs-text (bytes 0x80–0xff): a C1
/// control and the bidi controls, in UTF-8, are obs-text (a request with an ESC in a
/// header is not HTTP at all, and is not decoded).
const EVIL_HTTP: &str = "a\u{9b}31m\u{202e}gpj.exe\u{2066}\u{85}";
/// A DNS label holds bytes, not dots: the same minus the dot.
const EVIL_LABEL: &str = "x\u{1b}[2J\u{1b}]0;t\u{7}\u{9b}1m\u{202e}gpj";

fn hostile_capture() -> Vec<u8> {
    let mut cap = Capture::default();
    websocket_session(
        &mut cap,
        40100,
        &format!("X-Evil: {EVIL_HTTP}\r\nUser-Agent: {EVIL_HTTP}\r\n"),
        EVIL,
        EVIL,
    );
    cap.dns(&format!("{EVIL_LABEL}.example.com"), 5353);
    cap.bytes(PcapFormat::Pcap)
}

fn inspect(file: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["--color", "never", "inspect"])
        .arg(file)
        .args(args)
        .output()
        .expect("wirewalk runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The hostile capture, written to a file of the calling test's own (tests run in
/// parallel: a shared file could be read while another test rewrites it).
fn file(test: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("terminal-safety");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join(format!("{test}.pcap"));
    std::fs::write(&f, hostile_capture()).unwrap();
    f
}

#[test]
fn text_outputs_carry_no_escape_control_or_bidi_character() {
    let f = file("text_outputs_carry_no_escape_control_or_bidi_character");
    for mode in [&[][..], &["--brief"], &["--summary"], &["--hex"]] {
        let out = inspect(&f, mode);
        assert!(
            !out.contains(&0x1b),
            "{mode:?}: an ESC byte reached the output"
        );
        let text = String::from_utf8(out).expect("UTF-8 output");
        if let Some(c) = text.chars().find(|&c| harness::unsafe_char(c)) {
            panic!("{mode:?}: U+{:04X} reached the output:\n{text}", c as u32);
        }
    }
    // The in-process renderers too (the fuzz harness's check).
    harness::render(&hostile_capture());
}

#[test]
fn the_tree_shows_the_hostile_dns_name_escaped() {
    let text = String::from_utf8(inspect(
        &file("the_tree_shows_the_hostile_dns_name_escaped"),
        &[],
    ))
    .unwrap();
    assert!(
        text.contains("\\x1b[2J"),
        "the escape is shown, visibly:\n{text}"
    );
    assert!(
        text.contains("\\u{202e}"),
        "the override is shown, visibly:\n{text}"
    );
}

#[test]
fn json_keeps_the_exact_text() {
    let out = inspect(&file("json_keeps_the_exact_text"), &["--json"]);
    let text = String::from_utf8(out).unwrap();
    // JSON escapes controls as \u001b etc.; the bidi override may stay as UTF-8 (valid JSON).
    assert!(!text.contains('\u{1b}'), "JSON escapes ESC");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let layers = || {
        lines
            .iter()
            .filter_map(|l| l["layers"].as_array())
            .flatten()
    };
    let dns: Vec<&serde_json::Value> = layers().filter(|l| l["protocol"] == "dns").collect();
    assert!(!dns.is_empty(), "the DNS layers are there");
    for d in dns {
        assert_eq!(
            d["fields"]["questions"][0]["name"],
            format!("{EVIL_LABEL}.example.com")
        );
    }
    let (mut http, mut texts) = (0, 0);
    for l in layers() {
        match l["protocol"].as_str() {
            Some("http") if l["fields"]["kind"] == "request" => {
                assert_eq!(l["fields"]["headers"]["x-evil"], EVIL_HTTP);
                http += 1;
            }
            Some("websocket") if l["fields"]["opcode"] == 1 => {
                assert_eq!(l["fields"]["text"], EVIL);
                texts += 1;
            }
            _ => {}
        }
    }
    assert_eq!(
        (http, texts),
        (1, 2),
        "the upgrade request and both texts are decoded"
    );
}

// --- round two: every string-bearing field, every renderer, lessons and errors ---------

/// What an attacker would put in a field: OSC 52 (clipboard write), OSC 0 (title), a
/// screen clear, C1 CSI, DEL, and the characters that reorder or hide text (U+202E,
/// U+061C, a zero-width space, U+2028, a tag character).
const HOSTILE: &str = "\u{1b}]52;c;aGk=\u{7}\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}1m\u{7f}\u{202e}\u{61c}\u{200b}\u{2028}\u{e0041}";

/// `HOSTILE` as a JSON string's contents (`\u001b` …), for text that is JSON on the wire.
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_string()
}

/// A TOML basic string holding `s` (every character escaped as TOML allows).
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f || !c.is_ascii() => {
                out.push_str(&format!("\\U{:08X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn tmp(test: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("terminal-safety")
        .join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs wirewalk (colour `color`) with `stdin`, in the data dir `data`, and checks that
/// neither stream carries an unsafe character; JSON lines must parse. Returns the output.
fn checked(
    color: &str,
    args: &[&std::ffi::OsStr],
    data: &std::path::Path,
    stdin: &str,
) -> (String, String, Option<i32>) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["--color", color])
        .args(args)
        .env("WIREWALK_DATA_DIR", data)
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wirewalk runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).ok();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).expect("UTF-8 output"),
        String::from_utf8(out.stderr).expect("UTF-8 errors"),
    );
    let what = format!("{color} {args:?}");
    assert!(!stderr.contains("panicked"), "{what}: a panic:\n{stderr}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        // With colour on, only the theme's SGR codes may carry ESC: take them out first.
        let text = strip_sgr(text);
        if let Some(c) = text.chars().find(|&c| harness::unsafe_char(c)) {
            panic!("{what}: U+{:04X} reached {name}:\n{text}", c as u32);
        }
    }
    if args.iter().any(|a| *a == "--json") {
        for line in stdout.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| {
                panic!("{what}: a JSON line does not parse ({e}): {line:.200}")
            });
        }
    }
    (stdout, stderr, out.status.code())
}

/// The text without SGR colour codes (`ESC [ digits ; … m`); any other ESC stays.
fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let body = tail[1..].strip_prefix('[').and_then(|t| {
            let n = t.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
            t[n..].starts_with('m').then_some(n)
        });
        match body {
            Some(n) => rest = &tail[3 + n..],
            None => {
                out.push('\u{1b}');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `v` holds the string `s` anywhere (as a value).
fn holds(v: &serde_json::Value, s: &str) -> bool {
    match v {
        serde_json::Value::String(t) => t == s,
        serde_json::Value::Array(a) => a.iter().any(|x| holds(x, s)),
        serde_json::Value::Object(o) => o.values().any(|x| holds(x, s)),
        _ => false,
    }
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// The built-in Socket.IO scenario with `HOSTILE` in the Engine.IO sid, an event name,
/// a namespace, event arguments and an ack's arguments.
fn hostile_socketio_scenario() -> String {
    let s = include_str!("../scenarios/socketio.toml");
    let open = "who = \"server\"\nengineio = \"open\"\n";
    assert!(s.contains(open));
    let sid = json_escaped(&format!("S{HOSTILE}"));
    let data = format!(
        r#"{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}}"#
    );
    let s = s.replacen(open, &format!("{open}data = {}\n", toml_str(&data)), 1);
    let s = s.replacen(
        "event = \"join\"\nargs = '[\"room-42\"]'",
        &format!(
            "event = {}\nnamespace = {}\nargs = {}",
            toml_str(&format!("join{HOSTILE}")),
            toml_str(&format!("/ns{HOSTILE}")),
            toml_str(&format!("[\"{}\"]", json_escaped(HOSTILE)))
        ),
        1,
    );
    s.replacen(
        "args = '[{\"joined\":\"room-42\",\"members\":3}]'",
        &format!(
            "args = {}",
            toml_str(&format!("[\"{}\"]", json_escaped(HOSTILE)))
        ),
        1,
    )
}

/// Every text renderer and JSON, both colour settings, over `file` with `command`.
fn every_renderer(command: &str, file: &std::path::Path, data: &std::path::Path) -> Vec<String> {
    let modes: [&[&str]; 10] = [
        &[],
        &["--brief"],
        &["--summary"],
        &["--hex"],
        &["--hex-all"],
        &["--diagram"],
        &["--fields"],
        &["--stats"],
        &["--explain-all"],
        &["--json"],
    ];
    let mut outs = Vec::new();
    for color in ["never", "always"] {
        for m in modes {
            let mut args = vec![os(command), file.as_os_str()];
            args.extend(m.iter().map(|a| os(a)));
            let (out, _, code) = checked(color, &args, data, "");
            assert!(matches!(code, Some(0)), "{command} {m:?} exit {code:?}");
            if color == "never" {
                outs.push(out);
            }
        }
    }
    outs
}

#[test]
fn socketio_fields_and_the_session_line_are_escaped() {
    let d = tmp("socketio");
    let scenario = d.join("hostile.toml");
    std::fs::write(&scenario, hostile_socketio_scenario()).unwrap();
    let cap = d.join("hostile.pcapng");
    let (_, err, code) = checked(
        "never",
        &[
            os("simulate"),
            scenario.as_os_str(),
            os("-w"),
            cap.as_os_str(),
        ],
        &d,
        "",
    );
    assert_eq!(code, Some(0), "{err}");
    let outs = every_renderer("inspect", &cap, &d);
    every_renderer("simulate", &scenario, &d);
    // The session line at the end of the tree, summary, hex and ladder: escaped, visibly.
    for (i, out) in outs.iter().enumerate().take(6) {
        assert!(
            out.contains("Socket.IO session") && out.contains("S\\x1b]52;c;aGk=\\x07"),
            "mode {i}: the session line shows the sid escaped:\n{out}"
        );
    }
    assert!(
        outs[0].contains("\\u{61c}\\u{200b}\\u{2028}\\u{e0041}"),
        "{}",
        outs[0]
    );
    // The JSON keeps the exact sid and event name (as JSON escapes, which parse back).
    let values: Vec<serde_json::Value> = outs
        .last()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for want in [format!("S{HOSTILE}"), format!("join{HOSTILE}")] {
        assert!(
            values.iter().any(|v| holds(v, &want)),
            "the JSON holds {want:?} exactly"
        );
    }
    let bytes = std::fs::read(&cap).unwrap();
    harness::render(&bytes);
}

/// A pcapng with `HOSTILE` in the section's comment, user application and hardware
/// options and in the interface's name, description and comment; the packets are those
/// of the hostile HTTP/WebSocket/DNS capture, written by the project's writer.
fn hostile_pcapng() -> Vec<u8> {
    fn opt(buf: &mut Vec<u8>, code: u16, v: &[u8]) {
        buf.extend_from_slice(&code.to_le_bytes());
        buf.extend_from_slice(&(v.len() as u16).to_le_bytes());
        buf.extend_from_slice(v);
        buf.resize(buf.len().div_ceil(4) * 4, 0);
    }
    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }
    let mut cap = Capture::default();
    websocket_session(
        &mut cap,
        40200,
        &format!("X-Evil: {EVIL_HTTP}\r\n"),
        EVIL,
        EVIL,
    );
    cap.dns(&format!("{EVIL_LABEL}.example.com"), 5354);
    let written = cap.bytes(PcapFormat::Pcapng);
    // Skip the writer's own SHB and IDB.
    let shb_len = u32::from_le_bytes(written[4..8].try_into().unwrap()) as usize;
    let idb_len =
        u32::from_le_bytes(written[shb_len + 4..shb_len + 8].try_into().unwrap()) as usize;
    let h = HOSTILE.as_bytes();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    for code in [1, 2, 3, 4] {
        opt(&mut shb, code, h);
    }
    opt(&mut shb, 0, b"");
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&65535u32.to_le_bytes());
    for code in [1, 2, 3] {
        opt(&mut idb, code, h);
    }
    opt(&mut idb, 9, &[6]);
    opt(&mut idb, 0, b"");
    let mut out = block(0x0A0D_0D0A, &shb);
    out.extend(block(1, &idb));
    out.extend_from_slice(&written[shb_len + idb_len..]);
    out
}

#[test]
fn pcapng_comments_and_interface_names_are_escaped() {
    let d = tmp("pcapng");
    let f = d.join("names.pcapng");
    let bytes = hostile_pcapng();
    std::fs::write(&f, &bytes).unwrap();
    let outs = every_renderer("inspect", &f, &d);
    assert!(
        outs[0].contains("WebSocket"),
        "the packets are read:\n{}",
        outs[0]
    );
    harness::render(&bytes);
}

#[test]
fn lesson_files_progress_and_answers_from_a_capture_are_escaped() {
    let d = tmp("lessons");
    // A capture whose answers (the sid, event names) are hostile.
    let scenario = d.join("hostile.toml");
    std::fs::write(&scenario, hostile_socketio_scenario()).unwrap();
    let cap = d.join("hostile.pcapng");
    checked(
        "never",
        &[
            os("simulate"),
            scenario.as_os_str(),
            os("-w"),
            cap.as_os_str(),
        ],
        &d,
        "",
    );
    for color in ["never", "always"] {
        let (out, _, _) = checked(
            color,
            &[
                os("lesson"),
                os("start"),
                os("socketio"),
                os("--no-pause"),
                os("--reset"),
                os("--pcap"),
                cap.as_os_str(),
            ],
            &d,
            "",
        );
        assert!(out.contains("Socket.IO"), "{out}");
    }
    // A lesson file with hostile text in its title, summary and steps.
    let lesson = include_str!("../lessons/07-socketio.toml")
        .replacen(
            "title = \"Socket.IO versus WebSocket\"",
            &format!("title = {}", toml_str(&format!("T{HOSTILE}"))),
            1,
        )
        .replacen(
            "title = \"Protocol and library\"",
            &format!("title = {}", toml_str(&format!("P{HOSTILE}"))),
            1,
        );
    let file = d.join(format!("evil{}.toml", "\u{1b}]0;x\u{7}"));
    std::fs::write(&file, &lesson).unwrap();
    for color in ["never", "always"] {
        let (out, err, _) = checked(
            color,
            &[
                os("lesson"),
                os("start"),
                file.as_os_str(),
                os("--no-pause"),
                os("--reset"),
            ],
            &d,
            "",
        );
        assert!(
            out.contains("T\\x1b]52") || err.contains("\\x1b"),
            "{out}{err}"
        );
        checked(
            color,
            &[os("lesson"), os("check"), file.as_os_str()],
            &d,
            "",
        );
        checked(
            color,
            &[os("lesson"), os("start"), file.as_os_str()],
            &d,
            "\n\nh\nb\n\nq\n",
        );
    }
    // A lesson file that is not TOML: the parser's message quotes the hostile line.
    let broken = d.join("broken.toml");
    std::fs::write(&broken, format!("name = \"x\"\ntitle = {HOSTILE} = \n")).unwrap();
    let (_, err, code) = checked(
        "never",
        &[os("lesson"), os("check"), broken.as_os_str()],
        &d,
        "",
    );
    assert_ne!(code, Some(0), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    checked(
        "never",
        &[os("lesson"), os("start"), broken.as_os_str()],
        &d,
        "",
    );
    // progress.json with hostile lesson names and answers.
    let progress = serde_json::json!({"lessons": {
        format!("handshake{HOSTILE}"): {"step": 1, "steps": 3, "done": false, "questions": 1,
            "answers": {HOSTILE: {"correct": true, "tries": 1}}},
        "socketio": {"step": 99, "steps": 1, "done": true, "questions": 1, "answers": {}}
    }});
    std::fs::write(d.join("progress.json"), progress.to_string()).unwrap();
    for color in ["never", "always"] {
        checked(color, &[os("lesson"), os("list")], &d, "");
        checked(
            color,
            &[os("lesson"), os("start"), os("handshake"), os("--no-pause")],
            &d,
            "",
        );
    }
    // A damaged progress.json that quotes hostile bytes.
    std::fs::write(d.join("progress.json"), format!("{{\"lessons\": {HOSTILE}")).unwrap();
    let (_, err, code) = checked("never", &[os("lesson"), os("list")], &d, "");
    assert_ne!(
        code,
        Some(0),
        "a damaged progress file stops the command: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn file_names_in_error_messages_are_escaped() {
    let d = tmp("errors");
    let evil = d.join(format!("cap{HOSTILE}.pcap"));
    // Missing, a directory, not a capture, cut: each error names the file.
    let (_, err, code) = checked("never", &[os("inspect"), evil.as_os_str()], &d, "");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("\\x1b]52"), "the name is shown escaped: {err}");
    std::fs::create_dir_all(&evil).unwrap();
    checked("always", &[os("inspect"), evil.as_os_str()], &d, "");
    std::fs::remove_dir(&evil).unwrap();
    std::fs::write(&evil, format!("not a capture {HOSTILE} at all, really")).unwrap();
    checked("always", &[os("inspect"), evil.as_os_str()], &d, "");
    let mut cut = hostile_capture();
    cut.truncate(cut.len() - 7);
    std::fs::write(&evil, cut).unwrap();
    checked("always", &[os("inspect"), evil.as_os_str()], &d, "");
    checked(
        "always",
        &[
            os("report"),
            evil.as_os_str(),
            os("-o"),
            d.join(format!("r{HOSTILE}.html")).as_os_str(),
        ],
        &d,
        "",
    );
    // A scenario file that is not TOML, one with a hostile bad value, a bad -w path.
    let scen = d.join(format!("s{HOSTILE}.toml"));
    std::fs::write(&scen, format!("description = {HOSTILE}\n")).unwrap();
    let (_, err, code) = checked("never", &[os("simulate"), scen.as_os_str()], &d, "");
    assert_ne!(code, Some(0), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("\\x1b]52"), "the name is shown escaped: {err}");
    std::fs::write(
        &scen,
        format!(
            "description = {}\n[[step]]\ndo = {}\n",
            toml_str("x"),
            toml_str(HOSTILE)
        ),
    )
    .unwrap();
    checked("never", &[os("simulate"), scen.as_os_str()], &d, "");
    checked(
        "never",
        &[os("simulate"), os(&format!("nope{HOSTILE}"))],
        &d,
        "",
    );
    checked(
        "never",
        &[
            os("simulate"),
            os("-w"),
            d.join(format!("no{HOSTILE}/x.pcap")).as_os_str(),
        ],
        &d,
        "",
    );
    checked(
        "never",
        &[
            os("inspect"),
            os("-f"),
            os(&format!("host {HOSTILE}")),
            os("-"),
        ],
        &d,
        "",
    );
    checked("never", &[os("explain"), os(HOSTILE)], &d, "");
}

/// By construction: nothing in `src/` writes to standard output or error but
/// `cli/output.rs`, whose writers pass every byte through the terminal guard.
#[test]
fn only_the_guard_writes_to_the_terminal() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") || p.ends_with("cli/output.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // Unit tests (after `#[cfg(test)]`) may print what they like.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (n, line) in code.lines().enumerate() {
                let l = line.trim_start();
                if l.starts_with("//") {
                    continue;
                }
                for bad in [
                    "println!",
                    "print!(",
                    "eprint!(",
                    "eprintln!",
                    "io::stdout()",
                    "io::stderr()",
                    "dbg!(",
                ] {
                    if l.contains(bad) && !(bad == "io::stdout()" && l.contains("is_terminal")) {
                        found.push(format!("{}:{}: {}", p.display(), n + 1, l));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "write through cli::output (Settings::stdout, output::say) instead:\n{}",
        found.join("\n")
    );
}
