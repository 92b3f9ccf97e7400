//! The arithmetic of the headers, said on the packet where it happens (the layer tree of
//! `inspect`), on captures the project makes: the real window from the SYN's scale, the
//! frame an ACK acknowledges and the bytes in flight (the same numbers as `--json`, which
//! the conformance tests hold to tshark's), the initial RTT, the random ISN and the
//! SYN-ACK's ack = ISN + 1, the MSS against the MTU, and the WebSocket frame header bit by
//! bit with its length code, why clients mask, and a ping's payload as text.

mod common;
use common::{packets, run_ok as wirewalk};

use std::collections::HashMap;

use serde_json::Value;

fn tcp_fields(file: &str) -> HashMap<u64, Value> {
    wirewalk(&["inspect", "--json", file])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "packet")
        .filter_map(|v| {
            let t = v["layers"]
                .as_array()?
                .iter()
                .find(|l| l["protocol"] == "tcp")?["fields"]
                .clone();
            Some((v["number"].as_u64()?, t))
        })
        .collect()
}

const PLAIN: &str = "tests/fixtures/ws-python-plain.pcap";

#[test]
fn the_handshake_says_its_arithmetic() {
    let p = packets(&wirewalk(&["inspect", PLAIN]));
    let json = tcp_fields(PLAIN);
    let isn = json[&1]["seq_raw"].as_u64().unwrap();
    assert!(
        p[&1].contains(&format!(
            "The initial sequence number {isn} is chosen at random (RFC 6528)"
        )),
        "{}",
        p[&1]
    );
    // Loopback's MTU is 65,536, but an IPv4 packet holds at most 65,535 bytes.
    assert!(
        p[&1].contains("MSS arithmetic: 65,495 = 65,535 − 40 bytes of IP and TCP headers"),
        "{}",
        p[&1]
    );
    assert!(
        p[&1].contains("A SYN's window is never scaled")
            && p[&1].matches("never scaled").count() == 1,
        "{}",
        p[&1]
    );
    assert!(
        p[&2].contains(&format!(
            "its acknowledgement {} = the other side's ISN {isn} + 1 (a SYN takes up one sequence number)",
            isn + 1
        )),
        "{}",
        p[&2]
    );
    // The ACK completing the handshake: window 64 with the SYN's scale 10.
    assert!(
        p[&3].contains(
            "Window: 64 × 1,024 = 65,536 bytes (the scale factor 10 from this side's SYN)"
        ),
        "{}",
        p[&3]
    );
    let irtt = json[&3]["irtt"].as_f64().unwrap();
    assert!(
        p[&3].contains(&format!("Initial RTT: {:.3} ms", irtt * 1000.0)),
        "{}",
        p[&3]
    );
}

#[test]
fn acks_and_bytes_in_flight_are_said_with_the_numbers_of_the_json() {
    let p = packets(&wirewalk(&["inspect", PLAIN]));
    let json = tcp_fields(PLAIN);
    let mut said = 0;
    for (n, f) in &json {
        if let Some(a) = f["acks_frame"].as_u64() {
            assert!(
                p[n].contains(&format!("This ACK acknowledges frame {a} ")),
                "{}",
                p[n]
            );
            said += 1;
        }
        if let Some(b) = f["bytes_in_flight"].as_u64() {
            assert!(p[n].contains(&format!("Bytes in flight: {b} ")), "{}", p[n]);
            said += 1;
        }
    }
    assert!(said >= 15, "only {said} numbers said");
}

#[test]
fn a_websocket_frame_header_is_read_bit_by_bit() {
    let text = wirewalk(&["inspect", PLAIN]);
    let p = packets(&text);
    assert!(
        p[&12].contains("Frame header: FIN 1 · RSV1 0 RSV2 0 RSV3 0 · opcode 1 (text) · MASK 1 · length code 126 → a 16-bit length follows = 300 · masking key 0279d01c."),
        "{}",
        p[&12]
    );
    // Why clients mask: said once, on the first masked frame.
    assert_eq!(text.matches("Why clients mask").count(), 1, "{text}");
    let first_masked = (1..=12)
        .find(|n| p[n].contains("MASK 1 ·"))
        .expect("a masked frame");
    assert!(
        p[&first_masked].contains("RFC 6455 §10.3"),
        "{}",
        p[&first_masked]
    );
}

#[test]
fn a_ping_payload_is_shown_as_text() {
    let text = wirewalk(&["simulate", "websocket"]);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("opcode 9 (ping) · MASK 0 · length 4 (fits in 7 bits). · Its payload as text: \"beat\"."),
        "{flat}"
    );
}

#[test]
fn ipv6_mss_is_the_mtu_less_60() {
    let p = packets(&wirewalk(&["simulate", "handshake", "--ipv6"]));
    assert!(
        p[&1].contains("MSS arithmetic: 1,440 = an MTU of 1,500 − 60"),
        "{}",
        p[&1]
    );
}
