//! TCP stream reassembly, per direction: bytes handed on in sequence order, with
//! retransmissions and overlaps resolved, out-of-order segments held until the gap
//! fills, and gaps that never fill reported as such ("N bytes were never captured").

use std::collections::BTreeMap;

/// What the reassembler hands to the application layer, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// In-order bytes at this stream offset; `frame` carried them, from byte `at` of it.
    Data {
        offset: u64,
        bytes: std::borrow::Cow<'a, [u8]>,
        frame: u64,
        at: usize,
    },
    /// `len` bytes at `offset` were never captured.
    Gap { offset: u64, len: u64 },
    /// The direction ended (FIN).
    End,
}

/// A held out-of-order segment.
#[derive(Debug, Clone)]
struct Held {
    bytes: Vec<u8>,
    /// The segment's data length on the wire (more than `bytes` when the capture cut it).
    wire_len: usize,
    frame: u64,
    at: usize,
}

/// Default limit on the bytes held out of order per direction (`--max-reassembly`);
/// beyond it the gap is declared lost and decoding goes on after it.
pub const MAX_HELD: usize = 4 << 20;

/// What holding one segment costs besides its bytes: the `Held` record, its map entry
/// and the allocation's own overhead (measured: 4 MiB of one-byte segments took about
/// 140 bytes each). `--max-reassembly` counts it, so one-byte segments cannot make the
/// limit a hundred times larger than it says.
const HELD_COST: usize = 128;

fn held_cost(h: &Held) -> usize {
    HELD_COST + h.bytes.len()
}

#[derive(Debug)]
pub struct Reassembler {
    /// Most bytes held out of order before the gap is declared lost.
    max_held: usize,
    /// Raw sequence number of the next byte expected.
    next: Option<u32>,
    /// Stream offset of `next` (gaps count).
    offset: u64,
    held: BTreeMap<u64, Held>,
    held_bytes: usize,
    fin: Option<u32>,
    ended: bool,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::with_limit(MAX_HELD)
    }
}

fn diff(a: u32, b: u32) -> i64 {
    a.wrapping_sub(b) as i32 as i64
}

impl Reassembler {
    pub fn with_limit(max_held: usize) -> Reassembler {
        Reassembler {
            max_held,
            next: None,
            offset: 0,
            held: BTreeMap::new(),
            held_bytes: 0,
            fin: None,
            ended: false,
        }
    }

