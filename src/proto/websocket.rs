//! The WebSocket opening handshake's arithmetic (RFC 6455 section 1.3): the server
//! proves it understood the request by hashing the client's key with a fixed GUID.
//! Used by the analysis to check a server's answer and by the simulator to give one.

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The fixed GUID that RFC 6455 section 1.3 appends to the client's key.
pub const HANDSHAKE_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub fn sec_websocket_accept(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(HANDSHAKE_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_sample_key() {
        // RFC 6455 section 1.3.
        assert_eq!(
            sec_websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
