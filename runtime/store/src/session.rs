//! Sessions: an open handle on one stored dataset with a bounded number of
//! workers.
//!
//! Every stream holds one worker for its whole life. Opening a stream when
//! all workers are busy waits up to the session's wait time, then fails.
//! Closing a session wakes every waiter and makes every open stream fail
//! with [`StoreError::Closed`]; no lock is held while a stream waits. The
//! data stays stored: a session opened again sees it.
//!
//! A [`Session`] gives full access; [`Session::read_only`] gives a view
//! that opens readers only, for a module granted reading alone.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::backend::Backend;
use crate::dataset::{CaptureSelection, DatasetId, Import, ImportBegun, ImportSpec, StoredSession};
use crate::error::{Result, StoreError};
use crate::filter::{CaptureFilter, EntityFilter};
use crate::stream::{CaptureReader, CaptureWriter, EntityReader, EntityWriter, PrefixReader};

/// The default number of streams open at once on one session.
pub const DEFAULT_WORKERS: u32 = 4;

/// The default time a stream open waits for a free worker.
pub const DEFAULT_WORKER_WAIT: Duration = Duration::from_secs(10);

/// The most workers one session may have; each holds at most one stream
/// and its buffers, so this bounds a session's memory.
pub const MAX_WORKERS: u32 = 1024;

/// What a session is opened with.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// How many streams may be open at once.
    ///
    /// By default [`DEFAULT_WORKERS`].
    pub workers: u32,
    /// How long a stream open waits for a free worker.
    ///
    /// By default [`DEFAULT_WORKER_WAIT`].
    pub worker_wait: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            workers: DEFAULT_WORKERS,
            worker_wait: DEFAULT_WORKER_WAIT,
        }
    }
}

/// An open session on a store.
pub struct Session {
    id: String,
    session_type: String,
    backend: Arc<dyn Backend>,
    dataset: DatasetId,
    options: SessionOptions,
    workers: Arc<Semaphore>,
    closed: CancellationToken,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("session_type", &self.session_type)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// One worker slot of a session, held by a stream for its whole life.
#[derive(Debug)]
pub(crate) struct Worker {
    pub(crate) session: String,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) dataset: DatasetId,
    pub(crate) closed: CancellationToken,
    _permit: OwnedSemaphorePermit,
}

impl Worker {
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.is_cancelled() {
            return Err(StoreError::Closed {
                session: self.session.clone(),
            });
        }
        Ok(())
    }
}

/// Runs blocking backend work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Corrupt {
            what: "storage task",
            detail: e.to_string(),
        })?
}

impl Session {
    /// A session named `name` on the stored dataset `dataset` of
    /// `backend` (see [`Backend::open_dataset`]), of type `session_type`.
    ///
    /// `options.workers` is clamped to `1..=MAX_WORKERS`.
    pub fn new(
        name: impl Into<String>,
        dataset: DatasetId,
        session_type: impl Into<String>,
        backend: Arc<dyn Backend>,
        mut options: SessionOptions,
    ) -> Self {
        options.workers = options.workers.clamp(1, MAX_WORKERS);
        Self {
            id: name.into(),
            session_type: session_type.into(),
            backend,
            dataset,
            workers: Arc::new(Semaphore::new(options.workers as usize)),
            options,
            closed: CancellationToken::new(),
        }
    }

    /// The session's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The session type it was opened from.
    pub fn session_type(&self) -> &str {
        &self.session_type
    }

    /// How many streams may be open at once.
    pub fn workers(&self) -> u32 {
        self.options.workers
    }

    /// How many streams are open now.
    pub fn workers_busy(&self) -> u32 {
        let free = u32::try_from(self.workers.available_permits()).unwrap_or(u32::MAX);
        self.options.workers.saturating_sub(free)
    }

    /// The store behind the session.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// The session's dataset in its store.
    pub fn dataset(&self) -> DatasetId {
        self.dataset
    }

    /// A view of the session that only reads.
    pub fn read_only(self: &Arc<Self>) -> ReadOnlySession {
        ReadOnlySession {
            session: self.clone(),
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            return Err(StoreError::Closed {
                session: self.id.clone(),
            });
        }
        Ok(())
    }

