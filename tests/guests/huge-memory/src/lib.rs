//! A task whose component declares a large initial memory: a 48 MiB zeroed
//! static (writable, so the linker places it in the initial memory rather
//! than in the file). A run whose memory cap is smaller must be refused at
//! instantiation, before any guest code runs. (It stays under the cap of a
//! type's info read, so the type loads.)

use std::hint::black_box;
use std::sync::atomic::{AtomicU8, Ordering};

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct HugeMemory;

/// The size of the static.
const BIG_BYTES: usize = 48 << 20;

/// 48 MiB of zeros, part of the initial memory though not of the file.
static BIG: [AtomicU8; BIG_BYTES] = [const { AtomicU8::new(0) }; BIG_BYTES];

impl Module for HugeMemory {
    fn info() -> ModuleInfo {
        ModuleInfo::task("huge-memory", "Declares a 48 MiB initial memory")
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        let i = black_box(BIG_BYTES - 1);
        BIG[i].store(1, Ordering::Relaxed);
        Ok(RunResult::message(format!(
            "{}",
            BIG[i].load(Ordering::Relaxed)
        )))
    }
}

bgpmon_guest::export_module!(HugeMemory);
