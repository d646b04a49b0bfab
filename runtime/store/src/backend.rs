//! The storage trait every backend implements.
//!
//! It is small on purpose: commit a batch, scan a page, and tell readers
//! when something was committed. Sessions and streams build the rest on it,
//! so a second backend (for example PostgreSQL) needs only these calls.

use tokio::sync::watch;

use crate::encoded::EncodedCaptures;
use crate::error::Result;
use crate::filter::{CaptureFilter, EntityFilter};
use crate::model::{Capture, Entity, Node};

/// Where a capture scan resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanPosition {
    /// Time order, after the key `after` (the start when `None`), skipping
    /// captures committed after sequence number `max_seq`.
    TimeOrder {
        /// The last `(timestamp_us, seq)` returned.
        after: Option<(u64, u64)>,
        /// The last sequence number visible to the scan.
        max_seq: u64,
    },
    /// Commit order, after sequence number `after`.
    CommitOrder {
        /// The last sequence number returned.
        after: u64,
    },
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
}

/// A storage backend.
///
/// Every method blocks; call them off the async runtime.
pub trait Backend: std::fmt::Debug + Send + Sync + 'static {
    /// Commits `captures`, durably and atomically, and returns the last
    /// sequence number assigned. Captures with equal timestamps keep their
    /// order.
    ///
    /// Returns an error if the storage fails; then nothing is committed.
    fn append_captures(&self, captures: &EncodedCaptures) -> Result<u64>;

    /// Scans captures from `position`, within `limits`.
    fn scan_captures(
        &self,
        position: ScanPosition,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage>;

    /// Commits `entities` durably and atomically, replacing entities of the
    /// same name.
    fn put_entities(&self, entities: &[Entity]) -> Result<()>;

    /// Returns up to `max_items` entities matching `filter`, in name order,
    /// after the name `after`; fewer once they reach
    /// [`MAX_READ_BYTES`](crate::MAX_READ_BYTES) stored bytes, but at least
    /// one if any matches.
    fn scan_entities(
        &self,
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
}
