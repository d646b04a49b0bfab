//! `hijack`: hijack events in ARTEMIS's classes, RPKI route origin
//! validation and ASPA path verification over a session's stored
//! captures, as a task. See `example-modules/hijack/README.md`.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};
use hijack_core::module::{self, Mode};

struct Hijack;

impl Module for Hijack {
    fn info() -> ModuleInfo {
        module::info(Mode::Replay)
    }

    fn run(options: Options) -> Result<RunResult, String> {
        module::run(&options, Mode::Replay)
    }
}

bgpmon_guest::export_module!(Hijack);
