//! A module type whose `info` is far over the host's cap: a 1 MiB
//! description and many options. Loading or installing it must fail,
//! leave nothing installed, and leave the other types listable.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct HugeInfo;

impl Module for HugeInfo {
    fn info() -> ModuleInfo {
        let mut info = ModuleInfo::task("huge-info", &"x".repeat(1 << 20));
        for i in 0..1_000 {
            info = info.option(&format!("option-{i}"), &"y".repeat(1000), "z");
        }
        info
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        Ok(RunResult::message("never listed, never run"))
    }
}

bgpmon_guest::export_module!(HugeInfo);
