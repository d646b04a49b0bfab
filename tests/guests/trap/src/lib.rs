//! A task that aborts on purpose, which on wasm32 is the `unreachable`
//! instruction: a plain trap, no panic message.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct Trap;

impl Module for Trap {
    fn info() -> ModuleInfo {
        ModuleInfo::task("trap", "Executes an unreachable instruction")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        std::process::abort()
    }
}

bgpmon_guest::export_module!(Trap);
