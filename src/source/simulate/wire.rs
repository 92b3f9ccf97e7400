//! Frame building: Ethernet II + IPv4 or IPv6 + TCP or UDP, with etherparse's
//! `PacketBuilder`, which fills in lengths and computes every checksum.

use etherparse::{
    IpDscp, IpEcn, IpHeaders, Ipv4Header, Ipv6FlowLabel, Ipv6Header, PacketBuilder, TcpHeader,
    TcpOptionElement,
};

use super::tcp::Segment;

/// One host's addresses on the simulated LAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub mac: [u8; 6],
    pub ipv4: [u8; 4],
    pub ipv6: [u8; 16],
}

/// The IP header fields a sender varies from packet to packet.
#[derive(Debug, Clone, Copy)]
pub struct IpParams {
    pub ipv6: bool,
    /// IPv4 identification.
    pub ident: u16,
    /// IPv6 flow label (20 bits).
    pub flow_label: u32,
    pub ttl: u8,
}

fn ip_headers(src: &Host, dst: &Host, ip: &IpParams) -> IpHeaders {
    if ip.ipv6 {
        IpHeaders::Ipv6(
            Ipv6Header {
                traffic_class: 0,
                flow_label: Ipv6FlowLabel::try_new(ip.flow_label & 0xF_FFFF).unwrap_or_default(),
                hop_limit: ip.ttl,
                source: src.ipv6,
                destination: dst.ipv6,
                ..Default::default()
            },
            Default::default(),
        )
    } else {
        IpHeaders::Ipv4(
            Ipv4Header {
                dscp: IpDscp::ZERO,
                ecn: IpEcn::ZERO,
                identification: ip.ident,
                dont_fragment: true,
                time_to_live: ip.ttl,
                source: src.ipv4,
                destination: dst.ipv4,
                ..Default::default()
            },
            Default::default(),
        )
    }
}

/// The bytes of an Ethernet frame carrying one TCP segment.
pub fn tcp_frame(
    src: &Host,
    dst: &Host,
    ip: &IpParams,
    sport: u16,
    dport: u16,
    seg: &Segment,
) -> Vec<u8> {
    let mut h = TcpHeader::new(sport, dport, seg.seq, seg.window);
    h.syn = seg.flags.syn;
    h.ack = seg.flags.ack;
    h.fin = seg.flags.fin;
    h.rst = seg.flags.rst;
    h.psh = seg.flags.psh;
    h.acknowledgment_number = if seg.flags.ack { seg.ack } else { 0 };
    set_options(&mut h, &seg.options);
    let builder = PacketBuilder::ethernet2(src.mac, dst.mac)
        .ip(ip_headers(src, dst, ip))
        .tcp_header(h);
    let mut out = Vec::with_capacity(builder.size(seg.payload.len()));
    builder
        .write(&mut out, &seg.payload)
        .expect("a simulated TCP segment always fits in a frame");
    out
}

/// The bytes of an Ethernet frame carrying one UDP datagram.
pub fn udp_frame(
    src: &Host,
    dst: &Host,
    ip: &IpParams,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(src.mac, dst.mac)
        .ip(ip_headers(src, dst, ip))
        .udp(sport, dport);
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut out, payload)
        .expect("a simulated UDP datagram always fits in a frame");
    out
}

fn set_options(h: &mut TcpHeader, options: &[TcpOptionElement]) {
    // Options are built by the endpoint with NOP padding so that they always end on a
    // 32-bit boundary and fit in 40 bytes; a failure here is a bug in tcp.rs.
    h.set_options(options)
        .expect("TCP options built by the simulator fit in 40 bytes");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::simulate::tcp::Flags;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn hosts() -> (Host, Host) {
        (
            Host {
                mac: [2, 0, 0, 0, 0, 1],
                ipv4: [10, 0, 0, 1],
                ipv6: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            },
            Host {
                mac: [2, 0, 0, 0, 0, 2],
                ipv4: [10, 0, 0, 2],
                ipv6: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            },
        )
    }

    #[test]
    fn tcp_frame_parses_back_with_valid_checksums() {
        let (a, b) = hosts();
        for ipv6 in [false, true] {
            let seg = Segment {
                seq: 1000,
                ack: 2000,
                flags: Flags {
                    ack: true,
                    psh: true,
                    ..Flags::default()
                },
                window: 502,
                options: vec![
                    TcpOptionElement::Noop,
                    TcpOptionElement::Noop,
                    TcpOptionElement::Timestamp(5, 6),
                ],
                payload: b"hello".to_vec(),
                why: crate::source::simulate::tcp::Why::Data,
            };
            let ip = IpParams {
                ipv6,
                ident: 7,
                flow_label: 0x12345,
                ttl: 64,
            };
            let bytes = tcp_frame(&a, &b, &ip, 40000, 8080, &seg);
            let p = SlicedPacket::from_ethernet(&bytes).unwrap();
            let Some(TransportSlice::Tcp(tcp)) = p.transport else {
                panic!("no tcp")
            };
            assert_eq!(tcp.sequence_number(), 1000);
            assert_eq!(tcp.payload(), b"hello");
            let sum = match &p.net {
                Some(NetSlice::Ipv4(v4)) => {
                    assert!(v4.header().dont_fragment());
                    let h = v4.header().to_header();
                    assert_eq!(h.calc_header_checksum(), v4.header().header_checksum());
                    tcp.to_header()
                        .calc_checksum_ipv4(&h, tcp.payload())
                        .unwrap()
                }
                Some(NetSlice::Ipv6(v6)) => tcp
                    .to_header()
                    .calc_checksum_ipv6(&v6.header().to_header(), tcp.payload())
                    .unwrap(),
                _ => panic!("no ip"),
            };
            assert_eq!(sum, tcp.checksum());
        }
    }
}
