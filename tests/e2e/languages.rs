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

/// Per community (`AS:VALUE` or `G:L1:L2`), the announcements carrying it,
/// and how many announcements there were and how many carried any,
/// counted from `read captures --format json`: the oracle.
fn communities(d: &Daemon, session: &str) -> (BTreeMap<String, u64>, u64, u64) {
    let out = d.ok(&["read", "captures", session, "--format", "json"]);
    let (mut counts, mut announcing, mut tagged) = (BTreeMap::new(), 0, 0);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["advertised"].as_array().unwrap().is_empty() {
            continue;
        }
        announcing += 1;
        let list = v["communities"].as_array().unwrap();
        tagged += u64::from(!list.is_empty());
        for c in list {
            *counts.entry(c.as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    (counts, announcing, tagged)
}

#[test]
fn a_python_module_counts_communities() {
    let Some(wasm) = guests::COMMUNITY_STATS_PY else {
        skip("componentize-py is not installed (scripts/setup.sh installs it)");
        return;
    };
    let Some(file) = mrt("ris-rrc00.updates.20190101.0000.gz") else {
        return;
    };
    let d = Daemon::start(&[wasm]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    let status = d.ok(&[
        "module",
        "run",
        "community-stats",
        "communities",
        "--opt",
        "session=s",
        "--opt",
        "top=5",
        "--grant",
        "s",
        "--wait",
    ]);
    assert!(status.contains("state: finished\n"), "{status}");

    let (counts, announcing, tagged) = communities(&d, "s");
    let large = counts
        .keys()
        .filter(|c| c.matches(':').count() == 2)
        .count();
    assert!(large > 0, "the file has large communities");
    assert!(
        status.contains(&format!(
            "result: 54107 captures, {tagged} of {announcing} announcements with communities, {} standard and {large} large communities\n",
            counts.len() - large
        )),
        "{status}"
    );
    let mut ranked: Vec<(&String, &u64)> = counts.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let expected: Vec<String> = ranked[..5]
        .iter()
        .map(|(c, n)| {
            format!(
                "finding: [community-count] {c} on {n} announcements (announcements={n} community={c})"
            )
        })
        .collect();
    let found: Vec<&str> = status
        .lines()
        .filter(|l| l.starts_with("finding: "))
        .collect();
    assert_eq!(found, expected);

    let out = d.cli(&[
        "module",
        "run",
        "community-stats",
        "bad",
        "--opt",
        "session=s",
        "--opt",
        "top=none",
        "--grant",
        "s",
        "--wait",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let bad = String::from_utf8(out.stdout).unwrap();
    assert!(
        bad.contains("reason: error returned: option top must be a positive integer, not 'none'"),
        "{bad}"
    );
    let out = d.cli(&[
        "module",
        "run",
        "community-stats",
        "denied",
        "--opt",
        "session=s",
        "--wait",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let denied = String::from_utf8(out.stdout).unwrap();
    assert!(
        denied.contains("reason: error returned: denied: module \"denied\" was not granted"),
        "{denied}"
    );
}

/// Announcements per AS path length (RFC 4271: each AS of a sequence, one
/// per set, none for confederation segments), counted from `read captures
/// --format json`: the oracle.
fn path_lengths(d: &Daemon, session: &str) -> BTreeMap<u64, u64> {
    let out = d.ok(&["read", "captures", session, "--format", "json"]);
    let mut counts = BTreeMap::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["advertised"].as_array().unwrap().is_empty() {
            continue;
        }
        let length: u64 = v["as_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|segment| match segment["type"].as_str().unwrap() {
                "sequence" => segment["asns"].as_array().unwrap().len() as u64,
                "set" => 1,
                _ => 0,
            })
            .sum();
        *counts.entry(length).or_default() += 1;
    }
    counts
}

#[test]
fn a_c_module_counts_path_lengths() {
    let Some(wasm) = guests::PATH_LENGTHS_C else {
        skip("clang for wasm32-wasi is not installed (scripts/setup.sh installs it)");
        return;
    };
    let Some(file) = mrt("ris-rrc00.updates.20190101.0000.gz") else {
        return;
    };
    let d = Daemon::start(&[wasm]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    let status = d.ok(&[
        "module",
        "run",
        "path-lengths",
        "paths",
        "--opt",
        "session=s",
        "--grant",
        "s",
        "--wait",
    ]);
    assert!(status.contains("state: finished\n"), "{status}");
    let expected = path_lengths(&d, "s");
    assert!(
        expected.keys().all(|&length| length < 64),
        "no path reaches the module's last bucket"
    );
    let found: BTreeMap<u64, u64> = status
        .lines()
        .filter_map(|l| l.strip_prefix("finding: [path-length] "))
        .map(|l| {
            let fields = &l[l.rfind('(').unwrap() + 1..l.len() - 1];
            let field = |name: &str| -> u64 {
                fields
                    .split(' ')
                    .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            (field("length"), field("announcements"))
        })
        .collect();
    assert_eq!(found, expected);
    let announcements: u64 = expected.values().sum();
    let total: u64 = expected.iter().map(|(length, n)| length * n).sum();
    let hundredths = total * 100 / announcements;
    assert!(
        status.contains(&format!(
            "result: 54107 captures, {announcements} announcements, mean path length {}.{:02}, longest {}\n",
            hundredths / 100,
            hundredths % 100,
            expected.keys().last().unwrap()
        )),
        "{status}"
    );

    let out = d.cli(&[
        "module",
        "run",
        "path-lengths",
        "denied",
        "--opt",
        "session=s",
        "--wait",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let denied = String::from_utf8(out.stdout).unwrap();
    assert!(
        denied.contains("reason: error returned: denied: module \"denied\" was not granted"),
        "{denied}"
    );
}
