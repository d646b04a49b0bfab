//! The embedded backend: one redb file holding many sessions.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::backend::{Backend, ScanLimits, ScanPage, ScanPosition};
use crate::block::{
    BlockEntries, MAX_BLOCK_SPAN_US, build_blocks, compress, decompress, postings_of,
    retain_entries,
};
use crate::dataset::{
    CaptureSelection, DatasetId, Import, ImportBegun, ImportSpec, SessionStats, StoredSession,
};
use crate::directory::{BlockInfo, Directory};
use crate::encoded::EncodedCaptures;
use crate::error::{During, Result, StoreError};
use crate::filter::{CaptureFilter, EntityFilter};
use crate::finding::{FindingFilter, FindingPage, NewFinding, StoredFinding};
use crate::index::{
    MAX_ROW_BYTES, TermKind, append_postings, bucket, decode_row, encode_row, row_shift,
};
use crate::model::{Capture, Entity, Node};
use crate::plan::{Access, Plan, PostingSource};
use crate::schema::{
    BLOCK_DATA, BLOCKS, ENTITIES, FINDINGS, IMPORTS, META, META_LAST_SEQ, META_NEXT_DATASET,
    META_SCHEMA_VERSION, NODES, POSTINGS, SCHEMA_VERSION, SESSION_NAMES, SESSIONS, TIME_ORDER,
};
use crate::stream::{MAX_READ_BYTES, MAX_SCAN_ROWS};

/// The most plans of time-order reads kept, so paging a large answer does
/// not re-read its postings for every page.
const PLAN_CACHE_ENTRIES: usize = 32;

/// A session's record in [`SESSIONS`].
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SessionRecord {
    name: String,
    created_us: u64,
    stats: SessionStats,
    /// The number the next block gets; numbers are never reused, so stale
    /// postings of a deleted block never name a new one.
    next_block: u32,
    /// The number the next import gets.
    next_import: u32,
}

/// `(timestamp_us, block)` of a plan's candidate blocks, in time order.
type TimeOrderBlocks = Arc<Vec<(u64, u32)>>;

/// The time-order candidates of one reader's plan.
struct CachedPlan {
    key: (u32, u64, u64, Vec<u8>),
    /// `(first_us, block)` in time order.
    blocks: Arc<Vec<(u64, u32)>>,
}

/// A dataset's directory, and a number that changes whenever a delete
/// changes its blocks, so cached plans of the old blocks are dropped.
#[derive(Clone)]
struct DirectorySlot {
    directory: Arc<Directory>,
    generation: u64,
}

/// A store in one redb file.
///
/// Every commit is durable when it returns ([`redb::Durability::Immediate`]).
pub struct RedbBackend {
    db: Database,
    path: PathBuf,
    committed: watch::Sender<u64>,
    /// Counts finding commits, so followers of findings wake.
    findings_committed: watch::Sender<u64>,
    /// Held by every writing transaction across its commit and the
    /// directory update after it, so directories change in commit order.
    writing: Mutex<()>,
    directories: Mutex<HashMap<u32, DirectorySlot>>,
    plans: Mutex<Vec<CachedPlan>>,
}

impl std::fmt::Debug for RedbBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
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

/// The number of the last finding of `dataset` in `table`, or 0.
fn last_finding(
    table: &impl redb::ReadableTable<(u32, u64), &'static [u8]>,
    dataset: DatasetId,
) -> Result<u64> {
    Ok(table
        .range((dataset.0, 0)..=(dataset.0, u64::MAX))
        .during("reading the last finding")?
        .next_back()
        .transpose()
        .during("reading the last finding")?
        .map_or(0, |(key, _)| key.value().1))
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves only caches and a
    // unit behind, which stay consistent, so a poisoned lock is usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn unknown(dataset: DatasetId) -> StoreError {
    StoreError::UnknownDataset {
        session: format!("#{}", dataset.0),
    }
}

fn widen(first: Option<u64>, last: Option<u64>, t: u64) -> (Option<u64>, Option<u64>) {
    (
        Some(first.map_or(t, |f| f.min(t))),
        Some(last.map_or(t, |l| l.max(t))),
    )
}

/// Reads postings from a read transaction.
struct TxnPostings<'a> {
    txn: &'a ReadTransaction,
    dataset: u32,
}

