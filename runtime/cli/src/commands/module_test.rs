//! `bgpmon module test`: one module run in this process, with no daemon,
//! on a temporary store loaded from files, under production limits.
//!
//! It starts the server in-process with one redb session type in a
//! temporary directory, serves the API on a loopback port only it knows,
//! and drives it with the same client code as every other command: the
//! loads, the run and the report are exactly what a daemon would do.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bgpmon_proto::v1;
use bgpmon_server::rpc::{ApiGuard, MetricsBuilder, serve_rpc};
use bgpmon_server::{Config, Server};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::Failed;
use crate::client::{BearerToken, Client, connect, status_error};
use crate::commands::module::{OptionArg, no_status, print_logs, print_status, short_digest};
use crate::commands::write::{write_captures, write_entities};
use crate::entities::EntityFormat;

/// The session the files load into and the module is granted.
pub(crate) const TEST_SESSION: &str = "test";

/// How often a daemon module's progress is polled once the files are in.
const IDLE_POLL: Duration = Duration::from_millis(100);

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

/// The cache directory used when none is given.
fn default_cache_dir() -> Option<PathBuf> {
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

impl TestArgs {
    /// Runs the test and prints its report.
    ///
    /// Returns an error if the module cannot be loaded, a file cannot be
    /// loaded whole, or the module fails.
    pub(crate) async fn run(self) -> anyhow::Result<()> {
        let dir =
            tempfile::tempdir().context("cannot create a temporary directory for the store")?;
        let cache_dir = self.cache_dir.clone().or_else(default_cache_dir);
        if let Some(cache) = &cache_dir {
            // Without a usable cache the module is compiled every run: slower, still right.
            let _ = std::fs::create_dir_all(cache);
        }
        let cache_dir = cache_dir.filter(|c| c.is_dir());
        let config = Config::parse(&config_text(dir.path(), cache_dir.as_deref()))?;
        let server = Server::start(config).await?;
        let outcome = self.run_on(&server).await;
        server.close().await;
        outcome
    }

    async fn run_on(&self, server: &Server) -> anyhow::Result<()> {
        let started = Instant::now();
        let info = server
            .modules()
            .load_file(&self.file)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let loaded = server
            .list_module_types()
            .into_iter()
            .find(|t| t.info.type_name == info.type_name)
            .ok_or_else(|| anyhow::anyhow!("{} was loaded but is not listed", info.type_name))?;
        println!(
            "loaded {} ({}), build {}, in {} ms",
            info.type_name,
            info.kind,
            short_digest(&loaded.digest),
            started.elapsed().as_millis()
        );
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
            self.drive(&mut client, &info).await
        }
        .await;
        shutdown.cancel();
        let _ = serve.await;
        outcome
    }

    async fn drive(
        &self,
        client: &mut Client,
        info: &bgpmon_host::ModuleInfo,
    ) -> anyhow::Result<()> {
        client
            .open_session(v1::OpenSessionRequest {
                session_type: TEST_SESSION.into(),
                id: TEST_SESSION.into(),
                workers: 0,
            })
            .await
            .map_err(status_error)?;
        if !self.entities.is_empty() {
            write_entities(client, TEST_SESSION, &self.entities, self.format).await?;
        }
        let daemon = info.kind == bgpmon_host::ModuleKind::Daemon;
        if !daemon {
            self.load_captures(client).await?;
        }
        let mut options: std::collections::HashMap<String, String> = self
            .options
            .iter()
            .map(|OptionArg(k, v)| (k.clone(), v.clone()))
            .collect();
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
                memory_bytes: self.memory_mb.map(|mb| mb.saturating_mul(1 << 20)),
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
        print_status(&status);
        println!("log:");
        print_logs(client, id, false).await?;
        if status.state == i32::from(v1::ModuleState::Failed) {
            let reason = status.failure.map(|f| f.message).unwrap_or_default();
            eprintln!("error: module {} failed: {reason}", status.id);
            return Err(Failed.into());
        }
        Ok(())
    }

    async fn load_captures(&self, client: &mut Client) -> anyhow::Result<()> {
        if self.mrt.is_empty() {
            return Ok(());
        }
        write_captures(client, TEST_SESSION, &self.mrt, None, false)
            .await
            .context("the test data did not load whole; fix or drop the file named above")
    }

    /// Waits until daemon `id` has read nothing new for `idle_ms` (or has
    /// ended), then closes it and returns its final status.
    async fn stop_when_idle(
        &self,
        client: &mut Client,
        id: &str,
    ) -> anyhow::Result<v1::ModuleStatus> {
        let idle = Duration::from_millis(self.idle_ms);
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
            } else if quiet_since.elapsed() >= idle {
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
