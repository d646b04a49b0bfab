//! Modules that work: round trips, results, daemons, close and restart.

use bgpmon_host::{ModuleKind, RunRequest, RunState};
use bgpmon_server::ServerError;
use bgpmon_store::CaptureFilter;
use bgpmon_test_modules as guests;

use crate::util::{Harness, capture, eventually, grants};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn round_trip_through_a_module() {
    let h = Harness::start(&[guests::ROUND_TRIP]).await;
    let s = h.session("s1").await;
    let status = h
        .run_to_end(
            RunRequest::new("round-trip", "rt")
                .option("session", &s)
                .option("count", "60")
                .grants(grants(&[&s])),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("round-trip did not finish: {:?}", status.state);
    };
    // Origins cycle through 64500..64505, so 12 of 60 are AS64500's.
    assert_eq!(result.message, "wrote 60, read 12");
    assert_eq!(result.findings[0].fields["written"], "60");
    assert_eq!(status.counters.records_written, 60);
    assert_eq!(status.counters.records_read, 12);
    assert!(status.counters.host_calls >= 4, "{:?}", status.counters);
    assert!(status.counters.fuel_used > 0);
    assert!(status.counters.memory_bytes > 0);

    let stored = h.captures(&s, CaptureFilter::default()).await;
    assert_eq!(stored.len(), 60);
    assert!(
        stored
            .windows(2)
            .all(|w| w[0].timestamp_us <= w[1].timestamp_us)
    );
    let v6 = stored
        .iter()
        .filter(|c| c.advertised.iter().any(|p| p.addr().is_ipv6()))
        .count();
    assert_eq!(v6, 30, "every even capture carries an IPv6 prefix");
}

