//! `bgpmon.v1.WriteCapturesRequest`, written by hand so that its captures
//! stay encoded.
//!
//! The generated message would decode every capture into a tree of owned
//! values (a `Vec` per address, prefix and path segment) that the daemon
//! only converts and drops. This one is identical on the wire, but keeps
//! each capture as its encoded `bgpmon.v1.Capture` bytes: a client encodes
//! a capture once, and the daemon reads it once, straight into its own form.

use prost::Message;
use prost::bytes::{Buf, BufMut, Bytes};
use prost::encoding::{
    DecodeContext, WireType, bool as proto_bool, bytes as proto_bytes, encode_key, encode_varint,
    encoded_len_varint, key_len, message, skip_field, string,
};

use crate::v1;

const SESSION_ID: u32 = 1;
const CAPTURES: u32 = 2;
const FLUSH: u32 = 3;
const IMPORT: u32 = 4;
const FINISH_IMPORT: u32 = 5;

/// One message of the `WriteCaptures` stream: a batch of captures for a
/// session.
///
/// It is wire-compatible with the `.proto` definition, so any gRPC client
/// can send it; only its Rust form differs from generated code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteCapturesRequest {
    /// The session; required on the first message, ignored after.
    pub session_id: String,
    /// The captures, each an encoded `bgpmon.v1.Capture`.
    pub captures: Vec<EncodedCapture>,
    /// Commit everything written so far before reading on.
    pub flush: bool,
    /// Record the stream as an import of this file; read on the first
    /// message only.
    pub import: Option<v1::ImportSpec>,
    /// The whole file was sent: mark the import complete once the last
    /// commit succeeds.
    pub finish_import: bool,
}

/// The encoded bytes of one `bgpmon.v1.Capture` message, without a length
/// prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncodedCapture(Bytes);

impl EncodedCapture {
    /// Encodes `capture`.
    pub fn new(capture: &v1::Capture) -> Self {
        Self(Bytes::from(capture.encode_to_vec()))
    }

