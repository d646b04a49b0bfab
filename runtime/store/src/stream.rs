//! Write and read streams.
//!
//! Writers buffer in memory and commit the whole buffer in one durable
//! transaction on `flush`, so a reader never sees half a batch, and
//! dropping a writer rolls back what it did not flush. Readers return
//! batches and page through the store without holding a transaction
//! between calls.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::backend::{Backend, ScanLimits, ScanPage, ScanPosition};
use crate::dataset::DatasetId;
use crate::encoded::EncodedCaptures;
use crate::error::{Result, StoreError};
use crate::filter::{CaptureFilter, EntityFilter};
use crate::model::{Capture, Entity, PrefixEvent};
use crate::session::Worker;

/// The most records one writer buffers before it must flush; it bounds the
/// memory one stream holds.
pub const MAX_WRITE_BUFFER: usize = 200_000;

/// The most bytes of records (estimated by [`Committable::approx_size`])
/// one writer buffers before it must flush, whatever their count: a stream
/// of a few huge records cannot exhaust the daemon's memory.
pub const MAX_WRITE_BUFFER_BYTES: usize = 128 << 20;

/// The most rows one storage scan examines, so one read call never holds
/// the store for long even when few rows match.
pub const MAX_SCAN_ROWS: usize = 4_096;

/// One read call stops adding captures once they reach this many stored
/// bytes, so a batch of huge captures stays bounded in memory.
pub const MAX_READ_BYTES: usize = 16 << 20;

/// The most records one read call returns.
pub const MAX_READ_BATCH: usize = 10_000;

/// A record kind a writer commits.
pub trait Committable: Send + Sync + Sized + 'static {
    /// How a writer holds the records it has not committed.
    type Buffer: Default + Send + Sync + 'static;

    /// Appends `batch` to `buffer`.
    ///
    /// Returns an error if a record cannot be buffered; then none of
    /// `batch` is.
    fn buffer(buffer: &mut Self::Buffer, batch: Vec<Self>) -> Result<()>;

    /// Commits everything in `buffer`, in order, durably and atomically,
    /// into `dataset`, as part of `import` where the kind has imports.
    fn commit(
        backend: &dyn Backend,
        dataset: DatasetId,
        import: Option<u32>,
        buffer: &Self::Buffer,
    ) -> Result<()>;

    /// The memory the record holds, estimated: its own size and its heap
    /// values.
    fn approx_size(&self) -> usize;
}

impl Committable for Capture {
    /// Captures are encoded as they are written (see [`EncodedCaptures`]).
    type Buffer = EncodedCaptures;

    fn buffer(buffer: &mut EncodedCaptures, batch: Vec<Self>) -> Result<()> {
        let before = buffer.len();
        for capture in &batch {
            if let Err(e) = buffer.push(capture) {
                buffer.truncate(before);
                return Err(e);
            }
        }
        Ok(())
    }

    fn commit(
        backend: &dyn Backend,
        dataset: DatasetId,
        import: Option<u32>,
        buffer: &EncodedCaptures,
    ) -> Result<()> {
        backend.append_captures(dataset, import, buffer).map(drop)
    }

    fn approx_size(&self) -> usize {
        Capture::approx_size(self)
    }
}

impl Committable for Entity {
    type Buffer = Vec<Entity>;

    fn buffer(buffer: &mut Vec<Entity>, batch: Vec<Self>) -> Result<()> {
        buffer.extend(batch);
        Ok(())
    }

    fn commit(
        backend: &dyn Backend,
        dataset: DatasetId,
        _import: Option<u32>,
        buffer: &Vec<Entity>,
    ) -> Result<()> {
        backend.put_entities(dataset, buffer)
    }

    fn approx_size(&self) -> usize {
        Entity::approx_size(self)
    }
}

/// A transactional write stream of records of type `T`.
pub struct Writer<T: Committable> {
    worker: Worker,
    import: Option<u32>,
    /// What was written since the last flush.
    buffer: T::Buffer,
    buffered: usize,
    buffered_bytes: usize,
}

impl<T: Committable> std::fmt::Debug for Writer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("worker", &self.worker)
            .field("buffered", &self.buffered)
            .field("buffered_bytes", &self.buffered_bytes)
            .finish_non_exhaustive()
    }
}

/// A commit started by [`Writer::start_flush`], running on a blocking
/// thread. It completes even if this value is dropped.
#[derive(Debug)]
pub struct PendingFlush {
    task: Option<tokio::task::JoinHandle<Result<()>>>,
    count: u64,
}

