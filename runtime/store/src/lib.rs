//! Storage for bgpmon: captures, entities and nodes in an embedded redb
//! file, with filters, sessions and transactional streams.
//!
//! A [`Backend`] commits and scans; a [`Session`] bounds how many streams
//! are open on it; writers commit durably on `flush` and roll back
//! otherwise; readers return batches.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use bgpmon_store::{CaptureFilter, RedbBackend, Session, SessionOptions};
//! use tokio_util::sync::CancellationToken;
//!
//! let dir = tempfile::tempdir()?;
//! let backend = Arc::new(RedbBackend::open(dir.path().join("bgp.redb"))?);
//! let session = Session::new("s1", "redb", backend, SessionOptions::default());
//! let mut reader = session.capture_reader(CaptureFilter::default(), false).await?;
//! let batch = reader.read(100, &CancellationToken::new()).await?;
//! assert!(batch.is_empty());
//! # Ok(())
//! # }
//! ```

mod backend;
mod block;
mod encoded;
mod error;
mod filter;
mod model;
mod redb_backend;
mod schema;
mod session;
mod stream;

pub use backend::{Backend, ScanLimits, ScanPage, ScanPosition};
pub use encoded::EncodedCaptures;
pub use error::{Result, StoreError};
pub use filter::{
    AddressFamily, AsPathRegex, CaptureFilter, CaptureKind, CommunityPattern,
    CommunityPatternError, EntityFilter, MAX_PATH_REGEX_BYTES, MAX_PATH_REGEX_COMPILED_BYTES,
    PathRegexError, PrefixMatch, PrefixScope, PrefixTerm, TimeRange,
};
pub use model::{
    Aggregator, Capture, Community, Entity, MaxLengthOutOfRange, Node, OriginAttribute,
    OwnedPrefix, PathSegment, PrefixEvent,
};
pub use redb_backend::RedbBackend;
pub use session::{DEFAULT_WORKER_WAIT, DEFAULT_WORKERS, MAX_WORKERS, Session, SessionOptions};
pub use stream::{
    CaptureReader, CaptureWriter, Committable, EntityReader, EntityWriter, MAX_READ_BATCH,
    MAX_READ_BYTES, MAX_SCAN_ROWS, MAX_WRITE_BUFFER, MAX_WRITE_BUFFER_BYTES, PendingFlush,
    PrefixReader, Writer,
};
