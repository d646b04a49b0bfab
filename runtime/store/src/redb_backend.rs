//! The embedded backend: one redb file.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable};
use tokio::sync::watch;

use crate::backend::{Backend, ScanLimits, ScanPage, ScanPosition};
use crate::block::{BlockEntries, encode_blocks};
use crate::encoded::EncodedCaptures;
use crate::error::{During, Result, StoreError};
use crate::filter::{CaptureFilter, EntityFilter};
use crate::model::{Capture, Entity, Node};
use crate::schema::{
    CAPTURE_COMMITS, CAPTURES, COMMIT_LOG_ENTRY, ENTITIES, META, META_SCHEMA_VERSION, NODES,
    SCHEMA_VERSION,
};
use crate::stream::MAX_READ_BYTES;

/// A store in one redb file.
///
/// Every commit is durable when it returns ([`redb::Durability::Immediate`]).
pub struct RedbBackend {
    db: Database,
    path: PathBuf,
    committed: watch::Sender<u64>,
}

impl std::fmt::Debug for RedbBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // postcard only fails on writer errors, and a Vec writer never fails, so
    // an empty fallback is unreachable.
    postcard::to_allocvec(value).unwrap_or_default()
}

fn decode<T: serde::de::DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

impl RedbBackend {
    /// Opens the store at `path`, creating the file and its tables when
    /// missing.
    ///
    /// Returns an error if the file cannot be opened (another process may
    /// hold it), or holds another schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // A missing folder surfaces as the open error below, naming the path.
            let _ = std::fs::create_dir_all(parent);
        }
        let db = Database::create(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let last_seq = Self::prepare(&db, &path)?;
        let (committed, _) = watch::channel(last_seq);
        Ok(Self {
            db,
            path,
            committed,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates missing tables, checks the schema version and returns the
    /// last capture sequence number.
    fn prepare(db: &Database, path: &Path) -> Result<u64> {
        let txn = db.begin_write().during("opening the store")?;
        let last_seq;
        {
            let mut meta = txn.open_table(META).during("opening the meta table")?;
            let found = meta
                .get(META_SCHEMA_VERSION)
                .during("reading the schema version")?
                .map(|v| v.value());
            match found {
                Some(found) if found != SCHEMA_VERSION => {
                    return Err(StoreError::SchemaVersion {
                        path: path.to_path_buf(),
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION)
                        .during("writing the schema version")?;
                }
            }
            txn.open_table(CAPTURES)
                .during("opening the captures table")?;
            txn.open_table(ENTITIES)
                .during("opening the entities table")?;
            txn.open_table(NODES).during("opening the nodes table")?;
            let commits = txn
                .open_table(CAPTURE_COMMITS)
                .during("opening the commits table")?;
            last_seq = commits
                .last()
                .during("reading the last sequence number")?
                .map_or(0, |(k, _)| k.value());
        }
        txn.commit().during("committing the schema")?;
        Ok(last_seq)
    }

    fn scan_time_order(
        &self,
        after: Option<(u64, u64)>,
        max_seq: u64,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage> {
        let txn = self.db.begin_read().during("starting a read")?;
        let table = txn
            .open_table(CAPTURES)
            .during("opening the captures table")?;
        let window = filter.time;
        // A block holds one timestamp, so the block holding `after` starts
        // at `(after.0, _)`; its entries up to `after` are skipped below.
        let start = match (after, window) {
            (Some((t, _)), _) => (t, 0),
            (None, Some(w)) => (w.start_us, 0),
            (None, None) => (0, 0),
        };
        let end = window.map_or((u64::MAX, u64::MAX), |w| (w.end_us, 0));
        let mut page = ScanPage {
            captures: Vec::new(),
            next: ScanPosition::TimeOrder { after, max_seq },
            exhausted: true,
        };
        if start >= end {
            return Ok(page);
        }
        let mut budget = Budget::new(limits);
        let range = table.range(start..end).during("scanning captures")?;
        for entry in range {
            let (key, block) = entry.during("scanning captures")?;
            let (ts, first) = key.value();
            for (i, bytes) in BlockEntries::new(block.value())?.enumerate() {
                let bytes = bytes?;
                let seq = first + i as u64;
                if after.is_some_and(|after| (ts, seq) <= after) {
                    continue;
                }
                let position = ScanPosition::TimeOrder {
                    after: Some((ts, seq)),
                    max_seq,
                };
                if !budget.examine(&mut page, position, bytes, seq <= max_seq, filter)? {
                    return Ok(page);
                }
            }
        }
        Ok(page)
    }

    fn scan_commit_order(
        &self,
        after: u64,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage> {
        let txn = self.db.begin_read().during("starting a read")?;
        let commits = txn
            .open_table(CAPTURE_COMMITS)
            .during("opening the commits table")?;
        let table = txn
            .open_table(CAPTURES)
            .during("opening the captures table")?;
        let mut page = ScanPage {
            captures: Vec::new(),
            next: ScanPosition::CommitOrder { after },
            exhausted: true,
        };
        let mut budget = Budget::new(limits);
        // The first commit whose last seq is past `after` may start before it.
        let range = commits
            .range(after.saturating_add(1)..)
            .during("scanning new captures")?;
        for entry in range {
            let (last, log) = entry.during("scanning new captures")?;
            let blocks = commit_blocks(last.value(), log.value())?;
            for (ts, first, count) in blocks {
                if first + count <= after.saturating_add(1) {
                    continue;
                }
                let Some(block) = table.get((ts, first)).during("reading a capture")? else {
                    return Err(StoreError::Corrupt {
                        what: "capture commit log",
                        detail: format!("sequence {first} points at a missing block"),
                    });
                };
                for (i, bytes) in BlockEntries::new(block.value())?.enumerate() {
                    let bytes = bytes?;
                    let seq = first + i as u64;
                    if seq <= after {
                        continue;
                    }
                    let position = ScanPosition::CommitOrder { after: seq };
                    if !budget.examine(&mut page, position, bytes, true, filter)? {
                        return Ok(page);
                    }
                }
            }
        }
        Ok(page)
    }
}

/// What a scan has used of its [`ScanLimits`].
struct Budget {
    limits: ScanLimits,
    rows: usize,
    bytes: usize,
}

impl Budget {
    fn new(limits: ScanLimits) -> Self {
        Self {
            limits,
            rows: 0,
            bytes: 0,
        }
    }

    /// Examines the stored capture `bytes` at `position` for `page`: moves
    /// the page past it, and adds it if it is `visible` (in the scan's
    /// snapshot) and matches `filter`.
    ///
    /// Returns `false`, examining nothing, once the limits are spent; the
    /// page is then not exhausted. Returns an error if the capture does not
    /// decode.
    fn examine(
        &mut self,
        page: &mut ScanPage,
        position: ScanPosition,
        bytes: &[u8],
        visible: bool,
        filter: &CaptureFilter,
    ) -> Result<bool> {
        if self.rows >= self.limits.rows
            || page.captures.len() >= self.limits.items
            || self.bytes >= self.limits.bytes
        {
            page.exhausted = false;
            return Ok(false);
        }
        self.rows += 1;
        page.next = position;
        if visible {
            let capture: Capture = decode("capture", bytes)?;
            if filter.matches(&capture) {
                self.bytes += bytes.len();
                page.captures.push(capture);
            }
        }
        Ok(true)
    }
}

/// The blocks of a commit-log row as `(timestamp_us, first seq, count)`, in
/// `seq` order.
///
/// Returns an error if the row is malformed.
fn commit_blocks(last: u64, log: &[u8]) -> Result<Vec<(u64, u64, u64)>> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "capture commit log",
        detail,
    };
    if !log.len().is_multiple_of(COMMIT_LOG_ENTRY) {
        return Err(corrupt(format!(
            "the row of sequence {last} is {} bytes, not a multiple of {COMMIT_LOG_ENTRY}",
            log.len()
        )));
    }
    let mut blocks: Vec<(u64, u64, u64)> = log
        .chunks_exact(COMMIT_LOG_ENTRY)
        .map(|entry| {
            let (ts, count) = entry.split_at(8);
            let ts = u64::from_le_bytes(ts.try_into().unwrap_or_default());
            let count = u32::from_le_bytes(count.try_into().unwrap_or_default());
            (ts, 0, u64::from(count))
        })
        .collect();
    let total: u64 = blocks.iter().map(|b| b.2).sum();
    let mut next = (last + 1).checked_sub(total).ok_or_else(|| {
        corrupt(format!(
            "the row of sequence {last} counts {total} captures"
        ))
    })?;
    for block in &mut blocks {
        block.1 = next;
        next += block.2;
    }
    Ok(blocks)
}

impl Backend for RedbBackend {
    fn append_captures(&self, captures: &EncodedCaptures) -> Result<u64> {
        // Lay out the blocks before the write transaction, so it is held
        // only for the inserts; blocks come out in key order, which suits
        // the B-tree.
        let (arena, blocks) = encode_blocks(captures);
        let mut log = Vec::with_capacity(blocks.len() * COMMIT_LOG_ENTRY);
        for block in &blocks {
            log.extend_from_slice(&block.timestamp_us.to_le_bytes());
            log.extend_from_slice(&block.count.to_le_bytes());
        }
        let txn = self.db.begin_write().during("starting a capture commit")?;
        let mut last;
        {
            let mut commits = txn
                .open_table(CAPTURE_COMMITS)
                .during("opening the commits table")?;
            let mut table = txn
                .open_table(CAPTURES)
                .during("opening the captures table")?;
            last = commits
                .last()
                .during("reading the last sequence number")?
                .map_or(0, |(k, _)| k.value());
            for block in &blocks {
                table
                    .insert(
                        (block.timestamp_us, last + 1),
                        &arena[block.start..block.end],
                    )
                    .during("writing captures")?;
                last += u64::from(block.count);
            }
            if !blocks.is_empty() {
                commits
                    .insert(last, log.as_slice())
                    .during("writing the commit log")?;
            }
        }
        txn.commit().during("committing captures")?;
        self.committed.send_replace(last);
        Ok(last)
    }

    fn scan_captures(
        &self,
        position: ScanPosition,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage> {
        match position {
            ScanPosition::TimeOrder { after, max_seq } => {
                self.scan_time_order(after, max_seq, filter, limits)
            }
            ScanPosition::CommitOrder { after } => self.scan_commit_order(after, filter, limits),
        }
    }

    fn put_entities(&self, entities: &[Entity]) -> Result<()> {
        if entities.iter().any(|e| e.name.is_empty()) {
            return Err(StoreError::EmptyEntityName);
        }
        let txn = self.db.begin_write().during("starting an entity commit")?;
        {
            let mut table = txn
                .open_table(ENTITIES)
                .during("opening the entities table")?;
            for entity in entities {
                table
                    .insert(entity.name.as_str(), encode(entity).as_slice())
                    .during("writing an entity")?;
            }
        }
        txn.commit().during("committing entities")
    }

    fn scan_entities(
        &self,
        after: Option<&str>,
        filter: &EntityFilter,
        max_items: usize,
    ) -> Result<Vec<Entity>> {
        let txn = self.db.begin_read().during("starting a read")?;
        let table = txn
            .open_table(ENTITIES)
            .during("opening the entities table")?;
        let range = match after {
            Some(name) => table.range::<&str>(name..),
            None => table.range::<&str>(..),
        }
        .during("scanning entities")?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for entry in range {
            let (key, value) = entry.during("scanning entities")?;
            if Some(key.value()) == after {
                continue;
            }
            let entity: Entity = decode("entity", value.value())?;
            if filter.matches(&entity) {
                bytes += value.value().len();
                out.push(entity);
                if out.len() == max_items || bytes >= MAX_READ_BYTES {
                    break;
                }
            }
        }
        Ok(out)
    }

    fn put_nodes(&self, nodes: &[Node]) -> Result<()> {
        let txn = self.db.begin_write().during("starting a node commit")?;
        {
            let mut table = txn.open_table(NODES).during("opening the nodes table")?;
            for node in nodes {
                table
                    .insert(node.ip.to_string().as_str(), encode(node).as_slice())
                    .during("writing a node")?;
            }
        }
        txn.commit().during("committing nodes")
    }

    fn nodes(&self) -> Result<Vec<Node>> {
        let txn = self.db.begin_read().during("starting a read")?;
        let table = txn.open_table(NODES).during("opening the nodes table")?;
        let iter = table.iter().during("scanning nodes")?;
        iter.map(|entry| {
            let (_, value) = entry.during("scanning nodes")?;
            decode("node", value.value())
        })
        .collect()
    }

    fn committed(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }
}
