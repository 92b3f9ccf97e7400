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
        &[
            "packet present",
            "frame lengths",
            "ethernet",
            "ipv4",
            "ipv6",
            "tcp ports",
            "tcp flags",
            "tcp raw seq/ack",
            "tcp relative seq/ack",
            "tcp payload length",
            "tcp window",
            "tcp options",
            "udp ports",
            "stream index",
        ],
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
            for flag in ["--json", "--summary", "--hex", "--brief"] {
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
