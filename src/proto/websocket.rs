//! The WebSocket opening handshake's arithmetic (RFC 6455 section 1.3): the server
//! proves it understood the request by hashing the client's key with a fixed GUID.
//! Used by the analysis to check a server's answer and by the simulator to give one.
//! And permessage-deflate (RFC 7692) for a server that speaks it: the classroom.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The fixed GUID that RFC 6455 section 1.3 appends to the client's key.
pub const HANDSHAKE_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub fn sec_websocket_accept(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(HANDSHAKE_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// The four bytes that end every compressed message and are left off the wire: the
/// empty stored block of a sync flush (RFC 7692 section 7.2.1).
pub const DEFLATE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// permessage-deflate's compressor for one direction (RFC 7692 section 7.2.1): raw
/// DEFLATE, each message ended with a sync flush whose tail is then removed. With
/// context takeover the window carries over, so a message repeated compresses to a few
/// bytes that point back at the first.
pub struct Deflater {
    c: flate2::Compress,
    no_context_takeover: bool,
}

impl Deflater {
    pub fn new(no_context_takeover: bool) -> Deflater {
        Deflater {
            c: flate2::Compress::new(flate2::Compression::default(), false),
            no_context_takeover,
        }
    }

    /// One message's payload, compressed; None if the compressor failed (the message
    /// then goes uncompressed, which RFC 7692 allows message by message).
    pub fn deflate(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        if self.no_context_takeover {
            self.c.reset();
        }
        let start = self.c.total_in();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            let used = (self.c.total_in() - start) as usize;
            self.c
                .compress_vec(&data[used..], &mut out, flate2::FlushCompress::Sync)
                .ok()?;
            let used = (self.c.total_in() - start) as usize;
            // The flush is complete once all input is taken and room was left over.
            if used == data.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(64));
        }
        if out.ends_with(&DEFLATE_TAIL) {
            out.truncate(out.len() - DEFLATE_TAIL.len());
        }
        Some(out)
    }
}

/// What inflating one message gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Inflated {
    Ok(Vec<u8>),
    /// It inflates past the limit (a deflate bomb, or just too big): its first bytes.
    Limit(Vec<u8>),
    /// Not DEFLATE data.
    Error,
}

/// permessage-deflate's decompressor for one direction (RFC 7692 section 7.2.2): the
/// tail is put back and the message inflated, never past a limit. Used by the analysis
/// to read a capture and by the classroom to read its students.
pub struct Inflater {
    d: flate2::Decompress,
    no_context_takeover: bool,
    /// With context takeover, a message that could not be inflated breaks every later one.
    pub broken: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("no_context_takeover", &self.no_context_takeover)
            .field("broken", &self.broken)
            .finish()
    }
}

impl Inflater {
    pub fn new(no_context_takeover: bool) -> Inflater {
        Inflater {
            d: flate2::Decompress::new(false),
            no_context_takeover,
            broken: false,
        }
    }

    /// A message of this direction was lost (cut, or over a limit): with context
    /// takeover, the ones after it cannot be inflated either.
    pub fn lose_message(&mut self) {
        self.broken = !self.no_context_takeover;
    }

    /// Inflates one message's payload (all its frames joined), to at most `cap` bytes.
    pub fn inflate(&mut self, data: &[u8], cap: usize) -> Inflated {
        if self.no_context_takeover {
            self.d.reset(false);
        }
        let mut input = Vec::with_capacity(data.len() + DEFLATE_TAIL.len());
        input.extend_from_slice(data);
        input.extend_from_slice(&DEFLATE_TAIL);
        // Room for one byte past the cap, to see it crossed.
        let room = cap.saturating_add(1);
        let mut out: Vec<u8> = Vec::with_capacity((data.len() * 3 + 64).min(room));
        let mut pos = 0usize;
        loop {
            if out.len() > cap {
                self.lose_message();
                out.truncate(cap);
                return Inflated::Limit(out);
            }
            if out.len() == out.capacity() {
                out.reserve_exact(out.len().max(256).min(room - out.len()));
            }
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let status =
                match self
                    .d
                    .decompress_vec(&input[pos..], &mut out, flate2::FlushDecompress::Sync)
                {
                    Ok(s) => s,
                    Err(_) => {
                        self.lose_message();
                        self.d.reset(false);
                        return Inflated::Error;
                    }
                };
            let used = (self.d.total_in() - in0) as usize;
            let made = self.d.total_out() - out0;
            pos += used;
            if out.len() > cap {
                continue;
            }
            if status == flate2::Status::StreamEnd {
                // A final block: the sender starts afresh with the next message.
                self.d.reset(false);
                return Inflated::Ok(out);
            }
            if pos >= input.len() && out.len() < out.capacity() {
                return Inflated::Ok(out);
            }
            if used == 0 && made == 0 && out.len() < out.capacity() {
                // No progress with room to write: the data is cut or invalid.
                if pos >= input.len() {
                    return Inflated::Ok(out);
                }
                self.lose_message();
                self.d.reset(false);
                return Inflated::Error;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7692_hello_inflates_and_a_repeat_points_back() {
        // RFC 7692 section 7.2.3.1, then 7.2.3.2: "Hello" twice with context takeover.
        let mut i = Inflater::new(false);
        let first = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(i.inflate(&first, 100), Inflated::Ok(b"Hello".to_vec()));
        let again = [0xf2, 0x00, 0x11, 0x00, 0x00];
        assert_eq!(i.inflate(&again, 100), Inflated::Ok(b"Hello".to_vec()));
        // Without context takeover the second one has nothing to point back at.
        let mut fresh = Inflater::new(true);
        assert_eq!(fresh.inflate(&first, 100), Inflated::Ok(b"Hello".to_vec()));
        assert_ne!(fresh.inflate(&again, 100), Inflated::Ok(b"Hello".to_vec()));
        assert_eq!(i.inflate(&[0xff, 0xff, 0xff], 100), Inflated::Error);
    }

    #[test]
    fn deflated_messages_round_trip_and_the_limit_holds() {
        let mut d = Deflater::new(false);
        let mut i = Inflater::new(false);
        let text = "the same sentence, said twice, the same sentence".repeat(3);
        let first = d.deflate(text.as_bytes()).unwrap();
        let second = d.deflate(text.as_bytes()).unwrap();
        assert!(!first.ends_with(&DEFLATE_TAIL));
        assert!(
            second.len() * 2 < first.len(),
            "{second:?} against {first:?}"
        );
        assert_eq!(
            i.inflate(&first, 1000),
            Inflated::Ok(text.clone().into_bytes())
        );
        assert_eq!(
            i.inflate(&second, 1000),
            Inflated::Ok(text.clone().into_bytes())
        );
        // A bomb: a megabyte of zeros in about a kilobyte, against a 64 KiB cap.
        let bomb = Deflater::new(true).deflate(&vec![0u8; 1 << 20]).unwrap();
        assert!(bomb.len() < 4096);
        assert_eq!(
            Inflater::new(true).inflate(&bomb, 64 * 1024),
            Inflated::Limit(vec![0; 64 * 1024])
        );
        // An empty message round-trips too.
        let empty = Deflater::new(true).deflate(b"").unwrap();
        assert_eq!(
            Inflater::new(true).inflate(&empty, 10),
            Inflated::Ok(Vec::new())
        );
    }

    #[test]
    fn rfc6455_sample_key() {
        // RFC 6455 section 1.3.
        assert_eq!(
            sec_websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
