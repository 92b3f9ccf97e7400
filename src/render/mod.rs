//! Everything that writes: the layer tree, the one-line summary, the hex dump, JSON
//! Lines (and capture files). Renderers write only to the `Write` they are given, so
//! each can be tested into a `Vec<u8>` with colour off.

pub mod diagram;
pub mod escape;
pub mod fields;
pub mod hex;
pub mod json;
pub mod pcap_out;
pub mod qr;
pub mod report;
pub mod stats;
pub mod summary;
pub mod terminal;
pub mod theme;

pub use escape::{escape, escape_bytes, Guard, TerminalWriter};
pub use theme::Theme;

use std::io::{self, Write};
use std::sync::Arc;

use crate::analysis::Analyzer;
use crate::frame::Timestamp;
use crate::pipeline::Packet;

/// What drawing one packet needs to know of the capture besides the packet.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The capture's first packet: times count from it.
    pub first: Timestamp,
    /// The packet's conversation: its client and its server, as the analysis knew them
    /// right after this packet (for the layer tree; the other formats leave it out).
    pub ends: Option<[std::net::SocketAddr; 2]>,
}

impl Context {
    /// The client and server of `p`'s conversation in `an`.
    pub fn ends_of(p: &Packet, an: &Analyzer) -> Option<[std::net::SocketAddr; 2]> {
        let (tr, s) = (p.analysis.transport?, p.analysis.stream?);
        let c = an.conversation(tr, s)?;
        Some([c.endpoints[c.client()], c.endpoints[1 - c.client()]])
    }
}

/// One question a drawing asked of what was explained before (the layer tree tells
/// each thing once), with the answer it drew with: `new` if never told before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub scope: u32,
    pub kind: u64,
    pub new: bool,
}

/// Drawing one packet on its own, shared by the threads that draw. JSON, the summary
/// and the hex dump depend on no other packet. The layer tree does (each explanation is
/// given once): it draws with `draw_guessing`, logging what it guessed had been told
/// before, and [`Render::settle`] checks those guesses in capture order.
pub trait Draw: Send + Sync {
    fn draw(&self, out: &mut Vec<u8>, p: &Packet, cx: Context) -> io::Result<()>;
    /// Draws `p`, pushing onto `asked` each answer it guessed.
    fn draw_guessing(
        &self,
        out: &mut Vec<u8>,
        p: &Packet,
        cx: Context,
        asked: &mut Vec<Asked>,
    ) -> io::Result<()> {
        let _ = asked;
        self.draw(out, p, cx)
    }
    /// Whether drawing a packet costs less than handing it to another thread (the
    /// one-line summary): then it is drawn where it was read. On two idle cores,
    /// 100k packets (hyperfine): 115 ms on one thread, 147 ms with one drawing thread
    /// beside it (twice the CPU time: the packets' memory crossing cores), 0.41 s with two.
    fn light(&self) -> bool {
        false
    }
}

/// What every output format does: one call per packet, one at the end.
pub trait Render {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()>;
    /// Formats whose packets are drawn independently: the drawing, to hand to other
    /// threads. `account` then stands in for `packet`, in capture order, and the text
    /// `draw` makes is written in capture order.
    fn drawer(&self) -> Option<Arc<dyn Draw>> {
        None
    }
    /// With a drawer: what `packet` keeps of a packet besides its text (JSON: the count
    /// and the warnings), and the context to draw it in.
    fn account(&mut self, p: &Packet, an: &Analyzer) -> Context {
        Context {
            first: an.totals.first.unwrap_or(p.frame.time),
            ends: None,
        }
    }
    /// With a drawer, in capture order: writes what a thread drew for `p`, given the
    /// guesses it drew with (`Draw::draw_guessing`); a renderer whose guesses turn out
    /// wrong draws `p` again here.
    fn settle(
        &mut self,
        out: &mut dyn Write,
        p: &Packet,
        cx: Context,
        asked: &[Asked],
        drawn: &[u8],
    ) -> io::Result<()> {
        let _ = (p, cx, asked);
        out.write_all(drawn)
    }
    /// After the last packet: totals, conversations, warnings about the source.
    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()>;
}

/// Two renderers fed the same packets: the command's own output and a report beside it
/// (`--report FILE`).
pub struct Tee(pub Box<dyn Render>, pub Box<dyn Render>);

impl Render for Tee {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        self.0.packet(out, p, an)?;
        self.1.packet(out, p, an)
    }
    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        self.0.finish(out, an, source_warnings)?;
        self.1.finish(out, an, source_warnings)
    }
}
