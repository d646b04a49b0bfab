//! The WebAssembly host of bgpmon: one shared engine, module types loaded
//! from components, and module runs under fuel, memory, time, handle and
//! log limits.
//!
//! A module is a component of the world `bgpmon:module/analysis` (see
//! `wit/`). [`ModuleHost`] loads types, checks a run's options against the
//! type's schema, runs each module in its own store, and reports a
//! [`ModuleStatus`] with live counters. A module sees the server's sessions
//! through a [`SessionDirectory`], and only those its [`Grants`] name.
//!
//! # Example
//!
//! ```no_run
//! # async fn example(
//! #     sessions: std::sync::Arc<dyn bgpmon_host::SessionDirectory>,
//! # ) -> Result<(), bgpmon_host::HostError> {
//! use bgpmon_host::{HostConfig, ModuleHost, RunRequest};
//!
//! let host = ModuleHost::new(HostConfig::default(), sessions)?;
//! host.load_dir(std::path::Path::new("modules")).await?;
//! host.run(RunRequest::new("origin-stats", "stats-1").option("session", "s1"))?;
//! let status = host.wait("stats-1").await?;
//! println!("{:?}", status.state);
//! # Ok(())
//! # }
//! ```

mod account;
mod bindings;
mod cache;
mod catalog;
mod context;
mod control;
mod directory;
mod engine;
mod epoch;
mod error;
mod info;
mod installed;
mod lifecycle;
mod limits;
mod meter;
mod options;
mod registry;
mod run;
mod state;
mod status;
mod stdio;
mod supervisor;
mod value;
mod wit;

pub use catalog::MAX_TYPE_NAME_LEN;
pub use context::{Counters, Grants, LogLevel, LogLine, MAX_RETAINED_LOG_LINES};
pub use directory::{NoSessions, SessionDirectory};
pub use engine::{EngineOptions, MAX_WASM_STACK_BYTES};
pub use epoch::EPOCH_TICK;
pub use error::{HostError, LoadError};
pub use info::{Finding, ModuleInfo, ModuleKind, OptionSpec, OptionType, RunResult, WitVersion};
pub use installed::{Installed, LoadedType, OnExisting, Removed};
pub use limits::{
    DEFAULT_DAEMON_FUEL_PER_SECOND, DEFAULT_FINDINGS_PER_SECOND, DEFAULT_LOGS_PER_SECOND,
    DEFAULT_MAX_BATCH, DEFAULT_MAX_FINDINGS, DEFAULT_MAX_HANDLES, DEFAULT_MEMORY_BYTES,
    DEFAULT_STOP_GRACE, DEFAULT_TASK_DEADLINE, DEFAULT_TASK_FUEL, FILTER_TERM_FUEL, HOST_CALL_FUEL,
    LimitError, LimitName, MAX_BATCH, MAX_CHILD_DEPTH, MAX_ERROR_BYTES, MAX_FILTER_TERMS,
    MAX_FINDING_BYTES, MAX_FINDING_FIELDS, MAX_FINDING_KIND_BYTES, MAX_HOSTCALL_BYTES,
    MAX_INFO_BYTES, MAX_INFO_OPTIONS, MAX_LIVE_DESCENDANTS, MAX_LIVE_INSTANCES, MAX_LOG_LINE_BYTES,
    MAX_MEMORIES_PER_MODULE, MAX_MEMORY_BYTES, MAX_OPTIONS_BYTES, MAX_RESULT_BYTES,
    MAX_RETAINED_RUNS, MAX_TABLE_ELEMENTS, MAX_TABLES_PER_MODULE, ModuleLimits, RECORD_FUEL,
};
pub use meter::{MAX_FUEL_SLICE, MIN_FUEL_SLICE};
pub use options::resolve_options;
pub use status::{FailureReason, ModuleStatus, RunState, TypeActivity};
pub use supervisor::{
    DEFAULT_RETENTION, HostConfig, MAX_MODULE_ID_LEN, ModuleHost, RunRequest, check_identifier,
};
pub use value::{canonical_value, parse_duration_ms, parse_time_us};

/// The host result type.
pub type Result<T, E = HostError> = std::result::Result<T, E>;
