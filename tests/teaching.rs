//! The teaching moments a course asks for, said on the packet where they happen (issue
//! "Show the anatomy"), each on a capture the project makes: the side that closes first
//! holds TIME-WAIT (and RFC 6455 wants that to be the WebSocket server), a reset instead of
//! a FIN throws unsent data away, an HTTP/1.0 body without a length ends with the close,
//! IPv6 has no header checksum, a datagram shaped like DNS on another port is read as DNS
//! and said to be a guess, and a small text payload is shown as text.

#[path = "support/captures.rs"]
mod captures;
mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use captures::{udp, websocket_session, ws_frame, Capture, Tcp, ACK, RST, UPGRADE_REQUEST};
use common::{packets, run_ok};
use wirewalk::render::pcap_out::PcapFormat;

fn write(name: &str, cap: &Capture) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wirewalk-teaching-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, cap.bytes(PcapFormat::Pcap)).unwrap();
    path
}

fn tree(name: &str, cap: &Capture) -> HashMap<u64, String> {
    let path = write(name, cap);
    packets(&run_ok(&["inspect", path.to_str().unwrap()]))
}

/// The packets whose text contains `needle`, in order.
fn said_on(p: &HashMap<u64, String>, needle: &str) -> Vec<u64> {
    let mut v: Vec<u64> = p
        .iter()
        .filter(|(_, t)| t.contains(needle))
        .map(|(n, _)| *n)
        .collect();
    v.sort_unstable();
    v
}

fn http_exchange(cap: &mut Capture, port: u16) -> Tcp {
    let mut t = Tcp::open(cap, port);
    t.send(cap, true, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    t.send(
        cap,
        false,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    );
    t
}

#[test]
fn the_side_that_closes_first_holds_time_wait() {
    // Server first: SYN, SYN-ACK, ACK, request, response, FIN (server), FIN (client), ACK.
    let mut cap = Capture::default();
    http_exchange(&mut cap, 40001).close_first(&mut cap, false);
    let p = tree("server-first.pcap", &cap);
    assert_eq!(
        said_on(
            &p,
            "The server closed first, so the server is now in TIME-WAIT"
        ),
        vec![8],
        "{:?}",
        p.get(&8)
    );
    assert!(
        p[&8].contains("state client CLOSED · server TIME-WAIT"),
        "{}",
        p[&8]
    );
    assert!(said_on(&p, "The client closed first").is_empty());

    // Client first, from the simulator's teardown: the client's last ACK (packet 9).
    let p = packets(&run_ok(&["simulate", "teardown"]));
    assert_eq!(
        said_on(
            &p,
            "The client closed first, so the client is now in TIME-WAIT"
        ),
        vec![9]
    );
    assert!(
        p[&9].contains("state client TIME-WAIT · server CLOSED"),
        "{}",
        p[&9]
    );
    // Its second conversation closes simultaneously: both sides hold TIME-WAIT, and
    // neither is said to be "done at once".
    assert_eq!(said_on(&p, "(a simultaneous close)"), vec![15, 16]);
    assert!(
        p[&16].contains("state client TIME-WAIT · server TIME-WAIT"),
        "{}",
        p[&16]
    );
    assert!(!p[&16].contains("done at once"), "{}", p[&16]);
}

#[test]
fn rfc_6455_wants_the_websocket_server_to_close_first() {
    let mut cap = Capture::default();
    websocket_session(&mut cap, 40002, "", "hi", "hello");
    let p = tree("ws-server-first.pcap", &cap);
    let last = *p.keys().max().unwrap();
    assert_eq!(
        said_on(
            &p,
            "The server closed the TCP connection first, as RFC 6455 (§7.1.1) asks"
        ),
        vec![last]
    );

    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40003);
    t.send(&mut cap, true, format!("{UPGRADE_REQUEST}\r\n").as_bytes());
    t.send(
        &mut cap,
        false,
        format!("{}\r\n", captures::UPGRADE_RESPONSE).as_bytes(),
    );
    t.send(
        &mut cap,
        true,
        &ws_frame(1, b"bye", Some([9, 8, 7, 6]), None),
    );
    t.close_first(&mut cap, true);
    let p = tree("ws-client-first.pcap", &cap);
    let last = *p.keys().max().unwrap();
    assert_eq!(
        said_on(&p, "RFC 6455 (§7.1.1) asks the server to close first"),
        vec![last]
    );
    assert!(p[&last].contains("The client closed the TCP connection first"));
}

