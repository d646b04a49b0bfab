//! Storage for bgpmon: captures, entities, findings and nodes in an embedded redb
//! file, with filters, sessions and transactional streams.
//!
//! A [`Backend`] holds named sessions (datasets), each with its own
//! captures, indexes, imports and entities; a [`Session`] bounds how many
//! streams are open on one; writers commit durably on `flush` and roll
//! back otherwise; readers return batches, answered from indexes where the
//! filter allows (see [`Backend::explain`]).
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use bgpmon_store::{Backend, CaptureFilter, RedbBackend, Session, SessionOptions};
//! use tokio_util::sync::CancellationToken;
//!
//! let dir = tempfile::tempdir()?;
//! let backend = Arc::new(RedbBackend::open(dir.path().join("bgp.redb"))?);
//! let stored = backend.open_dataset("s1", true)?.ok_or("not created")?;
//! let session = Session::new("s1", stored.dataset, "redb", backend, SessionOptions::default());
//! let mut reader = session.capture_reader(CaptureFilter::default(), false).await?;
//! let batch = reader.read(100, &CancellationToken::new()).await?;
//! assert!(batch.is_empty());
//! # Ok(())
//! # }
//! ```

mod backend;
mod block;
mod dataset;
mod directory;
mod encoded;
mod error;
mod filter;
mod finding;
mod index;
mod model;
mod plan;
mod redb_backend;
mod schema;
mod session;
mod stream;

pub use backend::{Backend, ScanLimits, ScanPage, ScanPosition};
pub use dataset::{
    CaptureSelection, DatasetId, Import, ImportBegun, ImportSpec, SessionStats, StoredSession,
};
pub use encoded::EncodedCaptures;
pub use error::{Result, StorageFault, StoreError};
pub use filter::{
    AddressFamily, AsPathRegex, CaptureFilter, CaptureKind, CommunityPattern,
    CommunityPatternError, EntityFilter, MAX_PATH_REGEX_BYTES, MAX_PATH_REGEX_COMPILED_BYTES,
    PathRegexError, PrefixMatch, PrefixScope, PrefixTerm, TimeRange,
};
pub use finding::{FindingFilter, FindingPage, NewFinding, StoredFinding};
pub use model::{
    Aggregator, Capture, Community, Entity, MaxLengthOutOfRange, Node, OriginAttribute,
    OwnedPrefix, PathSegment, PrefixEvent, RouteView,
};
pub use redb_backend::RedbBackend;
pub use session::{
    DEFAULT_MODULE_STREAMS, DEFAULT_MODULE_WORKERS, DEFAULT_WORKER_WAIT, DEFAULT_WORKERS,
    MAX_WORKERS, ModuleStreams, ReadOnlySession, Session, SessionOptions, WorkerPool,
};
pub use stream::{
    CaptureReader, CaptureWriter, Committable, EntityReader, EntityWriter, MAX_READ_BATCH,
    MAX_READ_BYTES, MAX_SCAN_ROWS, MAX_WRITE_BUFFER, MAX_WRITE_BUFFER_BYTES, PendingFlush,
    PrefixReader, Writer,
};
