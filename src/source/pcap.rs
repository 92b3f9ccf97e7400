//! Reader of pcap and pcapng files (through pcap-parser), in constant memory: one buffer,
//! refilled as it goes, whatever the file's size. A pipe or standard input is read as a
//! stream (pcap-parser's reader); a regular file is mapped a window at a time
//! (`mapped.rs`), which gives this reader the very bytes the stream would have.
//!
//! pcap: both byte orders, micro- and nanosecond timestamps. pcapng: several interfaces,
//! each with its own link type and timestamp resolution. A file cut short yields every
//! packet before the cut and a warning.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};

use super::mapped::{MapError, Mapped};
use super::SourceError;
use crate::frame::{Frame, Link, Timestamp};

const INITIAL_BUFFER: usize = 1 << 20;
/// The largest record we are willing to buffer. Real frames stay under 256 KiB (libpcap's
/// largest snap length); a length beyond this is a corrupt file, not a packet.
const MAX_RECORD: usize = 16 << 20;
/// The reader's buffer never grows past this (a record of `MAX_RECORD` and some slack).
const MAX_BUFFER: usize = MAX_RECORD + (1 << 16);

/// The capture file's format, for messages and for `inspect`'s header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap { nanos: bool, big_endian: bool },
    Pcapng,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link: Link,
    /// Timestamp units per second.
    resolution: u64,
    offset: i64,
}

/// What the reader has learnt from the file's headers so far.
#[derive(Debug, Default)]
struct State {
    legacy: Option<(Link, bool)>,
    interfaces: Vec<Interface>,
    number: u64,
    format: Option<Format>,
    /// Byte order of the current pcapng section.
    big_endian: bool,
    /// Where the TLS key logs of Decryption Secrets Blocks go.
    keylog: Option<crate::analysis::protocols::tls::SharedKeyLog>,
    /// An impossible original length was said (once).
    said_wire_len: bool,
}

/// Reads frames one at a time from a capture file.
pub struct PcapReader {
    reader: Box<dyn PcapReaderIterator + Send>,
    state: State,
    name: String,
    warnings: Vec<String>,
    finished: bool,
    /// The file ends in the middle of a record.
    cut: bool,
    comments: Vec<String>,
    /// The size of pcap-parser's buffer.
    buffer_size: usize,
}

impl std::fmt::Debug for PcapReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapReader")
            .field("name", &self.name)
            .finish()
    }
}

impl PcapReader {
    /// Opens a capture file. Errors are one line and say what to do.
    pub fn open(path: &Path) -> Result<PcapReader, SourceError> {
        Self::open_counted(path, None)
    }

