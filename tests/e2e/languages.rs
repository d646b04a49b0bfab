//! Modules written in languages other than Rust, built by tests/modules'
//! build script and run by a real daemon over a shared MRT file. Their
//! answers are checked against counts this test makes from the CLI's JSON
//! output, apart from the module.

use std::collections::BTreeMap;

use bgpmon_test_modules as guests;

use crate::util::{Daemon, mrt, skip};

/// A daemon with `wasm` in its module directory and `file` loaded into
/// session `s`.
fn daemon_with(wasm: &str, file: &std::path::Path) -> Daemon {
    let d = Daemon::start(&[wasm]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    d
}

/// `module run TYPE ID --opt session=s [--opt OPT]... --wait`, with the
/// grant of `s` when `granted`: the exit status and the printed status.
fn run(d: &Daemon, module_type: &str, id: &str, opts: &[&str], granted: bool) -> (i32, String) {
    let mut args = vec!["module", "run", module_type, id, "--opt", "session=s"];
    for opt in opts {
        args.extend(["--opt", opt]);
    }
    if granted {
        args.extend(["--grant", "s"]);
    }
    args.push("--wait");
    let out = d.cli(&args);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// A run that finishes: its printed status.
fn finished(d: &Daemon, module_type: &str, id: &str, opts: &[&str]) -> String {
    let (code, status) = run(d, module_type, id, opts, true);
    assert_eq!(code, 0, "{status}");
    assert!(status.contains("state: finished\n"), "{status}");
    status
}

/// A run that fails, and so exits 1 as a Rust module's failure does: its
/// printed status.
fn failed(d: &Daemon, module_type: &str, id: &str, opts: &[&str], granted: bool) -> String {
    let (code, status) = run(d, module_type, id, opts, granted);
    assert_eq!(code, 1, "{status}");
    status
}

/// Every capture of session `s` of `d`, from `read captures --format json`.
fn captures(d: &Daemon) -> Vec<serde_json::Value> {
    d.ok(&["read", "captures", "s", "--format", "json"])
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The fields of each `kind` finding of a printed status, by name.
fn finding_fields(status: &str, kind: &str) -> Vec<BTreeMap<String, String>> {
    let prefix = format!("finding: [{kind}] ");
    status
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|l| {
            l[l.rfind('(').unwrap() + 1..l.len() - 1]
                .split(' ')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k.to_owned(), v.to_owned())
                })
                .collect()
        })
        .collect()
}

/// Announcements per (family, prefix length), counted from `read captures
/// --format json`: the oracle.
fn prefix_lengths(d: &Daemon) -> BTreeMap<(String, u8), u64> {
    let mut counts = BTreeMap::new();
    for v in captures(d) {
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
    finding_fields(status, "prefix-length")
        .into_iter()
        .map(|f| {
            (
                (f["family"].clone(), f["length"].parse().unwrap()),
                f["announcements"].parse().unwrap(),
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
    let d = daemon_with(wasm, &file);
    let status = finished(&d, "prefix-lengths", "lengths", &[]);
    let expected = prefix_lengths(&d);
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
    let bad = failed(&d, "prefix-lengths", "bad", &["batch=0"], true);
    assert!(
        bad.contains("reason: error returned: option batch must be a positive integer, not \"0\""),
        "{bad}"
    );
    let denied = failed(&d, "prefix-lengths", "denied", &[], false);
    assert!(
        denied.contains("reason: error returned: denied: "),
        "{denied}"
    );
}

/// Per community (`AS:VALUE` or `G:L1:L2`), the announcements carrying it,
/// and how many announcements there were and how many carried any,
/// counted from `read captures --format json`: the oracle.
fn communities(d: &Daemon) -> (BTreeMap<String, u64>, u64, u64) {
    let (mut counts, mut announcing, mut tagged) = (BTreeMap::new(), 0, 0);
    for v in captures(d) {
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
    let d = daemon_with(wasm, &file);
    let status = finished(&d, "community-stats", "communities", &["top=5"]);

    let (counts, announcing, tagged) = communities(&d);
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

    let bad = failed(&d, "community-stats", "bad", &["top=none"], true);
    assert!(
        bad.contains("reason: error returned: option top must be a positive integer, not 'none'"),
        "{bad}"
    );
    let denied = failed(&d, "community-stats", "denied", &[], false);
    assert!(
        denied.contains("reason: error returned: denied: module \"denied\" was not granted"),
        "{denied}"
    );
}

/// Announcements per AS path length (RFC 4271: each AS of a sequence, one
/// per set, none for confederation segments), counted from `read captures
/// --format json`: the oracle.
fn path_lengths(d: &Daemon) -> BTreeMap<u64, u64> {
    let mut counts = BTreeMap::new();
    for v in captures(d) {
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
    let d = daemon_with(wasm, &file);
    let status = finished(&d, "path-lengths", "paths", &[]);
    let expected = path_lengths(&d);
    assert!(
        expected.keys().all(|&length| length < 64),
        "no path reaches the module's last bucket"
    );
    let found: BTreeMap<u64, u64> = finding_fields(&status, "path-length")
        .into_iter()
        .map(|f| {
            (
                f["length"].parse().unwrap(),
                f["announcements"].parse().unwrap(),
            )
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

    let denied = failed(&d, "path-lengths", "denied", &[], false);
    assert!(
        denied.contains("reason: error returned: denied: module \"denied\" was not granted"),
        "{denied}"
    );
}
