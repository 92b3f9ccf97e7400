//! Where frames come from: capture files (mapped, or streamed from a pipe), and later the simulator and live
//! capture. Every source yields `Frame`s; nothing downstream knows which one it was.

pub mod demo;
pub mod demo_classroom;
pub mod demo_tls;
pub mod live;
mod mapped;
pub mod pcap;
pub mod root;
pub mod simulate;
pub mod ws_server;

use std::fmt;

/// A source that cannot go on, with a one-line message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError(pub String);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceError {}