    /// Opens a capture file; `read` follows how many of its bytes have been read (for a
    /// progress bar). A regular file is mapped (`mapped.rs`), anything else (a named
    /// pipe, a device) read as a stream.
    pub fn open_counted(
        path: &Path,
        read: Option<Arc<AtomicU64>>,
    ) -> Result<PcapReader, SourceError> {
        let name = path.display().to_string();
        let mut file = File::open(path).map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "check the path, or make one with `wirewalk simulate websocket -w demo.pcap`"
                }
                std::io::ErrorKind::PermissionDenied => {
                    "check the file's permissions (ls -l), or copy it somewhere you can read"
                }
                _ => "check that it is a readable file",
            };
            SourceError(format!("cannot open {name}: {} — {hint}", io_reason(&e)))
        })?;
        let meta = file.metadata().ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(SourceError(format!(
                "{name} is a directory — give the path of a .pcap or .pcapng file"
            )));
        }
        if !meta.is_some_and(|m| m.is_file()) {
            return Self::from_reader(Counted { input: file, read }, &name);
        }
        let head = read_head(&mut file, &name)?;
        check_magic(&head, &name)?;
        let header = staged_header_len(&head);
        let verdict = HeaderVerdict::of(&head);
        match Mapped::new(file, head.len(), header, INITIAL_BUFFER, read.clone()) {
            Ok(mapped) => Ok(Self::with(Box::new(mapped), &name)),
            Err(MapError::Header(e)) => Err(verdict.error(e, &name)),
            // Not mappable after all: read as a stream, from where the first bytes ended.
            Err(MapError::Unmappable(mut file)) => {
                use std::io::{Seek, SeekFrom};
                if let Some(read) = &read {
                    read.store(head.len() as u64, Ordering::Relaxed);
                }
                file.seek(SeekFrom::Start(head.len() as u64))
                    .map_err(|e| SourceError(format!("cannot read {name}: {}", io_reason(&e))))?;
                Self::from_head(head, Counted { input: file, read }, &name)
            }
        }
    }

    /// Reads a capture from any byte stream (a file, stdin, memory).
    pub fn from_reader<R: Read + Send + 'static>(
        mut input: R,
        name: &str,
    ) -> Result<PcapReader, SourceError> {
        let head = read_head(&mut input, name)?;
        check_magic(&head, name)?;
        Self::from_head(head, input, name)
    }

    /// The streaming reader, once the first bytes (`read_head`) have been read and found
    /// to start a capture.
    fn from_head<R: Read + Send + 'static>(
        head: Vec<u8>,
        input: R,
        name: &str,
    ) -> Result<PcapReader, SourceError> {
        let verdict = HeaderVerdict::of(&head);
        let chained = Staged::new(head, input);
        let reader = create_reader(INITIAL_BUFFER, chained).map_err(|e| verdict.error(e, name))?;
        Ok(Self::with(reader, name))
    }

    fn with(reader: Box<dyn PcapReaderIterator + Send>, name: &str) -> PcapReader {
        PcapReader {
            reader,
            state: State::default(),
            name: name.to_string(),
            warnings: Vec::new(),
            finished: false,
            cut: false,
            comments: Vec::new(),
            buffer_size: INITIAL_BUFFER,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's format, known once the first frame (or header) has been read.
    pub fn format(&self) -> Option<Format> {
        self.state.format
    }

    /// Warnings about the file itself (a cut at the end, skipped blocks).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The TLS key logs embedded in the capture (pcapng Decryption Secrets Blocks, as
    /// `editcap --inject-secrets` writes them) are added to `keys` as they are read.
    pub fn set_keylog(&mut self, keys: crate::analysis::protocols::tls::SharedKeyLog) {
        self.state.keylog = Some(keys);
    }

    /// When the file ends in the middle of a record: the warning that says so (also the
    /// last of `warnings()`). The packets before the cut were read.
    pub fn cut(&self) -> Option<&str> {
        if self.cut {
            self.warnings.last().map(|w| w.as_str())
        } else {
            None
        }
    }

    /// Comments of the pcapng section header.
    pub fn comments(&self) -> &[String] {
        &self.comments
    }

    /// The next frame; `None` at the end; `Some(Err)` when the file cannot be read further.
    pub fn next_frame(&mut self) -> Option<Result<Frame, SourceError>> {
        if self.finished {
            return None;
        }
        loop {
            let claimed = match self.next_record_len() {
                Ok(n) => n,
                Err(what) => {
                    self.finished = true;
                    return Some(Err(SourceError(format!(
                        "{}: the record after packet {} is corrupt ({what}) — the packets before it were read; the rest cannot be",
                        self.name, self.state.number
                    ))));
                }
            };
            let step = match self.reader.next() {
                Ok((offset, block)) => {
                    let frame = convert(
                        &mut self.state,
                        &mut self.comments,
                        &mut self.warnings,
                        block,
                        &self.name,
                    );
                    Ok((offset, frame))
                }
                Err(e) => Err(simplify(e)),
            };
            match step {
                Ok((offset, frame)) => {
                    self.reader.consume(offset);
                    match frame {
                        Ok(Some(mut f)) => {
                            self.sane_wire_len(&mut f);
                            return Some(Ok(f));
                        }
                        Ok(None) => continue,
                        Err(e) => {
                            self.finished = true;
                            return Some(Err(e));
                        }
                    }
                }
                Err(Stop::Eof) => {
                    self.finished = true;
                    return None;
                }
                Err(Stop::Incomplete) => {
                    if let Err(e) = self.reader.refill() {
                        self.finished = true;
                        return Some(Err(SourceError(format!(
                            "cannot read {}: {e:?}",
                            self.name
                        ))));
                    }
                }
                Err(Stop::TooSmall) => {
                    // Grow to what the record claims (checked against MAX_RECORD above),
                    // at least doubling, never past MAX_BUFFER.
                    let want = claimed
                        .map_or(0, |n| n + (1 << 12))
                        .max(self.buffer_size * 2)
                        .min(MAX_BUFFER);
                    if self.buffer_size >= MAX_BUFFER || !self.reader.grow(want) {
                        self.finished = true;
                        return Some(Err(SourceError(format!(
                            "{}: after packet {} a record claims more than {} MiB — the file is corrupt from there on; the packets before it were read",
                            self.name,
                            self.state.number,
                            MAX_BUFFER >> 20
                        ))));
                    }
                    self.buffer_size = want;
                    if let Err(e) = self.reader.refill() {
                        self.finished = true;
                        return Some(Err(SourceError(format!(
                            "cannot read {}: {e:?}",
                            self.name
                        ))));
                    }
                }
                Err(Stop::Truncated) | Err(Stop::Corrupt(_)) if self.skip_lying_block() => {
                    continue;
                }
                // pcap-parser says "unexpected end" once it has been made to wait for a
                // longer block, even with nothing left: every block was whole.
                Err(Stop::Truncated) if self.reader.data().is_empty() => {
                    self.finished = true;
                    return None;
                }
                Err(Stop::Truncated) => {
                    self.finished = true;
                    self.cut = true;
                    self.warnings.push(format!(
                        "{} ends in the middle of a record after packet {}: the file was cut (a capture still being written, or an interrupted copy); every packet before the cut was read",
                        self.name, self.state.number
                    ));
                    return None;
                }
                Err(Stop::Corrupt(what)) => {
                    self.finished = true;
                    let what = self.why_corrupt().unwrap_or(what);
                    return Some(Err(SourceError(format!(
                        "{}: the record after packet {} is corrupt ({what}) — the packets before it were read; the rest cannot be",
                        self.name, self.state.number
                    ))));
                }
            }
        }
    }
}

impl PcapReader {
    /// A packet whose original length is beyond any real packet (a lie: 4 GB in a simple
    /// packet block) counts as the bytes captured, said once.
    fn sane_wire_len(&mut self, f: &mut Frame) {
        if f.wire_len as usize > MAX_RECORD {
            if !self.state.said_wire_len {
                self.state.said_wire_len = true;
                self.warnings.push(format!(
                    "{}: packet {} says it was {} bytes on the wire, more than the {} MiB any real packet takes: it counts as the {} bytes captured (and so does any other such packet)",
                    self.name,
                    f.number,
                    f.wire_len,
                    MAX_RECORD >> 20,
                    f.data.len()
                ));
            }
            f.wire_len = f.data.len() as u32;
        }
    }

    /// The pcapng block at the front of the buffer, when it is whole: its type, the
    /// length its header claims, the bytes and its byte order.
    fn front_block(&self) -> Option<(u32, usize, &[u8], bool)> {
        if self.state.format != Some(Format::Pcapng) {
            return None;
        }
        let data = self.reader.data();
        let be = self.state.big_endian;
        let word = |i: usize| {
            data.get(i..i + 4).map(|b| {
                let a = [b[0], b[1], b[2], b[3]];
                if be {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                }
            })
        };
        Some((word(0)?, word(4)? as usize, data, be))
    }

    /// Why the pcapng block at the front does not parse, in words (not pcap-parser's
    /// error names): its two length fields disagree, or it is shorter than its type needs.
    fn why_corrupt(&self) -> Option<String> {
        let (kind, len, data, be) = self.front_block()?;
        let word = |i: usize| {
            let b = data.get(i..i + 4)?;
            let a = [b[0], b[1], b[2], b[3]];
            Some(if be {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        };
        let least = match kind {
            6 => 32,
            3 => 16,
            1 => 20,
            0x0bad | 0x4000_0bad => 16,
            _ => 12,
        };
        if len < least {
            return Some(format!(
                "a block of type 0x{kind:08x} claims {len} bytes, fewer than the {least} its fields take"
            ));
        }
        match word(len.checked_sub(4)?) {
            Some(end) if end as usize != len => Some(format!(
                "its length fields disagree: {len} bytes at its start, {end} at its end"
            )),
            _ => Some(format!(
                "a block of type 0x{kind:08x} whose fields do not fit its {len} bytes"
            )),
        }
    }

    /// An Enhanced Packet Block whose header claims a length its own fields contradict
    /// (its packet and closing length field end earlier, and a block follows): skipped
    /// with a warning, and reading goes on after it, instead of losing the rest of the
    /// file as "cut" or "corrupt". True when it was skipped.
    fn skip_lying_block(&mut self) -> bool {
        let Some((6, claimed, data, be)) = self.front_block() else {
            return false;
        };
        let word = |i: usize| {
            let b = data.get(i..i + 4)?;
            let a = [b[0], b[1], b[2], b[3]];
            Some(if be {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }) as Option<u32>
        };
        let Some(caplen) = word(20) else {
            return false;
        };
        // The block's true end: the first closing length field, after the packet (and
        // any options), that names its own position; a whole block must follow it.
        let least = 32 + (caplen as usize).div_ceil(4) * 4;
        let Some(end) = (least..=data.len().min(least + (1 << 16)))
            .step_by(4)
            .find(|&e| word(e - 4) == Some(e as u32) && e != claimed)
        else {
            return false;
        };
        let next_len = word(end + 4).map_or(0, |n| n as usize);
        let next_whole = next_len >= 12
            && word(end + next_len - 4) == Some(next_len as u32)
            && end + next_len <= data.len();
        if !next_whole {
            return false;
        }
        // The packet keeps its number (as in the file), and is said to be missing.
        self.state.number += 1;
        self.warnings.push(format!(
            "{}: the block of packet {} claims {claimed} bytes, but its own fields end at {end} and a whole block follows: that packet is skipped, and reading goes on after it",
            self.name, self.state.number
        ));
        self.reader.consume(end);
        true
    }

    /// The length the next record claims (its header, when enough of it is buffered), so
    /// that a corrupt length ends the file with a message before it costs memory, and so
    /// that pcap-parser never sees a pcapng block shorter than a block header (0.17
    /// computes `block_len - 12` unchecked for some block types: a panic in debug builds,
    /// a request for 4 GiB in release).
    fn next_record_len(&self) -> Result<Option<usize>, String> {
        let data = self.reader.data();
        let u32_at = |i: usize, be: bool| {
            data.get(i..i + 4).map(|b| {
                let a = [b[0], b[1], b[2], b[3]];
                if be {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                }
            })
        };
        let len = match self.state.format {
            Some(Format::Pcap { big_endian, .. }) => match u32_at(8, big_endian) {
                // Record header (16 bytes) and the captured bytes.
                Some(caplen) => caplen as usize + 16,
                None => return Ok(None),
            },
            Some(Format::Pcapng) => {
                let Some(block_type) = u32_at(0, false) else {
                    return Ok(None);
                };
                let be = if block_type == 0x0a0d0d0a {
                    // A new section: its byte-order magic decides how its length reads.
                    match u32_at(8, false) {
                        Some(bom) => bom != 0x1a2b3c4d,
                        None => return Ok(None),
                    }
                } else {
                    self.state.big_endian
                };
                let Some(len) = u32_at(4, be) else {
                    return Ok(None);
                };
                if len < 12 {
                    return Err(format!(
                        "a pcapng block claims {len} bytes, fewer than the 12 of its own header"
                    ));
                }
                len as usize
            }
            None => return Ok(None),
        };
        if len > MAX_RECORD {
            return Err(format!(
                "a record claims {len} bytes, more than the {} MiB any real packet takes",
                MAX_RECORD >> 20
            ));
        }
        Ok(Some(len))
    }
}

impl Iterator for PcapReader {
    type Item = Result<Frame, SourceError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame()
    }
}

enum Stop {
    Eof,
    Incomplete,
    TooSmall,
    Truncated,
    Corrupt(String),
}

fn simplify(e: PcapError<&[u8]>) -> Stop {
    match e {
        PcapError::Eof => Stop::Eof,
        PcapError::Incomplete(_) => Stop::Incomplete,
        PcapError::BufferTooSmall => Stop::TooSmall,
        PcapError::UnexpectedEof => Stop::Truncated,
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            Stop::Corrupt(format!("{kind:?}"))
        }
        other => Stop::Corrupt(format!("{other:?}")),
    }
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// The first bytes of a capture, read before pcap-parser sees them, so that a wrong file
/// gets a precise message. pcap-parser probes the format with a single read, so it is
/// handed a generous first chunk (a pcapng section header with long options must fit in
/// it). Reading stops as soon as the file header is whole, so that a pipe (`tcpdump -U -w
/// - |`) is shown packet by packet as it arrives, not in 64 KiB chunks. A section header
/// with long options (tshark reads them) is read whole, up to the parser's first buffer.
fn read_head<R: Read>(input: &mut R, name: &str) -> Result<Vec<u8>, SourceError> {
    let mut head = vec![0u8; 1 << 16];
    let mut got = 0;
    loop {
        let want = file_header_len(&head[..got]).unwrap_or(head.len());
        if want > head.len() && want <= INITIAL_BUFFER {
            head.resize(want, 0);
        }
        if got >= want.min(head.len()) {
            break;
        }
        match input.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                return Err(SourceError(format!(
                    "cannot read {name}: {}",
                    io_reason(&e)
                )))
            }
        }
    }
    head.truncate(got);
    Ok(head)
}

