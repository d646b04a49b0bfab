//! The storage trait every backend implements.
//!
//! It speaks of datasets (sessions as the store keeps them), imports,
//! filtered scans, counts and deletes, so that a second backend (for
//! example PostgreSQL) can answer every one with its own indexes, and
//! sessions, streams, modules and the API never see which one runs.

use tokio::sync::watch;

use crate::dataset::{CaptureSelection, DatasetId, Import, ImportBegun, ImportSpec, StoredSession};
use crate::encoded::EncodedCaptures;
use crate::error::Result;
use crate::filter::{CaptureFilter, EntityFilter};
use crate::finding::{FindingFilter, FindingPage, NewFinding};
use crate::model::{Capture, Entity, Node};

/// Where a capture scan resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanPosition {
    /// Time order, after the capture `after` (the start when `None`),
    /// skipping captures committed after sequence number `max_seq`.
    TimeOrder {
        /// The last `(timestamp_us, seq)` returned.
        after: Option<(u64, u64)>,
        /// Where the backend resumes, if it said: for the redb backend the
        /// `(first timestamp, block)` of the first block that still holds
        /// captures after `after`. Leave it `None` to start a scan; a
        /// backend that gets `None` with `after` set finds its own place.
        from: Option<(u64, u32)>,
        /// The last sequence number visible to the scan.
        max_seq: u64,
    },
    /// Commit order, after sequence number `after`.
    CommitOrder {
        /// The last sequence number returned.
        after: u64,
    },
}

impl ScanPosition {
    /// The position as text a client can keep and hand back to resume a
    /// read: `t:AFTER_TS:AFTER_SEQ:FROM_TS:FROM_BLOCK:MAX_SEQ` (`-` for an
    /// absent part) or `c:AFTER_SEQ`, behind a `v1:` version tag.
    pub fn to_cursor(&self) -> String {
        let part = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        match *self {
            Self::TimeOrder {
                after,
                from,
                max_seq,
            } => format!(
                "v1:t:{}:{}:{}:{}:{max_seq}",
                part(after.map(|a| a.0)),
                part(after.map(|a| a.1)),
                part(from.map(|f| f.0)),
                part(from.map(|f| u64::from(f.1))),
            ),
            Self::CommitOrder { after } => format!("v1:c:{after}"),
        }
    }

    /// Reads a cursor written by [`to_cursor`](Self::to_cursor).
    ///
    /// Returns an error naming the cursor if it is not one.
    pub fn from_cursor(text: &str) -> Result<Self, crate::StoreError> {
        let bad = || crate::StoreError::BadCursor {
            cursor: text.chars().take(100).collect(),
        };
        let number = |s: &str| -> Result<Option<u64>, crate::StoreError> {
            if s == "-" {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| bad())
        };
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["v1", "c", after] => Ok(Self::CommitOrder {
                after: number(after)?.ok_or_else(bad)?,
            }),
            ["v1", "t", ts, seq, from_ts, from_block, max_seq] => {
                let after = match (number(ts)?, number(seq)?) {
                    (Some(t), Some(s)) => Some((t, s)),
                    (None, None) => None,
                    _ => return Err(bad()),
                };
                let from = match (number(from_ts)?, number(from_block)?) {
                    (Some(t), Some(b)) => Some((t, u32::try_from(b).map_err(|_| bad())?)),
                    (None, None) => None,
                    _ => return Err(bad()),
                };
                Ok(Self::TimeOrder {
                    after,
                    from,
                    max_seq: number(max_seq)?.ok_or_else(bad)?,
                })
            }
            _ => Err(bad()),
        }
    }
}

/// How much one capture scan may return and examine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanLimits {
    /// The most captures returned.
    pub items: usize,
    /// The most captures examined, matching or not.
    pub rows: usize,
    /// The scan stops once the captures it returns reach this many stored
    /// (encoded) bytes; it always returns at least one match it finds.
    pub bytes: usize,
}

/// One page of a capture scan.
#[derive(Debug)]
pub struct ScanPage {
    /// The matching captures, in scan order.
    pub captures: Vec<Capture>,
    /// Where the next page starts.
    pub next: ScanPosition,
    /// True when nothing is left after `next`.
    pub exhausted: bool,
    /// How many stored captures the scan decoded and checked.
    pub examined: usize,
}

