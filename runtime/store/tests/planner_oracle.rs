//! The redb backend's planner against an oracle: random captures in
//! several commits (so a term's postings name many blocks), some deleted by
//! filter (so some blocks are rewritten and their postings go stale),
//! scanned and counted with random filters over every term, must return
//! exactly what the oracle's own matcher keeps from a plain list.

use bgpmon_store::{
    Backend, Capture, CaptureFilter, CaptureSelection, DatasetId, EncodedCaptures, PathSegment,
    PrefixMatch, PrefixTerm, RedbBackend, ScanLimits, ScanPosition,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::oracle::{has_indexed_term, keeps};
use crate::pages::scan_all;
use crate::{arb, dataset};

/// The captures the store should hold, each with the `seq` the store's
/// rules give it, in commit order.
#[derive(Default)]
struct Expected {
    captures: Vec<(u64, Capture)>,
    last_seq: u64,
}

impl Expected {
    /// Adds a commit: its captures sorted stably by time get the next
    /// `seq`s. Returns the last one.
    fn commit(&mut self, batch: &[Capture]) -> u64 {
        let mut order: Vec<&Capture> = batch.iter().collect();
        order.sort_by_key(|c| c.timestamp_us);
        for c in order {
            self.last_seq += 1;
            self.captures.push((self.last_seq, c.clone()));
        }
        self.last_seq
    }

    /// The captures `filter` keeps up to `max_seq`, in `(time, seq)` order,
    /// after `after`.
    fn time_order(
        &self,
        filter: &CaptureFilter,
        max_seq: u64,
        after: Option<(u64, u64)>,
    ) -> Vec<Capture> {
        let mut kept: Vec<&(u64, Capture)> = self
            .captures
            .iter()
            .filter(|(seq, c)| {
                *seq <= max_seq
                    && after.is_none_or(|a| (c.timestamp_us, *seq) > a)
                    && keeps(filter, c)
            })
            .collect();
        kept.sort_by_key(|(seq, c)| (c.timestamp_us, *seq));
        kept.into_iter().map(|(_, c)| c.clone()).collect()
    }

    /// The captures `filter` keeps after `after`, in `seq` order.
    fn commit_order(&self, filter: &CaptureFilter, after: u64) -> Vec<Capture> {
        self.captures
            .iter()
            .filter(|(seq, c)| *seq > after && keeps(filter, c))
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// Removes what `filter` keeps and returns how many.
    fn delete(&mut self, filter: &CaptureFilter) -> u64 {
        let before = self.captures.len();
        self.captures.retain(|(_, c)| !keeps(filter, c));
        (before - self.captures.len()) as u64
    }
}

/// Where the scans of [`check_filter`] start.
#[derive(Clone, Copy, Debug)]
struct Starts {
    /// The last `seq` of a commit: a snapshot.
    snapshot: u64,
    /// Any `(timestamp_us, seq)`, not only one a page returned.
    after: (u64, u64),
    /// Any `seq`.
    after_seq: u64,
}

/// Checks one filter's scans, count and plan against the oracle.
fn check_filter(
    backend: &RedbBackend,
    ds: DatasetId,
    expected: &Expected,
    filter: &CaptureFilter,
    limits: ScanLimits,
    starts: Starts,
) {
    let Starts {
        snapshot,
        after,
        after_seq,
    } = starts;
    let last = expected.last_seq;
    let now = ScanPosition::TimeOrder {
        after: None,
        from: None,
        max_seq: last,
    };
    let want = expected.time_order(filter, last, None);
    let got = scan_all(backend, ds, now, filter, limits);
    assert_eq!(got, want, "time order of {filter:?}");
    let count = backend.count_captures(ds, filter).unwrap();
    assert_eq!(count, want.len() as u64, "count of {filter:?}");
    let then = ScanPosition::TimeOrder {
        after: None,
        from: None,
        max_seq: snapshot,
    };
    let got = scan_all(backend, ds, then, filter, limits);
    assert_eq!(
        got,
        expected.time_order(filter, snapshot, None),
        "snapshot {snapshot} of {filter:?}"
    );
    let later = ScanPosition::CommitOrder { after: snapshot };
    let got = scan_all(backend, ds, later, filter, limits);
    assert_eq!(
        got,
        expected.commit_order(filter, snapshot),
        "commit order after {snapshot} of {filter:?}"
    );
    let resumed = ScanPosition::TimeOrder {
        after: Some(after),
        from: None,
        max_seq: last,
    };
    let got = scan_all(backend, ds, resumed, filter, limits);
    assert_eq!(
        got,
        expected.time_order(filter, last, Some(after)),
        "time order after {after:?} of {filter:?}"
    );
    let later = ScanPosition::CommitOrder { after: after_seq };
    let got = scan_all(backend, ds, later, filter, limits);
    assert_eq!(
        got,
        expected.commit_order(filter, after_seq),
        "commit order after {after_seq} of {filter:?}"
    );

    let plan = backend.explain(ds, filter).unwrap();
    if !filter.origin_ases.is_empty() {
        assert!(plan.contains("index scan"), "{plan} for {filter:?}");
    }
    if !has_indexed_term(filter) {
        assert!(
            plan.contains("scan blocks in time order"),
            "{plan} for {filter:?}"
        );
    }
}

fn limits() -> impl Strategy<Value = ScanLimits> {
    (
        1usize..60,
        1usize..300,
        prop_oneof![3 => Just(usize::MAX), 1 => 1usize..2_000],
    )
        .prop_map(|(items, rows, bytes)| ScanLimits { items, rows, bytes })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Commits of random captures over up to 40 seconds, each perhaps
    /// followed by a delete by filter, then random filters: every scan and
    /// count equals the oracle's.
    #[test]
    fn the_planner_answers_like_the_oracle(
        commits in prop::collection::vec(
            (
                prop::collection::vec(arb::capture(40), 0..150),
                prop::option::weighted(0.3, arb::filter(40)),
            ),
            1..6,
        ),
        filters in prop::collection::vec((arb::filter(40), limits()), 1..12),
        snapshot in any::<prop::sample::Index>(),
        after in (0u64..41, any::<prop::sample::Index>(), any::<prop::sample::Index>()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
        let ds = dataset(&backend);
        let mut expected = Expected::default();
        let mut seqs = vec![0];
        for (batch, delete) in &commits {
            let want = expected.commit(batch);
            let last = backend
                .append_captures(ds, None, &EncodedCaptures::from_captures(batch).unwrap())
                .unwrap();
            prop_assert_eq!(last, want, "seq rules");
            seqs.push(last);
            if let Some(filter) = delete {
                let deleted = backend
                    .delete_captures(ds, &CaptureSelection::Filter(Box::new(filter.clone())))
                    .unwrap();
                prop_assert_eq!(deleted, expected.delete(filter), "deleted by {:?}", filter);
            }
        }
        let span = usize::try_from(expected.last_seq + 2).unwrap();
        let starts = Starts {
            snapshot: seqs[snapshot.index(seqs.len())],
            after: (after.0 * 1_000_000, after.1.index(span) as u64),
            after_seq: after.2.index(span) as u64,
        };
        for (filter, limits) in &filters {
            check_filter(&backend, ds, &expected, filter, *limits, starts);
        }
    }
}

/// The number of posting chunks the plan of `filter` reads, from its
/// `explain`.
fn chunks(backend: &RedbBackend, ds: DatasetId, filter: &CaptureFilter) -> usize {
    let plan = backend.explain(ds, filter).unwrap();
    let at = plan.find(" chunks").unwrap();
    let digits: String = plan[..at]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().unwrap()
}

/// A store whose busiest terms have postings in several chunks (a commit of
/// 2,500 blocks, one capture each, then more commits), with blocks rewritten
/// by deletes, answers 80 random filters like the oracle.
#[test]
fn the_planner_answers_like_the_oracle_across_posting_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
    let ds = dataset(&backend);
    let mut runner = TestRunner::deterministic();
    let one = arb::capture(1);
    let mut expected = Expected::default();
    let mut seqs = vec![0];
    let mut commit = |batch: Vec<Capture>, expected: &mut Expected| {
        let want = expected.commit(&batch);
        let last = backend
            .append_captures(ds, None, &EncodedCaptures::from_captures(&batch).unwrap())
            .unwrap();
        assert_eq!(last, want);
        seqs.push(last);
    };
    // One capture every 61 s, more than a block spans: a block each.
    let wide: Vec<Capture> = (0..2_500u64)
        .map(|t| Capture {
            timestamp_us: t * 61_000_000,
            ..one.new_tree(&mut runner).unwrap().current()
        })
        .collect();
    commit(wide, &mut expected);
    for round in 0..3u64 {
        let batch: Vec<Capture> = (0..400u64)
            .map(|i| Capture {
                timestamp_us: (round * 500 + i % 50) * 1_000_000,
                ..one.new_tree(&mut runner).unwrap().current()
            })
            .collect();
        commit(batch, &mut expected);
    }
    let busy = CaptureFilter {
        peer_ases: vec![64496],
        ..Default::default()
    };
    assert!(
        chunks(&backend, ds, &busy) >= 2,
        "{}",
        backend.explain(ds, &busy).unwrap()
    );

    // Rewrite some blocks and drop others.
    let deletes = [
        CaptureFilter {
            origin_ases: vec![64501],
            peer_ases: vec![64497],
            ..Default::default()
        },
        CaptureFilter {
            prefixes: vec![PrefixTerm::new(
                "10.0.0.0/8".parse().unwrap(),
                PrefixMatch::More,
            )],
            kind: bgpmon_store::CaptureKind::Rib,
            ..Default::default()
        },
        CaptureFilter {
            path_contains: vec![65010],
            ..Default::default()
        },
    ];
    for filter in &deletes {
        let deleted = backend
            .delete_captures(ds, &CaptureSelection::Filter(Box::new(filter.clone())))
            .unwrap();
        assert_eq!(deleted, expected.delete(filter), "deleted by {filter:?}");
        assert!(deleted > 0, "{filter:?} deletes something");
    }
    assert!(
        expected
            .captures
            .iter()
            .any(|(_, c)| c.as_path.iter().any(|s| matches!(s, PathSegment::Set(_)))),
        "AS_SET paths are kept"
    );

    // Pages large enough to keep the run short; small ones are paged above.
    let limits = (1usize..500, 64usize..2_048).prop_map(|(items, rows)| ScanLimits {
        items,
        rows,
        bytes: usize::MAX,
    });
    let span = expected.last_seq + 2;
    let starts =
        (0..seqs.len(), 0u64..2_600, 0..span, 0..span).prop_map(|(snapshot, t, seq, after_seq)| {
            Starts {
                snapshot: seqs[snapshot],
                after: (t * 1_000_000, seq),
                after_seq,
            }
        });
    let filters = (arb::filter(2_600), limits, starts);
    for _ in 0..80 {
        let (filter, limits, starts) = filters.new_tree(&mut runner).unwrap().current();
        check_filter(&backend, ds, &expected, &filter, limits, starts);
    }
}
