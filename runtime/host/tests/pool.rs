//! The engine's instance pool is a sandbox limit: a run past its size fails
//! with a reason that names it, the runs already alive carry on, and a
//! slot freed by a run that ends serves the next one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test reports failure by panicking"
)]

use std::sync::Arc;
use std::time::Duration;

use bgpmon_host::{
    EngineOptions, FailureReason, HostConfig, ModuleHost, NoSessions, RunRequest, RunState,
};

async fn host(max_live_instances: u32) -> ModuleHost {
    let config = HostConfig {
        engine: EngineOptions {
            max_live_instances,
            ..EngineOptions::default()
        },
        ..HostConfig::default()
    };
    let host = ModuleHost::new(config, Arc::new(NoSessions)).unwrap();
    host.load_file(bgpmon_test_modules::SPIN_DAEMON.as_ref())
        .await
        .unwrap();
    host
}

/// Waits until `id` has left `Starting`.
async fn started(host: &ModuleHost, id: &str) -> RunState {
    for _ in 0..2_000 {
        let state = host.status(id).unwrap().state;
        if state != RunState::Starting {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{id} is still starting after 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_the_pool_fails_and_a_freed_slot_serves_the_next() {
    let host = host(2).await;
    let daemon = |id: &str| RunRequest::new("spin-daemon", id);
    host.run(daemon("a")).unwrap();
    host.run(daemon("b")).unwrap();
    assert_eq!(started(&host, "a").await, RunState::Running);
    assert_eq!(started(&host, "b").await, RunState::Running);

    host.run(daemon("c")).unwrap();
    let status = host.wait("c").await.unwrap();
    let RunState::Failed(FailureReason::NoCapacity(message)) = &status.state else {
        panic!("the third run did not fail for want of a slot: {status:?}");
    };
    assert!(
        message.contains("maximum concurrent limit of 2"),
        "{message}"
    );
    let text = FailureReason::NoCapacity(message.clone()).to_string();
    assert!(text.starts_with("no capacity:"), "{text}");
    assert!(
        text.contains("run it again when a module has ended"),
        "{text}"
    );
    // The runs that hold the pool carry on.
    assert_eq!(host.status("a").unwrap().state, RunState::Running);
    assert_eq!(host.status("b").unwrap().state, RunState::Running);

    let closed = host.close("a").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped);
    host.run(daemon("d")).unwrap();
    assert_eq!(started(&host, "d").await, RunState::Running);
    host.close_all().await;
    assert_eq!(host.status("d").unwrap().state, RunState::Stopped);
}