/// A storage backend.
///
/// Every method blocks; call them off the async runtime. Every method
/// that names a dataset returns [`StoreError::UnknownDataset`] when it
/// does not exist (any more).
///
/// [`StoreError::UnknownDataset`]: crate::StoreError::UnknownDataset
pub trait Backend: std::fmt::Debug + Send + Sync + 'static {
    /// The stored session `name`, created empty first when `create` is
    /// set; `None` if it is not stored and `create` is not set.
    ///
    /// Returns an error if the storage fails.
    fn open_dataset(&self, name: &str, create: bool) -> Result<Option<StoredSession>>;

    /// Every stored session, by name.
    ///
    /// Returns an error if the storage fails.
    fn datasets(&self) -> Result<Vec<StoredSession>>;

    /// The stored session of `dataset`, with its current counters.
    fn dataset(&self, dataset: DatasetId) -> Result<StoredSession>;

    /// Deletes a session and everything stored in it.
    fn delete_dataset(&self, dataset: DatasetId) -> Result<()>;

    /// Records the start of an import.
    ///
    /// Returns [`StoreError::AlreadyImported`] if the same bytes were
    /// imported completely and `spec.force` is not set. A partial import
    /// of the same bytes is deleted, captures included, in the same
    /// transaction.
    ///
    /// [`StoreError::AlreadyImported`]: crate::StoreError::AlreadyImported
    fn begin_import(&self, dataset: DatasetId, spec: &ImportSpec) -> Result<ImportBegun>;

    /// Marks an import complete and returns its record.
    fn finish_import(&self, dataset: DatasetId, import: u32) -> Result<Import>;

    /// Every import of a session, by number.
    fn imports(&self, dataset: DatasetId) -> Result<Vec<Import>>;

    /// Commits `captures`, durably and atomically, with their indexes, as
    /// part of `import` when given, and returns the last sequence number
    /// assigned. Captures with equal timestamps keep their order.
    ///
    /// Returns an error if the storage fails; then nothing is committed.
    fn append_captures(
        &self,
        dataset: DatasetId,
        import: Option<u32>,
        captures: &EncodedCaptures,
    ) -> Result<u64>;

    /// Scans captures from `position`, within `limits`.
    fn scan_captures(
        &self,
        dataset: DatasetId,
        position: ScanPosition,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage>;

    /// Counts the captures that match `filter`.
    fn count_captures(&self, dataset: DatasetId, filter: &CaptureFilter) -> Result<u64>;

    /// Describes how `filter` would be answered, for people and tests.
    fn explain(&self, dataset: DatasetId, filter: &CaptureFilter) -> Result<String>;

    /// Deletes the selected captures, durably and atomically, and returns
    /// how many were deleted.
    fn delete_captures(&self, dataset: DatasetId, selection: &CaptureSelection) -> Result<u64>;

    /// Commits `entities` durably and atomically, replacing entities of the
    /// same name.
    fn put_entities(&self, dataset: DatasetId, entities: &[Entity]) -> Result<()>;

    /// Returns up to `max_items` entities matching `filter`, in name order,
    /// after the name `after`; fewer once they reach
    /// [`MAX_READ_BYTES`](crate::MAX_READ_BYTES) stored bytes, but at least
    /// one if any matches.
    fn scan_entities(
        &self,
        dataset: DatasetId,
        after: Option<&str>,
        filter: &EntityFilter,
        max_items: usize,
    ) -> Result<Vec<Entity>>;

    /// Commits `nodes` durably, replacing nodes with the same IP address.
    fn put_nodes(&self, nodes: &[Node]) -> Result<()>;

    /// Returns every node, by IP address.
    fn nodes(&self) -> Result<Vec<Node>>;

    /// A receiver of the last committed capture sequence number; it
    /// changes after every capture commit.
    fn committed(&self) -> watch::Receiver<u64>;

    /// Commits `findings` to the session, durably and atomically, numbering
    /// them on from its last, and returns the last number assigned.
    fn append_findings(&self, dataset: DatasetId, findings: &[NewFinding]) -> Result<u64>;

    /// Returns the findings after number `after` that match `filter`: up
    /// to `max_items` (at least one), fewer once they reach
    /// [`MAX_READ_BYTES`](crate::MAX_READ_BYTES) stored bytes or the scan
    /// has looked at [`MAX_SCAN_ROWS`](crate::MAX_SCAN_ROWS) findings.
    fn scan_findings(
        &self,
        dataset: DatasetId,
        after: u64,
        filter: &FindingFilter,
        max_items: usize,
    ) -> Result<FindingPage>;

    /// How many findings the session holds (findings are never deleted
    /// one by one, so this is also the last number assigned).
    fn count_findings(&self, dataset: DatasetId) -> Result<u64>;

    /// A receiver that changes after every findings commit, in any session.
    fn findings_committed(&self) -> watch::Receiver<u64>;
}
