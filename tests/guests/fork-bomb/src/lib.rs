//! A task that tries to escape its family: it starts `fan-out` copies of
//! itself, each of which does the same down to `depth` levels, holds
//! `hold-mb` MiB of memory, tries to start a daemon, to close a module
//! that is not its own (`victim`), to take over that module's id, and then
//! waits without end, ignoring stop requests. Every refusal is logged.

use std::hint::black_box;
use std::time::Duration;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult, log, modules, runtime};

struct ForkBomb;

impl Module for ForkBomb {
    fn info() -> ModuleInfo {
        ModuleInfo::task("fork-bomb", "Starts copies of itself without end")
            .option("depth", "how many more levels to start", "6")
            .option("fan-out", "how many copies each level starts", "3")
            .option("hold-mb", "MiB of memory each copy holds", "8")
            .option(
                "daemon-type",
                "a daemon type to try to start",
                "call-free-spinner",
            )
            .option("victim", "a module id that is not this module's", "victim")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let depth: u32 = options.parse("depth")?;
        let fan_out: u32 = options.parse("fan-out")?;
        let hold_mb: usize = options.parse("hold-mb")?;
        let held = black_box(vec![0x5Au8; hold_mb << 20]);
        let refused = |what: &str, e: bgpmon_guest::Error| {
            log::info(format!("{what} refused: {}", String::from(e)));
        };
        if depth > 0 {
            let next = (depth - 1).to_string();
            let fan = fan_out.to_string();
            let hold = hold_mb.to_string();
            for i in 0..fan_out {
                let id = format!("c{i}");
                let child_options = [
                    ("depth", next.as_str()),
                    ("fan-out", fan.as_str()),
                    ("hold-mb", hold.as_str()),
                ];
                match modules::run("fork-bomb", &id, child_options) {
                    Ok(()) => log::info(format!("started {id}")),
                    Err(e) => refused(&format!("run {id}"), e),
                }
            }
        }
        match modules::run(options.require("daemon-type")?, "d", []) {
            Ok(()) => log::info("started a daemon"),
            Err(e) => refused("daemon", e),
        }
        let victim = options.require("victim")?;
        match modules::close(victim) {
            Ok(()) => log::info(format!("closed {victim}")),
            Err(e) => refused("close", e),
        }
        match modules::run("fork-bomb", victim, [("depth", "0")]) {
            Ok(()) => log::info(format!("took the id {victim}")),
            Err(e) => refused("take", e),
        }
        let seen: Vec<String> = modules::list().into_iter().map(|m| m.id).collect();
        log::info(format!("sees {}", seen.join(",")));
        loop {
            // Ignores stop requests: only a forced stop ends it.
            runtime::sleep(Duration::from_millis(50));
            black_box(&held);
        }
    }
}

bgpmon_guest::export_module!(ForkBomb);
