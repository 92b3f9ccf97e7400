//! Recognising a packet that was captured twice: the same IP packet (same addresses,
//! same IPv4 identification, same transport bytes) recorded again within a millisecond.
//! Captures do this when one packet passes several capture points: NFLOG logs it at
//! every firewall hook whose rule matches, a capture on two interfaces (or two merged
//! captures) records it once on each. Wireshark tags such a copy as a retransmission or
//! a duplicate ACK; it is neither, and the explanations say what it is.

use std::hash::{BuildHasher, Hash, Hasher};

use crate::dissect::{Dissection, Header};
use crate::frame::{Frame, Timestamp};

/// How many recent packets are remembered: copies arrive back to back.
const RECENT: usize = 8;

/// Copies are recorded within this many seconds of each other; a real retransmission
/// waits for at least a round trip and carries a new IPv4 identification.
const WINDOW: f64 = 0.001;

#[derive(Debug, Default)]
pub struct Recent {
    /// (original frame, fingerprint, time, copies of it so far)
    ring: [(u64, u64, Timestamp, u32); RECENT],
    next: usize,
}

impl Recent {
    /// The frame number this packet is a copy of, and how many copies of it there are
    /// now (1 for the second recording), if it is one.
    pub fn check(&mut self, frame: &Frame, d: &Dissection) -> Option<(u64, u32)> {
        let fp = fingerprint(frame, d)?;
        let found = self
            .ring
            .iter()
            .filter(|(n, f, t, _)| *n != 0 && *f == fp && frame.time.since(*t).abs() <= WINDOW)
            .max_by_key(|(_, _, _, c)| *c);
        let copy = found.map(|(n, _, _, c)| (*n, c + 1));
        // A copy is remembered as its original, so that a third copy names the first.
        let (original, count) = copy.unwrap_or((frame.number, 0));
        self.ring[self.next] = (original, fp, frame.time, count);
        self.next = (self.next + 1) % RECENT;
        copy
    }
}

/// What identifies one IP packet whatever the capture point added around it: the
/// addresses, the IPv4 identification and length, and the bytes from the transport
/// header on (the TTL and header checksum may change between hooks).
fn fingerprint(frame: &Frame, d: &Dissection) -> Option<u64> {
    // foldhash, not SipHash: the fingerprint hashes every payload byte of every packet
    // (a collision only makes one packet look like a copy of the one before it).
    let mut h = foldhash::fast::FixedState::with_seed(0x77_77).build_hasher();
    let l4 = d.layers.iter().find(|l| l.osi() == 4)?;
    for l in &d.layers {
        match &l.header {
            Header::Ipv4(ip) => (ip.src, ip.dst, ip.id, ip.total_len).hash(&mut h),
            Header::Ipv6(ip) => (ip.src, ip.dst, ip.payload_len, ip.flow_label).hash(&mut h),
            _ => {}
        }
    }
    let end = d.ip_end.unwrap_or(frame.data.len()).min(frame.data.len());
    frame
        .data
        .get(l4.range.0..end.max(l4.range.0))?
        .hash(&mut h);
    Some(h.finish())
}
