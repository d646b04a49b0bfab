//! `bgpmon module test`: the arguments, and the report it prints from a
//! [`ModuleTest`] run.

use std::path::PathBuf;
use std::time::Duration;

use crate::Failed;
use crate::commands::module::{OptionArg, print_log_lines, print_status, short_digest};
use crate::entities::EntityFormat;
use crate::module_test::{ModuleTest, default_cache_dir};

/// Arguments of `bgpmon module test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The component to run.
    pub file: PathBuf,
    /// MRT files to load into session `test` (any format `write captures`
    /// takes). A task runs after they are loaded; a daemon runs while they
    /// load.
    #[arg(long = "mrt", value_name = "FILE")]
    pub mrt: Vec<PathBuf>,
    /// Entity files to load into session `test` before the run.
    #[arg(long, value_name = "FILE")]
    pub entities: Vec<PathBuf>,
    /// The entity files' format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: EntityFormat,
    /// An option `NAME=VALUE` for the run (repeatable). An option named
    /// `session` that is not given is set to `test`.
    #[arg(long = "opt", value_name = "NAME=VALUE")]
    pub options: Vec<OptionArg>,
    /// Fuel for a task (default: the daemon's default task fuel).
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Fuel per second for a daemon.
    #[arg(long)]
    pub fuel_per_second: Option<u64>,
    /// Memory limit in MiB.
    #[arg(long)]
    pub memory_mb: Option<u64>,
    /// Wall-clock deadline for a task, in seconds.
    #[arg(long)]
    pub deadline_secs: Option<u64>,
    /// A daemon is stopped once it has read nothing new for this long
    /// after the files are loaded, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub idle_ms: u64,
    /// Where compiled modules are cached between runs (default
    /// `$XDG_CACHE_HOME/bgpmon/modules`, else `~/.cache/bgpmon/modules`).
    #[arg(long, value_name = "DIR", env = "BGPMON_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl TestArgs {
    /// Runs the test and prints its report.
    ///
    /// Returns an error if the module cannot be loaded, a file cannot be
    /// loaded whole, or the module fails.
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let test = ModuleTest {
            file: self.file,
            mrt: self.mrt,
            entities: self
                .entities
                .into_iter()
                .map(|f| (f, self.format))
                .collect(),
            options: self
                .options
                .into_iter()
                .map(|OptionArg(k, v)| (k, v))
                .collect(),
            fuel: self.fuel,
            fuel_per_second: self.fuel_per_second,
            memory_bytes: self.memory_mb.map(|mb| mb.saturating_mul(1 << 20)),
            deadline_secs: self.deadline_secs,
            idle: Duration::from_millis(self.idle_ms),
            cache_dir: self.cache_dir.or_else(default_cache_dir),
        };
        let outcome = test.run().await?;
        println!(
            "module {}, build {}, loaded in {} ms",
            outcome.type_name,
            short_digest(&outcome.build),
            outcome.load_time.as_millis()
        );
        print_status(&outcome.status);
        println!("log:");
        print_log_lines(&outcome.logs);
        if outcome.failed() {
            let reason = outcome
                .status
                .failure
                .as_ref()
                .map(|f| f.message.as_str())
                .unwrap_or_default();
            eprintln!("error: module {} failed: {reason}", outcome.status.id);
            return Err(Failed.into());
        }
        Ok(())
    }
}