impl PendingFlush {
    /// Waits for the commit and returns how many records it committed.
    ///
    /// Returns an error if the storage failed; then nothing was committed.
    pub async fn wait(self) -> Result<u64> {
        let Some(task) = self.task else {
            return Ok(0);
        };
        task.await.map_err(|e| StoreError::TaskFailed {
            task: "commit task",
            detail: e.to_string(),
        })??;
        Ok(self.count)
    }
}

/// A write stream of captures.
pub type CaptureWriter = Writer<Capture>;

/// A write stream of entities.
pub type EntityWriter = Writer<Entity>;

impl<T: Committable> Writer<T> {
    pub(crate) fn new(worker: Worker, import: Option<u32>) -> Self {
        Self {
            worker,
            import,
            buffer: T::Buffer::default(),
            buffered: 0,
            buffered_bytes: 0,
        }
    }

    /// Buffers `batch`.
    ///
    /// Returns an error if the session is closed (the buffer is then
    /// discarded), or if the buffer would exceed [`MAX_WRITE_BUFFER`]
    /// records or [`MAX_WRITE_BUFFER_BYTES`]; the batch is then not
    /// buffered, and what was buffered before stays.
    pub fn write(&mut self, batch: impl IntoIterator<Item = T>) -> Result<()> {
        if let Err(e) = self.worker.check_open() {
            self.cancel();
            return Err(e);
        }
        let batch: Vec<T> = batch.into_iter().collect();
        if self.buffered + batch.len() > MAX_WRITE_BUFFER {
            return Err(StoreError::BufferFull {
                limit: MAX_WRITE_BUFFER,
            });
        }
        let bytes: usize = batch.iter().map(T::approx_size).sum();
        if self.buffered_bytes + bytes > MAX_WRITE_BUFFER_BYTES {
            return Err(StoreError::BufferBytesFull {
                limit: MAX_WRITE_BUFFER_BYTES,
            });
        }
        if !batch.is_empty() {
            let count = batch.len();
            T::buffer(&mut self.buffer, batch)?;
            self.buffered += count;
            self.buffered_bytes += bytes;
        }
        Ok(())
    }

    /// How many records are buffered.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Commits the buffer durably and returns how many records it held.
    ///
    /// Returns an error if the session is closed or the storage fails; the
    /// buffer is then rolled back.
    pub async fn flush(&mut self) -> Result<u64> {
        self.start_flush()?.wait().await
    }

    /// Starts committing the buffer and empties it, so writing can go on
    /// while the commit runs. Commits of one writer stay in order only if
    /// each is waited for before the next starts.
    ///
    /// Returns an error if the session is closed; the buffer is then rolled
    /// back.
    pub fn start_flush(&mut self) -> Result<PendingFlush> {
        let records = std::mem::take(&mut self.buffer);
        let count = std::mem::take(&mut self.buffered) as u64;
        self.buffered_bytes = 0;
        self.worker.check_open()?;
        if count == 0 {
            return Ok(PendingFlush {
                task: None,
                count: 0,
            });
        }
        let backend = self.worker.backend.clone();
        let (dataset, import) = (self.worker.dataset, self.import);
        let task = tokio::task::spawn_blocking(move || {
            T::commit(backend.as_ref(), dataset, import, &records)
        });
        Ok(PendingFlush {
            task: Some(task),
            count,
        })
    }

    /// Discards the buffer.
    pub fn cancel(&mut self) {
        self.buffer = T::Buffer::default();
        self.buffered = 0;
        self.buffered_bytes = 0;
    }
}

/// A read stream of captures in time order; a following reader then
/// continues in commit order with captures written after it opened.
#[derive(Debug)]
pub struct CaptureReader {
    worker: Worker,
    filter: Arc<CaptureFilter>,
    position: ScanPosition,
    follow: bool,
    commits: watch::Receiver<u64>,
}

impl CaptureReader {
    pub(crate) fn new(
        worker: Worker,
        filter: CaptureFilter,
        follow: bool,
        resume: Option<ScanPosition>,
    ) -> Self {
        let mut commits = worker.backend.committed();
        let max_seq = *commits.borrow_and_update();
        Self {
            worker,
            filter: Arc::new(filter),
            position: resume.unwrap_or(ScanPosition::TimeOrder {
                after: None,
                from: None,
                max_seq,
            }),
            follow,
            commits,
        }
    }

    /// Where the reader is: everything before it was returned or did not
    /// match. A reader opened at this position (with the same filter)
    /// goes on with no gap and no duplicate.
    pub fn position(&self) -> ScanPosition {
        self.position
    }

