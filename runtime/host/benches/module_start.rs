//! How long a module takes to load, in each language the examples are
//! written in: compiled from its `.wasm`, and started again from the
//! compiled-component cache.
//!
//! A load is what the daemon does at startup and on `module install`:
//! compile the component (or read its compiled form from the cache), link
//! it, instantiate it under the info limits and call its `info` export.
//! Each sample loads one component into a new `ModuleHost`, so nothing of
//! an earlier sample is in memory; the compile samples each start from an
//! empty cache folder, the cached samples from a folder the first load
//! filled. The cached start is reported against the compile, both
//! measured here in the same run on the same bytes.
//!
//! A language whose toolchain is not installed (`scripts/setup.sh`
//! installs them all) is reported as skipped.
//!
//! Run with `cargo bench -p bgpmon-host --bench module_start`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports failure by panicking"
)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bgpmon_host::{EngineOptions, HostConfig, ModuleHost, NoSessions};

const COMPILE_SAMPLES: usize = 3;
const CACHED_SAMPLES: usize = 7;

/// Each language's example: language, module, component (if built).
fn components() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    vec![
        (
            "Rust",
            "origin-stats",
            Some(bgpmon_test_modules::ORIGIN_STATS),
        ),
        ("Rust", "hijack", Some(bgpmon_test_modules::HIJACK)),
        ("C", "path-lengths-c", bgpmon_test_modules::PATH_LENGTHS_C),
        (
            "JavaScript",
            "prefix-lengths-js",
            bgpmon_test_modules::PREFIX_LENGTHS_JS,
        ),
        (
            "Python",
            "community-stats-py",
            bgpmon_test_modules::COMMUNITY_STATS_PY,
        ),
    ]
}

/// Loads `wasm` into a new host whose cache is `cache_dir`, and returns
/// how long the load took.
async fn load(wasm: &Path, cache_dir: &Path) -> Duration {
    let config = HostConfig {
        engine: EngineOptions {
            cache_dir: Some(cache_dir.to_path_buf()),
            ..EngineOptions::default()
        },
        ..HostConfig::default()
    };
    let host = ModuleHost::new(config, Arc::new(NoSessions)).unwrap();
    let start = Instant::now();
    host.load_file(wasm).await.unwrap();
    start.elapsed()
}

/// The fastest, median and slowest of `samples`.
fn spread(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        samples[0],
        samples[samples.len() / 2],
        samples[samples.len() - 1],
    )
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "bgpmon-host module start ({COMPILE_SAMPLES} compiles from an empty cache, {CACHED_SAMPLES} starts from the cache; min / median / max)"
    );
    println!(
        "{:<11} {:<19} {:>9} {:>26} {:>26} {:>7}",
        "language", "module", "size", "compile ms", "cached start ms", "ratio"
    );
    for (language, module, wasm) in components() {
        let Some(wasm) = wasm else {
            println!(
                "{language:<11} {module:<19} SKIPPED: its toolchain is not installed (scripts/setup.sh)"
            );
            continue;
        };
        let wasm = Path::new(wasm);
        let size = std::fs::metadata(wasm).unwrap().len();
        let (compiles, cached) = runtime.block_on(async {
            let mut compiles = Vec::with_capacity(COMPILE_SAMPLES);
            let warm = tempfile::tempdir().unwrap();
            for i in 0..COMPILE_SAMPLES {
                let cold = tempfile::tempdir().unwrap();
                // The first compile also fills the cache the starts use.
                let dir = if i == 0 { warm.path() } else { cold.path() };
                compiles.push(load(wasm, dir).await);
            }
            let mut cached = Vec::with_capacity(CACHED_SAMPLES);
            for _ in 0..CACHED_SAMPLES {
                cached.push(load(wasm, warm.path()).await);
            }
            (compiles, cached)
        });
        let (c_min, c_med, c_max) = spread(compiles);
        let (s_min, s_med, s_max) = spread(cached);
        println!(
            "{language:<11} {module:<19} {:>6} KB {:>26} {:>26} {:>7.3}",
            size / 1024,
            format!(
                "{:.1} / {:.1} / {:.1}",
                millis(c_min),
                millis(c_med),
                millis(c_max)
            ),
            format!(
                "{:.1} / {:.1} / {:.1}",
                millis(s_min),
                millis(s_med),
                millis(s_max)
            ),
            s_med.as_secs_f64() / c_med.as_secs_f64()
        );
    }
}
