//! The one-way pipeline that every command shares: a frame is dissected, analysed
//! across the conversation, and handed on as a `Packet` for explanation and rendering.

use crate::analysis::{Analyzer, PacketAnalysis};
use crate::dissect::{dissect, Dissection};
use crate::frame::Frame;

/// A frame with everything the pipeline learnt about it.
#[derive(Debug, Clone)]
pub struct Packet {
    pub frame: Frame,
    pub dissection: Dissection,
    pub analysis: PacketAnalysis,
}

/// Dissection and analysis, fed one frame at a time in capture order.
#[derive(Debug, Default)]
pub struct Pipeline {
    pub analyzer: Analyzer,
}

impl Pipeline {
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    pub fn process(&mut self, frame: Frame) -> Packet {
        let mut dissection = dissect(&frame);
        let analysis = self.analyzer.packet(&frame, &mut dissection);
        Packet {
            frame,
            dissection,
            analysis,
        }
    }
}
