//! End-to-end ingest against parsing alone, in the same run.
//!
//! - parse only: bgpkit-parser decompresses and parses
//!   `ris-rrc00.updates.20190101.0000.gz` and counts its UPDATE messages,
//!   reading through the same buffers as the CLI's reader (a
//!   [`READ_BUFFER_SIZE`] buffer on each side of the gzip decoder);
//! - ingest: `bgpmon write captures` sends the same file to a running
//!   `bgpmond`, which stores it in redb and flushes; timed from the CLI's
//!   start to its exit.
//!
//! The two alternate, a run of each per round, so a machine that slows
//! down or speeds up during the bench weighs on both alike. Both are
//! reported in captures per second, with ingest as a ratio of parse only
//! (of the medians), and the lowest and highest ratio of one round's pair.
//! Run with `cargo bench --bench ingest`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports failure by panicking"
)]

#[path = "../tests/e2e/util.rs"]
mod util;

use std::io::BufReader;
use std::time::{Duration, Instant};

use bgpkit_parser::BgpkitParser;
use bgpkit_parser::models::{Bgp4MpEnum, BgpMessage, MrtMessage};
use bgpmon_ingest::READ_BUFFER_SIZE;

const FILE: &str = "ris-rrc00.updates.20190101.0000.gz";
const UPDATES: u64 = 54_107;
const RUNS: usize = 11;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn parse_only(path: &std::path::Path) -> Duration {
    let start = Instant::now();
    let file = std::fs::File::open(path).unwrap();
    let decoder =
        flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(READ_BUFFER_SIZE, file));
    let reader = BufReader::with_capacity(READ_BUFFER_SIZE, decoder);
    let mut updates = 0u64;
    for record in BgpkitParser::from_reader(reader).into_record_iter() {
        if let MrtMessage::Bgp4Mp(Bgp4MpEnum::Message(m)) = &record.message
            && matches!(m.bgp_message, BgpMessage::Update(_))
        {
            updates += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(updates, UPDATES);
    elapsed
}

fn ingest(path: &std::path::Path) -> Duration {
    let d = util::Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let start = Instant::now();
    d.ok(&["write", "captures", "s", path.to_str().unwrap()]);
    let elapsed = start.elapsed();
    assert_eq!(d.ok(&["read", "count", "s"]).trim(), UPDATES.to_string());
    elapsed
}

fn main() {
    let Some(path) = util::mrt(FILE) else {
        return;
    };
    // The two paths alternate, so a machine that slows down or speeds up
    // during the run weighs on both alike; a first parse warms the page
    // cache for both.
    parse_only(&path);
    let (mut parse, mut store) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        parse.push(parse_only(&path));
        store.push(ingest(&path));
    }
    // Each pair's ratio, for the spread: ingest's rate over parsing's is
    // parse time over ingest time.
    let mut pairs: Vec<f64> = parse
        .iter()
        .zip(&store)
        .map(|(p, s)| p.as_secs_f64() / s.as_secs_f64())
        .collect();
    pairs.sort_by(f64::total_cmp);
    let (parse, store) = (median(parse), median(store));
    let rate = |d: Duration| UPDATES as f64 / d.as_secs_f64();
    println!("ingest of {FILE} ({UPDATES} UPDATEs), median of {RUNS} alternating runs");
    println!("{:<44} {:>12} {:>14}", "path", "time", "captures/s");
    println!(
        "{:<44} {:>9.1} ms {:>14.0}",
        "bgpkit-parser alone (decompress + parse)",
        parse.as_secs_f64() * 1e3,
        rate(parse)
    );
    println!(
        "{:<44} {:>9.1} ms {:>14.0}",
        "bgpmon write captures: CLI -> daemon -> redb",
        store.as_secs_f64() * 1e3,
        rate(store)
    );
    println!(
        "ratio ingest / parse-only: {:.2} (pairs {:.2}-{:.2})",
        rate(store) / rate(parse),
        pairs[0],
        pairs[pairs.len() - 1]
    );
}
