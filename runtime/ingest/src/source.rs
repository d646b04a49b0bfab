//! The byte stream under the MRT parser: compression detection, decompression, buffering, and
//! the two counters (input bytes read for progress, decompressed bytes consumed for record
//! offsets).

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The buffer size of each buffered layer (compressed input, decompressed output).
///
/// Large buffers keep the number of reads and decoder calls low; bgpkit-parser reads each
/// record as a 12 or 16 byte header and then its body.
pub const READ_BUFFER_SIZE: usize = 256 * 1024;

/// The gzip magic bytes.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// The bzip2 magic bytes.
const BZIP2_MAGIC: &[u8] = b"BZh";

/// The compression of an MRT stream, as its first bytes show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Plain MRT: no known magic bytes.
    None,
    /// gzip (`1f 8b`), possibly of several members.
    Gzip,
    /// bzip2 (`BZh`), possibly of several streams.
    Bzip2,
}

impl Compression {
    /// The compression whose magic bytes start `head`; [`Compression::None`] when none does.
    pub fn detect(head: &[u8]) -> Self {
        if head.starts_with(GZIP_MAGIC) {
            Self::Gzip
        } else if head.starts_with(BZIP2_MAGIC) {
            Self::Bzip2
        } else {
            Self::None
        }
    }

    /// The name of the compression: `none`, `gzip` or `bzip2`.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Bzip2 => "bzip2",
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How far a reader has got through its input (the compressed file).
///
/// Cloning is cheap and clones share the counter, so a progress bar on another thread can poll
/// it while the reader runs.
#[derive(Debug, Clone)]
pub struct Progress {
    read: Arc<AtomicU64>,
    total: Option<u64>,
}

impl Progress {
    /// The input bytes read so far (compressed bytes for a compressed file).
    ///
    /// Read-ahead buffering makes this run ahead of the records yielded by up to about
    /// [`READ_BUFFER_SIZE`].
    pub fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// The size of the input in bytes, when known (the file size).
    pub fn total_bytes(&self) -> Option<u64> {
        self.total
    }
}

/// Counts the bytes read from the raw input into a shared [`Progress`] counter.
struct ProgressReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // usize to u64 never truncates on supported targets.
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The decompressed stream, counting the bytes its reader consumed and keeping the first
/// error the layers below returned.
///
/// It sits directly under the parser, above all buffering, so its count is the exact offset
/// of the next unread byte. It keeps the error because bgpkit-parser reports a failed read of
/// a record header that got no bytes as a clean end of file.
pub(crate) struct CountingReader<R> {
    inner: R,
    offset: u64,
    error: Option<String>,
}

impl<R: BufRead> CountingReader<R> {
    /// The next buffered bytes, without consuming them: empty at the end of the input.
    pub(crate) fn peek(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
}

impl<R> CountingReader<R> {
    /// The decompressed bytes consumed so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// The first error a read of the layers below returned, as text.
    pub(crate) fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.offset += n as u64;
                Ok(n)
            }
            Err(error) => {
                if error.kind() != io::ErrorKind::Interrupted && self.error.is_none() {
                    self.error = Some(error.to_string());
                }
                Err(error)
            }
        }
    }
}

/// The stream the parser reads: decompressed and buffered.
pub(crate) type Stream = CountingReader<BufReader<Box<dyn Read + Send>>>;

/// An opened input: its decompressed stream, its compression and its progress counter.
pub(crate) struct Source {
    pub(crate) stream: Stream,
    pub(crate) compression: Compression,
    pub(crate) progress: Progress,
}

