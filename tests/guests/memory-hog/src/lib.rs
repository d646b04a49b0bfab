//! A task that allocates memory until something stops it.

use std::hint::black_box;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct MemoryHog;

impl Module for MemoryHog {
    fn info() -> ModuleInfo {
        ModuleInfo::task("memory-hog", "Allocates 1 MiB blocks without end")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        loop {
            blocks.push(vec![0xAB; 1 << 20]);
            black_box(&blocks);
        }
    }
}

bgpmon_guest::export_module!(MemoryHog);
