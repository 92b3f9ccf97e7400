//! The classroom's WebSocket connections, server side (RFC 6455), with permessage-deflate
//! (RFC 7692) so that Chromium's offer is taken and students see compressed frames.
//! tokio-tungstenite has no permessage-deflate and refuses RSV1, so messages are framed
//! here: tungstenite's `FrameHeader` reads and writes each header's bits, and
//! `proto::websocket`'s `Deflater`/`Inflater` (flate2) do the compression.
//!
//! Every limit fails the connection with the close code RFC 6455 section 7.4.1 names:
//! a message (or frame, or inflated message) over the limit 1009, text that is not
//! UTF-8 (or data that does not inflate) 1007, any other broken rule 1002 — a
//! fragmented or long control frame, an unmasked client frame, reserved bits, a
//! continuation out of place. A fragmented message is held only up to the limit.

use std::io::Cursor;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

use crate::proto::websocket::{Deflater, Inflated, Inflater};

/// A permessage-deflate agreed in the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deflate {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
}

impl Deflate {
    /// The first offer in a `Sec-WebSocket-Extensions` value this server can take, and
    /// the value to answer with (RFC 7692 section 7.1). Offers asking our compressor
    /// for a window under 15 bits are declined (flate2's backend always uses 15), as
    /// are offers with unknown or repeated parameters.
    pub fn accept(offers: &str) -> Option<(Deflate, String)> {
        'offers: for offer in offers.split(',') {
            let mut parts = offer.split(';').map(str::trim);
            if !parts
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("permessage-deflate"))
            {
                continue;
            }
            let mut d = Deflate::default();
            let mut server_bits = false;
            let mut seen: Vec<String> = Vec::new();
            for param in parts.filter(|p| !p.is_empty()) {
                let (name, value) = match param.split_once('=') {
                    Some((n, v)) => (
                        n.trim().to_ascii_lowercase(),
                        Some(v.trim().trim_matches('"')),
                    ),
                    None => (param.to_ascii_lowercase(), None),
                };
                if seen.contains(&name) {
                    continue 'offers;
                }
                match (name.as_str(), value) {
                    ("server_no_context_takeover", None) => d.server_no_context_takeover = true,
                    ("client_no_context_takeover", None) => d.client_no_context_takeover = true,
                    // The client may use a smaller window; our inflater takes any.
                    ("client_max_window_bits", None) => {}
                    ("client_max_window_bits", Some(v))
                        if matches!(v.parse::<u8>(), Ok(8..=15)) => {}
                    ("server_max_window_bits", Some("15")) => server_bits = true,
                    _ => continue 'offers,
                }
                seen.push(name);
            }
            let mut answer = "permessage-deflate".to_string();
            if d.server_no_context_takeover {
                answer.push_str("; server_no_context_takeover");
            }
            if d.client_no_context_takeover {
                answer.push_str("; client_no_context_takeover");
            }
            if server_bits {
                answer.push_str("; server_max_window_bits=15");
            }
            return Some((d, answer));
        }
        None
    }
}

/// A message (or control frame) from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum In {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong,
    /// The client's Close, with its code if it gave one.
    Close(Option<u16>),
}

/// Why the server fails a connection: the close code and its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fail {
    pub code: u16,
    pub reason: &'static str,
}

#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    Fail(Fail),
}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

fn fail(code: u16, reason: &'static str) -> ReadError {
    ReadError::Fail(Fail { code, reason })
}

struct Partial {
    text: bool,
    compressed: bool,
    data: Vec<u8>,
}

/// Reads a client's messages.
pub struct Reader<R> {
    rd: R,
    buf: Vec<u8>,
    max: usize,
    inflater: Option<Inflater>,
    msg: Option<Partial>,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// `already`: bytes read past the request head (the first frames, perhaps).
    pub fn new(rd: R, already: Vec<u8>, max_message: usize, deflate: Option<Deflate>) -> Self {
        Reader {
            rd,
            buf: already,
            max: max_message,
            inflater: deflate.map(|d| Inflater::new(d.client_no_context_takeover)),
            msg: None,
        }
    }

