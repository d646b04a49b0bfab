//! A task that loops forever and never checks for a stop.

use std::hint::black_box;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct SpinForever;

impl Module for SpinForever {
    fn info() -> ModuleInfo {
        ModuleInfo::task("spin-forever", "Loops forever, ignoring stop requests")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        let mut x = 0u64;
        loop {
            x = black_box(x.wrapping_add(1));
        }
    }
}

bgpmon_guest::export_module!(SpinForever);
