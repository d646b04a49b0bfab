//! `bgpmon write captures` on the real MRT files: every capture stored,
//! counts equal to `../shared/data/mrt/SOURCES.md`, and truncated files
//! stored up to their last whole record.

use crate::util::{Daemon, mrt};

/// Writes `file` into a fresh session and returns the daemon, the session
/// and the write command's stdout.
fn ingest(file: &str) -> Option<(Daemon, String)> {
    let path = mrt(file)?;
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let out = d.ok(&["write", "captures", "s", path.to_str().unwrap()]);
    Some((d, out))
}

fn count(d: &Daemon, extra: &[&str]) -> u64 {
    let mut args = vec!["read", "count", "s"];
    args.extend_from_slice(extra);
    d.ok(&args).trim().parse().unwrap()
}

/// The PSV element lines, after the header line.
fn psv_lines(d: &Daemon) -> usize {
    let psv = d.ok(&["read", "captures", "s", "--format", "psv"]);
    let mut lines = psv.lines();
    assert!(lines.next().unwrap().starts_with("type|timestamp|peer_ip|"));
    lines.count()
}

#[test]
fn ris_rrc00_updates() {
    let Some((d, out)) = ingest("ris-rrc00.updates.20190101.0000.gz") else {
        return;
    };
    assert!(
        out.contains(": 54107 captures stored from 54514 records"),
        "{out}"
    );
    assert_eq!(count(&d, &[]), 54_107);
    assert_eq!(psv_lines(&d), 150_389 + 9_559 + 2_173 + 453);
    assert_eq!(
        count(&d, &["--collector", "rrc00"]),
        54_107,
        "named from the file name"
    );
}

#[test]
fn route_views2_bgp4mp_et_updates() {
    let Some((d, _)) = ingest("routeviews-route-views2.updates.20260222.1530.bz2") else {
        return;
    };
    assert_eq!(count(&d, &[]), 49_220);
    assert_eq!(psv_lines(&d), 111_057 + 7_606);
    let json = d.ok(&[
        "read",
        "captures",
        "s",
        "--format",
        "json",
        "--end",
        "1771774201",
    ]);
    let with_micros = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["timestamp_us"].as_u64().unwrap() % 1_000_000 != 0)
        .count();
    assert!(with_micros > 0, "BGP4MP_ET keeps microseconds");
}

#[test]
fn route_views2_2013_mixed_as2_and_as4() {
    let Some((d, _)) = ingest("routeviews-route-views2.updates.20130101.0013.mrt") else {
        return;
    };
    assert_eq!(count(&d, &[]), 18_088);
    assert_eq!(psv_lines(&d), 42_997 + 4_465);
}

#[test]
fn small_files_and_a_rib_with_both_families() {
    for (file, captures, elems) in [
        (
            "ris.rrc06.updates.1427846400.gz",
            761,
            1_160 + 275 + 106 + 16,
        ),
        (
            "routeviews.route-views.jinx.updates.1427846400.bz2",
            1_756,
            8_149 + 11 + 440 + 11,
        ),
        ("ris.bview.20190417.0800.2peers.gz", 6_640, 6_640),
        (
            "ris-rrc21.updates.20160811.1600.gz",
            17_216,
            32_710 + 6_546 + 1_616 + 340,
        ),
    ] {
        let Some((d, _)) = ingest(file) else {
            return;
        };
        assert_eq!(count(&d, &[]), captures, "{file}");
        assert_eq!(psv_lines(&d), elems, "{file}");
        if file.contains("bview") {
            assert_eq!(count(&d, &["--rib"]), 6_640);
            assert_eq!(count(&d, &["--updates"]), 0);
            assert_eq!(count(&d, &["--prefix", "::/0", "--match", "more"]), 517);
        }
    }
}

#[test]
fn full_table_burst() {
    let Some((d, _)) = ingest("pch-as3856.bgp4mp-et.fullfeed.20151023.gz") else {
        return;
    };
    assert_eq!(count(&d, &[]), 89_679);
}

#[test]
fn complete_ribs_store_every_entry() {
    for (file, entries) in [
        (
            "routeviews-route-views2.rib.20140523.0600.first1MB.complete.bz2",
            270_005,
        ),
        (
            "routeviews-route-views6.rib.20151101.0600.first1MB.complete.bz2",
            149_578,
        ),
    ] {
        let Some((d, _)) = ingest(file) else {
            return;
        };
        assert_eq!(count(&d, &[]), entries, "{file}");
        assert_eq!(count(&d, &["--rib"]), entries, "{file}");
    }
}

#[test]
fn truncated_ribs_store_whole_records_and_fail() {
    for (file, collector) in [
        (
            "routeviews-route-views2.rib.20140523.0600.first1MB.truncated.bz2",
            "route-views2",
        ),
        (
            "routeviews-route-views6.rib.20151101.0600.first1MB.truncated.bz2",
            "route-views6",
        ),
    ] {
        let Some(path) = mrt(file) else {
            return;
        };
        let complete = mrt(&file.replace("truncated", "complete")).unwrap();
        let d = Daemon::start(&[]);
        d.ok(&["session", "open", "local", "--id", "s"]);
        let err = d.fails(&["write", "captures", "s", path.to_str().unwrap()]);
        assert!(err.contains("reading stopped at byte "), "{err}");
        assert!(err.contains(file), "{err}");
        let stored = count(&d, &[]);

        assert_eq!(count(&d, &["--collector", collector]), stored);
        // Sessions share their type's store: the complete file adds its own.
        d.ok(&["write", "captures", "s", complete.to_str().unwrap()]);
        let whole = count(&d, &[]) - stored;
        assert_eq!(
            stored, whole,
            "{file}: every whole record of the cut file is stored"
        );
    }
}

#[test]
fn collector_override_wins() {
    let Some(path) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&[
        "write",
        "captures",
        "s",
        path.to_str().unwrap(),
        "--collector",
        "tokyo",
    ]);
    assert_eq!(count(&d, &["--collector", "tokyo"]), 761);
    assert_eq!(count(&d, &["--collector", "rrc06"]), 0);
}

#[test]
fn a_configured_node_names_the_collector() {
    let Some(path) = mrt("ris.bview.20190417.0800.2peers.gz") else {
        return;
    };
    // The bview's collector BGP id is 179.0.156.33; its file name names no collector.
    let d = Daemon::start_with(
        &[],
        "[nodes.\"179.0.156.33\"]\nname = \"rrc24\"\ncollector = true\n",
    );
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", path.to_str().unwrap()]);
    assert_eq!(count(&d, &["--collector", "rrc24"]), 6_640);
}

#[test]
fn a_file_that_is_not_mrt_fails_with_its_name() {
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let junk = d.dir.path().join("junk.mrt");
    std::fs::write(&junk, b"this is not an MRT file at all, just text").unwrap();
    let err = d.fails(&["write", "captures", "s", junk.to_str().unwrap()]);
    assert!(err.contains("junk.mrt"), "{err}");
    assert_eq!(count(&d, &[]), 0);
    let err = d.fails(&["write", "captures", "s", "/nonexistent/file.gz"]);
    assert!(err.contains("/nonexistent/file.gz"), "{err}");
}
