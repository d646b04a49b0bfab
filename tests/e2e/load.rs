//! Load (issue 8): one daemon over loopback serves 4 writers, 4 readers (2
//! of them following) and 2 modules at once, with exact counts everywhere
//! and a bound on the daemon's peak resident set.
//!
//! Session `base` is written first; during the load two readers read it
//! whole three times each and two `origin-stats` runs count it. Four
//! writers, each on its own connection, write their batches to session
//! `load` with a flush per batch, while two readers follow `load` from
//! before the first write until they have seen every capture.

use std::collections::BTreeMap;
use std::time::Duration;

use bgpmon_proto::v1;
use bgpmon_test_modules as guests;

use crate::grpc::{connect, count, message, tally};
use crate::util::Daemon;

const WRITERS: u32 = 4;
const BATCHES_PER_WRITER: u32 = 25;
const BATCH: u32 = 1000;
const BASE_BATCHES: u32 = 20;

/// The daemon's peak resident set may not pass this, in bytes. Measured
/// at 103-108 MiB for a debug build on the 2-core test machine; the bound
/// leaves room for allocator and build differences, and catches a stream
/// that buffers a session (the load alone is 120,000 captures).
const MAX_PEAK_RSS: u64 = 256 << 20;

/// The batch id of writer `w`'s batch `b`; base batches are 1..=20.
fn batch_id(w: u32, b: u32) -> u32 {
    1000 * (w + 1) + b
}

/// A process's peak resident set (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// Writes `batches` (id, size) to `session` in one call, a flush per batch.
async fn write(addr: &str, session: &str, batches: Vec<(u32, u32)>) -> u64 {
    let mut client = connect(addr).await;
    let messages: Vec<_> = batches
        .iter()
        .enumerate()
        .map(|(i, &(id, n))| message(if i == 0 { session } else { "" }, id, 0, n, true))
        .collect();
    client
        .write_captures(tokio_stream::iter(messages))
        .await
        .unwrap()
        .into_inner()
        .captures_written
}

/// Follows `session` until it has seen `total` captures; returns them by
/// batch.
async fn follow(addr: &str, session: &str, total: u64) -> BTreeMap<u32, u64> {
    let mut client = connect(addr).await;
    let mut stream = client
        .read_captures(v1::ReadCapturesRequest {
            session_id: session.into(),
            follow: true,
            ..v1::ReadCapturesRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut seen = BTreeMap::new();
    let mut n = 0;
    while n < total {
        let response = stream
            .message()
            .await
            .unwrap()
            .expect("a follow never ends");
        for c in response.captures {
            *seen.entry(c.peer_as).or_insert(0) += 1;
            n += 1;
        }
    }
    seen
}

#[test]
fn four_writers_four_readers_and_two_modules_get_exact_counts_in_bounded_memory() {
    let d = Daemon::start(&[guests::ORIGIN_STATS]);
    d.ok(&["session", "open", "local", "--id", "base"]);
    d.ok(&["session", "open", "local", "--id", "load"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let base: BTreeMap<u32, u64> = (1..=BASE_BATCHES).map(|b| (b, u64::from(BATCH))).collect();
    let written = runtime.block_on(write(
        &d.addr,
        "base",
        (1..=BASE_BATCHES).map(|b| (b, BATCH)).collect(),
    ));
    assert_eq!(written, u64::from(BASE_BATCHES * BATCH));
    let load_total = u64::from(WRITERS * BATCHES_PER_WRITER * BATCH);
    let expected_load: BTreeMap<u32, u64> = (0..WRITERS)
        .flat_map(|w| (0..BATCHES_PER_WRITER).map(move |b| (batch_id(w, b), u64::from(BATCH))))
        .collect();

    let addr = d.addr.clone();
    let origin_stats = |id: &str| {
        d.ok(&[
            "module",
            "run",
            "origin-stats",
            id,
            "--opt",
            "session=base",
            "--grant",
            "base",
            "--wait",
        ])
    };
    let (followed, read_base, written, modules) = std::thread::scope(|scope| {
        let modules: Vec<_> = ["m1", "m2"]
            .map(|id| scope.spawn(move || origin_stats(id)))
            .into_iter()
            .collect();
        let (followed, read_base, written) = runtime.block_on(async {
            let followers: Vec<_> = (0..2)
                .map(|_| {
                    let addr = addr.clone();
                    tokio::spawn(async move { follow(&addr, "load", load_total).await })
                })
                .collect();
            // Each follower holds a worker once its stream is open; the
            // writers start after both are, so the followers see every
            // write.
            let mut client = connect(&addr).await;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                let info = client
                    .get_session(v1::GetSessionRequest { id: "load".into() })
                    .await
                    .unwrap()
                    .into_inner();
                if info.session.unwrap().workers_busy == 2 {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the followers did not open their streams"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let writers: Vec<_> = (0..WRITERS)
                .map(|w| {
                    let addr = addr.clone();
                    let batches = (0..BATCHES_PER_WRITER)
                        .map(|b| (batch_id(w, b), BATCH))
                        .collect();
                    tokio::spawn(async move { write(&addr, "load", batches).await })
                })
                .collect();
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let addr = addr.clone();
                    tokio::spawn(async move {
                        let mut client = connect(&addr).await;
                        let mut reads = Vec::new();
                        for _ in 0..3 {
                            reads.push(
                                tally(&mut client, "base", v1::CaptureFilter::default()).await,
                            );
                        }
                        reads
                    })
                })
                .collect();
            let mut written = 0;
            for w in writers {
                written += w.await.unwrap();
            }
            let mut read_base = Vec::new();
            for r in readers {
                read_base.extend(r.await.unwrap());
            }
            let mut followed = Vec::new();
            for f in followers {
                followed.push(
                    tokio::time::timeout(Duration::from_secs(300), f)
                        .await
                        .expect("a follower did not see every capture within 300 s")
                        .unwrap(),
                );
            }
            (followed, read_base, written)
        });
        let modules: Vec<String> = modules.into_iter().map(|m| m.join().unwrap()).collect();
        (followed, read_base, written, modules)
    });
    // The modules ran beside the load, each counting base exactly.
    for out in &modules {
        assert!(out.contains("state: finished\n"), "{out}");
        assert!(
            out.contains("result: 20000 captures, 16 origin ASes"),
            "{out}"
        );
        assert!(out.contains("records_read=20000"), "{out}");
    }
    assert_eq!(written, load_total);
    for seen in &followed {
        assert_eq!(seen, &expected_load, "a follower's captures by batch");
    }
    assert_eq!(read_base.len(), 6);
    for read in &read_base {
        assert_eq!(read, &base, "a reader's captures of base by batch");
    }
    let stored = runtime.block_on(async {
        let mut client = connect(&d.addr).await;
        (
            count(&mut client, "load").await,
            count(&mut client, "base").await,
        )
    });
    assert_eq!(stored, (load_total, u64::from(BASE_BATCHES * BATCH)));

    let peak = peak_rss(d.pid());
    eprintln!(
        "load: {load_total} captures written by {WRITERS} writers, followed by 2 readers, base read 6 times; daemon peak RSS {} MiB (bound {} MiB)",
        peak >> 20,
        MAX_PEAK_RSS >> 20
    );
    assert!(peak <= MAX_PEAK_RSS, "peak RSS {peak} over {MAX_PEAK_RSS}");
}
