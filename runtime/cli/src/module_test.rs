//! One module run in this process, with no daemon, on a temporary store
//! loaded from files, under production limits: what `bgpmon module test`
//! prints and what `bgpmon-testkit` asserts on.
//!
//! It starts the server in-process with one redb session type in a
//! temporary directory, serves the API on a loopback port only it knows,
//! and drives it with the same client code as every other command, so the
//! loads, the run and the counters are exactly what a daemon would give.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use bgpmon_cli::module_test::ModuleTest;
//!
//! let mut test = ModuleTest::new("origin_stats.wasm");
//! test.mrt.push("updates.20190101.0000.gz".into());
//! test.fuel = Some(2_000_000_000);
//! let outcome = test.run().await?;
//! println!("{:?}", outcome.status.counters);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bgpmon_host::{ModuleInfo, ModuleKind};
use bgpmon_proto::v1;
use bgpmon_server::rpc::{ApiGuard, MetricsBuilder, serve_rpc};
use bgpmon_server::{Config, Server};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::client::{BearerToken, Client, connect, status_error};
use crate::commands::module::no_status;
use crate::commands::write::{write_captures, write_entities};
use crate::entities::EntityFormat;

/// The session the files load into and the module is granted.
pub const TEST_SESSION: &str = "test";

/// How often a daemon module's progress is polled once the files are in.
const IDLE_POLL: Duration = Duration::from_millis(100);

/// What to run, on what, under which limits. Limits left `None` take the
/// daemon's defaults.
#[derive(Clone, Debug)]
pub struct ModuleTest {
    /// The component.
    pub file: PathBuf,
    /// MRT (or saved BMP) files to load into [`TEST_SESSION`].
    pub mrt: Vec<PathBuf>,
    /// Entity files to load first, each with its format.
    pub entities: Vec<(PathBuf, EntityFormat)>,
    /// The run's options. An option named `session` left out is set to
    /// [`TEST_SESSION`].
    pub options: Vec<(String, String)>,
    /// Fuel for a task.
    pub fuel: Option<u64>,
    /// Fuel per second for a daemon.
    pub fuel_per_second: Option<u64>,
    /// Memory limit in bytes.
    pub memory_bytes: Option<u64>,
    /// Wall-clock deadline for a task, in seconds.
    pub deadline_secs: Option<u64>,
    /// A daemon is stopped once it has read nothing new for this long
    /// after the files are loaded.
    pub idle: Duration,
    /// Where compiled components are cached between runs; `None` compiles
    /// every time.
    pub cache_dir: Option<PathBuf>,
}

/// What a test run gave.
#[derive(Clone, Debug)]
pub struct TestOutcome {
    /// The module type's name.
    pub type_name: String,
    /// The sha256 of the component, in hex.
    pub build: String,
    /// How long loading (compiling, or reading from the cache) took.
    pub load_time: Duration,
    /// The run's final status: state, result or failure, and counters.
    pub status: v1::ModuleStatus,
    /// The run's log lines.
    pub logs: Vec<v1::LogLine>,
}

impl TestOutcome {
    /// Whether the module failed (trapped, ran out of a limit, returned an
    /// error).
    pub fn failed(&self) -> bool {
        self.status.state == i32::from(v1::ModuleState::Failed)
    }
}

