//! The daemon's life: config errors, restart, signals, metrics, and one
//! client writing while another reads.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::util::{BGPMOND, Daemon, config_text, mrt};

#[test]
fn a_bad_config_names_its_key_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[sessions.local]\ntype = \"redb\"\npath = \"x\"\nworkers = 0\n",
    )
    .unwrap();
    let out = Command::new(BGPMOND).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sessions.local.workers: 0 is out of range"),
        "{err}"
    );

    std::fs::write(&path, "rpc_adress = \"127.0.0.1:1\"\n").unwrap();
    let out = Command::new(BGPMOND)
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `rpc_adress`"));

    let out = Command::new(BGPMOND).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no config file given"));

    std::fs::write(&path, config_text(dir.path(), "")).unwrap();
    let out = Command::new(BGPMOND)
        .arg(&path)
        .arg("--print-config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(printed.contains("[sessions.local]"), "{printed}");
    assert!(printed.contains("workers = 8"), "{printed}");
}

#[test]
fn data_survives_a_restart_and_sigterm_exits_0() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s1"]);
    d.ok(&["write", "captures", "s1", file.to_str().unwrap()]);
    assert_eq!(d.ok(&["read", "count", "s1"]), "761\n");
    let (dir, status) = d.stop();
    assert!(
        status.success(),
        "SIGTERM ends the daemon with 0, got {status}"
    );

    let d = Daemon::start_in(dir);
    let list = d.ok(&["session", "list"]);
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{list}");
    let row: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!(&row[..4], ["s1", "local", "no", "761"], "{list}");
    // Reading needs no open: the session is stored.
    assert_eq!(d.ok(&["read", "count", "s1"]), "761\n");
    d.ok(&["session", "open", "local", "--id", "again"]);
    assert_eq!(
        d.ok(&["read", "count", "again"]),
        "0\n",
        "sessions are isolated"
    );
}

#[test]
fn metrics_are_served_as_prometheus_text() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s1"]);
    d.ok(&["write", "captures", "s1", file.to_str().unwrap()]);
    let response = d.scrape();
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    assert!(response.contains("text/plain; version=0.0.4"), "{response}");
    assert!(
        response.contains("\nbgpmon_ingest_captures_written_total 761\n"),
        "{response}"
    );
    assert!(
        response.contains("\nbgpmon_session_workers{session=\"s1\",session_type=\"local\"} 8\n"),
        "{response}"
    );
    for needle in [
        "\n# TYPE bgpmon_ingest_captures_written_total counter\n",
        "\nbgpmon_sessions_stored 1\n",
        "\nbgpmon_build_info{version=\"",
        "\nbgpmon_rpc_requests_total{method=\"bgpmon.v1.Bgpmon/WriteCaptures\",code=\"OK\"} 1\n",
        "\nbgpmon_rpc_request_duration_seconds_count{method=\"bgpmon.v1.Bgpmon/OpenSession\",code=\"OK\"} 1\n",
        "\nprocess_cpu_seconds_total ",
        "\nprocess_resident_memory_bytes ",
        "\nprocess_open_fds ",
        "\nprocess_start_time_seconds ",
    ] {
        assert!(response.contains(needle), "{needle}: {response}");
    }
}

#[test]
fn one_client_writes_while_another_follows() {
    let Some(file) = mrt("routeviews.route-views.jinx.updates.1427846400.bz2") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "live"]);
    let mut reader = Command::new(crate::util::BGPMON)
        .args(["read", "captures", "live", "--follow", "--format", "json"])
        .env("BGPMON_ADDR", &d.addr)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = reader.stdout.take().unwrap();
    let writer = {
        let addr = d.addr.clone();
        std::thread::spawn(move || {
            Command::new(crate::util::BGPMON)
                .args(["write", "captures", "live", file.to_str().unwrap()])
                .env("BGPMON_ADDR", addr)
                .output()
                .unwrap()
        })
    };
    let mut seen = 0;
    let mut last_time = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["collector"], "route-views.jinx");
        last_time = last_time.max(v["timestamp_us"].as_u64().unwrap());
        seen += 1;
        if seen == 1756 {
            break;
        }
    }
    assert_eq!(
        seen, 1756,
        "the follower saw every capture the writer stored"
    );
    assert_eq!(
        last_time, 1_427_847_270_000_000,
        "the last capture is at 00:14:30"
    );
    let _ = reader.kill();
    let _ = reader.wait();
    assert!(writer.join().unwrap().status.success());
}
