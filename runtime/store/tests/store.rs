//! The store on real redb files: filters, transactions, following readers
//! and durability, checked against a plain in-memory model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test reports failure by panicking"
)]

mod arb;
mod findings;
mod memory_backend;
mod model_ops;
mod oracle;
mod pages;
mod planner_oracle;
mod pools;
mod regression;
mod rib_paging;
mod scan_resume;

use std::net::IpAddr;
use std::sync::Arc;

use bgpmon_store::{
    AddressFamily, AsPathRegex, Backend, Capture, CaptureFilter, CaptureKind, CaptureSelection,
    Community, CommunityPattern, DatasetId, EncodedCaptures, Entity, EntityFilter, MAX_READ_BYTES,
    MAX_WRITE_BUFFER_BYTES, OwnedPrefix, PathSegment, PrefixMatch, PrefixScope, PrefixTerm,
    RedbBackend, ScanLimits, Session, SessionOptions, StoreError, TimeRange,
};
use ipnet::IpNet;
use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A capture at second `t`; the timestamp doubles as its name in asserts.
fn capture(t: u64, origin: u32, advertised: &[&str]) -> Capture {
    Capture {
        timestamp_us: t * 1_000_000,
        collector: "rrc00".into(),
        collector_ip: Some(ip("193.0.4.28")),
        peer_ip: ip("192.0.2.1"),
        peer_as: 64496,
        as_path: vec![PathSegment::Sequence(vec![64496, 64497, origin])],
        origin_as: Some(origin),
        next_hop: Some(ip("192.0.2.1")),
        advertised: advertised.iter().map(|p| net(p)).collect(),
        withdrawn: vec![],
        communities: vec![],
        origin: None,
        med: None,
        local_pref: None,
        atomic_aggregate: false,
        aggregator: None,
        is_rib: false,
        mrt_type: None,
        view: None,
    }
}

fn encoded(captures: &[Capture]) -> EncodedCaptures {
    EncodedCaptures::from_captures(captures).unwrap()
}

fn session(dir: &tempfile::TempDir) -> Session {
    let backend = Arc::new(RedbBackend::open(dir.path().join("bgp.redb")).unwrap());
    let stored = backend.open_dataset("s", true).unwrap().unwrap();
    Session::new(
        "s",
        stored.dataset,
        "redb",
        backend,
        SessionOptions::default(),
    )
}

/// The dataset of session `s` in `backend`, created when missing.
fn dataset(backend: &RedbBackend) -> DatasetId {
    backend.open_dataset("s", true).unwrap().unwrap().dataset
}

async fn write(session: &Session, captures: Vec<Capture>) {
    let mut w = session.capture_writer().await.unwrap();
    w.write(captures).unwrap();
    w.flush().await.unwrap();
}

async fn read_all(session: &Session, filter: CaptureFilter, batch: usize) -> Vec<Capture> {
    let mut r = session.capture_reader(filter, false).await.unwrap();
    let stop = CancellationToken::new();
    let mut out = Vec::new();
    loop {
        let b = r.read(batch, &stop).await.unwrap();
        if b.is_empty() {
            return out;
        }
        assert!(b.len() <= batch);
        out.extend(b);
    }
}

/// The seconds of the captures that `filter` keeps.
async fn seconds(session: &Session, filter: CaptureFilter) -> Vec<u64> {
    read_all(session, filter, 3)
        .await
        .iter()
        .map(|c| c.timestamp_us / 1_000_000)
        .collect()
}

