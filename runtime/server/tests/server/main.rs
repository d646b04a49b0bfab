//! Integration tests of the server with real redb files, a real wasmtime
//! engine and real components built from `tests/guests` and
//! `example-modules`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test reports failure by panicking"
)]

mod limits;
mod loading;
mod modules;
mod sessions;
mod util;

/// The test that runs each guest, under the guest's name. A guest added to
/// `bgpmon-test-modules` without an entry here fails to compile.
mod guest_tests {
    pub(crate) use crate::limits::{
        a_daemon_over_its_fuel_rate_is_paused_not_killed as spin_daemon,
        a_module_that_writes_then_traps_leaves_nothing_unflushed as write_then_trap,
        a_panic_is_reported_as_a_trap_with_its_message as panic,
        a_task_that_ignores_stop_is_ended_after_its_grace as spin_forever,
        a_task_within_its_fuel_finishes as busy, the_memory_cap_fails_a_hog as memory_hog,
    };
    pub(crate) use crate::modules::{
        a_daemon_follows_new_captures_until_closed as example_daemon,
        a_module_runs_another_only_with_the_grant as spawner,
        origin_stats_counts_prefixes_per_origin as origin_stats,
        round_trip_through_a_module as round_trip,
    };
    // The no-op guest is the child the spawner runs.
    pub(crate) use crate::modules::a_module_runs_another_only_with_the_grant as noop;
}

macro_rules! assert_guest_tested {
    ($guest:ident) => {
        #[expect(unused_imports, reason = "only asserts that the guest has a test")]
        use guest_tests::$guest as _;
    };
}

bgpmon_test_modules::foreach_guest!(assert_guest_tested);
