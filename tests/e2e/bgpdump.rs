//! `bgpmon read captures --format bgpdump` against `bgpdump -m` itself
//! (Debian's bgpdump 1.6, installed by `scripts/setup.sh`), byte for byte,
//! on every file of `../shared/data/mrt`.
//!
//! bgpdump's `A`, `W` and `B` lines are the expected output; its `STATE`
//! lines are left out, since state changes are not stored. The store
//! returns captures in time order, ties in write order, so the expected
//! lines are sorted by their timestamp with a stable sort: lines of one
//! record share a timestamp and keep bgpdump's order. (Every shared file is
//! already in time order, so the sort moves nothing today.) Where either
//! side stops early on a truncated file, the lines both have are compared.

use std::path::Path;
use std::process::Command;

use crate::util::{Daemon, shared_mrt, skip};

/// Every MRT file of `../shared/data/mrt`, each checked by its own test
/// below; [`every_shared_file_has_a_test`] fails when one is added without
/// a test.
const FILES: [&str; 12] = [
    "pch-as3856.bgp4mp-et.fullfeed.20151023.gz",
    "ris-rrc00.updates.20190101.0000.gz",
    "ris-rrc21.updates.20160811.1600.gz",
    "ris.bview.20190417.0800.2peers.gz",
    "ris.rrc06.updates.1427846400.gz",
    "routeviews-route-views2.rib.20140523.0600.first1MB.complete.bz2",
    "routeviews-route-views2.rib.20140523.0600.first1MB.truncated.bz2",
    "routeviews-route-views2.updates.20130101.0013.mrt",
    "routeviews-route-views2.updates.20260222.1530.bz2",
    "routeviews-route-views6.rib.20151101.0600.first1MB.complete.bz2",
    "routeviews-route-views6.rib.20151101.0600.first1MB.truncated.bz2",
    "routeviews.route-views.jinx.updates.1427846400.bz2",
];

/// bgpdump's element lines for `path`, and whether it stopped early (it
/// logs an error, such as "incomplete dump record", and ends); `None`
/// after a visible skip line when bgpdump is not installed.
fn bgpdump(path: &Path) -> Option<(Vec<String>, bool)> {
    let output = match Command::new("bgpdump")
        .arg("-v")
        .arg("-m")
        .arg(path)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            skip(&format!(
                "bgpdump is not installed (scripts/setup.sh installs it), so {} was not compared",
                path.display()
            ));
            return None;
        }
        Err(e) => panic!("cannot run bgpdump: {e}"),
    };
    assert!(
        output.status.success(),
        "bgpdump failed on {}",
        path.display()
    );
    let stopped = String::from_utf8_lossy(&output.stderr).contains("[error]");
    let mut lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|line| matches!(line.split('|').nth(2), Some("A" | "W" | "B")))
        .map(str::to_owned)
        .collect();
    lines.sort_by_key(|line| timestamp_us(line));
    Some((lines, stopped))
}

/// The timestamp of a bgpdump line in microseconds: `secs` or
/// `secs.micros` (BGP4MP_ET), its second field.
fn timestamp_us(line: &str) -> u64 {
    let field = line.split('|').nth(1).unwrap();
    let (secs, micros) = field.split_once('.').unwrap_or((field, "0"));
    secs.parse::<u64>().unwrap() * 1_000_000 + micros.parse::<u64>().unwrap()
}

/// Loads `file` into a session, reads it back as bgpdump lines, and
/// compares them with bgpdump's own, line by line.
fn same_lines_as_bgpdump(file: &str) {
    let Some(dir) = shared_mrt() else {
        skip(&format!(
            "../shared/data/mrt is not here, so {file} was not compared"
        ));
        return;
    };
    let path = dir.join(file);
    let Some((expected, bgpdump_stopped)) = bgpdump(&path) else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let write = d.cli(&["write", "captures", "s", path.to_str().unwrap()]);
    let write_err = String::from_utf8_lossy(&write.stderr);
    let we_stopped = !write.status.success();
    assert!(
        !we_stopped || write_err.contains("reading stopped at byte "),
        "{file}: write failed:\n{write_err}"
    );
    let got = d.ok(&["read", "captures", "s", "--format", "bgpdump"]);
    let got: Vec<&str> = got.lines().collect();

    if let Some(i) = (0..expected.len().min(got.len())).find(|&i| expected[i] != got[i]) {
        panic!(
            "{file}: line {} differs\nbgpdump: {}\nbgpmon:  {}",
            i + 1,
            expected[i],
            got[i]
        );
    }
    if bgpdump_stopped || we_stopped {
        eprintln!(
            "{file}: stopped early (bgpdump: {bgpdump_stopped}, bgpmon: {we_stopped}); \
             compared the {} lines both have (bgpdump {}, bgpmon {})",
            expected.len().min(got.len()),
            expected.len(),
            got.len()
        );
    } else {
        assert_eq!(
            got.len(),
            expected.len(),
            "{file}: bgpmon printed {} lines, bgpdump {}",
            got.len(),
            expected.len()
        );
    }
    assert!(!got.is_empty(), "{file}: nothing was compared");
}

#[test]
fn every_shared_file_has_a_test() {
    let Some(dir) = shared_mrt() else {
        skip("../shared/data/mrt is not here");
        return;
    };
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "SOURCES.md")
        .collect();
    files.sort();
    let mut ours = FILES.map(str::to_owned).to_vec();
    ours.sort();
    assert_eq!(files, ours, "add a test below for each new MRT file");
}

macro_rules! bgpdump_tests {
    ($($name:ident => $index:literal,)*) => {
        $(
            #[test]
            fn $name() {
                same_lines_as_bgpdump(FILES[$index]);
            }
        )*
    };
}

bgpdump_tests! {
    pch_bgp4mp_et_full_table => 0,
    ris_rrc00_updates => 1,
    ris_rrc21_ipv4_over_ipv6_sessions => 2,
    ris_bview_both_families => 3,
    ris_rrc06_updates => 4,
    route_views2_rib_complete => 5,
    route_views2_rib_truncated => 6,
    route_views2_2013_as2_and_as4 => 7,
    route_views2_bgp4mp_et_updates => 8,
    route_views6_rib_complete => 9,
    route_views6_rib_truncated => 10,
    jinx_updates => 11,
}
