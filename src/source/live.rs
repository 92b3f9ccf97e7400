//! Live capture with pnet's datalink channel (Linux AF_PACKET).
//!
//! What pnet leaves to us, done here once:
//! - the socket is opened by us and handed to pnet through `Config.socket_fd`, so that
//!   `PACKET_IGNORE_OUTGOING` can be set on it: on `lo` every packet is otherwise seen
//!   twice (the outgoing copy and the incoming one);
//! - the read buffer is 256 KiB instead of pnet's 4096 bytes, which silently cut
//!   loopback frames (up to 64 KiB, more with GRO on real interfaces);
//! - pnet gives no timestamp: one is taken at each read;
//! - privileges: opening the socket is where CAP_NET_RAW is needed, and the one place
//!   that says what to do without it ([`privilege_message`]); [`drop_privileges`] gives
//!   them up once the socket is open.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pnet_datalink::{Channel, DataLinkReceiver, NetworkInterface};

use super::SourceError;
use crate::frame::{Frame, Link, Timestamp};

/// Bytes kept of each frame: a whole loopback frame (64 KiB MTU) and then some.
pub const READ_BUFFER: usize = 256 * 1024;

/// How long one read waits before the stop conditions are checked again.
const POLL: Duration = Duration::from_millis(100);

/// `PACKET_IGNORE_OUTGOING` (Linux 4.20, `linux/if_packet.h`); not in every libc release.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// `PACKET_STATISTICS` (`linux/if_packet.h`): packets seen and dropped, reset on read.
const PACKET_STATISTICS: libc::c_int = 6;
/// The socket's receive buffer: 64 MiB holds some 80,000 small packets on loopback
/// (the kernel counts each at its full allocation), so a burst waits instead of being
/// dropped. Raised past `net.core.rmem_max` with the privilege that opens the socket.
const SOCKET_BUFFER: libc::c_int = 64 << 20;

/// What to tell a user who may not capture. One line, the same everywhere.
pub fn privilege_message() -> &'static str {
    "capturing packets needs the CAP_NET_RAW capability: run `sudo setcap cap_net_raw+ep $(which wirewalk)` once, or run wirewalk with sudo — or learn without capturing: `wirewalk simulate websocket`, `wirewalk inspect FILE`"
}

/// An interface, as `capture --list` shows it.
#[derive(Debug, Clone)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub up: bool,
    pub loopback: bool,
    pub mac: Option<String>,
    /// Addresses with their prefix length, e.g. `127.0.0.1/8`.
    pub addrs: Vec<String>,
    /// How the frames read on it begin.
    pub link: Link,
}

/// Every interface the system has.
pub fn interfaces() -> Vec<Interface> {
    pnet_datalink::interfaces().iter().map(describe).collect()
}

fn describe(ni: &NetworkInterface) -> Interface {
    Interface {
        name: ni.name.clone(),
        index: ni.index,
        up: ni.is_up(),
        loopback: ni.is_loopback(),
        mac: ni
            .mac
            .filter(|m| !ni.is_loopback() && m.octets() != [0; 6])
            .map(|m| m.to_string()),
        addrs: ni
            .ips
            .iter()
            .map(|ip| format!("{}/{}", ip.ip(), ip.prefix()))
            .collect(),
        link: link_of(&ni.name),
    }
}

/// The loopback interface's name (`lo` on Linux).
pub fn loopback_name() -> String {
    pnet_datalink::interfaces()
        .into_iter()
        .find(|i| i.is_loopback())
        .map(|i| i.name)
        .unwrap_or_else(|| "lo".to_string())
}

/// The interface holding `addr`; for an unspecified address (0.0.0.0, ::) the first
/// interface that is up, not loopback and has an address.
pub fn interface_for(addr: IpAddr) -> Option<String> {
    let all = pnet_datalink::interfaces();
    if addr.is_loopback() {
        return Some(loopback_name());
    }
    if addr.is_unspecified() {
        return all
            .into_iter()
            .find(|i| i.is_up() && !i.is_loopback() && !i.ips.is_empty())
            .map(|i| i.name);
    }
    all.into_iter()
        .find(|i| i.ips.iter().any(|n| n.ip() == addr))
        .map(|i| i.name)
}

