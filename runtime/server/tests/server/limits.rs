//! Modules that misbehave: each fails alone, with the exact reason, and
//! leaves the server serving and stored data intact.

use std::time::Duration;

use bgpmon_host::{FailureReason, ModuleLimits, RunRequest, RunState};
use bgpmon_store::CaptureFilter;
use bgpmon_test_modules as guests;

use crate::util::{Harness, capture, eventually, failure, grants};

fn limits(f: impl FnOnce(&mut ModuleLimits)) -> ModuleLimits {
    let mut l = ModuleLimits::default();
    f(&mut l);
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_fuel_fails_alone_while_another_module_runs() {
    let h = Harness::start(&[guests::BUSY, guests::ROUND_TRIP]).await;
    let s = h.session("s1").await;
    h.server
        .run_module(
            RunRequest::new("busy", "burner")
                .option("iterations", "100000000000")
                .limits(limits(|l| l.fuel = 50_000_000)),
        )
        .unwrap();
    let other = h
        .run_to_end(
            RunRequest::new("round-trip", "rt")
                .option("session", &s)
                .grants(grants(&[&s])),
        )
        .await;
    assert!(matches!(other.state, RunState::Finished(_)), "{other:?}");

    let burner = h.server.modules().wait("burner").await.unwrap();
    assert_eq!(
        failure(&burner),
        FailureReason::OutOfFuel { budget: 50_000_000 }
    );
    assert!(
        burner.counters.fuel_used >= 50_000_000,
        "{:?}",
        burner.counters
    );
    assert_eq!(h.captures(&s, CaptureFilter::default()).await.len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_task_within_its_fuel_finishes() {
    let h = Harness::start(&[guests::BUSY]).await;
    let status = h
        .run_to_end(RunRequest::new("busy", "b").option("iterations", "1000"))
        .await;
    assert!(matches!(status.state, RunState::Finished(_)), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_cap_fails_a_hog() {
    let h = Harness::start(&[guests::MEMORY_HOG, guests::BUSY]).await;
    let status = h
        .run_to_end(
            RunRequest::new("memory-hog", "hog").limits(limits(|l| l.memory_bytes = 32 << 20)),
        )
        .await;
    assert_eq!(
        failure(&status),
        FailureReason::MemoryLimit {
            limit_bytes: 32 << 20
        }
    );
    assert!(
        status.counters.memory_bytes <= 32 << 20,
        "{:?}",
        status.counters
    );
    assert!(
        status.counters.memory_bytes > 16 << 20,
        "{:?}",
        status.counters
    );
    let after = h
        .run_to_end(RunRequest::new("busy", "after").option("iterations", "10"))
        .await;
    assert!(matches!(after.state, RunState::Finished(_)), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_as_a_trap_with_its_message() {
    let h = Harness::start(&[guests::PANIC]).await;
    let status = h.run_to_end(RunRequest::new("panic", "p")).await;
    let FailureReason::Trap(message) = failure(&status) else {
        panic!("expected a trap, got {:?}", status.state);
    };
    assert!(message.contains("unreachable"), "{message}");
    assert!(message.contains("deliberate test panic"), "{message}");
    let logs = h.server.module_logs("p").unwrap();
    assert!(
        logs.iter()
            .any(|l| l.message.contains("deliberate test panic")),
        "the guest's stderr reaches its log: {logs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_module_that_writes_then_traps_leaves_nothing_unflushed() {
    let h = Harness::start(&[guests::WRITE_THEN_TRAP]).await;
    let s = h.session("s1").await;
    h.write(&s, vec![capture(1, 64500, "192.0.2.0/24")]).await;

    let status = h
        .run_to_end(
            RunRequest::new("write-then-trap", "w0")
                .option("session", &s)
                .grants(grants(&[&s])),
        )
        .await;
    assert!(matches!(failure(&status), FailureReason::Trap(_)));
    let stored = h.captures(&s, CaptureFilter::default()).await;
    assert_eq!(
        stored.len(),
        1,
        "only the capture written before the module"
    );

    let status = h
        .run_to_end(
            RunRequest::new("write-then-trap", "w10")
                .option("session", &s)
                .option("flushed", "10")
                .grants(grants(&[&s])),
        )
        .await;
    assert!(matches!(failure(&status), FailureReason::Trap(_)));
    assert_eq!(status.counters.records_written, 10);
    let stored = h.captures(&s, CaptureFilter::default()).await;
    assert_eq!(
        stored.len(),
        11,
        "the ten flushed captures stay, the buffered roll back"
    );
    // The session's worker was released when the failed run's writer dropped.
    assert_eq!(h.server.session_info(&s).await.unwrap().workers_busy, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_past_its_deadline_fails() {
    let h = Harness::start(&[guests::SPIN_FOREVER]).await;
    let status = h
        .run_to_end(RunRequest::new("spin-forever", "late").limits(limits(|l| {
            l.deadline = Duration::from_millis(300);
        })))
        .await;
    assert_eq!(
        failure(&status),
        FailureReason::Deadline {
            after: Duration::from_millis(300)
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ignores_stop_is_ended_after_its_grace() {
    let h = Harness::start(&[guests::SPIN_FOREVER]).await;
    h.server
        .run_module(RunRequest::new("spin-forever", "spin").limits(limits(|l| {
            l.stop_grace = Duration::from_millis(100);
        })))
        .unwrap();
    let server = h.server.clone();
    eventually("the task to run", || {
        server.module_status("spin").unwrap().state == RunState::Running
    })
    .await;
    let status = h.server.close_module("spin").await.unwrap();
    assert_eq!(status.state, RunState::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_daemon_over_its_fuel_rate_is_paused_not_killed() {
    let h = Harness::start(&[guests::SPIN_DAEMON]).await;
    h.server
        .run_module(
            RunRequest::new("spin-daemon", "d").limits(limits(|l| l.fuel_per_second = 2_000_000)),
        )
        .unwrap();
    let server = h.server.clone();
    eventually("the daemon to be paused", || {
        server.module_status("d").unwrap().counters.paused > Duration::from_millis(200)
    })
    .await;
    let running = h.server.module_status("d").unwrap();
    assert_eq!(running.state, RunState::Running);
    // Fuel stays near the rate: one second of burst, the rate per second,
    // and at most one epoch tick of overshoot; unthrottled it would use
    // billions.
    let elapsed = running.counters.uptime.as_secs_f64();
    let allowed = 2_000_000.0 * (2.0 + elapsed) + 200_000_000.0;
    assert!(
        (running.counters.fuel_used as f64) < allowed,
        "used {} fuel in {elapsed:.2}s",
        running.counters.fuel_used
    );
    let closed = h.server.close_module("d").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped);
}
