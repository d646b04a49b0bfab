//! A task that tries to forge lines of the daemon's own log: newlines,
//! carriage returns and escape sequences in its messages, at error level,
//! through the log call and through stderr.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult, log};

struct LogInject;

/// A message that, logged raw, would start a forged daemon line.
pub const FORGED: &str =
    "innocent\n2026-01-01T00:00:00Z ERROR bgpmon_server: FORGED operator must act\r\x1b[2K";

impl Module for LogInject {
    fn info() -> ModuleInfo {
        ModuleInfo::task("log-inject", "Logs newlines and escapes at error level")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        log::error(FORGED);
        log::warn(FORGED);
        eprintln!("stderr says\u{1b}[31m red");
        Ok(RunResult::message("logged"))
    }
}

bgpmon_guest::export_module!(LogInject);
