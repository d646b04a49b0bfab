//! `periodic`: a daemon that runs another module type every interval with
//! the same options, as bgpmon v2's periodic module does.
//!
//! Each run is a child of this module (`<id>/run-1`, `<id>/run-2`, ...):
//! it has this module's grants, draws on its limits, and is stopped when
//! this module stops. A run still going when the next one is due is left
//! to finish, and that turn is skipped, so runs never pile up. Read a
//! run's result with `bgpmon module status <id>/run-N`.

use std::time::Duration;

use bgpmon_guest::{Module, ModuleInfo, OptionType, Options, RunResult, log, modules, runtime};

struct Periodic;

/// How often the state of the current run is looked at, and a stop noticed.
const POLL: Duration = Duration::from_millis(100);

/// The child's options: `NAME=VALUE` pairs separated by `;`.
fn child_options(text: &str) -> Result<Vec<(&str, &str)>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            pair.split_once('=')
                .filter(|(name, _)| !name.trim().is_empty())
                .map(|(name, value)| (name.trim(), value.trim()))
                .ok_or_else(|| {
                    format!(
                        "option \"options\" has {pair:?}; write NAME=VALUE pairs separated by ';'"
                    )
                })
        })
        .collect()
}

fn ended(state: &str) -> bool {
    matches!(state, "finished" | "failed" | "stopped")
}

#[derive(Default)]
struct Tally {
    started: u64,
    finished: u64,
    failed: u64,
    skipped: u64,
}

impl Tally {
    fn count(&mut self, id: &str, state: &str) {
        match state {
            "finished" => self.finished += 1,
            _ => self.failed += 1,
        }
        log::info(format!("{id} {state}"));
    }
}

impl Module for Periodic {
    fn info() -> ModuleInfo {
        ModuleInfo::daemon(
            "periodic",
            "Runs another module type every interval with the same options",
        )
        .required_option("type", "the module type to run")
        .option("every", "the time between the starts of two runs", "60s")
        .of_type(OptionType::Duration)
        .option(
            "options",
            "the runs' options: NAME=VALUE pairs separated by ';'",
            "",
        )
        .option(
            "runs",
            "stop starting runs after this many (0: no end)",
            "0",
        )
        .of_type(OptionType::Integer)
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let type_name = options.require("type")?;
        let every = options.duration("every")?;
        if every.is_zero() {
            return Err("option \"every\" is 0; give at least 1ms, such as 30s".into());
        }
        let runs: u64 = options
            .parse::<i64>("runs")?
            .try_into()
            .map_err(|_| "option \"runs\" is negative; give 0 for no end, or a count")?;
        let child = child_options(options.get("options").unwrap_or(""))?;

        let mut tally = Tally::default();
        let mut current: Option<String> = None;
        let mut since_start = every; // the first run starts at once
        while !runtime::stop_requested() {
            if let Some(id) = &current {
                let state = modules::list()
                    .into_iter()
                    .find(|m| &m.id == id)
                    .map_or_else(|| "stopped".to_owned(), |m| m.state);
                if ended(&state) {
                    tally.count(id, &state);
                    current = None;
                }
            }
            if since_start >= every && (runs == 0 || tally.started < runs) {
                since_start = Duration::ZERO;
                if current.is_some() {
                    tally.skipped += 1;
                    log::warn("the last run is still going; this turn is skipped");
                } else {
                    let id = format!("run-{}", tally.started + 1);
                    modules::run(type_name, &id, child.iter().copied()).map_err(|e| {
                        format!("cannot start {type_name} as {id}: {}", String::from(e))
                    })?;
                    tally.started += 1;
                    log::info(format!("started {id}"));
                    current = Some(id);
                }
            }
            runtime::sleep(POLL);
            since_start += POLL;
        }
        let summary = format!(
            "{} runs of {type_name} started: {} finished, {} failed, {} turns skipped",
            tally.started, tally.finished, tally.failed, tally.skipped
        );
        // A stopped daemon's result is not kept: the log is where it stays.
        log::info(summary.clone());
        Ok(RunResult::message(summary))
    }
}

bgpmon_guest::export_module!(Periodic);
