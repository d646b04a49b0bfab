//! A task that logs one line of `bytes` bytes, then a short one, and
//! returns: the host must copy no more than its log-line cap.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult, log};

struct HugeLog;

impl Module for HugeLog {
    fn info() -> ModuleInfo {
        ModuleInfo::task("huge-log", "Logs one enormous line").option(
            "bytes",
            "how long the line is",
            "10485760",
        )
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let bytes: usize = options.parse("bytes")?;
        log::info("l".repeat(bytes));
        log::info("after the long line");
        Ok(RunResult::message(format!("logged {bytes} bytes")))
    }
}

bgpmon_guest::export_module!(HugeLog);
