//! `example-daemon`: follows a session's captures and logs a running count
//! until it is stopped.

use bgpmon_guest::{Filter, Module, ModuleInfo, Options, RunResult, Session, log, runtime};

struct ExampleDaemon;

impl Module for ExampleDaemon {
    fn info() -> ModuleInfo {
        ModuleInfo::daemon(
            "example-daemon",
            "Follows a session's captures and logs how many it has seen",
        )
        .required_option("session", "the session to watch")
        .option("report-every", "log after this many new captures", "1000")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let every: u64 = options.parse("report-every")?;
        let session = Session::open(options.require("session")?)?;
        let mut reader = session.follow_captures(&Filter::new())?;
        log::info(format!("watching session {}", session.id()));
        let mut seen = 0u64;
        let mut reported = 0u64;
        // A following reader ends (returns None) once a stop is requested.
        while let Some(batch) = reader.next_batch()? {
            seen += batch.len() as u64;
            if seen - reported >= every.max(1) {
                log::info(format!("seen {seen} captures"));
                reported = seen;
            }
            if runtime::stop_requested() {
                break;
            }
        }
        log::info(format!("stopping after {seen} captures"));
        Ok(RunResult::message(format!("saw {seen} captures")))
    }
}

bgpmon_guest::export_module!(ExampleDaemon);
