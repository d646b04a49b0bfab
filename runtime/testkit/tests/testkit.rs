//! The test kit on the example and test guests: known answers, a fuel
//! budget that fails on a regression, and limits reached.

use bgpmon_test_modules as guests;
use bgpmon_testkit::{EntityFormat, ModuleTest, State};

/// What `origin-stats` may spend on the rrc06 file: about 3.1 M fuel was
/// measured when it began to read columns (8.8 M reading records); a
/// change that costs a fifth more fails.
const ORIGIN_STATS_FUEL_BUDGET: u64 = 3_700_000;

/// A run of `wasm` whose compiled component is cached in the target dir.
fn test_of(wasm: &str) -> ModuleTest {
    ModuleTest::new(wasm).cache_dir(Some(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("testkit-cache"),
    ))
}

fn rrc06() -> Option<std::path::PathBuf> {
    let Some(dir) = bgpmon_test_support::shared_mrt() else {
        bgpmon_test_support::skip("../shared/data/mrt is missing");
        return None;
    };
    Some(dir.join("ris.rrc06.updates.1427846400.gz"))
}

#[test]
fn origin_stats_gives_its_known_answer_within_its_fuel_budget() {
    let Some(file) = rrc06() else { return };
    let report = test_of(guests::ORIGIN_STATS)
        .mrt(file)
        .option("top", "3")
        .run()
        .unwrap();
    assert!(report.finished(), "{report:?}");
    assert_eq!(report.type_name, "origin-stats");
    let message = report.message.as_deref().unwrap();
    assert!(message.starts_with("761 captures, "), "{message}");
    assert_eq!(report.records_read, 761);
    assert_eq!(report.findings.len(), 3);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.kind == "origin-prefix-count" && f.fields.contains_key("origin")),
        "{:?}",
        report.findings
    );
    assert!(
        report.fuel_used <= ORIGIN_STATS_FUEL_BUDGET,
        "fuel regression: {} over the budget of {ORIGIN_STATS_FUEL_BUDGET}",
        report.fuel_used
    );
    assert_eq!(report.build.len(), 64, "a sha256 in hex");
}

#[test]
fn a_daemon_reads_the_files_as_they_load_and_stops_when_idle() {
    let Some(file) = rrc06() else { return };
    let report = test_of(guests::EXAMPLE_DAEMON)
        .mrt(file)
        .idle(std::time::Duration::from_millis(300))
        .run()
        .unwrap();
    assert_eq!(report.state, State::Stopped, "{report:?}");
    assert_eq!(report.records_read, 761);
    assert_eq!(
        report.logs.last().map(String::as_str),
        Some("stopping after 761 captures")
    );
}

#[test]
fn a_limit_reached_is_a_failed_report_naming_it() {
    let report = test_of(guests::SPIN_FOREVER).fuel(5_000_000).run().unwrap();
    let State::Failed(reason) = &report.state else {
        panic!("expected a failure: {report:?}");
    };
    assert!(reason.contains("out of fuel"), "{reason}");
    assert!(
        (5_000_000..5_500_000).contains(&report.fuel_used),
        "{}",
        report.fuel_used
    );

    let report = test_of(guests::MEMORY_HOG)
        .memory_bytes(8 << 20)
        .run()
        .unwrap();
    assert!(
        matches!(&report.state, State::Failed(r) if r.contains("memory")),
        "{report:?}"
    );
    assert!(report.memory_bytes <= 8 << 20);
}

#[test]
fn bad_setups_are_errors_naming_the_problem() {
    let err = test_of(guests::NOOP)
        .option("colour", "blue")
        .run()
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown option \"colour\""), "{err}");
    let err = test_of("/nonexistent/module.wasm")
        .run()
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/module.wasm"), "{err}");
}

#[test]
fn entities_load_in_their_format_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let pfx2as = dir.path().join("pfx2as.txt");
    std::fs::write(&pfx2as, "192.0.2.0\t24\t64500\n198.51.100.0\t24\t64501\n").unwrap();
    let report = test_of(guests::NOOP)
        .entities(&pfx2as, EntityFormat::Pfx2as)
        .run()
        .unwrap();
    assert!(report.finished(), "{report:?}");

    let json = dir.path().join("not-pfx2as.json");
    std::fs::write(
        &json,
        r#"[{"name": "x", "contact": "", "origin_ases": [], "prefixes": []}]"#,
    )
    .unwrap();
    let err = test_of(guests::NOOP)
        .entities(&json, EntityFormat::Pfx2as)
        .run()
        .unwrap_err();
    assert!(format!("{err:#}").contains("not-pfx2as.json"), "{err:#}");
}
