//! Writing captures: classic pcap (microsecond timestamps, little-endian) or pcapng
//! (a Section Header Block, one Interface Description Block with `if_tsresol`, then an
//! Enhanced Packet Block per frame, and Decryption Secrets Blocks with TLS key log lines
//! before the packets they open), streamed to any `Write`.
//!
//! Hand-written (about a hundred lines): pcap-parser 0.17 only serializes behind a
//! feature that pulls in cookie-factory, and pcap-file 2.0 gets pcapng timestamps wrong
//! (DESIGN.md); both formats are simple and fixed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::frame::{Frame, Link};

/// The two capture file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcapFormat {
    /// libpcap's classic format, microsecond timestamps, little-endian.
    Pcap,
    /// pcapng, microsecond timestamps (`if_tsresol` = 6).
    Pcapng,
}

impl PcapFormat {
    /// `.pcapng` (any case) → pcapng; anything else → pcap.
    pub fn from_path(path: &Path) -> PcapFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("pcapng") => PcapFormat::Pcapng,
            _ => PcapFormat::Pcap,
        }
    }
}

/// The Decryption Secrets Block's secrets type for a TLS key log: "TLSK".
const DSB_TLS_KEY_LOG: u32 = 0x544C_534B;

/// Largest frame written whole; longer ones are cut (their wire length is kept).
pub const SNAPLEN: u32 = 262_144;

/// Streams frames into a capture file.
pub struct PcapWriter<W: Write> {
    out: W,
    format: PcapFormat,
    link: Link,
    frames: u64,
}

