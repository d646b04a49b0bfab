//! What bgpmon's test suites share: where the shared MRT files are, and a
//! skip that `scripts/test.sh` counts apart from passes.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a test helper reports failure by panicking"
)]

use std::io::Write;
use std::path::PathBuf;

/// The shared MRT folder (`../shared/data/mrt` beside the checkout), when
/// it is there.
pub fn shared_mrt() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/mrt"
    ));
    dir.is_dir().then_some(dir)
}

/// Records that the running test cannot run, for `reason` (missing
/// `../shared` data or a tool `scripts/setup.sh` installs): prints
/// `SKIPPED: <test>: <reason>` to stderr and appends that line to the file
/// `BGPMON_SKIP_LOG` names, which `scripts/test.sh` counts apart from
/// passes.
///
/// # Panics
///
/// With `CI=true`, where every test must run; or if the skip log cannot be
/// written.
pub fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed test)")
        .to_owned();
    let line = format!("SKIPPED: {test}: {reason}");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{line}; with CI=true every test must run, so give the checkout its ../shared");
    }
    eprintln!("{line}");
    if let Some(path) = std::env::var_os("BGPMON_SKIP_LOG") {
        let mut log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .expect("a writable skip log");
        writeln!(log, "{line}").expect("a writable skip log");
    }
}
