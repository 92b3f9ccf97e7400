//! One memory budget for the whole analysis: every conversation's application state
//! (bytes held out of order, heads and messages being joined, inflaters, requests
//! waiting for answers) draws from it, so that thousands of conversations each just
//! under their own limits cannot add up to gigabytes. When the sum passes the budget,
//! the least recently active conversation's decoders are given up (its packets are
//! still dissected and followed at the TCP level), and the end of the run says which.

use std::collections::{BTreeSet, HashMap};

/// The default budget (`--max-memory`): with the conversation table's own ~35 MB and
/// the rest of the program, a run stays under 256 MB whatever the capture.
pub const DEFAULT_MAX_MEMORY: usize = 160 << 20;

/// How many given-up streams the end note names (the rest are counted).
const NAMED: usize = 10;

#[derive(Debug, Default)]
pub struct Budget {
    /// Sum of the costs below.
    total: usize,
    /// Per conversation (index in the TCP table): its cost and when it was last active.
    cost: HashMap<usize, (usize, u64)>,
    /// (last active frame, conversation): the least recently active first.
    lru: BTreeSet<(u64, usize)>,
    /// Streams whose decoders were given up, in order (the first few), and how many.
    pub given_up: Vec<u32>,
    pub given_up_count: u64,
    /// The most the budget held at once.
    pub peak: usize,
}

impl Budget {
    /// Conversation `conv` now holds `bytes`, as of frame `frame`.
    pub fn set(&mut self, conv: usize, bytes: usize, frame: u64) {
        if let Some((old, last)) = self.cost.insert(conv, (bytes, frame)) {
            self.total -= old;
            self.lru.remove(&(last, conv));
        }
        self.total += bytes;
        self.lru.insert((frame, conv));
        self.peak = self.peak.max(self.total);
    }

    /// Conversation `conv` holds nothing any more (its decoders were freed).
    pub fn remove(&mut self, conv: usize) {
        if let Some((old, last)) = self.cost.remove(&conv) {
            self.total -= old;
            self.lru.remove(&(last, conv));
        }
    }

    /// Over `max`: the least recently active conversation to give up (and forgets it).
    pub fn evict(&mut self, max: usize) -> Option<usize> {
        if self.total <= max {
            return None;
        }
        let &(_, conv) = self.lru.first()?;
        self.remove(conv);
        Some(conv)
    }

    /// Records that stream `stream`'s decoders were given up.
    pub fn gave_up(&mut self, stream: u32) {
        if self.given_up.len() < NAMED {
            self.given_up.push(stream);
        }
        self.given_up_count += 1;
    }

    /// Bytes held now.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The streams given up as the end note says them: `3, 7, 9 and 12 more`.
    pub fn given_up_list(&self) -> String {
        let mut s = self
            .given_up
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let more = self.given_up_count - self.given_up.len() as u64;
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_active_goes_first_and_the_sum_is_exact() {
        let mut b = Budget::default();
        b.set(0, 100, 1);
        b.set(1, 100, 2);
        b.set(2, 100, 3);
        b.set(0, 150, 4); // conversation 0 is active again: 1 is now the oldest
        assert_eq!(b.total(), 350);
        assert_eq!(b.evict(400), None);
        assert_eq!(b.evict(300), Some(1));
        assert_eq!(b.total(), 250);
        assert_eq!(b.evict(100), Some(2));
        assert_eq!(b.evict(100), Some(0));
        assert_eq!(b.total(), 0);
        assert_eq!(b.evict(0), None);
        assert_eq!(b.peak, 350);
        b.remove(7); // unknown: nothing happens
        for s in 0..13 {
            b.gave_up(s);
        }
        assert_eq!(b.given_up_list(), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 3 more");
    }
}
