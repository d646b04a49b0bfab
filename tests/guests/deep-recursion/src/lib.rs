//! A task that recurses without end, to exhaust the host's stack cap.

use std::hint::black_box;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct DeepRecursion;

/// Recurses without end. Its frame holds scalars only, so it lives on the
/// engine's native stack, not in linear memory, and the host's stack cap
/// is what stops it; `black_box` keeps the optimiser from making a loop.
fn descend(n: u64) -> u64 {
    if black_box(n) == u64::MAX {
        return n;
    }
    black_box(descend(black_box(n + 1))) ^ n
}

impl Module for DeepRecursion {
    fn info() -> ModuleInfo {
        ModuleInfo::task("deep-recursion", "Recurses until the stack runs out")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        Ok(RunResult::message(format!("{}", descend(0))))
    }
}

bgpmon_guest::export_module!(DeepRecursion);
