//! The hostile-module suite, compute and control flow: each hostile guest
//! runs beside the well-behaved `origin-stats`, and each test asserts the
//! hostile module's status and reason, that the good module's result is
//! exactly its result alone, and that the server still serves.

use std::time::Duration;

use bgpmon_host::{
    FailureReason, HOST_CALL_FUEL, MAX_FUEL_SLICE, ModuleLimits, RunRequest, RunState,
};
use bgpmon_test_modules as guests;

use crate::util::{Harness, eventually, failure};

fn limits(f: impl FnOnce(&mut ModuleLimits)) -> ModuleLimits {
    let mut l = ModuleLimits::default();
    f(&mut l);
    l
}

/// Starts `hostile`, runs the good module beside it, and returns the
/// hostile module's final status.
async fn beside(h: &Harness, hostile: RunRequest) -> bgpmon_host::ModuleStatus {
    let good = h.good_module().await;
    let id = hostile.id.clone();
    h.server.run_module(hostile).unwrap();
    h.good_beside(&good, "good-beside").await;
    let status = tokio::time::timeout(Duration::from_secs(120), h.server.modules().wait(&id))
        .await
        .expect("the hostile module did not end within 120 s")
        .unwrap();
    h.assert_serves().await;
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn an_endless_loop_meets_its_deadline_with_its_fuel_counted() {
    let h = Harness::start(&[guests::SPIN_FOREVER, guests::ORIGIN_STATS]).await;
    let status = beside(
        &h,
        RunRequest::new("spin-forever", "loop")
            .limits(limits(|l| l.deadline = Duration::from_millis(500))),
    )
    .await;
    assert_eq!(
        failure(&status),
        FailureReason::Deadline {
            after: Duration::from_millis(500)
        }
    );
    // The fuel of a loop without calls is read exactly when the deadline
    // ends it: half a second of compute, not what it had at its last call.
    assert!(
        status.counters.fuel_used > 20 * MAX_FUEL_SLICE,
        "{:?}",
        status.counters
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_call_free_daemon_is_held_to_its_fuel_rate() {
    let h = Harness::start(&[guests::CALL_FREE_SPINNER, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    for (id, rate) in [("slow", 1_000_000u64), ("fast", 50_000_000)] {
        h.server
            .run_module(RunRequest::new("call-free-spinner", id).limits(limits(|l| {
                l.fuel_per_second = rate;
                l.stop_grace = Duration::from_millis(200);
            })))
            .unwrap();
    }
    h.good_beside(&good, "good-beside").await;
    let server = h.server.clone();
    eventually("both spinners to run 3 s", || {
        ["slow", "fast"]
            .iter()
            .all(|id| server.module_status(id).unwrap().counters.uptime > Duration::from_secs(3))
    })
    .await;
    for (id, rate) in [("slow", 1_000_000u64), ("fast", 50_000_000)] {
        let running = h.server.module_status(id).unwrap();
        assert_eq!(running.state, RunState::Running);
        let closed = h.server.close_module(id).await.unwrap();
        assert_eq!(
            closed.state,
            RunState::Stopped,
            "it ignores stop, so it is forced"
        );
        let c = &closed.counters;
        let uptime = c.uptime.as_secs_f64();
        // One second of burst, then the rate; at most a tick's worth and a
        // slice over, though it never calls the host.
        let allowed = rate as f64 * (1.0 + uptime) + rate as f64 * 0.05 + 2.0 * 500_000.0;
        let fuel = c.fuel_used as f64;
        assert!(
            fuel <= allowed,
            "{id}: used {fuel} fuel in {uptime:.2} s at {rate}/s"
        );
        assert!(
            fuel >= rate as f64 * uptime * 0.5,
            "{id}: used only {fuel} fuel in {uptime:.2} s at {rate}/s"
        );
        // It spent most of its life paused, and the pauses are real time.
        assert!(c.paused <= c.uptime, "{c:?}");
        assert!(
            c.paused.as_secs_f64() >= (uptime - 1.5) * 0.8,
            "{id}: paused only {:?} of {uptime:.2} s",
            c.paused
        );
    }
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_host_call_flood_is_charged_until_its_fuel_runs_out() {
    let h = Harness::start(&[guests::HOST_CALL_FLOOD, guests::ORIGIN_STATS]).await;
    let budget = 1_000_000_000;
    let status = beside(
        &h,
        RunRequest::new("host-call-flood", "flood").limits(limits(|l| l.fuel = budget)),
    )
    .await;
    assert_eq!(failure(&status), FailureReason::OutOfFuel { budget });
    let c = &status.counters;
    assert!(c.fuel_used >= budget, "{c:?}");
    assert!(
        c.host_calls <= budget / HOST_CALL_FUEL + 1,
        "every call costs {HOST_CALL_FUEL} fuel: {c:?}"
    );
    assert!(c.host_calls > 1_000, "{c:?}");

    // WASI calls cost the same: a million clock calls (some 50 million
    // fuel of guest code) do not fit in the budget.
    let wasi = h
        .run_to_end(
            RunRequest::new("host-call-flood", "clock")
                .option("via", "wasi")
                .limits(limits(|l| l.fuel = budget)),
        )
        .await;
    assert_eq!(failure(&wasi), FailureReason::OutOfFuel { budget });
    // A few calls fit, and each is charged.
    let cheap = h
        .run_to_end(
            RunRequest::new("host-call-flood", "few")
                .option("via", "wasi")
                .option("calls", "1000"),
        )
        .await;
    assert!(matches!(cheap.state, RunState::Finished(_)), "{cheap:?}");
    assert!(
        cheap.counters.fuel_used >= 1000 * HOST_CALL_FUEL,
        "{:?}",
        cheap.counters
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn unbounded_recursion_traps_on_the_stack_cap() {
    let h = Harness::start(&[guests::DEEP_RECURSION, guests::ORIGIN_STATS]).await;
    let status = beside(&h, RunRequest::new("deep-recursion", "deep")).await;
    let FailureReason::Trap(message) = failure(&status) else {
        panic!("expected a trap: {:?}", status.state);
    };
    assert!(message.contains("call stack exhausted"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn an_unreachable_instruction_is_a_trap() {
    let h = Harness::start(&[guests::TRAP, guests::ORIGIN_STATS]).await;
    let status = beside(&h, RunRequest::new("trap", "trap")).await;
    let FailureReason::Trap(message) = failure(&status) else {
        panic!("expected a trap: {:?}", status.state);
    };
    assert!(message.contains("unreachable"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_panic_beside_a_good_module_fails_alone() {
    let h = Harness::start(&[guests::PANIC, guests::ORIGIN_STATS]).await;
    let status = beside(&h, RunRequest::new("panic", "p")).await;
    let FailureReason::Trap(message) = failure(&status) else {
        panic!("expected a trap: {:?}", status.state);
    };
    assert!(message.contains("deliberate test panic"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_loop_that_ignores_stop_is_forced_with_its_fuel_counted() {
    let h = Harness::start(&[guests::BUSY, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    h.server
        .run_module(
            RunRequest::new("busy", "burner")
                .option("iterations", "100000000000")
                .limits(limits(|l| l.stop_grace = Duration::from_millis(100))),
        )
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let server = h.server.clone();
    eventually("the burner to run half a second", || {
        server.module_status("burner").unwrap().counters.uptime > Duration::from_millis(500)
    })
    .await;
    let closed = h.server.close_module("burner").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped);
    assert!(
        closed.counters.fuel_used > 20 * MAX_FUEL_SLICE,
        "{:?}",
        closed.counters
    );
    // Closed, its counters no longer move.
    let later = h.server.module_status("burner").unwrap();
    assert_eq!(later.counters.fuel_used, closed.counters.fuel_used);
    h.assert_serves().await;
}
