//! Per-module limits: their defaults, the hard caps no config can raise,
//! and the one check of requested limits against a ceiling.

use std::time::Duration;

/// The default fuel budget of a task: tens of seconds of guest compute.
pub const DEFAULT_TASK_FUEL: u64 = 200_000_000_000;

/// The default fuel rate of a daemon, per second: about a tenth of a core.
pub const DEFAULT_DAEMON_FUEL_PER_SECOND: u64 = 1_000_000_000;

/// The default memory cap of one module instance: 256 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 256 << 20;

/// The default wall-clock deadline of a task.
pub const DEFAULT_TASK_DEADLINE: Duration = Duration::from_secs(600);

/// The default cap on records one host call moves in or out of a module.
pub const DEFAULT_MAX_BATCH: u32 = 10_000;

/// The default cap on open handles (sessions and streams) of one module.
pub const DEFAULT_MAX_HANDLES: u32 = 64;

/// The default number of log lines a module may write per second; lines
/// over it are dropped and counted.
pub const DEFAULT_LOGS_PER_SECOND: u32 = 100;

/// The default number of findings a module may report per second, after a
/// burst of as many; a module over it is paused until the rate allows.
pub const DEFAULT_FINDINGS_PER_SECOND: u32 = 1_000;

/// The default number of findings one run may report in all; reports past
/// it are refused with `limit-reached`.
pub const DEFAULT_MAX_FINDINGS: u64 = 1_000_000;

/// The largest finding one report may carry (kind, summary and fields, in
/// bytes of text).
pub const MAX_FINDING_BYTES: usize = 16 << 10;

/// The most fields one finding may carry.
pub const MAX_FINDING_FIELDS: usize = 64;

/// The longest kind a finding may have.
pub const MAX_FINDING_KIND_BYTES: usize = 64;

/// The default time a module asked to stop gets before it is ended.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(5);

/// The largest memory cap a run may ask for: 4 GiB, all a 32-bit guest
/// can address.
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;

/// The default number of component instances alive at once, across every
/// module and the reads of module info: the size of the engine's instance
/// pool (see `EngineOptions::max_live_instances`). Each instance reserves
/// (but does not commit) address space for up to two 4 GiB memories, so
/// this also bounds the daemon's virtual size, to about 2 TiB.
pub const MAX_LIVE_INSTANCES: u32 = 256;

/// The most linear memories one core module of a component may define.
pub const MAX_MEMORIES_PER_MODULE: u32 = 4;

/// The most tables one core module of a component may define.
pub const MAX_TABLES_PER_MODULE: u32 = 4;

/// The most elements a table of a module may hold.
pub const MAX_TABLE_ELEMENTS: usize = 1 << 18;

/// The largest record batch one host call may move, whatever the config
/// says: it bounds the host memory one call can make the host allocate.
pub const MAX_BATCH: u32 = bgpmon_store::MAX_READ_BATCH as u32;

/// The longest log line kept; longer lines are cut before they are copied
/// out of the guest, so a guest cannot make the host hold an unbounded
/// string.
pub const MAX_LOG_LINE_BYTES: usize = 4096;

/// The most bytes of guest data one host call, or one export's return
/// value, may make the host allocate: wasmtime's hostcall fuel. It matches
/// the store's cap on one read (`bgpmon_store::MAX_READ_BYTES`), so a full
/// write batch fits, while a guest that passes more traps instead of
/// making the host copy it.
pub const MAX_HOSTCALL_BYTES: usize = 16 << 20;

/// The largest result a run may return (message, findings and their
/// fields, in bytes of text). Every retained run is listed in one API
/// response, so this times [`MAX_RETAINED_RUNS`] must stay under the API's
/// message cap.
pub const MAX_RESULT_BYTES: usize = 256 << 10;

/// The longest error message a run may return; a longer one is cut.
pub const MAX_ERROR_BYTES: usize = 4096;

/// The most ended runs kept for listing; past it the oldest are dropped
/// early, so retained results stay within one API response.
pub const MAX_RETAINED_RUNS: usize = 128;

/// The largest `info` a module type may export (names, descriptions and
/// defaults, in bytes of text). Every type is listed in one API response.
pub const MAX_INFO_BYTES: usize = 64 << 10;

/// The most options a module type may declare.
pub const MAX_INFO_OPTIONS: usize = 64;

/// The largest set of options one run may be given (names and values, in
/// bytes).
pub const MAX_OPTIONS_BYTES: usize = 64 << 10;

