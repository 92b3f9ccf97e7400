//! `wirewalk simulate`: the same scenario and seed give the same bytes, and a written
//! capture, read back with `inspect`, gives exactly the packet lines that `simulate
//! --json` printed (pcap and pcapng alike).

mod common;
use common::run_ok as wirewalk;

use std::path::PathBuf;

fn packet_lines(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"packet\""))
        .map(String::from)
        .collect()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wirewalk-simulate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

const SCENARIOS: [&str; 9] = [
    "handshake",
    "websocket",
    "socketio",
    "teardown",
    "reset",
    "udp",
    "lossy",
    "rejected",
    "lost-syn",
];

#[test]
fn a_written_capture_inspects_to_the_same_packet_lines() {
    for scenario in SCENARIOS {
        for ext in ["pcap", "pcapng"] {
            let file = temp(&format!("{scenario}.{ext}"));
            let f = file.to_str().unwrap();
            let simulated = wirewalk(&["simulate", scenario, "--seed", "7", "--json", "-w", f]);
            let inspected = wirewalk(&["inspect", "--json", f]);
            let (a, b) = (packet_lines(&simulated), packet_lines(&inspected));
            assert!(!a.is_empty(), "{scenario}: no packets");
            assert_eq!(
                a, b,
                "{scenario} as {ext}: simulate --json and inspect of the written file differ"
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_numbers() {
    let (a, b, c) = (temp("a.pcap"), temp("b.pcap"), temp("c.pcap"));
    wirewalk(&[
        "simulate",
        "websocket",
        "--seed",
        "3",
        "-w",
        a.to_str().unwrap(),
        "--summary",
    ]);
    wirewalk(&[
        "simulate",
        "websocket",
        "--seed",
        "3",
        "-w",
        b.to_str().unwrap(),
        "--summary",
    ]);
    wirewalk(&[
        "simulate",
        "websocket",
        "--seed",
        "4",
        "-w",
        c.to_str().unwrap(),
        "--summary",
    ]);
    let (a, b, c) = (
        std::fs::read(a).unwrap(),
        std::fs::read(b).unwrap(),
        std::fs::read(c).unwrap(),
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn every_simulated_upgrade_is_valid_and_every_scenario_is_clean() {
    for scenario in SCENARIOS {
        let json = wirewalk(&["simulate", scenario, "--json"]);
        let mut tags = Vec::new();
        for line in json.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            for l in v["layers"].as_array().into_iter().flatten() {
                if l["protocol"] == "http" && l["fields"]["status"] == 101 {
                    assert_eq!(l["fields"]["accept_valid"], true, "{scenario}");
                }
                assert!(
                    l.get("checks").is_none(),
                    "{scenario}: a protocol check fired: {}",
                    l["checks"]
                );
                if let Some(ok) = l["fields"].get("checksum_ok") {
                    assert_eq!(ok, true, "{scenario}: a bad checksum");
                }
            }
            for t in v["analysis"].as_array().into_iter().flatten() {
                tags.push(t.as_str().unwrap().to_string());
            }
        }
        let trouble: Vec<&String> = tags
            .iter()
            .filter(|t| {
                [
                    "retransmission",
                    "duplicate-ack",
                    "out-of-order",
                    "previous-segment-not-captured",
                ]
                .contains(&t.as_str())
            })
            .collect();
        match scenario {
            "lossy" => assert!(
                trouble.iter().any(|t| *t == "retransmission")
                    && trouble.iter().any(|t| *t == "duplicate-ack"),
                "lossy: {trouble:?}"
            ),
            "lost-syn" => assert!(
                trouble.iter().any(|t| *t == "retransmission"),
                "lost-syn: {trouble:?}"
            ),
            _ => assert!(trouble.is_empty(), "{scenario}: unintended {trouble:?}"),
        }
    }
}

#[test]
#[ignore = "needs tshark; .ci/run runs it"]
fn every_scenario_agrees_with_tshark_field_by_field() {
    // tshark reads the written file; wirewalk's inspect of it must agree on every field
    // family the conformance checker counts (frames, addresses, TCP numbers and analysis,
    // HTTP, WebSocket).
    for scenario in SCENARIOS {
        for ipv6 in [false, true] {
            let file = temp(&format!("{scenario}-{ipv6}.pcapng"));
            let mut args = vec![
                "simulate",
                scenario,
                "--summary",
                "-w",
                file.to_str().unwrap(),
            ];
            if ipv6 {
                args.push("--ipv6");
            }
            wirewalk(&args);
            common::assert_agrees_with_tshark(&file, 100.0);
        }
    }
}

#[test]
fn resets_are_explained_by_their_cause() {
    let json = wirewalk(&["simulate", "reset", "--json"]);
    let notes: Vec<String> = json
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["analysis"]
                .as_array()
                .is_some_and(|a| a.iter().any(|t| t == "rst"))
        })
        .map(|v| v["notes"].to_string())
        .collect();
    assert_eq!(notes.len(), 2, "two resets in the scenario");
    assert!(
        notes[0].contains("Connection refused") && notes[0].contains("port 9000"),
        "{}",
        notes[0]
    );
    assert!(notes[1].contains("An abort"), "{}", notes[1]);
}
