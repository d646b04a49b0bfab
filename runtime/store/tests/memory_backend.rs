//! A second [`Backend`], in memory, for checking the redb one against.
//!
//! It keeps each dataset's captures in two `BTreeMap`s, by `seq` (commit
//! order) and by `(timestamp_us, seq)` (time order), and scans them one
//! capture at a time with the oracle's matcher: no blocks, postings,
//! planner or caches, and no code shared with the redb backend. It follows
//! the trait's documented rules: one `seq` counter for the whole store, the
//! captures of a commit sorted stably by timestamp before they get
//! consecutive `seq`s, a complete import refused unless forced, and a
//! partial one replaced with its captures deleted.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bgpmon_store::{
    Backend, Capture, CaptureFilter, CaptureSelection, DatasetId, EncodedCaptures, Entity,
    EntityFilter, FindingFilter, FindingPage, Import, ImportBegun, ImportSpec, MAX_READ_BYTES,
    MAX_SCAN_ROWS, NewFinding, Node, Result, ScanLimits, ScanPage, ScanPosition, SessionStats,
    StoreError, StoredFinding, StoredSession,
};
use tokio::sync::watch;

use crate::oracle;

/// A store held in memory.
#[derive(Debug)]
pub(crate) struct MemoryBackend {
    state: Mutex<State>,
    committed: watch::Sender<u64>,
    findings_committed: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct State {
    /// The last `seq` given to a capture, in any dataset.
    last_seq: u64,
    /// The last dataset number given.
    last_dataset: u32,
    names: BTreeMap<String, DatasetId>,
    datasets: BTreeMap<DatasetId, Dataset>,
    nodes: BTreeMap<IpAddr, Node>,
}

#[derive(Debug)]
struct Dataset {
    name: String,
    created_us: u64,
    /// Captures by `seq`.
    captures: BTreeMap<u64, Stored>,
    /// `(timestamp_us, seq)` of every capture.
    by_time: BTreeSet<(u64, u64)>,
    imports: BTreeMap<u32, Import>,
    last_import: u32,
    entities: BTreeMap<String, Entity>,
    /// Findings in the order they were reported; the `n`th has number `n + 1`.
    findings: Vec<NewFinding>,
}

#[derive(Debug)]
struct Stored {
    capture: Capture,
    import: Option<u32>,
    /// Its stored (postcard) size, for the byte limit of scans.
    bytes: usize,
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn unknown(dataset: DatasetId) -> StoreError {
    StoreError::UnknownDataset {
        session: format!("#{}", dataset.0),
    }
}

fn span(first: Option<u64>, last: Option<u64>, t: u64) -> (Option<u64>, Option<u64>) {
    (
        Some(first.map_or(t, |f| f.min(t))),
        Some(last.map_or(t, |l| l.max(t))),
    )
}

impl Dataset {
    fn stored_session(&self, dataset: DatasetId) -> StoredSession {
        let stats = SessionStats {
            captures: self.captures.len() as u64,
            // The model has no blocks or indexes.
            blocks: 0,
            block_bytes: self.captures.values().map(|s| s.bytes as u64).sum(),
            index_bytes: 0,
            first_us: self.by_time.first().map(|(t, _)| *t),
            last_us: self.by_time.last().map(|(t, _)| *t),
            imports: self.imports.len() as u64,
        };
        StoredSession {
            name: self.name.clone(),
            dataset,
            created_us: self.created_us,
            stats,
        }
    }

    fn unknown_import(&self, import: u32) -> StoreError {
        StoreError::UnknownImport {
            session: self.name.clone(),
            import,
        }
    }

    /// Removes the captures `doomed` picks and returns how many there were.
    fn remove_where(&mut self, doomed: impl Fn(&Stored) -> bool) -> u64 {
        let seqs: Vec<u64> = self
            .captures
            .iter()
            .filter(|(_, s)| doomed(s))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in &seqs {
            if let Some(stored) = self.captures.remove(seq) {
                self.by_time.remove(&(stored.capture.timestamp_us, *seq));
                // An import counts the captures of its that are still stored.
                if let Some(import) = stored.import.and_then(|id| self.imports.get_mut(&id)) {
                    import.captures = import.captures.saturating_sub(1);
                }
            }
        }
        seqs.len() as u64
    }