    /// More bytes from the socket; false at its end.
    async fn fill(&mut self) -> Result<bool, ReadError> {
        let mut chunk = [0u8; 8192];
        let n = self.rd.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// The next message; None when the client went away without a Close.
    pub async fn next(&mut self) -> Result<Option<In>, ReadError> {
        loop {
            let (hdr, len, hlen) = loop {
                let mut c = Cursor::new(&self.buf[..]);
                match FrameHeader::parse(&mut c) {
                    Ok(Some((h, len))) => break (h, len, c.position() as usize),
                    Ok(None) => {}
                    Err(_) => return Err(fail(1002, "an unknown opcode")),
                }
                if !self.fill().await? {
                    return Ok(None);
                }
            };
            if len > self.max as u64 {
                return Err(fail(1009, "message too big"));
            }
            let end = hlen + len as usize;
            while self.buf.len() < end {
                if !self.fill().await? {
                    return Ok(None);
                }
            }
            let mut payload = self.buf[hlen..end].to_vec();
            self.buf.drain(..end);
            if let Some(key) = hdr.mask {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b ^= key[i % 4];
                }
            }
            if let Some(m) = self.frame(&hdr, payload)? {
                return Ok(Some(m));
            }
        }
    }

    fn frame(&mut self, hdr: &FrameHeader, payload: Vec<u8>) -> Result<Option<In>, ReadError> {
        if hdr.rsv2 || hdr.rsv3 {
            return Err(fail(1002, "reserved bits set"));
        }
        if hdr.mask.is_none() {
            return Err(fail(1002, "a client's frames must be masked"));
        }
        match hdr.opcode {
            OpCode::Control(c) => {
                if !hdr.is_final {
                    return Err(fail(1002, "fragmented control frame"));
                }
                if hdr.rsv1 || payload.len() > 125 {
                    return Err(fail(1002, "control frame over 125 bytes or with RSV1"));
                }
                match c {
                    Control::Close => close(&payload).map(Some),
                    Control::Ping => Ok(Some(In::Ping(payload))),
                    Control::Pong => Ok(Some(In::Pong)),
                    Control::Reserved(_) => Err(fail(1002, "an unknown opcode")),
                }
            }
            OpCode::Data(Data::Continue) => {
                let Some(m) = self.msg.as_mut() else {
                    return Err(fail(
                        1002,
                        "a continuation frame with no message to continue",
                    ));
                };
                if hdr.rsv1 {
                    return Err(fail(1002, "RSV1 on a continuation frame"));
                }
                if m.data.len() + payload.len() > self.max {
                    return Err(fail(1009, "message too big"));
                }
                m.data.extend_from_slice(&payload);
                if hdr.is_final {
                    return self.finish().map(Some);
                }
                Ok(None)
            }
            OpCode::Data(d @ (Data::Text | Data::Binary)) => {
                if self.msg.is_some() {
                    return Err(fail(1002, "a new message inside a fragmented one"));
                }
                if hdr.rsv1 && self.inflater.is_none() {
                    return Err(fail(1002, "RSV1 without permessage-deflate"));
                }
                self.msg = Some(Partial {
                    text: d == Data::Text,
                    compressed: hdr.rsv1,
                    data: payload,
                });
                if hdr.is_final {
                    return self.finish().map(Some);
                }
                Ok(None)
            }
            OpCode::Data(Data::Reserved(_)) => Err(fail(1002, "an unknown opcode")),
        }
    }

    fn finish(&mut self) -> Result<In, ReadError> {
        let Some(m) = self.msg.take() else {
            return Err(fail(1002, "no message"));
        };
        let data = match (m.compressed, self.inflater.as_mut()) {
            (true, Some(i)) => match i.inflate(&m.data, self.max) {
                Inflated::Ok(d) => d,
                Inflated::Limit(_) => return Err(fail(1009, "message too big once inflated")),
                Inflated::Error => return Err(fail(1007, "compressed data that does not inflate")),
            },
            _ => m.data,
        };
        if !m.text {
            return Ok(In::Binary(data));
        }
        String::from_utf8(data)
            .map(In::Text)
            .map_err(|_| fail(1007, "text that is not UTF-8"))
    }
}

/// A Close frame's payload: nothing, or a code RFC 6455 allows and a UTF-8 reason.
fn close(payload: &[u8]) -> Result<In, ReadError> {
    match payload {
        [] => Ok(In::Close(None)),
        [_] => Err(fail(1002, "a close frame with one byte")),
        [a, b, reason @ ..] => {
            let code = u16::from_be_bytes([*a, *b]);
            if !matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                return Err(fail(1002, "a close code no one may send"));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err(fail(1007, "a close reason that is not UTF-8"));
            }
            Ok(In::Close(Some(code)))
        }
    }
}

