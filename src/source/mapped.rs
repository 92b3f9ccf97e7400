//! A capture file read through a memory map (memmap2) instead of `read(2)` into a buffer:
//! the same records, the same messages, without copying the file through a buffer first.
//!
//! `pcap.rs` keeps all the judgement (corrupt lengths, lying blocks, cuts, sections and
//! interfaces, secrets): it drives a [`PcapReaderIterator`], and this is one, fed from a
//! slice of the mapped file instead of pcap-parser's buffer. So that every message is the
//! same as when the file comes through a pipe, it keeps pcap-parser's buffer arithmetic
//! (circular's `Buffer`: capacity, position, end, shift, grow) and the reads the
//! streaming reader would make (`Staged`'s first two, then whole refills), on file
//! offsets, without the bytes: `data()` is always the very bytes the streaming reader
//! would hold, a view of the map.
//!
//! Memory: only a window of the file is mapped ([`WINDOW`] bytes, remapped as reading goes
//! on), and the pages behind the read point are given back at every refill
//! (`MADV_DONTNEED`; the page cache keeps them), so the mapped pages resident stay about
//! one buffer's worth whatever the file's size.
//!
//! What is and is not safe, when another program changes the file while it is read:
//! - it grows (a capture still being written): safe; the size is looked at (`fstat`)
//!   before every refill, so reading goes on to its new end, as with `read(2)`;
//! - it is rewritten in place: safe; the bytes read are whatever is there, as with
//!   `read(2)` (a record may mix old and new bytes, and then reads as corrupt);
//! - it shrinks: seen at the next look at its size (every refill, that is every
//!   buffer's worth, 1 MiB at first), and from there it reads as a file cut at its new
//!   end (the warning of a cut file); the bytes buffered past that end are dropped
//!   unread. NOT safe in one case: if it shrinks between two looks to less than what is
//!   buffered already (at most one buffer: 1 MiB, up to 16 MiB once grown for a large
//!   record), reading those bytes touches pages the kernel took away, which sends
//!   SIGBUS and ends the program. A map cannot rule that out short of a SIGBUS handler
//!   (`read(2)` cannot crash that way). Pipes, standard input and any file that cannot
//!   be mapped are read as a stream.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use memmap2::{Advice, Mmap, MmapOptions, UncheckedAdvice};
use pcap_parser::nom::{self, Needed, Offset};
use pcap_parser::pcap::{
    parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, parse_pcap_header,
    LegacyPcapBlock, PcapHeader,
};
use pcap_parser::pcapng::{parse_block_be, parse_block_le, parse_sectionheaderblock, Block};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};

/// How much of the file is mapped at once. It must hold the largest buffer the reader
/// grows to (`MAX_BUFFER`, 16 MiB and a little) wherever in the window it starts; the
/// larger, the fewer remaps.
pub const WINDOW: usize = 32 << 20;

type LegacyParse = fn(&[u8]) -> nom::IResult<&[u8], LegacyPcapBlock<'_>, PcapError<&[u8]>>;

enum Kind {
    Legacy {
        header: PcapHeader,
        parse: LegacyParse,
    },
    Ng {
        big_endian: bool,
    },
}

/// circular's `Buffer` without its bytes: `base` is the file offset of the buffer's first
/// byte, so the buffered bytes are the file's `base + position .. base + end`.
#[derive(Debug, Clone, Copy)]
struct Buffer {
    base: u64,
    capacity: usize,
    position: usize,
    end: usize,
}

impl Buffer {
    fn available_data(&self) -> usize {
        self.end - self.position
    }
    fn space(&self) -> usize {
        self.capacity - self.end
    }
    fn consume(&mut self, count: usize) {
        self.position += count.min(self.available_data());
        if self.position > self.capacity / 2 {
            self.shift();
        }
    }
    fn consume_noshift(&mut self, count: usize) {
        self.position += count.min(self.available_data());
    }
    fn fill(&mut self, count: usize) {
        let cnt = count.min(self.space());
        self.end += cnt;
        if self.space() < self.available_data() + cnt {
            self.shift();
        }
    }
    fn shift(&mut self) {
        if self.position > 0 {
            self.base += self.position as u64;
            self.end -= self.position;
            self.position = 0;
        }
    }
    fn grow(&mut self, new_size: usize) -> bool {
        if self.capacity >= new_size {
            return false;
        }
        self.capacity = new_size;
        true
    }
    /// File offsets of the bytes buffered.
    fn range(&self) -> (u64, u64) {
        (
            self.base + self.position as u64,
            self.base + self.end as u64,
        )
    }
}

