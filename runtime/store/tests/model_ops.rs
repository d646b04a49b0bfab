//! Random operation sequences run on a redb store and on the in-memory
//! model side by side, through the same sessions and streams, and compared
//! after every step.
//!
//! The operations: open or create datasets (three names, the third less
//! often), write random small captures (plainly or into an import), flush,
//! cancel, begin and finish imports, delete by import, by filter or a whole
//! dataset (whose old number must then reach nothing), reopen the redb
//! file, start following readers, and write entities and nodes.
//!
//! After every step both stores must agree on each dataset's captures in
//! time order (paged with random small limits, now and at an earlier
//! snapshot), in commit order, on counts for random filters, on imports,
//! stats, entities and nodes; and every capture of a dataset carries that
//! dataset's own tag, so nothing written to one dataset shows up in
//! another. Every following reader then reads a few batches, or to the end
//! of what is committed; at the end, unless captures of its dataset were
//! deleted meanwhile, what it returned since its last end must be its
//! time-order snapshot (the first time) and then exactly the captures
//! committed since, in commit order.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bgpmon_store::{
    Backend, Capture, CaptureFilter, CaptureReader, CaptureSelection, CaptureWriter, DatasetId,
    EncodedCaptures, Entity, EntityFilter, Import, ImportSpec, Node, OwnedPrefix, RedbBackend,
    ScanLimits, ScanPosition, Session, SessionOptions, StoreError,
};
use proptest::prelude::*;
use proptest::sample::Index;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use crate::arb;
use crate::memory_backend::MemoryBackend;
use crate::oracle;
use crate::pages::scan_all;

/// The dataset names.
const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];

/// Files to import, as `(name, sha256)`.
const FILES: [(&str, &str); 2] = [
    ("rib.20240101.0000.bz2", "aa01"),
    ("updates.20240101.0000.gz", "bb02"),
];

/// Entity names; the empty one is refused.
const ENTITY_NAMES: [&str; 4] = ["acme", "globex", "initech", ""];

/// Node addresses, whose text order is not their address order.
const NODE_IPS: [&str; 5] = ["9.0.0.1", "10.0.0.1", "192.0.2.1", "2001:db8::1", "::1"];

#[derive(Clone, Debug)]
enum Op {
    Open(usize),
    Write {
        name: usize,
        import: bool,
        captures: Vec<Capture>,
    },
    Flush {
        name: usize,
        import: bool,
    },
    Cancel {
        name: usize,
        import: bool,
    },
    BeginImport {
        name: usize,
        file: usize,
        force: bool,
    },
    /// Begins an import, commits batches into it and perhaps finishes it.
    Import {
        name: usize,
        file: usize,
        force: bool,
        batches: Vec<Vec<Capture>>,
        finish: bool,
    },
    FinishImport(usize),
    /// Deletes one of the imports of any dataset (then `name` is its
    /// dataset's), or an unknown one of dataset `name`.
    DeleteImport {
        name: usize,
        pick: Index,
    },
    DeleteFilter {
        name: usize,
        filter: CaptureFilter,
    },
    DeleteDataset(usize),
    Reopen,
    Follow {
        name: usize,
        filter: CaptureFilter,
    },
    PutEntities {
        name: usize,
        entities: Vec<(usize, u32)>,
    },
    PutNodes(Vec<(usize, u32)>),
}

/// How a step's comparison reads.
#[derive(Clone, Debug)]
struct Check {
    limits: ScanLimits,
    /// Which earlier commit a snapshot read stops at.
    snapshot: Index,
    filters: Vec<CaptureFilter>,
    entity_page: usize,
    /// How many batches each follower reads, or `None` to read it to the
    /// end of what is committed.
    follow_reads: Option<usize>,
}

/// A filter with an indexed term, so that a delete by it usually keeps
/// some captures.
fn selective_filter() -> impl Strategy<Value = CaptureFilter> {
    arb::filter(4).prop_filter("an indexed term", oracle::has_indexed_term)
}