impl ModuleTest {
    /// A test of `file` with no data, no options and the default limits.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            mrt: Vec::new(),
            entities: Vec::new(),
            options: Vec::new(),
            fuel: None,
            fuel_per_second: None,
            memory_bytes: None,
            deadline_secs: None,
            idle: Duration::from_secs(1),
            cache_dir: None,
        }
    }

    /// Runs the test. Each file's load is reported on stdout as
    /// `bgpmon write` reports it.
    ///
    /// Returns an error if the module cannot be loaded, its options do not
    /// fit its schema, or a file cannot be loaded whole. A module that
    /// fails is not an error: see [`TestOutcome::failed`].
    pub async fn run(&self) -> anyhow::Result<TestOutcome> {
        let dir =
            tempfile::tempdir().context("cannot create a temporary directory for the store")?;
        if let Some(cache) = &self.cache_dir {
            // Without a usable cache the module is compiled every run: slower, still right.
            let _ = std::fs::create_dir_all(cache);
        }
        let cache_dir = self.cache_dir.as_deref().filter(|c| c.is_dir());
        let config = Config::parse(&config_text(dir.path(), cache_dir))?;
        let server = Server::start(config).await?;
        let outcome = self.run_on(&server).await;
        server.close().await;
        outcome
    }

    async fn run_on(&self, server: &Server) -> anyhow::Result<TestOutcome> {
        let started = Instant::now();
        let info = server.modules().load_file(&self.file).await?;
        let load_time = started.elapsed();
        let build = server
            .list_module_types()
            .into_iter()
            .find(|t| t.info.type_name == info.type_name)
            .map(|t| t.digest)
            .unwrap_or_default();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on a loopback port for the in-process API")?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let serve = tokio::spawn(serve_rpc(
            listener,
            server.clone(),
            Arc::new(MetricsBuilder::new().build()),
            ApiGuard::default(),
            shutdown.clone(),
        ));
        let outcome = async {
            let mut client = connect(&addr.to_string(), BearerToken::new(None)?, None).await?;
            let (status, logs) = self.drive(&mut client, &info).await?;
            Ok(TestOutcome {
                type_name: info.type_name.clone(),
                build,
                load_time,
                status,
                logs,
            })
        }
        .await;
        shutdown.cancel();
        let _ = serve.await;
        outcome
    }

    async fn drive(
        &self,
        client: &mut Client,
        info: &ModuleInfo,
    ) -> anyhow::Result<(v1::ModuleStatus, Vec<v1::LogLine>)> {
        client
            .open_session(v1::OpenSessionRequest {
                session_type: TEST_SESSION.into(),
                id: TEST_SESSION.into(),
                workers: 0,
            })
            .await
            .map_err(status_error)?;
        for (file, format) in &self.entities {
            write_entities(client, TEST_SESSION, std::slice::from_ref(file), *format).await?;
        }
        let daemon = info.kind == ModuleKind::Daemon;
        if !daemon {
            self.load_captures(client).await?;
        }
        let mut options: HashMap<String, String> = self.options.iter().cloned().collect();
        if info.options.iter().any(|o| o.name == "session") {
            options
                .entry("session".into())
                .or_insert_with(|| TEST_SESSION.into());
        }
        let id = format!("{}-test", info.type_name);
        let request = v1::RunModuleRequest {
            type_name: info.type_name.clone(),
            id: id.clone(),
            options,
            limits: Some(v1::ModuleLimits {
                fuel: self.fuel,
                fuel_per_second: self.fuel_per_second,
                memory_bytes: self.memory_bytes,
                deadline_secs: self.deadline_secs,
                ..Default::default()
            }),
            grants: Some(v1::Grants {
                sessions: vec![TEST_SESSION.into()],
                ..Default::default()
            }),
            wait: !daemon,
        };
        let mut status = client
            .run_module(request)
            .await
            .map_err(status_error)?
            .into_inner()
            .status
            .ok_or_else(no_status)?;
        if daemon {
            let loads = self.load_captures(client).await;
            status = self.stop_when_idle(client, &id).await?;
            loads?;
        }
        let mut logs = Vec::new();
        let mut stream = client
            .get_module_logs(v1::GetModuleLogsRequest { id, follow: false })
            .await
            .map_err(status_error)?
            .into_inner();
        while let Some(batch) = stream.message().await.map_err(status_error)? {
            logs.extend(batch.lines);
        }
        Ok((status, logs))
    }

    async fn load_captures(&self, client: &mut Client) -> anyhow::Result<()> {
        if self.mrt.is_empty() {
            return Ok(());
        }
        write_captures(client, TEST_SESSION, &self.mrt, None, false)
            .await
            .context("the test data did not load whole; fix or drop the file named above")
    }

    /// Waits until daemon `id` has read nothing new for `idle` (or has
    /// ended), then closes it and returns its final status.
    async fn stop_when_idle(
        &self,
        client: &mut Client,
        id: &str,
    ) -> anyhow::Result<v1::ModuleStatus> {
        let mut last = None;
        let mut quiet_since = Instant::now();
        loop {
            let status = client
                .get_module_status(v1::GetModuleStatusRequest { id: id.into() })
                .await
                .map_err(status_error)?
                .into_inner()
                .status
                .ok_or_else(no_status)?;
            if status.ended_at_us.is_some() {
                return Ok(status);
            }
            let read = status.counters.map(|c| c.records_read);
            if read != last {
                last = read;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= self.idle {
                break;
            }
            tokio::time::sleep(IDLE_POLL).await;
        }
        client
            .close_module(v1::CloseModuleRequest { id: id.into() })
            .await
            .map_err(status_error)?
            .into_inner()
            .status
            .ok_or_else(no_status)
    }
}

/// The cache directory `bgpmon module test` uses when none is given:
/// `$XDG_CACHE_HOME/bgpmon/modules`, else `~/.cache/bgpmon/modules`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("bgpmon").join("modules"))
}

/// Config text for the in-process server: one redb session type in `dir`.
fn config_text(dir: &Path, cache_dir: Option<&Path>) -> String {
    let cache = cache_dir.map_or(String::new(), |c| format!("cache_dir = {c:?}\n"));
    format!(
        "rpc_address = \"127.0.0.1:0\"\n{cache}\n[sessions.{TEST_SESSION}]\ntype = \"redb\"\npath = {:?}\n",
        dir.join("test.redb")
    )
}
