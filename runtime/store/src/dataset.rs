//! Sessions as a store keeps them: named datasets with counters, and the
//! record of every file imported into one.

use serde::{Deserialize, Serialize};

use crate::filter::CaptureFilter;

/// A dataset's number inside its store. Every read and write names one,
/// so a stream can only reach its own session's data; a session deleted
/// and created again gets a new number, so old handles never see the new
/// data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DatasetId(pub u32);

/// What a store counts for one session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStats {
    /// Captures stored.
    pub captures: u64,
    /// Blocks of captures stored.
    pub blocks: u64,
    /// Bytes of stored (compressed) capture blocks.
    pub block_bytes: u64,
    /// Bytes of index postings.
    pub index_bytes: u64,
    /// The earliest capture time, in microseconds.
    pub first_us: Option<u64>,
    /// The latest capture time, in microseconds.
    pub last_us: Option<u64>,
    /// Imports recorded.
    pub imports: u64,
}

impl SessionStats {
    /// The bytes the session's captures and indexes take, before the
    /// store's own page overhead.
    pub fn stored_bytes(&self) -> u64 {
        self.block_bytes + self.index_bytes
    }
}

/// A session stored in a store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    /// The session's name (its id in the API).
    pub name: String,
    /// Its dataset number.
    pub dataset: DatasetId,
    /// When it was created, in microseconds since the unix epoch.
    pub created_us: u64,
    /// Its counters.
    pub stats: SessionStats,
}

/// A file to import, as the client describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSpec {
    /// The file's name, as given.
    pub file_name: String,
    /// The sha256 of its bytes, in lowercase hex.
    pub sha256: String,
    /// Store it again even if the same bytes were imported completely.
    pub force: bool,
}

/// The record of one file loaded into a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// Its number within the session, from 1.
    pub id: u32,
    /// The file's name, as given.
    pub file_name: String,
    /// The sha256 of its bytes, in lowercase hex.
    pub sha256: String,
    /// Captures stored from it.
    pub captures: u64,
    /// The earliest capture time stored from it.
    pub first_us: Option<u64>,
    /// The latest capture time stored from it.
    pub last_us: Option<u64>,
    /// Whether the load finished; a partial import was interrupted, lost
    /// its connection or read a cut file.
    pub complete: bool,
    /// When the load started, in microseconds since the unix epoch.
    pub started_us: u64,
    /// When it finished.
    pub finished_us: Option<u64>,
}

/// What [`Backend::begin_import`](crate::Backend::begin_import) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportBegun {
    /// The new import.
    pub import: Import,
    /// A partial import of the same bytes that it replaced, with its
    /// captures deleted.
    pub replaced: Option<Import>,
}

/// Which captures a delete removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureSelection {
    /// Every capture of one import, and the import's record.
    Import(u32),
    /// Every capture the filter matches.
    Filter(Box<CaptureFilter>),
}
