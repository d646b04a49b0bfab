//! The hostile-module suite, where memory is the weapon: each test holds
//! [`MEMORY_TESTS`], resets the peak RSS, runs its hostile guest beside the
//! good module, and bounds the daemon's peak RSS (`VmHWM`) as well as the
//! hostile module's status and reason.

use std::time::Duration;

use bgpmon_host::{
    FailureReason, MAX_ERROR_BYTES, MAX_HOSTCALL_BYTES, MAX_INFO_BYTES, MAX_LOG_LINE_BYTES,
    MAX_RESULT_BYTES, ModuleLimits, OnExisting, RunRequest, RunState,
};
use bgpmon_server::ErrorKind;
use bgpmon_test_modules as guests;

use crate::util::{Harness, MEMORY_TESTS, failure, peak_rss, reset_peak_rss};

const MIB: u64 = 1 << 20;

fn limits(f: impl FnOnce(&mut ModuleLimits)) -> ModuleLimits {
    let mut l = ModuleLimits::default();
    f(&mut l);
    l
}

/// Asserts the peak RSS grew by at most `bound` over `base`, and prints
/// both (shown with `--nocapture`).
fn assert_peak_within(base: u64, bound: u64, what: &str) {
    let peak = peak_rss();
    eprintln!(
        "{what}: peak RSS {} MiB from a base of {} MiB (bound +{} MiB)",
        peak / MIB,
        base / MIB,
        bound / MIB
    );
    assert!(
        peak <= base + bound,
        "{what}: peak RSS {} MiB, over {} MiB + {} MiB",
        peak / MIB,
        base / MIB,
        bound / MIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_memory_bomb_stops_at_its_cap_and_the_rss_stays_bounded() {
    let _serial = MEMORY_TESTS.lock().await;
    let h = Harness::start(&[guests::MEMORY_HOG, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    let base = reset_peak_rss();
    h.server
        .run_module(
            RunRequest::new("memory-hog", "hog").limits(limits(|l| l.memory_bytes = 64 * MIB)),
        )
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let status = h.server.modules().wait("hog").await.unwrap();
    assert_eq!(
        failure(&status),
        FailureReason::MemoryLimit {
            limit_bytes: 64 * MIB
        }
    );
    assert_peak_within(base, 64 * MIB + 96 * MIB, "memory-hog");
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_huge_initial_memory_is_refused_before_it_runs() {
    let _serial = MEMORY_TESTS.lock().await;
    let h = Harness::start(&[guests::HUGE_MEMORY, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    let base = reset_peak_rss();
    h.server
        .run_module(
            RunRequest::new("huge-memory", "huge").limits(limits(|l| l.memory_bytes = 32 * MIB)),
        )
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let status = h.server.modules().wait("huge").await.unwrap();
    assert_eq!(
        failure(&status),
        FailureReason::MemoryLimit {
            limit_bytes: 32 * MIB
        }
    );
    assert!(
        status.counters.memory_bytes < MIB,
        "no linear memory was ever granted: {:?}",
        status.counters
    );
    assert_peak_within(base, 64 * MIB, "huge-memory");
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn an_oversized_info_is_refused_and_nothing_stays_installed() {
    let _serial = MEMORY_TESTS.lock().await;
    let base = reset_peak_rss();
    let h = Harness::start(&[guests::HUGE_INFO, guests::ORIGIN_STATS]).await;
    let failures = h.server.load_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].origin.ends_with("huge_info.wasm"),
        "{failures:?}"
    );
    assert!(
        failures[0].reason.contains(&format!(
            "more than {MAX_INFO_BYTES} bytes (MAX_INFO_BYTES)"
        )),
        "{failures:?}"
    );
    let names: Vec<String> = h
        .server
        .list_module_types()
        .into_iter()
        .map(|t| t.info.type_name)
        .collect();
    assert_eq!(names, ["origin-stats"]);

    // An install of it fails, and leaves no file and no type behind.
    let modules = h.dir.path().join("modules");
    let before: Vec<_> = std::fs::read_dir(&modules)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let err = h
        .server
        .install_module(
            std::fs::read(guests::HUGE_INFO).unwrap(),
            OnExisting::Refuse,
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains("MAX_INFO_BYTES"), "{err}");
    let after: Vec<_> = std::fs::read_dir(&modules)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(after, before);
    assert_eq!(h.server.list_module_types().len(), 1);

    let good = h.good_module().await;
    h.good_beside(&good, "good-beside").await;
    // It stays refused after a restart, and the types stay listable.
    let h = h.restart().await;
    assert_eq!(h.server.load_failures().len(), 1);
    assert_eq!(h.server.list_module_types().len(), 1);
    assert_peak_within(base, 128 * MIB, "huge-info");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn an_oversized_result_fails_and_listing_stays_small() {
    let _serial = MEMORY_TESTS.lock().await;
    let h = Harness::start(&[guests::HUGE_RESULT, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    let base = reset_peak_rss();
    h.server
        .run_module(RunRequest::new("huge-result", "huge"))
        .unwrap();
    h.server
        .run_module(RunRequest::new("huge-result", "large").option("bytes", "1048576"))
        .unwrap();
    h.server
        .run_module(
            RunRequest::new("huge-result", "error")
                .option("bytes", "1048576")
                .option("as", "error"),
        )
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let huge = h.server.modules().wait("huge").await.unwrap();
    assert_eq!(
        failure(&huge),
        FailureReason::Oversized {
            what: "host call or result",
            bytes: None,
            limit: MAX_HOSTCALL_BYTES as u64,
        }
    );
    let large = h.server.modules().wait("large").await.unwrap();
    assert_eq!(
        failure(&large),
        FailureReason::Oversized {
            what: "result",
            bytes: Some(1 << 20),
            limit: MAX_RESULT_BYTES as u64,
        }
    );
    let error = h.server.modules().wait("error").await.unwrap();
    let FailureReason::Error(message) = failure(&error) else {
        panic!("{:?}", error.state);
    };
    assert_eq!(message.len(), MAX_ERROR_BYTES);
    // Every status stays small, so listing them fits one response.
    let listed: usize = h
        .server
        .list_running_modules()
        .iter()
        .map(|s| format!("{:?}", s.state).len())
        .sum();
    assert!(listed < 64 << 10, "{listed}");
    assert_peak_within(base, 100 * MIB + 128 * MIB, "huge-result");
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn an_oversized_log_line_is_cut_before_it_is_copied() {
    let _serial = MEMORY_TESTS.lock().await;
    let h = Harness::start(&[guests::HUGE_LOG, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    let base = reset_peak_rss();
    h.server
        .run_module(RunRequest::new("huge-log", "long").option("bytes", "15000000"))
        .unwrap();
    h.server
        .run_module(RunRequest::new("huge-log", "huge").option("bytes", "104857600"))
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let long = h.server.modules().wait("long").await.unwrap();
    assert!(
        matches!(long.state, RunState::Finished(_)),
        "{:?}",
        long.state
    );
    let lines = h.server.module_logs("long").unwrap();
    assert_eq!(lines[0].message.len(), MAX_LOG_LINE_BYTES);
    assert_eq!(lines[1].message, "after the long line");
    let huge = h.server.modules().wait("huge").await.unwrap();
    assert_eq!(
        failure(&huge),
        FailureReason::Oversized {
            what: "host call or result",
            bytes: None,
            limit: MAX_HOSTCALL_BYTES as u64,
        }
    );
    assert_peak_within(base, 100 * MIB + 15 * MIB + 96 * MIB, "huge-log");
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_fork_bomb_stays_inside_its_family() {
    let _serial = MEMORY_TESTS.lock().await;
    let h = Harness::start(&[
        guests::FORK_BOMB,
        guests::CALL_FREE_SPINNER,
        guests::EXAMPLE_DAEMON,
        guests::ORIGIN_STATS,
    ])
    .await;
    let good = h.good_module().await;
    // The operator's daemon, which the bomb tries to close and replace.
    let live = h.session("live").await;
    h.server
        .run_module(
            RunRequest::new("example-daemon", "victim")
                .option("session", &live)
                .grants(crate::util::grants(&[&live])),
        )
        .unwrap();
    let base = reset_peak_rss();
    let grants = bgpmon_host::Grants {
        may_run_modules: true,
        ..Default::default()
    };
    h.server
        .run_module(
            RunRequest::new("fork-bomb", "bomb")
                .limits(limits(|l| {
                    l.memory_bytes = 64 * MIB;
                    l.stop_grace = Duration::from_millis(300);
                }))
                .grants(grants),
        )
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let server = h.server.clone();
    crate::util::eventually("the bomb to reach its caps", || {
        server
            .module_logs("bomb")
            .unwrap()
            .iter()
            .any(|l| l.message.starts_with("sees "))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let family: Vec<_> = h
        .server
        .list_running_modules()
        .into_iter()
        .filter(|s| s.id.starts_with("bomb/"))
        .collect();
    assert!(!family.is_empty());
    let live_count = family.iter().filter(|s| !s.state.is_ended()).count();
    assert!(
        live_count <= bgpmon_host::MAX_LIVE_DESCENDANTS as usize,
        "{live_count} live descendants"
    );
    assert!(
        family
            .iter()
            .all(|s| s.id.matches('/').count() <= bgpmon_host::MAX_CHILD_DEPTH as usize),
        "{family:?}"
    );
    let logs: Vec<String> = h
        .server
        .module_logs("bomb")
        .unwrap()
        .into_iter()
        .map(|l| l.message)
        .collect();
    let has = |text: &str| logs.iter().any(|l| l.contains(text));
    assert!(has("daemon refused: denied"), "{logs:?}");
    assert!(has("was not granted may_run_daemons"), "{logs:?}");
    assert!(has("close refused: unknown id"), "{logs:?}");
    // Taking the id "victim" either gets the bomb its own "bomb/victim",
    // or is refused by a family cap; never the operator's module.
    if has("took the id victim") {
        assert_eq!(
            h.server.module_status("bomb/victim").unwrap().type_name,
            "fork-bomb"
        );
    } else {
        assert!(has("take refused: limit reached"), "{logs:?}");
    }
    let victim = h.server.module_status("victim").unwrap();
    assert_eq!(victim.state, RunState::Running);
    assert_eq!(victim.type_name, "example-daemon");

    // Closing the root ends the whole family.
    let closed = h.server.close_module("bomb").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped);
    crate::util::eventually("every descendant to end", || {
        server
            .list_running_modules()
            .iter()
            .filter(|s| s.id.starts_with("bomb/"))
            .all(|s| s.state.is_ended())
    })
    .await;
    assert_peak_within(base, 64 * MIB + 96 * MIB, "fork-bomb");
    assert_eq!(
        h.server.module_status("victim").unwrap().state,
        RunState::Running
    );
    h.server.close_module("victim").await.unwrap();
    h.assert_serves().await;
}
