//! Crash safety (issue 8): `bgpmond` killed with SIGKILL during ingest, at
//! a random point, restarts on its store with every flushed batch present
//! and no partial one.
//!
//! A client thread writes calls of one to three batches; a batch is one
//! flush unit, sent in one to three messages with `flush` on its last, and
//! some calls end with an unflushed batch. The client records which calls
//! the daemon acknowledged. After the kill and a restart on the same store:
//! every batch of an acknowledged call is whole, every batch of the call in
//! flight is whole or absent, no unflushed batch is present, nothing else
//! is stored, and what earlier iterations left stays as it was.
//!
//! `BGPMON_CRASH_ITERATIONS` sets the number of kills (5 by default;
//! `scripts/crash-test.sh` runs 20) and `BGPMON_CRASH_SEED` repeats a run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::grpc::{Rng, batches_window, connect, count, message, tally};
use crate::util::Daemon;

/// Kills per run unless `BGPMON_CRASH_ITERATIONS` says otherwise.
const DEFAULT_ITERATIONS: u32 = 5;

/// The session written.
const SESSION: &str = "crash";

/// One flush unit the client sent.
#[derive(Clone, Debug)]
struct Batch {
    id: u32,
    size: u32,
    /// Whether a flush closed it; the trailing batch of some calls has none.
    flushed: bool,
    call: u32,
}

/// What the client sent and what the daemon acknowledged.
#[derive(Debug, Default)]
struct Ledger {
    batches: Vec<Batch>,
    acked: BTreeSet<u32>,
}

/// Writes calls to the daemon at `addr` until one fails, recording them in
/// `ledger`; signals `first_ack` when the first call is acknowledged.
fn ingest(
    addr: String,
    mut rng: Rng,
    mut next_batch: u32,
    mut next_call: u32,
    ledger: Arc<Mutex<Ledger>>,
    first_ack: mpsc::Sender<()>,
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let mut client = connect(&addr).await;
        loop {
            let call = next_call;
            next_call += 1;
            let mut messages = Vec::new();
            let mut batches = Vec::new();
            let flushed_batches = rng.range(1, 3);
            let unflushed = rng.range(0, 3) == 0;
            for b in 0..flushed_batches + u64::from(unflushed) {
                let flushed = b < flushed_batches;
                let id = next_batch;
                next_batch += 1;
                let size = rng.range(1, 2000) as u32;
                let parts = rng.range(1, 3).min(u64::from(size)) as u32;
                let mut from = 0;
                for p in 0..parts {
                    let n = if p + 1 == parts {
                        size - from
                    } else {
                        size / parts
                    };
                    let session = if messages.is_empty() { SESSION } else { "" };
                    messages.push(message(session, id, from, n, flushed && p + 1 == parts));
                    from += n;
                }
                batches.push(Batch {
                    id,
                    size,
                    flushed,
                    call,
                });
            }
            let expected: u64 = batches
                .iter()
                .filter(|b| b.flushed)
                .map(|b| u64::from(b.size))
                .sum();
            ledger.lock().unwrap().batches.extend(batches);
            match client.write_captures(tokio_stream::iter(messages)).await {
                Ok(reply) => {
                    assert_eq!(reply.into_inner().captures_written, expected);
                    ledger.lock().unwrap().acked.insert(call);
                    let _ = first_ack.send(());
                }
                Err(_) => return,
            }
        }
    });
}

/// The iteration count from the environment, or the default.
fn iterations() -> u32 {
    std::env::var("BGPMON_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ITERATIONS)
}

#[test]
fn sigkill_during_ingest_keeps_every_flushed_batch_and_no_partial_one() {
    let iterations = iterations();
    let seed = Rng::seed_from("BGPMON_CRASH_SEED");
    eprintln!("crash test: {iterations} iterations, BGPMON_CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut daemon = Daemon::start(&[]);
    daemon.ok(&["session", "open", "local", "--id", SESSION]);
    // Batch id -> captures it must keep, over every iteration so far.
    let mut kept: BTreeMap<u32, u64> = BTreeMap::new();
    let (mut next_batch, mut next_call) = (1u32, 0u32);
    let (mut acked_total, mut in_flight_whole, mut in_flight_absent) = (0usize, 0usize, 0usize);
    for iteration in 0..iterations {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let (tx, rx) = mpsc::channel();
        let writer = {
            let (addr, ledger) = (daemon.addr.clone(), ledger.clone());
            let rng = Rng::new(rng.range(1, u64::MAX - 1));
            std::thread::spawn(move || ingest(addr, rng, next_batch, next_call, ledger, tx))
        };
        rx.recv_timeout(Duration::from_secs(120))
            .expect("no write call was acknowledged within 120 s");
        let delay = Duration::from_millis(rng.range(0, 1500));
        std::thread::sleep(delay);
        let killed_at = Instant::now();
        let dir = daemon.kill();
        writer.join().unwrap();

        // The store opens again.
        daemon = Daemon::start_in(dir);
        let reopened = killed_at.elapsed();
        let ledger = std::mem::take(&mut *ledger.lock().unwrap());
        let first = next_batch;
        let last = ledger.batches.last().map_or(first, |b| b.id + 1);
        let stored = runtime.block_on(async {
            let mut client = connect(&daemon.addr).await;
            tally(&mut client, SESSION, batches_window(first, last)).await
        });
        for id in stored.keys() {
            assert!(
                ledger.batches.iter().any(|b| b.id == *id),
                "iteration {iteration}: batch {id} is stored but was never sent"
            );
        }
        let mut acked = 0;
        let mut calls_in_flight = BTreeSet::new();
        for b in &ledger.batches {
            let got = stored.get(&b.id).copied().unwrap_or(0);
            let size = u64::from(b.size);
            if !b.flushed {
                assert_eq!(
                    got, 0,
                    "iteration {iteration}: unflushed batch {b:?} is stored"
                );
            } else if ledger.acked.contains(&b.call) {
                assert_eq!(
                    got, size,
                    "iteration {iteration}: acknowledged batch {b:?} lost captures"
                );
                acked += 1;
            } else {
                assert!(
                    got == 0 || got == size,
                    "iteration {iteration}: batch {b:?} of the call in flight is partial: {got} of {size}"
                );
                calls_in_flight.insert(b.call);
                if got == size {
                    in_flight_whole += 1;
                } else {
                    in_flight_absent += 1;
                }
            }
            kept.insert(b.id, got);
        }
        // At most one call was in flight when the daemon died.
        assert!(calls_in_flight.len() <= 1, "{calls_in_flight:?}");
        acked_total += acked;
        // What earlier iterations kept is still there, and nothing more.
        let total = runtime.block_on(async {
            let mut client = connect(&daemon.addr).await;
            count(&mut client, SESSION).await
        });
        assert_eq!(total, kept.values().sum::<u64>(), "iteration {iteration}");
        eprintln!(
            "crash iteration {iteration}: killed {delay:?} after the first acknowledgement, reopened in {reopened:.1?}; \
             {acked} acknowledged batches whole in {} acknowledged calls, {} in flight, {total} captures stored",
            ledger.acked.len(),
            calls_in_flight.len(),
        );
        next_batch = last;
        next_call = ledger.batches.last().map_or(next_call, |b| b.call + 1);
    }
    eprintln!(
        "crash test: {iterations} kills, {acked_total} acknowledged batches all whole, \
         in-flight batches {in_flight_whole} whole and {in_flight_absent} absent, none partial"
    );
}
