//! Dissection of real bytes: frame 1 of `tests/fixtures/ws-node.pcap` (a Linux SYN on
//! loopback, values as tshark reads them), and the same frame cut and re-framed.

use super::*;
use crate::frame::{Frame, Link, Timestamp};

/// The SYN of ws-node.pcap: 127.0.0.1:47712 → 127.0.0.1:9105, MSS 65495, SACK-permitted,
/// timestamps, window scale 10.
const SYN: [u8; 74] = [
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x45,
    0x00, //
    0x00, 0x3c, 0x86, 0xda, 0x40, 0x00, 0x40, 0x06, 0xb5, 0xdf, 0x7f, 0x00, 0x00, 0x01, 0x7f,
    0x00, //
    0x00, 0x01, 0xba, 0x60, 0x23, 0x91, 0xe5, 0x6e, 0x98, 0x5f, 0x00, 0x00, 0x00, 0x00, 0xa0,
    0x02, //
    0xff, 0xd7, 0xfe, 0x30, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0x1e,
    0x01, //
    0xc2, 0x8f, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
];

fn frame(link: Link, data: Vec<u8>, wire_len: u32) -> Frame {
    Frame {
        number: 1,
        time: Timestamp::default(),
        link,
        data,
        wire_len,
    }
}

#[test]
fn a_real_syn_from_the_wire_up() {
    let d = dissect(&frame(Link::Ethernet, SYN.to_vec(), 74));
    let names: Vec<&str> = d.layers.iter().map(|l| l.header.protocol()).collect();
    assert_eq!(names, ["ethernet", "ipv4", "tcp"]);
    let Header::Ipv4(ip) = &d.layers[1].header else {
        panic!("no IPv4")
    };
    assert_eq!(
        (
            ip.src.to_string().as_str(),
            ip.ttl,
            ip.protocol,
            ip.checksum_ok
        ),
        ("127.0.0.1", 64, 6, true)
    );
    let t = d.tcp().unwrap();
    assert_eq!((t.src_port, t.dst_port), (47712, 9105));
    assert_eq!(t.seq_raw, Some(0xe56e985f));
    assert_eq!(t.flags().names().collect::<Vec<_>>(), ["SYN"]);
    assert_eq!(
        (t.mss, t.window_scale, t.sack_permitted),
        (Some(65495), Some(10), true)
    );
    assert_eq!(t.window, Some(65495));
    assert_eq!(d.layers[2].range, (34, 74));
    // Loopback leaves the TCP checksum unfinished: it does not verify, and it is
    // recognised as the pseudo-header's partial sum (said once per capture, no note here).
    assert_eq!(t.checksum_ok, Some(false));
    assert!(t.checksum_partial);
    assert_eq!(t.checksum, Some(0xfe30));
    assert!(!d.notes.iter().any(|n| n.key == "tcp.bad_checksum"));
}

#[test]
fn a_snap_length_cut_keeps_what_fits() {
    // 68 of 74 bytes: the window-scale option is cut off, the MSS still fits.
    let d = dissect(&frame(Link::Ethernet, SYN[..68].to_vec(), 74));
    let t = d.tcp().unwrap();
    assert_eq!(t.mss, Some(65495));
    assert_eq!(t.window_scale, None);
    assert_eq!(t.payload_len(), 0);
    assert!(d.notes.iter().any(|n| n.key == "cut.options"));
    let cut = d
        .notes
        .iter()
        .find(|n| n.key == "cut.in_header")
        .expect("the cut is named");
    assert!(cut.args.contains(&("layer", "TCP".to_string())), "{cut:?}");
    assert!(cut.args.contains(&("have", "34".to_string())), "{cut:?}");
}

#[test]
fn the_same_packet_over_sll2_and_bsd_loopback() {
    let ip = &SYN[14..];
    // Linux cooked v2: protocol 0x0800, interface 1, ARPHRD 772 (loopback), sent by us.
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    sll2.extend_from_slice(ip);
    let d = dissect(&frame(Link::LinuxSll2, sll2, 80));
    assert_eq!(d.layers[0].header.protocol(), "linux-sll2");
    assert_eq!(d.tcp().unwrap().dst_port, 9105);
    // BSD loopback, little-endian family 2 (IPv4).
    let mut null = vec![2, 0, 0, 0];
    null.extend_from_slice(ip);
    let d = dissect(&frame(Link::Null, null, 64));
    assert_eq!(d.layers[0].header.protocol(), "null");
    assert_eq!(d.tcp().unwrap().src_port, 47712);
}

#[test]
fn garbage_never_panics() {
    for len in 0..SYN.len() {
        for link in [
            Link::Ethernet,
            Link::LinuxSll,
            Link::LinuxSll2,
            Link::Null,
            Link::Raw,
            Link::Nflog,
        ] {
            let _ = dissect(&frame(link, SYN[..len].to_vec(), 74));
        }
    }
}
