//! `inspect --stats`: the Kurose & Ross TCP lab questions answered per conversation, with
//! the same numbers as `--json` (which the conformance tests hold to tshark's).

mod common;
use common::{flat, run_ok as wirewalk};

use serde_json::Value;

fn tcp_layers(json: &str) -> Vec<(u64, Value)> {
    json.lines()
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

#[test]
fn the_lab_questions_are_answered_from_the_packets() {
    let file = "tests/fixtures/ws-python-plain.pcap";
    let stats = flat(&wirewalk(&["inspect", "--stats", file]));
    let tcp = tcp_layers(&wirewalk(&["inspect", "--json", file]));
    let isn = tcp[0].1["seq_raw"].as_u64().unwrap();
    assert!(
        stats.contains(&format!("SYN in frame 1: sequence number {isn} (raw)")),
        "{stats}"
    );
    assert!(
        stats.contains(&format!("ack {} = the client's ISN {isn} + 1", isn + 1)),
        "{stats}"
    );
    // Data bytes each way: the sum of the segments' lengths.
    let data: u64 = tcp
        .iter()
        .filter(|(_, f)| f["src_port"] == tcp[0].1["src_port"])
        .map(|(_, f)| f["payload_len"].as_u64().unwrap())
        .sum();
    let client = stats.split("Client → server: ").nth(1).unwrap();
    let said: u64 = client
        .split(" segments, ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    assert_eq!(said, data, "{stats}");
    // The smallest window the server advertised.
    let (frame, min) = tcp
        .iter()
        .filter(|(_, f)| f["src_port"] != tcp[0].1["src_port"])
        .map(|(n, f)| (*n, f["window_scaled"].as_u64().unwrap()))
        .min_by_key(|(n, w)| (*w, *n))
        .unwrap();
    let server = stats.split("Server → client: ").nth(1).unwrap();
    let min = wirewalk::explain::anatomy::grouped(min);
    assert!(
        server.contains(&format!(
            "smallest advertised window {min} bytes (frame {frame})"
        )),
        "{stats}"
    );
    assert!(stats.contains("0 retransmitted"), "{stats}");
    let samples = tcp.iter().filter(|(_, f)| f["acks_frame"].is_u64()).count();
    assert!(
        stats.contains(&format!("RTT samples: {samples} ")),
        "{stats}"
    );
    assert!(
        stats.contains("Initial RTT (SYN to the handshake's ACK): 0.038 ms"),
        "{stats}"
    );
}

#[test]
fn a_lost_segment_counts_as_a_retransmission() {
    let stats = flat(&wirewalk(&["simulate", "lossy", "--stats"]));
    let retrans: u64 = stats
        .split(" retransmitted")
        .filter_map(|s| s.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert!(retrans >= 1, "{stats}");
}