#[test]
fn a_reset_instead_of_a_fin_throws_unsent_data_away() {
    let mut cap = Capture::default();
    let t = http_exchange(&mut cap, 40004);
    t.segment(&mut cap, true, &[], RST | ACK);
    let p = tree("linger-reset.pcap", &cap);
    let rst = *p.keys().max().unwrap();
    assert!(
        p[&rst].contains("setting SO_LINGER to 0 before close()"),
        "{}",
        p[&rst]
    );
    assert!(p[&rst].contains("(ECONNRESET)"), "{}", p[&rst]);
    assert!(
        p[&rst].contains("state client CLOSED · server CLOSED"),
        "{}",
        p[&rst]
    );
    assert!(
        said_on(&p, "TIME-WAIT:").is_empty(),
        "no one waits after a reset"
    );
}

#[test]
fn an_http_1_0_body_without_a_length_ends_with_the_close() {
    let body = "no length: this body ends when the server closes";
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40005);
    t.send(
        &mut cap,
        true,
        b"GET /old HTTP/1.0\r\nHost: example.com\r\n\r\n",
    );
    t.send(
        &mut cap,
        false,
        format!("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n{body}").as_bytes(),
    );
    t.close_first(&mut cap, false);
    let p = tree("http10.pcap", &cap);
    // The server's FIN (packet 6) is what ends the body: the response is shown there.
    let said = format!(
        "its body ({} bytes) ends when the server closes the connection",
        body.len()
    );
    assert_eq!(said_on(&p, &said), vec![6], "{:?}", p.get(&6));
    assert!(p[&6].contains("[FIN ACK]"), "{}", p[&6]);
    assert!(p[&6].contains("HTTP/1.0 200 OK"), "{}", p[&6]);
}

#[test]
fn ipv6_has_no_header_checksum() {
    let p = packets(&run_ok(&["simulate", "handshake", "--ipv6"]));
    assert_eq!(
        said_on(&p, "No header checksum: unlike IPv4, IPv6"),
        vec![1]
    );
    let p = packets(&run_ok(&["simulate", "handshake"]));
    assert!(said_on(&p, "No header checksum").is_empty());
}

#[test]
fn a_datagram_shaped_like_dns_on_another_port_is_read_as_dns_said_as_a_guess() {
    let mut cap = Capture::default();
    let mut q = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend_from_slice(b"\x05class\x07example\x00\x00\x01\x00\x01");
    let (c, s) = (captures::CLIENT, captures::SERVER);
    let (cm, sm) = ([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]);
    cap.push(udp(cm, sm, c, s, 40006, 5300, &q));
    cap.push(udp(
        cm,
        sm,
        c,
        s,
        40006,
        5300,
        b"hello server, please answer",
    ));
    let path = write("dns-5300.pcap", &cap);
    let p = packets(&run_ok(&["inspect", path.to_str().unwrap()]));
    assert!(p[&1].contains("query #abcd: A class.example"), "{}", p[&1]);
    assert!(p[&1].contains("Neither port is DNS's (53)"), "{}", p[&1]);
    assert!(p[&1].contains("a heuristic guess"), "{}", p[&1]);
    assert!(!p[&2].contains("DNS"), "{}", p[&2]);
    let json = run_ok(&["inspect", path.to_str().unwrap(), "--json"]);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    let dns = common::layer(&first, "dns").expect("a dns layer");
    assert_eq!(dns["fields"]["heuristic"], true, "{dns}");
}

#[test]
fn a_small_text_payload_is_shown_as_text() {
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40007);
    t.send(&mut cap, true, b"hello server, please answer");
    t.send(&mut cap, false, b"hello client, here is my answer\n");
    t.segment(&mut cap, true, &[], ACK);
    let p = tree("text.pcap", &cap);
    assert!(
        p[&4].contains("\"hello server, please answer\""),
        "{}",
        p[&4]
    );
    assert!(
        p[&5].contains("\"hello client, here is my answer\\n\""),
        "{}",
        p[&5]
    );
}

