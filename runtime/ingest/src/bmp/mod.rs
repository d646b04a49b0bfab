//! BMP (RFC 7854, RFC 9069) into captures: framing, a router's session state, and the
//! prefixes bgpkit-parser's ADD-PATH guess gets wrong.
//!
//! bgpkit-parser decodes each message; what RFC 7854 leaves to a station is here. A station
//! (or a reader of a saved BMP stream) frames the bytes with [`BmpFramer`] and hands each
//! [`Frame`] to the [`BmpRouter`] of the connection it came from, which returns a
//! [`BmpEvent`]: a peer up or down, or a route-monitoring message with its capture.

mod framing;
mod nlri;
mod router;

pub use framing::{BMP_VERSION, BmpFramer, COMMON_HEADER_BYTES, Frame, MAX_MESSAGE_BYTES};
pub use router::{BmpEvent, BmpRouter, MAX_PEERS, PeerKey, ViewSet};

/// A malformed BMP message: where it starts in the stream and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed BMP message at byte {offset}: {detail}")]
pub struct BmpError {
    /// The stream offset of the message's first byte.
    pub offset: u64,
    /// What is wrong.
    pub detail: String,
}

impl BmpError {
    pub(crate) fn new(offset: u64, detail: impl Into<String>) -> Self {
        Self {
            offset,
            detail: detail.into(),
        }
    }
}