/// The addresses students can reach a server bound to `addr` at: `addr` itself, or for
/// 0.0.0.0 (::) every address of that family on an interface that is up, loopback and
/// IPv6 link-local ones left out (a URL cannot carry a link-local's zone).
pub fn reachable_addresses(addr: IpAddr) -> Vec<IpAddr> {
    if !addr.is_unspecified() {
        return vec![addr];
    }
    let mut out = Vec::new();
    for i in pnet_datalink::interfaces() {
        if !i.is_up() || i.is_loopback() {
            continue;
        }
        for n in &i.ips {
            let ip = n.ip();
            let link_local = matches!(ip, IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80);
            if ip.is_ipv4() == addr.is_ipv4()
                && !ip.is_loopback()
                && !link_local
                && !out.contains(&ip)
            {
                out.push(ip);
            }
        }
    }
    out
}

/// The link type of frames read from an AF_PACKET socket on `name`, from the
/// interface's ARPHRD_ type. Loopback gives zero-MAC Ethernet headers; tunnels
/// (tun, ipip, sit, gre, wireguard) give bare IP.
fn link_of(name: &str) -> Link {
    let kind = std::fs::read_to_string(format!("/sys/class/net/{name}/type"))
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(1);
    match kind {
        1 | 772 => Link::Ethernet,
        65534 | 768 | 769 | 776 | 778 | 823 => Link::Raw,
        other => Link::Other(other),
    }
}

/// Why a capture could not start.
#[derive(Debug)]
pub enum OpenError {
    /// No CAP_NET_RAW: see [`privilege_message`].
    Permission,
    /// No interface of that name; the names that exist.
    NoSuchInterface(String, Vec<String>),
    Other(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Permission => f.write_str(privilege_message()),
            OpenError::NoSuchInterface(name, names) => {
                write!(
                    f,
                    "no interface '{name}' (there are: {}; `wirewalk capture --list` shows them)",
                    names.join(", ")
                )
            }
            OpenError::Other(m) => f.write_str(m),
        }
    }
}

/// Which packets to keep (before numbering, like a tcpdump capture filter): when any
/// ports or hosts are given, only IP packets with one of the ports (TCP/UDP, either
/// side) and one of the hosts (either side).
#[derive(Debug, Clone, Default)]
pub struct CaptureFilter {
    pub ports: Vec<u16>,
    pub hosts: Vec<IpAddr>,
}

impl CaptureFilter {
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty() && self.hosts.is_empty()
    }

    pub fn matches(&self, link: Link, data: &[u8]) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(p) = peek(link, data) else {
            return false;
        };
        let port_ok = self.ports.is_empty()
            || p.ports
                .is_some_and(|(s, d)| self.ports.contains(&s) || self.ports.contains(&d));
        let host_ok =
            self.hosts.is_empty() || self.hosts.contains(&p.src) || self.hosts.contains(&p.dst);
        port_ok && host_ok
    }
}

/// The few fields the capture itself looks at (filtering, noticing a teardown).
#[derive(Debug, Clone, Copy)]
pub struct Peek {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TCP or UDP ports (source, destination).
    pub ports: Option<(u16, u16)>,
    pub tcp: Option<TcpPeek>,
}

#[derive(Debug, Clone, Copy)]
pub struct TcpPeek {
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub has_ack: bool,
    pub payload_len: u32,
}