/// Writes to a client: unmasked frames, text compressed when deflate was agreed.
/// Frames may be queued and sent together: under a burst, many messages then go in one
/// write (and one TCP segment), not one each.
pub struct Writer<W> {
    wr: W,
    deflater: Option<Deflater>,
    out: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    pub fn new(wr: W, deflate: Option<Deflate>) -> Self {
        Writer {
            wr,
            deflater: deflate.map(|d| Deflater::new(d.server_no_context_takeover)),
            out: Vec::new(),
        }
    }

    /// A text message, sent now (with anything queued before it).
    pub async fn text(&mut self, text: &str) -> std::io::Result<()> {
        self.queue_text(text);
        self.flush().await
    }

    /// A text message, framed and kept until `flush`.
    pub fn queue_text(&mut self, text: &str) {
        let op = OpCode::Data(Data::Text);
        match self
            .deflater
            .as_mut()
            .and_then(|d| d.deflate(text.as_bytes()))
        {
            Some(z) => self.frame(op, true, &z),
            None => self.frame(op, false, text.as_bytes()),
        }
    }

    /// Bytes framed and not yet sent.
    pub fn queued(&self) -> usize {
        self.out.len()
    }

    /// Sends what is queued.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let r = self.wr.write_all(&self.out).await;
        self.out.clear();
        r
    }

    pub async fn pong(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.frame(OpCode::Control(Control::Pong), false, payload);
        self.flush().await
    }

    /// A Close (with a code, or empty), then the end of this side of the connection.
    pub async fn close(&mut self, code: Option<u16>, reason: &str) -> std::io::Result<()> {
        let mut payload = Vec::new();
        if let Some(c) = code {
            payload.extend_from_slice(&c.to_be_bytes());
            // A control frame's payload is at most 125 bytes.
            let mut end = reason.len().min(123);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            payload.extend_from_slice(&reason.as_bytes()[..end]);
        }
        self.frame(OpCode::Control(Control::Close), false, &payload);
        self.flush().await?;
        self.wr.shutdown().await
    }

    fn frame(&mut self, opcode: OpCode, rsv1: bool, payload: &[u8]) {
        let hdr = FrameHeader {
            is_final: true,
            rsv1,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
        };
        // Writing a header into a Vec cannot fail.
        let _ = hdr.format(payload.len() as u64, &mut self.out);
        self.out.extend_from_slice(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    /// A client frame: FIN, the opcode and RSV1 as given, masked with a fixed key.
    fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut f = vec![first];
        assert!(payload.len() < 126);
        f.push(0x80 | payload.len() as u8);
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        f
    }

    fn read_all(bytes: Vec<u8>, deflate: Option<Deflate>, max: usize) -> Vec<Result<In, Fail>> {
        runtime().block_on(async {
            let mut r = Reader::new(&bytes[..], Vec::new(), max, deflate);
            let mut out = Vec::new();
            loop {
                match r.next().await {
                    Ok(Some(m)) => out.push(Ok(m)),
                    Ok(None) => break,
                    Err(ReadError::Fail(f)) => {
                        out.push(Err(f));
                        break;
                    }
                    Err(ReadError::Io(e)) => panic!("{e}"),
                }
            }
            out
        })
    }

    #[test]
    fn rfc6455_masked_hello_and_a_fragmented_one() {
        // RFC 6455 section 5.7: "Hello" masked with 37 fa 21 3d.
        let hello = vec![
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        assert_eq!(
            read_all(hello, None, 100),
            vec![Ok(In::Text("Hello".into()))]
        );
        // "Hel" then "lo", with a ping between the fragments.
        let mut f = masked(0x01, b"Hel");
        f.extend(masked(0x89, b"hi"));
        f.extend(masked(0x80, b"lo"));
        assert_eq!(
            read_all(f, None, 100),
            vec![Ok(In::Ping(b"hi".to_vec())), Ok(In::Text("Hello".into()))]
        );
    }

    #[test]
    fn rfc7692_compressed_hello_inflates_only_when_agreed() {
        // RFC 7692 section 7.2.3.1's "Hello", masked as a client sends it.
        let z = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let mut two = masked(0xc1, &z);
        two.extend(masked(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00]));
        assert_eq!(
            read_all(two, Some(Deflate::default()), 100),
            vec![Ok(In::Text("Hello".into())), Ok(In::Text("Hello".into()))]
        );
        assert_eq!(
            read_all(masked(0xc1, &z), None, 100)[0]
                .as_ref()
                .unwrap_err()
                .code,
            1002
        );
    }

    #[test]
    fn broken_clients_get_the_close_code_rfc_6455_names() {
        let code = |bytes: Vec<u8>, max: usize| match read_all(bytes, Some(Deflate::default()), max)
            .pop()
        {
            Some(Err(f)) => f.code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(masked(0x81, &[0xff, 0xfe]), 100), 1007, "not UTF-8");
        assert_eq!(code(masked(0x09, b""), 100), 1002, "a fragmented ping");
        assert_eq!(code(vec![0x81, 0x02, b'h', b'i'], 100), 1002, "unmasked");
        assert_eq!(code(masked(0xa1, b"hi"), 100), 1002, "RSV2");
        assert_eq!(
            code(masked(0x80, b"hi"), 100),
            1002,
            "a continuation of nothing"
        );
        assert_eq!(code(masked(0x83, b"hi"), 100), 1002, "opcode 3");
        assert_eq!(code(masked(0x88, &[0x03]), 100), 1002, "a one-byte close");
        assert_eq!(
            code(masked(0x88, &[0x03, 0xed]), 100),
            1002,
            "close code 1005 sent"
        );
        assert_eq!(code(masked(0x81, &[b'x'; 50]), 40), 1009, "over the limit");
        // Fragments held only up to the limit.
        let mut f = masked(0x01, &[b'x'; 30]);
        f.extend(masked(0x00, &[b'x'; 30]));
        assert_eq!(code(f, 40), 1009, "fragments over the limit");
        // A compressed bomb stops at the limit.
        let bomb = Deflater::new(true).deflate(&[b'a'; 4000]).unwrap();
        assert!(bomb.len() < 100);
        assert_eq!(
            code(masked(0xc1, &bomb), 1000),
            1009,
            "inflated over the limit"
        );
        assert_eq!(
            code(masked(0xc1, &[0xff, 0xff]), 1000),
            1007,
            "not deflate data"
        );
        assert_eq!(
            read_all(masked(0x88, &[0x03, 0xe8, b'o', b'k']), None, 100),
            vec![Ok(In::Close(Some(1000)))]
        );
    }

    #[test]
    fn offers_chromium_makes_are_taken_and_the_answer_says_what_was_agreed() {
        assert_eq!(
            Deflate::accept("permessage-deflate; client_max_window_bits"),
            Some((Deflate::default(), "permessage-deflate".to_string()))
        );
        let (d, a) = Deflate::accept(
            "permessage-deflate; server_max_window_bits=10, permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        )
        .unwrap();
        assert!(d.client_no_context_takeover && d.server_no_context_takeover);
        assert_eq!(
            a,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert_eq!(Deflate::accept("x-webkit-deflate-frame"), None);
        assert_eq!(Deflate::accept("permessage-deflate; foo"), None);
        assert_eq!(
            Deflate::accept(
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover"
            ),
            None
        );
    }

    #[test]
    fn server_text_goes_out_compressed_and_a_client_inflates_it() {
        let sent = runtime().block_on(async {
            let mut out = Vec::new();
            let mut w = Writer::new(&mut out, Some(Deflate::default()));
            w.queue_text("Hello");
            assert_eq!(w.queued(), 9, "c1 07 and seven bytes, not sent yet");
            w.queue_text("Hello");
            w.close(Some(1000), "bye").await.unwrap();
            out
        });
        // RFC 7692 section 7.2.3.2 on the wire: c1 07 f2 48 cd c9 c9 07 00, then the
        // repeat as a back-reference (miniz writes it as c1 05 f2 00 11 00 00 or so).
        assert_eq!(&sent[..2], &[0xc1, 0x07]);
        let mut i = Inflater::new(false);
        assert_eq!(i.inflate(&sent[2..9], 100), Inflated::Ok(b"Hello".to_vec()));
        assert_eq!(sent[9], 0xc1);
        let n = sent[10] as usize;
        assert!(n < 7, "the repeat is shorter: {n}");
        assert_eq!(
            i.inflate(&sent[11..11 + n], 100),
            Inflated::Ok(b"Hello".to_vec())
        );
        assert_eq!(&sent[11 + n..], &[0x88, 0x05, 0x03, 0xe8, b'b', b'y', b'e']);
    }
}