fn op() -> impl Strategy<Value = Op> {
    let name = || prop_oneof![3 => 0usize..2, 1 => Just(2usize)];
    let captures = || prop::collection::vec(arb::capture(4), 0..12);
    prop_oneof![
        1 => name().prop_map(Op::Open),
        12 => (name(), any::<bool>(), captures())
            .prop_map(|(name, import, captures)| Op::Write { name, import, captures }),
        6 => (name(), any::<bool>()).prop_map(|(name, import)| Op::Flush { name, import }),
        1 => (name(), any::<bool>()).prop_map(|(name, import)| Op::Cancel { name, import }),
        1 => (name(), 0..FILES.len(), prop::bool::weighted(0.2))
            .prop_map(|(name, file, force)| Op::BeginImport { name, file, force }),
        3 => (
            name(),
            0..FILES.len(),
            prop::bool::weighted(0.2),
            prop::collection::vec(captures(), 0..3),
            prop::bool::weighted(0.6),
        )
            .prop_map(|(name, file, force, batches, finish)| Op::Import {
                name,
                file,
                force,
                batches,
                finish,
            }),
        1 => name().prop_map(Op::FinishImport),
        2 => (name(), any::<Index>()).prop_map(|(name, pick)| Op::DeleteImport { name, pick }),
        2 => (name(), selective_filter())
            .prop_map(|(name, filter)| Op::DeleteFilter { name, filter }),
        1 => name().prop_map(Op::DeleteDataset),
        1 => Just(Op::Reopen),
        2 => (name(), prop_oneof![Just(CaptureFilter::default()), arb::filter(4)])
            .prop_map(|(name, filter)| Op::Follow { name, filter }),
        1 => (name(), prop::collection::vec((0..ENTITY_NAMES.len(), 1u32..5), 1..4))
            .prop_map(|(name, entities)| Op::PutEntities { name, entities }),
        1 => prop::collection::vec((0..NODE_IPS.len(), 0u32..3), 1..4).prop_map(Op::PutNodes),
    ]
}

fn check() -> impl Strategy<Value = Check> {
    (
        1usize..6,
        1usize..8,
        prop_oneof![3 => Just(usize::MAX), 1 => Just(1usize), 1 => Just(300usize)],
        any::<Index>(),
        prop::collection::vec(arb::filter(4), 1..3),
        1usize..3,
        prop_oneof![Just(None), (0usize..3).prop_map(Some)],
    )
        .prop_map(
            |(items, rows, bytes, snapshot, filters, entity_page, follow_reads)| Check {
                limits: ScanLimits { items, rows, bytes },
                snapshot,
                filters,
                entity_page,
                follow_reads,
            },
        )
}

/// An error as both stores must report it.
fn kind(error: &StoreError) -> String {
    match error {
        StoreError::UnknownDataset { .. } => "unknown dataset".into(),
        StoreError::AlreadyImported { import, .. } => format!("already imported as {import}"),
        StoreError::UnknownImport { import, .. } => format!("unknown import {import}"),
        StoreError::ImportComplete { import, .. } => format!("import {import} complete"),
        StoreError::EmptyEntityName => "empty entity name".into(),
        other => format!("unexpected: {other}"),
    }
}

fn outcome<T: std::fmt::Debug, E: std::borrow::Borrow<StoreError>>(result: Result<T, E>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(e) => format!("error {}", kind(e.borrow())),
    }
}

/// An import without its wall-clock times.
fn import_summary(i: &Import) -> String {
    format!(
        "#{} {} {} captures={} span={:?}..{:?} complete={} finished={}",
        i.id,
        i.file_name,
        i.sha256,
        i.captures,
        i.first_us,
        i.last_us,
        i.complete,
        i.finished_us.is_some()
    )
}

fn options() -> SessionOptions {
    SessionOptions {
        workers: 64,
        worker_wait: Duration::from_secs(5),
        ..SessionOptions::default()
    }
}

