//! Tests of bgpmon modules inside `cargo test`: run a built component on
//! MRT and entity files, under the daemon's production limits, with no
//! daemon, and assert on what it returned and what it cost.
//!
//! It runs what `bgpmon module test` runs (a temporary store, the real
//! server and module host in the test's process), so a result here is the
//! result a daemon gives. Assert on [`Report::fuel_used`] and a fuel
//! regression fails the test.
//!
//! # Example
//!
//! ```no_run
//! use bgpmon_testkit::ModuleTest;
//!
//! let report = ModuleTest::new("target/wasm32-wasip2/release/origin_stats.wasm")
//!     .mrt("updates.20190101.0000.gz")
//!     .option("top", "3")
//!     .run()
//!     .unwrap();
//! assert!(report.finished(), "{report:?}");
//! assert_eq!(report.findings.len(), 3);
//! assert!(report.fuel_used < 2_000_000_000, "fuel regression: {}", report.fuel_used);
//! ```

use std::path::PathBuf;
use std::time::Duration;

use bgpmon_cli::module_test;
use bgpmon_proto::v1;

pub use bgpmon_cli::entities::EntityFormat;
pub use bgpmon_cli::module_test::TEST_SESSION;
/// One finding of a task's result: the host's own type.
pub use bgpmon_host::Finding;

/// A module run to set up: the component, the files loaded into session
/// [`TEST_SESSION`] before it runs (or, for a daemon, while it runs), its
/// options and its limits. Limits not set take the daemon's defaults.
#[derive(Clone, Debug)]
pub struct ModuleTest(module_test::ModuleTest);

impl ModuleTest {
    /// A run of the component at `wasm`.
    pub fn new(wasm: impl Into<PathBuf>) -> Self {
        let mut test = module_test::ModuleTest::new(wasm);
        test.cache_dir = module_test::default_cache_dir();
        Self(test)
    }

    /// Loads the MRT (or saved BMP) file at `path` into the session.
    #[must_use]
    pub fn mrt(mut self, path: impl Into<PathBuf>) -> Self {
        self.0.mrt.push(path.into());
        self
    }

    /// Loads the entity file at `path`, in `format`, into the session.
    #[must_use]
    pub fn entities(mut self, path: impl Into<PathBuf>, format: EntityFormat) -> Self {
        self.0.entities.push((path.into(), format));
        self
    }

    /// Gives the run option `name` the value `value`. An option named
    /// `session` that is not given is set to [`TEST_SESSION`].
    #[must_use]
    pub fn option(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.options.push((name.into(), value.into()));
        self
    }

    /// The fuel a task may use.
    #[must_use]
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.0.fuel = Some(fuel);
        self
    }

    /// The fuel a daemon may use per second.
    #[must_use]
    pub fn fuel_per_second(mut self, fuel: u64) -> Self {
        self.0.fuel_per_second = Some(fuel);
        self
    }

    /// The memory (linear memories and tables) the module may hold.
    #[must_use]
    pub fn memory_bytes(mut self, bytes: u64) -> Self {
        self.0.memory_bytes = Some(bytes);
        self
    }

    /// How long a task may run, in whole seconds.
    #[must_use]
    pub fn deadline_secs(mut self, secs: u64) -> Self {
        self.0.deadline_secs = Some(secs);
        self
    }

    /// How long a daemon may read nothing new, once the files are loaded,
    /// before it is stopped (one second unless set).
    #[must_use]
    pub fn idle(mut self, idle: Duration) -> Self {
        self.0.idle = idle;
        self
    }

    /// Where compiled components are cached between runs; `None` compiles
    /// on every run. The default is the one `bgpmon module test` uses.
    #[must_use]
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.0.cache_dir = dir;
        self
    }

    /// Runs the module on a runtime of its own and waits for the end.
    ///
    /// Returns an error if the runtime cannot start, the component cannot
    /// be loaded, its options do not fit its schema or a file cannot be
    /// loaded whole. A module that fails is not an error: its
    /// [`Report::state`] says so.
    pub fn run(self) -> anyhow::Result<Report> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let outcome = runtime.block_on(self.0.run())?;
        Ok(Report::from(outcome))
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// A task returned a result.
    Finished,
    /// A daemon was stopped (once idle), as an operator would stop it.
    Stopped,
    /// The module trapped, ran out of a limit or returned an error; the
    /// reason names which.
    Failed(String),
}

/// What a run gave and what it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The module type's name.
    pub type_name: String,
    /// The sha256 of the component, in hex.
    pub build: String,
    /// How the run ended.
    pub state: State,
    /// A finished task's one-line result.
    pub message: Option<String>,
    /// A finished task's findings.
    pub findings: Vec<Finding>,
    /// Fuel used: the guest's code plus what its host calls were charged.
    pub fuel_used: u64,
    /// Linear memory and tables at the end, which never shrink: the peak.
    pub memory_bytes: u64,
    /// Host calls made.
    pub host_calls: u64,
    /// Records its read streams returned.
    pub records_read: u64,
    /// Records its write streams committed.
    pub records_written: u64,
    /// Its log lines, in order.
    pub logs: Vec<String>,
}

impl Report {
    /// Whether the run finished with a result.
    pub fn finished(&self) -> bool {
        self.state == State::Finished
    }
}

impl From<module_test::TestOutcome> for Report {
    fn from(outcome: module_test::TestOutcome) -> Self {
        let status = outcome.status;
        let state = match v1::ModuleState::try_from(status.state) {
            Ok(v1::ModuleState::Finished) => State::Finished,
            Ok(v1::ModuleState::Stopped) => State::Stopped,
            _ => State::Failed(
                status
                    .failure
                    .map(|f| f.message)
                    .unwrap_or_else(|| "the run did not end".into()),
            ),
        };
        let (message, findings) = status.result.map_or((None, Vec::new()), |r| {
            let findings = r
                .findings
                .into_iter()
                .map(|f| Finding {
                    kind: f.kind,
                    summary: f.summary,
                    fields: f.fields.into_iter().collect(),
                })
                .collect();
            (Some(r.message), findings)
        });
        let c = status.counters.unwrap_or_default();
        Self {
            type_name: outcome.type_name,
            build: outcome.build,
            state,
            message,
            findings,
            fuel_used: c.fuel_used,
            memory_bytes: c.memory_bytes,
            host_calls: c.host_calls,
            records_read: c.records_read,
            records_written: c.records_written,
            logs: outcome.logs.into_iter().map(|l| l.message).collect(),
        }
    }
}
