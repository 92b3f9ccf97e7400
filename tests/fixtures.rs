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

/// A Socket.IO packet for comparison, from wirewalk's JSON or from expected.json.
fn sio(from: &str, kind: &Value, f: &Value) -> String {
    format!(
        "{from} {} {} {} {} {} {}",
        kind, f["namespace"], f["event"], f["args"], f["ack_id"], f["attachments"]
    )
}

#[test]
fn socketio_packets_are_what_the_peers_sent() {
    for name in ["socketio-polling-upgrade", "socketio-websocket-only"] {
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join(format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        let ours = app_layers(&fixtures().join(format!("{name}.pcap")), "socketio");
        for side in ["client", "server"] {
            let want: Vec<String> = expected["socketio"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["from"] == side)
                .map(|m| sio(side, &m["type"], m))
                .collect();
            let got: Vec<String> = ours
                .iter()
                .filter(|(_, l)| l["from"] == side)
                .map(|(_, l)| sio(side, &l["fields"]["packet_type"], &l["fields"]))
                .collect();
            assert_eq!(got, want, "{name}: the {side}'s Socket.IO packets");
            assert!(!want.is_empty());
        }
        // Engine.IO: the same packet types, in the same order, each way.
        let eio = app_layers(&fixtures().join(format!("{name}.pcap")), "engineio");
        for side in ["client", "server"] {
            let want: Vec<&str> = expected["engineio"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["from"] == side)
                .map(|m| m["type"].as_str().unwrap())
                .collect();
            let got: Vec<&str> = eio
                .iter()
                .filter(|(_, l)| l["from"] == side)
                .map(|(_, l)| l["fields"]["packet_type"].as_str().unwrap())
                .collect();
            assert_eq!(got, want, "{name}: the {side}'s Engine.IO packets");
        }
    }
}

#[test]
fn socketio_connections_are_named_socketio() {
    let convs: Vec<Value> = json_lines(
        &["inspect", "--json", "--color", "never"],
        &fixtures().join("socketio-websocket-only.pcap"),
    )
    .into_iter()
    .filter(|v| v["type"] == "conversation")
    .collect();
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["application"], "socketio");
    assert_eq!(convs[0]["handshake"].as_array().unwrap().len(), 3);
}

#[test]
fn one_socketio_session_links_polling_and_websocket_by_sid() {
    let lines = json_lines(
        &["inspect", "--json", "--color", "never"],
        &fixtures().join("socketio-polling-upgrade.pcap"),
    );
    let summary = lines.iter().find(|v| v["type"] == "summary").unwrap();
    let sessions = summary["socketio_sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let s = &sessions[0];
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("socketio-polling-upgrade.expected.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        s["sid"], expected["engineio_sid"],
        "the session is the one the server opened"
    );
    assert!(!s["polling_streams"].as_array().unwrap().is_empty());
    assert_eq!(s["websocket_streams"].as_array().unwrap().len(), 1);
    // The upgrade dance, in order: 2probe, 3probe, then 5.
    let d = &s["upgrade"];
    let (probe, answer, upgrade) = (
        d["probe"].as_u64().unwrap(),
        d["probe_answer"].as_u64().unwrap(),
        d["upgrade"].as_u64().unwrap(),
    );
    assert!(probe < answer && answer < upgrade, "{d}");
    // Every emit that asked for an acknowledgement got one.
    assert_eq!(
        s["acks"].as_u64().unwrap() as usize,
        expected["socketio"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == "ACK")
            .count()
    );
}

#[test]
fn resource_limits_are_said_and_can_be_changed() {
    // A 300-byte message with a 100-byte cap: kept in part, with a note.
    let lines = json_lines(
        &[
            "inspect",
            "--json",
            "--color",
            "never",
            "--max-message",
            "100",
        ],
        &fixtures().join("ws-python-plain.pcap"),
    );
    let capped: Vec<Value> = lines
        .iter()
        .flat_map(|p| p["layers"].as_array().cloned().unwrap_or_default())
        .filter(|l| l["fields"]["truncated"] == true)
        .collect();
    assert_eq!(capped.len(), 1);
    assert!(
        capped[0]["checks"]
            .to_string()
            .contains("larger than 100 bytes"),
        "{}",
        capped[0]
    );
    // No conversation followed at all: every packet is still dissected, and it is said.
    let lines = json_lines(
        &[
            "inspect",
            "--json",
            "--color",
            "never",
            "--max-conversations",
            "0",
        ],
        &fixtures().join("ws-node.pcap"),
    );
    assert_eq!(lines.iter().filter(|v| v["type"] == "packet").count(), 22);
    assert!(lines
        .iter()
        .filter(|v| v["type"] == "packet")
        .all(|p| p["stream"].is_null()));
    let summary = lines.iter().find(|v| v["type"] == "summary").unwrap();
    assert!(
        summary["warnings"]
            .to_string()
            .contains("--max-conversations"),
        "{summary}"
    );
}