struct Follower {
    reader: CaptureReader,
    filter: CaptureFilter,
    /// The last `seq` committed when it last read to the end (or opened).
    cursor: u64,
    /// Whether it has not read to the end yet: it starts with its
    /// time-order snapshot.
    fresh: bool,
    /// What it returned since it last read to the end.
    got: Vec<Capture>,
    /// Whether no capture of its dataset was deleted since then, so what it
    /// returns does not depend on how far it had read.
    clean: bool,
}

/// A dataset opened on one side.
struct Opened {
    dataset: DatasetId,
    session: Session,
    writer: CaptureWriter,
    import: Option<(u32, CaptureWriter)>,
    followers: Vec<Follower>,
}

impl Opened {
    fn writer(&mut self, import: bool) -> &mut CaptureWriter {
        match &mut self.import {
            Some((_, w)) if import => w,
            _ => &mut self.writer,
        }
    }
}

/// One store and what is open on it.
struct Side {
    backend: Arc<dyn Backend>,
    open: BTreeMap<usize, Opened>,
    /// The dataset of each stored name.
    current: BTreeMap<usize, DatasetId>,
    /// Every dataset number ever given.
    seen: BTreeSet<DatasetId>,
}

impl Side {
    fn new(backend: Arc<dyn Backend>) -> Self {
        Self {
            backend,
            open: BTreeMap::new(),
            current: BTreeMap::new(),
            seen: BTreeSet::new(),
        }
    }

    fn committed(&self) -> u64 {
        *self.backend.committed().borrow()
    }

    /// Opens dataset `name`, creating it when missing.
    fn open(&mut self, rt: &Runtime, name: usize) -> &mut Opened {
        if !self.open.contains_key(&name) {
            let stored = self
                .backend
                .open_dataset(NAMES[name], true)
                .unwrap()
                .unwrap();
            assert_eq!(stored.name, NAMES[name]);
            match self.current.get(&name) {
                Some(id) => assert_eq!(stored.dataset, *id, "{} changed number", NAMES[name]),
                None => {
                    assert!(
                        self.seen.insert(stored.dataset),
                        "a new dataset got the used number {:?}",
                        stored.dataset
                    );
                    self.current.insert(name, stored.dataset);
                }
            }
            let session = Session::new(
                stored.name.clone(),
                stored.dataset,
                "test",
                self.backend.clone(),
                options(),
            );
            let writer = rt.block_on(session.capture_writer()).unwrap();
            let opened = Opened {
                dataset: stored.dataset,
                session,
                writer,
                import: None,
                followers: Vec::new(),
            };
            self.open.insert(name, opened);
        }
        self.open.get_mut(&name).unwrap()
    }