/// The most values one capture filter may carry, over all its terms. Each
/// term is work for the store, so a filter over it is refused at the
/// border.
pub const MAX_FILTER_TERMS: usize = 1024;

/// The fuel every entry into the host costs the module, on top of its
/// guest code: a bgpmon call, a WASI call (clocks, random, stdio), or an
/// engine call such as a fuel yield. About what a microsecond of guest
/// compute burns, so a loop of cheap calls is held to its fuel like a loop
/// of compute.
pub const HOST_CALL_FUEL: u64 = 10_000;

/// The fuel each filter value costs the module when it opens a reader.
pub const FILTER_TERM_FUEL: u64 = 100_000;

/// The fuel each record a host call moves costs the module.
pub const RECORD_FUEL: u64 = 1_000;

/// The deepest a module may nest other modules: its children are depth 1,
/// their children depth 2, and so on.
pub const MAX_CHILD_DEPTH: u32 = 3;

/// The most descendants one module may have running at once, counted at
/// every ancestor.
pub const MAX_LIVE_DESCENDANTS: u32 = 16;

/// The limits one module run is held to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleLimits {
    /// A task's fuel budget; running out fails the task.
    ///
    /// By default [`DEFAULT_TASK_FUEL`].
    pub fuel: u64,
    /// A daemon's fuel per second; a daemon over it is paused, not ended.
    ///
    /// By default [`DEFAULT_DAEMON_FUEL_PER_SECOND`].
    pub fuel_per_second: u64,
    /// The cap on linear memory and tables, in bytes.
    ///
    /// By default [`DEFAULT_MEMORY_BYTES`]; at most [`MAX_MEMORY_BYTES`].
    pub memory_bytes: u64,
    /// A task's wall-clock deadline.
    ///
    /// By default [`DEFAULT_TASK_DEADLINE`].
    pub deadline: Duration,
    /// The most records one host call moves.
    ///
    /// By default [`DEFAULT_MAX_BATCH`]; at most [`MAX_BATCH`].
    pub max_batch: u32,
    /// The most handles open at once.
    ///
    /// By default [`DEFAULT_MAX_HANDLES`].
    pub max_handles: u32,
    /// Log lines per second.
    ///
    /// By default [`DEFAULT_LOGS_PER_SECOND`].
    pub logs_per_second: u32,
    /// Findings per second, after a burst of as many; a module over it is
    /// paused, not ended.
    ///
    /// By default [`DEFAULT_FINDINGS_PER_SECOND`].
    pub findings_per_second: u32,
    /// The most findings one run may report.
    ///
    /// By default [`DEFAULT_MAX_FINDINGS`].
    pub max_findings: u64,
    /// How long a module asked to stop gets before it is ended.
    ///
    /// By default [`DEFAULT_STOP_GRACE`].
    pub stop_grace: Duration,
}

impl Default for ModuleLimits {
    fn default() -> Self {
        Self {
            fuel: DEFAULT_TASK_FUEL,
            fuel_per_second: DEFAULT_DAEMON_FUEL_PER_SECOND,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            deadline: DEFAULT_TASK_DEADLINE,
            max_batch: DEFAULT_MAX_BATCH,
            max_handles: DEFAULT_MAX_HANDLES,
            logs_per_second: DEFAULT_LOGS_PER_SECOND,
            findings_per_second: DEFAULT_FINDINGS_PER_SECOND,
            max_findings: DEFAULT_MAX_FINDINGS,
            stop_grace: DEFAULT_STOP_GRACE,
        }
    }
}

impl ModuleLimits {
    /// These limits with every value clamped to its hard cap and to at
    /// least one unit.
    pub fn clamped(mut self) -> Self {
        self.memory_bytes = self.memory_bytes.clamp(1 << 16, MAX_MEMORY_BYTES);
        self.max_batch = self.max_batch.clamp(1, MAX_BATCH);
        self.max_handles = self.max_handles.max(1);
        self.fuel = self.fuel.max(1);
        self.fuel_per_second = self.fuel_per_second.max(1);
        self.findings_per_second = self.findings_per_second.max(1);
        self
    }
}

/// One limit, by the name the API and the config give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitName {
    /// `fuel`.
    Fuel,
    /// `fuel_per_second`.
    FuelPerSecond,
    /// `memory_bytes` (`memory_mb` in the config).
    MemoryBytes,
    /// `deadline_secs`.
    Deadline,
    /// `max_batch`.
    MaxBatch,
    /// `max_handles`.
    MaxHandles,
    /// `logs_per_second`.
    LogsPerSecond,
    /// `findings_per_second`.
    FindingsPerSecond,
    /// `max_findings`.
    MaxFindings,
    /// `stop_grace_secs`.
    StopGrace,
}

