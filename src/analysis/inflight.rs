//! The segments one side has sent that the other has not yet acknowledged, kept as
//! Wireshark keeps them (its "unacked list", packet-tcp.c, 4.0): which frame an ACK
//! acknowledges (`tcp.analysis.acks_frame`) and how many bytes are in flight after a
//! segment (`tcp.analysis.bytes_in_flight`).

/// The most unacknowledged segments remembered per direction (Wireshark's
/// `TCP_MAX_UNACKED_SEGMENTS`): past it, new segments are not added.
pub const MAX_UNACKED: usize = 10_000;

/// One segment sent and not yet acknowledged: raw sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unacked {
    frame: u64,
    seq: u32,
    /// The sequence number after it (a SYN or FIN counts one).
    next: u32,
}

fn gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// One direction's unacknowledged segments, oldest first.
#[derive(Debug, Clone)]
pub struct InFlight {
    segments: Vec<Unacked>,
    /// False after a gap in this direction (a segment not captured) until the other
    /// side's next ACK: Wireshark does not count bytes in flight meanwhile.
    valid: bool,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            segments: Vec::new(),
            valid: true,
        }
    }
}

impl InFlight {
    /// A segment was sent (data, or SYN/FIN); `next` includes the SYN/FIN's one.
    pub fn sent(&mut self, frame: u64, seq: u32, next: u32) {
        if self.segments.len() < MAX_UNACKED {
            self.segments.push(Unacked { frame, seq, next });
        }
    }

    /// This direction missed a segment: bytes in flight are not known for now.
    pub fn lost(&mut self) {
        self.valid = false;
    }

    /// The other side sent an ACK: counting bytes in flight resumes.
    pub fn ack_seen(&mut self) {
        self.valid = true;
    }

    /// The other side sent an ACK number `ack`: drops the segments it covers, trims the
    /// one it covers in part, and returns the frame of the segment it acknowledges
    /// exactly (Wireshark walks newest first, so of two equal segments, the older wins).
    pub fn acked(&mut self, ack: u32) -> Option<u64> {
        let mut frame = None;
        let mut i = self.segments.len();
        while i > 0 {
            i -= 1;
            let s = &mut self.segments[i];
            if ack == s.next {
                frame = Some(s.frame);
            } else if gt(ack, s.seq) && !gt(ack, s.next) {
                s.seq = ack;
                continue;
            } else if gt(s.next, ack) {
                continue;
            }
            self.segments.remove(i);
        }
        frame
    }

    /// Bytes in flight after a data segment of this direction, relative to `base`
    /// (the side's relative-number origin): from the lowest unacknowledged byte to the
    /// highest, as Wireshark counts them. `None` when it does not count (no data in
    /// this segment, nothing outstanding, or a gap came before). The inner option is
    /// the count, absent when Wireshark would show none (zero or absurd).
    /// A FIN on this segment (`fin`) is not a byte in flight: Wireshark counts up to the
    /// segment's data, not the FIN's sequence number. Bytes the peer's last ACK reported
    /// with SACK (`sacked`) arrived, and are not in flight either.
    pub fn in_flight(&self, seglen: u32, base: u32, fin: bool, sacked: u32) -> Option<Option<u32>> {
        if seglen == 0 || self.segments.is_empty() || !self.valid {
            return None;
        }
        let rel = |x: u32| x.wrapping_sub(base);
        let newest = self.segments[self.segments.len() - 1];
        let newest_end = rel(newest.next).wrapping_sub(fin as u32);
        let (mut first, mut last) = (rel(newest.seq), newest_end);
        for s in &self.segments[..self.segments.len() - 1] {
            last = last.max(rel(s.next));
            first = first.min(rel(s.seq));
        }
        let n = last.wrapping_sub(first).wrapping_sub(sacked);
        Some((n > 0 && n < 2_000_000_000).then_some(n))
    }

    pub fn outstanding(&self) -> usize {
        self.segments.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_names_the_segment_it_completes_and_frees_it() {
        let mut f = InFlight::default();
        f.sent(4, 1001, 1137); // 136 bytes
        f.sent(6, 1137, 2585);
        assert_eq!(f.in_flight(1448, 1000, false, 0), Some(Some(1584)));
        assert_eq!(f.acked(1137), Some(4));
        assert_eq!(f.outstanding(), 1);
        // A partial ACK trims the segment and names no frame.
        assert_eq!(f.acked(2000), None);
        assert_eq!(f.in_flight(1, 1000, false, 0), Some(Some(585)));
        assert_eq!(f.acked(2585), Some(6));
        assert_eq!(f.outstanding(), 0);
        assert_eq!(f.in_flight(10, 1000, false, 0), None);
    }

    #[test]
    fn of_a_segment_and_its_retransmission_the_original_is_acknowledged() {
        let mut f = InFlight::default();
        f.sent(1, 500, 501); // a SYN-ACK
        f.sent(2, 500, 501); // the same, captured twice
        assert_eq!(f.acked(501), Some(1));
        assert_eq!(f.outstanding(), 0);
    }

    #[test]
    fn a_gap_stops_the_count() {
        let mut f = InFlight::default();
        f.sent(1, 1, 101);
        f.lost();
        assert_eq!(f.in_flight(100, 0, false, 0), None);
    }
}
