//! Worker starvation (issue 8, vector 1): a module holding every stream it
//! may open must leave streams for other modules and for API clients.
//!
//! A session has two worker pools, `workers` for the API and
//! `module_workers` for modules, and one module family holds at most
//! `module_streams` streams of a session. The test config has 4 of each
//! and `module_streams = 2`, with `timeout_secs = 1`.

use bgpmon_host::{FailureReason, Grants, RunRequest, RunState};
use bgpmon_store::CaptureFilter;
use bgpmon_test_modules as guests;
use tokio_util::sync::CancellationToken;

use crate::util::{Harness, eventually, failure, grants};

/// Starts a stream hog as `id` on `session` and waits until it holds its
/// readers; returns what it logged.
async fn hog(h: &Harness, id: &str, session: &str) -> String {
    h.server
        .run_module(
            RunRequest::new("stream-hog", id)
                .option("session", session)
                .grants(grants(&[session])),
        )
        .unwrap();
    let mut report = String::new();
    eventually("the hog to hold its readers", || {
        if let Some(line) = h.server.module_logs(id).unwrap().first() {
            report = line.message.clone();
        }
        !report.is_empty()
    })
    .await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_module_holding_every_stream_it_may_starves_no_one() {
    let h = Harness::start(&[guests::STREAM_HOG, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    let session = h.server.session("good").unwrap();

    // The hog gets exactly its own allowance, and the next open is refused
    // at once, naming the limit.
    let report = hog(&h, "hog", "good").await;
    assert_eq!(
        report,
        "held 2 readers; refused: limit reached: module \"hog\" has 2 streams open on session \"good\", \
         its limit (module_streams = 2); drop a stream before opening another"
    );
    assert_eq!(session.module_workers_busy(), 2);
    assert_eq!(session.workers_busy(), 0);
    let sessions = h.server.list_sessions().await.unwrap();
    let metrics = bgpmon_server::rpc::Metrics::default().render(&h.server, &sessions);
    assert!(
        metrics.contains(
            "bgpmon_session_module_workers_busy{session=\"good\",session_type=\"local\"} 2\n"
        ),
        "{metrics}"
    );

    // Another module and an API client still get exact results.
    h.good_beside(&good, "good-beside-hog").await;
    assert_eq!(
        h.captures("good", CaptureFilter::default()).await.len(),
        200
    );

    // With every API worker held, modules still read: the pools are apart.
    let mut api_readers = Vec::new();
    for _ in 0..4 {
        api_readers.push(
            h.server
                .capture_reader("good", CaptureFilter::default(), false)
                .await
                .unwrap(),
        );
    }
    assert_eq!(session.workers_busy(), 4);
    h.good_beside(&good, "good-beside-api").await;
    let err = h
        .server
        .capture_reader("good", CaptureFilter::default(), false)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(
            "has all 4 workers busy after waiting 1s; close a stream or configure more workers"
        ),
        "{err}"
    );
    // Reading through one of them still gives every capture.
    let stop = CancellationToken::new();
    let mut read = 0;
    loop {
        let batch = api_readers[0].read(1000, &stop).await.unwrap();
        if batch.is_empty() {
            break;
        }
        read += batch.len();
    }
    assert_eq!(read, 200);
    drop(api_readers);

    // A second hog takes the rest of the module pool: modules then wait
    // for a module worker and give up after the wait, naming the pool,
    // while API clients are untouched.
    let report = hog(&h, "hog2", "good").await;
    assert!(report.starts_with("held 2 readers; refused: "), "{report}");
    assert_eq!(session.module_workers_busy(), 4);
    let starved = h.run_to_end(good.request("good-starved")).await;
    let FailureReason::Error(message) = failure(&starved) else {
        panic!("{starved:?}");
    };
    assert!(
        message.contains("has all 4 module_workers busy after waiting 1s"),
        "{message}"
    );
    assert_eq!(
        h.captures("good", CaptureFilter::default()).await.len(),
        200
    );

    // Closing a hog frees its streams for the others.
    let closed = h.server.close_module("hog2").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped, "{closed:?}");
    eventually("hog2's readers to be released", || {
        session.module_workers_busy() == 2
    })
    .await;
    h.good_beside(&good, "good-after-hog2").await;
    h.server.close_module("hog").await.unwrap();
    eventually("every module reader to be released", || {
        session.module_workers_busy() == 0
    })
    .await;
    h.assert_serves().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_and_its_children_share_one_allowance() {
    let h = Harness::start(&[guests::STREAM_HOG, guests::ORIGIN_STATS]).await;
    let good = h.good_module().await;
    let session = h.server.session("good").unwrap();
    h.server
        .run_module(
            RunRequest::new("stream-hog", "parent")
                .option("session", "good")
                .option("child", "kid")
                .grants(Grants {
                    may_run_modules: true,
                    may_run_daemons: true,
                    ..grants(&["good"])
                }),
        )
        .unwrap();
    // The child's readers count against the family of the run the operator
    // started, so it gets none: children cannot multiply the allowance.
    let mut kid = String::new();
    eventually("the child to report", || {
        if let Ok(lines) = h.server.module_logs("parent/kid")
            && let Some(line) = lines.first()
        {
            kid = line.message.clone();
        }
        !kid.is_empty()
    })
    .await;
    assert_eq!(
        kid,
        "held 0 readers; refused: limit reached: module \"parent\" has 2 streams open on \
         session \"good\", its limit (module_streams = 2); drop a stream before opening another"
    );
    assert_eq!(session.module_workers_busy(), 2);
    h.good_beside(&good, "good-beside-family").await;
    h.server.close_module("parent").await.unwrap();
    eventually("the family's readers to be released", || {
        session.module_workers_busy() == 0
    })
    .await;
}
