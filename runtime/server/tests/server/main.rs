//! Integration tests of the server with real redb files, a real wasmtime
//! engine and real components built from `tests/guests` and
//! `example-modules`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test reports failure by panicking"
)]

mod auth;
mod examples;
mod findings;
mod hijack;
mod hostile;
mod hostile_io;
mod hostile_memory;
mod limits;
mod loading;
mod modules;
mod observability;
mod sessions;
mod starvation;
mod tls;
mod util;
mod writes;

/// The test that runs each guest, under the guest's name. A guest added to
/// `bgpmon-test-modules` without an entry here fails to compile.
mod guest_tests {
    pub(crate) use crate::examples::{
        churn_counts_rates_per_peer_minute_and_flaps as churn,
        periodic_runs_a_type_every_interval_as_its_children as periodic,
    };
    pub(crate) use crate::findings::{
        a_module_built_against_wit_0_1_0_runs_unchanged as origins_v010,
        findings_are_stored_in_their_session_as_they_are_reported as finding_reporter,
    };
    pub(crate) use crate::hijack::{
        hijack_live_gives_the_events_a_replay_gives as hijack_live,
        hijack_reports_every_artemis_class_with_rpki_and_aspa_counts as hijack,
    };
    pub(crate) use crate::hostile::{
        a_call_free_daemon_is_held_to_its_fuel_rate as call_free_spinner,
        a_host_call_flood_is_charged_until_its_fuel_runs_out as host_call_flood,
        a_panic_beside_a_good_module_fails_alone as panic,
        an_endless_loop_meets_its_deadline_with_its_fuel_counted as spin_forever,
        an_unreachable_instruction_is_a_trap as trap,
        unbounded_recursion_traps_on_the_stack_cap as deep_recursion,
    };
    pub(crate) use crate::hostile_io::{
        a_filter_bomb_is_refused_and_filters_are_charged as filter_bomb,
        module_text_cannot_forge_a_daemon_log_line as log_inject,
        wasi_offers_no_escape as wasi_escape,
    };
    pub(crate) use crate::hostile_memory::{
        a_fork_bomb_stays_inside_its_family as fork_bomb,
        a_huge_initial_memory_is_refused_before_it_runs as huge_memory,
        a_memory_bomb_stops_at_its_cap_and_the_rss_stays_bounded as memory_hog,
        an_oversized_info_is_refused_and_nothing_stays_installed as huge_info,
        an_oversized_log_line_is_cut_before_it_is_copied as huge_log,
        an_oversized_result_fails_and_listing_stays_small as huge_result,
    };
    pub(crate) use crate::limits::{
        a_daemon_over_its_fuel_rate_is_paused_not_killed as spin_daemon,
        a_module_that_writes_then_traps_leaves_nothing_unflushed as write_then_trap,
        a_task_within_its_fuel_finishes as busy,
    };
    pub(crate) use crate::modules::{
        a_daemon_follows_new_captures_until_closed as example_daemon,
        a_module_runs_another_only_with_the_grant as spawner,
        origin_stats_counts_prefixes_per_origin as origin_stats,
        round_trip_through_a_module as round_trip,
    };
    pub(crate) use crate::starvation::a_module_holding_every_stream_it_may_starves_no_one as stream_hog;
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