/// A varied set: IPv4 and IPv6, several origins, peers, collectors,
/// communities, a withdrawal, an AS_SET and a RIB entry.
fn corpus() -> Vec<Capture> {
    let mut v = vec![
        capture(1, 64500, &["10.0.0.0/8"]),
        capture(2, 64500, &["10.1.0.0/16"]),
        capture(3, 64501, &["10.1.2.0/24"]),
        capture(4, 64502, &["2001:db8::/32"]),
        capture(5, 64502, &["2001:db8:1::/48"]),
        capture(6, 64503, &["2001:db8:1:2::/64", "192.0.2.0/24"]),
        capture(7, 64504, &["203.0.113.0/24"]),
        capture(8, 64505, &[]),
        capture(9, 64506, &["10.1.0.0/16"]),
    ];
    v[1].peer_ip = ip("2001:db8::1");
    v[1].peer_as = 65000;
    v[2].collector = "route-views2".into();
    v[3].communities = vec![Community::Standard(64496, 300)];
    v[4].communities = vec![Community::Large(64496, 1, 2)];
    v[7].withdrawn = vec![net("10.1.2.0/24"), net("2001:db8:1::/48")];
    v[7].origin_as = None;
    v[7].as_path.clear();
    v[6].as_path = vec![
        PathSegment::Sequence(vec![64496]),
        PathSegment::Set(vec![64777, 64504]),
    ];
    v[6].origin_as = None;
    v[8].is_rib = true;
    v
}

fn pattern(s: &str) -> CommunityPattern {
    s.parse().unwrap()
}

fn regex(s: &str) -> AsPathRegex {
    AsPathRegex::new(s).unwrap()
}

fn by_prefix(p: &str, specificity: PrefixMatch) -> CaptureFilter {
    CaptureFilter {
        prefixes: vec![PrefixTerm::new(net(p), specificity)],
        ..Default::default()
    }
}

#[tokio::test]
async fn every_filter_term_selects_exactly_its_captures() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    // Written out of time order: reads come back in time order anyway.
    let mut all = corpus();
    all.reverse();
    write(&s, all).await;

    assert_eq!(
        seconds(&s, CaptureFilter::default()).await,
        (1..=9).collect::<Vec<_>>()
    );
    let f = |mut f: CaptureFilter, edit: &dyn Fn(&mut CaptureFilter)| {
        edit(&mut f);
        f
    };
    let base = CaptureFilter::default();
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.collectors =
                vec!["route-views2".into()])
        )
        .await,
        vec![3]
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.time = Some(TimeRange {
                start_us: 2_000_000,
                end_us: 4_000_000
            }))
        )
        .await,
        vec![2, 3],
        "the window is half-open and exact per capture"
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.peer_ips = vec![ip("2001:db8::1")])
        )
        .await,
        vec![2]
    );
    assert_eq!(
        seconds(&s, f(base.clone(), &|f| f.peer_ases = vec![65000, 1])).await,
        vec![2]
    );
    assert_eq!(
        seconds(&s, f(base.clone(), &|f| f.origin_ases = vec![64500, 64502])).await,
        vec![1, 2, 4, 5]
    );
    assert_eq!(
        seconds(&s, f(base.clone(), &|f| f.path_contains = vec![64777])).await,
        vec![7],
        "AS_SET members count as on the path"
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.communities = vec![
                Community::Standard(64496, 300).into(),
                Community::Large(64496, 1, 2).into()
            ])
        )
        .await,
        vec![4, 5]
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.communities = vec![pattern("*:300")])
        )
        .await,
        vec![4]
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.communities =
                vec![pattern("64496:*:*"), pattern("1:*")])
        )
        .await,
        vec![5]
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.path_regex = vec![regex("_64777_")])
        )
        .await,
        vec![7],
        "a set member is on the path text"
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.path_regex =
                vec![regex("^$"), regex("_64503$")])
        )
        .await,
        vec![6, 8]
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.family = Some(AddressFamily::Ipv6))
        )
        .await,
        vec![4, 5, 6, 8],
        "a withdrawn IPv6 prefix counts"
    );
    assert_eq!(
        seconds(
            &s,
            f(base.clone(), &|f| f.family = Some(AddressFamily::Ipv4))
        )
        .await,
        vec![1, 2, 3, 6, 7, 8, 9]
    );
    assert_eq!(
        seconds(&s, f(base.clone(), &|f| f.kind = CaptureKind::Rib)).await,
        vec![9]
    );
    assert_eq!(
        seconds(&s, f(base.clone(), &|f| f.kind = CaptureKind::Update)).await,
        (1..=8).collect::<Vec<_>>()
    );

    // IPv4 prefixes.
    assert_eq!(
        seconds(&s, by_prefix("10.1.0.0/16", PrefixMatch::Exact)).await,
        vec![2, 9]
    );
    assert_eq!(
        seconds(&s, by_prefix("10.1.0.0/16", PrefixMatch::More)).await,
        vec![2, 3, 9]
    );
    assert_eq!(
        seconds(&s, by_prefix("10.1.0.0/16", PrefixMatch::Less)).await,
        vec![1, 2, 9]
    );
    assert_eq!(
        seconds(&s, by_prefix("10.1.0.0/16", PrefixMatch::Any)).await,
        vec![1, 2, 3, 9]
    );
    // IPv6 prefixes never match IPv4 ones and vice versa.
    assert_eq!(
        seconds(&s, by_prefix("2001:db8:1::/48", PrefixMatch::Exact)).await,
        vec![5]
    );
    assert_eq!(
        seconds(&s, by_prefix("2001:db8:1::/48", PrefixMatch::More)).await,
        vec![5, 6]
    );
    assert_eq!(
        seconds(&s, by_prefix("2001:db8:1::/48", PrefixMatch::Less)).await,
        vec![4, 5]
    );
    assert_eq!(
        seconds(&s, by_prefix("::/0", PrefixMatch::More)).await,
        vec![4, 5, 6]
    );
    assert_eq!(
        seconds(&s, by_prefix("0.0.0.0/0", PrefixMatch::More)).await,
        vec![1, 2, 3, 6, 7, 9]
    );

    // Withdrawn prefixes, and the scope switch.
    let mut w = by_prefix("10.1.0.0/16", PrefixMatch::More);
    w.prefix_scope = PrefixScope::Withdrawn;
    assert_eq!(seconds(&s, w.clone()).await, vec![8]);
    w.prefix_scope = PrefixScope::Both;
    assert_eq!(seconds(&s, w).await, vec![2, 3, 8, 9]);

    // Values OR within a term; terms AND.
    let mut and = by_prefix("10.0.0.0/8", PrefixMatch::More);
    and.origin_ases = vec![64500, 64501];
    and.time = Some(TimeRange {
        start_us: 2_000_000,
        end_us: 10_000_000,
    });
    assert_eq!(seconds(&s, and).await, vec![2, 3]);
}