/// A quick, lax look at a frame's addresses, ports and TCP flags.
pub fn peek(link: Link, data: &[u8]) -> Option<Peek> {
    let sliced = match link {
        Link::Ethernet => LaxSlicedPacket::from_ethernet(data).ok()?,
        Link::Raw => LaxSlicedPacket::from_ip(data).ok()?,
        _ => return None,
    };
    let (src, dst) = match sliced.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        LaxNetSlice::Ipv6(v6) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        _ => return None,
    };
    let (ports, tcp) = match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => (
            Some((t.source_port(), t.destination_port())),
            Some(TcpPeek {
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                syn: t.syn(),
                fin: t.fin(),
                rst: t.rst(),
                has_ack: t.ack(),
                payload_len: t.payload().len() as u32,
            }),
        ),
        Some(TransportSlice::Udp(u)) => (Some((u.source_port(), u.destination_port())), None),
        _ => (None, None),
    };
    Some(Peek {
        src,
        dst,
        ports,
        tcp,
    })
}

/// Completes a TCP or UDP checksum the kernel left for the network card to compute
/// (checksum offload; always so on loopback, where no card ever finishes the job).
/// Such a packet's checksum field holds exactly the pseudo-header sum, which is how it
/// is told apart from a corrupt one; only those are completed. Returns true if one was.
pub fn complete_offloaded_checksum(link: Link, data: &mut [u8]) -> bool {
    let Some((pseudo, proto, seg_start, seg_len)) = locate_segment(link, data) else {
        return false;
    };
    let field = match proto {
        6 => 16,
        17 => 6,
        _ => return false,
    };
    if seg_len < field + 2 || seg_len > u32::MAX as usize {
        return false;
    }
    let mut pseudo_sum = sum16(&pseudo) + proto as u64;
    pseudo_sum += (seg_len as u64 >> 16) + (seg_len as u64 & 0xffff);
    let partial = fold(pseudo_sum);
    let at = seg_start + field;
    let stored = u16::from_be_bytes([data[at], data[at + 1]]);
    let same = |a: u16, b: u16| a == b || (a == 0 || a == 0xffff) && (b == 0 || b == 0xffff);
    if !same(stored, partial) || (proto == 17 && stored == 0) {
        return false;
    }
    data[at] = 0;
    data[at + 1] = 0;
    let mut full = !fold(pseudo_sum + sum16(&data[seg_start..seg_start + seg_len]));
    if full == stored {
        // It was already right (a segment whose true checksum equals its partial sum).
        data[at..at + 2].copy_from_slice(&stored.to_be_bytes());
        return false;
    }
    if proto == 17 && full == 0 {
        full = 0xffff;
    }
    data[at..at + 2].copy_from_slice(&full.to_be_bytes());
    true
}

/// The pseudo-header's addresses, the transport protocol, and the segment's span.
fn locate_segment(link: Link, data: &[u8]) -> Option<(Vec<u8>, u8, usize, usize)> {
    let base = data.as_ptr() as usize;
    let sliced = match link {
        Link::Ethernet => LaxSlicedPacket::from_ethernet(data).ok()?,
        Link::Raw => LaxSlicedPacket::from_ip(data).ok()?,
        _ => return None,
    };
    let mut pseudo = Vec::with_capacity(32);
    let payload = match sliced.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => {
            pseudo.extend_from_slice(&v4.header().source());
            pseudo.extend_from_slice(&v4.header().destination());
            v4.payload().clone()
        }
        LaxNetSlice::Ipv6(v6) => {
            pseudo.extend_from_slice(&v6.header().source());
            pseudo.extend_from_slice(&v6.header().destination());
            v6.payload().clone()
        }
        _ => return None,
    };
    if payload.incomplete || payload.fragmented {
        return None;
    }
    Some((
        pseudo,
        payload.ip_number.0,
        payload.payload.as_ptr() as usize - base,
        payload.payload.len(),
    ))
}

fn sum16(bytes: &[u8]) -> u64 {
    let mut sum = 0u64;
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u64;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u64) << 8;
    }
    sum
}

fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Set by Ctrl-C (see [`stop_on_interrupt`]) or by anyone who wants a capture to end.
static STOP: AtomicBool = AtomicBool::new(false);

/// True once Ctrl-C was pressed (or [`request_stop`] called).
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" fn on_interrupt(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

