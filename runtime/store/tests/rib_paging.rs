//! Paging through a RIB dump whose captures all share one timestamp: every
//! page must resume inside the block where the last one stopped, so the
//! whole read examines each capture about once, however many pages it
//! takes.

use std::net::IpAddr;

use bgpmon_store::{
    Backend, Capture, CaptureFilter, EncodedCaptures, MAX_READ_BATCH, MAX_READ_BYTES,
    MAX_SCAN_ROWS, MAX_WRITE_BUFFER, PathSegment, RedbBackend, ScanLimits, ScanPosition,
};
use ipnet::IpNet;

use crate::dataset;

/// The most captures one stored block holds (`block::MAX_BLOCK_CAPTURES`):
/// a resumed page may examine at most one block again.
const BLOCK: usize = 512;

/// The captures of the dump.
const N: u32 = 1_000_000;

/// The one timestamp: 2024-01-01T00:00:00Z.
const T: u64 = 1_704_067_200_000_000;

const PEER_AS: u32 = 64496;

/// Entry `i` of the dump; its MED is `i`, to check the order read back.
fn entry(i: u32) -> Capture {
    let [_, a, b, c] = i.to_be_bytes();
    let origin = 64500 + i % 100;
    let peer_ip = IpAddr::from([192, 0, 2, 1]);
    Capture {
        timestamp_us: T,
        collector: "rrc00".into(),
        collector_ip: None,
        peer_ip,
        peer_as: PEER_AS,
        as_path: vec![PathSegment::Sequence(vec![PEER_AS, 3356, origin])],
        origin_as: Some(origin),
        next_hop: Some(peer_ip),
        advertised: vec![IpNet::new(IpAddr::from([a + 1, b, c, 0]), 24).unwrap()],
        withdrawn: vec![],
        communities: vec![],
        origin: None,
        med: Some(i),
        local_pref: None,
        atomic_aggregate: false,
        aggregator: None,
        is_rib: true,
        mrt_type: None,
        view: None,
    }
}

#[test]
fn paging_a_single_timestamp_rib_is_linear() {
    let dir = tempfile::tempdir().unwrap();
    let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
    let ds = dataset(&backend);
    // In commits as large as one writer may buffer.
    let commit = u32::try_from(MAX_WRITE_BUFFER).unwrap();
    let mut last = 0;
    for start in (0..N).step_by(MAX_WRITE_BUFFER) {
        let mut batch = EncodedCaptures::new();
        for i in start..(start + commit).min(N) {
            batch.push(&entry(i)).unwrap();
        }
        last = backend.append_captures(ds, None, &batch).unwrap();
    }
    assert_eq!(last, u64::from(N));
    // What a capture reader asks for per read.
    let limits = ScanLimits {
        items: MAX_READ_BATCH,
        rows: MAX_SCAN_ROWS,
        bytes: MAX_READ_BYTES,
    };
    let index_scan = CaptureFilter {
        peer_ases: vec![PEER_AS],
        ..Default::default()
    };
    for filter in [CaptureFilter::default(), index_scan] {
        let plan = backend.explain(ds, &filter).unwrap();
        let mut position = ScanPosition::TimeOrder {
            after: None,
            from: None,
            max_seq: last,
        };
        let (mut pages, mut examined, mut next) = (0usize, 0usize, 0u32);
        loop {
            let page = backend
                .scan_captures(ds, position, &filter, limits)
                .unwrap();
            pages += 1;
            examined += page.examined;
            for capture in &page.captures {
                assert_eq!(capture.med, Some(next), "{plan}");
                next += 1;
            }
            if page.exhausted {
                break;
            }
            assert!(pages <= N as usize, "the scan does not advance ({plan})");
            position = page.next;
        }
        assert_eq!(next, N, "every capture comes back once ({plan})");
        assert!(
            examined <= N as usize + pages * BLOCK,
            "{examined} captures examined in {pages} pages for {N} ({plan})"
        );
    }
}