/// What the first bytes say about a file header pcap-parser refuses.
struct HeaderVerdict {
    /// The file ends before the end its own section header announces.
    cut_in_header: bool,
    starts_ng: bool,
}

impl HeaderVerdict {
    fn of(head: &[u8]) -> HeaderVerdict {
        HeaderVerdict {
            cut_in_header: file_header_len(head).is_some_and(|n| head.len() < n),
            starts_ng: head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]),
        }
    }

    /// pcap-parser's refusal of the file header, in words.
    fn error(&self, e: PcapError<&[u8]>, name: &str) -> SourceError {
        SourceError(match e {
            _ if self.cut_in_header => format!(
                "{name} ends inside its file header — it is empty or was cut while being copied; copy it again"
            ),
            PcapError::HeaderNotRecognized if self.starts_ng => format!(
                "{name}: the pcapng section header block is corrupt (a length or option that does not fit) — the file cannot be read; re-save it from Wireshark or recapture"
            ),
            PcapError::Eof | PcapError::Incomplete(_) | PcapError::UnexpectedEof => format!(
                "{name} ends inside its file header — it is empty or was cut while being copied; copy it again"
            ),
            _ => format!("{name} is not a readable capture: its file header does not parse — open it in Wireshark to check"),
        })
    }
}

/// A byte stream whose bytes read are counted (for the progress bar).
struct Counted<R> {
    input: R,
    read: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        if let Some(read) = &self.read {
            read.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Refuses, with a precise message, what is plainly not a capture we can read.
/// How many bytes the file header takes (pcap's 24, pcapng's section header block), once
/// enough of it has arrived to tell; `None` before.
/// The first bytes already read, then the input, handed to pcap-parser so that opening a
/// pipe never waits for bytes that have not come yet: pcap-parser reads twice while it
/// opens a capture (`create_reader`, then `from_buffer`), so the first read gives the file
/// header only and the second the bytes read beyond it — nothing (`Ok(0)`, which it takes
/// as "no more yet") rather than a read that blocks until the next packet.
struct Staged<R> {
    head: std::io::Cursor<Vec<u8>>,
    header: usize,
    reads: u8,
    input: R,
}

impl<R: Read> Staged<R> {
    fn new(head: Vec<u8>, input: R) -> Staged<R> {
        let header = staged_header_len(&head);
        Staged {
            head: std::io::Cursor::new(head),
            header,
            reads: 0,
            input,
        }
    }
}

impl<R: Read> Read for Staged<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads = self.reads.saturating_add(1);
        let left = self.head.get_ref().len() - self.head.position() as usize;
        match self.reads {
            1 => {
                let n = buf.len().min(self.header);
                self.head.read(&mut buf[..n])
            }
            2 => self.head.read(buf),
            _ if left > 0 => self.head.read(buf),
            _ => self.input.read(buf),
        }
    }
}

