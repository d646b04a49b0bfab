//! A daemon that opens as many capture readers on one session as the host
//! lets it, logs how many it holds and why the next was refused, then
//! sleeps holding them until it is asked to stop: the worker-starvation
//! vector. With `child`, it then starts a child of its own type on the same
//! session, which must find the family's allowance used up.

use std::time::Duration;

use bgpmon_guest::{
    Filter, Module, ModuleInfo, Options, RunResult, Session, log, modules, runtime,
};

struct StreamHog;

impl Module for StreamHog {
    fn info() -> ModuleInfo {
        ModuleInfo::daemon("stream-hog", "Holds as many readers as it may, and sleeps")
            .required_option("session", "the session to read")
            .option("attempts", "how many readers to try to open", "64")
            .optional_option("child", "the id of a child hog to start once holding")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let attempts: u32 = options.parse("attempts")?;
        let session_id = options.require("session")?;
        let session = Session::open(session_id)?;
        let mut held = Vec::new();
        let mut refused = String::from("none");
        for _ in 0..attempts {
            match session.captures(&Filter::new()) {
                Ok(reader) => held.push(reader),
                Err(e) => {
                    refused = String::from(e);
                    break;
                }
            }
        }
        let report = format!("held {} readers; refused: {refused}", held.len());
        log::info(&report);
        if let Some(child) = options.get("child") {
            modules::run("stream-hog", child, [("session", session_id)])?;
        }
        while !runtime::stop_requested() {
            runtime::sleep(Duration::from_millis(20));
        }
        drop(held);
        Ok(RunResult::message(report))
    }
}

bgpmon_guest::export_module!(StreamHog);
