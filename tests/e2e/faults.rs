//! Store faults reach the client with their cause and what to do, never as
//! a bare "internal error": a write past the file-size limit (as on a full
//! disk), the store refusing work after that I/O error until the daemon
//! restarts, and a second daemon on a store another one holds.

use std::process::Command;

use bgpmon_proto::v1;
use tonic::Code;

use crate::grpc::connect;
use crate::util::{BGPMOND, Daemon, mrt};

#[test]
fn a_full_store_names_its_cause_then_refuses_work_until_a_restart() {
    let Some(file) = mrt("ris-rrc21.updates.20160811.1600.gz") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s1"]);
    let (dir, status) = d.stop();
    assert!(status.success());
    let size = std::fs::metadata(dir.path().join("bgpmon.redb"))
        .unwrap()
        .len();
    // Room to start and open the store, not to store the file.
    let d = Daemon::start_with_file_limit(dir, size + 64 * 1024);
    let err = d.fails(&["write", "captures", "s1", file.to_str().unwrap()]);
    assert!(
        err.contains("storage failed while")
            && err.contains("File too large (os error 27); free disk space or raise the quota or file-size limit, then retry"),
        "{err}"
    );
    assert!(!err.contains("internal error"), "{err}");

    // redb refuses every write after an I/O error until it is reopened.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        connect(&d.addr)
            .await
            .open_session(v1::OpenSessionRequest {
                session_type: "local".into(),
                id: "s2".into(),
                ..Default::default()
            })
            .await
            .unwrap_err()
    });
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("Previous I/O error occurred")
            && status.message().ends_with(
                "the store refuses work after an earlier I/O error; fix that error's cause (see the daemon's log) and restart bgpmond"
            ),
        "{}",
        status.message()
    );
    let metrics = d.scrape();
    for series in [
        "bgpmon_rpc_requests_total{method=\"bgpmon.v1.Bgpmon/WriteCaptures\",code=\"RESOURCE_EXHAUSTED\"} 1\n",
        "bgpmon_rpc_requests_total{method=\"bgpmon.v1.Bgpmon/OpenSession\",code=\"UNAVAILABLE\"} 1\n",
    ] {
        assert!(metrics.contains(series), "{series}: {metrics}");
    }
    assert!(
        d.log().contains("ERROR") && d.log().contains("File too large"),
        "{}",
        d.log()
    );
    let stored = d.ok(&["read", "count", "s1"]);

    // Restarted without the limit, the store works again and kept what
    // was committed before the fault.
    let (dir, _) = d.stop();
    let d = Daemon::start_in(dir);
    assert_eq!(d.ok(&["read", "count", "s1"]), stored);
    d.ok(&["session", "open", "local", "--id", "s2"]);
}

#[test]
fn a_second_daemon_on_a_held_store_says_another_process_holds_it() {
    let d = Daemon::start(&[]);
    let out = Command::new(BGPMOND)
        .arg("--config")
        .arg(d.dir.path().join("bgpmond.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("error: cannot open store ")
            && err.contains("Database already open. Cannot acquire lock.")
            && err.contains("check the path and that no other process holds it"),
        "{err}"
    );
    // The first one still serves.
    d.ok(&["session", "list"]);
}
