//! Application protocols, recognised by content on any port.
//!
//! Each protocol is one module of the same form: `detect` (do a direction's first bytes
//! look like it?), a decoder implementing [`Protocol`] (bytes of both directions →
//! [`AppEvent`]s), and its words in `src/explain/text/NAME.toml`. The [`REGISTRY`] lists
//! them; [`Detector`] holds each direction's first bytes until one protocol claims them,
//! then hands the connection to it. Adding DNS over TCP or HTTP/2 is one new module and
//! one line in the registry.
//!
//! A decoder may carry another protocol inside (TLS carries HTTP once decrypted): it
//! makes a `Detector` of its own for the bytes inside, so the same registry decides.

pub mod http;
pub mod tls;

use super::app::{AppEvent, AppLimits, Dir, InProgress};

/// What a protocol makes of a direction's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detect {
    /// These bytes start this protocol.
    Yes,
    /// Not this protocol.
    No,
    /// A prefix that could be: wait for more bytes.
    NeedMore,
}

/// One application protocol's decoder for one connection, both directions.
pub trait Protocol: std::fmt::Debug + Send {
    /// Bytes of one direction, contiguous with what that direction pushed before.
    fn push(&mut self, dir: Dir, data: &[u8]) -> Vec<AppEvent>;
    /// `missing` bytes of this direction were never captured.
    fn gap(&mut self, dir: Dir, missing: u64) -> Vec<AppEvent>;
    /// The direction ended (FIN or RST).
    fn end(&mut self, dir: Dir) -> Vec<AppEvent>;
    /// What the connection carries, once known (the conversation's `application`).
    fn application(&self) -> Option<&'static str>;
    /// The message of direction `dir` that has begun and not ended, if any.
    fn in_progress(&self, _dir: Dir) -> Option<InProgress> {
        None
    }
    /// Events completed by the last call that were decrypted, with the secret's name
    /// (for a protocol that decrypts; the others decrypt nothing).
    fn take_decrypted(&mut self) -> Vec<(usize, &'static str)> {
        Vec::new()
    }
    /// About how many bytes of memory the decoder holds (buffers, messages being joined,
    /// inflater state): what it draws from the analysis's global budget. O(1) to ask.
    fn memory(&self) -> usize;
}

/// What a decoder is made with.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub limits: AppLimits,
    /// The TLS secrets known (a key log file, `SSLKEYLOGFILE`, a capture's Decryption
    /// Secrets Blocks), shared by every connection.
    pub keys: Option<tls::SharedKeyLog>,
}

/// One entry of the registry.
pub struct Kind {
    pub name: &'static str,
    pub detect: fn(&[u8]) -> Detect,
    pub make: fn(&Context) -> Box<dyn Protocol>,
}

/// Every protocol recognised by content, in the order they are asked.
pub static REGISTRY: &[Kind] = &[
    Kind {
        name: "tls",
        detect: tls::detect,
        make: |cx| Box::new(tls::TlsStream::new(cx)),
    },
    Kind {
        name: "http",
        detect: http::detect,
        make: |cx| Box::new(http::AppStream::new(cx.limits)),
    },
];

/// The most first bytes held while no protocol has decided.
const DETECT_MAX: usize = 24;

/// How far one direction's recognition went.
#[derive(Debug)]
enum Start {
    /// No protocol has decided yet: the bytes so far.
    Waiting(Vec<u8>),
    /// Fed to the connection's protocol.
    Known,
    /// No protocol recognised these bytes: counted (the protocol, if the other direction
    /// chooses one, sees them as not captured).
    Unknown(u64),
}

/// One connection's application layer: the protocol chosen by the first bytes.
#[derive(Debug)]
pub struct Detector {
    cx: Context,
    start: [Start; 2],
    chosen: Option<Box<dyn Protocol>>,
}

/// An event with, when it was decrypted, the name of the secret that did it.
#[derive(Debug)]
pub struct Decoded {
    pub event: AppEvent,
    pub decrypted: Option<&'static str>,
}

impl Detector {
    pub fn new(cx: Context) -> Detector {
        Detector {
            cx,
            start: [Start::Waiting(Vec::new()), Start::Waiting(Vec::new())],
            chosen: None,
        }
    }