/// Ctrl-C (SIGINT) and SIGTERM end the capture cleanly instead of killing the process:
/// the reader sees [`stop_requested`] within a read timeout, the summary is shown and
/// the capture file flushed. The handler is one-shot (`SA_RESETHAND`): a second Ctrl-C
/// kills as usual.
pub fn stop_on_interrupt() {
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}

/// The end note for `drops` packets the kernel dropped (None when it dropped none),
/// worded as tcpdump's "N packets dropped by kernel"; on loopback (`loopback`) it says
/// that a dropped copy of a packet counts too.
pub fn drop_note(drops: u64, loopback: bool) -> Option<String> {
    if drops == 0 {
        return None;
    }
    let twice = if loopback {
        " (on loopback each packet reaches the socket twice, outgoing and incoming, and a dropped copy counts too)"
    } else {
        ""
    };
    let packets = if drops == 1 { "packet" } else { "packets" };
    Some(format!(
        "{drops} {packets} dropped by kernel{twice}: the capture socket's buffer was full while the capture could not keep up; what was dropped is missing from what is shown and from any -w file"
    ))
}

/// Gives up the privileges that opened the socket, which stays open. Run by `sudo`:
/// become the user who ran sudo. Run with file capabilities (`setcap`): drop every
/// capability. Call it before any other thread starts (capabilities are per thread;
/// threads started later inherit the dropped set). Returns what was done, if anything.
pub fn drop_privileges() -> Result<Option<String>, String> {
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        let id = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
        let (Some(uid), Some(gid)) = (id("SUDO_UID"), id("SUDO_GID")) else {
            return Ok(None);
        };
        if uid == 0 {
            return Ok(None);
        }
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(format!(
                    "could not switch to user {uid} after opening the socket: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        return Ok(Some(format!(
            "running as user {uid} after opening the capture socket"
        )));
    }
    // Not root: any capability we have came from the file (setcap); clear them all.
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    let had = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut CapHeader,
            data.as_mut_ptr(),
        ) == 0
            && data.iter().any(|d| d.permitted != 0)
    };
    if !had {
        return Ok(None);
    }
    let zero = [CapData::default(); 2];
    let mut header = CapHeader {
        version: 0x2008_0522,
        pid: 0,
    };
    if unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            zero.as_ptr(),
        )
    } != 0
    {
        return Err(format!(
            "could not drop capabilities after opening the socket: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(Some(
        "capabilities dropped after opening the capture socket".to_string(),
    ))
}

/// An open live capture: an iterator of frames that ends on Ctrl-C, after a duration,
/// or never.
pub struct LiveCapture {
    rx: Box<dyn DataLinkReceiver>,
    /// The socket under `rx` (owned by pnet; valid while `rx` lives).
    fd: i32,
    interface: String,
    link: Link,
    filter: CaptureFilter,
    number: u64,
    deadline: Option<Instant>,
    done: bool,
    completed: u64,
    was_down: bool,
    /// What the kernel counted so far (PACKET_STATISTICS resets on every read): packets
    /// that reached the socket, and those dropped because its buffer was full.
    kernel: std::cell::Cell<(u64, u64)>,
    /// Frames read from the socket ahead of the one being shown, and what they take:
    /// while a slow renderer shows one packet, a burst moves from the socket's buffer to
    /// this one instead of overflowing it.
    queue: std::collections::VecDeque<Frame>,
    queued: usize,
    /// An error met while reading ahead, given after the frames read before it.
    failed: Option<SourceError>,
}

/// The most read ahead of what is shown (frame bytes and their bookkeeping): 200,000
/// small datagrams take some 35 MiB.
const QUEUE_BYTES: usize = 96 << 20;
/// What one queued frame costs besides its bytes.
const QUEUED_COST: usize = 96;

