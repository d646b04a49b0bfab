//! Errors of the storage layer.

use std::path::PathBuf;
use std::time::Duration;

/// An error from a store, a session or a stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error(
        "cannot open store {path:?}: {source}; check the path and that no other process holds it"
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// What redb said.
        #[source]
        source: redb::DatabaseError,
    },
    /// The file holds a schema this build does not read.
    #[error(
        "store {path:?} has schema version {found}, this build reads version {expected}; use a matching bgpmon release, or move the file away to start an empty store"
    )]
    SchemaVersion {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: u64,
        /// The version expected.
        expected: u64,
    },
    /// A storage operation failed.
    #[error("storage failed while {operation}: {source}; {}", fault_of(source).hint())]
    Storage {
        /// What the store was doing.
        operation: &'static str,
        /// What redb said.
        #[source]
        source: redb::Error,
    },
    /// A stored record could not be decoded.
    #[error("stored {what} is corrupt: {detail}; the store may need repair")]
    Corrupt {
        /// What kind of record.
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
    /// A blocking storage task panicked or was cancelled: a bug of the
    /// daemon, not a fault of the stored data.
    #[error("the {task} failed: {detail}; this is a bug of bgpmond, please report it")]
    TaskFailed {
        /// Which task: `commit task`, `scan task` or `storage task`.
        task: &'static str,
        /// What tokio said.
        detail: String,
    },
    /// The session is closed.
    #[error("session {session:?} is closed; open a new session")]
    Closed {
        /// The session id.
        session: String,
    },
    /// Every worker of a pool of the session stayed busy for the whole
    /// wait.
    #[error(
        "session {session:?} has all {workers} {pool} busy after waiting {waited:?}; close a stream or configure more {pool}"
    )]
    WorkersBusy {
        /// The session id.
        session: String,
        /// The pool: the API's or the modules'.
        pool: crate::session::WorkerPool,
        /// Its worker count.
        workers: u32,
        /// How long the open waited.
        waited: Duration,
    },
    /// A module family holds as many streams of the session as it may.
    #[error(
        "module {module:?} has {limit} streams open on session {session:?}, its limit (module_streams = {limit}); drop a stream before opening another"
    )]
    ModuleStreamsBusy {
        /// The session id.
        session: String,
        /// The module family: its root run's id.
        module: String,
        /// The limit, `module_streams`.
        limit: u32,
    },
    /// A write stream's buffer is full.
    #[error("write buffer holds {limit} records, its limit; flush before writing more")]
    BufferFull {
        /// The buffer limit in records.
        limit: usize,
    },
    /// A write stream's buffer holds its limit in bytes.
    #[error(
        "write buffer holds {limit} bytes of records, its limit; flush before writing more, or write smaller records"
    )]
    BufferBytesFull {
        /// The buffer limit in bytes, as estimated from the records.
        limit: usize,
    },
    /// An entity has an empty name.
    #[error("entity name is empty; give every entity a unique name")]
    EmptyEntityName,
    /// A dataset is not stored (any more).
    #[error("session {session:?} is not stored; it was deleted, or open it again to create it")]
    UnknownDataset {
        /// The session's name, or its dataset number when the name is gone.
        session: String,
    },
    /// The same file was imported completely before.
    #[error(
        "{file_name:?} (sha256 {sha256}) was already imported completely into session {session:?} as import {import}; pass --force to store it again, or delete that import first"
    )]
    AlreadyImported {
        /// The session.
        session: String,
        /// The file's name.
        file_name: String,
        /// The file's sha256.
        sha256: String,
        /// The earlier import's number.
        import: u32,
    },
    /// No import has this number in the session.
    #[error(
        "session {session:?} has no import {import}; list its imports with \"bgpmon session info {session}\""
    )]
    UnknownImport {
        /// The session.
        session: String,
        /// The import number.
        import: u32,
    },
    /// An import was written to after it was finished.
    #[error("import {import} of session {session:?} is complete; start a new import to load more")]
    ImportComplete {
        /// The session.
        session: String,
        /// The import number.
        import: u32,
    },
    /// A stream tried to write through a read-only grant.
    #[error(
        "session {session:?} is granted read-only; ask the operator for a read-write grant to write to it"
    )]
    ReadOnly {
        /// The session.
        session: String,
    },
    /// A read cursor is not one this store wrote.
    #[error(
        "cursor {cursor:?} is not a read cursor; pass the cursor of an earlier response, or none to read from the start"
    )]
    BadCursor {
        /// The cursor given, cut to 100 characters.
        cursor: String,
    },
    /// One capture is larger than a stored capture may be.
    #[error(
        "a capture is {bytes} bytes encoded, over the {limit}-byte limit of one stored capture; split it into smaller updates"
    )]
    CaptureTooLarge {
        /// Its encoded size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

/// What a storage failure means for whoever asked, so the API can answer
/// with a status that says it (see [`StoreError::storage_fault`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageFault {
    /// Another process holds the store file.
    Locked,
    /// The store refuses work after an earlier I/O error, until the daemon
    /// reopens it.
    Poisoned,
    /// The disk, a quota or the file-size limit is full.
    Full,
    /// Stored data is corrupt.
    Corrupt,
    /// Any other I/O or storage failure.
    Failed,
}

