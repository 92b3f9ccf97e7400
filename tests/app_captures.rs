//! The application-layer decoder over the shared real captures, compared with tshark's
//! ground truth (`../shared/captures/F.truth.tsv`): HTTP methods and status codes, and
//! every WebSocket frame's FIN, RSV, opcode, MASK and length, on the frame where the
//! message's last byte arrived.
//!
//! The pcap reading and TCP reassembly here are a deliberately small test harness (classic
//! pcap, in-order delivery with retransmissions trimmed); the real ones live in the
//! pipeline. Captures that are missing are skipped.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

use wirewalk::analysis::app::{AppEvent, AppLimits, AppMessage, AppStream, Application, Dir};

struct Packet {
    number: u64,
    linktype: u32,
    data: Vec<u8>,
}

fn read_pcap(path: &Path) -> Option<Vec<Packet>> {
    let b = std::fs::read(path).ok()?;
    let magic = u32::from_le_bytes(b[0..4].try_into().ok()?);
    let le = match magic {
        0xa1b2c3d4 | 0xa1b23c4d => true,
        0xd4c3b2a1 | 0x4d3cb2a1 => false,
        _ => return None,
    };
    let u32_at = |o: usize| {
        let a: [u8; 4] = b[o..o + 4].try_into().unwrap();
        if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }
    };
    let linktype = u32_at(20) & 0x0fff_ffff;
    let mut out = Vec::new();
    let mut o = 24;
    let mut number = 0;
    while o + 16 <= b.len() {
        let incl = u32_at(o + 8) as usize;
        o += 16;
        if o + incl > b.len() {
            break;
        }
        number += 1;
        out.push(Packet { number, linktype, data: b[o..o + incl].to_vec() });
        o += incl;
    }
    Some(out)
}

struct Tcp {
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    syn: bool,
    fin: bool,
    rst: bool,
    payload: Vec<u8>,
}

fn tcp_of(p: &Packet) -> Option<Tcp> {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let sliced = match p.linktype {
        1 => SlicedPacket::from_ethernet(&p.data).ok()?,
        113 => SlicedPacket::from_ip(p.data.get(16..)?).ok()?,
        0 => SlicedPacket::from_ip(p.data.get(4..)?).ok()?,
        101 | 228 | 229 => SlicedPacket::from_ip(&p.data).ok()?,
        _ => return None,
    };
    let (s, d) = match sliced.net? {
        NetSlice::Ipv4(ip) => (IpAddr::V4(ip.header().source_addr()), IpAddr::V4(ip.header().destination_addr())),
        NetSlice::Ipv6(ip) => (IpAddr::V6(ip.header().source_addr()), IpAddr::V6(ip.header().destination_addr())),
        _ => return None,
    };
    let TransportSlice::Tcp(t) = sliced.transport? else { return None };
    Some(Tcp {
        src: (s, t.source_port()),
        dst: (d, t.destination_port()),
        seq: t.sequence_number(),
        syn: t.syn(),
        fin: t.fin(),
        rst: t.rst(),
        payload: t.payload().to_vec(),
    })
}

#[derive(Default)]
struct Side {
    next: Option<u32>,
    offset: u64,
    /// (stream end offset, frame number) per pushed chunk.
    chunks: Vec<(u64, u64)>,
    ooo: BTreeMap<u32, (u64, Vec<u8>)>,
    ended: bool,
}

struct Conn {
    client: (IpAddr, u16),
    app: AppStream,
    sides: [Side; 2],
    events: Vec<AppEvent>,
}

fn idx(d: Dir) -> usize {
    match d {
        Dir::ClientToServer => 0,
        Dir::ServerToClient => 1,
    }
}

impl Conn {
    fn deliver(&mut self, dir: Dir, number: u64, seq: u32, mut data: &[u8]) {
        let side = &mut self.sides[idx(dir)];
        let next = *side.next.get_or_insert(seq);
        let rel = seq.wrapping_sub(next) as i32;
        if rel > 0 {
            side.ooo.insert(seq, (number, data.to_vec()));
            return;
        }
        let skip = (-rel) as usize;
        if skip >= data.len() {
            return;
        }
        data = &data[skip..];
        side.offset += data.len() as u64;
        side.chunks.push((side.offset, number));
        side.next = Some(next.wrapping_add(data.len() as u32));
        let ev = self.app.push(dir, data);
        self.events.extend(ev);
        // Anything queued that now fits.
        loop {
            let side = &mut self.sides[idx(dir)];
            let Some(n) = side.next else { break };
            let Some((&s, _)) = side.ooo.iter().find(|(&s, _)| (s.wrapping_sub(n) as i32) <= 0) else { break };
            let (num, bytes) = side.ooo.remove(&s).unwrap();
            self.deliver(dir, num, s, &bytes);
        }
    }
}

