//! Fuzz target `protocol_stream`: a connection's application layer as the analysis runs
//! it (protocol chosen by content: TLS records, handshake and decryption; HTTP…). The
//! harness lives in `tests/support/harness.rs`, shared with `tests/tls.rs`.
#![no_main]

#[path = "../../tests/support/harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::protocol_stream(data));
