//! A Python grpcio client, with stubs generated from the repository's
//! `.proto` during the test, reads captures through the API and cancels a
//! write.

use std::path::Path;
use std::process::Command;

use crate::util::{Daemon, mrt};

/// Generates the Python stubs from the repository's `.proto` into a
/// temporary folder.
fn stubs() -> tempfile::TempDir {
    let check = Command::new("python3")
        .args(["-c", "import grpc, grpc_tools"])
        .output()
        .expect("python3 runs");
    assert!(
        check.status.success(),
        "grpcio and grpcio-tools are missing; run scripts/setup.sh\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stubs = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .args(["-m", "grpc_tools.protoc", "-I"])
        .arg(root.join("runtime/proto/proto"))
        .arg(format!("--python_out={}", stubs.path().display()))
        .arg(format!("--grpc_python_out={}", stubs.path().display()))
        .arg("bgpmon/v1/bgpmon.proto")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    stubs
}

#[test]
fn a_python_grpc_client_reads_captures() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let stubs = stubs();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    let expected = d.ok(&["read", "count", "s", "--origin", "35226"]);
    let first = d.ok(&[
        "read", "captures", "s", "--origin", "35226", "--format", "json",
    ]);
    let first: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();

    let out = Command::new("python3")
        .arg(root.join("tests/e2e/python/read_captures.py"))
        .arg(stubs.path())
        .arg(&d.addr)
        .arg("s")
        .arg("35226")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(format!("{}\n", lines[0]), expected);
    let prefixes: Vec<&str> = first["advertised"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        lines[1],
        format!("rrc06 {} {}", first["peer_as"], prefixes.join(" "))
    );
    assert_eq!(
        lines[2], "NOT_FOUND",
        "errors reach Python as gRPC status codes"
    );
}

/// Issue 8, vector 8: a grpcio client that cancelled its `WriteCaptures`
/// call after 30 unflushed captures got all 30 committed. Only a flush
/// commits: the cancelled call keeps its flushed 10, and a stream that ends
/// without a flush stores nothing.
#[test]
fn issue_8_a_python_client_that_cancels_a_write_keeps_only_its_flushes() {
    let stubs = stubs();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "w"]);
    let out = Command::new("python3")
        .arg(root.join("tests/e2e/python/write_cancel.py"))
        .arg(stubs.path())
        .arg(&d.addr)
        .arg("w")
        .arg(&d.metrics)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "10\nCANCELLED\n0\n10\n"
    );
    assert_eq!(d.ok(&["read", "count", "w"]), "10\n");
}