/// Frame number → the application summaries that end in it, in order.
#[allow(clippy::type_complexity)]
fn decode(path: &Path) -> Option<(BTreeMap<u64, Vec<String>>, Vec<Option<Application>>)> {
    let (out, apps, _) = decode_full(path)?;
    Some((out, apps))
}

/// Also returns every event with the frame where it ends.
#[allow(clippy::type_complexity)]
fn decode_full(path: &Path) -> Option<(BTreeMap<u64, Vec<String>>, Vec<Option<Application>>, Vec<(u64, AppEvent)>)> {
    let (out, apps, all) = decode_streams(path)?;
    Some((out, apps, all.into_iter().map(|(f, _, e)| (f, e)).collect()))
}

/// Also returns every event with the frame where it ends and its connection's index
/// (connections in order of first appearance, as `tcp.stream`).
#[allow(clippy::type_complexity)]
fn decode_streams(path: &Path) -> Option<(BTreeMap<u64, Vec<String>>, Vec<Option<Application>>, Vec<(u64, u32, AppEvent)>)> {
    let packets = read_pcap(path)?;
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<((IpAddr, u16), (IpAddr, u16)), usize> = HashMap::new();
    for p in &packets {
        let Some(t) = tcp_of(p) else { continue };
        let key = if t.src <= t.dst { (t.src, t.dst) } else { (t.dst, t.src) };
        let ci = *index.entry(key).or_insert_with(|| {
            // The first sender (the SYN's, in these captures) is the client.
            let client = t.src;
            conns.push(Conn { client, app: AppStream::new(AppLimits::default()), sides: Default::default(), events: Vec::new() });
            conns.len() - 1
        });
        let c = &mut conns[ci];
        let dir = if t.src == c.client { Dir::ClientToServer } else { Dir::ServerToClient };
        if t.syn {
            c.sides[idx(dir)].next = Some(t.seq.wrapping_add(1));
        }
        if !t.payload.is_empty() {
            c.deliver(dir, p.number, t.seq, &t.payload);
        }
        if (t.fin || t.rst) && !c.sides[idx(dir)].ended {
            c.sides[idx(dir)].ended = true;
            let ev = c.app.end(dir);
            c.events.extend(ev);
        }
    }
    let mut out: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut apps = Vec::new();
    let mut all = Vec::new();
    for (ci, c) in conns.iter().enumerate() {
        apps.push(c.app.application());
        for e in &c.events {
            let side = &c.sides[idx(e.dir)];
            let Some(&(_, frame)) = side.chunks.iter().find(|(end, _)| *end >= e.stream_range.1) else {
                continue;
            };
            all.push((frame, ci as u32, e.clone()));
            let s = match &e.message {
                AppMessage::Http(m) => match &m.method {
                    Some(method) => format!("http {method}"),
                    None => format!("http {}", m.status.unwrap_or(0)),
                },
                AppMessage::WebSocket(f) => format!(
                    "ws {} 0x{:02x} {} {} {}",
                    f.fin as u8, f.rsv, f.opcode, f.masked as u8, f.payload_len
                ),
                AppMessage::Stopped(_) | AppMessage::EngineIo(_) | AppMessage::SocketIo(_) => continue,
            };
            out.entry(frame).or_default().push(s);
        }
    }
    Some((out, apps, all))
}

/// The same summaries from tshark's truth file.
fn truth(path: &Path) -> Option<BTreeMap<u64, Vec<String>>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next()?.split('\t').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (method, code) = (col("http.request.method"), col("http.response.code"));
    let ws: Vec<usize> = ["websocket.fin", "websocket.rsv", "websocket.opcode", "websocket.mask", "websocket.payload_length", "websocket.payload_length_ext_16", "websocket.payload_length_ext_64"]
        .iter()
        .map(|n| col(n))
        .collect();
    let mut out: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let number: u64 = f[0].parse().ok()?;
        let mut v = Vec::new();
        for m in f[method].split(',').filter(|s| !s.is_empty()) {
            v.push(format!("http {m}"));
        }
        for c in f[code].split(',').filter(|s| !s.is_empty()) {
            v.push(format!("http {c}"));
        }
        let cols: Vec<Vec<&str>> = ws.iter().map(|&i| f[i].split(',').collect()).collect();
        if !f[ws[2]].is_empty() {
            let (mut e16, mut e64) = (cols[5].iter(), cols[6].iter());
            #[allow(clippy::needless_range_loop)]
            for k in 0..cols[2].len() {
                let short: u64 = cols[4][k].parse().ok()?;
                let len = match short {
                    126 => e16.next()?.parse().ok()?,
                    127 => e64.next()?.parse().ok()?,
                    n => n,
                };
                let rsv = u8::from_str_radix(cols[1][k].trim_start_matches("0x"), 16).ok()?;
                v.push(format!("ws {} 0x{:02x} {} {} {}", cols[0][k], rsv, cols[2][k], cols[3][k], len));
            }
        }
        if !v.is_empty() {
            out.insert(number, v);
        }
    }
    Some(out)
}

