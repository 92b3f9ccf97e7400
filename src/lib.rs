//! wirewalk: walk a learner through the OSI layers of real packets.
//!
//! Data flows one way: `source` → `dissect` → `analysis` → `explain` → `render`.
//! See `../shared/DESIGN.md` and the README for the map.

pub mod analysis;
pub mod cli;
pub mod dissect;
pub mod explain;
pub mod filter;
pub mod frame;
pub mod lesson;
pub mod outfile;
pub mod pipeline;
pub mod proto;
pub mod render;
pub mod source;
pub mod tui;
pub mod value;
