//! A task that returns an oversized result, or error, of `bytes` bytes.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct HugeResult;

impl Module for HugeResult {
    fn info() -> ModuleInfo {
        ModuleInfo::task("huge-result", "Returns a result of any size")
            .option("bytes", "how large a message to return", "104857600")
            .option("as", "`result` or `error`", "result")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let bytes: usize = options.parse("bytes")?;
        let text = "r".repeat(bytes);
        match options.require("as")? {
            "error" => Err(text),
            _ => Ok(RunResult::message(text)),
        }
    }
}

bgpmon_guest::export_module!(HugeResult);
