//! Issue 12, the application layer: every sentence is true of the packet on screen. One
//! test per class, each asserting the true sentence and the absence of the false one, on
//! captures written here (an upgrade request with draft version 8, the RFC's sample nonce
//! and `Connection: keep-alive`, refused with 426 and a body; a Close answered by a Close;
//! a TLS record) and on the project's own simulator.

#[path = "support/captures.rs"]
mod captures;

use std::path::PathBuf;
use std::process::Command;

use captures::{ws_frame, Capture, Tcp};
use wirewalk::render::pcap_out::PcapFormat;

fn wirewalk(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["--color", "never"])
        .args(args)
        .output()
        .expect("wirewalk runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The capture, written to a file of the calling test's own.
fn write(test: &str, cap: &Capture) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("app-truth");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join(format!("{test}.pcap"));
    std::fs::write(&f, cap.bytes(PcapFormat::Pcap)).unwrap();
    f
}

/// The text of one packet of a tree output, wrapped lines joined back with spaces.
fn packet(tree: &str, n: u64) -> String {
    let head = format!("── Packet {n} ·");
    let start = tree.find(&head).unwrap_or_else(|| panic!("no packet {n}"));
    let rest = &tree[start + head.len()..];
    let end = rest.find("── Packet ").unwrap_or(rest.len());
    unwrap(&rest[..end])
}

