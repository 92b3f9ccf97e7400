//! The unit that crosses every boundary of the pipeline: one captured frame.

/// How the bytes of a frame begin: the capture's link-layer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// Ethernet II (DLT_EN10MB, 1).
    Ethernet,
    /// Linux cooked capture v1 (DLT_LINUX_SLL, 113): `tcpdump -i any`.
    LinuxSll,
    /// Linux cooked capture v2 (DLT_LINUX_SLL2, 276).
    LinuxSll2,
    /// BSD loopback (DLT_NULL, 0): a 4-byte address family in the capturer's byte order.
    Null,
    /// OpenBSD loopback (DLT_LOOP, 108): the address family in network byte order.
    Loop,
    /// Raw IP, version read from the first nibble (DLT_RAW 101/12, IPV4 228, IPV6 229).
    Raw,
    /// Linux netfilter log (DLT_NFLOG, 239).
    Nflog,
    /// Any other link type: kept, shown as bytes, not dissected.
    Other(u32),
}

impl Link {
    /// Maps a libpcap LINKTYPE_ number to a link.
    pub fn from_linktype(n: u32) -> Link {
        match n {
            1 => Link::Ethernet,
            113 => Link::LinuxSll,
            276 => Link::LinuxSll2,
            0 => Link::Null,
            108 => Link::Loop,
            12 | 14 | 101 | 228 | 229 => Link::Raw,
            239 => Link::Nflog,
            other => Link::Other(other),
        }
    }

    /// The libpcap LINKTYPE_ number written to capture files.
    pub fn linktype(self) -> u32 {
        match self {
            Link::Ethernet => 1,
            Link::LinuxSll => 113,
            Link::LinuxSll2 => 276,
            Link::Null => 0,
            Link::Loop => 108,
            Link::Raw => 101,
            Link::Nflog => 239,
            Link::Other(n) => n,
        }
    }

    /// The name used in JSON output (`"link"`), per SPEC.md.
    pub fn name(self) -> &'static str {
        match self {
            Link::Ethernet => "ethernet",
            Link::LinuxSll => "linux-sll",
            Link::LinuxSll2 => "linux-sll2",
            Link::Null | Link::Loop => "null",
            Link::Raw => "raw",
            Link::Nflog => "nflog",
            Link::Other(_) => "other",
        }
    }
}

/// A capture timestamp: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn new(secs: i64, nanos: u32) -> Self {
        Timestamp { secs, nanos }
    }

    /// Seconds as a float, as the JSON output carries it.
    pub fn as_f64(self) -> f64 {
        self.secs as f64 + self.nanos as f64 / 1e9
    }

    /// Seconds elapsed since `earlier` (negative if the clock went backwards).
    pub fn since(self, earlier: Timestamp) -> f64 {
        (self.secs - earlier.secs) as f64 + (self.nanos as f64 - earlier.nanos as f64) / 1e9
    }

    /// `since(earlier)` to six decimals, right-aligned in `width` and with a `+` before
    /// it when `plus`: what `{:>width$.6}` / `{:+.6}` write, byte for byte. A whole number
    /// of microseconds (every pcap's clock) is written from the integers; anything else
    /// (nanoseconds to round, a clock gone backwards, centuries) through the float.
    pub fn push_since(self, earlier: Timestamp, out: &mut String, plus: bool, width: usize) {
        const SPAN: i64 = 1 << 30; // seconds: far inside a double's exact microseconds
        let nanos = self.nanos as i64 - earlier.nanos as i64;
        let exact = self
            .secs
            .checked_sub(earlier.secs)
            .filter(|s| (0..SPAN).contains(s))
            .map(|s| s * 1_000_000_000 + nanos)
            .filter(|d| *d >= 0 && d % 1000 == 0);
        let Some(d) = exact else {
            use std::fmt::Write as _;
            let rel = self.since(earlier);
            let _ = if plus {
                write!(out, "{rel:>+width$.6}")
            } else {
                write!(out, "{rel:>width$.6}")
            };
            return;
        };
        let micros = d / 1000;
        let mut num = itoa::Buffer::new();
        let whole = num.format(micros / 1_000_000);
        let len = plus as usize + whole.len() + 7;
        out.extend(std::iter::repeat_n(' ', width.saturating_sub(len)));
        if plus {
            out.push('+');
        }
        out.push_str(whole);
        out.push('.');
        let frac = (micros % 1_000_000) as u32;
        let mut digits = [b'0'; 6];
        let mut f = frac;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (f % 10) as u8;
            f /= 10;
        }
        out.push_str(std::str::from_utf8(&digits).expect("ASCII digits"));
    }
}

/// One captured frame, whatever its source (file, live capture, simulator).
#[derive(Debug, Clone)]
pub struct Frame {
    /// Counts from 1, like Wireshark.
    pub number: u64,
    pub time: Timestamp,
    pub link: Link,
    /// The bytes the capture kept (`captured_len` = `data.len()`).
    pub data: Vec<u8>,
    /// The frame's length on the wire, which is larger when the snap length cut it.
    pub wire_len: u32,
}

impl Frame {
    pub fn captured_len(&self) -> usize {
        self.data.len()
    }

    /// True when the capture kept fewer bytes than were on the wire.
    pub fn is_cut(&self) -> bool {
        (self.data.len() as u64) < self.wire_len as u64
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    /// The integer way writes what the float formatting writes, on whole microseconds
    /// and around every edge where it hands over to the float.
    #[test]
    fn seconds_since_are_written_as_the_float_formatting_writes_them() {
        let first = Timestamp::new(1_700_000_000, 123_456_000);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases = vec![
            first,
            Timestamp::new(first.secs, first.nanos + 1000),
            Timestamp::new(first.secs, first.nanos + 500),
            Timestamp::new(first.secs, first.nanos - 1000),
            Timestamp::new(first.secs - 1, 999_999_000),
            Timestamp::new(first.secs + (1 << 30) - 1, 999_999_000),
            Timestamp::new(first.secs + (1 << 30), 0),
            Timestamp::new(first.secs + 99_999, 0),
            Timestamp::new(first.secs + 100_000, 0),
            Timestamp::new(i64::MAX, 999_999_999),
            Timestamp::new(i64::MIN, 0),
        ];
        for _ in 0..20_000 {
            let secs = first.secs + (next() % 4_000_000) as i64 - 1000;
            let micros = (next() % 1_000_000) as u32;
            let nanos = if next() % 4 == 0 {
                (next() % 1_000_000_000) as u32
            } else {
                micros * 1000
            };
            cases.push(Timestamp::new(secs, nanos));
        }
        for t in cases {
            let rel = t.since(first);
            for (plus, width) in [(false, 11), (true, 0), (false, 0), (true, 14)] {
                let mut ours = String::new();
                t.push_since(first, &mut ours, plus, width);
                let floats = if plus {
                    format!("{rel:>+width$.6}")
                } else {
                    format!("{rel:>width$.6}")
                };
                assert_eq!(ours, floats, "{t:?} plus={plus} width={width}");
            }
        }
    }
}
