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
