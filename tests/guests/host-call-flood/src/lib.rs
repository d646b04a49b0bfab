//! A task that floods the host with cheap calls: through the bgpmon
//! runtime interface without end, or through WASI's clock `calls` times.
//! Each call is charged to its fuel, so its budget ends it.

use std::hint::black_box;
use std::time::Instant;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult, runtime};

struct HostCallFlood;

impl Module for HostCallFlood {
    fn info() -> ModuleInfo {
        ModuleInfo::task("host-call-flood", "Calls the host in a tight loop")
            .option(
                "via",
                "`runtime` (forever) or `wasi` (the clock)",
                "runtime",
            )
            .option("calls", "how many clock calls to make via WASI", "1000000")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        if options.require("via")? == "wasi" {
            let calls: u64 = options.parse("calls")?;
            for _ in 0..calls {
                black_box(Instant::now());
            }
            return Ok(RunResult::message(format!("made {calls} clock calls")));
        }
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