fn captures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures")
}

fn compare(name: &str) {
    let dir = captures();
    let Some((got, _)) = decode(&dir.join(name)) else {
        eprintln!("skipping {name}: not found");
        return;
    };
    let want = truth(&dir.join(format!("{name}.truth.tsv"))).expect("truth");
    assert_eq!(got, want, "{name}");
}

#[test]
fn websocket_captures_match_tshark() {
    for name in [
        "websocket-echo.pcap",
        "websocket-ipv6-null-loopback.pcap",
        "websocket-two-binary-fragments.pcap",
        "websocket-fragmented-http-reply.pcap",
        "websocket-reply-ping-coalesced.pcap",
        "websocket-baseline.pcap",
        "websocket-compressed.pcap",
        "websocket-compressed-server.pcap",
        "websocket-ping-sll.pcap",
        "websocket-basic.pcap",
        "websocket-jupyter.pcap",
        "websocket-wstunnel-https.pcap",
    ] {
        compare(name);
    }
}

#[test]
fn http_captures_match_tshark() {
    for name in ["http-get.pcap", "http-get-vlan.pcap", "tcp-http-print-flags.pcap", "rawip4-http-basic-auth.pcap", "http-bad-tcp-checksum.pcap"] {
        compare(name);
    }
}

#[test]
fn non_http_captures_decode_nothing() {
    for name in ["rawip-pgsql.pcap", "ipv6-tcp-smtp.pcap", "tls-bogus-record-length.pcap", "tcp-zero-window-ipv6.pcap", "pptp-big-endian.pcap"] {
        let Some((got, apps)) = decode(&captures().join(name)) else { continue };
        assert!(got.is_empty(), "{name}: {got:?}");
        assert!(apps.iter().all(Option::is_none), "{name}");
    }
}

fn events(name: &str) -> Option<Vec<(u64, AppEvent)>> {
    decode_full(&captures().join(name)).map(|(_, _, e)| e)
}

fn texts(ev: &[(u64, AppEvent)]) -> Vec<String> {
    ev.iter()
        .filter_map(|(_, e)| match &e.message {
            AppMessage::WebSocket(f) => f.text.clone(),
            _ => None,
        })
        .collect()
}

#[test]
fn dump_for_review() {
    // `cargo test --test app_captures dump -- --nocapture` prints every event as JSON.
    if std::env::var_os("WIREWALK_DUMP").is_none() {
        return;
    }
    let name = std::env::var("WIREWALK_DUMP").unwrap();
    for (frame, e) in events(&name).unwrap_or_default() {
        println!("{frame} {:?} {:?} {} {}", e.dir, e.stream_range, serde_json::to_string(&e.message).unwrap(), serde_json::to_string(&e.checks).unwrap());
    }
}

#[test]
fn compressed_messages_inflate() {
    if let Some(ev) = events("websocket-compressed.pcap") {
        let t = texts(&ev);
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(ev.iter().all(|(_, e)| e.checks.is_empty()), "{ev:?}");
    }
    if let Some(ev) = events("websocket-compressed-server.pcap") {
        let t = texts(&ev);
        assert_eq!(t.len(), 10, "{t:?}");
        assert!(ev.iter().all(|(_, e)| e.checks.is_empty()), "{ev:?}");
    }
}

#[test]
fn unmasked_client_ping_is_flagged() {
    let Some(ev) = events("websocket-ping-sll.pcap") else { return };
    let flagged: Vec<u64> = ev
        .iter()
        .filter(|(_, e)| e.checks.iter().any(|c| c.code() == "ws-client-unmasked"))
        .map(|(f, _)| *f)
        .collect();
    assert_eq!(flagged, [8]);
}

#[test]
fn every_handshake_accept_is_valid() {
    for name in ["websocket-echo.pcap", "websocket-basic.pcap", "websocket-jupyter.pcap", "websocket-compressed.pcap", "websocket-ping-sll.pcap", "websocket-ipv6-null-loopback.pcap"] {
        let Some(ev) = events(name) else { continue };
        let valid: Vec<Option<bool>> = ev
            .iter()
            .filter_map(|(_, e)| match &e.message {
                AppMessage::Http(m) if m.status == Some(101) => Some(m.accept_valid),
                _ => None,
            })
            .collect();
        assert!(!valid.is_empty() && valid.iter().all(|v| *v == Some(true)), "{name}: {valid:?}");
    }
}