/// How much of the first bytes `Staged`'s first read gives: the file header, as far as
/// it was read.
fn staged_header_len(head: &[u8]) -> usize {
    file_header_len(head).unwrap_or(head.len()).min(head.len())
}

fn file_header_len(head: &[u8]) -> Option<usize> {
    let word = |at: usize| head.get(at..at + 4).map(|b| [b[0], b[1], b[2], b[3]]);
    let magic = word(0)?;
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let bom = u32::from_le_bytes(word(8)?);
        let len = word(4)?;
        let len = if bom == 0x1a2b3c4d {
            u32::from_le_bytes(len)
        } else {
            u32::from_be_bytes(len)
        };
        // A nonsense length: read the generous chunk and let the parser judge.
        Some((len as usize).max(28))
    } else {
        Some(24)
    }
}

fn check_magic(head: &[u8], name: &str) -> Result<(), SourceError> {
    if head.is_empty() {
        return Err(SourceError(format!(
            "{name} is empty (0 bytes) — it holds no capture; capture again or check the path"
        )));
    }
    if head.len() < 4 {
        return Err(SourceError(format!(
            "{name} is only {} bytes long — too short to be a capture; copy it again",
            head.len()
        )));
    }
    let magic = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let known_legacy = [0xa1b2c3d4u32, 0xa1b23c4d];
    let is_legacy = known_legacy.contains(&magic) || known_legacy.contains(&magic.swap_bytes());
    if is_legacy && head.len() >= 6 {
        let le = known_legacy.contains(&magic);
        let major = if le {
            u16::from_le_bytes([head[4], head[5]])
        } else {
            u16::from_be_bytes([head[4], head[5]])
        };
        if major != 2 {
            return Err(SourceError(format!(
                "{name}: pcap file format version {major} is not one that exists (only 2.4 is) — the file is corrupt or not a pcap"
            )));
        }
        return Ok(());
    }
    if magic == 0x0a0d0d0a {
        return Ok(());
    }
    let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let guess = if head.starts_with(b"\x1f\x8b") {
        " (it is gzip-compressed: gunzip it first)"
    } else if head
        .iter()
        .take(16)
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        " (it looks like text, perhaps tcpdump's printed output rather than a capture file)"
    } else {
        ""
    };
    Err(SourceError(format!(
        "{name} is not a pcap or pcapng capture: it starts with {}{guess} — save the capture from Wireshark or tcpdump -w",
        shown.join(" ")
    )))
}