    /// Wraps bytes that should hold an encoded capture; nothing is checked
    /// until they are decoded.
    pub fn from_bytes(bytes: Bytes) -> Self {
        Self(bytes)
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Decodes the capture into its generated type.
    ///
    /// Returns an error if the bytes are not a valid `Capture` message.
    pub fn decode(&self) -> Result<v1::Capture, prost::DecodeError> {
        v1::Capture::decode(self.as_bytes())
    }
}

impl From<&v1::Capture> for EncodedCapture {
    fn from(capture: &v1::Capture) -> Self {
        Self::new(capture)
    }
}

impl Message for WriteCapturesRequest {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if !self.session_id.is_empty() {
            string::encode(SESSION_ID, &self.session_id, buf);
        }
        for capture in &self.captures {
            encode_key(CAPTURES, WireType::LengthDelimited, buf);
            encode_varint(capture.0.len() as u64, buf);
            buf.put_slice(&capture.0);
        }
        if self.flush {
            proto_bool::encode(FLUSH, &self.flush, buf);
        }
        if let Some(import) = &self.import {
            message::encode(IMPORT, import, buf);
        }
        if self.finish_import {
            proto_bool::encode(FINISH_IMPORT, &self.finish_import, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        match tag {
            SESSION_ID => string::merge(wire_type, &mut self.session_id, buf, ctx),
            CAPTURES => {
                // `Bytes` takes the field without copying from a buffer
                // that is itself `Bytes`-backed, as tonic's is.
                let mut bytes = Bytes::new();
                proto_bytes::merge(wire_type, &mut bytes, buf, ctx)?;
                self.captures.push(EncodedCapture(bytes));
                Ok(())
            }
            FLUSH => proto_bool::merge(wire_type, &mut self.flush, buf, ctx),
            IMPORT => message::merge(
                wire_type,
                self.import.get_or_insert_with(v1::ImportSpec::default),
                buf,
                ctx,
            ),
            FINISH_IMPORT => proto_bool::merge(wire_type, &mut self.finish_import, buf, ctx),
            _ => skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let session = if self.session_id.is_empty() {
            0
        } else {
            string::encoded_len(SESSION_ID, &self.session_id)
        };
        let captures: usize = self
            .captures
            .iter()
            .map(|c| key_len(CAPTURES) + encoded_len_varint(c.0.len() as u64) + c.0.len())
            .sum();
        let flush = if self.flush {
            proto_bool::encoded_len(FLUSH, &self.flush)
        } else {
            0
        };
        let import = self
            .import
            .as_ref()
            .map_or(0, |i| message::encoded_len(IMPORT, i));
        let finish = if self.finish_import {
            proto_bool::encoded_len(FINISH_IMPORT, &self.finish_import)
        } else {
            0
        };
        session + captures + flush + import + finish
    }

    fn clear(&mut self) {
        self.session_id.clear();
        self.captures.clear();
        self.flush = false;
        self.import = None;
        self.finish_import = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message as `protoc` would generate it, to check wire
    /// compatibility against.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Generated {
        #[prost(string, tag = "1")]
        session_id: String,
        #[prost(message, repeated, tag = "2")]
        captures: Vec<v1::Capture>,
        #[prost(bool, tag = "3")]
        flush: bool,
        #[prost(message, optional, tag = "4")]
        import: Option<v1::ImportSpec>,
        #[prost(bool, tag = "5")]
        finish_import: bool,
    }

    fn capture(n: u32) -> v1::Capture {
        v1::Capture {
            timestamp_us: 1_546_300_800_000_000 + u64::from(n),
            collector: "rrc00".into(),
            peer_ip: vec![192, 0, 2, 1],
            peer_as: 64_500 + n,
            advertised: vec![crate::prefix_to_proto(&"192.0.2.0/24".parse().unwrap())],
            origin_as: Some(n),
            ..v1::Capture::default()
        }
    }

    #[test]
    fn is_wire_compatible_with_the_generated_message() {
        let generated = Generated {
            session_id: "s".into(),
            captures: (0..3).map(capture).collect(),
            flush: true,
            import: Some(v1::ImportSpec {
                file_name: "updates.gz".into(),
                sha256: "ab".repeat(32),
                force: true,
            }),
            finish_import: true,
        };
        let written = WriteCapturesRequest {
            session_id: "s".into(),
            captures: generated
                .captures
                .iter()
                .map(EncodedCapture::from)
                .collect(),
            flush: true,
            import: generated.import.clone(),
            finish_import: true,
        };
        let bytes = written.encode_to_vec();
        assert_eq!(bytes, generated.encode_to_vec());
        assert_eq!(written.encoded_len(), bytes.len());

        let read = WriteCapturesRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(read, written);
        let captures: Vec<v1::Capture> =
            read.captures.iter().map(|c| c.decode().unwrap()).collect();
        assert_eq!(captures, generated.captures);
        assert_eq!(Generated::decode(bytes.as_slice()).unwrap(), generated);
    }

    #[test]
    fn skips_unknown_fields_and_reports_truncation() {
        let mut bytes = WriteCapturesRequest {
            session_id: String::new(),
            captures: vec![EncodedCapture::new(&capture(1))],
            flush: false,
            ..WriteCapturesRequest::default()
        }
        .encode_to_vec();
        // Field 9, varint 7: unknown to this version.
        bytes.extend_from_slice(&[9 << 3, 7]);
        let read = WriteCapturesRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(read.captures.len(), 1);
        assert!(!read.flush);

        let cut = &bytes[..bytes.len() - 5];
        assert!(WriteCapturesRequest::decode(cut).is_err());
    }

    #[test]
    fn an_empty_request_encodes_to_nothing() {
        let request = WriteCapturesRequest::default();
        assert_eq!(request.encoded_len(), 0);
        assert!(request.encode_to_vec().is_empty());
    }
}
