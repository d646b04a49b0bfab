//! A session's worker pools: API clients and modules draw on separate
//! pools, and one module family holds at most `module_streams` streams.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bgpmon_store::{
    Backend, CaptureFilter, RedbBackend, Session, SessionOptions, StoreError, WorkerPool,
};

fn session(dir: &tempfile::TempDir) -> Arc<Session> {
    let backend = Arc::new(RedbBackend::open(dir.path().join("bgp.redb")).unwrap());
    let stored = backend.open_dataset("s", true).unwrap().unwrap();
    Arc::new(Session::new(
        "s",
        stored.dataset,
        "redb",
        backend,
        SessionOptions {
            workers: 2,
            module_workers: 3,
            module_streams: 2,
            worker_wait: Duration::from_millis(200),
        },
    ))
}

#[tokio::test]
async fn a_module_family_is_held_to_its_streams_and_the_pools_are_apart() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(&dir);
    let all = || CaptureFilter::default();

    // Two views of one family share its allowance.
    let a = s.for_module("a");
    let a_again = s.for_module("a");
    let r1 = a.capture_reader(all(), false).await.unwrap();
    let _w1 = a_again.capture_writer().await.unwrap();
    assert_eq!(a.open(), 2);
    let started = Instant::now();
    let err = a.capture_reader(all(), false).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "the own limit fails at once"
    );
    assert!(
        matches!(&err, StoreError::ModuleStreamsBusy { module, limit: 2, .. } if module == "a"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "module \"a\" has 2 streams open on session \"s\", its limit (module_streams = 2); \
         drop a stream before opening another"
    );

    // Another family takes the last module worker; then the pool is full
    // and an open waits the whole wait before failing, naming the pool.
    let b = s.for_module("b");
    let _r2 = b.entity_reader(Default::default()).await.unwrap();
    assert_eq!(s.module_workers_busy(), 3);
    let started = Instant::now();
    let err = b.prefix_reader(all()).await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(190));
    assert!(
        matches!(
            err,
            StoreError::WorkersBusy {
                pool: WorkerPool::Modules,
                workers: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("all 3 module_workers busy"),
        "{err}"
    );

    // The API pool is untouched by modules, and modules by the API.
    let api1 = s.capture_reader(all(), false).await.unwrap();
    let _api2 = s.capture_writer().await.unwrap();
    assert_eq!(s.workers_busy(), 2);
    let err = s.entity_reader(Default::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WorkersBusy {
                pool: WorkerPool::Api,
                workers: 2,
                ..
            }
        ),
        "{err}"
    );
    drop(api1);
    assert_eq!(s.module_workers_busy(), 3);

    // A stream dropped gives its worker and its allowance back.
    drop(r1);
    assert_eq!(a.open(), 1);
    assert_eq!(s.module_workers_busy(), 2);
    let _r3 = a.capture_reader(all(), false).await.unwrap();

    // A closed session refuses module streams too.
    s.close();
    let err = s
        .for_module("c")
        .capture_reader(all(), false)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Closed { .. }), "{err}");
}
