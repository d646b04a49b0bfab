//! Scans that resume after captures were deleted between their pages,
//! perhaps the very block a page stopped in: what they return stays in
//! order, never repeats, never shows a capture after its deletion, and
//! includes every matching capture that was never deleted.

use std::collections::{BTreeMap, BTreeSet};

use bgpmon_store::{
    Backend, Capture, CaptureFilter, CaptureSelection, EncodedCaptures, RedbBackend, ScanLimits,
    ScanPosition, TimeRange,
};
use proptest::prelude::*;

use crate::oracle::keeps;
use crate::{arb, capture, dataset};

/// One capture appended, known by the id in its MED.
struct Known {
    seq: u64,
    capture: Capture,
    /// The page before which it was deleted.
    deleted_before: Option<usize>,
}

fn id_of(c: &Capture) -> u32 {
    c.med.unwrap()
}

/// Pages from `start` with `filter`, running the delete `between[k]` (if
/// any) after page `k`, and checks what the pages return.
fn page_across_deletes(
    backend: &RedbBackend,
    ds: bgpmon_store::DatasetId,
    known: &mut BTreeMap<u32, Known>,
    start: ScanPosition,
    filter: &CaptureFilter,
    limits: ScanLimits,
    between: &[Option<CaptureFilter>],
) {
    let time_order = matches!(start, ScanPosition::TimeOrder { .. });
    let key = |k: &Known| {
        if time_order {
            (k.capture.timestamp_us, k.seq)
        } else {
            (0, k.seq)
        }
    };
    let mut position = start;
    let mut returned: BTreeSet<u32> = BTreeSet::new();
    let mut last_key = None;
    for page_number in 0.. {
        assert!(page_number < 100_000, "the scan does not end");
        let page = backend.scan_captures(ds, position, filter, limits).unwrap();
        for c in &page.captures {
            let id = id_of(c);
            let k = &known[&id];
            assert_eq!(&k.capture, c);
            assert!(keeps(filter, c), "{c:?} does not match {filter:?}");
            assert!(
                k.deleted_before.is_none_or(|d| d > page_number),
                "capture {id} returned by page {page_number} after its deletion"
            );
            assert!(returned.insert(id), "capture {id} returned twice");
            let now = Some(key(k));
            assert!(
                last_key < now,
                "capture {id} out of order after {last_key:?}"
            );
            last_key = now;
        }
        if page.exhausted {
            break;
        }
        position = page.next;
        if let Some(Some(doomed)) = between.get(page_number) {
            let deleted = backend
                .delete_captures(ds, &CaptureSelection::Filter(Box::new(doomed.clone())))
                .unwrap();
            let mut want = 0;
            for k in known.values_mut() {
                if k.deleted_before.is_none() && keeps(doomed, &k.capture) {
                    k.deleted_before = Some(page_number + 1);
                    want += 1;
                }
            }
            assert_eq!(deleted, want, "deleted by {doomed:?}");
        }
    }
    for (id, k) in known.iter() {
        let in_scan = match start {
            ScanPosition::TimeOrder { after, max_seq, .. } => {
                k.seq <= max_seq && after.is_none_or(|a| (k.capture.timestamp_us, k.seq) > a)
            }
            ScanPosition::CommitOrder { after } => k.seq > after,
        };
        if in_scan && k.deleted_before.is_none() && keeps(filter, &k.capture) {
            assert!(
                returned.contains(id),
                "capture {id} was never deleted but not returned"
            );
        }
    }
}

/// Appends `batch` with fresh ids, and records the `seq`s the store's rules
/// give them.
fn append(
    backend: &RedbBackend,
    ds: bgpmon_store::DatasetId,
    known: &mut BTreeMap<u32, Known>,
    batch: Vec<Capture>,
) -> u64 {
    let first_id = u32::try_from(known.len()).unwrap();
    let mut batch: Vec<Capture> = batch
        .into_iter()
        .zip(first_id..)
        .map(|(c, id)| Capture { med: Some(id), ..c })
        .collect();
    let last = backend
        .append_captures(ds, None, &EncodedCaptures::from_captures(&batch).unwrap())
        .unwrap();
    batch.sort_by_key(|c| c.timestamp_us);
    let first_seq = last + 1 - batch.len() as u64;
    for (capture, seq) in batch.into_iter().zip(first_seq..) {
        let k = Known {
            seq,
            capture,
            deleted_before: None,
        };
        known.insert(id_of(&k.capture), k);
    }
    last
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Commits over four seconds, one paged scan (time or commit order)
    /// with deletes by random filters between its pages.
    #[test]
    fn scans_resume_across_deletes_between_pages(
        commits in prop::collection::vec(prop::collection::vec(arb::capture(4), 0..60), 1..5),
        filter in prop_oneof![Just(CaptureFilter::default()), arb::filter(4)],
        time_order in any::<bool>(),
        items in 1usize..8,
        rows in 1usize..16,
        between in prop::collection::vec(prop::option::weighted(0.3, arb::filter(4)), 0..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
        let ds = dataset(&backend);
        let mut known = BTreeMap::new();
        let mut last = 0;
        for batch in commits {
            last = append(&backend, ds, &mut known, batch);
        }
        let start = if time_order {
            ScanPosition::TimeOrder {
                after: None,
                from: None,
                max_seq: last,
            }
        } else {
            ScanPosition::CommitOrder { after: 0 }
        };
        let limits = ScanLimits { items, rows, bytes: usize::MAX };
        page_across_deletes(&backend, ds, &mut known, start, &filter, limits, &between);
    }
}

/// The block a time-order page stopped in is deleted whole; the next block
/// of the same timestamp (from a later commit) must still be read, by a
/// scan in time order and by an index scan.
#[test]
fn a_scan_resumes_after_its_block_is_deleted() {
    let from = |collector: &str| {
        let c = Capture {
            collector: collector.into(),
            ..capture(5, 64500, &["10.0.0.0/8"])
        };
        vec![c.clone(), c.clone(), c]
    };
    let first_commit = CaptureFilter {
        collectors: vec!["rrc00".into()],
        time: Some(TimeRange {
            start_us: 5_000_000,
            end_us: 6_000_000,
        }),
        ..Default::default()
    };
    let limits = ScanLimits {
        items: 2,
        rows: 100,
        bytes: usize::MAX,
    };
    let index_scan = CaptureFilter {
        origin_ases: vec![64500],
        ..Default::default()
    };
    for filter in [CaptureFilter::default(), index_scan] {
        let dir = tempfile::tempdir().unwrap();
        let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
        let ds = dataset(&backend);
        let mut known = BTreeMap::new();
        append(&backend, ds, &mut known, from("rrc00"));
        let last = append(&backend, ds, &mut known, from("route-views2"));
        let start = ScanPosition::TimeOrder {
            after: None,
            from: None,
            max_seq: last,
        };
        let between = [Some(first_commit.clone())];
        page_across_deletes(&backend, ds, &mut known, start, &filter, limits, &between);
        let kept = known
            .values()
            .filter(|k| k.deleted_before.is_none())
            .count();
        assert_eq!(kept, 3, "the delete took the first commit");
    }
}
