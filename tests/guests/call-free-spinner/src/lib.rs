//! A daemon that spins without ever calling the host, not even to ask
//! whether it should stop: its fuel rate must hold all the same, and only a
//! forced stop ends it.

use std::hint::black_box;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct CallFreeSpinner;

impl Module for CallFreeSpinner {
    fn info() -> ModuleInfo {
        ModuleInfo::daemon(
            "call-free-spinner",
            "Spins forever without a host call, ignoring stop requests",
        )
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        let mut x = 0u64;
        loop {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

bgpmon_guest::export_module!(CallFreeSpinner);
