//! Reports findings to a session as its options say: how many, in batches
//! of how many, how large, with how many fields, and how long to wait
//! between batches. Tests use it to store findings and to reach every cap
//! on them.

use bgpmon_guest::{Finding, Module, ModuleInfo, OptionType, Options, RunResult, Session, runtime};

struct FindingReporter;

impl Module for FindingReporter {
    fn info() -> ModuleInfo {
        ModuleInfo::task("finding-reporter", "Reports numbered findings to a session")
            .required_option("session", "the session to report to")
            .option("count", "how many findings to report", "10")
            .of_type(OptionType::Integer)
            .option("batch", "how many findings each report carries", "10")
            .of_type(OptionType::Integer)
            .option("kind", "the kind of every finding", "numbered")
            .option("summary-bytes", "pad each summary to this many bytes", "0")
            .of_type(OptionType::Integer)
            .option("fields", "how many fields each finding carries", "2")
            .of_type(OptionType::Integer)
            .option("pause", "the time to sleep between reports", "0ms")
            .of_type(OptionType::Duration)
            .option(
                "on-error",
                "`fail` fails the run on a refused report; `stop` returns what was stored",
                "fail",
            )
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let session = Session::open(options.require("session")?)?;
        let count: u64 = options.parse("count")?;
        let batch: u64 = options.parse::<u64>("batch")?.max(1);
        let kind = options.require("kind")?;
        let summary_bytes: usize = options.parse("summary-bytes")?;
        let fields: usize = options.parse("fields")?;
        let pause = options.duration("pause")?;
        let stop_on_error = options.require("on-error")? == "stop";
        let mut stored = 0u64;
        while stored < count {
            let n = batch.min(count - stored);
            let findings: Vec<Finding> = (stored..stored + n)
                .map(|i| {
                    let mut summary = format!("finding {i}");
                    if summary.len() < summary_bytes {
                        summary.push_str(&"x".repeat(summary_bytes - summary.len()));
                    }
                    let values = (0..fields).map(|f| {
                        if f == 0 {
                            ("n".to_owned(), i.to_string())
                        } else {
                            (format!("field-{f}"), (i * f as u64).to_string())
                        }
                    });
                    Finding::new(kind, summary, values)
                })
                .collect();
            if let Err(e) = session.report(&findings) {
                if stop_on_error {
                    return Ok(RunResult::message(format!(
                        "stored {stored}; refused: {}: {}",
                        e.kind(),
                        e.message()
                    )));
                }
                return Err(format!("report after {stored} stored: {}", String::from(e)));
            }
            stored += n;
            if !pause.is_zero() && stored < count {
                runtime::sleep(pause);
            }
        }
        Ok(RunResult::message(format!("stored {stored}")))
    }
}

bgpmon_guest::export_module!(FindingReporter);
