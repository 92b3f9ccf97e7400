//! Protocol facts that more than one stage needs: the simulator builds packets with
//! them, the analysis checks captured ones against them. No I/O, no state.

pub mod tcp;
pub mod websocket;