impl LiveCapture {
    /// Opens a capture on the interface named `name`. This is where CAP_NET_RAW is needed.
    pub fn open(name: &str, filter: CaptureFilter) -> Result<LiveCapture, OpenError> {
        let all = pnet_datalink::interfaces();
        let Some(ni) = all.iter().find(|i| i.name == name) else {
            return Err(OpenError::NoSuchInterface(
                name.to_string(),
                all.iter().map(|i| i.name.clone()).collect(),
            ));
        };
        let fd = open_socket()?;
        let config = pnet_datalink::Config {
            read_buffer_size: READ_BUFFER,
            read_timeout: Some(POLL),
            promiscuous: false,
            socket_fd: Some(fd),
            ..Default::default()
        };
        // pnet binds the socket to the interface (protocol ETH_P_ALL) and owns the fd
        // from here on, closing it on every error path and when the receiver drops.
        let rx = match pnet_datalink::channel(ni, config) {
            Ok(Channel::Ethernet(_tx, rx)) => rx,
            Ok(_) => {
                return Err(OpenError::Other(
                    "pnet returned an unknown channel type".into(),
                ))
            }
            Err(e)
                if e.raw_os_error() == Some(libc::EPERM)
                    || e.raw_os_error() == Some(libc::EACCES) =>
            {
                return Err(OpenError::Permission)
            }
            Err(e) => return Err(OpenError::Other(format!("cannot capture on {name}: {e}"))),
        };
        Ok(LiveCapture {
            rx,
            fd,
            interface: name.to_string(),
            link: link_of(name),
            filter,
            number: 0,
            deadline: None,
            done: false,
            completed: 0,
            was_down: !ni.is_up(),
            kernel: Default::default(),
            queue: Default::default(),
            queued: 0,
            failed: None,
        })
    }

    /// Stop after this long.
    pub fn with_duration(mut self, duration: Option<Duration>) -> Self {
        self.deadline = duration.map(|d| Instant::now() + d);
        self
    }

    /// Packets the kernel dropped so far because the socket's buffer was full (what
    /// tcpdump prints as "packets dropped by kernel"), and the packets it counted.
    pub fn kernel_drops(&self) -> (u64, u64) {
        #[repr(C)]
        #[derive(Default)]
        struct TpacketStats {
            packets: u32,
            drops: u32,
        }
        let mut st = TpacketStats::default();
        let mut len = std::mem::size_of::<TpacketStats>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `st`, on a socket we own.
        let rc = unsafe {
            libc::getsockopt(
                self.fd,
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                &mut st as *mut _ as *mut libc::c_void,
                &mut len,
            )
        };
        let (mut packets, mut drops) = self.kernel.get();
        if rc == 0 {
            // tp_packets counts the dropped ones too.
            packets += st.packets as u64;
            drops += st.drops as u64;
            self.kernel.set((packets, drops));
        }
        (drops, packets)
    }