impl PcapWriter<BufWriter<File>> {
    /// Creates (or truncates) `path`, the format chosen by its extension.
    pub fn create(path: &Path, link: Link) -> io::Result<Self> {
        let file = crate::outfile::create(path)?;
        PcapWriter::new(BufWriter::new(file), link, PcapFormat::from_path(path))
    }
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header to `out`; every frame written must be of `link`.
    pub fn new(mut out: W, link: Link, format: PcapFormat) -> io::Result<Self> {
        match format {
            PcapFormat::Pcap => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
                h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
                h.extend_from_slice(&SNAPLEN.to_le_bytes());
                h.extend_from_slice(&link.linktype().to_le_bytes());
                out.write_all(&h)?;
            }
            PcapFormat::Pcapng => {
                // Section Header Block with shb_userappl.
                let mut opts = Vec::new();
                push_option(&mut opts, 4, b"wirewalk");
                push_option(&mut opts, 0, b"");
                let mut body = Vec::new();
                body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
                body.extend_from_slice(&opts);
                write_block(&mut out, 0x0A0D_0D0A, &body)?;
                // Interface Description Block: link type, snap length, if_tsresol = 6.
                let mut body = Vec::new();
                body.extend_from_slice(&(link.linktype() as u16).to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&SNAPLEN.to_le_bytes());
                push_option(&mut body, 9, &[6]);
                push_option(&mut body, 0, b"");
                write_block(&mut out, 0x0000_0001, &body)?;
            }
        }
        Ok(PcapWriter {
            out,
            format,
            link,
            frames: 0,
        })
    }

    pub fn format(&self) -> PcapFormat {
        self.format
    }

    pub fn link(&self) -> Link {
        self.link
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Appends one frame.
    pub fn write(&mut self, frame: &Frame) -> io::Result<()> {
        let data = &frame.data[..frame.data.len().min(SNAPLEN as usize)];
        let orig = frame.wire_len.max(data.len() as u32);
        let micros = (frame.time.secs.max(0) as u64) * 1_000_000 + (frame.time.nanos / 1000) as u64;
        match self.format {
            PcapFormat::Pcap => {
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&((micros / 1_000_000) as u32).to_le_bytes());
                h[4..8].copy_from_slice(&((micros % 1_000_000) as u32).to_le_bytes());
                h[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
                h[12..16].copy_from_slice(&orig.to_le_bytes());
                self.out.write_all(&h)?;
                self.out.write_all(data)?;
            }
            PcapFormat::Pcapng => {
                let mut body = Vec::with_capacity(20 + data.len() + 3);
                body.extend_from_slice(&0u32.to_le_bytes()); // interface 0
                body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
                body.extend_from_slice(&(micros as u32).to_le_bytes());
                body.extend_from_slice(&(data.len() as u32).to_le_bytes());
                body.extend_from_slice(&orig.to_le_bytes());
                body.extend_from_slice(data);
                body.resize(body.len().div_ceil(4) * 4, 0);
                write_block(&mut self.out, 0x0000_0006, &body)?;
            }
        }
        self.frames += 1;
        Ok(())
    }

    /// pcapng: a Decryption Secrets Block of type TLS key log (`TLSK`, 0x544c534b) holding
    /// `lines` (NSS key log lines), as `editcap --inject-secrets tls,FILE` writes it.
    /// Readers (Wireshark, tshark, wirewalk) take its secrets for the packets after it, so
    /// it goes before the first record they protect. Classic pcap has no such block:
    /// `false`, nothing written.
    pub fn write_tls_secrets(&mut self, lines: &[String]) -> io::Result<bool> {
        if self.format != PcapFormat::Pcapng || lines.is_empty() {
            return Ok(false);
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let mut body = Vec::with_capacity(8 + text.len() + 3);
        body.extend_from_slice(&DSB_TLS_KEY_LOG.to_le_bytes());
        body.extend_from_slice(&(text.len() as u32).to_le_bytes());
        body.extend_from_slice(text.as_bytes());
        body.resize(body.len().div_ceil(4) * 4, 0);
        write_block(&mut self.out, 0x0000_000A, &body)?;
        Ok(true)
    }

    /// Pushes what was written so far to the output (a pipe's reader sees each frame).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn push_option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    buf.resize(buf.len().div_ceil(4) * 4, 0);
}

fn write_block<W: Write>(out: &mut W, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = (12 + body.len()) as u32;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Timestamp;
    use pcap_parser::{create_reader, PcapBlockOwned, PcapError};

    fn frames() -> Vec<Frame> {
        (0..3u8)
            .map(|i| Frame {
                number: i as u64 + 1,
                time: Timestamp::new(1_700_000_000 + i as i64, 123_456_000 + i as u32 * 1000),
                link: Link::Ethernet,
                data: vec![i; 60 + i as usize],
                wire_len: 60 + i as u32,
            })
            .collect()
    }

    /// Reads a capture back with pcap-parser: (seconds, microseconds, data) per frame.
    fn read_back(bytes: &[u8]) -> (u32, Vec<(u64, u64, Vec<u8>)>) {
        let mut reader = create_reader(65536, bytes).expect("a capture pcap-parser recognises");
        let mut linktype = 0;
        let mut out = Vec::new();
        let mut tsres = 6u8;
        loop {
            match reader.next() {
                Ok((offset, block)) => {
                    match block {
                        PcapBlockOwned::LegacyHeader(h) => linktype = h.network.0 as u32,
                        PcapBlockOwned::Legacy(b) => {
                            out.push((b.ts_sec as u64, b.ts_usec as u64, b.data.to_vec()))
                        }
                        PcapBlockOwned::NG(pcap_parser::Block::InterfaceDescription(idb)) => {
                            linktype = idb.linktype.0 as u32;
                            tsres = idb.if_tsresol;
                        }
                        PcapBlockOwned::NG(pcap_parser::Block::EnhancedPacket(epb)) => {
                            assert_eq!(tsres, 6);
                            let ts = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                            out.push((
                                ts / 1_000_000,
                                ts % 1_000_000,
                                epb.data[..epb.caplen as usize].to_vec(),
                            ));
                        }
                        _ => {}
                    }
                    reader.consume(offset);
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => reader.refill().unwrap(),
                Err(e) => panic!("pcap-parser: {e:?}"),
            }
        }
        (linktype, out)
    }

    #[test]
    fn both_formats_read_back() {
        for format in [PcapFormat::Pcap, PcapFormat::Pcapng] {
            let mut w = PcapWriter::new(Vec::new(), Link::Ethernet, format).unwrap();
            for f in frames() {
                w.write(&f).unwrap();
            }
            assert_eq!(w.frames(), 3);
            let bytes = w.finish().unwrap();
            let (linktype, got) = read_back(&bytes);
            assert_eq!(linktype, 1, "{format:?}");
            assert_eq!(got.len(), 3);
            for (f, (s, us, data)) in frames().iter().zip(got) {
                assert_eq!(s as i64, f.time.secs);
                assert_eq!(us as u32, f.time.nanos / 1000);
                assert_eq!(data, f.data, "{format:?}");
            }
        }
    }

    #[test]
    fn tls_secrets_go_in_a_decryption_secrets_block_before_the_packets() {
        let lines = vec![format!(
            "CLIENT_RANDOM {} {}",
            "ab".repeat(32),
            "cd".repeat(48)
        )];
        let mut w = PcapWriter::new(Vec::new(), Link::Ethernet, PcapFormat::Pcapng).unwrap();
        assert!(w.write_tls_secrets(&lines).unwrap());
        w.write(&frames()[0]).unwrap();
        let bytes = w.finish().unwrap();
        let mut reader = create_reader(65536, &bytes[..]).unwrap();
        let mut kinds = Vec::new();
        loop {
            match reader.next() {
                Ok((offset, block)) => {
                    match block {
                        PcapBlockOwned::NG(pcap_parser::Block::DecryptionSecrets(dsb)) => {
                            assert_eq!(dsb.secrets_type.0, 0x544c534b);
                            let text = &dsb.data[..dsb.secrets_len as usize];
                            assert_eq!(text, format!("{}\n", lines[0]).as_bytes());
                            kinds.push("dsb");
                        }
                        PcapBlockOwned::NG(pcap_parser::Block::EnhancedPacket(_)) => {
                            kinds.push("epb")
                        }
                        _ => {}
                    }
                    reader.consume(offset);
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => reader.refill().unwrap(),
                Err(e) => panic!("pcap-parser: {e:?}"),
            }
        }
        assert_eq!(kinds, ["dsb", "epb"]);
        // Classic pcap has no place for them.
        let mut w = PcapWriter::new(Vec::new(), Link::Ethernet, PcapFormat::Pcap).unwrap();
        assert!(!w.write_tls_secrets(&lines).unwrap());
        assert_eq!(w.finish().unwrap().len(), 24);
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            PcapFormat::from_path(Path::new("a.pcapng")),
            PcapFormat::Pcapng
        );
        assert_eq!(
            PcapFormat::from_path(Path::new("a.PCAPNG")),
            PcapFormat::Pcapng
        );
        assert_eq!(PcapFormat::from_path(Path::new("a.pcap")), PcapFormat::Pcap);
        assert_eq!(PcapFormat::from_path(Path::new("a.cap")), PcapFormat::Pcap);
    }
}
