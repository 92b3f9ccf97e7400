//! Layer 3: IPv4 (options, fragments), IPv6 (extension headers) and ARP.

use etherparse::{ArpPacketSlice, Ipv4HeaderSlice, LaxIpSlice, LenSource};

use super::transport::{self, IpContext};
use super::{ArpInfo, Dissection, Header, Ipv4Info, Ipv6Info, Layer, Mac, Note};
use std::net::Ipv4Addr;

fn ones_complement_ok(bytes: &[u8]) -> bool {
    etherparse::checksum::Sum16BitWords::new()
        .add_slice(bytes)
        .ones_complement()
        == 0
}

/// Reads the IP header at `off` and hands the payload to the transport layer.
pub(super) fn ip(d: &mut Dissection, data: &[u8], off: usize) {
    let slice = &data[off.min(data.len())..];
    // A header cut by the capture is a cut, said in the header's own terms (how many of
    // its bytes are here), not a malformed header.
    match slice.first().map(|b| b >> 4) {
        None => return d.cut_header("IP", 20, 0),
        Some(4) if slice.len() < 20 => return d.cut_header("IPv4", 20, slice.len()),
        Some(4) if ((slice[0] & 0x0f) as usize * 4) > slice.len() => {
            return d.cut_header("IPv4", (slice[0] & 0x0f) as usize * 4, slice.len())
        }
        Some(6) if slice.len() < 40 => return d.cut_header("IPv6", 40, slice.len()),
        Some(4) | Some(6) => {}
        Some(v) => {
            d.notes
                .push(Note::warning("ip.bad_version").arg("version", v));
            return;
        }
    }
    let (ip, ext_err) = match LaxIpSlice::from_slice(slice) {
        Ok(ok) => ok,
        Err(e) => {
            ipv4_fallback(d, slice, off, &e.to_string());
            return;
        }
    };
    if let Some((e, _)) = ext_err {
        d.notes
            .push(Note::warning("ip.extension_error").arg("error", e));
    }
    d.ip_end = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            (h.total_len() as usize >= h.slice().len()).then(|| off + h.total_len() as usize)
        }
        LaxIpSlice::Ipv6(v6) => {
            let n = v6.header().payload_length() as usize;
            (n > 0).then(|| off + 40 + n)
        }
    };
    let ctx = match &ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            let hlen = h.slice().len();
            let info = ipv4_info(&h);
            if !info.checksum_ok {
                d.notes.push(
                    Note::warning("ipv4.bad_checksum")
                        .arg("checksum", format!("0x{:04x}", info.checksum)),
                );
            }
            let frag = info.more_fragments || info.fragment_offset != 0;
            if frag {
                d.notes.push(
                    Note::info("ipv4.fragment")
                        .arg("offset", info.fragment_offset as u32 * 8)
                        .arg("more", info.more_fragments),
                );
            }
            let exts = v4.extensions().auth.map(|a| a.slice().len()).unwrap_or(0);
            d.layers.push(Layer {
                range: (off, off + hlen + exts),
                header: Header::Ipv4(info),
            });
            IpContext::V4 {
                src: h.source(),
                dst: h.destination(),
            }
        }
        LaxIpSlice::Ipv6(v6) => {
            let h = v6.header();
            let exts = v6.extensions();
            let ext_len = exts.slice().len();
            let ext_ids = ipv6_extension_ids(exts.first_header().map(|n| n.0), exts.slice());
            d.layers.push(Layer {
                range: (off, off + 40 + ext_len),
                header: Header::Ipv6(Ipv6Info {
                    src: h.source_addr(),
                    dst: h.destination_addr(),
                    hop_limit: h.hop_limit(),
                    next_header: h.next_header().0,
                    payload_len: h.payload_length(),
                    traffic_class: h.traffic_class(),
                    flow_label: h.flow_label().value(),
                    extension_headers: ext_ids,
                    protocol: v6.payload().ip_number.0,
                }),
            });
            if h.payload_length() == 0 && v6.payload().len_source == LenSource::Slice {
                d.notes.push(Note::info("ipv6.jumbo_or_zero"));
            }
            IpContext::V6 {
                src: h.source(),
                dst: h.destination(),
            }
        }
    };
    let payload = ip.payload();
    if payload.fragmented {
        d.notes.push(Note::info("ip.fragment_not_reassembled"));
        return;
    }
    let start = payload.payload.as_ptr() as usize - data.as_ptr() as usize;
    let header_len = match &ip {
        LaxIpSlice::Ipv4(v4) => v4.header().total_len() as usize,
        LaxIpSlice::Ipv6(v6) => v6.header().payload_length() as usize + 40,
    };
    // The payload length the IP header announces (what was sent), whatever was captured.
    // The snap length may have cut the packet: the header's length still says what was
    // sent (unless it is 0, as with segmentation offload, or shorter than what we have).
    let from_header = header_len.saturating_sub(start - off);
    let announced = if header_len == 0 || from_header < payload.payload.len() {
        payload.payload.len()
    } else {
        from_header
    };
    transport::dispatch(
        d,
        data,
        start,
        payload.ip_number.0,
        announced,
        payload.incomplete,
        ctx,
    );
}

