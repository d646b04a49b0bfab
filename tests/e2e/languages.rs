//! Modules written in languages other than Rust, built by tests/modules'
//! build script and run by a real daemon over a shared MRT file. Their
//! answers are checked against counts this test makes from the CLI's JSON
//! output, apart from the module.

use std::collections::BTreeMap;

use bgpmon_test_modules as guests;

use crate::util::{Daemon, mrt, skip};

/// Announcements per (family, prefix length), counted from `read captures
/// --format json`: the oracle.
fn prefix_lengths(d: &Daemon, session: &str) -> BTreeMap<(String, u8), u64> {
    let out = d.ok(&["read", "captures", session, "--format", "json"]);
    let mut counts = BTreeMap::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for prefix in v["advertised"].as_array().unwrap() {
            let prefix = prefix.as_str().unwrap();
            let (address, length) = prefix.split_once('/').unwrap();
            let family = if address.contains(':') {
                "ipv6"
            } else {
                "ipv4"
            };
            *counts
                .entry((family.to_owned(), length.parse().unwrap()))
                .or_default() += 1;
        }
    }
    counts
}

/// The `prefix-length` findings of a printed status, as the oracle's map.
fn findings(status: &str) -> BTreeMap<(String, u8), u64> {
    status
        .lines()
        .filter_map(|l| l.strip_prefix("finding: [prefix-length] "))
        .map(|l| {
            let fields = &l[l.rfind('(').unwrap() + 1..l.len() - 1];
            let field = |name: &str| {
                fields
                    .split(' ')
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                    .unwrap()
                    .to_owned()
            };
            (
                (field("family"), field("length").parse().unwrap()),
                field("announcements").parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_javascript_module_counts_prefix_lengths() {
    let Some(wasm) = guests::PREFIX_LENGTHS_JS else {
        skip("componentize-qjs is not installed (scripts/setup.sh installs it)");
        return;
    };
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let d = Daemon::start(&[wasm]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    let status = d.ok(&[
        "module",
        "run",
        "prefix-lengths",
        "lengths",
        "--opt",
        "session=s",
        "--grant",
        "s",
        "--wait",
    ]);
    assert!(status.contains("state: finished\n"), "{status}");
    let expected = prefix_lengths(&d, "s");
    assert_eq!(findings(&status), expected);
    let family = |name: &str| -> u64 {
        expected
            .iter()
            .filter(|((f, _), _)| f == name)
            .map(|(_, n)| n)
            .sum()
    };
    assert!(family("ipv6") > 0, "the file has IPv6 announcements");
    assert!(
        status.contains(&format!(
            "result: 761 captures, {} IPv4 and {} IPv6 announcements\n",
            family("ipv4"),
            family("ipv6")
        )),
        "{status}"
    );
    let logs = d.ok(&["module", "logs", "lengths"]);
    assert!(logs.contains("INFO  read 761 captures"), "{logs}");

    // Its failures are a run's failures, and exit 1 as a Rust module's do.
    let failed = |args: &[&str]| -> String {
        let out = d.cli(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let bad = failed(&[
        "module",
        "run",
        "prefix-lengths",
        "bad",
        "--opt",
        "session=s",
        "--opt",
        "batch=0",
        "--grant",
        "s",
        "--wait",
    ]);
    assert!(
        bad.contains("reason: error returned: option batch must be a positive integer, not \"0\""),
        "{bad}"
    );
    let denied = failed(&[
        "module",
        "run",
        "prefix-lengths",
        "denied",
        "--opt",
        "session=s",
        "--wait",
    ]);
    assert!(
        denied.contains("reason: error returned: denied: "),
        "{denied}"
    );
}