    /// Deletes an import's captures and its record.
    fn remove_import(&mut self, import: u32) -> u64 {
        self.imports.remove(&import);
        self.remove_where(|s| s.import == Some(import))
    }
}

impl MemoryBackend {
    /// An empty store.
    pub(crate) fn new() -> Self {
        let (committed, _) = watch::channel(0);
        Self {
            state: Mutex::new(State::default()),
            committed,
            findings_committed: watch::channel(0).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

impl State {
    fn get(&self, dataset: DatasetId) -> Result<&Dataset> {
        self.datasets.get(&dataset).ok_or_else(|| unknown(dataset))
    }

    fn get_mut(&mut self, dataset: DatasetId) -> Result<&mut Dataset> {
        self.datasets
            .get_mut(&dataset)
            .ok_or_else(|| unknown(dataset))
    }
}

/// What one scan page has used of its limits.
struct Used {
    limits: ScanLimits,
    bytes: usize,
}

impl Used {
    /// Examines `stored` at `position` for `page`; returns `false`, doing
    /// nothing, once a limit is spent.
    fn examine(
        &mut self,
        page: &mut ScanPage,
        position: ScanPosition,
        stored: &Stored,
        filter: &CaptureFilter,
    ) -> bool {
        if page.captures.len() >= self.limits.items
            || page.examined >= self.limits.rows
            || self.bytes >= self.limits.bytes
        {
            page.exhausted = false;
            return false;
        }
        page.examined += 1;
        page.next = position;
        if oracle::keeps(filter, &stored.capture) {
            self.bytes += stored.bytes;
            page.captures.push(stored.capture.clone());
        }
        true
    }
}

impl Backend for MemoryBackend {
    fn open_dataset(&self, name: &str, create: bool) -> Result<Option<StoredSession>> {
        let mut state = self.lock();
        if let Some(id) = state.names.get(name).copied() {
            return Ok(Some(state.get(id)?.stored_session(id)));
        }
        if !create {
            return Ok(None);
        }
        state.last_dataset += 1;
        let id = DatasetId(state.last_dataset);
        let dataset = Dataset {
            name: name.to_owned(),
            created_us: now_us(),
            captures: BTreeMap::new(),
            by_time: BTreeSet::new(),
            imports: BTreeMap::new(),
            last_import: 0,
            entities: BTreeMap::new(),
            findings: Vec::new(),
        };
        let stored = dataset.stored_session(id);
        state.names.insert(name.to_owned(), id);
        state.datasets.insert(id, dataset);
        Ok(Some(stored))
    }

    fn datasets(&self) -> Result<Vec<StoredSession>> {
        let state = self.lock();
        state
            .names
            .values()
            .map(|id| Ok(state.get(*id)?.stored_session(*id)))
            .collect()
    }

    fn dataset(&self, dataset: DatasetId) -> Result<StoredSession> {
        Ok(self.lock().get(dataset)?.stored_session(dataset))
    }

    fn delete_dataset(&self, dataset: DatasetId) -> Result<()> {
        let mut state = self.lock();
        let gone = state
            .datasets
            .remove(&dataset)
            .ok_or_else(|| unknown(dataset))?;
        state.names.remove(&gone.name);
        Ok(())
    }

    fn begin_import(&self, dataset: DatasetId, spec: &ImportSpec) -> Result<ImportBegun> {
        let mut state = self.lock();
        let ds = state.get_mut(dataset)?;
        let same: Vec<Import> = ds
            .imports
            .values()
            .filter(|i| i.sha256 == spec.sha256)
            .cloned()
            .collect();
        if !spec.force
            && let Some(done) = same.iter().find(|i| i.complete)
        {
            return Err(StoreError::AlreadyImported {
                session: ds.name.clone(),
                file_name: done.file_name.clone(),
                sha256: done.sha256.clone(),
                import: done.id,
            });
        }
        let mut replaced = None;
        for partial in same.into_iter().filter(|i| !i.complete) {
            ds.remove_import(partial.id);
            replaced = Some(partial);
        }
        ds.last_import += 1;
        let import = Import {
            id: ds.last_import,
            file_name: spec.file_name.clone(),
            sha256: spec.sha256.clone(),
            captures: 0,
            first_us: None,
            last_us: None,
            complete: false,
            started_us: now_us(),
            finished_us: None,
        };
        ds.imports.insert(import.id, import.clone());
        Ok(ImportBegun { import, replaced })
    }

    fn finish_import(&self, dataset: DatasetId, import: u32) -> Result<Import> {
        let mut state = self.lock();
        let ds = state.get_mut(dataset)?;
        let missing = ds.unknown_import(import);
        let record = ds.imports.get_mut(&import).ok_or(missing)?;
        record.complete = true;
        record.finished_us = Some(now_us());
        Ok(record.clone())
    }

    fn imports(&self, dataset: DatasetId) -> Result<Vec<Import>> {
        Ok(self
            .lock()
            .get(dataset)?
            .imports
            .values()
            .cloned()
            .collect())
    }

    fn append_captures(
        &self,
        dataset: DatasetId,
        import: Option<u32>,
        captures: &EncodedCaptures,
    ) -> Result<u64> {
        let mut batch: Vec<Capture> = captures.captures().collect::<Result<_>>()?;
        let mut state = self.lock();
        let State {
            last_seq, datasets, ..
        } = &mut *state;
        let ds = datasets.get_mut(&dataset).ok_or_else(|| unknown(dataset))?;
        if let Some(id) = import {
            match ds.imports.get(&id) {
                None => return Err(ds.unknown_import(id)),
                Some(record) if record.complete => {
                    return Err(StoreError::ImportComplete {
                        session: ds.name.clone(),
                        import: id,
                    });
                }
                Some(_) => {}
            }
        }
        if batch.is_empty() {
            return Ok(*last_seq);
        }
        // Stable: captures of one timestamp keep their write order.
        batch.sort_by_key(|c| c.timestamp_us);
        for capture in batch {
            *last_seq += 1;
            let t = capture.timestamp_us;
            if let Some(record) = import.and_then(|id| ds.imports.get_mut(&id)) {
                record.captures += 1;
                (record.first_us, record.last_us) = span(record.first_us, record.last_us, t);
            }
            let bytes = postcard::to_allocvec(&capture).unwrap().len();
            ds.by_time.insert((t, *last_seq));
            ds.captures.insert(
                *last_seq,
                Stored {
                    capture,
                    import,
                    bytes,
                },
            );
        }
        let last = *last_seq;
        drop(state);
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
        let state = self.lock();
        let ds = state.get(dataset)?;
        let mut page = ScanPage {
            captures: Vec::new(),
            next: position,
            exhausted: true,
            examined: 0,
        };
        let mut used = Used { limits, bytes: 0 };
        match position {
            ScanPosition::TimeOrder { after, max_seq, .. } => {
                let from = after.map_or(Bound::Unbounded, Bound::Excluded);
                for &(t, seq) in ds.by_time.range((from, Bound::Unbounded)) {
                    if seq > max_seq {
                        continue;
                    }
                    let next = ScanPosition::TimeOrder {
                        after: Some((t, seq)),
                        from: None,
                        max_seq,
                    };
                    if !used.examine(&mut page, next, &ds.captures[&seq], filter) {
                        break;
                    }
                }
            }
            ScanPosition::CommitOrder { after } => {
                let from = (Bound::Excluded(after), Bound::Unbounded);
                for (&seq, stored) in ds.captures.range(from) {
                    let next = ScanPosition::CommitOrder { after: seq };
                    if !used.examine(&mut page, next, stored, filter) {
                        break;
                    }
                }
            }
        }
        Ok(page)
    }

    fn count_captures(&self, dataset: DatasetId, filter: &CaptureFilter) -> Result<u64> {
        let state = self.lock();
        let ds = state.get(dataset)?;
        let mut n = 0;
        for stored in ds.captures.values() {
            if oracle::keeps(filter, &stored.capture) {
                n += 1;
            }
        }
        Ok(n)
    }

    fn explain(&self, dataset: DatasetId, _filter: &CaptureFilter) -> Result<String> {
        let state = self.lock();
        let n = state.get(dataset)?.captures.len();
        Ok(format!("check each of {n} captures in time order"))
    }

    fn delete_captures(&self, dataset: DatasetId, selection: &CaptureSelection) -> Result<u64> {
        let mut state = self.lock();
        let ds = state.get_mut(dataset)?;
        match selection {
            CaptureSelection::Import(id) => {
                if !ds.imports.contains_key(id) {
                    return Err(ds.unknown_import(*id));
                }
                Ok(ds.remove_import(*id))
            }
            CaptureSelection::Filter(filter) => {
                Ok(ds.remove_where(|s| oracle::keeps(filter, &s.capture)))
            }
        }
    }

    fn put_entities(&self, dataset: DatasetId, entities: &[Entity]) -> Result<()> {
        if entities.iter().any(|e| e.name.is_empty()) {
            return Err(StoreError::EmptyEntityName);
        }
        let mut state = self.lock();
        let ds = state.get_mut(dataset)?;
        for entity in entities {
            ds.entities.insert(entity.name.clone(), entity.clone());
        }
        Ok(())
    }

    fn scan_entities(
        &self,
        dataset: DatasetId,
        after: Option<&str>,
        filter: &EntityFilter,
        max_items: usize,
    ) -> Result<Vec<Entity>> {
        let state = self.lock();
        let ds = state.get(dataset)?;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut out = Vec::new();
        let mut bytes = 0;
        for (name, entity) in ds.entities.range::<str, _>((from, Bound::Unbounded)) {
            let wanted = filter.names.is_empty() || filter.names.iter().any(|n| n == name);
            if !wanted {
                continue;
            }
            bytes += postcard::to_allocvec(entity).unwrap().len();
            out.push(entity.clone());
            if out.len() >= max_items || bytes >= MAX_READ_BYTES {
                break;
            }
        }
        Ok(out)
    }

    fn put_nodes(&self, nodes: &[Node]) -> Result<()> {
        let mut state = self.lock();
        for node in nodes {
            state.nodes.insert(node.ip, node.clone());
        }
        Ok(())
    }

    fn nodes(&self) -> Result<Vec<Node>> {
        Ok(self.lock().nodes.values().cloned().collect())
    }

    fn committed(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    fn append_findings(&self, dataset: DatasetId, findings: &[NewFinding]) -> Result<u64> {
        let mut state = self.lock();
        let ds = state.get_mut(dataset)?;
        ds.findings.extend_from_slice(findings);
        self.findings_committed.send_modify(|n| *n += 1);
        Ok(ds.findings.len() as u64)
    }

    fn scan_findings(
        &self,
        dataset: DatasetId,
        after: u64,
        filter: &FindingFilter,
        max_items: usize,
    ) -> Result<FindingPage> {
        let state = self.lock();
        let ds = state.get(dataset)?;
        let mut page = FindingPage {
            findings: Vec::new(),
            last_examined: after,
            exhausted: true,
        };
        let mut bytes = 0;
        let start = usize::try_from(after).unwrap_or(usize::MAX);
        for (examined, (index, finding)) in ds.findings.iter().enumerate().skip(start).enumerate() {
            if examined == MAX_SCAN_ROWS
                || page.findings.len() >= max_items.max(1)
                || bytes >= MAX_READ_BYTES
            {
                page.exhausted = false;
                break;
            }
            let seq = index as u64 + 1;
            page.last_examined = seq;
            if filter.matches(finding) {
                bytes += postcard::to_allocvec(finding).unwrap().len();
                page.findings.push(StoredFinding {
                    seq,
                    finding: finding.clone(),
                });
            }
        }
        Ok(page)
    }

    fn count_findings(&self, dataset: DatasetId) -> Result<u64> {
        Ok(self.lock().get(dataset)?.findings.len() as u64)
    }

    fn findings_committed(&self) -> watch::Receiver<u64> {
        self.findings_committed.subscribe()
    }
}
