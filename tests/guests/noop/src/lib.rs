//! A task that does nothing: the baseline for start-up cost.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct Noop;

impl Module for Noop {
    fn info() -> ModuleInfo {
        ModuleInfo::task("noop", "Returns at once")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        Ok(RunResult::message("ok"))
    }
}

bgpmon_guest::export_module!(Noop);