    /// Notes for the end of the run: drops by the kernel, checksums completed.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let (drops, _) = self.kernel_drops();
        notes.extend(drop_note(drops, self.interface == loopback_name()));
        if self.was_down && self.number == 0 {
            notes.push(format!(
                "{} was down when the capture started: nothing arrives on a down interface",
                self.interface
            ));
        }
        if self.completed == 0 {
            return notes;
        }
        notes.push(format!(
            "{} packet(s) carried a TCP/UDP checksum left for the network card to compute (checksum offload; on loopback no card ever does): wirewalk completed it, in what is shown and in any -w file",
            self.completed
        ));
        notes
    }

    /// Replaces the filter (it applies to every frame read from now on).
    pub fn set_filter(&mut self, filter: CaptureFilter) {
        self.filter = filter;
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    pub fn link(&self) -> Link {
        self.link
    }

    /// Waits up to one poll interval for the next frame that passes the filter:
    /// `Ok(None)` when none came.
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, SourceError> {
        self.read_frame(POLL)
    }

    /// Reads ahead every frame already waiting in the socket (up to the queue's size).
    fn read_ahead(&mut self) {
        for _ in 0..65536 {
            if self.queued >= QUEUE_BYTES || self.failed.is_some() {
                return;
            }
            match self.read_frame(Duration::ZERO) {
                Ok(Some(f)) => {
                    self.queued += f.data.len() + QUEUED_COST;
                    self.queue.push_back(f);
                }
                Ok(None) => return,
                Err(e) => self.failed = Some(e),
            }
        }
    }

    fn read_frame(&mut self, wait: Duration) -> Result<Option<Frame>, SourceError> {
        let start = Instant::now();
        loop {
            // Our own poll first: pnet's treats POLLERR as fatal ("Unexpected poll
            // event"), but a pending socket error (ENETDOWN when the interface went down
            // and up, for instance) is only news: read it, which clears it, and go on.
            let mut pfd = libc::pollfd {
                fd: self.fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let left = wait.saturating_sub(start.elapsed()).as_millis() as libc::c_int;
            let ready = unsafe { libc::poll(&mut pfd, 1, left) };
            if ready == 0 {
                return Ok(None);
            }
            if ready < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    return Ok(None);
                }
                return Err(SourceError(format!("reading from {}: {e}", self.interface)));
            }
            if pfd.revents & libc::POLLIN == 0 {
                if pfd.revents & libc::POLLERR != 0 {
                    socket_error(self.fd);
                    continue;
                }
                return Err(SourceError(format!(
                    "reading from {}: the capture socket closed (poll events {:#x})",
                    self.interface, pfd.revents
                )));
            }
            match self.rx.next() {
                Ok(data) => {
                    let time = now();
                    if !self.filter.matches(self.link, data) {
                        // Reading ahead goes on past others' packets for a moment.
                        if start.elapsed() >= wait.max(Duration::from_millis(5)) {
                            return Ok(None);
                        }
                        continue;
                    }
                    self.number += 1;
                    let mut data = data.to_vec();
                    if complete_offloaded_checksum(self.link, &mut data) {
                        self.completed += 1;
                    }
                    return Ok(Some(Frame {
                        number: self.number,
                        time,
                        link: self.link,
                        wire_len: data.len() as u32,
                        data,
                    }));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(SourceError(format!("reading from {}: {e}", self.interface))),
            }
        }
    }
}

impl Iterator for LiveCapture {
    type Item = Result<Frame, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if stop_requested() || self.deadline.is_some_and(|d| Instant::now() >= d) {
                self.done = true;
                break;
            }
            self.read_ahead();
            if let Some(f) = self.queue.pop_front() {
                self.queued -= f.data.len() + QUEUED_COST;
                return Some(Ok(f));
            }
            if let Some(e) = self.failed.take() {
                self.done = true;
                return Some(Err(e));
            }
            match self.poll_frame() {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        // What was read before the end was captured: it is shown too.
        match self.queue.pop_front() {
            Some(f) => {
                self.queued -= f.data.len() + QUEUED_COST;
                Some(Ok(f))
            }
            None => self.failed.take().map(Err),
        }
    }
}

/// Reads (and so clears) a socket's pending error.
fn socket_error(fd: i32) -> i32 {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            &mut err as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    err
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::new(d.as_secs() as i64, d.subsec_nanos())
}