#[test]
fn a_frame_spread_over_segments_is_announced_where_it_starts() {
    // A 3,000-byte text frame from the server: 4 bytes of header (length code 126), then
    // the payload, sent in segments of 1,400 bytes: 1,396 + 1,400 + 204 payload bytes.
    let text = "x".repeat(3000);
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40008);
    t.send(&mut cap, true, format!("{UPGRADE_REQUEST}\r\n").as_bytes());
    t.send(
        &mut cap,
        false,
        format!("{}\r\n", captures::UPGRADE_RESPONSE).as_bytes(),
    );
    t.send(&mut cap, false, &ws_frame(1, text.as_bytes(), None, None));
    let p = tree("spread.pcap", &cap);
    let said = "start of a text frame with 3,000 bytes of payload: 1,396 of them here, \
                the other 1,604 in the segments that follow";
    assert_eq!(said_on(&p, said), vec![6], "{:?}", p.get(&6));
    assert!(
        said_on(&p, "start of a").len() == 1,
        "said once, where it starts"
    );
    assert!(p[&8].contains("carried by frames 6, 7, 8"), "{}", p[&8]);
}

#[test]
fn tls_tunnelled_in_a_websocket_is_said_as_a_guess_once() {
    // wstunnel's shape: after the upgrade, binary messages that are TLS records — the
    // client's ClientHello (a handshake record, 0x16 0x03 0x01, then type 1), the server's
    // ServerHello, then application data (0x17 0x03 0x03).
    let mut hello = vec![
        0x16, 0x03, 0x01, 0x00, 0x2a, 0x01, 0x00, 0x00, 0x26, 0x03, 0x03,
    ];
    hello.extend([0x5a; 38]);
    let mut server_hello = vec![
        0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26, 0x03, 0x03,
    ];
    server_hello.extend([0xa5; 38]);
    let mut data = vec![0x17, 0x03, 0x03, 0x00, 0x20];
    data.extend([0x33; 32]);
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40011);
    t.send(&mut cap, true, format!("{UPGRADE_REQUEST}\r\n").as_bytes());
    t.send(
        &mut cap,
        false,
        format!("{}\r\n", captures::UPGRADE_RESPONSE).as_bytes(),
    );
    t.send(
        &mut cap,
        true,
        &ws_frame(2, &hello, Some([1, 2, 3, 4]), None),
    );
    t.send(&mut cap, false, &ws_frame(2, &server_hello, None, None));
    t.send(
        &mut cap,
        true,
        &ws_frame(2, &data, Some([5, 6, 7, 8]), None),
    );
    let p = tree("tunnel.pcap", &cap);
    let said = "These bytes begin like a TLS record (handshake, starting with a client_hello): \
                most likely a TLS connection carried inside this WebSocket";
    assert_eq!(said_on(&p, said), vec![6], "{:?}", p.get(&6));
    assert_eq!(said_on(&p, "begin like a TLS record").len(), 1, "once");
    // A binary message that is no TLS record says nothing of TLS.
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40012);
    t.send(&mut cap, true, format!("{UPGRADE_REQUEST}\r\n").as_bytes());
    t.send(
        &mut cap,
        false,
        format!("{}\r\n", captures::UPGRADE_RESPONSE).as_bytes(),
    );
    t.send(
        &mut cap,
        true,
        &ws_frame(2, b"\x89PNG\r\n\x1a\n", Some([1, 2, 3, 4]), None),
    );
    let p = tree("png.pcap", &cap);
    assert!(said_on(&p, "TLS").is_empty(), "{p:?}");
}

#[test]
fn an_empty_reason_phrase_is_called_empty_not_shown_as_brackets() {
    let mut cap = Capture::default();
    let mut t = Tcp::open(&mut cap, 40013);
    t.send(&mut cap, true, format!("{UPGRADE_REQUEST}\r\n").as_bytes());
    let response = captures::UPGRADE_RESPONSE.replace("101 Switching Protocols", "101 ");
    t.send(&mut cap, false, format!("{response}\r\n").as_bytes());
    let p = tree("no-reason.pcap", &cap);
    assert!(p[&5].contains("with an empty reason phrase"), "{}", p[&5]);
    assert!(!p[&5].contains("reason phrase ()"), "{}", p[&5]);
    assert!(
        p[&5].contains("Sec-WebSocket-Accept matches the key"),
        "{}",
        p[&5]
    );
}
