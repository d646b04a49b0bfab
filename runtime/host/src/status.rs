//! The status of a module run.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::context::Counters;
use crate::info::{ModuleKind, RunResult};

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// The guest trapped or panicked; the message says where.
    Trap(String),
    /// A task used up its fuel budget.
    OutOfFuel {
        /// The budget it had.
        budget: u64,
    },
    /// The guest tried to grow its memory past the cap.
    MemoryLimit {
        /// The cap in bytes.
        limit_bytes: u64,
    },
    /// A task ran past its wall-clock deadline.
    Deadline {
        /// The deadline it had.
        after: Duration,
    },
    /// The guest's `run` returned an error; the message is cut to
    /// `MAX_ERROR_BYTES`.
    Error(String),
    /// The guest passed the host more data than a cap allows: a result
    /// over `MAX_RESULT_BYTES`, or a host call over `MAX_HOSTCALL_BYTES`.
    Oversized {
        /// What was too large.
        what: &'static str,
        /// Its size in bytes, when known (a host call stops being copied at
        /// the cap).
        bytes: Option<u64>,
        /// The cap in bytes.
        limit: u64,
    },
    /// The engine's instance pool was full (of component instances, or of
    /// the memories, tables or stacks they hold), so this run could not
    /// start; the message is the pool's.
    NoCapacity(String),
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Trap(message) => write!(f, "trap: {message}"),
            Self::OutOfFuel { budget } => write!(f, "out of fuel: used its budget of {budget}"),
            Self::MemoryLimit { limit_bytes } => {
                write!(f, "memory limit: tried to grow past {limit_bytes} bytes")
            }
            Self::Deadline { after } => write!(f, "deadline: still running after {after:?}"),
            Self::Error(message) => write!(f, "error returned: {message}"),
            Self::Oversized {
                what,
                bytes: Some(bytes),
                limit,
            } => write!(
                f,
                "oversized: the module's {what} took {bytes} bytes, over the cap of {limit}"
            ),
            Self::Oversized {
                what,
                bytes: None,
                limit,
            } => write!(
                f,
                "oversized: the module's {what} passed more than the cap of {limit} bytes"
            ),
            Self::NoCapacity(message) => write!(
                f,
                "no capacity: the host's instance pool is full ({message}); run it again when a module has ended"
            ),
        }
    }
}

/// Where a run is in its life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Being instantiated.
    Starting,
    /// Running.
    Running,
    /// Returned a result.
    Finished(RunResult),
    /// Failed.
    Failed(FailureReason),
    /// Stopped by a close.
    Stopped,
}

impl RunState {
    /// Whether the run is over.
    pub fn is_ended(&self) -> bool {
        matches!(self, Self::Finished(_) | Self::Failed(_) | Self::Stopped)
    }

    /// The state's name: starting, running, finished, failed or stopped.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Finished(_) => "finished",
            Self::Failed(_) => "failed",
            Self::Stopped => "stopped",
        }
    }
}

/// A snapshot of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleStatus {
    /// The run's id.
    pub id: String,
    /// Its module type.
    pub type_name: String,
    /// The sha256 of the type's component the run started from, in hex:
    /// a run keeps its build when the type is replaced.
    pub type_digest: String,
    /// Task or daemon.
    pub kind: ModuleKind,
    /// Where it is.
    pub state: RunState,
    /// Its live counters.
    pub counters: Counters,
    /// When it started.
    pub started_at: SystemTime,
    /// When it ended.
    pub ended_at: Option<SystemTime>,
}

/// What the runs of one module type have done since the host started: the
/// figures metrics report per type, so their number stays bounded by the
/// loaded types however many runs come and go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeActivity {
    /// The module type.
    pub type_name: String,
    /// Fuel used by every run of the type, retired ones included.
    pub fuel_used: u64,
    /// Host calls made by every run of the type, retired ones included.
    pub host_calls: u64,
    /// Records read by every run of the type, retired ones included.
    pub records_read: u64,
    /// Records committed by every run of the type, retired ones included.
    pub records_written: u64,
    /// Log lines dropped by the log rate limit, for every run of the type.
    pub logs_dropped: u64,
    /// Findings stored by every run of the type, retired ones included.
    pub findings: u64,
    /// Time runs of the type spent paused for a fuel rate.
    pub paused: Duration,
    /// Linear memory and tables in use by the runs of the type that have
    /// not ended, in bytes.
    pub memory_bytes: u64,
    /// The runs listed now (running, or ended and still retained), by
    /// state name ([`RunState::name`]).
    pub runs: BTreeMap<&'static str, u64>,
}

impl TypeActivity {
    /// No activity of type `type_name` yet.
    pub fn new(type_name: &str) -> Self {
        Self {
            type_name: type_name.to_owned(),
            ..Self::default()
        }
    }

    /// Adds the cumulative counters of one run (not its memory, which is
    /// counted only while the run lives).
    pub(crate) fn add(&mut self, counters: &Counters) {
        self.fuel_used += counters.fuel_used;
        self.host_calls += counters.host_calls;
        self.records_read += counters.records_read;
        self.records_written += counters.records_written;
        self.logs_dropped += counters.logs_dropped;
        self.findings += counters.findings;
        self.paused += counters.paused;
    }
}
