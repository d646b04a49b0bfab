//! Sessions: ids, worker limits and closing under load.

use std::time::{Duration, Instant};

use bgpmon_server::{ErrorKind, ServerError};
use bgpmon_store::{CaptureFilter, StoreError};

use crate::util::{Harness, capture};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_ids_are_unique_and_checked() {
    let h = Harness::start(&[]).await;
    let types = h.server.list_session_types();
    assert_eq!(types.len(), 1);
    assert_eq!(types[0].name, "local");

    h.session("s1").await;
    // Opening a stored session again reopens it.
    let again = h
        .server
        .open_session("local", Some("s1"), None)
        .await
        .unwrap();
    assert_eq!((again.id.as_str(), again.open), ("s1", true));

    let err = h
        .server
        .open_session("postgres", None, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("configured types: local"), "{err}");

    let err = h
        .server
        .open_session("local", Some("no spaces"), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = h
        .server
        .open_session("local", None, Some(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    let generated = h.server.open_session("local", None, Some(2)).await.unwrap();
    assert_eq!(generated.workers, 2);
    assert!(generated.id.starts_with("local-"), "{}", generated.id);

    let ids: Vec<String> = h
        .server
        .list_sessions()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, vec![generated.id.clone(), "s1".to_string()]);

    let err = h.server.close_session("ghost").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = h.server.capture_writer("ghost").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let mut before_close = h.server.capture_writer("s1").await.unwrap();
    h.server.close_session("s1").unwrap();
    let info = h.server.session_info("s1").await.unwrap();
    assert!(!info.open, "{info:?}");
    let err = before_close
        .write(vec![capture(1, 1, "10.0.0.0/8")])
        .unwrap_err();
    assert!(matches!(err, StoreError::Closed { .. }), "{err}");
    // A closed session is still stored: a new stream reopens it.
    h.server.capture_writer("s1").await.unwrap();
    assert!(h.server.session_info("s1").await.unwrap().open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_limit_bounds_open_streams_with_a_bounded_wait() {
    let h = Harness::start(&[]).await;
    let s = h
        .server
        .open_session("local", Some("one"), Some(1))
        .await
        .unwrap()
        .id;
    let writer = h.server.capture_writer(&s).await.unwrap();
    assert_eq!(h.server.session_info(&s).await.unwrap().workers_busy, 1);

    let started = Instant::now();
    let err = h
        .server
        .capture_reader(&s, CaptureFilter::default(), false)
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            err,
            ServerError::Store(StoreError::WorkersBusy { workers: 1, .. })
        ),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::ResourceExhausted);
    // The config sets timeout_secs = 1.
    assert!(
        waited >= Duration::from_millis(900),
        "gave up after {waited:?}"
    );

    // A waiting open gets the worker as soon as it is released.
    let server = h.server.clone();
    let id = s.clone();
    let waiting = tokio::spawn(async move {
        server
            .capture_reader(&id, CaptureFilter::default(), false)
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(writer);
    assert!(waiting.await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_session_during_a_write_rolls_it_back_without_deadlock() {
    let h = Harness::start(&[]).await;
    let s = h.session("s1").await;
    h.write(&s, vec![capture(1, 64500, "10.0.0.0/24")]).await;

    let mut writer = h.server.capture_writer(&s).await.unwrap();
    writer
        .write(vec![capture(2, 64500, "10.0.1.0/24")])
        .unwrap();
    let server = h.server.clone();
    let id = s.clone();
    // A second stream waits for a worker while the session closes.
    let one_worker = h
        .server
        .open_session("local", Some("narrow"), Some(1))
        .await
        .unwrap()
        .id;
    let _held = h.server.capture_writer(&one_worker).await.unwrap();
    let waiter = tokio::spawn({
        let server = h.server.clone();
        let id = one_worker.clone();
        async move { server.capture_writer(&id).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.server.close_session(&one_worker).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("a waiting open must wake when its session closes")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition, "{err}");

    server.close_session(&id).unwrap();
    let err = writer.flush().await.unwrap_err();
    assert!(matches!(err, StoreError::Closed { .. }), "{err}");

    let again = h.session("s1").await;
    let stored = h.captures(&again, CaptureFilter::default()).await;
    assert_eq!(stored.len(), 1, "the unflushed capture rolled back");
}
