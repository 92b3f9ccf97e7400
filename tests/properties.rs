//! Property tests of the pure decoders: WebSocket frames made by a tiny encoder decode
//! back identically however their bytes are split across pushes; the simulator's
//! frames dissect back to the ports, numbers and flags an independent parser
//! (etherparse, strict) reads in them.

#[path = "support/captures.rs"]
mod captures;

use captures::{ws_frame, UPGRADE_REQUEST, UPGRADE_RESPONSE};
use proptest::prelude::*;
use wirewalk::analysis::app::{AppEvent, AppLimits, AppMessage, AppStream, Dir};
use wirewalk::analysis::websocket::WsFrame;
use wirewalk::dissect::{dissect, TcpFlags};
use wirewalk::source::simulate::{simulate, SimOptions};

/// One message: text or binary, its bytes, and how many fragments it is sent in.
#[derive(Debug, Clone)]
struct Msg {
    text: bool,
    bytes: Vec<u8>,
    fragments: usize,
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        (".{0,300}", 1..4usize).prop_map(|(s, f)| Msg {
            text: true,
            bytes: s.into_bytes(),
            fragments: f
        }),
        (proptest::collection::vec(any::<u8>(), 0..70_000), 1..4usize).prop_map(|(b, f)| Msg {
            text: false,
            bytes: b,
            fragments: f
        }),
    ]
}

/// The frames of `msgs`, each message cut into its fragments (masked when `mask`).
fn encode(msgs: &[Msg], mask: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let per = m.bytes.len().div_ceil(m.fragments).max(1);
        let chunks: Vec<&[u8]> = if m.bytes.is_empty() {
            vec![&[][..]]
        } else {
            m.bytes.chunks(per).collect()
        };
        for (j, c) in chunks.iter().enumerate() {
            let opcode = if j == 0 {
                if m.text {
                    1
                } else {
                    2
                }
            } else {
                0
            };
            let key = mask.then_some([i as u8, 0x5a, j as u8, 0xa5]);
            let mut f = ws_frame(opcode, c, key, None);
            if j + 1 < chunks.len() {
                f[0] &= 0x7f; // FIN only on the last fragment
            }
            out.extend_from_slice(&f);
        }
    }
    out
}

fn upgraded() -> AppStream {
    let mut app = AppStream::new(AppLimits::default());
    app.push(
        Dir::ClientToServer,
        format!("{UPGRADE_REQUEST}\r\n").as_bytes(),
    );
    app.push(
        Dir::ServerToClient,
        format!("{UPGRADE_RESPONSE}\r\n").as_bytes(),
    );
    app
}

fn frames(events: Vec<AppEvent>) -> Vec<(WsFrame, (u64, u64))> {
    events
        .into_iter()
        .filter_map(|e| match e.message {
            AppMessage::WebSocket(f) => Some((f, e.stream_range)),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn websocket_frames_decode_the_same_however_split(
        msgs in proptest::collection::vec(msg(), 1..5),
        from_client in any::<bool>(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let dir = if from_client { Dir::ClientToServer } else { Dir::ServerToClient };
        let bytes = encode(&msgs, from_client);

        let mut whole = upgraded();
        let mut expected = frames(whole.push(dir, &bytes));
        expected.extend(frames(whole.end(dir)));

        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut split = upgraded();
        let mut got = Vec::new();
        let mut at = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            got.extend(frames(split.push(dir, &bytes[at..p])));
            at = p;
        }
        got.extend(frames(split.end(dir)));
        prop_assert_eq!(&got, &expected);

        // And what they decode to is what was sent.
        let done: Vec<&WsFrame> = got.iter().map(|(f, _)| f).filter(|f| f.fin).collect();
        prop_assert_eq!(done.len(), msgs.len());
        for (f, m) in done.iter().zip(&msgs) {
            prop_assert_eq!(f.masked, from_client);
            prop_assert_eq!(f.message_len, Some(m.bytes.len() as u64));
            if m.text {
                prop_assert_eq!(f.text.as_deref(), Some(std::str::from_utf8(&m.bytes).unwrap()));
            } else {
                prop_assert_eq!(f.data.as_deref(), Some(&m.bytes[..]));
            }
        }
        prop_assert_eq!(got.last().map(|(_, r)| r.1), Some(bytes.len() as u64 + got[0].1.0));
    }

    #[test]
    fn simulated_frames_dissect_back(
        seed in any::<u64>(),
        ipv6 in any::<bool>(),
        scenario in prop::sample::select(vec!["handshake", "websocket", "teardown", "reset", "lossy", "udp", "rejected"]),
    ) {
        let packets = simulate(scenario, &SimOptions { seed, ipv6, latency_us: 300 }).expect("a built-in scenario runs");
        for p in packets {
            let strict = etherparse::SlicedPacket::from_ethernet(&p.frame.data).expect("the simulator writes valid frames");
            let d = dissect(&p.frame);
            match strict.transport {
                Some(etherparse::TransportSlice::Tcp(t)) => {
                    let info = d.tcp().expect("a TCP layer");
                    prop_assert_eq!((info.src_port, info.dst_port), (t.source_port(), t.destination_port()));
                    prop_assert_eq!(info.seq_raw, Some(t.sequence_number()));
                    prop_assert_eq!(info.ack_raw, Some(t.acknowledgment_number()));
                    let f = info.flags();
                    for (bit, set) in [(TcpFlags::SYN, t.syn()), (TcpFlags::ACK, t.ack()), (TcpFlags::FIN, t.fin()), (TcpFlags::RST, t.rst()), (TcpFlags::PSH, t.psh())] {
                        prop_assert_eq!(f.has(bit), set, "flag {:#x} in frame {}", bit, p.frame.number);
                    }
                    prop_assert_eq!(info.payload_len(), t.payload().len() as u32);
                    prop_assert_eq!(info.checksum_ok, Some(true));
                }
                Some(etherparse::TransportSlice::Udp(u)) => {
                    let info = d.udp().expect("a UDP layer");
                    prop_assert_eq!((info.src_port, info.dst_port), (u.source_port(), u.destination_port()));
                    prop_assert_eq!(info.checksum_ok, Some(true));
                }
                _ => {}
            }
            prop_assert!(d.notes.iter().all(|n| n.level != wirewalk::dissect::Level::Warning), "{:?}", d.notes);
        }
    }
}