/// A regular capture file, mapped a window at a time.
pub struct Mapped {
    file: File,
    /// The file's size at the last look.
    len: u64,
    map: Option<Mmap>,
    /// The file offset of the map's first byte.
    map_at: u64,
    /// The pages of the map before this offset were given back.
    given_back: usize,
    buffer: Buffer,
    /// `Staged`: the reads made so far, the file header's length and how much of the
    /// first bytes (`head`, read before the format was known) has been handed out.
    reads: u8,
    header: usize,
    head_len: usize,
    consumed: usize,
    exhausted: bool,
    kind: Kind,
    /// Bytes read so far, for the progress bar.
    progress: Option<Arc<AtomicU64>>,
}

/// Why a file could not be mapped (then it is read as a stream), or the capture's own
/// error (its file header), as pcap-parser's `create_reader` gives it.
pub enum MapError {
    Unmappable(File),
    Header(PcapError<&'static [u8]>),
}

impl Mapped {
    /// Maps `file`, whose first `head_len` bytes were read already (by `read_head`) and
    /// of which the first `header` are the file header, and reads its file header as
    /// pcap-parser's `create_reader` would, with a buffer of `capacity`.
    pub fn new(
        file: File,
        head_len: usize,
        header: usize,
        capacity: usize,
        progress: Option<Arc<AtomicU64>>,
    ) -> Result<Mapped, MapError> {
        let len = file.metadata().map_or(0, |m| m.len());
        if len < head_len as u64 || head_len == 0 {
            // A file whose size says less than it gave (procfs and the like).
            return Err(MapError::Unmappable(file));
        }
        let mut m = Mapped {
            file,
            len,
            map: None,
            map_at: 0,
            given_back: 0,
            buffer: Buffer {
                base: 0,
                capacity,
                position: 0,
                end: 0,
            },
            reads: 0,
            header,
            head_len,
            consumed: 0,
            exhausted: false,
            kind: Kind::Ng { big_endian: false },
            progress,
        };
        // create_reader: one read, then the format is told from it.
        let sz = m.read(m.buffer.space());
        if sz == 0 {
            return Err(MapError::Header(PcapError::Eof));
        }
        m.buffer.fill(sz);
        if m.cover().is_err() {
            return Err(MapError::Unmappable(m.file));
        }
        let ng = parse_sectionheaderblock(m.data()).is_ok();
        if !ng {
            match parse_pcap_header(m.data()) {
                Ok(_) => {}
                Err(nom::Err::Incomplete(n)) => {
                    return Err(MapError::Header(PcapError::Incomplete(needed(n))))
                }
                Err(_) => return Err(MapError::Header(PcapError::HeaderNotRecognized)),
            }
        }
        // from_buffer: one more read, then the header is parsed again.
        let sz = m.read(m.buffer.space());
        m.buffer.fill(sz);
        // (within the first bytes, mapped already)
        let _ = m.cover();
        let owned = |e: nom::Err<PcapError<&[u8]>>| match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e.to_owned_vec(),
            nom::Err::Incomplete(n) => PcapError::Incomplete(needed(n)),
        };
        m.kind = if ng {
            parse_sectionheaderblock(m.data()).map_err(|e| MapError::Header(owned(e)))?;
            Kind::Ng { big_endian: false }
        } else {
            let (_, header) =
                parse_pcap_header(m.data()).map_err(|e| MapError::Header(owned(e)))?;
            let parse: LegacyParse = if header.is_modified_format() {
                parse_pcap_frame_modified
            } else if header.is_bigendian() {
                parse_pcap_frame_be
            } else {
                parse_pcap_frame
            };
            Kind::Legacy { header, parse }
        };
        Ok(m)
    }

    /// What a `read(2)` of `want` bytes would give at the buffer's end: `Staged`'s first
    /// read gives the file header only, the next ones the rest of the first bytes, then
    /// the file as far as its size (looked at again, for a file that grows or shrinks).
    fn read(&mut self, want: usize) -> usize {
        self.reads = self.reads.saturating_add(1);
        let at = self.buffer.range().1;
        let head_left = (self.head_len as u64).saturating_sub(at) as usize;
        let n = match self.reads {
            1 => want.min(self.header).min(head_left),
            _ if self.reads == 2 || head_left > 0 => want.min(head_left),
            _ => {
                self.look();
                want.min(self.len.saturating_sub(at) as usize)
            }
        };
        if let Some(p) = &self.progress {
            p.store(at + n as u64, Ordering::Relaxed);
        }
        n
    }

    /// Looks at the file's size again; what was buffered beyond a new, shorter end is
    /// dropped (never touched: those pages are gone), so the file reads as cut there.
    fn look(&mut self) {
        if let Ok(meta) = self.file.metadata() {
            self.len = meta.len();
        }
        let (start, end) = self.buffer.range();
        if end > self.len {
            let keep = self.len.saturating_sub(start) as usize;
            self.buffer.end = self.buffer.position + keep;
        }
    }