#[tokio::test]
async fn cancel_and_drop_roll_back_and_flush_is_durable_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = session(&dir);
        let mut w = s.capture_writer().await.unwrap();
        w.write(vec![capture(1, 1, &["10.0.0.0/8"])]).unwrap();
        w.cancel();
        assert_eq!(w.flush().await.unwrap(), 0);
        w.write(vec![capture(2, 1, &["10.0.0.0/8"]), capture(3, 1, &[])])
            .unwrap();
        assert_eq!(w.flush().await.unwrap(), 2);
        w.write(vec![capture(4, 1, &[])]).unwrap();
        // Dropped with one capture buffered.
    }
    let s = session(&dir);
    assert_eq!(seconds(&s, CaptureFilter::default()).await, vec![2, 3]);
    let committed = s.backend().committed();
    assert_eq!(
        *committed.borrow(),
        2,
        "sequence numbers continue after a reopen"
    );
}

#[tokio::test]
async fn a_delete_by_filter_lowers_the_counts_of_the_imports_it_takes_from() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    let spec = |name: &str| bgpmon_store::ImportSpec {
        file_name: name.into(),
        sha256: format!("{:0>64}", name.len()),
        force: false,
    };
    let mut ids = Vec::new();
    for (name, origins) in [("a.gz", [1, 2, 2]), ("bb.gz", [2, 3, 3])] {
        let id = s.begin_import(spec(name)).await.unwrap().import.id;
        let mut w = s.import_writer(id).await.unwrap();
        w.write(
            origins
                .iter()
                .enumerate()
                .map(|(i, o)| capture(i as u64, *o, &[])),
        )
        .unwrap();
        w.flush().await.unwrap();
        s.finish_import(id).await.unwrap();
        ids.push(id);
    }
    let origin_2 = CaptureFilter {
        origin_ases: vec![2],
        ..CaptureFilter::default()
    };
    let deleted = s
        .delete_captures(CaptureSelection::Filter(Box::new(origin_2)))
        .await
        .unwrap();
    assert_eq!(deleted, 3);
    let counts: Vec<(u32, u64)> = s
        .imports()
        .await
        .unwrap()
        .iter()
        .map(|i| (i.id, i.captures))
        .collect();
    assert_eq!(counts, [(ids[0], 1), (ids[1], 2)]);
}