    async fn with_backend<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Backend, DatasetId) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.check_open()?;
        let backend = self.backend.clone();
        let dataset = self.dataset;
        blocking(move || work(backend.as_ref(), dataset)).await
    }

    /// The session as stored, with its counters.
    ///
    /// Returns an error if the session is closed or was deleted, or the
    /// storage fails.
    pub async fn stored(&self) -> Result<StoredSession> {
        self.with_backend(|b, d| b.dataset(d)).await
    }

    /// The session's imports.
    ///
    /// Returns an error as [`stored`](Self::stored) does.
    pub async fn imports(&self) -> Result<Vec<Import>> {
        self.with_backend(|b, d| b.imports(d)).await
    }

    /// Records the start of an import; see [`Backend::begin_import`].
    ///
    /// Returns an error as [`Backend::begin_import`] does.
    pub async fn begin_import(&self, spec: ImportSpec) -> Result<ImportBegun> {
        self.with_backend(move |b, d| b.begin_import(d, &spec))
            .await
    }

    /// Marks an import complete.
    ///
    /// Returns an error if the import is unknown, or as
    /// [`stored`](Self::stored) does.
    pub async fn finish_import(&self, import: u32) -> Result<Import> {
        self.with_backend(move |b, d| b.finish_import(d, import))
            .await
    }

    /// Counts the captures that match `filter`.
    ///
    /// Returns an error as [`stored`](Self::stored) does.
    pub async fn count(&self, filter: CaptureFilter) -> Result<u64> {
        self.with_backend(move |b, d| b.count_captures(d, &filter))
            .await
    }

    /// Describes how `filter` would be answered.
    ///
    /// Returns an error as [`stored`](Self::stored) does.
    pub async fn explain(&self, filter: CaptureFilter) -> Result<String> {
        self.with_backend(move |b, d| b.explain(d, &filter)).await
    }

    /// Deletes the selected captures and returns how many were deleted.
    ///
    /// Returns an error if the import is unknown, or as
    /// [`stored`](Self::stored) does.
    pub async fn delete_captures(&self, selection: CaptureSelection) -> Result<u64> {
        self.with_backend(move |b, d| b.delete_captures(d, &selection))
            .await
    }

    /// Whether the session was closed.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Closes the session: pending and future stream opens fail, open
    /// streams fail on their next call, and unflushed writes roll back.
    /// A flush already committing completes.
    pub fn close(&self) {
        self.closed.cancel();
        self.workers.close();
    }

    async fn worker(&self) -> Result<Worker> {
        let closed = || StoreError::Closed {
            session: self.id.clone(),
        };
        if self.is_closed() {
            return Err(closed());
        }
        let acquire = self.workers.clone().acquire_owned();
        let permit = match tokio::time::timeout(self.options.worker_wait, acquire).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(closed()),
            Err(_) => {
                return Err(StoreError::WorkersBusy {
                    session: self.id.clone(),
                    workers: self.options.workers,
                    waited: self.options.worker_wait,
                });
            }
        };
        Ok(Worker {
            session: self.id.clone(),
            backend: self.backend.clone(),
            dataset: self.dataset,
            closed: self.closed.clone(),
            _permit: permit,
        })
    }

    /// Opens a capture writer.
    ///
    /// Returns an error if the session is closed or every worker stays busy
    /// for the whole wait.
    pub async fn capture_writer(&self) -> Result<CaptureWriter> {
        Ok(CaptureWriter::new(self.worker().await?, None))
    }

    /// Opens a capture writer whose commits belong to `import` (see
    /// [`begin_import`](Self::begin_import)).
    ///
    /// Returns an error as [`capture_writer`](Self::capture_writer) does.
    pub async fn import_writer(&self, import: u32) -> Result<CaptureWriter> {
        Ok(CaptureWriter::new(self.worker().await?, Some(import)))
    }

    /// Opens an entity writer.
    ///
    /// Returns an error if the session is closed or every worker stays busy
    /// for the whole wait.
    pub async fn entity_writer(&self) -> Result<EntityWriter> {
        Ok(EntityWriter::new(self.worker().await?, None))
    }

    /// Opens a capture reader. With `follow`, it returns what is stored and
    /// then waits for new captures that match.
    ///
    /// Returns an error if the session is closed or every worker stays busy
    /// for the whole wait.
    pub async fn capture_reader(
        &self,
        filter: CaptureFilter,
        follow: bool,
    ) -> Result<CaptureReader> {
        Ok(CaptureReader::new(
            self.worker().await?,
            filter,
            follow,
            None,
        ))
    }

    /// Opens a capture reader at `position`, as an earlier reader with the
    /// same filter left it (see [`CaptureReader::position`]).
    ///
    /// Returns an error as [`capture_reader`](Self::capture_reader) does.
    pub async fn capture_reader_at(
        &self,
        filter: CaptureFilter,
        follow: bool,
        position: crate::backend::ScanPosition,
    ) -> Result<CaptureReader> {
        Ok(CaptureReader::new(
            self.worker().await?,
            filter,
            follow,
            Some(position),
        ))
    }

    /// Opens a prefix reader over the captures that match `filter`.
    ///
    /// Returns an error if the session is closed or every worker stays busy
    /// for the whole wait.
    pub async fn prefix_reader(&self, filter: CaptureFilter) -> Result<PrefixReader> {
        Ok(PrefixReader::new(CaptureReader::new(
            self.worker().await?,
            filter,
            false,
            None,
        )))
    }

    /// Opens an entity reader.
    ///
    /// Returns an error if the session is closed or every worker stays busy
    /// for the whole wait.
    pub async fn entity_reader(&self, filter: EntityFilter) -> Result<EntityReader> {
        Ok(EntityReader::new(self.worker().await?, filter))
    }
}

/// A session that only reads: writers and deletes fail with
/// [`StoreError::ReadOnly`].
#[derive(Clone, Debug)]
pub struct ReadOnlySession {
    session: Arc<Session>,
}

impl ReadOnlySession {
    /// The session read.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The error a write through this view gets.
    pub fn refuse_write(&self) -> StoreError {
        StoreError::ReadOnly {
            session: self.session.id.clone(),
        }
    }

    /// Opens a capture reader; see [`Session::capture_reader`].
    ///
    /// Returns an error as [`Session::capture_reader`] does.
    pub async fn capture_reader(
        &self,
        filter: CaptureFilter,
        follow: bool,
    ) -> Result<CaptureReader> {
        self.session.capture_reader(filter, follow).await
    }

    /// Opens a prefix reader; see [`Session::prefix_reader`].
    ///
    /// Returns an error as [`Session::prefix_reader`] does.
    pub async fn prefix_reader(&self, filter: CaptureFilter) -> Result<PrefixReader> {
        self.session.prefix_reader(filter).await
    }

    /// Opens an entity reader; see [`Session::entity_reader`].
    ///
    /// Returns an error as [`Session::entity_reader`] does.
    pub async fn entity_reader(&self, filter: EntityFilter) -> Result<EntityReader> {
        self.session.entity_reader(filter).await
    }
}
