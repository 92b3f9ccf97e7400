//! Fuzz target `capture_reader`: the harness lives in `tests/support/harness.rs`, shared with the
//! regression tests that replay every crash found (`tests/fuzz_regressions.rs`).
#![no_main]

#[path = "../../tests/support/harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::capture_reader(data));
