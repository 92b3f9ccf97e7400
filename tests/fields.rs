//! `inspect --fields`: the packet diagram. Every header of the project's own captures and
//! of every simulated scenario fits 80 columns, and the arithmetic said under the boxes
//! is this packet's (windows scaled from the SYN, MSS against the MTU, the WebSocket
//! length code, relative SACK blocks).

mod common;
use common::{flat, run_ok as wirewalk};

use std::path::Path;

fn assert_fits(what: &str, text: &str) {
    for (i, line) in text.lines().enumerate() {
        let w = line.chars().count();
        assert!(w <= 80, "{what} line {}: {w} columns: {line}", i + 1);
    }
}

#[test]
fn every_header_of_the_fixtures_and_scenarios_fits_80_columns() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "pcap") {
            let out = wirewalk(&["inspect", "--fields", p.to_str().unwrap()]);
            assert_fits(&p.display().to_string(), &out);
            n += out.matches("WebSocket frame header").count();
        }
    }
    assert!(n >= 40, "only {n} WebSocket frame headers drawn");
    for s in [
        "handshake",
        "websocket",
        "socketio",
        "teardown",
        "reset",
        "udp",
        "lossy",
        "rejected",
        "lost-syn",
    ] {
        for v6 in [false, true] {
            let mut args = vec!["simulate", s, "--fields"];
            if v6 {
                args.push("--ipv6");
            }
            assert_fits(&format!("{args:?}"), &wirewalk(&args));
        }
    }
}

#[test]
fn a_syns_window_is_never_scaled_but_later_windows_are() {
    let out = flat(&wirewalk(&["simulate", "handshake", "--fields"]));
    assert!(
        out.contains("Window 64240 bytes: a SYN's window is never scaled"),
        "{out}"
    );
    // The handshake's ACK: 501 × 128 (the scale 7 of the client's SYN) = 64,128 bytes.
    let ack = out.split("Packet 3:").nth(1).unwrap();
    assert!(
        ack.contains(
            "Window 501 × 128 = 64,128 bytes the receiver can take (scale 7 from the SYN)"
        ),
        "{ack}"
    );
}

#[test]
fn mss_is_the_mtu_less_40_over_ipv4_and_60_over_ipv6() {
    let v4 = flat(&wirewalk(&[
        "simulate",
        "handshake",
        "--fields",
        "--packet",
        "1",
    ]));
    assert!(
        v4.contains("MSS 1,460: ") && v4.contains("MTU − 40"),
        "{v4}"
    );
    let v6 = flat(&wirewalk(&[
        "simulate",
        "handshake",
        "--ipv6",
        "--fields",
        "--packet",
        "1",
    ]));
    assert!(
        v6.contains("MSS 1,440: ") && v6.contains("MTU − 60"),
        "{v6}"
    );
    assert!(v6.contains("IPv6 has no header checksum"), "{v6}");
}

#[test]
fn the_length_code_says_how_the_length_is_written() {
    // ws-python-plain: frame 12 is a masked 300-byte client text frame (code 126).
    let out = wirewalk(&[
        "inspect",
        "--fields",
        "--packet",
        "12",
        "tests/fixtures/ws-python-plain.pcap",
    ]);
    assert!(
        out.contains("|1|0|0|0|   1   |1|     126     |  Extended payload length 300  |"),
        "{out}"
    );
    assert!(
        out.contains("Length code 126: the real length is in the next 16 bits"),
        "{out}"
    );
    assert!(out.contains("Masking key 0279d01c"), "{out}");
    assert!(out.contains("RFC 6455 §10.3"), "{out}");
}

#[test]
fn sack_blocks_are_relative_numbers() {
    // The lossy scenario: the receiver's duplicate ACKs carry SACK blocks above the hole.
    let out = wirewalk(&["simulate", "lossy", "--fields"]);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("SACK ") && l.contains("(relative)"))
        .unwrap_or_else(|| panic!("no SACK block line in {out}"));
    let first: u32 = line
        .trim_start()
        .trim_start_matches("SACK ")
        .split('–')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{line}: {e}"));
    assert!(first > 1 && first < 100_000, "{line}");
}

#[test]
fn a_flag_is_said_for_its_value_and_an_unfinished_checksum_is_not_wrong() {
    let out = flat(&wirewalk(&["simulate", "handshake", "--fields"]));
    // A SYN: URG, ACK, FIN are 0; what a 1 would mean is said as such, not as fact.
    assert!(
        out.contains("URG 0 (1 = the urgent pointer is valid)"),
        "{out}"
    );
    assert!(
        out.contains("SYN 1 (1 = synchronise sequence numbers"),
        "{out}"
    );
    assert!(!out.contains("URG 0: the urgent pointer is valid"), "{out}");
    // Loopback captures carry checksum offload's unfinished checksums: not WRONG.
    let lo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ws-node.pcap");
    let out = flat(&wirewalk(&["inspect", "--fields", lo.to_str().unwrap()]));
    assert!(
        out.contains(": unfinished: it holds only the sum over the pseudo-header"),
        "{out}"
    );
    assert!(!out.contains("WRONG"), "{out}");
}