fn linktype_of(raw: i32) -> Link {
    // The upper bits may carry FCS information; the link type is the low 16 bits.
    Link::from_linktype((raw as u32) & 0xffff)
}

fn convert(
    state: &mut State,
    comments: &mut Vec<String>,
    warnings: &mut Vec<String>,
    block: PcapBlockOwned<'_>,
    name: &str,
) -> Result<Option<Frame>, SourceError> {
    match block {
        PcapBlockOwned::LegacyHeader(h) => {
            let nanos = h.is_nanosecond_precision();
            state.legacy = Some((linktype_of(h.network.0), nanos));
            state.format = Some(Format::Pcap {
                nanos,
                big_endian: h.is_bigendian(),
            });
            Ok(None)
        }
        PcapBlockOwned::Legacy(b) => {
            let (link, nanos) = state.legacy.unwrap_or((Link::Ethernet, false));
            let frac = if nanos {
                b.ts_usec
            } else {
                b.ts_usec.saturating_mul(1000)
            };
            state.number += 1;
            Ok(Some(Frame {
                number: state.number,
                time: Timestamp::new(b.ts_sec as i64, frac.min(999_999_999)),
                link,
                data: b.data.to_vec(),
                wire_len: b.origlen,
            }))
        }
        PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
            // A new section starts its own list of interfaces.
            state.interfaces.clear();
            state.format = Some(Format::Pcapng);
            state.big_endian = shb.big_endian();
            for opt in &shb.options {
                if opt.code == pcap_parser::pcapng::OptionCode::Comment {
                    comments.push(
                        String::from_utf8_lossy(&opt.value)
                            .trim_end_matches('\0')
                            .to_string(),
                    );
                }
            }
            Ok(None)
        }
        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
            let resolution = idb.ts_resolution().unwrap_or(1_000_000);
            state.interfaces.push(Interface {
                link: linktype_of(idb.linktype.0),
                resolution: resolution.max(1),
                offset: idb.ts_offset(),
            });
            Ok(None)
        }
        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
            let Some(iface) = state.interfaces.get(epb.if_id as usize).copied() else {
                return Err(SourceError(format!(
                    "{name}: packet {} names interface {} but the file describes only {} — the file is corrupt",
                    state.number + 1,
                    epb.if_id,
                    state.interfaces.len()
                )));
            };
            let ts = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
            let caplen = (epb.caplen as usize).min(epb.data.len());
            state.number += 1;
            Ok(Some(Frame {
                number: state.number,
                time: iface_time(&iface, ts),
                link: iface.link,
                data: epb.data[..caplen].to_vec(),
                wire_len: epb.origlen,
            }))
        }
        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
            let link = state
                .interfaces
                .first()
                .map(|i| i.link)
                .unwrap_or(Link::Ethernet);
            state.number += 1;
            Ok(Some(Frame {
                number: state.number,
                time: Timestamp::default(),
                link,
                data: spb.data.to_vec(),
                wire_len: spb.origlen,
            }))
        }
        PcapBlockOwned::NG(Block::DecryptionSecrets(dsb)) => {
            if dsb.secrets_type == pcap_parser::pcapng::SecretsType::TlsKeyLog {
                let len = (dsb.secrets_len as usize).min(dsb.data.len());
                if let Some(Ok(mut k)) = state.keylog.as_ref().map(|k| k.lock()) {
                    k.add_text(&String::from_utf8_lossy(&dsb.data[..len]));
                }
            }
            Ok(None)
        }
        PcapBlockOwned::NG(Block::Unknown(u))
            if u.block_type == 2 || u.block_type == 2u32.swap_bytes() =>
        {
            // The obsolete Packet Block (type 2) that old tools wrote, which pcap-parser
            // does not know: interface (u16), drops (u16), timestamp, lengths, data.
            obsolete_packet_block(state, u.data, name)
        }
        PcapBlockOwned::NG(Block::Unknown(u)) => {
            if warnings.len() < 8 {
                warnings.push(format!(
                    "{name}: skipped a pcapng block of unknown type 0x{:08x}",
                    u.block_type
                ));
            }
            Ok(None)
        }
        PcapBlockOwned::NG(_) => Ok(None),
    }
}