    fn run(&mut self, rt: &Runtime, op: &Op, tags: &[u64; 3], import_pick: u32) -> String {
        match op {
            Op::Open(name) => {
                let d = self.open(rt, *name).dataset;
                outcome(self.backend.dataset(d).map(|s| (s.name, s.stats.captures)))
            }
            Op::Write {
                name,
                import,
                captures,
            } => {
                let tagged = captures.iter().cloned().map(|mut c| {
                    c.med = Some(u32::try_from(tags[*name]).unwrap());
                    c
                });
                outcome(self.open(rt, *name).writer(*import).write(tagged))
            }
            Op::Flush { name, import } => {
                let writer = self.open(rt, *name).writer(*import);
                outcome(rt.block_on(writer.flush()))
            }
            Op::Cancel { name, import } => {
                let writer = self.open(rt, *name).writer(*import);
                writer.cancel();
                format!("buffered {}", writer.buffered())
            }
            Op::BeginImport { name, file, force } => self.begin_import(rt, *name, *file, *force),
            Op::Import {
                name,
                file,
                force,
                batches,
                finish,
            } => {
                let mut out = self.begin_import(rt, *name, *file, *force);
                let opened = self.open(rt, *name);
                if let Some((id, writer)) = &mut opened.import {
                    for batch in batches {
                        let tagged = batch.iter().cloned().map(|mut c| {
                            c.med = Some(u32::try_from(tags[*name]).unwrap());
                            c
                        });
                        writer.write(tagged).unwrap();
                        out += &format!("; {}", outcome(rt.block_on(writer.flush())));
                    }
                    if *finish {
                        let done = rt.block_on(opened.session.finish_import(*id));
                        out += &format!("; {}", outcome(done.map(|i| import_summary(&i))));
                    }
                }
                out
            }
            Op::FinishImport(name) => {
                let opened = self.open(rt, *name);
                match &opened.import {
                    Some((id, _)) => outcome(
                        rt.block_on(opened.session.finish_import(*id))
                            .map(|i| import_summary(&i)),
                    ),
                    None => "no import".into(),
                }
            }
            Op::DeleteImport { name, .. } => {
                let opened = self.open(rt, *name);
                let selection = CaptureSelection::Import(import_pick);
                outcome(rt.block_on(opened.session.delete_captures(selection)))
            }
            Op::DeleteFilter { name, filter } => {
                let opened = self.open(rt, *name);
                let selection = CaptureSelection::Filter(Box::new(filter.clone()));
                outcome(rt.block_on(opened.session.delete_captures(selection)))
            }
            Op::DeleteDataset(name) => self.delete_dataset(rt, *name),
            Op::Reopen => {
                self.open.clear();
                "reopened".into()
            }
            Op::Follow { name, filter } => {
                let cursor = self.committed();
                let opened = self.open(rt, *name);
                let reader = rt
                    .block_on(opened.session.capture_reader(filter.clone(), true))
                    .unwrap();
                opened.followers.push(Follower {
                    reader,
                    filter: filter.clone(),
                    cursor,
                    fresh: true,
                    got: Vec::new(),
                    clean: true,
                });
                "following".into()
            }
            Op::PutEntities { name, entities } => {
                let opened = self.open(rt, *name);
                let entities: Vec<Entity> = entities
                    .iter()
                    .map(|(n, asn)| Entity {
                        name: ENTITY_NAMES[*n].into(),
                        contact: format!("noc+{asn}@example.net"),
                        origin_ases: vec![64500 + asn],
                        prefixes: vec![
                            OwnedPrefix::new("2001:db8::/32".parse().unwrap(), 48).unwrap(),
                        ],
                    })
                    .collect();
                rt.block_on(async {
                    let mut w = opened.session.entity_writer().await.unwrap();
                    w.write(entities).unwrap();
                    outcome(w.flush().await)
                })
            }
            Op::PutNodes(nodes) => {
                let nodes: Vec<Node> = nodes
                    .iter()
                    .map(|(i, n)| Node {
                        ip: NODE_IPS[*i].parse::<IpAddr>().unwrap(),
                        name: format!("node-{n}"),
                        collector: *n == 0,
                        dump_duration_minutes: Some(*n),
                        description: String::new(),
                    })
                    .collect();
                outcome(self.backend.put_nodes(&nodes))
            }
        }
    }

    /// Begins an import of file `file` into dataset `name`, giving it the
    /// dataset's import writer.
    fn begin_import(&mut self, rt: &Runtime, name: usize, file: usize, force: bool) -> String {
        let opened = self.open(rt, name);
        let spec = ImportSpec {
            file_name: FILES[file].0.into(),
            sha256: FILES[file].1.into(),
            force,
        };
        let begun = rt.block_on(opened.session.begin_import(spec));
        let mut out = outcome(begun.as_ref().map(|b| {
            (
                import_summary(&b.import),
                b.replaced.as_ref().map(import_summary),
            )
        }));
        if let Ok(begun) = begun {
            // What the old import writer still holds goes to its import,
            // which may have just been replaced.
            if let Some((_, mut old)) = opened.import.take() {
                out += &format!("; old import writer {}", outcome(rt.block_on(old.flush())));
            }
            let id = begun.import.id;
            let writer = rt.block_on(opened.session.import_writer(id)).unwrap();
            opened.import = Some((id, writer));
        }
        out
    }

