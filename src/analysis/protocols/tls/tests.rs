//! The record layer on the bytes of a real capture (curl, TLS 1.2, AES-GCM) cut in every
//! way, and on records that lie.

use std::sync::{Arc, Mutex};

use super::*;
use crate::analysis::app::AppLimits;
use crate::dissect::dissect;
use crate::source::pcap::PcapReader;
use Dir::{ClientToServer as C2S, ServerToClient as S2C};

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Each direction's TCP payload, in capture order (the fixtures have no loss): the client
/// is the sender of the first packet.
fn streams(name: &str) -> Vec<(Dir, Vec<u8>)> {
    let mut out = Vec::new();
    let mut client_port = None;
    for f in PcapReader::open(&fixture(name)).unwrap() {
        let f = f.unwrap();
        let d = dissect(&f);
        let Some(tcp) = d.tcp() else { continue };
        let cp = *client_port.get_or_insert(tcp.src_port);
        let p = d.payload_bytes(&f);
        if !p.is_empty() {
            out.push((if tcp.src_port == cp { C2S } else { S2C }, p.to_vec()));
        }
    }
    out
}

fn cx(keys: Option<&str>) -> Context {
    Context {
        limits: AppLimits::default(),
        keys: keys.map(|k| {
            let mut log = KeyLog::default();
            log.add_text(&std::fs::read_to_string(fixture(k)).unwrap());
            Arc::new(Mutex::new(log))
        }),
    }
}

/// (direction, range, what) of every event, feeding each segment in pieces of `split`.
fn run(cx: &Context, segs: &[(Dir, Vec<u8>)], split: usize) -> Vec<(Dir, (u64, u64), String)> {
    let mut d = Detector::new(cx.clone());
    let mut out = Vec::new();
    for (dir, bytes) in segs {
        for p in bytes.chunks(split) {
            for e in d.push(*dir, p) {
                let what = match &e.event.message {
                    AppMessage::Tls(r) => format!(
                        "tls {} {:?} {:?}",
                        r.record_type, r.handshake_type, e.decrypted
                    ),
                    AppMessage::Http(h) => {
                        format!("http {:?} {:?} {:?}", h.uri, h.status, e.decrypted)
                    }
                    m => m.protocol().to_string(),
                };
                out.push((e.event.dir, e.event.stream_range, what));
            }
        }
    }
    for dir in [C2S, S2C] {
        for e in d.end(dir) {
            out.push((
                e.event.dir,
                e.event.stream_range,
                format!("end {}", e.event.message.protocol()),
            ));
        }
    }
    out
}

#[test]
fn records_split_across_segments_or_many_in_one() {
    let segs = streams("tls12-curl-aesgcm.pcap");
    let cx = cx(Some("tls12-curl-aesgcm.keys"));
    let whole = run(&cx, &segs, usize::MAX);
    let names: Vec<&str> = whole.iter().map(|e| e.2.as_str()).collect();
    assert!(
        names.contains(&"tls handshake Some(\"client_hello\") None"),
        "{names:?}"
    );
    assert!(names.contains(&"tls handshake Some(\"server_hello_done\") None"));
    assert!(names.contains(&"tls change_cipher_spec None None"));
    assert!(names.contains(&"tls handshake Some(\"finished\") Some(\"CLIENT_RANDOM\")"));
    assert!(names.contains(&"http Some(\"/hello?lang=en\") None Some(\"CLIENT_RANDOM\")"));
    assert!(names.contains(&"http None Some(200) Some(\"CLIENT_RANDOM\")"));
    // One byte at a time, or 7, or one stream in a single push: the same messages at the
    // same offsets.
    for split in [1, 7, 100, 1000] {
        assert_eq!(run(&cx, &segs, split), whole, "split {split}");
    }
    let mut joined: Vec<(Dir, Vec<u8>)> = Vec::new();
    for (dir, b) in &segs {
        match joined.last_mut() {
            Some((d, acc)) if d == dir => acc.extend_from_slice(b),
            _ => joined.push((*dir, b.clone())),
        }
    }
    assert_eq!(run(&cx, &joined, usize::MAX), whole);
}

