//! A task that panics.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct Panic;

impl Module for Panic {
    fn info() -> ModuleInfo {
        ModuleInfo::task("panic", "Panics with a known message")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        panic!("deliberate test panic");
    }
}

bgpmon_guest::export_module!(Panic);
