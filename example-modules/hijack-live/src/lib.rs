//! `hijack-live`: the `hijack` detector as a daemon. It reads a session's
//! stored captures, then follows new ones, and reports each event as it
//! opens or changes. See `example-modules/hijack/README.md`.

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};
use hijack_core::module::{self, Mode};

struct HijackLive;

impl Module for HijackLive {
    fn info() -> ModuleInfo {
        module::info(Mode::Live)
    }

    fn run(options: Options) -> Result<RunResult, String> {
        module::run(&options, Mode::Live)
    }
}

bgpmon_guest::export_module!(HijackLive);