impl Source {
    /// Detects the compression of `input` from its first bytes and decompresses it.
    ///
    /// `total` is the input size when known. Returns an error if reading the first bytes
    /// fails.
    pub(crate) fn new<R: Read + Send + 'static>(input: R, total: Option<u64>) -> io::Result<Self> {
        let read = Arc::new(AtomicU64::new(0));
        let mut input = ProgressReader {
            inner: input,
            read: Arc::clone(&read),
        };
        // More than the 3 magic bytes: an uncompressed stream's first buffered read is this
        // head alone, and telling BMP from MRT takes its first 6 bytes.
        let mut head = [0u8; 8];
        let len = read_up_to(&mut input, &mut head)?;
        let compression = Compression::detect(&head[..len]);
        // The bytes read to detect the compression go back in front of the rest.
        let input = io::Cursor::new(head).take(len as u64).chain(input);
        let decoded: Box<dyn Read + Send> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(
                BufReader::with_capacity(READ_BUFFER_SIZE, input),
            )),
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(
                BufReader::with_capacity(READ_BUFFER_SIZE, input),
            )),
            Compression::None => Box::new(input),
        };
        Ok(Self {
            stream: CountingReader {
                inner: BufReader::with_capacity(READ_BUFFER_SIZE, decoded),
                offset: 0,
                error: None,
            },
            compression,
            progress: Progress { read, total },
        })
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < buf.len() {
        match input.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn payload() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| (i % 251).to_be_bytes())
            .collect()
    }

    fn read_all(source: &mut Source) -> (Vec<u8>, Option<String>) {
        let mut out = Vec::new();
        let result = source.stream.read_to_end(&mut out);
        (out, result.err().map(|e| e.to_string()))
    }

    #[test]
    fn detects_magic_bytes() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::detect(b"BZh9"), Compression::Bzip2);
        assert_eq!(Compression::detect(b"BZ"), Compression::None);
        assert_eq!(Compression::detect(&[0x1f]), Compression::None);
        assert_eq!(Compression::detect(&[]), Compression::None);
        assert_eq!(Compression::Bzip2.to_string(), "bzip2");
    }

    #[test]
    fn reads_plain_input_and_counts_bytes() {
        let data = payload();
        let mut source = Source::new(io::Cursor::new(data.clone()), Some(data.len() as u64))
            .expect("open plain input");
        assert_eq!(source.compression, Compression::None);
        let (out, error) = read_all(&mut source);
        assert_eq!(out, data);
        assert_eq!(error, None);
        assert_eq!(source.stream.offset(), data.len() as u64);
        assert_eq!(source.progress.bytes_read(), data.len() as u64);
        assert_eq!(source.progress.total_bytes(), Some(data.len() as u64));
    }

    #[test]
    fn reads_short_and_empty_input() {
        for data in [&b""[..], b"a", b"ab", b"abc"] {
            let mut source = Source::new(io::Cursor::new(data.to_vec()), None).unwrap();
            assert_eq!(read_all(&mut source).0, data);
        }
    }

    #[test]
    fn decompresses_multi_member_gzip() {
        let data = payload();
        let (first, second) = data.split_at(12_345);
        let mut compressed = Vec::new();
        for part in [first, second] {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(part).unwrap();
            compressed.extend(encoder.finish().unwrap());
        }
        let size = compressed.len() as u64;
        let mut source = Source::new(io::Cursor::new(compressed), Some(size)).unwrap();
        assert_eq!(source.compression, Compression::Gzip);
        let (out, error) = read_all(&mut source);
        assert_eq!(error, None);
        assert_eq!(out, data);
        assert_eq!(source.stream.offset(), data.len() as u64);
        assert_eq!(source.progress.bytes_read(), size);
    }

    #[test]
    fn decompresses_multi_stream_bzip2() {
        let data = payload();
        let (first, second) = data.split_at(54_321);
        let mut compressed = Vec::new();
        for part in [first, second] {
            let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            encoder.write_all(part).unwrap();
            compressed.extend(encoder.finish().unwrap());
        }
        let mut source = Source::new(io::Cursor::new(compressed), None).unwrap();
        assert_eq!(source.compression, Compression::Bzip2);
        let (out, error) = read_all(&mut source);
        assert_eq!(error, None);
        assert_eq!(out, data);
    }

    #[test]
    fn keeps_the_error_of_a_truncated_stream() {
        let data = payload();
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        encoder.write_all(&data).unwrap();
        let mut compressed = encoder.finish().unwrap();
        compressed.truncate(compressed.len() / 2);
        let mut source = Source::new(io::Cursor::new(compressed), None).unwrap();
        let (out, error) = read_all(&mut source);
        assert!(error.is_some());
        assert!(data.starts_with(&out));
        assert_eq!(source.stream.error(), error.as_deref());
        assert_eq!(source.stream.offset(), out.len() as u64);
    }
}
