//! The project's own captures of real peers (Python `websockets`, Node `ws`, Node
//! socket.io, made by `scripts/capture-peers/run.sh` on loopback): wirewalk must agree
//! with tshark's ground truth on every field family, and must decode exactly the
//! WebSocket messages the peers logged as they sent them (`*.expected.json`).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn real_peer_captures_agree_with_tshark() {
    assert_agreement(&fixtures(), ALL_FAMILIES, 100.0);
}

/// What a WebSocket message looks like for comparison: sender, opcode, content.
fn describe(from: &str, opcode: &str, f: &Value) -> String {
    let content = match opcode {
        "text" => format!("{:?}", f["text"].as_str().unwrap_or("<no text>")),
        "close" => format!(
            "{} {:?}",
            f["close_code"],
            f["close_reason"].as_str().unwrap_or("")
        ),
        _ => f["data_hex"].as_str().unwrap_or("").to_string(),
    };
    format!("{from} {opcode} {content}")
}

#[test]
fn websocket_messages_are_what_the_peers_sent() {
    let mut checked = 0;
    for name in [
        "ws-python-plain",
        "ws-python-deflate",
        "ws-python-fragmented",
        "ws-python-deflate-fragmented",
        "ws-node",
    ] {
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join(format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        let ours = app_layers(&fixtures().join(format!("{name}.pcap")), "websocket");
        for side in ["client", "server"] {
            let want: Vec<String> = expected["websocket_messages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["from"] == side)
                .map(|m| describe(side, m["opcode"].as_str().unwrap(), m))
                .collect();
            // A message is reported on the frame that completes it; control frames stand alone.
            let got: Vec<String> = ours
                .iter()
                .filter(|(_, l)| l["from"] == side)
                .filter(|(_, l)| {
                    l["fields"]["message_len"].is_number()
                        || l["fields"]["opcode"].as_u64().unwrap_or(0) >= 8
                })
                .map(|(_, l)| {
                    let f = &l["fields"];
                    // The frame completing a fragmented message is a continuation; the
                    // message is text when it has text.
                    let kind = match f["opcode_name"].as_str().unwrap() {
                        "continuation" if f["text"].is_string() => "text",
                        "continuation" => "binary",
                        other => other,
                    };
                    describe(side, kind, f)
                })
                .collect();
            assert_eq!(got, want, "{name}: the {side}'s messages");
            checked += want.len();
        }
    }
    assert!(checked >= 40, "only {checked} messages checked");
}

#[test]
fn fragmented_messages_are_joined_and_counted() {
    let ours = app_layers(&fixtures().join("ws-python-fragmented.pcap"), "websocket");
    let joined: Vec<&Value> = ours
        .iter()
        .map(|(_, l)| &l["fields"])
        .filter(|f| f["fragments"].as_u64().unwrap_or(0) > 1)
        .collect();
    assert!(!joined.is_empty(), "no fragmented message found");
    for f in joined {
        let frames = ours.iter().filter(|(_, l)| l["fields"] == *f).count();
        assert_eq!(frames, 1);
        assert!(f["message_len"].as_u64().unwrap() > 0);
    }
}

#[test]
fn the_upgrade_is_checked_in_every_fixture() {
    for name in [
        "ws-python-plain",
        "ws-python-deflate",
        "ws-node",
        "socketio-websocket-only",
    ] {
        let http = app_layers(&fixtures().join(format!("{name}.pcap")), "http");
        let resp = http
            .iter()
            .find(|(_, l)| l["fields"]["status"] == 101)
            .unwrap_or_else(|| panic!("{name}: no 101"));
        assert_eq!(resp.1["fields"]["accept_valid"], true, "{name}");
        let req = http
            .iter()
            .find(|(_, l)| l["fields"]["kind"] == "request")
            .unwrap();
        assert!(req.1["fields"]["websocket_key"].is_string(), "{name}");
    }
}
