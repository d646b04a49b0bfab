//! A task that floods the host with cheap calls and never stops: each call
//! is charged to its fuel, so its budget ends it.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult, runtime};

struct HostCallFlood;

impl Module for HostCallFlood {
    fn info() -> ModuleInfo {
        ModuleInfo::task("host-call-flood", "Calls the host in a tight loop")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        let mut calls = 0u64;
        loop {
            // Ignores the answer: a stop does not end it either.
            let _ = runtime::stop_requested();
            calls += 1;
            if calls == u64::MAX {
                return Ok(RunResult::message("unreachable"));
            }
        }
    }
}

bgpmon_guest::export_module!(HostCallFlood);
