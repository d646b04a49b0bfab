//! The account of one ingest: what was read, what became captures, what was skipped and why,
//! and where the stream stopped if it ended early.

use crate::Compression;

/// How many malformed records keep a sample (offset, error, first bytes) in the summary.
///
/// A damaged file can hold thousands of bad records; the first few show what is wrong, the
/// counts show how much.
pub const MAX_MALFORMED_SAMPLES: usize = 8;

/// How many leading bytes of a malformed record its sample keeps.
///
/// Enough for the MRT header, the BGP4MP header and the start of the BGP message.
pub const MAX_SAMPLE_BYTES: usize = 64;

/// How many distinct skip reasons the summary keeps apart.
///
/// Malformed-record reasons carry the parser's message, which can vary with the bytes; past
/// this many, further malformed reasons share [`OTHER_MALFORMED`].
pub const MAX_SKIP_REASONS: usize = 64;

/// The reason under which malformed records are counted once [`MAX_SKIP_REASONS`] is reached.
pub const OTHER_MALFORMED: &str = "malformed record: other errors";

/// The reason for a BGP OPEN message.
pub const SKIP_OPEN: &str = "BGP message is not an UPDATE: OPEN";
/// The reason for a BGP NOTIFICATION message.
pub const SKIP_NOTIFICATION: &str = "BGP message is not an UPDATE: NOTIFICATION";
/// The reason for a BGP KEEPALIVE message.
pub const SKIP_KEEPALIVE: &str = "BGP message is not an UPDATE: KEEPALIVE";
/// The reason for a BGP ROUTE-REFRESH message.
pub const SKIP_ROUTE_REFRESH: &str = "BGP message is not an UPDATE: ROUTE-REFRESH";
/// The reason for a BGP4MP (or legacy BGP) state change record.
pub const SKIP_STATE_CHANGE: &str = "state change";
/// A BMP initiation message.
pub const SKIP_BMP_INITIATION: &str = "BMP initiation";
/// A BMP peer-up notification.
pub const SKIP_BMP_PEER_UP: &str = "BMP peer up";
/// A BMP peer-down notification.
pub const SKIP_BMP_PEER_DOWN: &str = "BMP peer down";
/// A BMP termination message.
pub const SKIP_BMP_TERMINATION: &str = "BMP termination";
/// A BMP route-monitoring message that only marks the end of a table dump.
pub const SKIP_BMP_END_OF_RIB: &str = "BMP End-of-RIB marker";
/// The reason for a TABLE_DUMP_V2 PEER_INDEX_TABLE record, which the RIB records after it use.
pub const SKIP_PEER_INDEX_TABLE: &str = "TABLE_DUMP_V2 peer index table";
/// The reason for a TABLE_DUMP_V2 GEO_PEER_TABLE record.
pub const SKIP_GEO_PEER_TABLE: &str = "TABLE_DUMP_V2 geo peer table";
/// The reason for a TABLE_DUMP_V2 RIB record that comes before any PEER_INDEX_TABLE.
pub const SKIP_RIB_WITHOUT_PEER_TABLE: &str =
    "TABLE_DUMP_V2 RIB record before any peer index table";
/// The reason for a RIB entry whose peer index the PEER_INDEX_TABLE lacks; counts entries.
pub const SKIP_UNKNOWN_PEER: &str =
    "RIB entry names a peer index missing from the peer index table";

/// Whether a skipped record was expected or damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SkipKind {
    /// A well-formed record that carries no capture: a KEEPALIVE, a state change, a peer table.
    Informational,
    /// A record the parser could not decode, or a RIB entry that cannot be attributed.
    Malformed,
}

/// A skip reason and how many times it occurred.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkipCount {
    /// Whether the skipped items were expected or damaged.
    pub kind: SkipKind,
    /// Why they were skipped, e.g. `BGP message is not an UPDATE: KEEPALIVE`.
    pub reason: String,
    /// How many were skipped: records, except for reasons about RIB entries, which count
    /// entries.
    pub count: u64,
}

/// A malformed record that was skipped: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MalformedRecord {
    /// The decompressed byte offset of the record's first byte.
    pub offset: u64,
    /// The record's length in bytes, header included.
    pub length: u64,
    /// The parser's error.
    pub error: String,
    /// The record's first bytes, at most [`MAX_SAMPLE_BYTES`].
    pub bytes: Vec<u8>,
}

/// Where and why a stream ended before its end: truncated or corrupt compressed data, or a
/// record cut short.
///
/// Every whole record before `offset` has been read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stop {
    /// The decompressed byte offset where the first incomplete record starts.
    pub offset: u64,
    /// The decompressed bytes past `offset` that were read but form no whole record.
    pub trailing_bytes: u64,
    /// What went wrong, from the decompressor or the parser.
    pub reason: String,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stopped at decompressed byte {} ({} bytes of an incomplete record follow): {}",
            self.offset, self.trailing_bytes, self.reason
        )
    }
}

