//! Say only what is true of the packet on screen (issue: "Say only what is true").
//! Each test builds the capture it needs (or uses the simulator, or a fixture the
//! project made), and asserts the true sentence *and* the absence of the false one:
//! cuts found from the lengths the headers declare, no layer-1 wire where there was
//! none, TTL arithmetic, checksum offload said once, copies that are not
//! retransmissions, and TCP states at the edges.

#[path = "support/captures.rs"]
mod captures;

use std::path::{Path, PathBuf};
use std::process::Command;

use captures::{Capture, Tcp, ACK, FIN, PSH, RST, SYN};
use serde_json::Value;
use wirewalk::frame::{Frame, Link, Timestamp};
use wirewalk::render::pcap_out::{PcapFormat, PcapWriter};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wirewalk-truthful-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write(name: &str, frames: &[Frame]) -> PathBuf {
    let path = temp(name);
    let mut w = PcapWriter::new(Vec::new(), frames[0].link, PcapFormat::Pcap).unwrap();
    for f in frames {
        w.write(f).unwrap();
    }
    std::fs::write(&path, w.finish().unwrap()).unwrap();
    path
}

fn wirewalk(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(args)
        .args(["--color", "never"])
        .env("COLUMNS", "1000")
        .output()
        .expect("runs");
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    // One line per sentence, whatever the wrapping.
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn tree(path: &Path) -> String {
    wirewalk(&["inspect", path.to_str().unwrap()])
}

fn json(path: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["inspect", path.to_str().unwrap(), "--json"])
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn frame(n: u64, data: Vec<u8>, wire_len: u32) -> Frame {
    Frame {
        number: n,
        time: Timestamp::new(1_700_000_000, n as u32 * 1000),
        link: Link::Ethernet,
        data,
        wire_len,
    }
}

/// The handshake's first segment of a small conversation, as bytes.
fn syn_bytes() -> Vec<u8> {
    let mut cap = Capture::default();
    Tcp::new(40000).segment(&mut cap, true, &[], SYN);
    cap.frames.remove(0).data
}

fn data_bytes() -> Vec<u8> {
    let mut cap = Capture::default();
    Tcp::new(40000).segment(&mut cap, true, b"hello server, please answer", PSH | ACK);
    cap.frames.remove(0).data
}

#[test]
fn a_cut_inside_the_ip_header_is_named_there_in_plain_words() {
    // 14 bytes of Ethernet and 6 of IPv4: the cut is 6 bytes into the IPv4 header.
    let full = syn_bytes();
    let f = frame(1, full[..20].to_vec(), full.len() as u32);
    let out = tree(&write("ip-cut.pcap", &[f]));
    assert!(
        out.contains("it ends 6 bytes into the IPv4 header"),
        "{out}"
    );
    assert!(
        out.contains("The IPv4 header needs 20 bytes but only 6 were captured"),
        "{out}"
    );
    assert!(!out.contains("inside the ethernet layer"), "{out}");
    assert!(!out.contains("malformed"), "{out}");
    assert!(!out.contains(".."), "no doubled period: {out}");
}

#[test]
fn a_tcp_header_cut_before_its_flags_is_not_given_a_kind() {
    // Ethernet + IPv4 + the first 12 bytes of TCP: ports, seq and the ack field only.
    let full = data_bytes();
    let ack_raw = u32::from_be_bytes(full[42..46].try_into().unwrap());
    let f = frame(1, full[..46].to_vec(), full.len() as u32);
    let path = write("tcp-cut.pcap", &[f]);
    let out = tree(&path);
    assert!(out.contains(&format!("ack field {ack_raw}")), "{out}");
    assert!(
        out.contains("not the flags that say what kind of segment this is"),
        "{out}"
    );
    assert!(
        out.contains("it ends 12 bytes into the TCP header"),
        "{out}"
    );
    for false_claim in ["A pure ACK", "len 0", "[]", "before number"] {
        assert!(!out.contains(false_claim), "says {false_claim:?}: {out}");
    }
    // Not followed as a conversation: there is nothing to follow.
    let lines = json(&path);
    assert_eq!(lines[0]["stream"], Value::Null);
}

#[test]
fn only_padding_cut_is_called_padding_and_the_packet_whole() {
    // A 54-byte SYN padded to the 60-byte minimum frame; the capture kept 54 bytes.
    let mut cap = Capture::default();
    let t = Tcp::new(40001);
    t.segment(&mut cap, true, &[], ACK);
    let mut data = cap.frames.remove(0).data;
    assert_eq!(data.len(), 54);
    data.resize(60, 0);
    let f = frame(1, data[..54].to_vec(), 60);
    let out = tree(&write("padding-cut.pcap", &[f]));
    assert!(
        out.contains("the missing 6 lie after the IP packet"),
        "{out}"
    );
    assert!(
        out.contains("The IP packet itself, 40 bytes by its own length field, was captured whole"),
        "{out}"
    );
    assert!(!out.contains("cut inside the tcp"), "{out}");
    assert!(!out.contains("into the TCP header"), "{out}");
}

#[test]
fn a_cut_in_the_payload_says_how_much_of_it_was_kept() {
    let full = data_bytes();
    let f = frame(1, full[..60].to_vec(), full.len() as u32);
    let out = tree(&write("payload-cut.pcap", &[f]));
    assert!(
        out.contains(
            "every header is whole, but only 6 of the 27 bytes of TCP payload were recorded"
        ),
        "{out}"
    );
}

#[test]
fn an_absurd_record_length_is_called_implausible() {
    let full = syn_bytes();
    let f = frame(1, full.clone(), 262_144);
    let out = tree(&write("implausible.pcap", &[f]));
    assert!(out.contains("262144 bytes claimed (implausible)"), "{out}");
    assert!(out.contains("its IP header says 40"), "{out}");
    assert!(!out.contains("crossed the wire"), "{out}");
    assert!(!out.contains("on the wire"), "{out}");
}

#[test]
fn there_is_a_wire_on_ethernet_only_and_the_capture_omits_part_of_it() {
    let out = wirewalk(&["simulate", "handshake"]);
    assert!(out.contains("crossed the wire as"), "{out}");
    assert!(
        out.contains("8 bytes of preamble and start-of-frame delimiter"),
        "{out}"
    );
    assert!(out.contains("4-byte checksum (FCS)"), "{out}");

    // A real loopback capture (Node's ws on 127.0.0.1, zero MACs): no wire.
    let lo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ws-node.pcap");
    let out = tree(&lo);
    assert!(
        out.contains("No wire here: this packet went through the loopback interface"),
        "{out}"
    );
    assert!(!out.contains("crossed the wire"), "{out}");
    assert!(!out.contains("bytes on the wire"), "{out}");
    assert!(!out.contains("as many routers as it takes"), "{out}");
    assert!(out.contains("no router ever sees it"), "{out}");
}

#[test]
fn ttl_arithmetic_counts_the_router_that_drops_it() {
    let out = wirewalk(&["simulate", "handshake"]);
    assert!(
        out.contains("TTL 64: up to 63 more routers can forward this packet"),
        "{out}"
    );
    assert!(!out.contains("may cross that many more routers"), "{out}");
}

#[test]
fn loopback_checksums_are_explained_once_and_tag_nothing() {
    let lo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ws-node.pcap");
    let out = tree(&lo);
    assert_eq!(
        out.matches("The checksum field holds only the sum over the pseudo-header")
            .count(),
        1,
        "{out}"
    );
    assert!(!out.contains("bad-checksum"), "{out}");
    assert!(!out.contains("does not verify"), "{out}");
    assert!(
        out.contains(
            "Checksums: all 22 checked packet(s), sent by 127.0.0.1, carry the unfinished checksum"
        ),
        "{out}"
    );
    // On loopback no card ever computes it: not "made on the sending machine, before the card".
    assert!(
        out.contains("on loopback a packet never reaches a network card"),
        "{out}"
    );
    assert!(!out.contains("before any network card computed"), "{out}");
    let lines = json(&lo);
    for p in lines.iter().filter(|l| l["type"] == "packet") {
        let tags = p["analysis"].as_array().unwrap();
        assert!(!tags.iter().any(|t| t == "bad-checksum"), "{p}");
        let tcp = p["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["protocol"] == "tcp")
            .unwrap();
        assert_eq!(tcp["fields"]["checksum_partial"], true, "{p}");
    }
    let summary = lines.last().unwrap();
    assert!(
        summary["notes"][0]
            .as_str()
            .unwrap()
            .contains("sent by 127.0.0.1"),
        "{summary}"
    );
}

#[test]
fn a_checksum_wrong_in_another_way_is_still_flagged_on_its_packet() {
    let mut data = data_bytes();
    data[50] ^= 0x5a; // the TCP checksum's first byte
    let path = write("corrupt-checksum.pcap", &[frame(1, data, 0)]);
    let out = tree(&path);
    assert!(out.contains("bad-checksum"), "{out}");
    assert!(
        out.contains("it is not the unfinished sum that checksum offloading leaves"),
        "{out}"
    );
    assert!(
        !out.contains("holds only the sum over the pseudo-header"),
        "{out}"
    );
}

#[test]
fn a_packet_captured_twice_is_a_copy_not_a_retransmission() {
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40002);
    t.send(&mut cap, true, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut frames = cap.frames.clone();
    // Every packet recorded twice, at the same instant (two capture points).
    let mut doubled = Vec::new();
    for f in frames.drain(..) {
        let mut copy = f.clone();
        copy.number = doubled.len() as u64 + 2;
        let mut first = f;
        first.number = doubled.len() as u64 + 1;
        copy.time = first.time;
        doubled.push(first);
        doubled.push(copy);
    }
    let path = write("twice.pcap", &doubled);
    let out = tree(&path);
    assert!(out.contains("= a copy of packet 7"), "{out}");
    assert!(
        out.contains("This packet was captured twice: packet 7 holds the same IP packet"),
        "{out}"
    );
    assert!(
        !out.contains("A retransmission: these bytes were sent before"),
        "{out}"
    );
    assert!(
        !out.contains("because a segment arrived beyond a gap"),
        "{out}"
    );
    // The footer does not count the copies' tags as trouble on the wire; it says what they are.
    let footer = &out[out.rfind(" packets, ").unwrap()..];
    assert!(!footer.contains("! retransmission"), "{footer}");
    assert!(
        footer.contains(&format!(
            "{} packet(s) are copies of an earlier one",
            doubled.len() / 2
        )),
        "{footer}"
    );
    assert!(
        footer.contains("Wireshark tags those copies as problems ("),
        "{footer}"
    );
    // The JSON keeps Wireshark's reading and names the copy.
    let lines = json(&path);
    let eight = lines.iter().find(|l| l["number"] == 8).unwrap();
    assert_eq!(eight["copy_of"], 7);
    assert!(
        eight["analysis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "retransmission"),
        "{eight}"
    );
    // A real retransmission (later, new IP ID) is not a copy.
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40003);
    t.send(&mut cap, true, b"hi");
    let again = {
        let mut f = cap.frames[3].clone();
        f.data[18] ^= 1; // another IPv4 identification
        let csum = wirewalk_ipv4_checksum(&f.data[14..34]);
        f.data[24..26].copy_from_slice(&csum.to_be_bytes());
        f.number = 5;
        f.time = Timestamp::new(1_700_000_001, 0);
        f
    };
    cap.frames.push(again);
    let out = tree(&write("retrans.pcap", &cap.frames));
    assert!(!out.contains("captured twice"), "{out}");
    assert!(out.contains("retransmission"), "{out}");
    assert!(
        out.contains("! retransmission: 1 packet(s)"),
        "a real one is counted: {out}"
    );
    assert!(!out.contains("copies of an earlier one"), "{out}");
}

fn wirewalk_ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum = 0u32;
    for (i, c) in h.chunks(2).enumerate() {
        if i != 5 {
            sum += u16::from_be_bytes([c[0], c[1]]) as u32;
        }
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[test]
fn simultaneous_close_never_shows_a_close_wait_that_did_not_happen() {
    let lines: Vec<Value> = {
        let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
            .args(["simulate", "teardown", "--json"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let states: Vec<(u64, String, String)> = lines
        .iter()
        .filter(|l| l["type"] == "packet" && l["stream"] == 1)
        .map(|l| {
            (
                l["number"].as_u64().unwrap(),
                l["state"]["client"].as_str().unwrap().to_string(),
                l["state"]["server"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // In stream 1 both sides send their FIN at once: neither passes through CLOSE-WAIT.
    assert!(
        states
            .iter()
            .all(|(_, c, s)| c != "CLOSE-WAIT" && s != "CLOSE-WAIT"),
        "{states:?}"
    );
    let last = states.last().unwrap();
    assert_eq!(
        (last.1.as_str(), last.2.as_str()),
        ("TIME-WAIT", "TIME-WAIT"),
        "{states:?}"
    );
    let out = wirewalk(&["simulate", "teardown"]);
    assert!(out.contains("(a FIN is on its way to it)"), "{out}");
}

#[test]
fn an_out_of_order_fin_waits_for_the_bytes_before_it() {
    let mut cap = Capture::default();
    let t = Tcp::open(&mut cap, 40004);
    // The client's data segment is held back; its FIN arrives first.
    let mut held = Capture::default();
    t.segment(&mut held, true, b"abcd", PSH | ACK);
    let mut skip = Tcp::new(40004);
    skip.set_seq(1001 + 4, 5001);
    skip.segment(&mut cap, true, &[], FIN | ACK);
    let mut data = held.frames.remove(0);
    data.number = cap.frames.len() as u64 + 1;
    data.time = Timestamp::new(1_700_000_000, 900_000_000);
    cap.frames.push(data);
    // The server acknowledges data and FIN together.
    skip.set_seq(1001 + 4 + 1, 5001);
    skip.segment(&mut cap, false, &[], ACK);
    let path = write("ooo-fin.pcap", &cap.frames);
    let lines = json(&path);
    let server_after = |n: u64| {
        lines.iter().find(|l| l["number"] == n).unwrap()["state"]["server"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        server_after(4),
        "ESTABLISHED",
        "the FIN went by, ahead of bytes 1–4"
    );
    assert_eq!(
        server_after(6),
        "CLOSE-WAIT",
        "acknowledged: now it has them all"
    );
    let _ = t;
}

#[test]
fn a_refused_connection_never_claims_a_listener() {
    let out = wirewalk(&["simulate", "reset"]);
    assert!(
        out.contains("(assumed: nothing heard from it yet)"),
        "{out}"
    );
    assert!(
        out.contains("so the server side was CLOSED all along, not LISTEN"),
        "{out}"
    );
    // A RST's window is not explained as a buffer.
    assert!(!out.contains("Window 0: how many more bytes"), "{out}");
}

#[test]
fn a_reset_after_both_fins_is_not_called_an_abort_instead_of_fins() {
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40005);
    t.close(&mut cap);
    t.segment(&mut cap, true, &[], RST | ACK);
    let out = tree(&write("rst-after-fins.pcap", &cap.frames));
    assert!(
        out.contains("This RST came after the closing had begun with a FIN"),
        "{out}"
    );
    assert!(!out.contains("instead of closing it with FINs"), "{out}");
}

#[test]
fn link_and_network_boilerplate_is_said_once_per_capture() {
    let out = wirewalk(&["simulate", "teardown"]);
    assert_eq!(
        out.matches("L2 moves a frame between two neighbours")
            .count(),
        1,
        "{out}"
    );
    assert_eq!(
        out.matches("L3 is the postal address of the internet")
            .count(),
        1,
        "{out}"
    );
    assert_eq!(out.matches("crossed the wire as").count(), 1, "{out}");
}

#[test]
fn the_second_fin_answers_the_first_and_a_syn_window_is_not_scaled() {
    let lo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ws-node.pcap");
    let out = tree(&lo);
    // Node's server closes first (packet 20); the client's FIN (21) answers it.
    assert_eq!(
        out.matches("starts closing its half of the connection")
            .count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("the peer had already closed its half, and now this side closes its own"),
        "{out}"
    );
    assert!(out.contains("A SYN's window is never scaled"), "{out}");
    assert!(!out.contains("Window 65495: how many more bytes this side is ready to receive right now (before scaling)"), "{out}");
}

#[test]
fn ece_and_cwr_on_a_syn_negotiate_ecn_and_signal_no_congestion() {
    let mut data = syn_bytes();
    data[47] |= 0xc0; // ECE and CWR beside SYN
    let out = tree(&write("ecn-syn.pcap", &[frame(1, data, 0)]));
    assert!(
        out.contains("ECE on a SYN: part of negotiating ECN"),
        "{out}"
    );
    assert!(!out.contains("the network signalled congestion"), "{out}");
    assert!(
        !out.contains("the sender heard the ECN signal and slowed down"),
        "{out}"
    );
}

#[test]
fn a_segment_no_stack_sends_is_called_crafted_and_told_no_story() {
    let mut data = syn_bytes();
    data[47] = 0xff; // every flag, as a scanner's "Christmas tree" segment
    let out = tree(&write("xmas.pcap", &[frame(1, data, 0)]));
    assert!(out.contains("It is a crafted packet"), "{out}");
    for story in [
        "Step 2 of the handshake",
        "came after the closing had begun",
        "nothing listens on port",
    ] {
        assert!(!out.contains(story), "tells {story:?}: {out}");
    }
    let mut data = syn_bytes();
    data[47] = 0; // no flag at all
    let out = tree(&write("null-scan.pcap", &[frame(1, data, 0)]));
    assert!(out.contains("'null' segments"), "{out}");
    assert!(!out.contains("A pure ACK"), "{out}");
}