#[tokio::test]
async fn a_reader_sees_a_snapshot_and_a_follower_sees_new_captures() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    write(&s, vec![capture(10, 1, &[]), capture(20, 1, &[])]).await;

    let stop = CancellationToken::new();
    let mut snapshot = s
        .capture_reader(CaptureFilter::default(), false)
        .await
        .unwrap();
    let filter = CaptureFilter {
        origin_ases: vec![1],
        ..Default::default()
    };
    let mut follower = s.capture_reader(filter, true).await.unwrap();
    assert_eq!(follower.read(10, &stop).await.unwrap().len(), 2);

    // New captures, one older than those stored and one of another origin.
    write(&s, vec![capture(5, 1, &[]), capture(30, 2, &[])]).await;
    assert_eq!(
        snapshot.read(10, &stop).await.unwrap().len(),
        2,
        "a plain reader keeps its snapshot"
    );
    assert!(snapshot.read(10, &stop).await.unwrap().is_empty());
    let new = follower.read(10, &stop).await.unwrap();
    assert_eq!(
        new.iter().map(|c| c.timestamp_us).collect::<Vec<_>>(),
        vec![5_000_000]
    );

    // A follower waits for the next commit.
    let writer_session = Arc::new(s);
    let waiting = {
        let stop = stop.clone();
        tokio::spawn(async move { follower.read(10, &stop).await })
    };
    tokio::task::yield_now().await;
    write(&writer_session, vec![capture(40, 1, &[])]).await;
    let got = waiting.await.unwrap().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].timestamp_us, 40_000_000);

    // Stopping ends a waiting follower with an empty batch.
    let mut follower = writer_session
        .capture_reader(CaptureFilter::default(), true)
        .await
        .unwrap();
    assert_eq!(follower.read(100, &stop).await.unwrap().len(), 5);
    stop.cancel();
    assert!(follower.read(100, &stop).await.unwrap().is_empty());
}

#[tokio::test]
async fn prefix_reader_returns_matching_elements() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    write(&s, corpus()).await;
    let mut filter = by_prefix("2001:db8::/32", PrefixMatch::More);
    filter.prefix_scope = PrefixScope::Both;
    let mut reader = s.prefix_reader(filter).await.unwrap();
    let stop = CancellationToken::new();
    let events = reader.read(100, &stop).await.unwrap();
    let shown: Vec<(String, bool)> = events
        .iter()
        .map(|e| (e.prefix.to_string(), e.withdrawn))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("2001:db8::/32".into(), false),
            ("2001:db8:1::/48".into(), false),
            ("2001:db8:1:2::/64".into(), false),
            ("2001:db8:1::/48".into(), true),
        ]
    );
    assert!(reader.read(100, &stop).await.unwrap().is_empty());
}

#[tokio::test]
async fn entities_replace_by_name_and_filter_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    let entity = |name: &str, asn: u32| Entity {
        name: name.into(),
        contact: format!("noc@{name}.example"),
        origin_ases: vec![asn],
        prefixes: vec![OwnedPrefix {
            prefix: net("2001:db8::/32"),
            max_length: 48,
        }],
    };
    let mut w = s.entity_writer().await.unwrap();
    w.write(vec![entity("b", 2), entity("a", 1), entity("c", 3)])
        .unwrap();
    w.flush().await.unwrap();
    w.write(vec![entity("b", 22)]).unwrap();
    w.flush().await.unwrap();
    w.write(vec![entity("", 0)]).unwrap();
    assert!(matches!(w.flush().await, Err(StoreError::EmptyEntityName)));
    drop(w);

    let mut r = s.entity_reader(EntityFilter::default()).await.unwrap();
    let mut names = Vec::new();
    loop {
        let batch = r.read(2).await.unwrap();
        if batch.is_empty() {
            break;
        }
        names.extend(batch.into_iter().map(|e| (e.name, e.origin_ases[0])));
    }
    assert_eq!(
        names,
        vec![("a".into(), 1), ("b".into(), 22), ("c".into(), 3)]
    );
    let mut r = s
        .entity_reader(EntityFilter {
            names: vec!["c".into()],
        })
        .await
        .unwrap();
    let only = r.read(10).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(
        only[0].prefixes[0].max_length, 48,
        "IPv6 owned prefixes are kept"
    );
}

