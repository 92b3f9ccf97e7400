//! Where frames come from: capture files, live capture, the simulator, the real demo.

pub mod simulate;
