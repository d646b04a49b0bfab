//! `bgpmon module test`: a module run in the CLI's own process, with no
//! daemon, on files loaded into a temporary store, under production limits.
//!
//! The oracle is a real daemon running the same component over the same
//! file: both must report the same result, findings and records read.

use std::process::{Command, Output};

use bgpmon_test_modules as guests;

use crate::util::{BGPMON, Daemon, mrt};

/// Runs `bgpmon module test` with `args` and no daemon to reach: the
/// address points at a port nothing listens on.
fn module_test(args: &[&str]) -> Output {
    Command::new(BGPMON)
        .args(["module", "test"])
        .args(args)
        .env("BGPMON_ADDR", "127.0.0.1:1")
        .env(
            "BGPMON_CACHE_DIR",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bgpmon-e2e-cache"),
        )
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The `name=value` counters of a printed status.
fn counter(status: &str, name: &str) -> u64 {
    let line = status
        .lines()
        .find(|l| l.starts_with("counters: "))
        .unwrap_or_else(|| panic!("no counters in {status}"));
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        .parse()
        .unwrap()
}

/// The result and finding lines of a printed status.
fn outcome(status: &str) -> Vec<&str> {
    status
        .lines()
        .filter(|l| l.starts_with("result: ") || l.starts_with("finding: "))
        .collect()
}

#[test]
fn a_task_reports_what_a_daemon_run_of_it_reports() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let file = file.to_str().unwrap();
    let out = module_test(&[guests::ORIGIN_STATS, "--mrt", file, "--opt", "top=3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tested = stdout(&out);
    assert!(tested.contains("module origin-stats, build "), "{tested}");
    assert!(tested.contains("type: origin-stats (task)\n"), "{tested}");
    assert!(tested.contains(": 761 captures stored from "), "{tested}");
    assert!(tested.contains("state: finished\n"), "{tested}");

    let d = Daemon::start(&[guests::ORIGIN_STATS]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", file]);
    let run = d.ok(&[
        "module",
        "run",
        "origin-stats",
        "stats",
        "--opt",
        "session=s",
        "--opt",
        "top=3",
        "--grant",
        "s",
        "--wait",
    ]);
    assert_eq!(outcome(&tested), outcome(&run));
    assert!(outcome(&tested)[0].starts_with("result: 761 captures, "));
    assert_eq!(counter(&tested, "records_read"), 761);
    assert_eq!(
        counter(&tested, "records_read"),
        counter(&run, "records_read")
    );
    assert!(counter(&tested, "fuel_used") > 0);
    assert!(counter(&tested, "memory_bytes") > 0);
    assert!(counter(&tested, "host_calls") > 0);
}

#[test]
fn a_daemon_sees_the_files_load_and_is_stopped_when_idle() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let out = module_test(&[
        guests::EXAMPLE_DAEMON,
        "--mrt",
        file.to_str().unwrap(),
        "--opt",
        "report-every=100",
        "--idle-ms",
        "500",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("state: stopped\n"), "{text}");
    assert!(text.contains("INFO  watching session test\n"), "{text}");
    assert!(
        text.contains("INFO  stopping after 761 captures\n"),
        "{text}"
    );
    assert_eq!(counter(&text, "records_read"), 761);
}

#[test]
fn failures_and_limits_exit_1_naming_the_cause() {
    let out = module_test(&[guests::TRAP]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("state: failed\n"));
    assert!(
        stderr(&out).contains("error: module trap-test failed: trap: "),
        "{}",
        stderr(&out)
    );

    let out = module_test(&[guests::SPIN_FOREVER, "--fuel", "10000000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("out of fuel"), "{}", stderr(&out));
    let fuel = counter(&stdout(&out), "fuel_used");
    assert!(
        (10_000_000..11_000_000).contains(&fuel),
        "a task stops at its fuel: {fuel}"
    );

    let out = module_test(&[guests::MEMORY_HOG, "--memory-mb", "16"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("memory"), "{}", stderr(&out));
    assert!(counter(&stdout(&out), "memory_bytes") <= 16 << 20);

    let out = module_test(&[guests::NOOP, "--opt", "colour=blue"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown option \"colour\"; this type takes no options"),
        "{}",
        stderr(&out)
    );

    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), b"\0asm\x01\0\0\0junk").unwrap();
    let out = module_test(&[junk.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a valid WebAssembly component"),
        "{}",
        stderr(&out)
    );

    let out = module_test(&[guests::NOOP, "--mrt", "/nonexistent/file.mrt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/file.mrt"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn entity_files_load_before_the_run_and_a_bad_one_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("entities.json");
    std::fs::write(
        &good,
        r#"[{"name": "example", "contact": "noc@example.net", "origin_ases": [64500], "prefixes": ["192.0.2.0/24"]},
            {"name": "other", "contact": "", "origin_ases": [64501], "prefixes": []}]"#,
    )
    .unwrap();
    let out = module_test(&[guests::NOOP, "--entities", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("{}: 2 of 2 entities stored\n", good.display())),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("state: finished\n"));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"name\": 7}]").unwrap();
    let out = module_test(&[guests::NOOP, "--entities", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(bad.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("state: "),
        "the module does not run on data that did not load"
    );
}