fn arb_prefix() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (0u8..4, 0u8..4, 8u8..=24).prop_map(|(a, b, len)| {
            IpNet::new(IpAddr::from([10, a, b * 64, 0]), len)
                .unwrap()
                .trunc()
        }),
        (0u16..4, 32u8..=64).prop_map(|(a, len)| {
            IpNet::new(IpAddr::from([0x2001, 0xdb8, a, 0, 0, 0, 0, 0]), len)
                .unwrap()
                .trunc()
        }),
    ]
}

fn arb_capture() -> impl Strategy<Value = Capture> {
    (
        0u64..50,
        64500u32..64504,
        prop::collection::vec(arb_prefix(), 0..3),
        prop::collection::vec(arb_prefix(), 0..2),
        any::<bool>(),
        0u32..3,
    )
        .prop_map(|(t, origin, advertised, withdrawn, rib, peer)| {
            let mut c = capture(t, origin, &[]);
            c.advertised = advertised;
            c.withdrawn = withdrawn;
            c.is_rib = rib;
            c.peer_as = 64496 + peer;
            c
        })
}

fn arb_filter() -> impl Strategy<Value = CaptureFilter> {
    (
        prop::option::of((0u64..50, 1u64..30)),
        prop::collection::vec(64500u32..64505, 0..3),
        prop::collection::vec(64496u32..64500, 0..2),
        prop::collection::vec(
            (
                arb_prefix(),
                prop_oneof![
                    Just(PrefixMatch::Exact),
                    Just(PrefixMatch::More),
                    Just(PrefixMatch::Less),
                    Just(PrefixMatch::Any)
                ],
            ),
            0..3,
        ),
        prop_oneof![
            Just(PrefixScope::Advertised),
            Just(PrefixScope::Withdrawn),
            Just(PrefixScope::Both)
        ],
        prop_oneof![
            Just(CaptureKind::Any),
            Just(CaptureKind::Rib),
            Just(CaptureKind::Update)
        ],
    )
        .prop_map(
            |(time, origins, peers, prefixes, scope, kind)| CaptureFilter {
                time: time.map(|(start, len)| TimeRange {
                    start_us: start * 1_000_000,
                    end_us: (start + len) * 1_000_000,
                }),
                origin_ases: origins,
                peer_ases: peers,
                prefixes: prefixes
                    .into_iter()
                    .map(|(p, m)| PrefixTerm::new(p, m))
                    .collect(),
                prefix_scope: scope,
                kind,
                ..Default::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Batches of captures committed in several transactions, read back
    /// with a random filter and batch size, equal the model: the captures
    /// kept by the filter, in (time, commit) order.
    #[test]
    fn reads_match_the_model(
        batches in prop::collection::vec(prop::collection::vec(arb_capture(), 0..20), 1..4),
        filter in arb_filter(),
        batch_size in 1usize..7,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let got = rt.block_on(async {
            let s = session(&dir);
            for batch in &batches {
                write(&s, batch.clone()).await;
            }
            read_all(&s, filter.clone(), batch_size).await
        });
        let mut model: Vec<(u64, usize, Capture)> = batches
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| (c.timestamp_us, i, c))
            .collect();
        model.sort_by_key(|(t, i, _)| (*t, *i));
        let want: Vec<Capture> = model
            .into_iter()
            .map(|(_, _, c)| c)
            .filter(|c| filter.matches(c))
            .collect();
        prop_assert_eq!(got, want);
    }
}

/// Scans `backend` from `position` to the end in pages of at most
/// `max_items` captures and `max_rows` rows.
fn scan_all(
    backend: &RedbBackend,
    ds: DatasetId,
    mut position: bgpmon_store::ScanPosition,
    max_items: usize,
    max_rows: usize,
) -> Vec<Capture> {
    let mut got = Vec::new();
    // Every page examines at least one row, so a scan that has not ended by
    // then does not advance.
    for _ in 0..=2_000 {
        let limits = ScanLimits {
            items: max_items,
            rows: max_rows,
            bytes: usize::MAX,
        };
        let page = backend
            .scan_captures(ds, position, &CaptureFilter::default(), limits)
            .unwrap();
        got.extend(page.captures);
        if page.exhausted {
            return got;
        }
        position = page.next;
    }
    panic!("the scan does not advance: {position:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// With many captures per timestamp (so stored blocks hold many), pages
    /// that stop anywhere inside a block resume exactly: time order is
    /// (time, commit, write) order and hides commits after the snapshot,
    /// and commit order is each commit's captures sorted by time.
    #[test]
    fn paged_scans_match_the_model_across_blocks(
        commits in prop::collection::vec(
            prop::collection::vec((0u64..4, 0u32..1000), 0..300),
            1..4,
        ),
        snapshot in 0usize..4,
        max_items in 1usize..40,
        max_rows in 1usize..40,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
    let ds = dataset(&backend);
        let commits: Vec<Vec<Capture>> = commits
            .into_iter()
            .map(|commit| {
                commit
                    .into_iter()
                    .map(|(t, n)| capture(t, 64500 + n, &[]))
                    .collect()
            })
            .collect();
        let mut last_seqs = vec![0];
        for commit in &commits {
            let last = backend.append_captures(ds, None, &encoded(commit)).unwrap();
            last_seqs.push(last);
        }
        let snapshot = snapshot.min(commits.len());

        let mut model: Vec<(u64, usize, Capture)> = commits[..snapshot]
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| (c.timestamp_us, i, c.clone()))
            .collect();
        model.sort_by_key(|(t, i, _)| (*t, *i));
        let want: Vec<Capture> = model.into_iter().map(|(_, _, c)| c).collect();
        let time_order = bgpmon_store::ScanPosition::TimeOrder {
            after: None,
            from: None,
            max_seq: last_seqs[snapshot],
        };
        prop_assert_eq!(scan_all(&backend, ds, time_order, max_items, max_rows), want);

        let want: Vec<Capture> = commits[snapshot..]
            .iter()
            .flat_map(|commit| {
                let mut sorted = commit.clone();
                sorted.sort_by_key(|c| c.timestamp_us);
                sorted
            })
            .collect();
        let commit_order = bgpmon_store::ScanPosition::CommitOrder {
            after: last_seqs[snapshot],
        };
        prop_assert_eq!(scan_all(&backend, ds, commit_order, max_items, max_rows), want);
    }
}

#[test]
fn a_store_of_another_schema_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bgp.redb");
    let backend = RedbBackend::open(&path).unwrap();
    let ds = dataset(&backend);
    backend
        .append_captures(ds, None, &encoded(&[capture(1, 64500, &["10.0.0.0/8"])]))
        .unwrap();
    drop(backend);
    // Rewrite the version as the previous build (schema 4, no BMP view) left it.
    let meta: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("meta");
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(meta)
        .unwrap()
        .insert("schema_version", 4)
        .unwrap();
    txn.commit().unwrap();
    drop(db);

    let error = RedbBackend::open(&path).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::SchemaVersion {
                found: 4,
                expected: 5,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("schema version 4"), "{message}");
    assert!(message.contains("reads version 5"), "{message}");
    assert!(message.contains("move the file away"), "{message}");
    // Nothing was changed: the version is still the old one.
    let db = redb::Database::open(&path).unwrap();
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let version = txn.open_table(meta).unwrap().get("schema_version").unwrap();
    assert_eq!(version.map(|v| v.value()), Some(4));
}