    /// Deletes dataset `name`, then checks that its old number reaches
    /// nothing: its readers, writers and every backend call fail.
    fn delete_dataset(&mut self, rt: &Runtime, name: usize) -> String {
        let dataset = self.open(rt, name).dataset;
        let deleted = outcome(self.backend.delete_dataset(dataset));
        let mut opened = self.open.remove(&name).unwrap();
        self.current.remove(&name);
        let unknown = "error unknown dataset";
        let b = &self.backend;
        let filter = CaptureFilter::default();
        let one = EncodedCaptures::from_captures(&[Capture {
            med: Some(0),
            ..crate::capture(1, 64500, &["10.0.0.0/8"])
        }])
        .unwrap();
        let position = ScanPosition::CommitOrder { after: 0 };
        let limits = ScanLimits {
            items: 10,
            rows: 10,
            bytes: usize::MAX,
        };
        let spec = ImportSpec {
            file_name: "x".into(),
            sha256: "x".into(),
            force: false,
        };
        let stale = [
            ("dataset", outcome(b.dataset(dataset).map(drop))),
            ("imports", outcome(b.imports(dataset).map(drop))),
            ("count", outcome(b.count_captures(dataset, &filter))),
            ("explain", outcome(b.explain(dataset, &filter).map(drop))),
            (
                "scan",
                outcome(
                    b.scan_captures(dataset, position, &filter, limits)
                        .map(drop),
                ),
            ),
            ("append", outcome(b.append_captures(dataset, None, &one))),
            (
                "begin import",
                outcome(b.begin_import(dataset, &spec).map(drop)),
            ),
            (
                "finish import",
                outcome(b.finish_import(dataset, 1).map(drop)),
            ),
            (
                "delete",
                outcome(
                    b.delete_captures(dataset, &CaptureSelection::Filter(Box::new(filter.clone()))),
                ),
            ),
            ("put entities", outcome(b.put_entities(dataset, &[]))),
            (
                "scan entities",
                outcome(
                    b.scan_entities(dataset, None, &EntityFilter::default(), 10)
                        .map(drop),
                ),
            ),
            ("delete again", outcome(b.delete_dataset(dataset))),
        ];
        for (call, got) in stale {
            assert_eq!(got, unknown, "{call} on deleted dataset {dataset:?}");
        }
        let stop = CancellationToken::new();
        stop.cancel();
        for follower in &mut opened.followers {
            let read = rt.block_on(follower.reader.read(10, &stop));
            assert_eq!(
                outcome(read.map(drop)),
                unknown,
                "a follower of a deleted dataset"
            );
        }
        let buffered = opened.writer.buffered();
        let flushed = outcome(rt.block_on(opened.writer.flush()));
        if buffered > 0 {
            assert_eq!(flushed, unknown, "a writer of a deleted dataset");
        }
        format!("{deleted}; flush of {buffered} buffered: {flushed}")
    }
}

/// Both stores, and what the comparison needs to remember.
struct World {
    rt: Runtime,
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// The redb store, then the model.
    sides: [Side; 2],
    /// The tag the captures of each name's current dataset carry.
    tags: [u64; 3],
    next_tag: u64,
    /// The last `seq` after every step.
    history: Vec<u64>,
}

