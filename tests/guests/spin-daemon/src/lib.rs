//! A daemon that burns CPU until it is asked to stop, for fuel-rate tests.

use std::hint::black_box;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult, runtime};

struct SpinDaemon;

impl Module for SpinDaemon {
    fn info() -> ModuleInfo {
        ModuleInfo::daemon("spin-daemon", "Burns CPU until stopped")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        let mut x = 0u64;
        let mut rounds = 0u64;
        while !runtime::stop_requested() {
            for _ in 0..100_000 {
                x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            rounds += 1;
        }
        Ok(RunResult::message(format!("{rounds} rounds")))
    }
}

bgpmon_guest::export_module!(SpinDaemon);
