//! Conformance against tshark: `wirewalk inspect --json` over every capture in
//! `../shared/captures`, compared field by field with the tshark ground truth beside each.
//!
//! The shared captures are not part of this repository, so these tests are `#[ignore]`d;
//! `.ci/run` runs them (`cargo test --release --test conformance -- --ignored`) when
//! `../shared/captures` exists. `WIREWALK_SHARED_CAPTURES` points elsewhere.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn captures_dir() -> PathBuf {
    std::env::var_os("WIREWALK_SHARED_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures"))
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn layers_2_to_4_agree_with_tshark() {
    assert_agreement(
        &captures_dir(),
        // The families of layers 2 to 4: all but the analysis, HTTP and WebSocket.
        &ALL_FAMILIES[..14],
        99.0,
    );
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn tcp_analysis_agrees_with_tshark() {
    assert_agreement(&captures_dir(), &["tcp analysis"], 95.0);
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn http_and_websocket_agree_with_tshark() {
    assert_agreement(
        &captures_dir(),
        &["http request", "http response", "websocket frames"],
        100.0,
    );
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn every_upgrade_accept_is_verified() {
    let mut seen = 0;
    for truth in truth_files_in(&captures_dir()) {
        let cap = capture_of(&truth);
        for (n, l) in app_layers(&cap, "http") {
            let f = &l["fields"];
            if f["status"] == 101 {
                seen += 1;
                assert_eq!(f["accept_valid"], true, "{} frame {n}: {f}", cap.display());
                assert_eq!(
                    f["websocket_accept"],
                    f["accept_expected"],
                    "{} frame {n}",
                    cap.display()
                );
            }
        }
    }
    assert!(
        seen >= 12,
        "expected the 101s of the WebSocket captures, saw {seen}"
    );
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn compressed_messages_are_inflated() {
    // permessage-deflate with context takeover: the server's ten messages all inflate.
    let ws = app_layers(
        &captures_dir().join("websocket-compressed-server.pcap"),
        "websocket",
    );
    let texts: Vec<&str> = ws
        .iter()
        .filter_map(|(_, l)| l["fields"]["text"].as_str())
        .collect();
    assert_eq!(texts.len(), 10, "{texts:?}");
    assert!(ws
        .iter()
        .all(|(_, l)| l["fields"]["compressed"] == true || l["fields"]["opcode"] != 1));
    let two = app_layers(
        &captures_dir().join("websocket-compressed.pcap"),
        "websocket",
    );
    assert_eq!(
        two.iter()
            .filter(|(_, l)| l["fields"]["text"].is_string())
            .count(),
        2
    );
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn unmasked_client_ping_is_flagged() {
    let ws = app_layers(&captures_dir().join("websocket-ping-sll.pcap"), "websocket");
    let (n, ping) = ws
        .iter()
        .find(|(_, l)| l["fields"]["opcode"] == 9)
        .expect("a ping");
    assert_eq!(*n, 8);
    assert_eq!(ping["fields"]["masked"], false);
    let checks = ping["checks"].to_string();
    assert!(
        checks.contains("masked"),
        "no masking warning on the unmasked client ping: {checks}"
    );
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn malformed_captures_get_a_message_not_a_panic() {
    for name in ["pcap-invalid-version-1.pcap", "shb-option-too-long.pcapng"] {
        let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
            .args(["inspect", "--color", "never"])
            .arg(captures_dir().join(name))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: one line expected: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    // Every capture, the odd ones included, ends without a panic or a hang.
    for entry in std::fs::read_dir(captures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .extension()
            .is_some_and(|e| e == "pcap" || e == "pcapng")
        {
            for flag in ["--json", "--summary", "--hex", "--brief", "--fields"] {
                let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
                    .args(["inspect", "--color", "never", flag])
                    .arg(&path)
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    !err.contains("panicked"),
                    "{} {flag}: {err}",
                    path.display()
                );
                assert!(
                    out.status.code().is_some(),
                    "{} {flag} was killed by a signal",
                    path.display()
                );
            }
        }
    }
}

/// tshark's conversation completeness bits (4.0): SYN 1, SYN-ACK 2, ACK 4, DATA 8, FIN 16, RST 32.
const SYN: u32 = 1;
const SYNACK: u32 = 2;
const ACK: u32 = 4;
const FIN: u32 = 16;
const RST: u32 = 32;

#[test]
#[ignore = "needs ../shared/captures and tshark; .ci/run runs it"]
fn handshakes_teardowns_and_resets_match_tshark_completeness() {
    let mut checked = 0;
    for truth in truth_files_in(&captures_dir()) {
        let cap = capture_of(&truth);
        let rows = tshark_rows(
            &cap,
            &[
                "frame.number",
                "tcp.stream",
                "tcp.flags",
                "tcp.completeness",
                "tcp.srcport",
            ],
            ",",
        );
        let convs: Vec<serde_json::Value> =
            json_lines(&["inspect", "--json", "--color", "never"], &cap)
                .into_iter()
                .filter(|v| v["type"] == "conversation" && v["transport"] == "tcp")
                .collect();
        // Per stream, from tshark: completeness, and the frames of the first SYN, SYN-ACK,
        // RST and each side's first FIN.
        let mut streams: std::collections::BTreeMap<
            u64,
            (
                u32,
                Option<u64>,
                Option<u64>,
                Option<u64>,
                Vec<(String, u64)>,
            ),
        > = Default::default();
        for r in &rows {
            let (Ok(stream), Ok(frame)) = (
                first(&r["tcp.stream"]).parse::<u64>(),
                r["frame.number"].parse::<u64>(),
            ) else {
                continue;
            };
            let flags = u32::from_str_radix(first(&r["tcp.flags"]).trim_start_matches("0x"), 16)
                .unwrap_or(0);
            let e = streams.entry(stream).or_default();
            e.0 = first(&r["tcp.completeness"]).parse().unwrap_or(e.0);
            if flags & 0x12 == 0x02 && e.1.is_none() {
                e.1 = Some(frame);
            }
            if flags & 0x12 == 0x12 && e.2.is_none() {
                e.2 = Some(frame);
            }
            if flags & 0x04 != 0 && e.3.is_none() {
                e.3 = Some(frame);
            }
            let port = first(&r["tcp.srcport"]).to_string();
            if flags & 0x01 != 0 && !e.4.iter().any(|(p, _)| *p == port) {
                e.4.push((port, frame));
            }
        }
        for (stream, (c, syn, synack, rst, fins)) in streams {
            let ours = convs
                .iter()
                .find(|v| v["stream"] == stream)
                .unwrap_or_else(|| panic!("{}: no conversation {stream}", cap.display()));
            let name = format!("{} stream {stream} (completeness {c})", cap.display());
            if c & (SYN | SYNACK | ACK) == SYN | SYNACK | ACK {
                let hs = ours["handshake"].as_array().unwrap();
                assert_eq!(hs.len(), 3, "{name}: handshake {hs:?}");
                assert_eq!(hs[0].as_u64(), syn, "{name}: SYN frame");
                assert_eq!(hs[1].as_u64(), synack, "{name}: SYN-ACK frame");
                checked += 1;
            }
            if c & RST != 0 {
                assert_eq!(ours["reset"].as_u64(), rst, "{name}: reset frame");
                checked += 1;
            }
            if c & FIN != 0 {
                let teardown: Vec<u64> = ours["teardown"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|v| v.as_u64())
                    .collect();
                for (_, f) in &fins {
                    assert!(
                        teardown.contains(f),
                        "{name}: FIN in frame {f} missing from teardown {teardown:?}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 40,
        "only {checked} handshakes/teardowns/resets checked"
    );
}

#[test]
#[ignore = "needs ../shared/captures and tshark; .ci/run runs it"]
fn websocket_texts_equal_tshark_unmasked_text() {
    let mut compared = 0;
    for truth in truth_files_in(&captures_dir()) {
        let cap = capture_of(&truth);
        // The unit separator joins repeated values: texts may hold commas.
        let rows = tshark_rows(
            &cap,
            &[
                "frame.number",
                "websocket.payload.text",
                "websocket.fin",
                "websocket.opcode",
            ],
            "\u{1f}",
        );
        let ours = app_layers(&cap, "websocket");
        for r in rows {
            // tshark -T fields writes CR, LF and TAB as \r, \n, \t.
            let unescape = |t: &str| {
                t.replace("\\r", "\r")
                    .replace("\\n", "\n")
                    .replace("\\t", "\t")
            };
            let texts: Vec<String> = r["websocket.payload.text"]
                .split('\u{1f}')
                .filter(|t| !t.is_empty())
                .map(unescape)
                .collect();
            let ops: Vec<&str> = r["websocket.opcode"].split('\u{1f}').collect();
            if texts.is_empty() || ops.iter().any(|o| *o == "0") {
                // Fragmented messages: tshark shows each fragment's text, wirewalk the
                // joined message (and tshark 4.0 inflates fragments wrongly).
                continue;
            }
            let n: u64 = r["frame.number"].parse().unwrap();
            let mine: Vec<String> = ours
                .iter()
                .filter(|(f, l)| *f == n && l["fields"]["opcode"] == 1)
                .filter_map(|(_, l)| l["fields"]["text"].as_str().map(String::from))
                .collect();
            assert_eq!(mine, texts, "{} frame {n}", cap.display());
            compared += texts.len();
        }
    }
    assert!(compared >= 30, "only {compared} texts compared");
}

/// Where each TCP field ends in the header: a field is reported only when its bytes
/// were captured.
const TCP_FIELD_ENDS: [(&str, usize); 7] = [
    ("seq_raw", 8),
    ("ack_raw", 12),
    ("header_len", 13),
    ("flags", 14),
    ("window", 16),
    ("checksum", 18),
    ("urgent_pointer", 20),
];

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn nothing_is_said_of_a_field_whose_bytes_were_not_captured() {
    let mut checked = 0;
    for entry in std::fs::read_dir(captures_dir()).expect("shared captures") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
            continue;
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirewalk"))
            .args(["inspect", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let p: serde_json::Value = serde_json::from_str(line).unwrap();
            if p["type"] != "packet" {
                continue;
            }
            let cap = p["captured_len"].as_u64().unwrap() as usize;
            for l in p["layers"].as_array().unwrap() {
                if l["osi"].as_u64().unwrap() > 4 {
                    continue;
                }
                let (start, end) = (
                    l["range"][0].as_u64().unwrap() as usize,
                    l["range"][1].as_u64().unwrap() as usize,
                );
                assert!(
                    end <= cap,
                    "{name} #{}: {} ends at {end}, past the {cap} captured bytes",
                    p["number"],
                    l["protocol"]
                );
                if l["protocol"] == "tcp" {
                    for (field, at) in TCP_FIELD_ENDS {
                        if !l["fields"][field].is_null() {
                            assert!(
                                start + at <= cap,
                                "{name} #{}: tcp {field} needs byte {} of {cap}",
                                p["number"],
                                start + at
                            );
                        }
                    }
                }
                checked += 1;
            }
            for n in p["notes"].as_array().into_iter().flatten() {
                let t = n["text"].as_str().unwrap();
                assert!(!t.contains(".."), "{name} #{}: {t}", p["number"]);
            }
        }
    }
    assert!(checked > 1000, "only {checked} layers checked");
}

/// Every capture (pcap or pcapng) in a folder.
fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    v.sort();
    v
}

#[test]
#[ignore = "needs ../shared/captures and tshark; .ci/run runs it"]
fn anatomy_fields_agree_with_tshark_on_the_shared_captures() {
    let caps: Vec<PathBuf> = truth_files_in(&captures_dir())
        .iter()
        .map(|t| capture_of(t))
        .collect();
    // Every field, including bytes in flight less what the peer's SACK blocks report
    // received (the fast retransmissions of tcp-retransmit-snaplen54.pcap).
    assert_anatomy_agrees(&caps, 100.0);
}

#[test]
#[ignore = "needs tshark; .ci/run runs it"]
fn anatomy_fields_agree_with_tshark_on_the_fixtures() {
    let caps = captures_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"));
    assert!(caps.len() >= 5, "{caps:?}");
    assert_anatomy_agrees(&caps, 100.0);
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn every_header_of_every_shared_capture_is_drawn_within_80_columns() {
    let mut drawn = 0;
    for cap in captures_in(&captures_dir()) {
        let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
            .args(["inspect", "--fields", "--color", "never"])
            .arg(&cap)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for (i, line) in text.lines().enumerate() {
            let w = line.chars().count();
            assert!(
                w <= 80,
                "{} line {}: {w} columns: {line}",
                cap.display(),
                i + 1
            );
        }
        drawn += text.matches("\n   0 1 2 3 4 5 6 7 8 9 0 1").count();
    }
    assert!(drawn >= 2000, "only {drawn} header diagrams drawn");
}
