//! The hostile-module suite, at the host's borders: the daemon's log, the
//! WASI escapes, the filters a module hands the store, and the limits a
//! client asks for.

use bgpmon_host::{FILTER_TERM_FUEL, MAX_FILTER_TERMS, ModuleLimits, RunRequest, RunState};
use bgpmon_server::ErrorKind;
use bgpmon_test_modules as guests;

use crate::util::{Harness, grants, logged_lines, logged_text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn module_text_cannot_forge_a_daemon_log_line() {
    let h = Harness::start(&[guests::LOG_INJECT, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    h.server
        .run_module(RunRequest::new("log-inject", "inject"))
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let status = h.server.modules().wait("inject").await.unwrap();
    assert!(matches!(status.state, RunState::Finished(_)), "{status:?}");

    // The module's own log keeps its text and level.
    let lines = h.server.module_logs("inject").unwrap();
    assert_eq!(lines[0].level, bgpmon_host::LogLevel::Error);
    assert!(
        lines[0]
            .message
            .starts_with("innocent\n2026-01-01T00:00:00Z ERROR")
    );

    // The daemon's log has it escaped, in a field, at info.
    let text = logged_text();
    assert!(
        !text.contains("\n2026-01-01T00:00:00Z ERROR bgpmon_server: FORGED"),
        "a forged line reached the daemon's log"
    );
    assert!(
        !text.contains('\u{1b}'),
        "an escape sequence reached the log"
    );
    let ours = logged_lines("module=inject");
    let logged: Vec<&String> = ours.iter().filter(|l| l.contains("module log")).collect();
    assert_eq!(logged.len(), 3, "{ours:?}");
    for line in &logged {
        // The level is the second column, after the timestamp.
        assert_eq!(line.split_whitespace().nth(1), Some("INFO"), "{line}");
    }
    assert!(
        logged[0].contains(r#"text="innocent\n2026-01-01T00:00:00Z ERROR"#),
        "{}",
        logged[0]
    );
    assert!(logged[0].contains("guest_level=\"error\""), "{}", logged[0]);
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn wasi_offers_no_escape() {
    let h = Harness::start(&[guests::WASI_ESCAPE, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    h.server
        .run_module(RunRequest::new("wasi-escape", "escape"))
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let status = h.server.modules().wait("escape").await.unwrap();
    let RunState::Finished(result) = &status.state else {
        panic!("{:?}", status.state);
    };
    assert_eq!(result.message, "no escape");
    assert!(!std::path::Path::new("/tmp/bgpmon-escape").exists());
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_filter_bomb_is_refused_and_filters_are_charged() {
    let h = Harness::start(&[guests::FILTER_BOMB, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    let s = h.session("bombed").await;
    let started = std::time::Instant::now();
    h.server
        .run_module(
            RunRequest::new("filter-bomb", "bomb")
                .option("session", &s)
                .grants(grants(&[&s])),
        )
        .unwrap();
    h.good_beside(&good, "good-beside").await;
    let bomb = h.server.modules().wait("bomb").await.unwrap();
    let RunState::Finished(result) = &bomb.state else {
        panic!("{:?}", bomb.state);
    };
    assert_eq!(
        result.message,
        format!(
            "refused: invalid argument: filter has 2000000 values, over the cap of {MAX_FILTER_TERMS} (MAX_FILTER_TERMS); split it into several readers"
        )
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));

    let status = h
        .run_to_end(
            RunRequest::new("filter-bomb", "within")
                .option("session", &s)
                .option("terms", "1000")
                .grants(grants(&[&s])),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("{:?}", status.state);
    };
    assert_eq!(result.message, "read 0");
    assert!(
        status.counters.fuel_used >= 1000 * FILTER_TERM_FUEL,
        "the filter's terms are charged: {:?}",
        status.counters
    );
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn clients_cannot_ask_for_more_than_the_config_allows() {
    let h = Harness::start_with(
        &[guests::NOOP],
        "[limits]\nmemory_mb = 64\nfuel = 1000000000\n",
    )
    .await;
    let over = ModuleLimits {
        memory_bytes: 4 << 30,
        ..h.server.default_limits().clone()
    };
    let err = h
        .server
        .run_module(RunRequest::new("noop", "greedy").limits(over))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        err.to_string(),
        "invalid limits: limit memory_bytes = 4294967296 is over its ceiling of 67108864; ask for at most 67108864, or have the operator raise `limits` in the daemon's config"
    );
    let status = tonic::Status::from(err);
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("memory_bytes"), "{status:?}");
    let over = ModuleLimits {
        fuel: 1_000_000_001,
        ..h.server.default_limits().clone()
    };
    let err = h
        .server
        .run_module(RunRequest::new("noop", "greedy").limits(over))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("limit fuel = 1000000001 is over its ceiling of 1000000000"),
        "{err}"
    );
    assert!(h.server.module_status("greedy").is_err(), "nothing started");
    // At or under the ceiling, it runs; without limits, it gets the ceiling.
    let status = h.run_to_end(RunRequest::new("noop", "fine")).await;
    assert!(matches!(status.state, RunState::Finished(_)));
}
