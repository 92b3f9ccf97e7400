//! Layer 4 (TCP, UDP) and ICMP/ICMPv6, with checksum verification over the pseudo-header.
//!
//! TCP's fixed header is read by etherparse; its options are walked here, because a
//! snap length often cuts them and the options that fit are still worth showing.

use etherparse::checksum::Sum16BitWords;
use etherparse::TcpSlice;

use super::{dns, Dissection, Header, IcmpInfo, Layer, Note, TcpFlags, TcpInfo, UdpInfo};

/// The addresses of the IP header, for the pseudo-header checksums.
#[derive(Clone, Copy)]
pub(super) enum IpContext {
    V4 { src: [u8; 4], dst: [u8; 4] },
    V6 { src: [u8; 16], dst: [u8; 16] },
}

impl IpContext {
    fn pseudo_sum(self, protocol: u8, len: usize) -> Sum16BitWords {
        let s = Sum16BitWords::new();
        match self {
            IpContext::V4 { src, dst } => s
                .add_slice(&src)
                .add_slice(&dst)
                .add_2bytes([0, protocol])
                .add_2bytes((len as u16).to_be_bytes()),
            IpContext::V6 { src, dst } => s
                .add_slice(&src)
                .add_slice(&dst)
                .add_slice(&(len as u32).to_be_bytes())
                .add_slice(&[0, 0, 0, protocol]),
        }
    }

    /// True when either address is a loopback address, where checksums are often left
    /// unfilled (the kernel knows the packet cannot be damaged).
    fn loopback(self) -> bool {
        match self {
            IpContext::V4 { src, dst } => src[0] == 127 || dst[0] == 127,
            IpContext::V6 { src, dst } => {
                let lo = std::net::Ipv6Addr::LOCALHOST.octets();
                src == lo || dst == lo
            }
        }
    }

    /// A bad transport checksum: a warning on a network, an expected fact on loopback.
    fn bad_checksum_note(self, key: &'static str, checksum: u16) -> Note {
        let n = if self.loopback() {
            Note::info(key)
        } else {
            Note::warning(key)
        };
        n.arg("checksum", format!("0x{checksum:04x}"))
    }

    /// True when a checksum field holds exactly the pseudo-header's sum: the unfinished
    /// checksum a kernel leaves for the network card to complete (checksum offload), seen
    /// by a capture on the sending machine before the card, and always on loopback.
    fn is_partial(self, protocol: u8, len: usize, stored: u16) -> bool {
        // etherparse sums in native byte order: read its result back as the field's bytes.
        let native = !self.pseudo_sum(protocol, len).ones_complement();
        let partial = u16::from_be_bytes(native.to_ne_bytes());
        let zeroish = |v: u16| v == 0 || v == 0xffff;
        stored == partial || zeroish(stored) && zeroish(partial)
    }

    /// True when the transport checksum (included in `bytes`) verifies.
    fn verify(self, protocol: u8, bytes: &[u8]) -> bool {
        self.pseudo_sum(protocol, bytes.len())
            .add_slice(bytes)
            .ones_complement()
            == 0
    }
}

/// Dissects the IP payload that starts at `start`. `announced` is its length per the IP
/// header; `incomplete` means the capture holds less than that.
pub(super) fn dispatch(
    d: &mut Dissection,
    data: &[u8],
    start: usize,
    protocol: u8,
    announced: usize,
    incomplete: bool,
    ip: IpContext,
) {
    let end = data.len().min(start.saturating_add(announced));
    let cap = &data[start.min(end)..end];
    let complete = !incomplete && cap.len() == announced;
    match protocol {
        6 => tcp(d, cap, start, announced, complete, ip),
        17 => udp(d, cap, start, complete, ip),
        1 => icmp(d, cap, start, complete, None),
        58 => icmp(d, cap, start, complete, Some(ip)),
        other => d
            .notes
            .push(Note::info("cut.unknown_ip_protocol").arg("protocol", other)),
    }
}

