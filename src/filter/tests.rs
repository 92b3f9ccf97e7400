use super::*;
use crate::pipeline::{Packet, Pipeline};
use crate::source::simulate::{simulate, SimOptions};

fn packets(scenario: &str, ipv6: bool) -> Vec<Packet> {
    let opts = SimOptions {
        ipv6,
        ..SimOptions::default()
    };
    let mut pipeline = Pipeline::new();
    simulate(scenario, &opts)
        .unwrap()
        .into_iter()
        .map(|p| pipeline.process(p.frame))
        .collect()
}

/// The numbers of the packets a filter selects.
fn selected(packets: &[Packet], filter: &str) -> Vec<u64> {
    let f = Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
    packets
        .iter()
        .filter(|p| f.matches(p))
        .map(|p| p.frame.number)
        .collect()
}

#[test]
fn tcpdump_primitives_side_by_side_mean_and() {
    let f = Filter::parse("tcp port 8080 and not rst").unwrap();
    assert_eq!(
        f,
        Filter::And(
            Box::new(Filter::And(
                Box::new(Filter::Proto(&["tcp"])),
                Box::new(Filter::Port(Dir::Any, 8080, 8080))
            )),
            Box::new(Filter::Not(Box::new(Filter::Tag("rst"))))
        )
    );
    // and binds tighter than or; parentheses change it.
    assert!(matches!(
        Filter::parse("udp or tcp and rst").unwrap(),
        Filter::Or(..)
    ));
    assert!(matches!(
        Filter::parse("(udp or tcp) and rst").unwrap(),
        Filter::And(..)
    ));
    assert_eq!(
        Filter::parse("src 10.0.0.1").unwrap(),
        Filter::Host(Dir::Src, "10.0.0.1".parse().unwrap())
    );
    assert_eq!(
        Filter::parse("dst portrange 8000-8100").unwrap(),
        Filter::Port(Dir::Dst, 8000, 8100)
    );
    assert_eq!(
        Filter::parse("! net 10.0.0.0/8").unwrap(),
        Filter::Not(Box::new(Filter::Net(
            Dir::Any,
            "10.0.0.0".parse().unwrap(),
            8
        )))
    );
}

#[test]
fn errors_point_at_the_column_of_the_bad_token() {
    let e = Filter::parse("tcp port eighty").unwrap_err();
    assert!(e.starts_with("column 10: 'eighty'"), "{e}");
    assert!(e.contains("port number"), "{e}");
    let e = Filter::parse("(tcp or udp").unwrap_err();
    assert!(e.starts_with("column 12: the filter ends here"), "{e}");
    assert!(e.contains("')'"), "{e}");
    let e = Filter::parse("tcp and bogus").unwrap_err();
    assert!(e.starts_with("column 9: 'bogus'"), "{e}");
    let e = Filter::parse("tcp )").unwrap_err();
    assert!(e.starts_with("column 5: ')'"), "{e}");
    let e = Filter::parse("nosuch.field == 1").unwrap_err();
    assert!(e.starts_with("column 1: 'nosuch.field'"), "{e}");
    let e = Filter::parse("socketio.event == \"chat").unwrap_err();
    assert!(e.starts_with("column 24: the filter ends here"), "{e}");
    assert!(e.contains("closing '\"'"), "{e}");
    let e = Filter::parse("host 300.1.1.1").unwrap_err();
    assert!(e.starts_with("column 6: '300.1.1.1'"), "{e}");
    assert!(Filter::parse("  ").unwrap_err().contains("empty"));
}

#[test]
fn protocols_at_every_layer() {
    let ws = packets("websocket", false);
    let all: Vec<u64> = (1..=ws.len() as u64).collect();
    assert_eq!(selected(&ws, "eth"), all);
    assert_eq!(selected(&ws, "ip"), all);
    assert!(selected(&ws, "ip6").is_empty());
    assert_eq!(selected(&ws, "tcp"), all);
    // The upgrade: one request, one response.
    assert_eq!(selected(&ws, "http").len(), 2);
    let frames = selected(&ws, "websocket");
    assert!(!frames.is_empty());
    // Every WebSocket frame is after the 101 response, and no HTTP packet is one.
    let upgrade = selected(&ws, "http.response.code == 101");
    assert_eq!(upgrade.len(), 1);
    assert!(frames.iter().all(|n| *n > upgrade[0]));
    let v6 = packets("websocket", true);
    assert_eq!(selected(&v6, "ip6").len(), v6.len());
    assert!(selected(&v6, "ip").is_empty());
}

#[test]
fn wireshark_fields() {
    let ws = packets("websocket", false);
    // The handshake: SYN, SYN-ACK.
    assert_eq!(selected(&ws, "tcp.flags.syn == 1"), vec![1, 2]);
    assert_eq!(
        selected(&ws, "tcp.flags.syn == 1 && tcp.flags.ack == 0"),
        vec![1]
    );
    assert_eq!(
        selected(&ws, "tcp.flags.syn eq 1 and not tcp.flags.ack == 1"),
        vec![1]
    );
    let get = selected(&ws, "http.request.method == \"GET\"");
    assert_eq!(get.len(), 1);
    assert_eq!(selected(&ws, "http.request.method == GET"), get);
    assert_eq!(selected(&ws, "http.request"), get);
    assert!(selected(&ws, "http.request.method == \"POST\"").is_empty());
    assert_eq!(
        selected(&ws, "http.upgrade contains \"websocket\"").len(),
        2
    );
    // `!=` is Wireshark's: only where the field is.
    assert_eq!(
        selected(&ws, "tcp.srcport != 8080").len() + selected(&ws, "tcp.srcport == 8080").len(),
        ws.len()
    );
    assert_eq!(selected(&ws, "frame.number <= 3"), vec![1, 2, 3]);
    assert_eq!(selected(&ws, "tcp.stream == 0").len(), ws.len());
    // Opcodes: a text frame is 1, close 8 (RFC 6455).
    let text = selected(&ws, "websocket.opcode == 1");
    assert!(!text.is_empty());
    assert_eq!(text, selected(&ws, "websocket.opcode_name == \"text\""));
    assert!(!selected(&ws, "websocket.opcode == 8").is_empty());
    // Addresses compare as addresses.
    let c = &ws[0].dissection.ip_addrs().unwrap().0.to_string();
    assert_eq!(
        selected(&ws, &format!("ip.src == {c}")),
        selected(&ws, &format!("src host {c}"))
    );
}

#[test]
fn socketio_events_by_name() {
    // The scenario (scenarios/socketio.toml): a chat message (client, then the server's
    // broadcast), a join with an ack, a binary `file` event.
    let sio = packets("socketio", false);
    let chat = selected(&sio, "socketio.event == \"chat message\"");
    assert_eq!(chat.len(), 2);
    assert_eq!(selected(&sio, "socketio.event == join").len(), 1);
    assert_eq!(
        selected(&sio, "socketio.packet_type == \"BINARY_EVENT\""),
        selected(&sio, "socketio.event == \"file\"")
    );
    let events = selected(
        &sio,
        "socketio.packet_type == \"EVENT\" or socketio.packet_type == \"BINARY_EVENT\"",
    );
    assert_eq!(selected(&sio, "socketio.event"), events);
    assert!(selected(&sio, "socketio.event == \"no such event\"").is_empty());
    assert_eq!(selected(&sio, "socketio.args contains \"hi\""), chat);
    assert!(!selected(&sio, "engineio").is_empty());
}
