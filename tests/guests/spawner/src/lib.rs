//! A task that runs another module and waits for it to end: modules
//! starting modules, within the `may-run-modules` grant.

use std::time::Duration;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult, modules, runtime};

struct Spawner;

impl Module for Spawner {
    fn info() -> ModuleInfo {
        ModuleInfo::task("spawner", "Runs another module and reports how it ended")
            .required_option("child-type", "the module type to run")
            .option("child-id", "the child's id", "child")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let child_type = options.require("child-type")?;
        let child_id = options.require("child-id")?;
        modules::run(child_type, child_id, [])?;
        loop {
            let state = modules::list()
                .into_iter()
                .find(|m| m.id == child_id)
                .map(|m| m.state)
                .ok_or_else(|| format!("child {child_id} is not listed"))?;
            if matches!(state.as_str(), "finished" | "failed" | "stopped") {
                return Ok(RunResult::message(format!("child {child_id} {state}")));
            }
            runtime::sleep(Duration::from_millis(10));
        }
    }
}

bgpmon_guest::export_module!(Spawner);