    /// What the connection carries, once known.
    pub fn application(&self) -> Option<&'static str> {
        self.chosen.as_ref().and_then(|p| p.application())
    }

    /// About how many bytes of memory the recognition and the chosen decoder hold.
    pub fn memory(&self) -> usize {
        let waiting: usize = self
            .start
            .iter()
            .map(|s| match s {
                Start::Waiting(b) => b.capacity(),
                _ => 0,
            })
            .sum();
        waiting + self.chosen.as_ref().map_or(0, |p| p.memory())
    }

    /// The message of direction `dir` that has begun and not ended, if any.
    pub fn in_progress(&self, dir: Dir) -> Option<InProgress> {
        match self.start[dir.idx()] {
            Start::Known => self.chosen.as_ref()?.in_progress(dir),
            _ => None,
        }
    }

    /// The events of the chosen protocol, with what was decrypted marked.
    fn collect(&mut self, events: Vec<AppEvent>, out: &mut Vec<Decoded>) {
        let marks = self
            .chosen
            .as_mut()
            .map(|p| p.take_decrypted())
            .unwrap_or_default();
        let first = out.len();
        out.extend(events.into_iter().map(|event| Decoded {
            event,
            decrypted: None,
        }));
        for (i, secret) in marks {
            if let Some(d) = out.get_mut(first + i) {
                d.decrypted = Some(secret);
            }
        }
    }

    /// Bytes of one direction, in order.
    pub fn push(&mut self, dir: Dir, data: &[u8]) -> Vec<Decoded> {
        let d = dir.idx();
        let mut out = Vec::new();
        match &mut self.start[d] {
            Start::Known => {
                if let Some(p) = self.chosen.as_mut() {
                    let ev = p.push(dir, data);
                    self.collect(ev, &mut out);
                }
            }
            Start::Unknown(n) => *n += data.len() as u64,
            Start::Waiting(buf) => {
                buf.extend_from_slice(data);
                if buf.is_empty() {
                    return out;
                }
                let mut undecided = false;
                let mut found = None;
                for k in REGISTRY {
                    match (k.detect)(buf) {
                        Detect::Yes => {
                            found = Some(k);
                            break;
                        }
                        Detect::NeedMore => undecided = true,
                        Detect::No => {}
                    }
                }
                match found {
                    Some(k) => self.choose(k, &mut out),
                    None if undecided && buf.len() < DETECT_MAX => {}
                    None => self.start[d] = Start::Unknown(buf.len() as u64),
                }
            }
        }
        out
    }

    /// `kind` claimed a direction's first bytes: it decodes the connection.
    fn choose(&mut self, kind: &Kind, out: &mut Vec<Decoded>) {
        if self.chosen.is_none() {
            self.chosen = Some((kind.make)(&self.cx));
        }
        for dir in [Dir::ClientToServer, Dir::ServerToClient] {
            let d = dir.idx();
            let ev = match std::mem::replace(&mut self.start[d], Start::Known) {
                Start::Waiting(buf) => self.chosen.as_mut().map(|p| p.push(dir, &buf)),
                Start::Unknown(n) => {
                    self.start[d] = Start::Unknown(n);
                    self.chosen.as_mut().map(|p| p.gap(dir, n))
                }
                Start::Known => None,
            };
            if let Some(ev) = ev {
                self.collect(ev, out);
            }
        }
    }

    /// `missing` bytes of a direction were never captured.
    pub fn gap(&mut self, dir: Dir, missing: u64) -> Vec<Decoded> {
        let d = dir.idx();
        let mut out = Vec::new();
        match &mut self.start[d] {
            Start::Known => {
                if let Some(p) = self.chosen.as_mut() {
                    let ev = p.gap(dir, missing);
                    self.collect(ev, &mut out);
                }
            }
            Start::Unknown(n) => *n += missing,
            // A hole before any protocol recognised the direction: it stays unknown.
            Start::Waiting(buf) => self.start[d] = Start::Unknown(buf.len() as u64 + missing),
        }
        out
    }

    /// The direction ended.
    pub fn end(&mut self, dir: Dir) -> Vec<Decoded> {
        let d = dir.idx();
        let mut out = Vec::new();
        match &self.start[d] {
            Start::Known => {
                if let Some(p) = self.chosen.as_mut() {
                    let ev = p.end(dir);
                    self.collect(ev, &mut out);
                }
            }
            Start::Unknown(_) => {}
            Start::Waiting(buf) => {
                // Too few bytes to decide before the end: offer them to a protocol the
                // other direction chose, else nothing is known of them.
                let n = buf.len() as u64;
                if self.chosen.is_some() {
                    let buf = std::mem::take(&mut self.start[d]);
                    if let (Start::Waiting(b), Some(p)) = (buf, self.chosen.as_mut()) {
                        let mut ev = p.push(dir, &b);
                        ev.extend(p.end(dir));
                        self.collect(ev, &mut out);
                    }
                    self.start[d] = Start::Known;
                } else {
                    self.start[d] = Start::Unknown(n);
                }
            }
        }
        out
    }
}

impl Default for Start {
    fn default() -> Self {
        Start::Unknown(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::app::AppMessage;
    use Dir::{ClientToServer as C2S, ServerToClient as S2C};

    #[test]
    fn http_on_any_port_and_split_first_bytes() {
        let mut d = Detector::new(Context::default());
        // "GE" alone could be a method: held.
        assert!(d.push(C2S, b"GE").is_empty());
        assert_eq!(d.application(), None);
        let ev = d.push(C2S, b"T / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(ev.len(), 1);
        assert!(
            matches!(&ev[0].event.message, AppMessage::Http(m) if m.uri.as_deref() == Some("/"))
        );
        assert_eq!(ev[0].event.stream_range, (0, 27));
        assert_eq!(d.application(), Some("http"));
        let ev = d.push(S2C, b"HTTP/1.1 204 No Content\r\n\r\n");
        assert!(matches!(&ev[0].event.message, AppMessage::Http(m) if m.status == Some(204)));
    }

    #[test]
    fn unknown_bytes_are_counted_not_decoded() {
        let mut d = Detector::new(Context::default());
        assert!(d.push(S2C, b"220 mail.example.com ESMTP\r\n").is_empty());
        assert!(d.push(C2S, b"EHLO client\r\n").is_empty());
        assert_eq!(d.application(), None);
        assert!(d.end(C2S).is_empty());
    }

    #[test]
    fn detect_http() {
        assert_eq!(http::detect(b"GET "), Detect::Yes);
        assert_eq!(http::detect(b"HTTP/1.1 200"), Detect::Yes);
        assert_eq!(http::detect(b"PO"), Detect::NeedMore);
        assert_eq!(http::detect(b"\x16\x03\x01"), Detect::No);
        assert_eq!(http::detect(b""), Detect::No);
    }
}
