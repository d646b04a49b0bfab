//! A CPU-bound task: a xorshift walk of `iterations` steps, for fuel tests
//! and the metering benchmark.

use std::hint::black_box;

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct Busy;

impl Module for Busy {
    fn info() -> ModuleInfo {
        ModuleInfo::task("busy", "Burns CPU for a number of iterations").option(
            "iterations",
            "how many steps to compute",
            "10000000",
        )
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let iterations: u64 = options.parse("iterations")?;
        let mut x = black_box(0x9E37_79B9_7F4A_7C15u64);
        let mut acc = 0u64;
        for i in 0..iterations {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(3) {
                acc = acc.wrapping_add(i);
            } else {
                acc ^= x;
            }
        }
        Ok(RunResult::message(format!("{acc}")))
    }
}

bgpmon_guest::export_module!(Busy);