fn tcp(
    d: &mut Dissection,
    cap: &[u8],
    start: usize,
    announced: usize,
    complete: bool,
    ip: IpContext,
) {
    if cap.len() < 20 {
        // Keep exactly the fields whose bytes were captured, and nothing else: a field
        // that was not captured is not described (no flags: no kind of segment).
        let be16 =
            |i: usize| (cap.len() >= i + 2).then(|| u16::from_be_bytes([cap[i], cap[i + 1]]));
        let be32 = |i: usize| {
            (cap.len() >= i + 4)
                .then(|| u32::from_be_bytes([cap[i], cap[i + 1], cap[i + 2], cap[i + 3]]))
        };
        if let (Some(src_port), Some(dst_port)) = (be16(0), be16(2)) {
            let info = TcpInfo {
                src_port,
                dst_port,
                cut_seq_field: be32(4),
                cut_ack_field: be32(8),
                header_len: (cap.len() >= 13).then(|| (cap[12] >> 4) * 4),
                flags: be16(12).map(|f| TcpFlags(f & 0x0fff)),
                window: be16(14),
                checksum: be16(16),
                ..TcpInfo::default()
            };
            d.layers.push(Layer {
                range: (start, start + cap.len()),
                header: Header::Tcp(info),
            });
        }
        d.cut_header("TCP", 20, cap.len());
        return;
    }
    let hlen = (cap[12] >> 4) as usize * 4;
    let flags = TcpFlags(u16::from_be_bytes([cap[12], cap[13]]) & 0x0fff);
    let mut info = TcpInfo {
        src_port: u16::from_be_bytes([cap[0], cap[1]]),
        dst_port: u16::from_be_bytes([cap[2], cap[3]]),
        seq_raw: Some(u32::from_be_bytes([cap[4], cap[5], cap[6], cap[7]])),
        ack_raw: Some(u32::from_be_bytes([cap[8], cap[9], cap[10], cap[11]])),
        flags: Some(flags),
        window: Some(u16::from_be_bytes([cap[14], cap[15]])),
        checksum: Some(u16::from_be_bytes([cap[16], cap[17]])),
        urgent_pointer: Some(u16::from_be_bytes([cap[18], cap[19]])),
        header_len: Some(hlen as u8),
        ..TcpInfo::default()
    };
    if hlen < 20 {
        d.layers.push(Layer {
            range: (start, start + 20),
            header: Header::Tcp(info),
        });
        d.notes
            .push(Note::warning("tcp.bad_data_offset").arg("hlen", hlen));
        return;
    }
    if hlen > announced {
        info.payload_len = Some(0);
        d.layers.push(Layer {
            range: (start, start + cap.len().min(hlen)),
            header: Header::Tcp(info),
        });
        d.notes.push(
            Note::warning("tcp.header_beyond_ip")
                .arg("hlen", hlen)
                .arg("ip", announced),
        );
        return;
    }
    info.payload_len = Some((announced - hlen) as u32);
    read_options(&mut info, &cap[20..cap.len().min(hlen)]);
    if cap.len() < hlen {
        d.notes.push(
            Note::warning("cut.options")
                .arg("need", hlen)
                .arg("have", cap.len()),
        );
        d.cut_in = Some(("TCP", cap.len(), hlen));
    }
    if complete {
        // etherparse checks the header once more; the sum covers header and payload.
        let ok = TcpSlice::from_slice(cap).is_ok() && ip.verify(6, cap);
        info.checksum_ok = Some(ok);
        let stored = info.checksum.unwrap_or(0);
        if !ok && ip.is_partial(6, cap.len(), stored) {
            // Not an error of this packet: said once per capture, not noted here.
            info.checksum_partial = true;
        } else if !ok {
            d.notes
                .push(ip.bad_checksum_note("tcp.bad_checksum", stored));
        }
    }
    let hend = start + cap.len().min(hlen);
    d.layers.push(Layer {
        range: (start, hend),
        header: Header::Tcp(info),
    });
    if cap.len() > hlen || announced > hlen {
        d.payload = Some((hend, start + cap.len()));
        d.payload_cut = cap.len() < announced;
    }
}