/// The peers' Socket.IO captures (`tests/fixtures/`, or `$WIREWALK_FIXTURES`), with the
/// `F.expected.json` that says what the Node socket.io 4.x scripts sent.
fn fixtures() -> std::path::PathBuf {
    match std::env::var_os("WIREWALK_FIXTURES") {
        Some(d) => d.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    }
}

#[test]
fn socketio_fixtures_match_expected() {
    use serde_json::{json, Value};
    use wirewalk::analysis::socketio::SessionTracker;
    use wirewalk::frame::Timestamp;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let from = |d: Dir| if d == Dir::ClientToServer { "client" } else { "server" };
    for name in ["socketio-polling-upgrade", "socketio-websocket-only"] {
        let dir = fixtures();
        let Some((_, apps, mut all)) = decode_streams(&dir.join(format!("{name}.pcap"))) else { continue };
        let text = std::fs::read_to_string(dir.join(format!("{name}.expected.json"))).expect("expected.json beside the capture");
        let want: Value = serde_json::from_str(&text).unwrap();
        all.sort_by_key(|(f, _, _)| *f);
        assert!(apps.iter().all(|a| *a == Some(Application::SocketIo)), "{name}: {apps:?}");

        let mut eio = Vec::new();
        let mut sio = Vec::new();
        let mut transport = "";
        for (_, _, e) in &all {
            match &e.message {
                AppMessage::EngineIo(p) => {
                    transport = p.transport.name();
                    let data = match (&p.bytes, &p.open) {
                        (Some(b), _) => json!({ "_binary_hex": hex(b) }),
                        (_, Some(_)) => Value::String(p.data.to_string()),
                        _ => p.data.clone(),
                    };
                    eio.push(json!({"from": from(e.dir), "transport": transport, "type": p.packet_type.name(), "data": data}));
                }
                AppMessage::SocketIo(p) => {
                    let v = serde_json::to_value(p).unwrap();
                    sio.push(json!({
                        "from": from(e.dir), "transport": transport, "type": v["packet_type"], "namespace": v["namespace"],
                        "event": v["event"], "args": v["args"], "ack_id": v["ack_id"], "attachments": v["attachments"],
                        "data": v.get("data").cloned().unwrap_or(Value::Null),
                    }));
                }
                _ => {}
            }
            assert!(e.checks.is_empty(), "{name}: {e:?}");
        }
        let want_eio: Vec<Value> = want["engineio"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let mut w = w.clone();
                let o = w.as_object_mut().unwrap();
                o.remove("http_body");
                // The open packet's JSON compares as JSON.
                if o["type"] == "open" {
                    let parsed: Value = serde_json::from_str(o["data"].as_str().unwrap()).unwrap();
                    o.insert("data".into(), Value::String(parsed.to_string()));
                }
                w
            })
            .collect();
        assert_eq!(eio, want_eio, "{name}: Engine.IO packets");
        let want_sio: Vec<Value> = want["socketio"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let mut w = w.clone();
                let o = w.as_object_mut().unwrap();
                o.remove("attachments_hex");
                o.entry("data").or_insert(Value::Null);
                w
            })
            .collect();
        assert_eq!(sio, want_sio, "{name}: Socket.IO packets");

        // One session, every ack answered.
        let mut tracker = SessionTracker::new();
        let mut notes = Vec::new();
        for (frame, stream, e) in &all {
            for n in tracker.observe(*stream, *frame, Timestamp::new(*frame as i64, 0), e) {
                notes.push((*frame, n.code()));
            }
        }
        assert!(tracker.finish().is_empty(), "{name}");
        let s = &tracker.sessions()[0];
        assert_eq!(tracker.sessions().len(), 1, "{name}");
        assert_eq!(s.sid, want["engineio_sid"].as_str().unwrap());
        assert!(s.namespaces.is_empty(), "{name}: every namespace was left");
        let acks = notes.iter().filter(|(_, c)| *c == "ack-answers").count();
        if name == "socketio-polling-upgrade" {
            assert_eq!(s.streams, [0, 1, 2, 3, 4]);
            assert!(s.upgraded());
            assert_eq!((s.upgrade.probe, s.upgrade.probe_answer, s.upgrade.noop, s.upgrade.upgrade), (Some(31), Some(44), Some(46), Some(51)));
            assert_eq!(acks, 4);
        } else {
            assert_eq!(s.streams, [0]);
            assert!(!s.upgraded());
            assert_eq!(acks, 5);
        }
    }
}
