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
}

/// Drawing one packet on its own, for formats where no packet's text depends on
/// another's (JSON, the summary, the hex dump): shared by the threads that draw.
pub trait Draw: Send + Sync {
    fn draw(&self, out: &mut Vec<u8>, p: &Packet, cx: Context) -> io::Result<()>;
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
        }
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