impl StorageFault {
    /// What to do about it, as the end of an error message.
    pub fn hint(self) -> &'static str {
        match self {
            Self::Locked => "check that no other process (another bgpmond) holds the store file",
            Self::Poisoned => {
                "the store refuses work after an earlier I/O error; fix that error's cause (see the daemon's log) and restart bgpmond"
            }
            Self::Full => "free disk space or raise the quota or file-size limit, then retry",
            Self::Corrupt => {
                "the store file is damaged; restart bgpmond to let redb repair it, or restore a backup"
            }
            Self::Failed => "check the disk and the daemon's log, then retry",
        }
    }
}

/// The fault a redb error stands for.
fn fault_of(e: &redb::Error) -> StorageFault {
    match e {
        redb::Error::DatabaseAlreadyOpen => StorageFault::Locked,
        redb::Error::PreviousIo => StorageFault::Poisoned,
        redb::Error::Corrupted(_) => StorageFault::Corrupt,
        redb::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::StorageFull
            | std::io::ErrorKind::QuotaExceeded
            | std::io::ErrorKind::FileTooLarge => StorageFault::Full,
            _ => StorageFault::Failed,
        },
        _ => StorageFault::Failed,
    }
}

impl StoreError {
    /// What a failure of the storage itself means, or `None` for an error
    /// of the caller or of a session's state:
    /// - [`Open`](Self::Open) and [`Storage`](Self::Storage) by what redb
    ///   said;
    /// - [`Corrupt`](Self::Corrupt) as [`StorageFault::Corrupt`].
    pub fn storage_fault(&self) -> Option<StorageFault> {
        match self {
            Self::Open { source, .. } => Some(match source {
                redb::DatabaseError::DatabaseAlreadyOpen => StorageFault::Locked,
                redb::DatabaseError::Storage(redb::StorageError::Corrupted(_)) => {
                    StorageFault::Corrupt
                }
                _ => StorageFault::Failed,
            }),
            Self::Storage { source, .. } => Some(fault_of(source)),
            Self::Corrupt { .. } => Some(StorageFault::Corrupt),
            _ => None,
        }
    }
}

/// The storage result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Adds the operation to a redb error.
pub(crate) trait During<T> {
    /// Maps the error to [`StoreError::Storage`] naming `operation`.
    fn during(self, operation: &'static str) -> Result<T>;
}

impl<T, E: Into<redb::Error>> During<T> for std::result::Result<T, E> {
    fn during(self, operation: &'static str) -> Result<T> {
        self.map_err(|e| StoreError::Storage {
            operation,
            source: e.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage(source: redb::Error) -> StoreError {
        StoreError::Storage {
            operation: "committing a write",
            source,
        }
    }

    #[test]
    fn storage_faults_name_their_cause_and_what_to_do() {
        // EFBIG, as a write past RLIMIT_FSIZE gets it.
        let full = storage(redb::Error::Io(std::io::Error::from_raw_os_error(27)));
        assert_eq!(full.storage_fault(), Some(StorageFault::Full));
        let text = full.to_string();
        assert!(
            text.starts_with("storage failed while committing a write: "),
            "{text}"
        );
        assert!(text.contains("File too large"), "{text}");
        assert!(
            text.ends_with("free disk space or raise the quota or file-size limit, then retry"),
            "{text}"
        );

        let poisoned = storage(redb::Error::PreviousIo);
        assert_eq!(poisoned.storage_fault(), Some(StorageFault::Poisoned));
        assert!(
            poisoned.to_string().contains("restart bgpmond"),
            "{poisoned}"
        );

        let eio = storage(redb::Error::Io(std::io::Error::from_raw_os_error(5)));
        assert_eq!(eio.storage_fault(), Some(StorageFault::Failed));
        assert_eq!(
            storage(redb::Error::Corrupted("bad page".into())).storage_fault(),
            Some(StorageFault::Corrupt)
        );
        let locked = StoreError::Open {
            path: "bgp.redb".into(),
            source: redb::DatabaseError::DatabaseAlreadyOpen,
        };
        assert_eq!(locked.storage_fault(), Some(StorageFault::Locked));
        assert_eq!(
            StoreError::Closed {
                session: "s1".into()
            }
            .storage_fault(),
            None
        );
    }
}
