//! One memory budget for the whole analysis: every conversation's application state
//! (bytes held out of order, heads and messages being joined, inflaters, requests
//! waiting for answers) draws from it, so that thousands of conversations each just
//! under their own limits cannot add up to gigabytes. When the sum passes the budget,
//! the least recently active conversation's decoders are given up (its packets are
//! still dissected and followed at the TCP level), or the least recently active
//! Socket.IO session's state, and the end of the run says which.

use std::collections::BTreeSet;

// foldhash (randomly seeded): the owners are numbers from the capture, hashed on every packet.
use foldhash::HashMap;

/// What holds memory against the budget: a TCP conversation's decoders (its index in the
/// TCP table), or a Socket.IO session's state (its id in the session tracker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    Conversation(usize),
    Session(u64),
}

/// The default budget (`--max-memory`): with the conversation table's own ~35 MB and
/// the rest of the program, a run stays under 256 MB whatever the capture.
pub const DEFAULT_MAX_MEMORY: usize = 160 << 20;

/// How many given-up streams the end note names (the rest are counted).
const NAMED: usize = 10;

#[derive(Debug, Default)]
pub struct Budget {
    /// Sum of the costs below.
    total: usize,
    /// Per owner: its cost and when it was last active.
    cost: HashMap<Owner, (usize, u64)>,
    /// (last active frame, owner): the least recently active first.
    lru: BTreeSet<(u64, Owner)>,
    /// Streams whose decoders were given up, in order (the first few), and how many.
    pub given_up: Vec<u32>,
    pub given_up_count: u64,
    /// The most the budget held at once.
    pub peak: usize,
}

impl Budget {
    /// `conv` now holds `bytes`, as of frame `frame`.
    pub fn set(&mut self, conv: Owner, bytes: usize, frame: u64) {
        if let Some((old, last)) = self.cost.insert(conv, (bytes, frame)) {
            self.total -= old;
            self.lru.remove(&(last, conv));
        }
        self.total += bytes;
        self.lru.insert((frame, conv));
        self.peak = self.peak.max(self.total);
    }

    /// `conv` holds nothing any more (its decoders or state were freed).
    pub fn remove(&mut self, conv: Owner) {
        if let Some((old, last)) = self.cost.remove(&conv) {
            self.total -= old;
            self.lru.remove(&(last, conv));
        }
    }

    /// Over `max`: the least recently active owner to give up (and forgets it).
    pub fn evict(&mut self, max: usize) -> Option<Owner> {
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
        use Owner::{Conversation as C, Session as S};
        let mut b = Budget::default();
        b.set(C(0), 100, 1);
        b.set(C(1), 100, 2);
        b.set(S(1), 100, 3); // a session and a conversation of the same number
        b.set(C(0), 150, 4); // conversation 0 is active again: 1 is now the oldest
        assert_eq!(b.total(), 350);
        assert_eq!(b.evict(400), None);
        assert_eq!(b.evict(300), Some(C(1)));
        assert_eq!(b.total(), 250);
        assert_eq!(b.evict(100), Some(S(1)));
        assert_eq!(b.evict(100), Some(C(0)));
        assert_eq!(b.total(), 0);
        assert_eq!(b.evict(0), None);
        assert_eq!(b.peak, 350);
        b.remove(C(7)); // unknown: nothing happens
        for s in 0..13 {
            b.gave_up(s);
        }
        assert_eq!(b.given_up_list(), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 3 more");
    }
}
