//! A task that opens readers with filters of `terms` values: one over the
//! host's cap must be refused before the host works on it, one under it is
//! charged to the module's fuel.

use bgpmon_guest::{Filter, Module, ModuleInfo, Options, RunResult, Session};

struct FilterBomb;

impl Module for FilterBomb {
    fn info() -> ModuleInfo {
        ModuleInfo::task("filter-bomb", "Opens a reader with a huge filter")
            .required_option("session", "the session to read")
            .option("terms", "how many origin ASes the filter names", "2000000")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let terms: u32 = options.parse("terms")?;
        let session = Session::open(options.require("session")?)?;
        let mut filter = Filter::new();
        for asn in 0..terms {
            filter = filter.origin(asn);
        }
        match session.captures(&filter) {
            Ok(mut reader) => {
                let mut read = 0;
                while let Some(batch) = reader.next_batch()? {
                    read += batch.len();
                }
                Ok(RunResult::message(format!("read {read}")))
            }
            Err(e) => Ok(RunResult::message(format!("refused: {}", String::from(e)))),
        }
    }
}

bgpmon_guest::export_module!(FilterBomb);
