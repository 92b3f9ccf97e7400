//! Layer 2: Ethernet II, 802.1Q VLAN tags, Linux cooked captures (SLL, SLL2),
//! BSD loopback (NULL/LOOP) and netfilter log (NFLOG) headers.

use etherparse::{Ethernet2Slice, SingleVlanSlice};

use super::{
    Dissection, EthernetInfo, Header, Layer, Mac, Next, NflogInfo, Note, NullInfo, SllInfo,
    VlanInfo,
};

fn cut(d: &mut Dissection, layer: &'static str, need: usize, have: usize) -> Next {
    d.cut_header(layer, need, have);
    Next::Done
}

pub(super) fn ethernet(d: &mut Dissection, data: &[u8], off: &mut usize) -> Next {
    let Ok(eth) = Ethernet2Slice::from_slice_without_fcs(data) else {
        return cut(d, "Ethernet", 14, data.len());
    };
    let ethertype = eth.ether_type().0;
    d.layers.push(Layer {
        range: (0, 14),
        header: Header::Ethernet(EthernetInfo {
            src: Mac(eth.source()),
            dst: Mac(eth.destination()),
            ethertype,
        }),
    });
    *off = 14;
    if ethertype < 0x0600 {
        // An IEEE 802.3 length field, not a type: LLC follows, which we do not read.
        d.notes.push(Note::info("cut.llc").arg("length", ethertype));
        return Next::Done;
    }
    Next::EtherType(ethertype)
}

pub(super) fn vlan(d: &mut Dissection, data: &[u8], off: &mut usize) -> Next {
    let start = *off;
    let Ok(v) = SingleVlanSlice::from_slice(&data[start..]) else {
        return cut(d, "802.1Q VLAN tag", 4, data.len() - start);
    };
    let ethertype = v.ether_type().0;
    d.layers.push(Layer {
        range: (start, start + 4),
        header: Header::Vlan(VlanInfo {
            id: v.vlan_identifier().value(),
            priority: v.priority_code_point().value(),
            drop_eligible: v.drop_eligible_indicator(),
            ethertype,
        }),
    });
    *off = start + 4;
    Next::EtherType(ethertype)
}

/// Linux cooked capture v1: 16 bytes. Read here rather than with etherparse's
/// `LinuxSllSlice`, which refuses hardware types it does not list (seen in real captures).
pub(super) fn linux_sll(d: &mut Dissection, data: &[u8], off: &mut usize) -> Next {
    if data.len() < 16 {
        return cut(d, "Linux cooked header (SLL)", 16, data.len());
    }
    let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
    let protocol = be16(14);
    let src = (be16(4) == 6).then(|| Mac([data[6], data[7], data[8], data[9], data[10], data[11]]));
    d.layers.push(Layer {
        range: (0, 16),
        header: Header::LinuxSll(SllInfo {
            packet_type: be16(0),
            arphrd_type: be16(2),
            src,
            protocol,
            interface_index: None,
        }),
    });
    *off = 16;
    Next::EtherType(protocol)
}

/// Linux cooked capture v2: etherparse has no SLL2, so its 20 bytes are read here.
pub(super) fn linux_sll2(d: &mut Dissection, data: &[u8], off: &mut usize) -> Next {
    if data.len() < 20 {
        return cut(d, "Linux cooked header (SLL2)", 20, data.len());
    }
    let be16 = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
    let protocol = be16(0);
    let addr_len = data[11];
    let src =
        (addr_len == 6).then(|| Mac([data[12], data[13], data[14], data[15], data[16], data[17]]));
    d.layers.push(Layer {
        range: (0, 20),
        header: Header::LinuxSll2(SllInfo {
            packet_type: data[10] as u16,
            arphrd_type: be16(8),
            src,
            protocol,
            interface_index: Some(u32::from_be_bytes([data[4], data[5], data[6], data[7]])),
        }),
    });
    *off = 20;
    Next::EtherType(protocol)
}

/// BSD loopback: a 4-byte address family, in the capturing host's byte order (NULL)
/// or in network byte order (LOOP).
pub(super) fn null(d: &mut Dissection, data: &[u8], off: &mut usize, network_order: bool) -> Next {
    if data.len() < 4 {
        return cut(d, "BSD loopback header", 4, data.len());
    }
    let raw = [data[0], data[1], data[2], data[3]];
    // A family is a small number: whichever byte order gives one is the capturer's.
    let family = if network_order || (raw[0] == 0 && raw[1] == 0) {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    };
    d.layers.push(Layer {
        range: (0, 4),
        header: Header::Null(NullInfo { family }),
    });
    *off = 4;
    match family {
        2 | 24 | 28 | 30 => Next::Ip,
        other => {
            d.notes
                .push(Note::info("cut.unknown_family").arg("family", other));
            Next::Done
        }
    }
}

/// Netfilter log: a 4-byte header, then type-length-value attributes; the packet
/// itself is the NFULA_PAYLOAD attribute (type 9), the log prefix type 10.
pub(super) fn nflog(d: &mut Dissection, data: &[u8], off: &mut usize, end: &mut usize) -> Next {
    if data.len() < 4 {
        return cut(d, "NFLOG header", 4, data.len());
    }
    let family = data[0];
    let resource_id = u16::from_be_bytes([data[2], data[3]]);
    let mut pos = 4usize;
    let mut prefix = None;
    let mut payload = None;
    while pos + 4 <= data.len() {
        let le = u16::from_le_bytes([data[pos], data[pos + 1]]) as usize;
        let be = u16::from_be_bytes([data[pos], data[pos + 1]]) as usize;
        // The TLV lengths are in host byte order; take the one that fits.
        let (len, kind) = if le >= 4 && pos + le <= data.len() {
            (le, u16::from_le_bytes([data[pos + 2], data[pos + 3]]))
        } else if be >= 4 && pos + be <= data.len() {
            (be, u16::from_be_bytes([data[pos + 2], data[pos + 3]]))
        } else {
            break;
        };
        let value = (pos + 4, pos + len);
        match kind {
            9 => payload = Some(value),
            10 => {
                let text = &data[value.0..value.1];
                let text = text.split(|&b| b == 0).next().unwrap_or(&[]);
                prefix = Some(String::from_utf8_lossy(text).into_owned());
            }
            _ => {}
        }
        if payload.is_some() {
            break;
        }
        pos += (len + 3) & !3;
    }
    let header_end = payload.map(|p| p.0).unwrap_or(pos.min(data.len()));
    d.layers.push(Layer {
        range: (0, header_end),
        header: Header::Nflog(NflogInfo {
            family,
            resource_id,
            prefix,
        }),
    });
    match payload {
        Some((s, e)) => {
            *off = s;
            *end = e;
            Next::Ip
        }
        None => {
            d.notes.push(Note::info("cut.nflog_no_payload"));
            Next::Done
        }
    }
}
