//! How fast the redb backend commits captures: encoding, inserts and one
//! durable commit, for a batch the size of a 5-minute RIS updates file.
//!
//! Two timestamp patterns: to the second over five minutes, as BGP4MP and
//! TABLE_DUMP_V2 records carry them (many captures share a stored block),
//! and a distinct microsecond stamp per capture, as BGP4MP_ET records can
//! (one block per capture).
//!
//! Run with `cargo bench -p bgpmon-store --bench append`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports failure by panicking"
)]

use std::time::Instant;

use bgpmon_store::{Backend, Capture, Community, EncodedCaptures, PathSegment, RedbBackend};

const CAPTURES: u64 = 54_107;

fn capture(i: u64, timestamp_us: u64) -> Capture {
    let a = (i % 250) as u8;
    Capture {
        timestamp_us,
        collector: "rrc00".into(),
        collector_ip: Some("193.0.4.28".parse().unwrap()),
        peer_ip: "98.159.46.1".parse().unwrap(),
        peer_as: 395_766,
        as_path: vec![PathSegment::Sequence(vec![
            395_766,
            3356,
            1299,
            64_500 + (i % 100) as u32,
        ])],
        origin_as: Some(64_500 + (i % 100) as u32),
        next_hop: Some("98.159.46.1".parse().unwrap()),
        advertised: vec![
            format!("10.{a}.{}.0/24", (i / 250) % 250).parse().unwrap(),
            format!("10.{a}.{}.0/24", (i / 250 + 1) % 250)
                .parse()
                .unwrap(),
        ],
        withdrawn: vec![],
        communities: vec![
            Community::Standard(3356, 100),
            Community::Standard(1299, 200),
        ],
        origin: None,
        med: Some(0),
        local_pref: None,
        atomic_aggregate: false,
        aggregator: None,
        is_rib: false,
        mrt_type: None,
        view: None,
    }
}

fn main() {
    const START_US: u64 = 1_546_300_800_000_000;
    let seconds = |i: u64| START_US + i * 300 / CAPTURES * 1_000_000;
    let microseconds = |i: u64| START_US + i * 5_000;
    for (stamps, time) in [
        ("second", &seconds as &dyn Fn(u64) -> u64),
        ("microsecond", &microseconds),
    ] {
        let captures: Vec<Capture> = (0..CAPTURES).map(|i| capture(i, time(i))).collect();
        for round in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let backend = RedbBackend::open(dir.path().join("bench.redb")).unwrap();
            let dataset = backend
                .open_dataset("bench", true)
                .unwrap()
                .unwrap()
                .dataset;
            let start = Instant::now();
            let encoded = EncodedCaptures::from_captures(&captures).unwrap();
            backend.append_captures(dataset, None, &encoded).unwrap();
            let elapsed = start.elapsed();
            println!(
                "{stamps} stamps, round {round}: {CAPTURES} captures committed in {:.1} ms \
                 ({:.0} captures/s)",
                elapsed.as_secs_f64() * 1e3,
                CAPTURES as f64 / elapsed.as_secs_f64()
            );
        }
    }
}
