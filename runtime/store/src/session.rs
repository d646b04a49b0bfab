//! Sessions: an open handle on a store with a bounded number of workers.
//!
//! Every stream holds one worker for its whole life. Opening a stream when
//! all workers are busy waits up to the session's wait time, then fails.
//! Closing a session wakes every waiter and makes every open stream fail
//! with [`StoreError::Closed`]; no lock is held while a stream waits.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::backend::Backend;
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

impl Session {
    /// Opens session `id` of type `session_type` on `backend`.
    ///
    /// `options.workers` is clamped to `1..=MAX_WORKERS`.
    pub fn new(
        id: impl Into<String>,
        session_type: impl Into<String>,
        backend: Arc<dyn Backend>,
        mut options: SessionOptions,
    ) -> Self {
        options.workers = options.workers.clamp(1, MAX_WORKERS);
        Self {
            id: id.into(),
            session_type: session_type.into(),
            backend,
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
            closed: self.closed.clone(),
            _permit: permit,
        })
    }

    /// Opens a capture writer.
    ///
    /// Returns an error if the session is closed or every worker stays busy
    /// for the whole wait.
    pub async fn capture_writer(&self) -> Result<CaptureWriter> {
        Ok(CaptureWriter::new(self.worker().await?))
    }

    /// Opens an entity writer.
    ///
    /// Returns an error if the session is closed or every worker stays busy
    /// for the whole wait.
    pub async fn entity_writer(&self) -> Result<EntityWriter> {
        Ok(EntityWriter::new(self.worker().await?))
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
        Ok(CaptureReader::new(self.worker().await?, filter, follow))
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
