//! Whole-scenario tests: determinism, derived ACKs, checksums, captions.

use std::collections::HashMap;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use super::*;

/// The TCP or UDP payload of a frame.
fn payload(p: &SimPacket) -> Vec<u8> {
    match SlicedPacket::from_ethernet(&p.frame.data)
        .unwrap()
        .transport
    {
        Some(TransportSlice::Tcp(t)) => t.payload().to_vec(),
        Some(TransportSlice::Udp(u)) => u.payload().to_vec(),
        _ => Vec::new(),
    }
}

fn run(name: &str, seed: u64, ipv6: bool) -> Vec<SimPacket> {
    simulate(
        name,
        &SimOptions {
            seed,
            ipv6,
            ..SimOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A direction of a TCP conversation: (source address, port), (destination address, port).
type Direction = ((Vec<u8>, u16), (Vec<u8>, u16));

struct Tcp {
    src: (Vec<u8>, u16),
    dst: (Vec<u8>, u16),
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    len: u32,
}

/// Parses a frame, checks every checksum, and returns its TCP fields if any.
fn check(p: &SimPacket) -> Option<Tcp> {
    let bytes = &p.frame.data;
    let s = SlicedPacket::from_ethernet(bytes)
        .unwrap_or_else(|e| panic!("frame {}: {e}", p.frame.number));
    let (src, dst) = match &s.net {
        Some(NetSlice::Ipv4(v4)) => {
            let h = v4.header().to_header();
            assert_eq!(
                h.calc_header_checksum(),
                v4.header().header_checksum(),
                "IPv4 checksum, frame {}",
                p.frame.number
            );
            (
                v4.header().source().to_vec(),
                v4.header().destination().to_vec(),
            )
        }
        Some(NetSlice::Ipv6(v6)) => (
            v6.header().source().to_vec(),
            v6.header().destination().to_vec(),
        ),
        _ => panic!("frame {}: no IP layer", p.frame.number),
    };
    let ipv6_header = match &s.net {
        Some(NetSlice::Ipv6(v6)) => Some(v6.header().to_header()),
        _ => None,
    };
    let ipv4_header = match &s.net {
        Some(NetSlice::Ipv4(v4)) => Some(v4.header().to_header()),
        _ => None,
    };
    match s.transport {
        Some(TransportSlice::Tcp(t)) => {
            let h = t.to_header();
            let sum = match (&ipv4_header, &ipv6_header) {
                (Some(v4), _) => h.calc_checksum_ipv4(v4, t.payload()).unwrap(),
                (_, Some(v6)) => h.calc_checksum_ipv6(v6, t.payload()).unwrap(),
                _ => unreachable!(),
            };
            assert_eq!(sum, t.checksum(), "TCP checksum, frame {}", p.frame.number);
            let len = t.payload().len() as u32 + t.syn() as u32 + t.fin() as u32;
            Some(Tcp {
                src: (src, t.source_port()),
                dst: (dst, t.destination_port()),
                seq: t.sequence_number(),
                ack: t.ack().then(|| t.acknowledgment_number()),
                syn: t.syn(),
                fin: t.fin(),
                rst: t.rst(),
                len,
            })
        }
        Some(TransportSlice::Udp(u)) => {
            let h = u.to_header();
            let sum = match (&ipv4_header, &ipv6_header) {
                (Some(v4), _) => h.calc_checksum_ipv4(v4, u.payload()).unwrap(),
                (_, Some(v6)) => h.calc_checksum_ipv6(v6, u.payload()).unwrap(),
                _ => unreachable!(),
            };
            assert_eq!(sum, u.checksum(), "UDP checksum, frame {}", p.frame.number);
            None
        }
        _ => panic!("frame {}: no transport layer", p.frame.number),
    }
}

#[test]
fn every_builtin_runs_with_valid_checksums_in_both_ip_versions() {
    for (name, desc) in builtin_scenarios() {
        assert!(!desc.is_empty());
        for ipv6 in [false, true] {
            let packets = run(name, 1, ipv6);
            assert!(!packets.is_empty(), "{name}");
            for (i, p) in packets.iter().enumerate() {
                assert_eq!(p.frame.number, i as u64 + 1);
                assert!(
                    !p.caption.is_empty() && !p.caption.contains('\n'),
                    "{name}: caption {:?}",
                    p.caption
                );
                assert_eq!(p.frame.wire_len as usize, p.frame.data.len());
                assert!(
                    p.frame.data.len() <= 1514,
                    "{name}: frame {} too long",
                    p.frame.number
                );
                check(p);
            }
            for w in packets.windows(2) {
                assert!(
                    w[0].frame.time <= w[1].frame.time,
                    "{name}: time goes backwards at {}",
                    w[1].frame.number
                );
            }
        }
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_isn() {
    for (name, _) in builtin_scenarios() {
        let a = run(name, 42, false);
        let b = run(name, 42, false);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.frame.data, y.frame.data, "{name}");
            assert_eq!(x.frame.time, y.frame.time, "{name}");
            assert_eq!(x.caption, y.caption, "{name}");
        }
    }
    let isn = |seed| check(&run("handshake", seed, false)[0]).unwrap().seq;
    assert_ne!(isn(1), isn(2));
    assert_ne!(isn(2), isn(3));
}

/// In every TCP scenario, each ACK acknowledges exactly what the peer has sent so far
/// at most, and every acknowledgment number is a peer's next sequence number at some
/// point (never a number in the middle of a segment).
#[test]
fn every_ack_is_a_next_sequence_number_of_the_peer() {
    for (name, _) in builtin_scenarios() {
        let packets = run(name, 7, false);
        // Per direction: the sequence numbers that follow each segment sent.
        let mut next: HashMap<Direction, Vec<u32>> = HashMap::new();
        let mut highest: HashMap<Direction, u32> = HashMap::new();
        for p in &packets {
            let Some(t) = check(p) else { continue };
            let key = (t.src.clone(), t.dst.clone());
            let back = (t.dst.clone(), t.src.clone());
            if let Some(ack) = t.ack {
                if !(t.rst && !t.syn && !next.contains_key(&back)) {
                    let ok = next.get(&back).map(|v| v.contains(&ack)).unwrap_or(false);
                    assert!(ok, "{name}: frame {} acks {ack}, not a next sequence number of the peer ({:?})", p.frame.number, next.get(&back));
                    let hi = highest.get(&back).copied().unwrap_or(0);
                    assert!(
                        tcp::seq_le(ack, hi),
                        "{name}: frame {} acks data not yet sent",
                        p.frame.number
                    );
                }
            }
            let end = t.seq.wrapping_add(t.len);
            let v = next.entry(key.clone()).or_default();
            if t.syn {
                v.push(t.seq);
            }
            v.push(end);
            let h = highest.entry(key).or_insert(end);
            if tcp::seq_lt(*h, end) {
                *h = end;
            }
            let _ = (t.fin, t.rst);
        }
    }
}

#[test]
fn handshake_is_three_segments_and_acks_isn_plus_one() {
    let p = run("handshake", 1, false);
    assert_eq!(p.len(), 3);
    let (a, b, c) = (
        check(&p[0]).unwrap(),
        check(&p[1]).unwrap(),
        check(&p[2]).unwrap(),
    );
    assert!(a.syn && a.ack.is_none());
    assert!(b.syn && b.ack == Some(a.seq.wrapping_add(1)));
    assert!(!c.syn && c.ack == Some(b.seq.wrapping_add(1)) && c.seq == a.seq.wrapping_add(1));
    assert!(p[0].caption.contains("SYN") && p[0].caption.contains("initial sequence number"));
    let gap = p[1].frame.time.since(p[0].frame.time);
    assert!(
        (0.0001..0.002).contains(&gap),
        "a LAN round trip, got {gap}"
    );
}

#[test]
fn lossy_has_the_loss_the_dup_acks_and_one_retransmission() {
    let p = run("lossy", 1, false);
    let count = |s: &str| p.iter().filter(|x| x.caption.contains(s)).count();
    assert_eq!(count("LOST"), 1);
    assert_eq!(count(": duplicate ACK"), 2);
    assert_eq!(count("retransmission of"), 1);
    let lost = p.iter().position(|x| x.caption.contains("LOST")).unwrap();
    let rtx = p
        .iter()
        .position(|x| x.caption.contains("retransmission of"))
        .unwrap();
    assert_eq!(payload(&p[lost]), payload(&p[rtx]), "same segment payload");
    assert!(!payload(&p[lost]).is_empty());
    let waited = p[rtx].frame.time.since(p[lost].frame.time);
    assert!((0.2..0.25).contains(&waited), "RTO ≈ 200 ms, got {waited}");
}

#[test]
fn lost_syn_is_resent_after_one_second() {
    let p = run("lost-syn", 1, false);
    assert_eq!(p.len(), 4);
    let (a, b) = (check(&p[0]).unwrap(), check(&p[1]).unwrap());
    assert!(a.syn && b.syn && a.seq == b.seq);
    let waited = p[1].frame.time.since(p[0].frame.time);
    assert!((1.0..1.01).contains(&waited), "{waited}");
}

#[test]
fn reset_refuses_and_aborts() {
    let p = run("reset", 1, false);
    let rsts: Vec<_> = p
        .iter()
        .filter(|x| check(x).map(|t| t.rst).unwrap_or(false))
        .collect();
    assert_eq!(rsts.len(), 2);
    assert!(rsts[0].caption.contains("refused"));
    assert!(rsts[1].caption.contains("aborts"));
}

#[test]
fn websocket_accept_matches_the_key() {
    let p = run("websocket", 3, false);
    let text: Vec<String> = p
        .iter()
        .map(|x| String::from_utf8_lossy(&payload(x)).to_string())
        .collect();
    let req = text.iter().find(|t| t.starts_with("GET /chat")).unwrap();
    let key = req
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let resp = text.iter().find(|t| t.starts_with("HTTP/1.1 101")).unwrap();
    let accept = resp
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Accept: "))
        .unwrap();
    assert_eq!(accept, crate::proto::websocket::sec_websocket_accept(key));
}

#[test]
fn errors_say_what_to_do() {
    let e = simulate("nope", &SimOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("handshake") && e.contains("lossy") && e.contains(".toml"),
        "{e}"
    );
    let e = simulate_text("[[step]]\ndo = \"dance\"\n", "t", &SimOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("step 1") && e.contains("connect"), "{e}");
    let e = simulate_text(
        "[[step]]\ndo = \"connect\"\nprot = 80\n",
        "t",
        &SimOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("prot"), "{e}");
    let e = simulate_text("[[step]]\ndo = \"connect\"\nport = 80\n[[step]]\ndo = \"send\"\nwho = \"client\"\ntext = \"x\"\n", "t", &SimOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("CLOSED"),
        "a SYN to a port nobody listens on leaves nothing to send on: {e}"
    );
}

#[test]
fn a_path_loads_a_scenario_file() {
    let dir = std::env::temp_dir().join(format!("wirewalk-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mine.toml");
    std::fs::write(&path, builtin_scenario_text("handshake").unwrap()).unwrap();
    let p = simulate(path.to_str().unwrap(), &SimOptions::default()).unwrap();
    assert_eq!(p.len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

const HEAD: &str = r#"
[server]
listen = [8080]
[[step]]
do = "connect"
port = 8080
[[step]]
do = "send"
who = "client"
http = "upgrade-request"
[[step]]
do = "send"
who = "server"
http = "upgrade-response"
"#;

#[test]
fn three_duplicate_acks_bring_a_fast_retransmit() {
    let mut text = HEAD.to_string();
    text.push_str("[[step]]\ndo = \"lose\"\nwho = \"client\"\n");
    for i in 0..4 {
        text.push_str(&format!("[[step]]\ndo = \"send\"\nwho = \"client\"\nwebsocket = \"text\"\ndata = \"m{i}\"\nafter_ms = 0.1\n"));
    }
    let p = simulate_text(&text, "test", &SimOptions::default()).unwrap();
    let count = |s: &str| p.iter().filter(|x| x.caption.contains(s)).count();
    assert_eq!(count(": duplicate ACK"), 3);
    assert_eq!(count("(fast retransmit)"), 1);
    assert_eq!(count("retransmission timeout"), 0);
}

#[test]
fn fragments_and_big_messages_split_as_they_should() {
    let mut text = HEAD.to_string();
    text.push_str("[[step]]\ndo = \"send\"\nwho = \"server\"\nwebsocket = \"text\"\nfragments = 3\ndata = \"abcdefghi\"\n");
    text.push_str(&format!(
        "[[step]]\ndo = \"send\"\nwho = \"client\"\nwebsocket = \"binary\"\ndata = \"{}\"\n",
        "x".repeat(4000)
    ));
    let p = simulate_text(&text, "test", &SimOptions::default()).unwrap();
    let frags: Vec<_> = p
        .iter()
        .filter(|x| x.caption.contains("fragment"))
        .collect();
    assert_eq!(frags.len(), 3);
    assert_eq!(
        payload(frags[0])[0],
        0x01,
        "first fragment: text, FIN clear"
    );
    assert_eq!(payload(frags[1])[0], 0x00, "continuation");
    assert_eq!(payload(frags[2])[0], 0x80, "last continuation has FIN");
    let split = p
        .iter()
        .filter(|x| x.caption.contains("split at the MSS"))
        .count();
    assert_eq!(split, 3, "4000 bytes + header at 1448 a segment");
}

#[test]
fn socketio_over_polling_wraps_packets_in_http() {
    let text = r#"
[server]
listen = [8080]
[[step]]
do = "connect"
port = 8080
[[step]]
do = "send"
who = "server"
engineio = "open"
[[step]]
do = "send"
who = "client"
socketio = "binary_event"
event = "up"
args = '[{"_placeholder":true,"num":0}]'
attachments = ["hi"]
"#;
    let p = simulate_text(text, "test", &SimOptions::default()).unwrap();
    let bodies: Vec<String> = p
        .iter()
        .map(|x| String::from_utf8_lossy(&payload(x)).to_string())
        .collect();
    assert!(bodies.iter().any(
        |b| b.starts_with("GET /socket.io/?EIO=4&transport=polling&t=") && !b.contains("sid=")
    ));
    assert!(bodies.iter().any(|b| b.contains("\r\n\r\n0{\"sid\":")));
    let post = bodies
        .iter()
        .find(|b| b.starts_with("POST "))
        .expect("a POST");
    assert!(
        post.ends_with("451-[\"up\",{\"_placeholder\":true,\"num\":0}]\u{1e}baGk="),
        "{post}"
    );
    assert!(bodies.iter().any(|b| b.ends_with("\r\n\r\nok")));
}

#[test]
fn the_scenario_files_are_the_builtins() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "toml").then(|| p.file_stem().unwrap().to_string_lossy().to_string())
        })
        .collect();
    on_disk.sort();
    let mut builtin: Vec<String> = builtin_scenarios()
        .iter()
        .map(|b| b.0.to_string())
        .collect();
    builtin.sort();
    assert_eq!(
        on_disk, builtin,
        "every scenarios/*.toml is built in, and only those"
    );
    for (name, desc) in builtin_scenarios() {
        let file = scenario::parse(builtin_scenario_text(name).unwrap()).unwrap();
        assert_eq!(
            &file.description, desc,
            "{name}: the list's description is the file's"
        );
    }
}

#[test]
fn a_client_gives_up_after_six_syn_retransmissions() {
    let text = "[server]\nlisten = [80]\n[[step]]\ndo = \"lose\"\nwho = \"client\"\ncount = 100\n\
                [[step]]\ndo = \"connect\"\nport = 80\n[[step]]\ndo = \"send\"\nwho = \"client\"\ntext = \"x\"\n";
    let e = simulate_text(text, "t", &SimOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("CLOSED"), "{e}");
    let text = text.rsplit_once("[[step]]").unwrap().0;
    let p = simulate_text(text, "t", &SimOptions::default()).unwrap();
    assert_eq!(p.len(), 7, "the SYN and six retransmissions");
    let last = p.last().unwrap().frame.time.since(p[0].frame.time);
    assert!(
        (63.0..63.1).contains(&last),
        "1+2+4+8+16+32 s of backoff, got {last}"
    );
}

#[test]
fn a_lost_syn_ack_is_sent_again() {
    let text = "[server]\nlisten = [80]\n[[step]]\ndo = \"lose\"\nwho = \"server\"\n\
                [[step]]\ndo = \"connect\"\nport = 80\n[[step]]\ndo = \"send\"\nwho = \"client\"\ntext = \"x\"\n";
    let p = simulate_text(text, "t", &SimOptions::default()).unwrap();
    assert!(p
        .iter()
        .any(|x| x.caption.contains("retransmission of the SYN-ACK")));
    assert!(p
        .iter()
        .any(|x| x.caption.contains("the handshake is complete")));
}