/// `read-columns` gives what `read` gives, capture for capture and field
/// for field, over batches that split the captures unevenly, and the two
/// mix on one reader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn columns_read_what_records_read() {
    let h = Harness::start(&[guests::ROUND_TRIP]).await;
    let s = h.session("s1").await;
    let status = h
        .run_to_end(
            RunRequest::new("round-trip", "rt")
                .option("session", &s)
                .option("count", "60")
                .option("columns", "true")
                .grants(grants(&[&s])),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("round-trip did not finish: {:?}", status.state);
    };
    assert_eq!(result.findings[1].kind, "columns");
    assert_eq!(result.findings[1].fields["compared"], "60");
    // 12 read back by origin, then all 60 three times over.
    assert_eq!(status.counters.records_read, 12 + 3 * 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn origin_stats_counts_prefixes_per_origin() {
    let h = Harness::start(&[guests::ORIGIN_STATS]).await;
    let s = h.session("s1").await;
    h.write(
        &s,
        vec![
            capture(100, 64500, "10.0.0.0/24"),
            capture(101, 64500, "10.0.1.0/24"),
            capture(102, 64500, "10.0.0.0/24"),
            capture(103, 64501, "2001:db8::/32"),
            capture(200, 64502, "10.9.0.0/16"),
        ],
    )
    .await;
    let status = h
        .run_to_end(
            RunRequest::new("origin-stats", "stats")
                .option("session", &s)
                .option("end", "200")
                .grants(grants(&[&s])),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("origin-stats did not finish: {:?}", status.state);
    };
    assert_eq!(result.message, "4 captures, 2 origin ASes");
    let first = &result.findings[0];
    assert_eq!(first.fields["origin"], "64500");
    assert_eq!(first.fields["prefixes"], "2");
    assert_eq!(first.fields["announcements"], "3");
    assert_eq!(result.findings[1].fields["origin"], "64501");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_without_the_session_grant_is_denied() {
    let h = Harness::start(&[guests::ROUND_TRIP]).await;
    let s = h.session("s1").await;
    let status = h
        .run_to_end(
            RunRequest::new("round-trip", "rt")
                .option("session", &s)
                .grants(grants(&["other"])),
        )
        .await;
    let reason = crate::util::failure(&status).to_string();
    assert!(reason.contains("denied"), "{reason}");
    assert!(
        reason.contains("was not granted session \"s1\""),
        "{reason}"
    );
    assert!(h.captures(&s, CaptureFilter::default()).await.is_empty());
}

/// A read-only grant lets a module read a session but not write to it;
/// the store refuses the writer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_grant_cannot_write() {
    let h = Harness::start(&[guests::ROUND_TRIP]).await;
    let s = h.session("s1").await;
    let status = h
        .run_to_end(
            RunRequest::new("round-trip", "rt")
                .option("session", &s)
                .grants(bgpmon_host::Grants {
                    read_sessions: vec![s.clone()],
                    ..bgpmon_host::Grants::default()
                }),
        )
        .await;
    let reason = crate::util::failure(&status).to_string();
    assert!(
        reason.contains("session \"s1\" is granted read-only"),
        "{reason}"
    );
    assert!(h.captures(&s, CaptureFilter::default()).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_a_server_restart() {
    let h = Harness::start(&[guests::ROUND_TRIP]).await;
    let s = h.session("s1").await;
    let status = h
        .run_to_end(
            RunRequest::new("round-trip", "rt")
                .option("session", &s)
                .option("count", "25")
                .grants(grants(&[&s])),
        )
        .await;
    assert!(matches!(status.state, RunState::Finished(_)), "{status:?}");
    let before = h.captures(&s, CaptureFilter::default()).await;

    let h = h.restart().await;
    let listed = h.server.list_sessions().await.unwrap();
    assert_eq!(
        listed.len(),
        1,
        "the session survives a restart: {listed:?}"
    );
    assert_eq!((listed[0].id.as_str(), listed[0].open), (s.as_str(), false));
    assert_eq!(listed[0].stats.captures, 25);
    let after = h.captures(&s, CaptureFilter::default()).await;
    assert_eq!(after.len(), 25);
    assert_eq!(after, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_daemon_follows_new_captures_until_closed() {
    let h = Harness::start(&[guests::EXAMPLE_DAEMON]).await;
    let s = h.session("live").await;
    h.write(&s, vec![capture(1, 64500, "10.0.0.0/24")]).await;
    let status = h
        .server
        .run_module(
            RunRequest::new("example-daemon", "watch")
                .option("session", &s)
                .option("report-every", "1")
                .grants(grants(&[&s])),
        )
        .unwrap();
    assert_eq!(status.kind, ModuleKind::Daemon);
    let server = h.server.clone();
    eventually("the daemon to read the stored capture", || {
        server.module_status("watch").unwrap().counters.records_read == 1
    })
    .await;
    h.write(
        &s,
        vec![
            capture(2, 64501, "10.0.1.0/24"),
            capture(3, 64501, "10.0.2.0/24"),
        ],
    )
    .await;
    eventually("the daemon to read the new captures", || {
        server.module_status("watch").unwrap().counters.records_read == 3
    })
    .await;
    assert_eq!(
        h.server.module_status("watch").unwrap().state,
        RunState::Running
    );

    let closed = h.server.close_module("watch").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped);
    let logs: Vec<String> = h
        .server
        .module_logs("watch")
        .unwrap()
        .into_iter()
        .map(|l| l.message)
        .collect();
    assert!(
        logs.contains(&"watching session live".to_string()),
        "{logs:?}"
    );
    assert!(logs.contains(&"seen 3 captures".to_string()), "{logs:?}");
    assert!(
        logs.contains(&"stopping after 3 captures".to_string()),
        "{logs:?}"
    );
    // It stays listable after it ended.
    let listed = h.server.list_running_modules();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, RunState::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_server_stops_modules_then_sessions() {
    let h = Harness::start(&[guests::EXAMPLE_DAEMON, guests::SPIN_FOREVER]).await;
    let s = h.session("live").await;
    h.server
        .run_module(
            RunRequest::new("example-daemon", "watch")
                .option("session", &s)
                .grants(grants(&[&s])),
        )
        .unwrap();
    let limits = bgpmon_host::ModuleLimits {
        stop_grace: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    h.server
        .run_module(RunRequest::new("spin-forever", "spin").limits(limits))
        .unwrap();
    let server = h.server.clone();
    eventually("both modules to run", || {
        server
            .list_running_modules()
            .iter()
            .all(|m| m.state == RunState::Running)
    })
    .await;

    h.server.close().await;
    let states: Vec<(String, RunState)> = h
        .server
        .list_running_modules()
        .into_iter()
        .map(|m| (m.id, m.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("spin".to_string(), RunState::Stopped),
            ("watch".to_string(), RunState::Stopped)
        ]
    );
    let listed = h.server.list_sessions().await.unwrap();
    assert!(listed.iter().all(|s| !s.open), "{listed:?}");
    let err = h
        .server
        .open_session("local", Some("late"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::ShuttingDown), "{err}");
    let err = h
        .server
        .run_module(RunRequest::new("spin-forever", "late"))
        .unwrap_err();
    assert!(matches!(err, ServerError::ShuttingDown), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_module_runs_another_only_with_the_grant() {
    let h = Harness::start(&[guests::SPAWNER, guests::NOOP]).await;
    let denied = h
        .run_to_end(RunRequest::new("spawner", "parent").option("child-type", "noop"))
        .await;
    let reason = crate::util::failure(&denied).to_string();
    assert!(
        reason.contains("was not granted may_run_modules"),
        "{reason}"
    );
    assert!(
        h.server.module_status("parent/child").is_err(),
        "no child started"
    );

    let grants = bgpmon_host::Grants {
        may_run_modules: true,
        ..bgpmon_host::Grants::default()
    };
    let status = h
        .run_to_end(
            RunRequest::new("spawner", "parent2")
                .option("child-type", "noop")
                .grants(grants),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("spawner did not finish: {:?}", status.state);
    };
    assert_eq!(result.message, "child child finished");
    // The child's id lives in its parent's namespace.
    assert!(h.server.module_status("child").is_err());
    let child = h.server.module_status("parent2/child").unwrap();
    assert!(matches!(child.state, RunState::Finished(_)), "{child:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_draws_on_its_parents_fuel() {
    let h = Harness::start(&[guests::SPAWNER, guests::BUSY]).await;
    let budget = 50_000_000;
    let grants = bgpmon_host::Grants {
        may_run_modules: true,
        ..Default::default()
    };
    let parent = h
        .run_to_end(
            RunRequest::new("spawner", "parent")
                .option("child-type", "busy")
                .limits(bgpmon_host::ModuleLimits {
                    fuel: budget,
                    ..Default::default()
                })
                .grants(grants),
        )
        .await;
    let child = h.server.modules().wait("parent/child").await.unwrap();
    // The child got what its parent had left, not a copy of its budget.
    let bgpmon_host::FailureReason::OutOfFuel { budget: given } = crate::util::failure(&child)
    else {
        panic!("{:?}", child.state);
    };
    assert!(given < budget, "{given}");
    // Its fuel was the family's, so the parent ran out as well.
    assert_eq!(
        crate::util::failure(&parent),
        bgpmon_host::FailureReason::OutOfFuel { budget }
    );
    let family = parent.counters.fuel_used + child.counters.fuel_used;
    assert!(
        family <= budget + 4 * bgpmon_host::MAX_FUEL_SLICE,
        "the family used {family} of {budget}"
    );
}