/// Walks TCP options (kind, length, value), stopping quietly where the bytes end.
fn read_options(info: &mut TcpInfo, opts: &[u8]) {
    let mut i = 0;
    while i < opts.len() {
        let kind = opts[i];
        match kind {
            0 => break,
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = opts.get(i + 1) else { break };
        let len = len as usize;
        if len < 2 || i + len > opts.len() {
            break;
        }
        let v = &opts[i + 2..i + len];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        match (kind, v.len()) {
            (2, 2) => info.mss = Some(u16::from_be_bytes([v[0], v[1]])),
            (3, 1) => info.window_scale = Some(v[0]),
            (4, 0) => info.sack_permitted = true,
            (5, n) if n % 8 == 0 => {
                info.sack = v
                    .chunks_exact(8)
                    .map(|c| (be32(&c[0..4]), be32(&c[4..8])))
                    .collect();
            }
            (8, 8) => info.timestamps = Some((be32(&v[0..4]), be32(&v[4..8]))),
            _ => {}
        }
        i += len;
    }
}

fn udp(d: &mut Dissection, cap: &[u8], start: usize, complete: bool, ip: IpContext) {
    if cap.len() < 8 {
        d.cut_header("UDP", 8, cap.len());
        return;
    }
    let be16 = |i: usize| u16::from_be_bytes([cap[i], cap[i + 1]]);
    let (src_port, dst_port, length, checksum) = (be16(0), be16(2), be16(4), be16(6));
    let zero_ok = matches!(ip, IpContext::V4 { .. }) && checksum == 0;
    let checksum_ok = if complete && !zero_ok {
        Some(ip.verify(17, cap))
    } else {
        None
    };
    let checksum_partial = checksum_ok == Some(false) && ip.is_partial(17, cap.len(), checksum);
    if checksum_ok == Some(false) && !checksum_partial {
        d.notes
            .push(ip.bad_checksum_note("udp.bad_checksum", checksum));
    }
    if (length as usize) < 8 || length as usize > cap.len() && complete {
        d.notes.push(
            Note::warning("udp.bad_length")
                .arg("length", length)
                .arg("ip", cap.len()),
        );
    }
    d.layers.push(Layer {
        range: (start, start + 8),
        header: Header::Udp(UdpInfo {
            src_port,
            dst_port,
            length,
            checksum,
            checksum_ok,
            checksum_partial,
        }),
    });
    let pend = start + cap.len().min((length as usize).max(8));
    d.payload = Some((start + 8, pend));
    let payload = &cap[8..cap.len().min((length as usize).max(8))];
    if [53, 5353].contains(&src_port) || [53, 5353].contains(&dst_port) {
        dns::dissect(d, payload, start + 8);
    } else {
        dns::dissect_heuristic(d, payload, start + 8);
    }
}

fn icmp(d: &mut Dissection, cap: &[u8], start: usize, complete: bool, v6: Option<IpContext>) {
    if cap.len() < 4 {
        let layer = if v6.is_some() { "ICMPv6" } else { "ICMP" };
        d.cut_header(layer, 4, cap.len());
        return;
    }
    let (icmp_type, code) = (cap[0], cap[1]);
    let checksum = u16::from_be_bytes([cap[2], cap[3]]);
    let is_echo = match v6 {
        None => icmp_type == 0 || icmp_type == 8,
        Some(_) => icmp_type == 128 || icmp_type == 129,
    };
    let echo = (is_echo && cap.len() >= 8).then(|| {
        (
            u16::from_be_bytes([cap[4], cap[5]]),
            u16::from_be_bytes([cap[6], cap[7]]),
        )
    });
    if complete {
        let ok = match v6 {
            None => Sum16BitWords::new().add_slice(cap).ones_complement() == 0,
            Some(ip) => ip.verify(58, cap),
        };
        if !ok {
            d.notes.push(
                Note::warning("icmp.bad_checksum").arg("checksum", format!("0x{checksum:04x}")),
            );
        }
    }
    let info = IcmpInfo {
        icmp_type,
        code,
        checksum,
        echo,
    };
    let hlen = cap.len().min(8);
    let header = if v6.is_some() {
        Header::Icmpv6(info)
    } else {
        Header::Icmp(info)
    };
    d.layers.push(Layer {
        range: (start, start + hlen),
        header,
    });
    if cap.len() > 8 {
        d.payload = Some((start + 8, start + cap.len()));
    }
}
