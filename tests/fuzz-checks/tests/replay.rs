//! Replays every committed fuzz input on stable Rust: the seed corpus in
//! `fuzz/corpus/<target>/` and the crashers kept in
//! `fuzz/regressions/<target>/`, each through its target's check. With
//! `../shared` present, the head of each shared MRT file goes through the
//! MRT check too; without it that test is a counted skip.

#![allow(clippy::expect_used, reason = "a test reports failure by panicking")]

use std::path::{Path, PathBuf};

use bgpmon_fuzz_checks::TARGETS;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn inputs(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_committed_input_passes_its_targets_check() {
    for (target, check) in TARGETS {
        let seeds = inputs(&repo().join("fuzz/corpus").join(target));
        assert!(!seeds.is_empty(), "fuzz/corpus/{target} has no seed");
        let accepted = seeds
            .iter()
            .filter(|file| check(&std::fs::read(file).expect("a readable seed")))
            .count();
        assert!(
            accepted > 0,
            "no seed of {target} gets past its decoder, so none reaches the deeper checks"
        );
        let crashers = inputs(&repo().join("fuzz/regressions").join(target));
        for file in &crashers {
            check(&std::fs::read(file).expect("a readable crasher"));
        }
        println!(
            "{target}: {} seeds, {} regressions",
            seeds.len(),
            crashers.len()
        );
    }
}

#[test]
fn the_head_of_each_shared_mrt_file_passes_the_mrt_check() {
    let Some(shared) = bgpmon_test_support::shared_mrt() else {
        bgpmon_test_support::skip("../shared/data/mrt is not here");
        return;
    };
    let files: Vec<PathBuf> = inputs(&shared)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    for file in files {
        let mut data = std::fs::read(&file).expect("a readable MRT file");
        data.truncate(256 * 1024);
        assert!(
            bgpmon_fuzz_checks::mrt(&data),
            "{} yields no capture",
            file.display()
        );
    }
}
