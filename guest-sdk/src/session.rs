//! Sessions and their batch streams.

use crate::columns::Captures;
use crate::filter::Filter;
use crate::wit::bgpmon::module0_1_0::{sessions, streams, types};
use crate::wit::bgpmon::module0_2_0::{columns, findings};
use crate::{Capture, Entity, Error, Finding, PrefixEvent};

/// The batch size readers ask for.
const READ_BATCH: u32 = 1_000;

/// A handle on one of the daemon's open sessions.
pub struct Session {
    inner: sessions::Session,
}

impl Session {
    /// Opens a handle on the open session `id`.
    ///
    /// Returns an error if the module was not granted the session or no
    /// such session is open.
    pub fn open(id: &str) -> Result<Self, Error> {
        Ok(Self {
            inner: sessions::open_session(id)?,
        })
    }

    /// The open sessions this module was granted.
    pub fn list() -> Vec<sessions::SessionInfo> {
        sessions::list_sessions()
    }

    /// The session's id.
    pub fn id(&self) -> String {
        self.inner.id()
    }

    /// Stores `findings` in the session, durably and at once: on `Ok` all
    /// of them are stored, on an error none is. A read-only grant is
    /// enough. Report in batches rather than one by one: each call is one
    /// commit.
    ///
    /// Returns `invalid-argument` for a finding with an empty kind or over
    /// the host's size caps, and `limit-reached` once the run has reported
    /// its `max_findings`. Over its `findings_per_second`, the module is
    /// paused until the rate allows the call.
    pub fn report(&self, findings: &[Finding]) -> Result<(), Error> {
        findings::report(&self.inner, findings)
    }

    /// Opens a capture writer.
    pub fn capture_writer(&self) -> Result<CaptureWriter, Error> {
        Ok(CaptureWriter {
            inner: self.inner.open_capture_writer()?,
        })
    }

    /// Opens an entity writer.
    pub fn entity_writer(&self) -> Result<EntityWriter, Error> {
        Ok(EntityWriter {
            inner: self.inner.open_entity_writer()?,
        })
    }

    /// Opens a reader of the stored captures that match `filter`.
    pub fn captures(&self, filter: &Filter) -> Result<CaptureReader, Error> {
        Ok(CaptureReader {
            inner: self.inner.open_capture_reader(&filter.to_wit(), false)?,
            batch: READ_BATCH,
        })
    }

    /// Opens a reader that returns the stored captures that match `filter`,
    /// then waits for new ones until the module is asked to stop.
    pub fn follow_captures(&self, filter: &Filter) -> Result<CaptureReader, Error> {
        Ok(CaptureReader {
            inner: self.inner.open_capture_reader(&filter.to_wit(), true)?,
            batch: READ_BATCH,
        })
    }

    /// Opens a reader of the prefix elements of matching captures.
    pub fn prefixes(&self, filter: &Filter) -> Result<PrefixReader, Error> {
        Ok(PrefixReader {
            inner: self.inner.open_prefix_reader(&filter.to_wit())?,
        })
    }

    /// Opens a reader of entities; an empty `names` reads them all.
    pub fn entities(&self, names: &[&str]) -> Result<EntityReader, Error> {
        let filter = types::EntityFilter {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
        };
        Ok(EntityReader {
            inner: self.inner.open_entity_reader(&filter)?,
        })
    }
}

/// Writes captures in one transaction: `write` buffers, `flush` commits.
/// Dropping the writer rolls back what was not flushed.
pub struct CaptureWriter {
    inner: streams::CaptureWriter,
}

impl CaptureWriter {
    /// Buffers a batch.
    pub fn write(&self, batch: &[Capture]) -> Result<(), Error> {
        self.inner.write(batch)
    }

    /// Commits everything buffered, durably; returns how many captures.
    pub fn flush(&self) -> Result<u64, Error> {
        self.inner.flush()
    }

    /// Discards everything buffered.
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

/// Writes entities in one transaction, like [`CaptureWriter`].
pub struct EntityWriter {
    inner: streams::EntityWriter,
}

impl EntityWriter {
    /// Buffers a batch.
    pub fn write(&self, batch: &[Entity]) -> Result<(), Error> {
        self.inner.write(batch)
    }

    /// Commits everything buffered, durably; returns how many entities.
    pub fn flush(&self) -> Result<u64, Error> {
        self.inner.flush()
    }

    /// Discards everything buffered.
    pub fn cancel(&self) {
        self.inner.cancel();
    }
}

/// Reads captures in batches.
pub struct CaptureReader {
    inner: streams::CaptureReader,
    batch: u32,
}

impl CaptureReader {
    /// Sets how many captures one call asks for (the host may cap it).
    pub fn batch_size(mut self, size: u32) -> Self {
        self.batch = size.max(1);
        self
    }

    /// The next batch, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Capture>>, Error> {
        let batch = self.inner.read(self.batch)?;
        Ok((!batch.is_empty()).then_some(batch))
    }

    /// The next batch as columns, or `None` at the end: the captures
    /// [`next_batch`](Self::next_batch) would return, for a few
    /// allocations per batch rather than several per capture. Prefer it
    /// when reading many captures. The two may be mixed on one reader.
    pub fn next_columns(&mut self) -> Result<Option<Captures>, Error> {
        let batch = Captures::new(columns::read_columns(&self.inner, self.batch)?);
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// Reads prefix events in batches.
pub struct PrefixReader {
    inner: streams::PrefixReader,
}

impl PrefixReader {
    /// The next batch, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Vec<PrefixEvent>>, Error> {
        let batch = self.inner.read(READ_BATCH)?;
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// Reads entities in batches.
pub struct EntityReader {
    inner: streams::EntityReader,
}

impl EntityReader {
    /// The next batch, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Entity>>, Error> {
        let batch = self.inner.read(READ_BATCH)?;
        Ok((!batch.is_empty()).then_some(batch))
    }
}