#[test]
fn backend_scan_pages_are_bounded_by_rows() {
    let dir = tempfile::tempdir().unwrap();
    let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
    let ds = dataset(&backend);
    let captures: Vec<Capture> = (0..10).map(|t| capture(t, 1, &[])).collect();
    backend
        .append_captures(ds, None, &encoded(&captures))
        .unwrap();
    // A term no index answers, so every capture is examined.
    let never = CaptureFilter {
        kind: CaptureKind::Rib,
        ..Default::default()
    };
    let limits = ScanLimits {
        items: 100,
        rows: 4,
        bytes: usize::MAX,
    };
    let page = backend
        .scan_captures(
            ds,
            bgpmon_store::ScanPosition::TimeOrder {
                after: None,
                from: None,
                max_seq: 10,
            },
            &never,
            limits,
        )
        .unwrap();
    assert!(page.captures.is_empty());
    assert!(
        !page.exhausted,
        "a scan stops after max_rows rows, even with no match"
    );
}

/// A capture whose collector name is `mib` MiB long.
fn huge_capture(t: u64, mib: usize) -> Capture {
    let mut c = capture(t, 64500, &[]);
    c.collector = "x".repeat(mib << 20);
    c
}

#[test]
fn backend_scan_pages_are_bounded_by_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
    let ds = dataset(&backend);
    let last = backend
        .append_captures(
            ds,
            None,
            &encoded(&(0..3).map(|t| huge_capture(t, 1)).collect::<Vec<_>>()),
        )
        .unwrap();
    let limits = ScanLimits {
        items: 100,
        rows: 100,
        bytes: 3 << 19,
    };
    let mut position = bgpmon_store::ScanPosition::TimeOrder {
        after: None,
        from: None,
        max_seq: last,
    };
    let mut pages = Vec::new();
    loop {
        let page = backend
            .scan_captures(ds, position, &CaptureFilter::default(), limits)
            .unwrap();
        pages.push(page.captures.len());
        if page.exhausted {
            break;
        }
        position = page.next;
    }
    // 1.5 MiB: the second 1 MiB capture crosses it, so a page holds two.
    assert_eq!(pages, [2, 1]);
    // Even a budget smaller than one capture returns it.
    let tiny = ScanLimits { bytes: 1, ..limits };
    let page = backend
        .scan_captures(
            ds,
            bgpmon_store::ScanPosition::CommitOrder { after: 0 },
            &CaptureFilter::default(),
            tiny,
        )
        .unwrap();
    assert_eq!((page.captures.len(), page.exhausted), (1, false));
}

