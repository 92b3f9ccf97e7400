//! Every crash the fuzzers (`scripts/fuzz.sh`) found, replayed through the same harness
//! (`tests/support/harness.rs`), plus a readable test of each underlying bug.

#[path = "support/harness.rs"]
mod harness;

use wirewalk::analysis::app::{AppLimits, AppStream, Dir};

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
