//! Every crash the fuzzers (`scripts/fuzz.sh`) found, replayed through the same harness
//! (`tests/support/harness.rs`), plus a readable test of each underlying bug.

#[path = "support/harness.rs"]
mod harness;

use wirewalk::analysis::app::{AppLimits, AppStream, Dir};
use wirewalk::dissect::{dissect, Header};
use wirewalk::frame::{Frame, Link, Timestamp};
use wirewalk::source::pcap::PcapReader;

fn frame(link: Link, data: Vec<u8>) -> Frame {
    let wire_len = data.len() as u32;
    Frame {
        number: 1,
        time: Timestamp::default(),
        link,
        data,
        wire_len,
    }
}

// --- etherparse 0.21: its IPv6 extension iterator reads past the slice -------------

/// fuzz/artifacts/dissect (minimized): BSD loopback, IPv6 with a cut extension chain.
#[test]
fn replay_dissect_ipv6_extension_past_end() {
    harness::dissect(&[
        0x03, 0x1e, 0x00, 0x00, 0x00, 0x60, 0x01, 0x65, 0x00, 0x00, 0x00, 0x00, 0x84, 0x00, 0x00,
        0xe6, 0x03, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x64, 0x6e, 0x7e, 0x01, 0x2c, 0x4b, 0x81, 0x00,
        0x00, 0x00, 0x01, 0x0a, 0x1c, 0x15, 0xde, 0x7e, 0x01, 0x2c, 0x4b, 0x81, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x01, 0x0a, 0x64, 0x6e, 0x73, 0x7e,
    ]);
}

/// One destination-options header that names a second one, which is cut: the first is
/// listed, the second is reported, nothing is read past the packet.
#[test]
fn ipv6_extension_chain_cut_after_the_first_header() {
    let mut p = vec![0x60, 0, 0, 0, 0, 16, 60, 64];
    p.extend_from_slice(&[0xfd; 16]);
    p.extend_from_slice(&[0xfe; 16]);
    p.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // dest options, next: dest options
    p.extend_from_slice(&[6, 5, 1, 4, 0, 0, 0, 0]); // claims 48 bytes; 8 are there
    let d = dissect(&frame(Link::Raw, p));
    let v6 = d.layers.iter().find_map(|l| match &l.header {
        Header::Ipv6(v6) => Some(v6),
        _ => None,
    });
    assert_eq!(
        v6.expect("the IPv6 header is kept").extension_headers,
        vec![60]
    );
    assert!(
        d.notes.iter().any(|n| n.key == "ip.extension_error"),
        "{:?}",
        d.notes
    );
}

// --- pcap-parser 0.17: pcapng blocks shorter than a block header --------------------

/// fuzz/artifacts/capture_reader (minimized): a Process Information Block of 8 bytes,
/// whose `block_len - 12` overflowed inside pcap-parser.
#[test]
fn replay_capture_reader_short_pcapng_block() {
    harness::capture_reader(&[
        0x0a, 0x0d, 0x0d, 0x0a, 0x00, 0x00, 0x00, 0x38, 0x1a, 0x2b, 0x3c, 0x4d, 0xff, 0xff, 0x41,
        0x50, 0x00, 0x00, 0xff, 0x0c, 0x00, 0xff, 0xff, 0x10, 0x00, 0x00, 0x80, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0xfe, 0xff, 0x00, 0x0c, 0x00, 0x00, 0x06, 0x43, 0x41, 0x50, 0x57, 0x41,
        0x50, 0x00, 0x00, 0xff, 0x0c, 0x00, 0xff, 0xff, 0x10, 0x00, 0x00, 0x80, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x08, 0x00,
    ]);
}

fn shb_le() -> Vec<u8> {
    let mut v = vec![
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
    ];
    v.extend_from_slice(&[0xff; 8]); // section length unknown
    v.extend_from_slice(&[28, 0, 0, 0]);
    v
}

#[test]
fn pcapng_block_shorter_than_its_header_is_a_clear_error() {
    let mut file = shb_le();
    // A Process Information Block (0x80000001) claiming 8 bytes.
    file.extend_from_slice(&[0x01, 0x00, 0x00, 0x80, 8, 0, 0, 0, 8, 0, 0, 0]);
    let mut r = PcapReader::from_reader(std::io::Cursor::new(file), "short.pcapng").unwrap();
    let err = r
        .next_frame()
        .expect("an error, not the end")
        .expect_err("the block is corrupt");
    assert!(err.0.contains("fewer than the 12"), "{err}");
    assert!(r.next_frame().is_none());
}

#[test]
fn record_claiming_gigabytes_fails_before_taking_memory() {
    // A classic pcap whose first record claims 3 GB.
    let mut file = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    file.extend_from_slice(&[0; 8]);
    file.extend_from_slice(&3_000_000_000u32.to_le_bytes());
    file.extend_from_slice(&3_000_000_000u32.to_le_bytes());
    file.extend_from_slice(&[0; 64]);
    let mut r = PcapReader::from_reader(std::io::Cursor::new(file), "huge.pcap").unwrap();
    let err = r
        .next_frame()
        .expect("an error, not the end")
        .expect_err("the record is corrupt");
    assert!(err.0.contains("3000000016 bytes"), "{err}");
}

// --- WebSocket: a message's wire length summed without a bound -----------------------

/// fuzz/artifacts/app_stream: fragments of 2^63 bytes each overflowed the message length.
#[test]
fn replay_app_stream_fragment_lengths_overflow() {
    harness::app_stream(&[
        0xcd, 0x01, 0x94, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04,
        0xf6, 0x82, 0x80, 0x7f, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xc9, 0x07, 0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff,
    ]);
}

#[test]
fn websocket_fragment_lengths_near_2_pow_64_do_not_overflow() {
    let mut app = AppStream::new(AppLimits::default());
    app.push(
        Dir::ClientToServer,
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    app.push(
        Dir::ServerToClient,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    );
    // A text frame without FIN of 4 bytes, then a continuation whose 64-bit length is
    // 2^64-1 (MSB set: against the RFC, but on the wire): 4 + (2^64-1) overflows.
    app.push(Dir::ServerToClient, &[0x01, 0x04, b'a', b'b', b'c', b'd']);
    let mut cont = vec![0x00, 0x7f];
    cont.extend_from_slice(&u64::MAX.to_be_bytes());
    app.push(Dir::ServerToClient, &cont);
    app.push(Dir::ServerToClient, b"more");
    app.end(Dir::ServerToClient);
}
