//! Sessions: an open handle on one stored dataset with bounded pools of
//! workers.
//!
//! Every stream holds one worker for its whole life. A session has two
//! pools: API clients draw on `workers`, modules on `module_workers`, so
//! no module can starve a client and no client a module. Within the module
//! pool, one module family holds at most `module_streams` streams of a
//! session at once (see [`ModuleStreams`]), fewer than the pool has, so one
//! module cannot starve the others. Opening a stream when every worker of
//! its pool is busy waits up to the session's wait time, then fails; a
//! module over its own stream limit fails at once, since only it can free
//! one.
//! Closing a session wakes every waiter and makes every open stream fail
//! with [`StoreError::Closed`]; no lock is held while a stream waits. The
//! data stays stored: a session opened again sees it.
//!
//! A [`Session`] gives full access; [`Session::read_only`] gives a view
//! that opens readers only, for a module granted reading alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::backend::Backend;
use crate::dataset::{CaptureSelection, DatasetId, Import, ImportBegun, ImportSpec, StoredSession};
use crate::error::{Result, StoreError};
use crate::filter::{CaptureFilter, EntityFilter};
use crate::finding::{FindingFilter, FindingPage, NewFinding};
use crate::stream::{CaptureReader, CaptureWriter, EntityReader, EntityWriter, PrefixReader};

/// The default number of streams open at once on one session.
pub const DEFAULT_WORKERS: u32 = 4;

/// The default time a stream open waits for a free worker.
pub const DEFAULT_WORKER_WAIT: Duration = Duration::from_secs(10);

/// The default number of streams modules may hold open at once on one
/// session, all modules together; apart from the API's
/// [`DEFAULT_WORKERS`].
pub const DEFAULT_MODULE_WORKERS: u32 = 4;

/// The default number of streams one module family may hold open at once
/// on one session; below [`DEFAULT_MODULE_WORKERS`], so one module always
/// leaves workers for the others.
pub const DEFAULT_MODULE_STREAMS: u32 = 2;

/// The most workers one session may have in each pool; each holds at most
/// one stream and its buffers, so this bounds a session's memory.
pub const MAX_WORKERS: u32 = 1024;

/// What a session is opened with.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// How many streams API clients may have open at once.
    ///
    /// By default [`DEFAULT_WORKERS`].
    pub workers: u32,
    /// How many streams modules may have open at once, all together.
    ///
    /// By default [`DEFAULT_MODULE_WORKERS`].
    pub module_workers: u32,
    /// How many streams one module family may have open at once.
    ///
    /// By default [`DEFAULT_MODULE_STREAMS`]; at most `module_workers`.
    pub module_streams: u32,
    /// How long a stream open waits for a free worker.
    ///
    /// By default [`DEFAULT_WORKER_WAIT`].
    pub worker_wait: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            workers: DEFAULT_WORKERS,
            module_workers: DEFAULT_MODULE_WORKERS,
            module_streams: DEFAULT_MODULE_STREAMS,
            worker_wait: DEFAULT_WORKER_WAIT,
        }
    }
}

/// Which pool of a session a stream draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerPool {
    /// The API clients' pool, `workers`.
    Api,
    /// The modules' pool, `module_workers`.
    Modules,
}

impl std::fmt::Display for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Api => "workers",
            Self::Modules => "module_workers",
        })
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
    module_workers: Arc<Semaphore>,
    /// Each module family's own stream allowance, while it holds one.
    allowances: Mutex<HashMap<String, Weak<Semaphore>>>,
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
    /// A module's permit of its own allowance; none for the API.
    _own: Option<OwnedSemaphorePermit>,
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
        .map_err(|e| StoreError::TaskFailed {
            task: "storage task",
            detail: e.to_string(),
        })?
}