impl std::fmt::Display for LimitName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fuel => "fuel",
            Self::FuelPerSecond => "fuel_per_second",
            Self::MemoryBytes => "memory_bytes",
            Self::Deadline => "deadline_secs",
            Self::MaxBatch => "max_batch",
            Self::MaxHandles => "max_handles",
            Self::LogsPerSecond => "logs_per_second",
            Self::FindingsPerSecond => "findings_per_second",
            Self::MaxFindings => "max_findings",
            Self::StopGrace => "stop_grace_secs",
        })
    }
}

/// A requested limit above its ceiling.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "limit {limit} = {requested} is over its ceiling of {ceiling}; ask for at most {ceiling}, or have the operator raise `limits` in the daemon's config"
)]
pub struct LimitError {
    /// Which limit.
    pub limit: LimitName,
    /// What was asked for, with its unit where it has one.
    pub requested: String,
    /// The ceiling, likewise.
    pub ceiling: String,
}

impl ModuleLimits {
    /// Checks every limit against `ceiling`, the operator's configured
    /// limits. The API and the config both check runs with this one
    /// function, so no client gets more than the config allows.
    ///
    /// Returns an error naming the first limit over its ceiling.
    pub fn check_within(&self, ceiling: &ModuleLimits) -> Result<(), LimitError> {
        fn over<T: PartialOrd + std::fmt::Debug + Copy>(
            limit: LimitName,
            asked: T,
            max: T,
        ) -> Result<(), LimitError> {
            if asked > max {
                return Err(LimitError {
                    limit,
                    requested: format!("{asked:?}"),
                    ceiling: format!("{max:?}"),
                });
            }
            Ok(())
        }
        over(LimitName::Fuel, self.fuel, ceiling.fuel)?;
        over(
            LimitName::FuelPerSecond,
            self.fuel_per_second,
            ceiling.fuel_per_second,
        )?;
        over(
            LimitName::MemoryBytes,
            self.memory_bytes,
            ceiling.memory_bytes,
        )?;
        over(LimitName::Deadline, self.deadline, ceiling.deadline)?;
        over(LimitName::MaxBatch, self.max_batch, ceiling.max_batch)?;
        over(LimitName::MaxHandles, self.max_handles, ceiling.max_handles)?;
        over(
            LimitName::LogsPerSecond,
            self.logs_per_second,
            ceiling.logs_per_second,
        )?;
        over(
            LimitName::FindingsPerSecond,
            self.findings_per_second,
            ceiling.findings_per_second,
        )?;
        over(
            LimitName::MaxFindings,
            self.max_findings,
            ceiling.max_findings,
        )?;
        over(LimitName::StopGrace, self.stop_grace, ceiling.stop_grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_at_or_under_the_ceiling_pass() {
        let ceiling = ModuleLimits::default();
        assert_eq!(ceiling.check_within(&ceiling), Ok(()));
        let smaller = ModuleLimits {
            fuel: 1,
            deadline: Duration::from_millis(300),
            ..ModuleLimits::default()
        };
        assert_eq!(smaller.check_within(&ceiling), Ok(()));
    }

    #[test]
    fn the_first_limit_over_names_itself_and_the_ceiling() {
        let ceiling = ModuleLimits::default();
        let asked = ModuleLimits {
            memory_bytes: MAX_MEMORY_BYTES,
            ..ModuleLimits::default()
        };
        let err = asked.check_within(&ceiling).unwrap_err();
        assert_eq!(err.limit, LimitName::MemoryBytes);
        assert!(
            err.to_string()
                .starts_with("limit memory_bytes = 4294967296 is over its ceiling of 268435456"),
            "{err}"
        );
        let late = ModuleLimits {
            deadline: DEFAULT_TASK_DEADLINE + Duration::from_millis(1),
            ..ModuleLimits::default()
        };
        assert_eq!(
            late.check_within(&ceiling).unwrap_err().limit,
            LimitName::Deadline
        );
    }

    #[test]
    fn retained_results_fit_one_api_response() {
        // The API's message cap is 64 MiB (bgpmon_server::rpc::MAX_MESSAGE_BYTES).
        let listed = MAX_RESULT_BYTES * MAX_RETAINED_RUNS + MAX_ERROR_BYTES * MAX_RETAINED_RUNS;
        assert!(listed < 48 << 20, "{listed}");
    }
}