/// The account of one ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IngestSummary {
    /// The compression of the input.
    pub compression: Compression,
    /// The whole MRT records read, including skipped ones.
    pub records: u64,
    /// The captures produced.
    pub captures: u64,
    /// The prefix elements of the captures: advertised plus withdrawn prefixes (1 per RIB
    /// entry).
    pub elements: u64,
    /// The decompressed bytes of the whole records read.
    pub bytes: u64,
    /// The skip reasons in order of first occurrence, with their counts.
    pub skipped: Vec<SkipCount>,
    /// The first [`MAX_MALFORMED_SAMPLES`] malformed records.
    pub malformed_samples: Vec<MalformedRecord>,
    /// Where the stream ended early, if it did.
    pub stopped: Option<Stop>,
}

impl IngestSummary {
    /// An empty summary of an input with compression `compression`.
    pub(crate) fn new(compression: Compression) -> Self {
        Self {
            compression,
            records: 0,
            captures: 0,
            elements: 0,
            bytes: 0,
            skipped: Vec::new(),
            malformed_samples: Vec::new(),
            stopped: None,
        }
    }

    /// How many were skipped for reason `reason`; 0 if none.
    pub fn skip_count(&self, reason: &str) -> u64 {
        self.skipped
            .iter()
            .find(|skip| skip.reason == reason)
            .map_or(0, |skip| skip.count)
    }

    /// How many were skipped with kind `kind`, over all reasons.
    pub fn skipped_total(&self, kind: SkipKind) -> u64 {
        self.skipped
            .iter()
            .filter(|skip| skip.kind == kind)
            .map(|skip| skip.count)
            .sum()
    }

    /// Counts one skip for `reason`.
    pub(crate) fn skip(&mut self, kind: SkipKind, reason: &str) {
        if let Some(skip) = self
            .skipped
            .iter_mut()
            .find(|skip| skip.kind == kind && skip.reason == reason)
        {
            skip.count += 1;
            return;
        }
        let reason = if self.skipped.len() >= MAX_SKIP_REASONS && kind == SkipKind::Malformed {
            OTHER_MALFORMED
        } else {
            reason
        };
        if reason == OTHER_MALFORMED
            && let Some(skip) = self
                .skipped
                .iter_mut()
                .find(|s| s.reason == OTHER_MALFORMED)
        {
            skip.count += 1;
            return;
        }
        self.skipped.push(SkipCount {
            kind,
            reason: reason.to_owned(),
            count: 1,
        });
    }

    /// Counts a malformed record of `length` bytes skipped at `offset`, and keeps a sample
    /// (`head` holds its first bytes) of the first few; returns whether it kept one.
    pub(crate) fn skip_malformed(
        &mut self,
        offset: u64,
        length: u64,
        error: &str,
        head: &[u8],
    ) -> bool {
        self.skip(SkipKind::Malformed, &format!("malformed record: {error}"));
        if self.malformed_samples.len() >= MAX_MALFORMED_SAMPLES {
            return false;
        }
        self.malformed_samples.push(MalformedRecord {
            offset,
            length,
            error: error.to_owned(),
            bytes: head[..head.len().min(MAX_SAMPLE_BYTES)].to_vec(),
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_skips_by_reason() {
        let mut summary = IngestSummary::new(Compression::None);
        summary.skip(SkipKind::Informational, "a");
        summary.skip(SkipKind::Informational, "a");
        summary.skip(SkipKind::Informational, "b");
        summary.skip_malformed(7, 100, "bad", &[1; 100]);
        assert_eq!(summary.skip_count("a"), 2);
        assert_eq!(summary.skip_count("b"), 1);
        assert_eq!(summary.skip_count("malformed record: bad"), 1);
        assert_eq!(summary.skip_count("c"), 0);
        assert_eq!(summary.skipped_total(SkipKind::Informational), 3);
        assert_eq!(summary.skipped_total(SkipKind::Malformed), 1);
        let sample = &summary.malformed_samples[0];
        assert_eq!((sample.offset, sample.length), (7, 100));
        assert_eq!(sample.bytes.len(), MAX_SAMPLE_BYTES);
    }

    #[test]
    fn caps_reasons_and_samples() {
        let mut summary = IngestSummary::new(Compression::None);
        for i in 0..200 {
            summary.skip_malformed(i, 4, &format!("error {i}"), &[0; 4]);
        }
        assert_eq!(summary.skipped.len(), MAX_SKIP_REASONS + 1);
        assert_eq!(summary.skipped_total(SkipKind::Malformed), 200);
        assert_eq!(
            summary.skip_count(OTHER_MALFORMED),
            200 - MAX_SKIP_REASONS as u64
        );
        assert_eq!(summary.malformed_samples.len(), MAX_MALFORMED_SAMPLES);
    }
}