/// Lines joined with single spaces (the tree wraps explanations at its width).
fn unwrap(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The number of the packet whose tree text contains `needle`.
fn packet_with(tree: &str, needle: &str) -> u64 {
    (1..=200u64)
        .find(|&n| tree.contains(&format!("── Packet {n} ·")) && packet(tree, n).contains(needle))
        .unwrap_or_else(|| panic!("no packet with {needle:?}"))
}

/// Class "templates instead of the packet": the upgrade request is described from the
/// headers it carries, the refusal points at the header that caused it and shows its
/// body, header names are printed as sent.
#[test]
fn the_upgrade_is_described_from_its_own_headers() {
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 41000);
    t.send(
        &mut cap,
        true,
        b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    );
    t.send(
        &mut cap,
        false,
        b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Type: text/plain\r\nContent-Length: 30\r\n\r\nUnsupported WebSocket version\n",
    );
    t.close(&mut cap);
    // A second connection: no key at all, refused with 400.
    let mut u = Tcp::open(&mut cap, 41001);
    u.send(
        &mut cap,
        true,
        b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    u.send(
        &mut cap,
        false,
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    );
    u.close(&mut cap);
    let f = write("upgrade", &cap);
    let tree = wirewalk(&["inspect", f.to_str().unwrap()]);
    let req = packet(&tree, 4);
    for true_sentence in [
        "Sec-WebSocket-Version: 8 is not 13: it is the number of a draft from before RFC 6455",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ== is not random: it is the sample nonce printed in RFC 6455 section 1.3",
        "Connection: keep-alive does not contain the token Upgrade",
        "A server must refuse this request",
    ] {
        assert!(req.contains(true_sentence), "missing {true_sentence:?} in {req}");
    }
    for false_sentence in [
        "Sec-WebSocket-Version: 13,",
        "a random 16-byte",
        "fresh for every connection",
        "Connection: Upgrade,",
    ] {
        assert!(!req.contains(false_sentence), "{false_sentence:?} in {req}");
    }
    // Header names as sent, in the header lines of the tree.
    assert!(tree.contains("\n                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n"));
    assert!(!tree.contains("sec-websocket-key:"), "lower-cased names");
    // The refusal: the request's version, the server's list, its body.
    let refusal = packet(&tree, 5);
    assert!(
        refusal.contains("the request sent Sec-WebSocket-Version: 8, and the server lists the versions it does speak in Sec-WebSocket-Version: 13"),
        "{refusal}"
    );
    assert!(
        refusal.contains(r#"The server's body (30 bytes) says: "Unsupported WebSocket version"."#),
        "{refusal}"
    );
    // 400 on the second connection, pointed at the missing key.
    let n = packet_with(&tree, "HTTP/1.1 400 Bad Request");
    let bad = packet(&tree, n);
    assert!(
        bad.contains("400 Bad Request: the server could not accept the request as a WebSocket handshake. In the request, there is no Sec-WebSocket-Key"),
        "{bad}"
    );
    // JSON keeps the names lower-cased (SPEC).
    let json = wirewalk(&["inspect", f.to_str().unwrap(), "--json", "--packet", "4"]);
    assert!(
        json.contains(r#""sec-websocket-key":"dGhlIHNhbXBsZSBub25jZQ==""#),
        "{json}"
    );
}

/// Class "templates instead of the packet": a Close that answers a Close completes the
/// closing handshake; only the first one starts it. Here the server closes first.
#[test]
fn a_close_that_answers_a_close_is_the_reply() {
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 41100);
    t.send(
        &mut cap,
        true,
        format!("{}\r\n", captures::UPGRADE_REQUEST).as_bytes(),
    );
    t.send(
        &mut cap,
        false,
        format!("{}\r\n", captures::UPGRADE_RESPONSE).as_bytes(),
    );
    t.send(&mut cap, false, &ws_frame(8, &[3, 0xe9], None, None)); // 1001, the server first
    t.send(
        &mut cap,
        true,
        &ws_frame(8, &[3, 0xe9], Some([9, 8, 7, 6]), None),
    );
    t.close(&mut cap);
    let f = write("close", &cap);
    let tree = wirewalk(&["inspect", f.to_str().unwrap()]);
    let (first, reply) = (packet(&tree, 6), packet(&tree, 7));
    assert!(
        first.contains("Close (8): starts the closing handshake"),
        "{first}"
    );
    assert!(
        reply.contains(
            "Close (8) in answer to the other side's Close: this completes the closing handshake"
        ),
        "{reply}"
    );
    assert!(!reply.contains("starts the closing handshake"), "{reply}");
    // The simulator's session: the client closes, the server answers.
    let sim = wirewalk(&["simulate", "websocket"]);
    let n = packet_with(&sim, "close · unmasked");
    assert!(packet(&sim, n).contains("this completes the closing handshake"));
    assert!(!packet(&sim, n).contains("starts the closing handshake"));
    // The fact is in the JSON too.
    let json = wirewalk(&["inspect", f.to_str().unwrap(), "--json"]);
    assert_eq!(json.matches(r#""close_reply":true"#).count(), 1, "{json}");
}

/// Class "L6 calls a WebSocket text frame binary": the presentation line says what the
/// bytes are, from the messages decoded in them.
#[test]
fn the_presentation_line_says_what_the_bytes_are() {
    let sim = wirewalk(&["simulate", "websocket"]);
    let masked = packet(&sim, packet_with(&sim, "text · masked"));
    assert!(
        masked.contains("L6 Presentation 20 bytes: a WebSocket frame header (binary), then UTF-8 text masked with XOR"),
        "{masked}"
    );
    let plain = packet(&sim, packet_with(&sim, "text · unmasked"));
    assert!(plain.contains("then UTF-8 text"), "{plain}");
    // No text frame's L6 line says "binary".
    for block in sim.split("── Packet ") {
        if block.contains("WebSocket  text ·") {
            let l6 = block
                .lines()
                .find(|l| l.starts_with("  L6 Presentation"))
                .unwrap_or_else(|| panic!("no L6 line in {block}"));
            assert!(l6.contains("UTF-8 text"), "{l6}");
            assert!(
                !l6.contains("binary data") && !l6.ends_with("bytes of binary"),
                "{l6}"
            );
        }
    }
    let binary = packet(&sim, packet_with(&sim, "binary · masked"));
    assert!(
        binary.contains("then binary data, masked with XOR"),
        "{binary}"
    );
    // Compressed (permessage-deflate), from a real Python websockets peer.
    let deflate = wirewalk(&["inspect", "tests/fixtures/ws-python-deflate.pcap"]);
    assert!(
        deflate.contains("then DEFLATE-compressed data"),
        "no compressed L6 line"
    );
    // The negotiated parameters, from the 101 (and no wording key left unfilled).
    assert!(unwrap(&deflate)
        .contains("server_max_window_bits=12: the server looks back at most 2^12 bytes"));
    for out in [&deflate, &sim] {
        assert!(!out.contains("websocket.upgrade.") && !out.contains("websocket.request."));
    }
    // Socket.IO: text frames carry its packets.
    let sio = wirewalk(&["simulate", "socketio"]);
    assert!(
        unwrap(&sio).contains("then UTF-8 text masked with XOR: Engine.IO/Socket.IO packets, JSON")
    );
    // Not decoded, but a TLS record header: said so, not "binary".
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 41200);
    t.send(
        &mut cap,
        true,
        &[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00],
    );
    let f = write("tls", &cap);
    let tls = packet(&wirewalk(&["inspect", f.to_str().unwrap()]), 4);
    // A handshake record is in clear: never called encrypted.
    assert!(
        tls.contains("L6 Presentation 10 bytes of TLS records, in clear"),
        "{tls}"
    );
    assert!(!tls.contains("10 bytes of binary"), "{tls}");
    assert!(!tls.contains("(encrypted)"), "{tls}");
    // A real TLS 1.3 session: the ServerHello's segment turns encrypted half-way; records
    // opened with the key log are said to be ciphertext on the wire.
    let wss = wirewalk(&[
        "inspect",
        "tests/fixtures/tls13-python-wss.pcap",
        "--keylog",
        "tests/fixtures/tls13-python-wss.keys",
    ]);
    let sh = packet(&wss, packet_with(&wss, "server_hello"));
    assert!(
        sh.contains("TLS records: first in clear, then encrypted"),
        "{sh}"
    );
    let up = packet(&wss, packet_with(&wss, "GET /chat"));
    assert!(
        up.contains(
            "TLS records, encrypted; opened with CLIENT_TRAFFIC_SECRET_0: HTTP/1.x text inside"
        ),
        "{up}"
    );
    assert!(!up.contains("readable by anyone"), "{up}");
}

/// Class "Socket.IO attribution": a server's EVENT is not headed socket.emit; the
/// client's is. The Engine.IO and Socket.IO ids are told apart; a "room" key in the
/// arguments is the application's.
#[test]
fn socketio_events_are_attributed_only_as_far_as_the_packet_shows() {
    let sim = wirewalk(&["simulate", "socketio"]);
    let client = packet(
        &sim,
        packet_with(&sim, "EVENT / socket.emit('chat message'"),
    );
    assert!(client.contains("client → server"), "{client}");
    assert!(client
        .contains("this is what the client's socket.emit('chat message', 'hi everyone') sends"));
    let n = packet_with(
        &sim,
        "EVENT / 'chat message', 'hi everyone' · an emit on the server",
    );
    let server = packet(&sim, n);
    assert!(server.contains("server → client"), "{server}");
    assert!(
        server.contains("Which server call sent it the packet cannot tell: socket.emit, io.emit, a room's or a broadcast's emit all put this same packet on the connection"),
        "{server}"
    );
    assert!(!server.contains("EVENT / socket.emit("), "{server}");
    assert!(!server.contains("this is what socket.emit"), "{server}");
    // The tour's caption and the headline no longer name different calls for one packet.
    let tour = unwrap(&wirewalk(&["tour", "socketio", "--no-pause"]));
    assert!(
        !tour.contains("socket.emit on the server"),
        "tour names socket.emit"
    );
    assert!(tour.contains("in this scenario the server calls io.emit"));
    // Two ids.
    assert!(unwrap(&sim).contains("It gives the Engine.IO session its id (ecu7SaMl74_NF9uCxrgz)"));
    let connect = packet(&sim, packet_with(&sim, "CONNECT (0) from the server"));
    assert!(
        connect.contains("with the Socket.IO socket id 51aeBTbZtlvxA575TGGw (socket.id on both sides). It is not the Engine.IO session id of the open packet"),
        "{connect}"
    );
    // A "room" key in the arguments, from a scenario of the test's own.
    let scenario = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("app-truth-room.toml");
    std::fs::write(
        &scenario,
        r#"description = "a room named by the application"
[server]
listen = [8080]
[[step]]
do = "connect"
port = 8080
[[step]]
do = "send"
who = "client"
http = "upgrade-request"
path = "/socket.io/?EIO=4&transport=websocket"
[[step]]
do = "send"
who = "server"
http = "upgrade-response"
[[step]]
do = "send"
who = "server"
engineio = "open"
[[step]]
do = "send"
who = "client"
socketio = "event"
event = "say"
args = '[{"room":"lobby","text":"hi"}]'
"#,
    )
    .unwrap();
    let room = unwrap(&wirewalk(&["simulate", scenario.to_str().unwrap()]));
    assert!(
        room.contains(r#"The "room" key inside these arguments is the application's own data, not Socket.IO's"#),
        "{room}"
    );
}

/// Class "first ping after the previous one" and the simulated heartbeat: the first
/// Engine.IO ping is timed from the open packet, and the simulator sends it at the
/// pingInterval the open packet announced.
#[test]
fn the_first_heartbeat_is_timed_from_the_open_packet() {
    let sim = wirewalk(&["simulate", "socketio"]);
    let n = packet_with(&sim, "Heartbeat:");
    let p = packet(&sim, n);
    let at = p
        .find("Heartbeat: the session's first ping, ")
        .unwrap_or_else(|| panic!("{p}"));
    let rest = &p[at + "Heartbeat: the session's first ping, ".len()..];
    let ms: f64 = rest.split(' ').next().unwrap().parse().unwrap();
    assert!(
        (24_990.0..=25_010.0).contains(&ms),
        "ping {ms} ms after open"
    );
    assert!(rest.contains("ms after the open packet that announced pingInterval 25000 ms"));
    assert!(!p.contains("after the previous one"), "{p}");
}

/// Class "noise": the server-push paragraph is given once per conversation, not on every
/// pushed frame (unless --explain-all), as `--help` promises.
#[test]
fn the_server_push_lesson_is_given_once_per_conversation() {
    let push_ws = "either side may send at any time";
    let push_sio = "the server pushes events whenever it wants";
    let sim = unwrap(&wirewalk(&["simulate", "websocket"]));
    assert_eq!(sim.matches(push_ws).count(), 1, "{sim}");
    let sio = unwrap(&wirewalk(&["simulate", "socketio"]));
    // Stream 1 (the WebSocket) has several pushed frames; one lesson for them.
    assert_eq!(
        sio.matches(push_ws).count() + sio.matches(push_sio).count(),
        1,
        "{sio}"
    );
    assert_eq!(
        sio.matches("The packet does not say who else received it")
            .count(),
        1
    );
    let all = unwrap(&wirewalk(&["simulate", "socketio", "--explain-all"]));
    assert!(
        all.matches(push_ws).count() + all.matches(push_sio).count() > 1,
        "--explain-all repeats it"
    );
}