    async fn scan(&self, max: usize) -> Result<ScanPage> {
        let backend: Arc<dyn Backend> = self.worker.backend.clone();
        let dataset = self.worker.dataset;
        let filter = self.filter.clone();
        let position = self.position;
        tokio::task::spawn_blocking(move || {
            let limits = ScanLimits {
                items: max,
                rows: MAX_SCAN_ROWS,
                bytes: MAX_READ_BYTES,
            };
            backend.scan_captures(dataset, position, &filter, limits)
        })
        .await
        .map_err(|e| StoreError::TaskFailed {
            task: "scan task",
            detail: e.to_string(),
        })?
    }

    /// Returns up to `max` captures (at most [`MAX_READ_BATCH`]); an empty
    /// batch means the end.
    ///
    /// A following reader that has returned everything waits for new
    /// captures, and ends with an empty batch once `stop` is cancelled.
    ///
    /// Returns an error if the session is closed or the storage fails.
    pub async fn read(&mut self, max: usize, stop: &CancellationToken) -> Result<Vec<Capture>> {
        let max = max.clamp(1, MAX_READ_BATCH);
        loop {
            self.worker.check_open()?;
            if self.follow {
                // Mark the current commit as seen before scanning, so a
                // commit that lands during the scan still wakes the wait.
                self.commits.borrow_and_update();
            }
            let page = self.scan(max).await?;
            self.position = page.next;
            if !page.captures.is_empty() {
                return Ok(page.captures);
            }
            if !page.exhausted {
                continue;
            }
            match (self.follow, self.position) {
                (false, _) => return Ok(Vec::new()),
                (true, ScanPosition::TimeOrder { max_seq, .. }) => {
                    self.position = ScanPosition::CommitOrder { after: max_seq };
                }
                (true, ScanPosition::CommitOrder { .. }) => {
                    tokio::select! {
                        changed = self.commits.changed() => {
                            if changed.is_err() {
                                return Ok(Vec::new());
                            }
                        }
                        () = stop.cancelled() => return Ok(Vec::new()),
                        () = self.worker.closed.cancelled() => {}
                    }
                }
            }
        }
    }
}

/// A read stream of the prefix elements of matching captures.
///
/// Only elements that pass the filter's prefix terms and scope are
/// returned.
#[derive(Debug)]
pub struct PrefixReader {
    captures: CaptureReader,
    pending: VecDeque<PrefixEvent>,
}

impl PrefixReader {
    pub(crate) fn new(captures: CaptureReader) -> Self {
        Self {
            captures,
            pending: VecDeque::new(),
        }
    }

    /// Returns up to `max` prefix events; an empty batch means the end.
    ///
    /// Returns an error if the session is closed or the storage fails.
    pub async fn read(&mut self, max: usize, stop: &CancellationToken) -> Result<Vec<PrefixEvent>> {
        let max = max.clamp(1, MAX_READ_BATCH);
        while self.pending.len() < max {
            let batch = self.captures.read(max, stop).await?;
            if batch.is_empty() {
                break;
            }
            let filter = self.captures.filter.clone();
            self.pending.extend(
                batch
                    .iter()
                    .flat_map(Capture::prefix_events)
                    .filter(|e| filter.element_matches(&e.prefix, e.withdrawn)),
            );
        }
        let n = self.pending.len().min(max);
        Ok(self.pending.drain(..n).collect())
    }
}

/// A read stream of entities in name order.
#[derive(Debug)]
pub struct EntityReader {
    worker: Worker,
    filter: Arc<EntityFilter>,
    after: Option<String>,
    done: bool,
}

impl EntityReader {
    pub(crate) fn new(worker: Worker, filter: EntityFilter) -> Self {
        Self {
            worker,
            filter: Arc::new(filter),
            after: None,
            done: false,
        }
    }

    /// Returns up to `max` entities; an empty batch means the end.
    ///
    /// Returns an error if the session is closed or the storage fails.
    pub async fn read(&mut self, max: usize) -> Result<Vec<Entity>> {
        self.worker.check_open()?;
        if self.done {
            return Ok(Vec::new());
        }
        let max = max.clamp(1, MAX_READ_BATCH);
        let backend = self.worker.backend.clone();
        let dataset = self.worker.dataset;
        let filter = self.filter.clone();
        let after = self.after.clone();
        let batch = tokio::task::spawn_blocking(move || {
            backend.scan_entities(dataset, after.as_deref(), &filter, max)
        })
        .await
        .map_err(|e| StoreError::TaskFailed {
            task: "scan task",
            detail: e.to_string(),
        })??;
        match batch.last() {
            Some(last) => self.after = Some(last.name.clone()),
            None => self.done = true,
        }
        Ok(batch)
    }
}
