//! Cuts a BMP byte stream into messages by their common header (RFC 7854 §4.1).

use bytes::{Buf, Bytes, BytesMut};

use super::BmpError;

/// The BMP version this station speaks (RFC 7854); versions 1 and 2 are obsolete drafts.
pub const BMP_VERSION: u8 = 3;

/// The common header: version, message length, message type.
pub const COMMON_HEADER_BYTES: usize = 6;

/// The longest message accepted. A BMP message carries at most one BGP message (65,535 bytes
/// with RFC 8654 extended messages) or two OPENs and a few TLVs, behind headers of under 100
/// bytes; a longer length field means the stream is corrupt or hostile.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// One whole BMP message and where it started in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The stream offset of its first byte.
    pub offset: u64,
    /// The message, common header included.
    pub bytes: Bytes,
}

/// Buffers a BMP stream and yields its messages one by one.
///
/// A header that cannot start a message (another version, a length under 6 or over
/// [`MAX_MESSAGE_BYTES`]) is an error: nothing after it can be framed.
#[derive(Debug, Default)]
pub struct BmpFramer {
    buffer: BytesMut,
    /// The stream offset of `buffer`'s first byte.
    offset: u64,
}

impl BmpFramer {
    /// An empty framer at stream offset 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The buffer to read more of the stream into (for `AsyncReadExt::read_buf`).
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buffer
    }

    /// Appends `bytes` of the stream.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes buffered that do not yet form a whole message.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The stream offset of the next message.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next whole message, or `None` until more bytes arrive.
    ///
    /// Returns an error if the buffered header cannot start a BMP message.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, BmpError> {
        if self.buffer.len() < COMMON_HEADER_BYTES {
            return Ok(None);
        }
        let version = self.buffer[0];
        let length = u32::from_be_bytes([
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
            self.buffer[4],
        ]) as usize;
        if version != BMP_VERSION {
            return Err(BmpError::new(
                self.offset,
                format!("version {version} is not BMP version {BMP_VERSION}"),
            ));
        }
        if !(COMMON_HEADER_BYTES..=MAX_MESSAGE_BYTES).contains(&length) {
            return Err(BmpError::new(
                self.offset,
                format!(
                    "message length {length} is outside {COMMON_HEADER_BYTES}..={MAX_MESSAGE_BYTES}"
                ),
            ));
        }
        if self.buffer.len() < length {
            self.buffer.reserve(length - self.buffer.len());
            return Ok(None);
        }
        let bytes = self.buffer.split_to(length).freeze();
        let frame = Frame {
            offset: self.offset,
            bytes,
        };
        self.offset += length as u64;
        Ok(Some(frame))
    }

    /// Drops what is buffered, for a stream that ended: returns how many bytes of an
    /// incomplete message there were.
    pub fn finish(&mut self) -> usize {
        let left = self.buffer.len();
        self.buffer.advance(left);
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![BMP_VERSION];
        m.extend_from_slice(&((COMMON_HEADER_BYTES + body.len()) as u32).to_be_bytes());
        m.push(kind);
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn messages_split_across_reads_come_out_whole_with_their_offsets() {
        let (a, b) = (message(4, &[0, 1, 0, 2, b'h', b'i']), message(5, &[]));
        let stream: Vec<u8> = [a.clone(), b.clone()].concat();
        let mut framer = BmpFramer::new();
        let mut frames = Vec::new();
        for byte in stream {
            framer.extend_from_slice(&[byte]);
            while let Some(frame) = framer.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[0].offset, &frames[0].bytes[..]), (0, &a[..]));
        assert_eq!((frames[1].offset, &frames[1].bytes[..]), (12, &b[..]));
        assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn a_bad_version_or_length_is_an_error_naming_its_offset() {
        let mut framer = BmpFramer::new();
        framer.extend_from_slice(&message(5, &[]));
        framer.extend_from_slice(&[2, 0, 0, 0, 6, 5]);
        assert!(framer.next_frame().unwrap().is_some());
        let error = framer.next_frame().unwrap_err();
        assert_eq!(error.offset, 6);
        assert!(error.detail.contains("version 2"), "{error}");

        for length in [5u32, MAX_MESSAGE_BYTES as u32 + 1] {
            let mut framer = BmpFramer::new();
            framer.extend_from_slice(&[BMP_VERSION]);
            framer.extend_from_slice(&length.to_be_bytes());
            framer.extend_from_slice(&[0]);
            let error = framer.next_frame().unwrap_err();
            assert!(
                error.detail.contains(&format!("length {length}")),
                "{error}"
            );
        }
    }

    #[test]
    fn the_longest_message_allowed_is_framed() {
        let body = vec![0u8; MAX_MESSAGE_BYTES - COMMON_HEADER_BYTES];
        let mut framer = BmpFramer::new();
        framer.extend_from_slice(&message(4, &body));
        assert_eq!(
            framer.next_frame().unwrap().unwrap().bytes.len(),
            MAX_MESSAGE_BYTES
        );
    }
}
