//! The API's decoders of untrusted bytes, as the fuzz targets in `fuzz/`
//! (and the stable replay of their corpus) call them.
//!
//! Each is exactly what an RPC runs on the bytes a client sends; only the
//! framing around them is left out.

use bgpmon_proto::v1;
use bgpmon_store as store;
use prost::Message;
use tonic::Status;

/// Decodes one encoded `bgpmon.v1.Capture`, as `WriteCaptures` does.
///
/// Returns `InvalidArgument` naming the field for bytes that are not a
/// capture message or hold a bad value.
pub fn decode_capture(bytes: &[u8]) -> Result<store::Capture, Status> {
    super::capture_wire::decode_capture(0, bytes)
}

/// Encodes `capture` as `ReadCaptures` sends it.
pub fn encode_capture(capture: store::Capture) -> Vec<u8> {
    super::convert::capture_to_proto(capture).encode_to_vec()
}

/// Decodes an encoded `bgpmon.v1.CaptureFilter` and converts it, as
/// `ReadCaptures` and `CountCaptures` do.
///
/// Returns `InvalidArgument` for bytes that are not a filter message, and
/// for a filter that is empty in time, malformed, or over a term cap.
pub fn decode_filter(bytes: &[u8]) -> Result<store::CaptureFilter, Status> {
    let filter = v1::CaptureFilter::decode(bytes)
        .map_err(|e| Status::invalid_argument(format!("filter: not a CaptureFilter: {e}")))?;
    super::convert::filter_from_proto(Some(filter))
}
