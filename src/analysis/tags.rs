//! Analysis tags: what a packet means across the conversation (SPEC.md's `analysis`).

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    HandshakeSyn,
    HandshakeSynAck,
    HandshakeAck,
    Fin,
    Rst,
    Retransmission,
    FastRetransmission,
    SpuriousRetransmission,
    OutOfOrder,
    LostSegment,
    AckedUnseen,
    DuplicateAck,
    ZeroWindow,
    ZeroWindowProbe,
    ZeroWindowProbeAck,
    WindowFull,
    WindowUpdate,
    KeepAlive,
    KeepAliveAck,
    BadChecksum,
    PortReuse,
}

impl Tag {
    /// Every tag, for tables and tests.
    pub const ALL: [Tag; 21] = [
        Tag::HandshakeSyn,
        Tag::HandshakeSynAck,
        Tag::HandshakeAck,
        Tag::Fin,
        Tag::Rst,
        Tag::Retransmission,
        Tag::FastRetransmission,
        Tag::SpuriousRetransmission,
        Tag::OutOfOrder,
        Tag::LostSegment,
        Tag::AckedUnseen,
        Tag::DuplicateAck,
        Tag::ZeroWindow,
        Tag::ZeroWindowProbe,
        Tag::ZeroWindowProbeAck,
        Tag::WindowFull,
        Tag::WindowUpdate,
        Tag::KeepAlive,
        Tag::KeepAliveAck,
        Tag::BadChecksum,
        Tag::PortReuse,
    ];

    /// The tag's name in JSON and in the terminal.
    pub fn name(self) -> &'static str {
        match self {
            Tag::HandshakeSyn => "handshake-syn",
            Tag::HandshakeSynAck => "handshake-syn-ack",
            Tag::HandshakeAck => "handshake-ack",
            Tag::Fin => "fin",
            Tag::Rst => "rst",
            // Fast and spurious retransmissions are retransmissions too (SPEC.md's tag);
            // the finer kind is named by its own tag alongside.
            Tag::Retransmission => "retransmission",
            Tag::FastRetransmission => "fast-retransmission",
            Tag::SpuriousRetransmission => "spurious-retransmission",
            Tag::OutOfOrder => "out-of-order",
            Tag::LostSegment => "previous-segment-not-captured",
            Tag::AckedUnseen => "ack-of-unseen-segment",
            Tag::DuplicateAck => "duplicate-ack",
            Tag::ZeroWindow => "zero-window",
            Tag::ZeroWindowProbe => "zero-window-probe",
            Tag::ZeroWindowProbeAck => "zero-window-probe-ack",
            Tag::WindowFull => "window-full",
            Tag::WindowUpdate => "window-update",
            Tag::KeepAlive => "keep-alive",
            Tag::KeepAliveAck => "keep-alive-ack",
            Tag::BadChecksum => "bad-checksum",
            Tag::PortReuse => "port-reuse",
        }
    }

    /// True for tags that point at trouble (shown as warnings).
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Tag::Retransmission
                | Tag::FastRetransmission
                | Tag::SpuriousRetransmission
                | Tag::OutOfOrder
                | Tag::LostSegment
                | Tag::AckedUnseen
                | Tag::DuplicateAck
                | Tag::ZeroWindow
                | Tag::WindowFull
        )
    }
}

impl Serialize for Tag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
