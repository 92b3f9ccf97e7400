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