impl PostingSource for TxnPostings<'_> {
    fn scan_postings(
        &self,
        kind: TermKind,
        lo: u64,
        hi: u64,
        visit: &mut dyn FnMut(u64, u32, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let table = self.txn.open_table(POSTINGS).during("opening the index")?;
        let k = kind as u8;
        let shift = row_shift(kind);
        let range = table
            .range((self.dataset, k, lo >> shift, 0)..=(self.dataset, k, hi >> shift, u32::MAX))
            .during("reading the index")?;
        for entry in range {
            let (key, row) = entry.during("reading the index")?;
            let (_, _, row_bucket, first) = key.value();
            for (low, postings) in decode_row(row.value())? {
                let term = (row_bucket << shift) | low;
                if (lo..=hi).contains(&term) {
                    visit(term, first, postings)?;
                }
            }
        }
        Ok(())
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

    fn spent(&self, page: &ScanPage) -> bool {
        self.rows >= self.limits.rows
            || page.captures.len() >= self.limits.items
            || self.bytes >= self.limits.bytes
    }

    /// Examines the stored capture `bytes` at `position` for `page`: moves
    /// the page past it, and adds it if it matches `filter`.
    ///
    /// Returns `false`, examining nothing, once the limits are spent; the
    /// page is then not exhausted. Returns an error if the capture does not
    /// decode.
    fn examine(
        &mut self,
        page: &mut ScanPage,
        position: ScanPosition,
        bytes: &[u8],
        filter: &CaptureFilter,
    ) -> Result<bool> {
        if self.spent(page) {
            page.exhausted = false;
            return Ok(false);
        }
        self.rows += 1;
        page.examined += 1;
        page.next = position;
        let capture: Capture = decode("capture", bytes)?;
        if filter.matches(&capture) {
            self.bytes += bytes.len();
            page.captures.push(capture);
        }
        Ok(true)
    }
}

/// The unreturned entries of one loaded block in a time-order merge.
struct Cursor {
    key: (u64, u32),
    raw: Vec<u8>,
    /// `(timestamp, seq, start, end)` of each entry still to return.
    entries: Vec<(u64, u64, usize, usize)>,
    next: usize,
}

impl Cursor {
    /// The entries of a block's raw bytes that lie in `window` and after
    /// `after`.
    ///
    /// Returns an error if the block is damaged.
    fn load(
        key: (u64, u32),
        info: &BlockInfo,
        raw: &[u8],
        window: Option<crate::filter::TimeRange>,
        after: Option<(u64, u64)>,
    ) -> Result<Self> {
        let base = raw.as_ptr() as usize;
        let mut entries = Vec::new();
        for entry in BlockEntries::new(raw) {
            let entry = entry?;
            let ts = info.first_us + entry.time_offset;
            let seq = info.first_seq + entry.seq_offset;
            if window.is_some_and(|w| !w.contains(ts)) || after.is_some_and(|a| (ts, seq) <= a) {
                continue;
            }
            let start = entry.bytes.as_ptr() as usize - base;
            entries.push((ts, seq, start, start + entry.bytes.len()));
        }
        Ok(Self {
            key,
            raw: raw.to_vec(),
            entries,
            next: 0,
        })
    }

    /// The next entry's `(timestamp, seq)`.
    fn head(&self) -> Option<(u64, u64)> {
        self.entries.get(self.next).map(|e| (e.0, e.1))
    }

    /// The next entry's bytes, moving past it.
    fn take(&mut self) -> &[u8] {
        let (_, _, start, end) = self.entries[self.next];
        self.next += 1;
        &self.raw[start..end]
    }
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
            findings_committed: watch::channel(0).0,
            writing: Mutex::new(()),
            directories: Mutex::new(HashMap::new()),
            plans: Mutex::new(Vec::new()),
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
            last_seq = meta
                .get(META_LAST_SEQ)
                .during("reading the last sequence number")?
                .map_or(0, |v| v.value());
            txn.open_table(SESSION_NAMES)
                .during("opening the session table")?;
            txn.open_table(SESSIONS)
                .during("opening the session table")?;
            txn.open_table(BLOCKS).during("opening the block table")?;
            txn.open_table(BLOCK_DATA)
                .during("opening the block table")?;
            txn.open_table(TIME_ORDER)
                .during("opening the time table")?;
            txn.open_table(POSTINGS).during("opening the index")?;
            txn.open_table(IMPORTS).during("opening the import table")?;
            txn.open_table(ENTITIES)
                .during("opening the entities table")?;
            txn.open_table(NODES).during("opening the nodes table")?;
            txn.open_table(FINDINGS)
                .during("opening the findings table")?;
        }
        txn.commit().during("committing the schema")?;
        Ok(last_seq)
    }

    fn begin_write(&self) -> Result<WriteTransaction> {
        self.db.begin_write().during("starting a commit")
    }

    fn begin_read(&self) -> Result<ReadTransaction> {
        self.db.begin_read().during("starting a read")
    }

    /// The record of `dataset` in a table of [`SESSIONS`], read or write.
    fn record_in(
        table: &impl ReadableTable<u32, &'static [u8]>,
        dataset: DatasetId,
    ) -> Result<SessionRecord> {
        let bytes = table
            .get(dataset.0)
            .during("reading a session")?
            .ok_or_else(|| unknown(dataset))?;
        decode("session record", bytes.value())
    }

    fn record(txn: &WriteTransaction, dataset: DatasetId) -> Result<SessionRecord> {
        let table = txn
            .open_table(SESSIONS)
            .during("opening the session table")?;
        Self::record_in(&table, dataset)
    }

    fn put_record(
        txn: &WriteTransaction,
        dataset: DatasetId,
        record: &SessionRecord,
    ) -> Result<()> {
        let mut table = txn
            .open_table(SESSIONS)
            .during("opening the session table")?;
        table
            .insert(dataset.0, encode(record).as_slice())
            .during("writing a session")?;
        Ok(())
    }

    fn read_record(txn: &ReadTransaction, dataset: DatasetId) -> Result<SessionRecord> {
        let table = txn
            .open_table(SESSIONS)
            .during("opening the session table")?;
        Self::record_in(&table, dataset)
    }

    fn stored(dataset: DatasetId, record: SessionRecord) -> StoredSession {
        StoredSession {
            name: record.name,
            dataset,
            created_us: record.created_us,
            stats: record.stats,
        }
    }

    /// The dataset's directory, loaded from the store on first use.
    fn directory(&self, dataset: DatasetId) -> Result<DirectorySlot> {
        if let Some(slot) = lock(&self.directories).get(&dataset.0) {
            return Ok(slot.clone());
        }
        let txn = self.begin_read()?;
        let record = Self::read_record(&txn, dataset)?;
        let table = txn.open_table(BLOCKS).during("opening the block table")?;
        let mut blocks: Vec<Option<BlockInfo>> = vec![None; record.next_block as usize];
        let range = table
            .range((dataset.0, 0)..=(dataset.0, u32::MAX))
            .during("reading the block directory")?;
        for entry in range {
            let (key, value) = entry.during("reading the block directory")?;
            let (_, number) = key.value();
            if let Some(slot) = blocks.get_mut(number as usize) {
                *slot = Some(BlockInfo::decode(value.value())?);
            }
        }
        let slot = DirectorySlot {
            directory: Arc::new(Directory::new(blocks)),
            generation: 0,
        };
        // Another thread may have loaded (or a writer updated) it meanwhile;
        // the first one stored wins, and writers update it under `writing`.
        Ok(lock(&self.directories)
            .entry(dataset.0)
            .or_insert(slot)
            .clone())
    }

    fn set_directory(&self, dataset: DatasetId, slot: DirectorySlot) {
        lock(&self.directories).insert(dataset.0, slot);
    }

    fn plan(
        &self,
        txn: &ReadTransaction,
        dataset: DatasetId,
        filter: &CaptureFilter,
    ) -> Result<(Plan, DirectorySlot)> {
        let slot = self.directory(dataset)?;
        let source = TxnPostings {
            txn,
            dataset: dataset.0,
        };
        Ok((Plan::new(filter, &slot.directory, &source)?, slot))
    }

    /// The candidate blocks of a time-order index scan visible at
    /// `max_seq`, in time order, from the plan cache when it holds them.
    fn time_order_candidates(
        &self,
        txn: &ReadTransaction,
        dataset: DatasetId,
        filter: &CaptureFilter,
        max_seq: u64,
    ) -> Result<(Option<TimeOrderBlocks>, DirectorySlot)> {
        let slot = self.directory(dataset)?;
        let key = (dataset.0, slot.generation, max_seq, encode(filter));
        if let Some(hit) = lock(&self.plans).iter().find(|p| p.key == key) {
            return Ok((Some(hit.blocks.clone()), slot));
        }
        let (plan, slot) = self.plan(txn, dataset, filter)?;
        let Access::Index(postings) = plan.access else {
            return Ok((None, slot));
        };
        let mut blocks: Vec<(u64, u32)> = postings
            .iter()
            .filter_map(|p| {
                let info = slot.directory.get(p.block)?;
                info.visible_at(max_seq).then_some((info.first_us, p.block))
            })
            .collect();
        blocks.sort_unstable();
        let blocks = Arc::new(blocks);
        let mut plans = lock(&self.plans);
        if plans.len() >= PLAN_CACHE_ENTRIES {
            plans.remove(0);
        }
        plans.push(CachedPlan {
            key,
            blocks: blocks.clone(),
        });
        Ok((Some(blocks), slot))
    }

    /// Examines the entries of block `number` for `page`, skipping those
    /// whose `seq` `skip` names (already returned).
    ///
    /// Returns `false` once the limits are spent.
    #[expect(clippy::too_many_arguments, reason = "one scan step's whole state")]
    fn scan_block(
        txn: &ReadTransaction,
        dataset: DatasetId,
        number: u32,
        info: &BlockInfo,
        skip: impl Fn(u64) -> bool,
        order: impl Fn(u64) -> ScanPosition,
        filter: &CaptureFilter,
        budget: &mut Budget,
        page: &mut ScanPage,
    ) -> Result<bool> {
        if budget.spent(page) {
            page.exhausted = false;
            return Ok(false);
        }
        let data = txn
            .open_table(BLOCK_DATA)
            .during("opening the block table")?;
        // A block deleted after the directory was read is skipped.
        let Some(stored) = data.get((dataset.0, number)).during("reading a block")? else {
            return Ok(true);
        };
        let raw = decompress(stored.value())?;
        for entry in BlockEntries::new(&raw) {
            let entry = entry?;
            let seq = info.first_seq + entry.seq_offset;
            if skip(seq) {
                continue;
            }
            if !budget.examine(page, order(seq), entry.bytes, filter)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Scans in `(timestamp, seq)` order: a k-way merge of the candidate
    /// blocks, which may overlap in time. Blocks are taken in `(first_us,
    /// block)` order and loaded only once their first entry could come
    /// next, so equal-time blocks of a RIB dump are read one at a time.
    /// A page that stops early records the first block still holding
    /// unreturned entries, so the next page resumes there.
    fn scan_time_order(
        &self,
        dataset: DatasetId,
        after: Option<(u64, u64)>,
        from: Option<(u64, u32)>,
        max_seq: u64,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage> {
        let txn = self.begin_read()?;
        let mut page = ScanPage {
            captures: Vec::new(),
            next: ScanPosition::TimeOrder {
                after,
                from,
                max_seq,
            },
            exhausted: true,
            examined: 0,
        };
        let (candidates, slot) = self.time_order_candidates(&txn, dataset, filter, max_seq)?;
        let directory = &slot.directory;
        let window = filter.time;
        // The first block key that may hold an unreturned entry.
        let start: (u64, u32) = match (from, after, window) {
            (Some(key), _, _) => key,
            (None, Some((t, _)), _) => (t.saturating_sub(MAX_BLOCK_SPAN_US), 0),
            (None, None, Some(w)) => (w.start_us.saturating_sub(MAX_BLOCK_SPAN_US), 0),
            (None, None, None) => (0, 0),
        };
        let end_us = window.map_or(u64::MAX, |w| w.end_us);
        let time_table = txn
            .open_table(TIME_ORDER)
            .during("opening the time table")?;
        let mut keys: Box<dyn Iterator<Item = Result<(u64, u32)>>> = match &candidates {
            Some(blocks) => {
                let first = blocks.partition_point(|b| *b < start);
                Box::new(blocks[first..].iter().map(|b| Ok(*b)))
            }
            None => Box::new(
                time_table
                    .range((dataset.0, start.0, start.1)..(dataset.0, end_us, 0))
                    .during("scanning captures")?
                    .map(|entry| {
                        let (key, _) = entry.during("scanning captures")?;
                        let (_, first_us, number) = key.value();
                        Ok((first_us, number))
                    }),
            ),
        };
        let data = txn
            .open_table(BLOCK_DATA)
            .during("opening the block table")?;
        let mut next_key: Option<(u64, u32)> = keys.next().transpose()?;
        let mut cursors: Vec<Cursor> = Vec::new();
        let mut heap: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
        let mut budget = Budget::new(limits);
        loop {
            while let Some(key @ (first_us, number)) = next_key {
                if first_us >= end_us {
                    next_key = None;
                    break;
                }
                let Some(info) = directory.get(number) else {
                    next_key = keys.next().transpose()?;
                    continue;
                };
                if heap
                    .peek()
                    .is_some_and(|Reverse((t, s, _))| (info.first_us, info.first_seq) > (*t, *s))
                {
                    break;
                }
                next_key = keys.next().transpose()?;
                let last = (info.last_us, info.first_seq + u64::from(info.written));
                if !info.visible_at(max_seq)
                    || !info.overlaps(window)
                    || after.is_some_and(|a| last <= (a.0, a.1 + 1))
                {
                    continue;
                }
                let Some(stored) = data.get((dataset.0, number)).during("reading a block")? else {
                    continue;
                };
                let cursor = Cursor::load(key, info, &decompress(stored.value())?, window, after)?;
                if let Some(head) = cursor.head() {
                    heap.push(Reverse((head.0, head.1, cursors.len())));
                    cursors.push(cursor);
                }
            }
            let Some(Reverse((ts, seq, i))) = heap.pop() else {
                return Ok(page);
            };
            if budget.spent(&page) {
                heap.push(Reverse((ts, seq, i)));
                let resume = cursors
                    .iter()
                    .filter(|c| c.head().is_some())
                    .map(|c| c.key)
                    .chain(next_key)
                    .min();
                page.exhausted = false;
                if let ScanPosition::TimeOrder { from, .. } = &mut page.next {
                    *from = resume;
                }
                return Ok(page);
            }
            let position = ScanPosition::TimeOrder {
                after: Some((ts, seq)),
                from: None,
                max_seq,
            };
            let bytes = cursors[i].take();
            budget.examine(&mut page, position, bytes, filter)?;
            if let Some(head) = cursors[i].head() {
                heap.push(Reverse((head.0, head.1, i)));
            }
        }
    }

    fn scan_commit_order(
        &self,
        dataset: DatasetId,
        after: u64,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage> {
        let txn = self.begin_read()?;
        let slot = self.directory(dataset)?;
        let mut page = ScanPage {
            captures: Vec::new(),
            next: ScanPosition::CommitOrder { after },
            exhausted: true,
            examined: 0,
        };
        let mut budget = Budget::new(limits);
        let order = |seq: u64| ScanPosition::CommitOrder { after: seq };
        let first = slot.directory.first_after_seq(after);
        for (number, info) in slot.directory.iter().skip_while(|(n, _)| *n < first) {
            if !Self::scan_block(
                &txn,
                dataset,
                number,
                info,
                |seq| seq <= after,
                order,
                filter,
                &mut budget,
                &mut page,
            )? {
                return Ok(page);
            }
        }
        Ok(page)
    }

    /// Lowers the capture counts of imports by the captures a delete took
    /// from them (import 0 is "none").
    fn lower_imports(
        txn: &WriteTransaction,
        dataset: DatasetId,
        deleted: &std::collections::BTreeMap<u32, u64>,
    ) -> Result<()> {
        let mut imports = txn.open_table(IMPORTS).during("opening the import table")?;
        for (&id, &captures) in deleted {
            if id == 0 {
                continue;
            }
            if let Some(mut import) = read_import(&imports, dataset, id)? {
                import.captures = import.captures.saturating_sub(captures);
                imports
                    .insert((dataset.0, id), encode(&import).as_slice())
                    .during("writing an import")?;
            }
        }
        Ok(())
    }

    /// Deletes blocks from a transaction and returns how many captures
    /// they held and their stored bytes.
    fn remove_blocks(
        txn: &WriteTransaction,
        dataset: DatasetId,
        blocks: &[(u32, BlockInfo)],
    ) -> Result<(u64, u64)> {
        let mut data = txn
            .open_table(BLOCK_DATA)
            .during("opening the block table")?;
        let mut dir = txn.open_table(BLOCKS).during("opening the block table")?;
        let mut time = txn
            .open_table(TIME_ORDER)
            .during("opening the time table")?;
        let (mut captures, mut bytes) = (0, 0);
        for (number, info) in blocks {
            if let Some(old) = data
                .remove((dataset.0, *number))
                .during("deleting a block")?
            {
                bytes += old.value().len() as u64;
            }
            dir.remove((dataset.0, *number))
                .during("deleting a block")?;
            time.remove((dataset.0, info.first_us, *number))
                .during("deleting a block")?;
            captures += u64::from(info.count);
        }
        Ok((captures, bytes))
    }

    /// The time span of a directory's live blocks.
    fn span(directory: &Directory) -> (Option<u64>, Option<u64>) {
        directory.iter().fold((None, None), |(f, l), (_, b)| {
            let (f, l) = widen(f, l, b.first_us);
            widen(f, l, b.last_us)
        })
    }

    fn update_after_delete(
        &self,
        dataset: DatasetId,
        slot: &DirectorySlot,
        changes: Vec<(u32, Option<BlockInfo>)>,
    ) -> DirectorySlot {
        let mut directory = (*slot.directory).clone();
        for (number, info) in changes {
            directory.set(number, info);
        }
        let new = DirectorySlot {
            directory: Arc::new(directory),
            generation: slot.generation + 1,
        };
        self.set_directory(dataset, new.clone());
        lock(&self.plans).retain(|p| p.key.0 != dataset.0);
        new
    }

    fn delete_import(
        &self,
        txn: &WriteTransaction,
        dataset: DatasetId,
        slot: &DirectorySlot,
        record: &mut SessionRecord,
        import: u32,
    ) -> Result<Vec<(u32, Option<BlockInfo>)>> {
        let blocks: Vec<(u32, BlockInfo)> = slot
            .directory
            .iter()
            .filter(|(_, b)| b.import == import)
            .map(|(n, b)| (n, *b))
            .collect();
        let (captures, bytes) = Self::remove_blocks(txn, dataset, &blocks)?;
        let mut imports = txn.open_table(IMPORTS).during("opening the import table")?;
        imports
            .remove((dataset.0, import))
            .during("deleting an import")?;
        record.stats.captures -= captures.min(record.stats.captures);
        record.stats.blocks -= (blocks.len() as u64).min(record.stats.blocks);
        record.stats.block_bytes -= bytes.min(record.stats.block_bytes);
        record.stats.imports = record.stats.imports.saturating_sub(1);
        Ok(blocks.into_iter().map(|(n, _)| (n, None)).collect())
    }
}

impl Drop for RedbBackend {
    /// Compacts the file on close: redb never shrinks a file by itself,
    /// and after many commits that rewrote index rows about half of it can
    /// be free pages.
    fn drop(&mut self) {
        let started = std::time::Instant::now();
        let before = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        match self.db.compact() {
            Ok(_) => {
                let after = std::fs::metadata(&self.path).map_or(0, |m| m.len());
                tracing::info!(path = %self.path.display(), before, after, ms = started.elapsed().as_millis() as u64, "store compacted");
            }
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "the store could not be compacted; it stays as it is");
            }
        }
    }
}

/// Import `id` of `dataset` from the import table, if it is there.
fn read_import(
    imports: &impl ReadableTable<(u32, u32), &'static [u8]>,
    dataset: DatasetId,
    id: u32,
) -> Result<Option<Import>> {
    imports
        .get((dataset.0, id))
        .during("reading an import")?
        .map(|v| decode("import", v.value()))
        .transpose()
}

impl Backend for RedbBackend {
    fn open_dataset(&self, name: &str, create: bool) -> Result<Option<StoredSession>> {
        {
            let txn = self.begin_read()?;
            let names = txn
                .open_table(SESSION_NAMES)
                .during("opening the session table")?;
            if let Some(id) = names.get(name).during("reading a session")? {
                let dataset = DatasetId(id.value());
                return Ok(Some(Self::stored(
                    dataset,
                    Self::read_record(&txn, dataset)?,
                )));
            }
        }
        if !create {
            return Ok(None);
        }
        let _writing = lock(&self.writing);
        let txn = self.begin_write()?;
        let stored;
        {
            let mut names = txn
                .open_table(SESSION_NAMES)
                .during("opening the session table")?;
            let existing = names
                .get(name)
                .during("reading a session")?
                .map(|id| DatasetId(id.value()));
            if let Some(dataset) = existing {
                drop(names);
                return Ok(Some(Self::stored(dataset, Self::record(&txn, dataset)?)));
            }
            let mut meta = txn.open_table(META).during("opening the meta table")?;
            let next = meta
                .get(META_NEXT_DATASET)
                .during("reading the next session number")?
                .map_or(1, |v| v.value());
            meta.insert(META_NEXT_DATASET, next + 1)
                .during("writing the next session number")?;
            let dataset = DatasetId(u32::try_from(next).map_err(|_| StoreError::Corrupt {
                what: "meta table",
                detail: format!("the next session number {next} is out of range"),
            })?);
            names.insert(name, dataset.0).during("writing a session")?;
            let record = SessionRecord {
                name: name.to_owned(),
                created_us: now_us(),
                stats: SessionStats::default(),
                next_block: 0,
                next_import: 1,
            };
            Self::put_record(&txn, dataset, &record)?;
            stored = Self::stored(dataset, record);
        }
        txn.commit().during("creating a session")?;
        Ok(Some(stored))
    }

    fn datasets(&self) -> Result<Vec<StoredSession>> {
        let txn = self.begin_read()?;
        let names = txn
            .open_table(SESSION_NAMES)
            .during("opening the session table")?;
        let mut out = Vec::new();
        for entry in names.iter().during("listing sessions")? {
            let (_, id) = entry.during("listing sessions")?;
            let dataset = DatasetId(id.value());
            out.push(Self::stored(dataset, Self::read_record(&txn, dataset)?));
        }
        Ok(out)
    }

    fn dataset(&self, dataset: DatasetId) -> Result<StoredSession> {
        let txn = self.begin_read()?;
        Ok(Self::stored(dataset, Self::read_record(&txn, dataset)?))
    }

    fn delete_dataset(&self, dataset: DatasetId) -> Result<()> {
        let _writing = lock(&self.writing);
        let txn = self.begin_write()?;
        {
            let record = Self::record(&txn, dataset)?;
            let d = dataset.0;
            let mut names = txn
                .open_table(SESSION_NAMES)
                .during("opening the session table")?;
            names
                .remove(record.name.as_str())
                .during("deleting a session")?;
            let mut sessions = txn
                .open_table(SESSIONS)
                .during("opening the session table")?;
            sessions.remove(d).during("deleting a session")?;
            txn.open_table(BLOCKS)
                .during("opening the block table")?
                .retain_in((d, 0)..=(d, u32::MAX), |_, _| false)
                .during("deleting a session")?;
            txn.open_table(BLOCK_DATA)
                .during("opening the block table")?
                .retain_in((d, 0)..=(d, u32::MAX), |_, _| false)
                .during("deleting a session")?;
            txn.open_table(TIME_ORDER)
                .during("opening the time table")?
                .retain_in((d, 0, 0)..=(d, u64::MAX, u32::MAX), |_, _| false)
                .during("deleting a session")?;
            txn.open_table(POSTINGS)
                .during("opening the index")?
                .retain_in((d, 0, 0, 0)..=(d, u8::MAX, u64::MAX, u32::MAX), |_, _| {
                    false
                })
                .during("deleting a session")?;
            txn.open_table(IMPORTS)
                .during("opening the import table")?
                .retain_in((d, 0)..=(d, u32::MAX), |_, _| false)
                .during("deleting a session")?;
            txn.open_table(FINDINGS)
                .during("opening the findings table")?
                .retain_in((d, 0)..=(d, u64::MAX), |_, _| false)
                .during("deleting a session")?;
            let mut entities = txn
                .open_table(ENTITIES)
                .during("opening the entities table")?;
            let names: Vec<String> = entities
                .range((d, "")..)
                .during("deleting a session")?
                .map_while(|e| {
                    let (k, _) = e.ok()?;
                    let (ds, name) = k.value();
                    (ds == d).then(|| name.to_owned())
                })
                .collect();
            for name in names {
                entities
                    .remove((d, name.as_str()))
                    .during("deleting a session")?;
            }
        }
        txn.commit().during("deleting a session")?;
        lock(&self.directories).remove(&dataset.0);
        lock(&self.plans).retain(|p| p.key.0 != dataset.0);
        Ok(())
    }

    fn begin_import(&self, dataset: DatasetId, spec: &ImportSpec) -> Result<ImportBegun> {
        let _writing = lock(&self.writing);
        let slot = self.directory(dataset)?;
        let txn = self.begin_write()?;
        let mut record = Self::record(&txn, dataset)?;
        let earlier: Vec<Import> = {
            let imports = txn.open_table(IMPORTS).during("opening the import table")?;
            let range = imports
                .range((dataset.0, 0)..=(dataset.0, u32::MAX))
                .during("reading imports")?;
            let mut out = Vec::new();
            for entry in range {
                let (_, value) = entry.during("reading imports")?;
                let import: Import = decode("import", value.value())?;
                if import.sha256 == spec.sha256 {
                    out.push(import);
                }
            }
            out
        };
        if !spec.force
            && let Some(done) = earlier.iter().find(|i| i.complete)
        {
            return Err(StoreError::AlreadyImported {
                session: record.name.clone(),
                file_name: done.file_name.clone(),
                sha256: done.sha256.clone(),
                import: done.id,
            });
        }
        let mut replaced = None;
        let mut changes = Vec::new();
        for partial in earlier.into_iter().filter(|i| !i.complete) {
            changes.extend(self.delete_import(&txn, dataset, &slot, &mut record, partial.id)?);
            replaced = Some(partial);
        }
        let import = Import {
            id: record.next_import,
            file_name: spec.file_name.clone(),
            sha256: spec.sha256.clone(),
            captures: 0,
            first_us: None,
            last_us: None,
            complete: false,
            started_us: now_us(),
            finished_us: None,
        };
        record.next_import += 1;
        record.stats.imports += 1;
        if !changes.is_empty() {
            let mut directory = (*slot.directory).clone();
            for (n, info) in &changes {
                directory.set(*n, *info);
            }
            let (first, last) = Self::span(&directory);
            record.stats.first_us = first;
            record.stats.last_us = last;
        }
        txn.open_table(IMPORTS)
            .during("opening the import table")?
            .insert((dataset.0, import.id), encode(&import).as_slice())
            .during("writing an import")?;
        Self::put_record(&txn, dataset, &record)?;
        txn.commit().during("starting an import")?;
        if !changes.is_empty() {
            self.update_after_delete(dataset, &slot, changes);
        }
        Ok(ImportBegun { import, replaced })
    }

    fn finish_import(&self, dataset: DatasetId, import: u32) -> Result<Import> {
        let _writing = lock(&self.writing);
        let txn = self.begin_write()?;
        let record = Self::record(&txn, dataset)?;
        let done;
        {
            let mut imports = txn.open_table(IMPORTS).during("opening the import table")?;
            let mut found = read_import(&imports, dataset, import)?.ok_or_else(|| {
                StoreError::UnknownImport {
                    session: record.name.clone(),
                    import,
                }
            })?;
            found.complete = true;
            found.finished_us = Some(now_us());
            imports
                .insert((dataset.0, import), encode(&found).as_slice())
                .during("writing an import")?;
            done = found;
        }
        txn.commit().during("finishing an import")?;
        Ok(done)
    }

    fn imports(&self, dataset: DatasetId) -> Result<Vec<Import>> {
        let txn = self.begin_read()?;
        Self::read_record(&txn, dataset)?;
        let imports = txn.open_table(IMPORTS).during("opening the import table")?;
        let range = imports
            .range((dataset.0, 0)..=(dataset.0, u32::MAX))
            .during("reading imports")?;
        range
            .map(|entry| {
                let (_, value) = entry.during("reading imports")?;
                decode("import", value.value())
            })
            .collect()
    }

    fn append_captures(
        &self,
        dataset: DatasetId,
        import: Option<u32>,
        captures: &EncodedCaptures,
    ) -> Result<u64> {
        // Lay out and compress the blocks before the write transaction, so
        // it is held only for the inserts.
        let blocks = build_blocks(captures);
        let stored: Vec<Vec<u8>> = blocks
            .iter()
            .map(|b| compress(&b.raw))
            .collect::<Result<_>>()?;
        let _writing = lock(&self.writing);
        let slot = self.directory(dataset)?;
        let txn = self.begin_write()?;
        let mut record = Self::record(&txn, dataset)?;
        let mut meta = txn.open_table(META).during("opening the meta table")?;
        let mut last = meta
            .get(META_LAST_SEQ)
            .during("reading the last sequence number")?
            .map_or(0, |v| v.value());
        if blocks.is_empty() {
            return Ok(last);
        }
        let first_block = record.next_block;
        let mut infos = Vec::with_capacity(blocks.len());
        let mut import_record: Option<Import> = None;
        if let Some(id) = import {
            let imports = txn.open_table(IMPORTS).during("opening the import table")?;
            let found =
                read_import(&imports, dataset, id)?.ok_or_else(|| StoreError::UnknownImport {
                    session: record.name.clone(),
                    import: id,
                })?;
            if found.complete {
                return Err(StoreError::ImportComplete {
                    session: record.name,
                    import: id,
                });
            }
            import_record = Some(found);
        }
        {
            let mut data = txn
                .open_table(BLOCK_DATA)
                .during("opening the block table")?;
            let mut dir = txn.open_table(BLOCKS).during("opening the block table")?;
            let mut time = txn
                .open_table(TIME_ORDER)
                .during("opening the time table")?;
            for (i, (block, bytes)) in blocks.iter().zip(&stored).enumerate() {
                let number = first_block + i as u32;
                let info = BlockInfo {
                    first_us: block.first_us,
                    last_us: block.last_us,
                    first_seq: last + 1,
                    count: block.count,
                    written: block.count,
                    import: import.unwrap_or(0),
                    rewritten: false,
                };
                data.insert((dataset.0, number), bytes.as_slice())
                    .during("writing captures")?;
                dir.insert((dataset.0, number), info.encode().as_slice())
                    .during("writing captures")?;
                time.insert((dataset.0, block.first_us, number), ())
                    .during("writing captures")?;
                last += u64::from(block.count);
                record.stats.captures += u64::from(block.count);
                record.stats.block_bytes += bytes.len() as u64;
                for t in [block.first_us, block.last_us] {
                    (record.stats.first_us, record.stats.last_us) =
                        widen(record.stats.first_us, record.stats.last_us, t);
                    if let Some(import) = &mut import_record {
                        (import.first_us, import.last_us) =
                            widen(import.first_us, import.last_us, t);
                    }
                }
                if let Some(import) = &mut import_record {
                    import.captures += u64::from(block.count);
                }
                infos.push(info);
            }
        }
        {
            let mut postings = txn.open_table(POSTINGS).during("opening the index")?;
            let new_postings = postings_of(captures, &blocks, first_block);
            let new = new_postings.lists();
            let mut i = 0;
            while i < new.len() {
                // One bucket's new terms: `new` is in term order.
                let (kind, key) = new[i].0;
                let row_bucket = bucket(kind, key);
                let mut end = i + 1;
                while end < new.len()
                    && new[end].0.0 == kind
                    && bucket(kind, new[end].0.1) == row_bucket
                {
                    end += 1;
                }
                let group = &new[i..end];
                i = end;
                let k = kind as u8;
                let base = row_bucket << row_shift(kind);
                let tail = postings
                    .range((dataset.0, k, row_bucket, 0)..=(dataset.0, k, row_bucket, u32::MAX))
                    .during("reading the index")?
                    .next_back()
                    .transpose()
                    .during("reading the index")?
                    .map(|(key, row)| (key.value().3, row.value().to_vec()));
                let (first, mut terms, old_len): (u32, Vec<(u64, Vec<u8>)>, usize) = match tail {
                    Some((first, row)) if row.len() < MAX_ROW_BYTES => {
                        let terms = decode_row(&row)?
                            .into_iter()
                            .map(|(low, p)| (low, p.to_vec()))
                            .collect();
                        (first, terms, row.len())
                    }
                    // A new row starts at the group's first block, which
                    // need not be its first term's.
                    _ => {
                        let first = group.iter().map(|(_, list)| list[0].block).min();
                        (first.unwrap_or(first_block), Vec::new(), 0)
                    }
                };
                for ((_, key), list) in group {
                    let low = key - base;
                    match terms.binary_search_by_key(&low, |(l, _)| *l) {
                        Ok(at) => append_postings(&mut terms[at].1, first, list),
                        Err(at) => {
                            let mut encoded = Vec::new();
                            append_postings(&mut encoded, first, list);
                            terms.insert(at, (low, encoded));
                        }
                    }
                }
                let row = encode_row(&terms);
                record.stats.index_bytes += (row.len() - old_len) as u64;
                postings
                    .insert((dataset.0, k, row_bucket, first), row.as_slice())
                    .during("writing the index")?;
            }
        }
        if let Some(import) = &import_record {
            txn.open_table(IMPORTS)
                .during("opening the import table")?
                .insert((dataset.0, import.id), encode(import).as_slice())
                .during("writing an import")?;
        }
        record.next_block += blocks.len() as u32;
        record.stats.blocks += blocks.len() as u64;
        Self::put_record(&txn, dataset, &record)?;
        meta.insert(META_LAST_SEQ, last)
            .during("writing the last sequence number")?;
        drop(meta);
        txn.commit().during("committing captures")?;
        let mut directory = (*slot.directory).clone();
        for info in infos {
            directory.push(info);
        }
        self.set_directory(
            dataset,
            DirectorySlot {
                directory: Arc::new(directory),
                generation: slot.generation,
            },
        );
        self.committed.send_replace(last);
        Ok(last)
    }

    fn scan_captures(
        &self,
        dataset: DatasetId,
        position: ScanPosition,
        filter: &CaptureFilter,
        limits: ScanLimits,
    ) -> Result<ScanPage> {
        match position {
            ScanPosition::TimeOrder {
                after,
                from,
                max_seq,
            } => self.scan_time_order(dataset, after, from, max_seq, filter, limits),
            ScanPosition::CommitOrder { after } => {
                self.scan_commit_order(dataset, after, filter, limits)
            }
        }
    }

    fn count_captures(&self, dataset: DatasetId, filter: &CaptureFilter) -> Result<u64> {
        let txn = self.begin_read()?;
        let (plan, slot) = self.plan(&txn, dataset, filter)?;
        let directory = &slot.directory;
        let mut count = 0u64;
        let check = |number: u32| -> Result<u64> {
            let data = txn
                .open_table(BLOCK_DATA)
                .during("opening the block table")?;
            let Some(stored) = data.get((dataset.0, number)).during("reading a block")? else {
                return Ok(0);
            };
            let raw = decompress(stored.value())?;
            let mut n = 0;
            for entry in BlockEntries::new(&raw) {
                let capture: Capture = decode("capture", entry?.bytes)?;
                n += u64::from(filter.matches(&capture));
            }
            Ok(n)
        };
        match (&plan.access, plan.count_from_index) {
            (Access::TimeScan, exact) => {
                for (number, info) in directory.iter() {
                    if exact && info.inside(filter.time) {
                        count += u64::from(info.count);
                    } else if info.overlaps(filter.time) {
                        count += check(number)?;
                    }
                }
            }
            (Access::Index(postings), exact) => {
                for posting in postings {
                    let Some(info) = directory.get(posting.block) else {
                        continue;
                    };
                    if exact && !info.rewritten && info.inside(filter.time) {
                        count += u64::from(posting.count);
                    } else {
                        count += check(posting.block)?;
                    }
                }
            }
        }
        Ok(count)
    }

    fn explain(&self, dataset: DatasetId, filter: &CaptureFilter) -> Result<String> {
        let txn = self.begin_read()?;
        Ok(self.plan(&txn, dataset, filter)?.0.to_string())
    }

    fn delete_captures(&self, dataset: DatasetId, selection: &CaptureSelection) -> Result<u64> {
        let _writing = lock(&self.writing);
        let slot = self.directory(dataset)?;
        let txn = self.begin_write()?;
        let mut record = Self::record(&txn, dataset)?;
        let before = record.stats.captures;
        let changes = match selection {
            CaptureSelection::Import(id) => {
                let exists = txn
                    .open_table(IMPORTS)
                    .during("opening the import table")?
                    .get((dataset.0, *id))
                    .during("reading an import")?
                    .is_some();
                if !exists {
                    return Err(StoreError::UnknownImport {
                        session: record.name.clone(),
                        import: *id,
                    });
                }
                self.delete_import(&txn, dataset, &slot, &mut record, *id)?
            }
            CaptureSelection::Filter(filter) => {
                let read = self.begin_read()?;
                let source = TxnPostings {
                    txn: &read,
                    dataset: dataset.0,
                };
                let plan = Plan::new(filter, &slot.directory, &source)?;
                let candidates: Vec<u32> = match &plan.access {
                    Access::Index(p) => p.iter().map(|p| p.block).collect(),
                    Access::TimeScan => slot
                        .directory
                        .iter()
                        .filter(|(_, b)| b.overlaps(filter.time))
                        .map(|(n, _)| n)
                        .collect(),
                };
                let mut changes = Vec::new();
                let mut removed = Vec::new();
                let mut moved: Vec<(u32, u64, u64)> = Vec::new();
                // Captures deleted, by the import that stored them.
                let mut by_import: std::collections::BTreeMap<u32, u64> = Default::default();
                let mut data = txn
                    .open_table(BLOCK_DATA)
                    .during("opening the block table")?;
                let mut dir = txn.open_table(BLOCKS).during("opening the block table")?;
                for number in candidates {
                    let Some(info) = slot.directory.get(number).copied() else {
                        continue;
                    };
                    let Some(stored) = data
                        .get((dataset.0, number))
                        .during("reading a block")?
                        .map(|v| v.value().to_vec())
                    else {
                        continue;
                    };
                    let raw = decompress(&stored)?;
                    let retained = retain_entries(&raw, info.first_us, |entry| {
                        let capture: Capture = decode("capture", entry.bytes)?;
                        Ok(!filter.matches(&capture))
                    })?;
                    let Some(retained) = retained else {
                        *by_import.entry(info.import).or_default() += u64::from(info.count);
                        removed.push((number, info));
                        changes.push((number, None));
                        continue;
                    };
                    let kept = retained.count;
                    if kept == info.count {
                        continue;
                    }
                    *by_import.entry(info.import).or_default() += u64::from(info.count - kept);
                    let new_stored = compress(&retained.raw)?;
                    let new_info = BlockInfo {
                        first_us: retained.first_us,
                        last_us: retained.last_us,
                        count: kept,
                        rewritten: true,
                        ..info
                    };
                    // The block's first time is its time-order key.
                    if new_info.first_us != info.first_us {
                        moved.push((number, info.first_us, new_info.first_us));
                    }
                    record.stats.captures -= u64::from(info.count - kept);
                    record.stats.block_bytes = (record.stats.block_bytes + new_stored.len() as u64)
                        .saturating_sub(stored.len() as u64);
                    data.insert((dataset.0, number), new_stored.as_slice())
                        .during("rewriting a block")?;
                    dir.insert((dataset.0, number), new_info.encode().as_slice())
                        .during("rewriting a block")?;
                    changes.push((number, Some(new_info)));
                }
                drop(data);
                drop(dir);
                let mut time = txn
                    .open_table(TIME_ORDER)
                    .during("opening the time table")?;
                for (number, old, new) in moved {
                    time.remove((dataset.0, old, number))
                        .during("rewriting a block")?;
                    time.insert((dataset.0, new, number), ())
                        .during("rewriting a block")?;
                }
                drop(time);
                Self::lower_imports(&txn, dataset, &by_import)?;
                let (captures, bytes) = Self::remove_blocks(&txn, dataset, &removed)?;
                record.stats.captures -= captures.min(record.stats.captures);
                record.stats.blocks -= (removed.len() as u64).min(record.stats.blocks);
                record.stats.block_bytes -= bytes.min(record.stats.block_bytes);
                changes
            }
        };
        let mut directory = (*slot.directory).clone();
        for (n, info) in &changes {
            directory.set(*n, *info);
        }
        let (first, last) = Self::span(&directory);
        record.stats.first_us = first;
        record.stats.last_us = last;
        let deleted = before - record.stats.captures;
        Self::put_record(&txn, dataset, &record)?;
        txn.commit().during("deleting captures")?;
        self.update_after_delete(dataset, &slot, changes);
        Ok(deleted)
    }

    fn put_entities(&self, dataset: DatasetId, entities: &[Entity]) -> Result<()> {
        if entities.iter().any(|e| e.name.is_empty()) {
            return Err(StoreError::EmptyEntityName);
        }
        let _writing = lock(&self.writing);
        let txn = self.begin_write()?;
        Self::record(&txn, dataset)?;
        {
            let mut table = txn
                .open_table(ENTITIES)
                .during("opening the entities table")?;
            for entity in entities {
                table
                    .insert((dataset.0, entity.name.as_str()), encode(entity).as_slice())
                    .during("writing an entity")?;
            }
        }
        txn.commit().during("committing entities")
    }

    fn scan_entities(
        &self,
        dataset: DatasetId,
        after: Option<&str>,
        filter: &EntityFilter,
        max_items: usize,
    ) -> Result<Vec<Entity>> {
        let txn = self.begin_read()?;
        Self::read_record(&txn, dataset)?;
        let table = txn
            .open_table(ENTITIES)
            .during("opening the entities table")?;
        let range = table
            .range((dataset.0, after.unwrap_or(""))..)
            .during("scanning entities")?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for entry in range {
            let (key, value) = entry.during("scanning entities")?;
            let (ds, name) = key.value();
            if ds != dataset.0 {
                break;
            }
            if Some(name) == after {
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
        let _writing = lock(&self.writing);
        let txn = self.begin_write()?;
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
        let txn = self.begin_read()?;
        let table = txn.open_table(NODES).during("opening the nodes table")?;
        let iter = table.iter().during("scanning nodes")?;
        let mut nodes: Vec<Node> = iter
            .map(|entry| {
                let (_, value) = entry.during("scanning nodes")?;
                decode("node", value.value())
            })
            .collect::<Result<_>>()?;
        // Keys are address text, whose order is not address order
        // ("10.0.0.1" sorts before "9.0.0.1").
        nodes.sort_by_key(|n| n.ip);
        Ok(nodes)
    }

    fn committed(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    fn append_findings(&self, dataset: DatasetId, findings: &[NewFinding]) -> Result<u64> {
        let _writing = lock(&self.writing);
        let txn = self.begin_write()?;
        Self::record(&txn, dataset)?;
        let last = {
            let mut table = txn
                .open_table(FINDINGS)
                .during("opening the findings table")?;
            let mut last = last_finding(&table, dataset)?;
            for finding in findings {
                last += 1;
                table
                    .insert((dataset.0, last), encode(finding).as_slice())
                    .during("writing a finding")?;
            }
            last
        };
        txn.commit().during("committing findings")?;
        self.findings_committed.send_modify(|n| *n += 1);
        Ok(last)
    }

    fn scan_findings(
        &self,
        dataset: DatasetId,
        after: u64,
        filter: &FindingFilter,
        max_items: usize,
    ) -> Result<FindingPage> {
        let txn = self.begin_read()?;
        Self::read_record(&txn, dataset)?;
        let table = txn
            .open_table(FINDINGS)
            .during("opening the findings table")?;
        let range = table
            .range((dataset.0, after.saturating_add(1))..=(dataset.0, u64::MAX))
            .during("scanning findings")?;
        let mut page = FindingPage {
            findings: Vec::new(),
            last_examined: after,
            exhausted: true,
        };
        let mut bytes = 0;
        for (examined, entry) in range.enumerate() {
            if examined == MAX_SCAN_ROWS
                || page.findings.len() >= max_items.max(1)
                || bytes >= MAX_READ_BYTES
            {
                page.exhausted = false;
                break;
            }
            let (key, value) = entry.during("scanning findings")?;
            let seq = key.value().1;
            page.last_examined = seq;
            let finding: NewFinding = decode("finding", value.value())?;
            if filter.matches(&finding) {
                bytes += value.value().len();
                page.findings.push(StoredFinding { seq, finding });
            }
        }
        Ok(page)
    }

    fn count_findings(&self, dataset: DatasetId) -> Result<u64> {
        let txn = self.begin_read()?;
        Self::read_record(&txn, dataset)?;
        let table = txn
            .open_table(FINDINGS)
            .during("opening the findings table")?;
        last_finding(&table, dataset)
    }

    fn findings_committed(&self) -> watch::Receiver<u64> {
        self.findings_committed.subscribe()
    }
}