#[tokio::test]
async fn entity_reads_are_bounded_by_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    // Three entities of half MAX_READ_BYTES each: a read returns two.
    let entities: Vec<Entity> = ["a", "b", "c"]
        .into_iter()
        .map(|name| Entity {
            name: name.into(),
            contact: "x".repeat(MAX_READ_BYTES / 2),
            origin_ases: vec![64500],
            prefixes: vec![],
        })
        .collect();
    let mut w = s.entity_writer().await.unwrap();
    w.write(entities).unwrap();
    w.flush().await.unwrap();
    drop(w);
    let mut r = s.entity_reader(EntityFilter::default()).await.unwrap();
    let mut sizes = Vec::new();
    loop {
        let batch = r.read(100).await.unwrap();
        if batch.is_empty() {
            break;
        }
        sizes.push(batch.len());
    }
    assert_eq!(sizes, [2, 1]);
}

#[tokio::test]
async fn a_writer_refuses_records_past_its_byte_limit_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    let mut w = s.capture_writer().await.unwrap();
    let mib = 7;
    // 18 captures of 7 MiB fit in 128 MiB; a 19th does not.
    let writes = MAX_WRITE_BUFFER_BYTES / (mib << 20);
    for t in 0..writes as u64 {
        w.write(vec![huge_capture(t, mib)]).unwrap();
    }
    let error = w.write(vec![huge_capture(99, mib)]).unwrap_err();
    assert!(
        matches!(error, StoreError::BufferBytesFull { limit } if limit == MAX_WRITE_BUFFER_BYTES),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("flush before writing more"),
        "{error}"
    );
    // Small records still fit, and everything buffered commits.
    w.write(vec![capture(100, 64500, &[])]).unwrap();
    assert_eq!(w.flush().await.unwrap(), writes as u64 + 1);
    // After a flush the buffer is empty again.
    w.write(vec![huge_capture(200, mib)]).unwrap();
    w.cancel();
    drop(w);
    assert_eq!(
        read_all(&s, CaptureFilter::default(), 100).await.len(),
        writes + 1
    );
}