/// Reads the body of an obsolete pcapng Packet Block (type 2).
fn obsolete_packet_block(
    state: &mut State,
    body: &[u8],
    name: &str,
) -> Result<Option<Frame>, SourceError> {
    let be = state.big_endian;
    let u16_at = |i: usize| {
        body.get(i..i + 2).map(|b| {
            if be {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |i: usize| {
        body.get(i..i + 4).map(|b| {
            let a = [b[0], b[1], b[2], b[3]];
            if be {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        })
    };
    let (Some(if_id), Some(hi), Some(lo), Some(caplen), Some(origlen)) =
        (u16_at(0), u32_at(4), u32_at(8), u32_at(12), u32_at(16))
    else {
        return Err(SourceError(format!(
            "{name}: a packet block after packet {} is too short — the file is corrupt",
            state.number
        )));
    };
    let Some(iface) = state.interfaces.get(if_id as usize).copied() else {
        return Err(SourceError(format!("{name}: packet {} names interface {if_id}, which the file does not describe — the file is corrupt", state.number + 1)));
    };
    let data = body.get(20..20 + caplen as usize).ok_or_else(|| {
        SourceError(format!("{name}: packet {} claims {caplen} bytes but its block is shorter — the file is corrupt", state.number + 1))
    })?;
    let ts = ((hi as u64) << 32) | lo as u64;
    state.number += 1;
    Ok(Some(Frame {
        number: state.number,
        time: iface_time(&iface, ts),
        link: iface.link,
        data: data.to_vec(),
        wire_len: origlen,
    }))
}

fn iface_time(iface: &Interface, ts: u64) -> Timestamp {
    let secs = (ts / iface.resolution) as i64 + iface.offset;
    let frac = ts % iface.resolution;
    Timestamp::new(
        secs,
        (frac as u128 * 1_000_000_000u128 / iface.resolution as u128) as u32,
    )
}