fn codes(cx: &Context, segs: &[(Dir, Vec<u8>)]) -> Vec<&'static str> {
    let mut d = Detector::new(cx.clone());
    let mut out = Vec::new();
    for (dir, b) in segs {
        out.extend(d.push(*dir, b));
    }
    out.extend(d.end(C2S));
    out.extend(d.end(S2C));
    out.iter()
        .flat_map(|e| e.event.checks.iter().map(|c| c.code()))
        .collect()
}

#[test]
fn records_that_lie() {
    let none = cx(None);
    // A record header claiming 65535 bytes.
    assert_eq!(
        codes(&none, &[(C2S, vec![0x16, 3, 1, 0xff, 0xff, 1, 2, 3])]),
        ["tls-bad-record-length"]
    );
    // A handshake cut short: the record claims 512 bytes, 40 came.
    let mut cut = vec![0x16, 3, 1, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc];
    cut.extend([0u8; 36]);
    assert_eq!(codes(&none, &[(C2S, cut)]), ["tls-incomplete-record"]);
    // A whole record whose handshake message does not parse.
    let bad_hello = vec![0x16, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0];
    assert_eq!(
        codes(&none, &[(C2S, bad_hello)]),
        ["tls-malformed-handshake"]
    );
    // A valid alert, then bytes that are no record.
    let mut s = vec![0x15, 3, 3, 0, 2, 2, 40];
    s.extend_from_slice(b"GET / HTTP/1.1\r\n");
    assert_eq!(codes(&none, &[(C2S, s)]), ["tls-not-record"]);
}

#[test]
fn a_tampered_record_is_reported_not_shown() {
    let mut segs = streams("tls12-curl-aesgcm.pcap");
    let cx = cx(Some("tls12-curl-aesgcm.keys"));
    // The client's request is its last record of type 23: change one ciphertext byte.
    let (i, _) = segs
        .iter()
        .enumerate()
        .filter(|(_, (d, b))| *d == C2S && b[0] == 23)
        .last()
        .unwrap();
    let n = segs[i].1.len();
    segs[i].1[n - 20] ^= 0x40;
    let events = run(&cx, &segs, usize::MAX);
    assert!(
        !events.iter().any(|e| e.2.starts_with("http Some")),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|e| e.2.starts_with("http None Some(200)")));
    assert!(codes(&cx, &segs).contains(&"tls-auth-failed"));
}

#[test]
fn detect_tls() {
    assert_eq!(detect(b"\x16\x03\x01\x02\x00"), Detect::Yes);
    assert_eq!(detect(b"\x17\x03\x03"), Detect::Yes);
    assert_eq!(detect(b"\x16"), Detect::NeedMore);
    assert_eq!(detect(b"\x16\x03"), Detect::NeedMore);
    assert_eq!(detect(b"\x16\x03\x09"), Detect::No);
    assert_eq!(detect(b"GET /"), Detect::No);
}

#[test]
fn garbage_and_flipped_bytes_never_panic() {
    let segs = streams("tls13-python-wss.pcap");
    let cx = cx(Some("tls13-python-wss.keys"));
    let mut rng = crate::source::simulate::rng::Rng::new(11);
    for _ in 0..200 {
        let mut s = segs.clone();
        for _ in 0..1 + rng.next_u64() % 4 {
            let i = (rng.next_u64() as usize) % s.len();
            let j = (rng.next_u64() as usize) % s[i].1.len();
            s[i].1[j] ^= 1 << (rng.next_u64() % 8);
        }
        let _ = run(&cx, &s, 1 + (rng.next_u64() as usize % 600));
    }
}

#[test]
fn alerts_by_their_rfc_names() {
    assert_eq!(super::alert_name(0), "close_notify");
    assert_eq!(super::alert_name(20), "bad_record_mac");
    assert_eq!(super::alert_name(40), "handshake_failure");
    assert_eq!(super::alert_name(251), "unknown alert 251");
}