impl World {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bgp.redb");
        let redb: Arc<dyn Backend> = Arc::new(RedbBackend::open(&path).unwrap());
        let model: Arc<dyn Backend> = Arc::new(MemoryBackend::new());
        Self {
            rt,
            _dir: dir,
            path,
            sides: [Side::new(redb), Side::new(model)],
            tags: [1, 2, 3],
            next_tag: 4,
            history: vec![0],
        }
    }

    fn step(&mut self, op: &Op) {
        let mut op = op.clone();
        let mut import_pick = 0;
        if let Op::DeleteImport { name, pick } = &mut op {
            let model = &self.sides[1];
            let mut stored: Vec<(usize, u32)> = Vec::new();
            for (n, d) in &model.current {
                for import in model.backend.imports(*d).unwrap() {
                    stored.push((*n, import.id));
                }
            }
            // An unknown import one time in five, or when there is none.
            match stored.get(pick.index(stored.len() * 5 + 1) / 5) {
                Some((n, id)) => (*name, import_pick) = (*n, *id),
                None => import_pick = 99,
            }
        }
        let op = &op;
        let deletes_from = match op {
            Op::BeginImport { name, .. }
            | Op::Import { name, .. }
            | Op::DeleteImport { name, .. }
            | Op::DeleteFilter { name, .. } => Some(*name),
            _ => None,
        };
        for side in &mut self.sides {
            if let Some(opened) = deletes_from.and_then(|n| side.open.get_mut(&n)) {
                for follower in &mut opened.followers {
                    follower.clean = false;
                }
            }
        }
        let [redb, model] = &mut self.sides;
        let got = redb.run(&self.rt, op, &self.tags, import_pick);
        let want = model.run(&self.rt, op, &self.tags, import_pick);
        assert_eq!(got, want, "redb and the model differ on {op:?}");
        match op {
            Op::DeleteDataset(name) => {
                self.tags[*name] = self.next_tag;
                self.next_tag += 1;
            }
            Op::Reopen => {
                let old =
                    std::mem::replace(&mut self.sides[0].backend, Arc::new(MemoryBackend::new()));
                assert_eq!(
                    Arc::strong_count(&old),
                    1,
                    "a session or stream of the old store is still alive"
                );
                drop(old);
                self.sides[0].backend = Arc::new(RedbBackend::open(&self.path).unwrap());
            }
            _ => {}
        }
    }

    fn check(&mut self, check: &Check) {
        let [redb, model] = &mut self.sides;
        let last = model.committed();
        assert_eq!(redb.committed(), last, "the last seq differs");
        self.history.push(last);
        let listed = [
            redb.backend.datasets().unwrap(),
            model.backend.datasets().unwrap(),
        ];
        let summary = |list: &[bgpmon_store::StoredSession]| {
            list.iter()
                .map(|d| {
                    let s = &d.stats;
                    (d.name.clone(), s.captures, s.first_us, s.last_us, s.imports)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(summary(&listed[0]), summary(&listed[1]), "datasets differ");
        for d in &listed[0] {
            let s = &d.stats;
            assert_eq!(s.captures == 0, s.blocks == 0, "{} counts {s:?}", d.name);
            assert_eq!(
                s.captures == 0,
                s.block_bytes == 0,
                "{} counts {s:?}",
                d.name
            );
            assert!(s.blocks <= s.captures, "{} counts {s:?}", d.name);
        }
        let snapshot = self.history[check.snapshot.index(self.history.len())];
        let all = CaptureFilter::default();
        for (r, m) in listed[0].iter().zip(&listed[1]) {
            let (rd, md) = (r.dataset, m.dataset);
            let name = NAMES.iter().position(|n| *n == m.name).unwrap();
            let both = |position: ScanPosition, filter: &CaptureFilter| {
                let got = scan_all(redb.backend.as_ref(), rd, position, filter, check.limits);
                let want = scan_all(model.backend.as_ref(), md, position, filter, check.limits);
                assert_eq!(
                    got, want,
                    "{} differs at {position:?} for {filter:?}",
                    m.name
                );
                got
            };
            let now = ScanPosition::TimeOrder {
                after: None,
                from: None,
                max_seq: last,
            };
            let captures = both(now, &all);
            assert_eq!(captures.len() as u64, m.stats.captures);
            let tag = Some(u32::try_from(self.tags[name]).unwrap());
            for c in &captures {
                assert_eq!(c.med, tag, "{} holds a capture of another dataset", m.name);
            }
            let then = ScanPosition::TimeOrder {
                after: None,
                from: None,
                max_seq: snapshot,
            };
            both(then, &all);
            both(ScanPosition::CommitOrder { after: snapshot }, &all);
            for filter in &check.filters {
                let count = redb.backend.count_captures(rd, filter).unwrap();
                let want = model.backend.count_captures(md, filter).unwrap();
                assert_eq!(count, want, "{} counts {filter:?} differently", m.name);
                assert_eq!(both(now, filter).len() as u64, count);
            }
            let imports = |b: &dyn Backend, d| -> Vec<String> {
                b.imports(d).unwrap().iter().map(import_summary).collect()
            };
            assert_eq!(
                imports(redb.backend.as_ref(), rd),
                imports(model.backend.as_ref(), md)
            );
            let entities = |b: &dyn Backend, d| -> Vec<Entity> {
                let mut out: Vec<Entity> = Vec::new();
                loop {
                    let after = out.last().map(|e| e.name.clone());
                    let page = b
                        .scan_entities(
                            d,
                            after.as_deref(),
                            &EntityFilter::default(),
                            check.entity_page,
                        )
                        .unwrap();
                    assert!(page.len() <= check.entity_page);
                    if page.is_empty() {
                        return out;
                    }
                    out.extend(page);
                }
            };
            assert_eq!(
                entities(redb.backend.as_ref(), rd),
                entities(model.backend.as_ref(), md)
            );
        }
        assert_eq!(
            redb.backend.nodes().unwrap(),
            model.backend.nodes().unwrap(),
            "nodes differ"
        );
        self.read_followers(check.limits.items, check.follow_reads);
    }

    /// Reads `reads` batches from every follower, or reads it to the end of
    /// what is committed; there, unless captures were deleted meanwhile,
    /// compares what it returned with what the model says it must: its
    /// time-order snapshot first, then every capture committed since, in
    /// commit order.
    fn read_followers(&mut self, batch: usize, reads: Option<usize>) {
        let stop = CancellationToken::new();
        stop.cancel();
        let rt = &self.rt;
        let [redb, model] = &mut self.sides;
        let last = *model.backend.committed().borrow();
        for (name, m) in &mut model.open {
            let r = redb.open.get_mut(name).unwrap();
            assert_eq!(r.followers.len(), m.followers.len());
            for (rf, mf) in r.followers.iter_mut().zip(&mut m.followers) {
                for f in [&mut *rf, &mut *mf] {
                    let mut n = 0;
                    while reads.is_none_or(|reads| n < reads) {
                        let read = rt.block_on(f.reader.read(batch, &stop)).unwrap();
                        assert!(read.len() <= batch);
                        if read.is_empty() {
                            break;
                        }
                        f.got.extend(read);
                        n += 1;
                    }
                }
                if reads.is_some() {
                    continue;
                }
                if mf.clean {
                    let limits = ScanLimits {
                        items: 7,
                        rows: 5,
                        bytes: usize::MAX,
                    };
                    let b = model.backend.as_ref();
                    let mut want = Vec::new();
                    if mf.fresh {
                        let snapshot = ScanPosition::TimeOrder {
                            after: None,
                            from: None,
                            max_seq: mf.cursor,
                        };
                        want = scan_all(b, m.dataset, snapshot, &mf.filter, limits);
                    }
                    let later = ScanPosition::CommitOrder { after: mf.cursor };
                    want.extend(scan_all(b, m.dataset, later, &mf.filter, limits));
                    let on = (NAMES[*name], &mf.filter);
                    assert_eq!(rf.got, want, "the redb follower of {on:?}");
                    assert_eq!(mf.got, want, "the model follower of {on:?}");
                }
                for f in [&mut *rf, &mut *mf] {
                    f.got.clear();
                    f.cursor = last;
                    f.fresh = false;
                    f.clean = true;
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The redb store and the model agree after every step of a random
    /// sequence of operations.
    #[test]
    fn redb_agrees_with_the_model_after_every_step(
        steps in prop::collection::vec((op(), check()), 1..48),
    ) {
        let mut world = World::new();
        for (op, check) in &steps {
            world.step(op);
            world.check(check);
        }
    }
}