/// Opens the AF_PACKET socket pnet will use, with `PACKET_IGNORE_OUTGOING` set. The
/// protocol is 0 so that nothing is queued before pnet binds it to one interface.
fn open_socket() -> Result<i32, OpenError> {
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => OpenError::Permission,
            Some(libc::EAFNOSUPPORT) => OpenError::Other(
                "this system has no AF_PACKET sockets (live capture needs Linux)".into(),
            ),
            _ => OpenError::Other(format!("cannot open a packet socket: {e}")),
        });
    }
    let one: libc::c_int = 1;
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            &one as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        // SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it, SO_RCVBUF up to rmem_max.
        let size = SOCKET_BUFFER;
        let set = |opt| unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                &size as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if set(libc::SO_RCVBUFFORCE) != 0 {
            set(libc::SO_RCVBUF);
        }
    }
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        unsafe { libc::close(fd) };
        return Err(OpenError::Other(format!(
            "cannot set PACKET_IGNORE_OUTGOING (Linux 4.20 or later is needed, or loopback packets would show twice): {e}"
        )));
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn() -> Vec<u8> {
        let builder = etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
            .tcp(40000, 8080, 1000, 65535)
            .syn();
        let mut out = Vec::new();
        builder.write(&mut out, &[]).unwrap();
        out
    }

    #[test]
    fn filter_by_port_and_host() {
        let f = syn();
        assert!(CaptureFilter::default().matches(Link::Ethernet, &f));
        assert!(CaptureFilter {
            ports: vec![8080],
            hosts: vec![]
        }
        .matches(Link::Ethernet, &f));
        assert!(CaptureFilter {
            ports: vec![40000],
            hosts: vec![]
        }
        .matches(Link::Ethernet, &f));
        assert!(!CaptureFilter {
            ports: vec![80],
            hosts: vec![]
        }
        .matches(Link::Ethernet, &f));
        assert!(CaptureFilter {
            ports: vec![],
            hosts: vec!["127.0.0.1".parse().unwrap()]
        }
        .matches(Link::Ethernet, &f));
        assert!(!CaptureFilter {
            ports: vec![8080],
            hosts: vec!["10.0.0.1".parse().unwrap()]
        }
        .matches(Link::Ethernet, &f));
        // Not IP at all: filtered out once a filter is set.
        assert!(!CaptureFilter {
            ports: vec![8080],
            hosts: vec![]
        }
        .matches(Link::Ethernet, &[0u8; 20]));
    }

    #[test]
    fn peek_reads_tcp_flags() {
        let p = peek(Link::Ethernet, &syn()).unwrap();
        let t = p.tcp.unwrap();
        assert!(t.syn && !t.fin && !t.rst && !t.has_ack);
        assert_eq!(t.seq, 1000);
        assert_eq!(p.ports, Some((40000, 8080)));
    }

    #[test]
    fn completes_offloaded_checksums_only() {
        let good = syn();
        // What the kernel leaves under checksum offload: the pseudo-header sum.
        let mut partial = good.clone();
        let seg_len = partial.len() - 34;
        let pseudo = sum16(&[127, 0, 0, 1, 127, 0, 0, 1]) + 6 + seg_len as u64;
        partial[50..52].copy_from_slice(&fold(pseudo).to_be_bytes());
        assert_ne!(partial, good);
        assert!(complete_offloaded_checksum(Link::Ethernet, &mut partial));
        assert_eq!(partial, good);
        // A right checksum is left alone, and so is a corrupt one.
        let mut same = good.clone();
        assert!(!complete_offloaded_checksum(Link::Ethernet, &mut same));
        assert_eq!(same, good);
        let mut corrupt = good.clone();
        corrupt[50] ^= 0x55;
        let before = corrupt.clone();
        assert!(!complete_offloaded_checksum(Link::Ethernet, &mut corrupt));
        assert_eq!(corrupt, before);
    }

    /// The drop count is said like tcpdump's "N packets dropped by kernel" (singular for
    /// one), in one line, and only when the kernel dropped something.
    #[test]
    fn kernel_drops_are_said_like_tcpdump() {
        assert_eq!(drop_note(0, true), None);
        assert_eq!(drop_note(0, false), None);
        let one = drop_note(1, false).unwrap();
        assert!(one.starts_with("1 packet dropped by kernel: "), "{one}");
        let many = drop_note(65_536, false).unwrap();
        assert!(
            many.starts_with("65536 packets dropped by kernel: "),
            "{many}"
        );
        assert!(many.contains("missing from what is shown and from any -w file"));
        assert!(!many.contains("loopback"));
        let lo = drop_note(3, true).unwrap();
        assert!(
            lo.starts_with(
                "3 packets dropped by kernel (on loopback each packet reaches the socket twice"
            ),
            "{lo}"
        );
        for n in [one, many, lo] {
            assert!(!n.contains('\n'), "{n}");
        }
    }

    #[test]
    fn message_is_one_line_and_says_what_to_do() {
        let m = privilege_message();
        assert!(!m.contains('\n'));
        assert!(
            m.contains("setcap cap_net_raw+ep") && m.contains("sudo") && m.contains("simulate")
        );
    }
}