    /// Makes the map cover the buffered bytes (a new window from the read point when they
    /// run past the current one), and gives back the pages behind the read point.
    fn cover(&mut self) -> std::io::Result<()> {
        let (start, end) = self.buffer.range();
        let covered = self
            .map
            .as_ref()
            .is_some_and(|m| start >= self.map_at && end <= self.map_at + m.len() as u64);
        if !covered {
            // The old window goes first, so that two are never resident at once.
            self.map = None;
            let page = 4096u64;
            let at = start / page * page;
            let len = (self.len.saturating_sub(at) as usize).min(WINDOW.max((end - at) as usize));
            if len == 0 {
                return Ok(());
            }
            // SAFETY: the map is read-only and private to this reader; what another
            // program may do to the file meanwhile is described at the top of this file
            // (a shrink is looked for before each refill, and the bytes past it dropped).
            let map = unsafe { MmapOptions::new().offset(at).len(len).map(&self.file)? };
            let _ = map.advise(Advice::Sequential);
            self.map = Some(map);
            self.map_at = at;
            self.given_back = 0;
        } else if let Some(map) = &self.map {
            // Pages wholly behind the read point are not needed again.
            let behind = ((start - self.map_at) / 4096 * 4096) as usize;
            if behind >= self.given_back + (1 << 20) {
                // SAFETY: a read-only shared map: MADV_DONTNEED only drops our page table
                // entries; the file's pages stay in the page cache and read back the same.
                unsafe {
                    let _ = map.unchecked_advise_range(
                        UncheckedAdvice::DontNeed,
                        self.given_back,
                        behind - self.given_back,
                    );
                }
                self.given_back = behind;
            }
        }
        Ok(())
    }

    fn data(&self) -> &[u8] {
        view(&self.map, self.map_at, self.buffer)
    }
}

/// The buffered bytes, in the map.
fn view(map: &Option<Mmap>, map_at: u64, buffer: Buffer) -> &[u8] {
    let (start, end) = buffer.range();
    match map {
        Some(m) if start < end => &m[(start - map_at) as usize..(end - map_at) as usize],
        _ => &[],
    }
}

fn needed(n: Needed) -> usize {
    match n {
        Needed::Size(n) => n.into(),
        Needed::Unknown => 0,
    }
}

/// pcap-parser's readers' answer to a record that does not fit what is buffered.
fn incomplete<'a>(n: Needed, exhausted: bool, buffer: &Buffer) -> PcapError<&'a [u8]> {
    if exhausted {
        return PcapError::UnexpectedEof;
    }
    match n {
        Needed::Size(n) if buffer.available_data() + usize::from(n) >= buffer.capacity => {
            PcapError::BufferTooSmall
        }
        n => PcapError::Incomplete(needed(n)),
    }
}

impl PcapReaderIterator for Mapped {
    fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        if let Kind::Legacy { header, .. } = &self.kind {
            if self.consumed == 0 {
                return Ok((header.size(), PcapBlockOwned::from(header.clone())));
            }
        }
        if self.buffer.available_data() == 0 && self.buffer.position == 0 && self.exhausted {
            return Err(PcapError::Eof);
        }
        let data = view(&self.map, self.map_at, self.buffer);
        match &mut self.kind {
            Kind::Legacy { parse, .. } => match parse(data) {
                Ok((rem, b)) => Ok((data.offset(rem), PcapBlockOwned::from(b))),
                Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
                Err(nom::Err::Incomplete(n)) => Err(incomplete(n, self.exhausted, &self.buffer)),
            },
            Kind::Ng { big_endian } => {
                let parse = if *big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                match parse(data) {
                    Ok((rem, b)) => {
                        if let Block::SectionHeader(ref shb) = b {
                            *big_endian = shb.big_endian();
                        }
                        Ok((data.offset(rem), PcapBlockOwned::from(b)))
                    }
                    Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
                    Err(nom::Err::Incomplete(n)) => {
                        Err(incomplete(n, self.exhausted, &self.buffer))
                    }
                }
            }
        }
    }
    fn consume(&mut self, offset: usize) {
        self.consumed += offset;
        self.buffer.consume(offset);
    }
    fn consume_noshift(&mut self, offset: usize) {
        self.consumed += offset;
        self.buffer.consume_noshift(offset);
    }
    fn consumed(&self) -> usize {
        self.consumed
    }
    fn refill(&mut self) -> Result<(), PcapError<&[u8]>> {
        self.buffer.shift();
        let space = self.buffer.space();
        if space == 0 {
            return Ok(());
        }
        let sz = self.read(space);
        self.exhausted = sz == 0;
        self.buffer.fill(sz);
        self.cover().map_err(|_| PcapError::ReadError)
    }
    fn position(&self) -> usize {
        self.buffer.position
    }
    fn grow(&mut self, new_size: usize) -> bool {
        self.buffer.grow(new_size)
    }
    fn data(&self) -> &[u8] {
        Mapped::data(self)
    }
    fn reader_exhausted(&self) -> bool {
        self.exhausted
    }
}