    /// Offers one segment: `seq` is its raw sequence number, `payload` what the capture
    /// kept of its data (starting at byte `at` of frame `frame`), `len` its data length
    /// on the wire (larger than `payload` when the snap length cut it).
    #[allow(clippy::too_many_arguments)]
    pub fn segment<'a>(
        &mut self,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &'a [u8],
        len: u32,
        frame: u64,
        at: usize,
        out: &mut Vec<Piece<'a>>,
    ) {
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        self.next.get_or_insert(data_seq);
        if fin {
            self.fin = Some(data_seq.wrapping_add(len));
        }
        if len > 0 {
            self.offer(data_seq, payload, len as usize, frame, at, out);
        }
        self.check_end(out);
    }

    /// One segment's data at raw sequence `data_seq`: delivered when it is next (what was
    /// delivered already trimmed), held when it is ahead and fits the budget. A copy of a
    /// segment already held is not a reason to give up on the gap before it: the longer
    /// copy is kept. Only when the budget is spent is the first gap declared lost, and the
    /// segment offered again after it.
    fn offer<'a>(
        &mut self,
        data_seq: u32,
        payload: &'a [u8],
        len: usize,
        frame: u64,
        at: usize,
        out: &mut Vec<Piece<'a>>,
    ) {
        loop {
            let next = self.next.unwrap_or(data_seq);
            let rel = diff(data_seq, next);
            if rel + len as i64 <= 0 {
                return; // all of it was delivered already
            }
            // Trim what was already delivered (a retransmission or an overlap).
            let skip = (-rel).max(0) as usize;
            let kept = payload.get(skip..).unwrap_or(&[]);
            let wire_rest = len - skip.min(len);
            if rel <= 0 {
                self.deliver(kept, wire_rest, frame, at + skip, out);
                self.drain(out);
                return;
            }
            let pos = self.offset + rel as u64;
            let have = kept.len().min(wire_rest);
            if let Some(h) = self.held.get(&pos) {
                if h.wire_len >= wire_rest && h.bytes.len() >= have {
                    return; // a copy of what is held
                }
            }
            let old = self.held.get(&pos).map_or(0, held_cost);
            let cost = HELD_COST + have;
            if self.held_bytes - old + cost <= self.max_held {
                self.held_bytes = self.held_bytes - old + cost;
                self.held.insert(
                    pos,
                    Held {
                        bytes: kept[..have].to_vec(),
                        wire_len: wire_rest,
                        frame,
                        at: at + skip,
                    },
                );
                return;
            }
            if self.held.is_empty() {
                // Larger than the whole budget alone: the gap before it is given up.
                out.push(Piece::Gap {
                    offset: self.offset,
                    len: rel as u64,
                });
                self.offset = pos;
                self.next = Some(data_seq);
                self.deliver(kept, wire_rest, frame, at, out);
                self.drain(out);
                return;
            }
            // Too much held: give up waiting for the first gap, then try again.
            self.skip_to_first_held(out);
        }
    }

    /// The peer acknowledged up to `ack`: bytes before it were received, so a gap the
    /// capture still waits for will never be seen here.
    pub fn acked(&mut self, ack: u32, out: &mut Vec<Piece<'static>>) {
        let Some(next) = self.next else { return };
        let ahead = diff(ack, next);
        if ahead > 0 && !self.held.is_empty() {
            let first_held = *self.held.keys().next().expect("held is not empty");
            let gap = (first_held - self.offset).min(ahead as u64);
            if gap > 0 {
                out.push(Piece::Gap {
                    offset: self.offset,
                    len: gap,
                });
                self.offset += gap;
                self.next = Some(next.wrapping_add(gap as u32));
            }
        }
    }

    /// Flushes what was held after a gap that the acknowledgements showed was lost.
    pub fn flush_after_gap<'a>(&mut self, out: &mut Vec<Piece<'a>>) {
        self.drain(out);
        self.check_end(out);
    }

    fn deliver<'a>(
        &mut self,
        kept: &'a [u8],
        wire_len: usize,
        frame: u64,
        at: usize,
        out: &mut Vec<Piece<'a>>,
    ) {
        let have = kept.len().min(wire_len);
        if have > 0 {
            out.push(Piece::Data {
                offset: self.offset,
                bytes: std::borrow::Cow::Borrowed(&kept[..have]),
                frame,
                at,
            });
            self.offset += have as u64;
        }
        if wire_len > have {
            let missing = (wire_len - have) as u64;
            out.push(Piece::Gap {
                offset: self.offset,
                len: missing,
            });
            self.offset += missing;
        }
        self.next = Some(self.next.unwrap_or(0).wrapping_add(wire_len as u32));
    }

    fn drain<'a>(&mut self, out: &mut Vec<Piece<'a>>) {
        while let Some((&pos, _)) = self.held.iter().next() {
            if pos > self.offset {
                break;
            }
            let h = self.held.remove(&pos).expect("key just seen");
            self.held_bytes -= held_cost(&h);
            let skip = (self.offset - pos) as usize;
            if skip < h.wire_len {
                let kept = h.bytes.get(skip..).unwrap_or(&[]).to_vec();
                let (n, wire) = (kept.len(), h.wire_len - skip);
                if n > 0 {
                    out.push(Piece::Data {
                        offset: self.offset,
                        bytes: std::borrow::Cow::Owned(kept),
                        frame: h.frame,
                        at: h.at + skip,
                    });
                }
                if wire > n {
                    out.push(Piece::Gap {
                        offset: self.offset + n as u64,
                        len: (wire - n) as u64,
                    });
                }
                self.offset += wire as u64;
                self.next = Some(self.next.unwrap_or(0).wrapping_add(wire as u32));
            }
        }
    }

    fn skip_to_first_held<'a>(&mut self, out: &mut Vec<Piece<'a>>) {
        if let Some((&pos, _)) = self.held.iter().next() {
            if pos > self.offset {
                let gap = pos - self.offset;
                out.push(Piece::Gap {
                    offset: self.offset,
                    len: gap,
                });
                self.offset = pos;
                self.next = Some(self.next.unwrap_or(0).wrapping_add(gap as u32));
            }
            self.drain(out);
        }
    }

    fn check_end<'a>(&mut self, out: &mut Vec<Piece<'a>>) {
        if let (Some(fin), Some(next), false) = (self.fin, self.next, self.ended) {
            if diff(next, fin) >= 0 && self.held.is_empty() {
                self.ended = true;
                out.push(Piece::End);
            }
        }
    }

    /// The first data byte will carry raw sequence number `seq` (unless data came already).
    pub fn start_at(&mut self, seq: u32) {
        if self.next.is_none() {
            self.next = Some(seq);
        }
    }

    /// True once the FIN and every byte before it were handed on.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Memory currently held out of order: the bytes, and `HELD_COST` per segment.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(p: &[Piece<'_>]) -> Vec<u8> {
        p.iter()
            .flat_map(|x| match x {
                Piece::Data { bytes, .. } => bytes.to_vec(),
                _ => vec![],
            })
            .collect()
    }

    #[test]
    fn in_order_retransmitted_and_out_of_order_segments() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        r.segment(1000, true, false, b"", 0, 1, 0, &mut out);
        r.segment(1001, false, false, b"hello ", 6, 2, 54, &mut out);
        r.segment(1001, false, false, b"hello ", 6, 3, 54, &mut out); // retransmission
        r.segment(1013, false, false, b"!", 1, 4, 54, &mut out); // ahead: held
        assert_eq!(data(&out), b"hello ");
        r.segment(1007, false, false, b"world", 5, 5, 54, &mut out); // still a 1-byte hole
        r.segment(1012, false, true, b"s", 1, 6, 54, &mut out); // fills it; FIN after "!"
        assert_eq!(data(&out), b"hello worlds!");
        assert_eq!(out.last(), Some(&Piece::End));
    }

    #[test]
    fn a_cut_segment_reports_the_missing_bytes() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        r.segment(5, false, false, b"abc", 10, 1, 40, &mut out);
        assert_eq!(out[1], Piece::Gap { offset: 3, len: 7 });
    }

    #[test]
    fn an_ack_beyond_a_hole_declares_the_gap() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        r.segment(100, false, false, b"ab", 2, 1, 0, &mut out);
        r.segment(110, false, false, b"xyz", 3, 2, 0, &mut out);
        let mut gaps = Vec::new();
        r.acked(113, &mut gaps);
        assert_eq!(gaps, vec![Piece::Gap { offset: 2, len: 8 }]);
        let mut rest = Vec::new();
        r.flush_after_gap(&mut rest);
        assert_eq!(data(&rest), b"xyz");
    }
    #[test]
    fn a_copy_of_a_held_segment_does_not_lose_the_gap() {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        r.segment(100, false, false, b"GET ", 4, 1, 0, &mut out);
        r.segment(108, false, false, b"HTTP", 4, 2, 0, &mut out); // ahead: held
        r.segment(108, false, false, b"HTTP", 4, 3, 0, &mut out); // its copy
        r.segment(108, false, false, b"HT", 4, 4, 0, &mut out); // a cut copy: the whole one stays
        r.segment(104, false, false, b"/ab ", 4, 5, 0, &mut out); // the real bytes
        assert_eq!(data(&out), b"GET /ab HTTP");
        assert!(
            !out.iter().any(|p| matches!(p, Piece::Gap { .. })),
            "{out:?}"
        );
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn the_limit_counts_what_each_held_segment_costs() {
        // 64 one-byte segments ahead of a hole cost far more than 64 bytes.
        let limit = 16 * (HELD_COST + 1);
        let mut r = Reassembler::with_limit(limit);
        let mut out = Vec::new();
        r.segment(0, false, false, b"a", 1, 1, 0, &mut out);
        for i in 0..64u32 {
            r.segment(2 + i, false, false, b"x", 1, 2 + i as u64, 0, &mut out);
            assert!(r.held_bytes() <= limit);
        }
        // The hole (byte 1) was given up once the budget was spent; nothing else was lost.
        let gaps: Vec<_> = out
            .iter()
            .filter(|p| matches!(p, Piece::Gap { .. }))
            .collect();
        assert_eq!(gaps, vec![&Piece::Gap { offset: 1, len: 1 }]);
        assert_eq!(data(&out).len() as u64 + 1 + (r.held.len() as u64), 66);
    }

    #[test]
    fn a_segment_larger_than_the_budget_gives_up_the_gap_before_it() {
        let mut r = Reassembler::with_limit(HELD_COST + 4);
        let mut out = Vec::new();
        r.segment(0, false, false, b"ab", 2, 1, 0, &mut out);
        r.segment(5, false, false, b"0123456789", 10, 2, 0, &mut out);
        assert_eq!(out[1], Piece::Gap { offset: 2, len: 3 });
        assert_eq!(data(&out), b"ab0123456789");
    }
}