/// The protocol numbers of the IPv6 extension headers in `slice` (those etherparse
/// parsed), walked here with bounds checks. etherparse 0.21's own iterator
/// (`Ipv6ExtensionsSlice::into_iter`) goes on to the next header named by the last
/// parsed one even when that one was cut off, and reads it with `from_slice_unchecked`
/// past the end of the slice: undefined behaviour on a hostile packet.
fn ipv6_extension_ids(first: Option<u8>, slice: &[u8]) -> Vec<u8> {
    let mut ids = Vec::new();
    let (mut next, mut rest) = (first, slice);
    while let Some(id) = next {
        // Every extension header is at least 8 bytes long.
        if rest.len() < 8 {
            break;
        }
        let len = match id {
            0 | 43 | 60 => (rest[1] as usize + 1) * 8,
            44 => 8,
            51 => (rest[1] as usize + 2) * 4,
            _ => break,
        };
        if len > rest.len() {
            break;
        }
        ids.push(id);
        next = Some(rest[0]);
        rest = &rest[len..];
    }
    ids
}

fn ipv4_info(h: &Ipv4HeaderSlice<'_>) -> Ipv4Info {
    Ipv4Info {
        src: h.source_addr(),
        dst: h.destination_addr(),
        ttl: h.ttl(),
        protocol: h.protocol().0,
        checksum: h.header_checksum(),
        checksum_ok: ones_complement_ok(h.slice()),
        total_len: h.total_len(),
        header_len: h.slice().len() as u8,
        id: h.identification(),
        dont_fragment: h.dont_fragment(),
        more_fragments: h.more_fragments(),
        fragment_offset: h.fragments_offset().value(),
        dscp: h.dcp().value(),
        ecn: h.ecn().value(),
        options_len: h.options().len() as u8,
    }
}

/// etherparse refused the IP header (for instance a total length shorter than the header
/// itself). When the fixed IPv4 header is there, still show what it says.
fn ipv4_fallback(d: &mut Dissection, slice: &[u8], off: usize, why: &str) {
    if slice[0] >> 4 == 4 && slice.len() >= 20 {
        let ihl = ((slice[0] & 0x0f) as usize * 4).clamp(20, slice.len());
        let mut hdr = slice[..ihl].to_vec();
        // Ipv4HeaderSlice also checks the total length; read the header with it corrected,
        // and report the length that was really on the wire.
        let real_total = u16::from_be_bytes([slice[2], slice[3]]);
        let fixed = (slice.len().min(u16::MAX as usize)) as u16;
        hdr[2..4].copy_from_slice(&fixed.max(ihl as u16).to_be_bytes());
        if let Ok(h) = Ipv4HeaderSlice::from_slice(&hdr) {
            let mut info = ipv4_info(&h);
            info.total_len = real_total;
            info.checksum_ok = ones_complement_ok(&slice[..ihl]);
            d.layers.push(Layer {
                range: (off, off + ihl),
                header: Header::Ipv4(info),
            });
            d.notes.push(
                Note::warning("ipv4.bad_total_length")
                    .arg("total", real_total)
                    .arg("header", ihl),
            );
            return;
        }
    }
    // etherparse's own wording, without its closing period (the template has one).
    let why = why.trim_end_matches('.').trim();
    d.notes
        .push(Note::warning("ip.malformed").arg("error", why));
}

pub(super) fn arp(d: &mut Dissection, data: &[u8], off: usize) {
    let slice = &data[off.min(data.len())..];
    match ArpPacketSlice::from_slice(slice) {
        Ok(arp) => {
            let p = arp.to_packet();
            let len = arp.slice().len();
            let mut info = ArpInfo {
                operation: p.operation.0,
                sender_mac: None,
                sender_ip: None,
                target_mac: None,
                target_ip: None,
            };
            // Ethernet + IPv4 is the ARP everyone meets; others keep only the operation.
            if let Ok(e) = p.try_eth_ipv4() {
                info.sender_mac = Some(Mac(e.sender_mac));
                info.sender_ip = Some(Ipv4Addr::from(e.sender_ipv4));
                info.target_mac = Some(Mac(e.target_mac));
                info.target_ip = Some(Ipv4Addr::from(e.target_ipv4));
            }
            d.layers.push(Layer {
                range: (off, off + len),
                header: Header::Arp(info),
            });
        }
        Err(e) => d.notes.push(Note::warning("arp.malformed").arg("error", e)),
    }
}