impl Session {
    /// A session named `name` on the stored dataset `dataset` of
    /// `backend` (see [`Backend::open_dataset`]), of type `session_type`.
    ///
    /// `options.workers` and `options.module_workers` are clamped to
    /// `1..=MAX_WORKERS`, `options.module_streams` to
    /// `1..=module_workers`.
    pub fn new(
        name: impl Into<String>,
        dataset: DatasetId,
        session_type: impl Into<String>,
        backend: Arc<dyn Backend>,
        mut options: SessionOptions,
    ) -> Self {
        options.workers = options.workers.clamp(1, MAX_WORKERS);
        options.module_workers = options.module_workers.clamp(1, MAX_WORKERS);
        options.module_streams = options.module_streams.clamp(1, options.module_workers);
        Self {
            id: name.into(),
            session_type: session_type.into(),
            backend,
            dataset,
            workers: Arc::new(Semaphore::new(options.workers as usize)),
            module_workers: Arc::new(Semaphore::new(options.module_workers as usize)),
            allowances: Mutex::new(HashMap::new()),
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

    /// How many streams API clients may have open at once.
    pub fn workers(&self) -> u32 {
        self.options.workers
    }

    /// How many streams API clients have open now.
    pub fn workers_busy(&self) -> u32 {
        let free = u32::try_from(self.workers.available_permits()).unwrap_or(u32::MAX);
        self.options.workers.saturating_sub(free)
    }

    /// How many streams modules may have open at once, all together.
    pub fn module_workers(&self) -> u32 {
        self.options.module_workers
    }

    /// How many streams modules have open now.
    pub fn module_workers_busy(&self) -> u32 {
        let free = u32::try_from(self.module_workers.available_permits()).unwrap_or(u32::MAX);
        self.options.module_workers.saturating_sub(free)
    }

    /// How many streams one module family may have open at once.
    pub fn module_streams(&self) -> u32 {
        self.options.module_streams
    }

    /// The streams of module family `family` on this session: they draw on
    /// the modules' pool, at most [`module_streams`](Self::module_streams)
    /// at once for the family. Every view for the same family shares one
    /// allowance while any of them, or a stream opened through one, lives.
    pub fn for_module(self: &Arc<Self>, family: &str) -> ModuleStreams {
        let mut map = self
            .allowances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let allowance = match map.get(family).and_then(Weak::upgrade) {
            Some(allowance) => allowance,
            None => {
                // Drop the allowances no one holds any more, so the map
                // stays as small as the set of modules using the session.
                map.retain(|_, a| a.strong_count() > 0);
                let allowance = Arc::new(Semaphore::new(self.options.module_streams as usize));
                map.insert(family.to_owned(), Arc::downgrade(&allowance));
                allowance
            }
        };
        ModuleStreams {
            session: self.clone(),
            family: family.to_owned(),
            allowance,
        }
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

    /// Stores `findings`, durably and atomically, and returns the last
    /// number assigned.
    ///
    /// Returns an error as [`stored`](Self::stored) does.
    pub async fn report_findings(&self, findings: Vec<NewFinding>) -> Result<u64> {
        self.with_backend(move |b, d| b.append_findings(d, &findings))
            .await
    }

    /// Reads findings after number `after`; see [`Backend::scan_findings`].
    ///
    /// Returns an error as [`stored`](Self::stored) does.
    pub async fn findings(
        &self,
        after: u64,
        filter: FindingFilter,
        max_items: usize,
    ) -> Result<FindingPage> {
        self.with_backend(move |b, d| b.scan_findings(d, after, &filter, max_items))
            .await
    }

    /// How many findings the session holds.
    ///
    /// Returns an error as [`stored`](Self::stored) does.
    pub async fn count_findings(&self) -> Result<u64> {
        self.with_backend(|b, d| b.count_findings(d)).await
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
        self.module_workers.close();
    }

    async fn worker(&self) -> Result<Worker> {
        self.pool_worker(WorkerPool::Api, None).await
    }

    /// A worker of `pool`, holding `own` (a module's allowance permit)
    /// with it.
    async fn pool_worker(
        &self,
        pool: WorkerPool,
        own: Option<OwnedSemaphorePermit>,
    ) -> Result<Worker> {
        let closed = || StoreError::Closed {
            session: self.id.clone(),
        };
        if self.is_closed() {
            return Err(closed());
        }
        let (semaphore, workers) = match pool {
            WorkerPool::Api => (&self.workers, self.options.workers),
            WorkerPool::Modules => (&self.module_workers, self.options.module_workers),
        };
        let acquire = semaphore.clone().acquire_owned();
        let permit = match tokio::time::timeout(self.options.worker_wait, acquire).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(closed()),
            Err(_) => {
                return Err(StoreError::WorkersBusy {
                    session: self.id.clone(),
                    pool,
                    workers,
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
            _own: own,
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

/// One module family's streams on a session, from
/// [`Session::for_module`]: each draws on the session's module pool and on
/// the family's own allowance of `module_streams`.
#[derive(Debug)]
pub struct ModuleStreams {
    session: Arc<Session>,
    family: String,
    allowance: Arc<Semaphore>,
}

impl ModuleStreams {
    /// The session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// How many streams the family has open on the session now.
    pub fn open(&self) -> u32 {
        let free = u32::try_from(self.allowance.available_permits()).unwrap_or(u32::MAX);
        self.session.options.module_streams.saturating_sub(free)
    }

    /// A module worker, within the family's allowance.
    ///
    /// Returns [`StoreError::ModuleStreamsBusy`] at once when the family
    /// holds its whole allowance: only it can free one, so waiting would
    /// only delay the error.
    async fn worker(&self) -> Result<Worker> {
        self.session.check_open()?;
        let Ok(own) = self.allowance.clone().try_acquire_owned() else {
            return Err(StoreError::ModuleStreamsBusy {
                session: self.session.id.clone(),
                module: self.family.clone(),
                limit: self.session.options.module_streams,
            });
        };
        self.session
            .pool_worker(WorkerPool::Modules, Some(own))
            .await
    }

    /// Opens a capture writer; see [`Session::capture_writer`].
    ///
    /// Returns an error if the session is closed, the family holds
    /// `module_streams` streams already, or every module worker stays busy
    /// for the whole wait.
    pub async fn capture_writer(&self) -> Result<CaptureWriter> {
        Ok(CaptureWriter::new(self.worker().await?, None))
    }

    /// Opens an entity writer; see [`Session::entity_writer`].
    ///
    /// Returns an error as [`capture_writer`](Self::capture_writer) does.
    pub async fn entity_writer(&self) -> Result<EntityWriter> {
        Ok(EntityWriter::new(self.worker().await?, None))
    }

    /// Opens a capture reader; see [`Session::capture_reader`].
    ///
    /// Returns an error as [`capture_writer`](Self::capture_writer) does.
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

    /// Opens a prefix reader; see [`Session::prefix_reader`].
    ///
    /// Returns an error as [`capture_writer`](Self::capture_writer) does.
    pub async fn prefix_reader(&self, filter: CaptureFilter) -> Result<PrefixReader> {
        Ok(PrefixReader::new(CaptureReader::new(
            self.worker().await?,
            filter,
            false,
            None,
        )))
    }

    /// Opens an entity reader; see [`Session::entity_reader`].
    ///
    /// Returns an error as [`capture_writer`](Self::capture_writer) does.
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
