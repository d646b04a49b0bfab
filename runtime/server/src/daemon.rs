//! `bgpmond`: flags, config, logging, the server, the API and metrics
//! listeners, and an orderly shutdown on SIGINT or SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::rpc::{serve_metrics, serve_rpc};
use crate::server::Server;

/// How long shutdown waits for modules and sessions to close before it
/// gives up and exits anyway.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

/// The log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The bgpmon daemon: stores BGP captures and runs sandboxed analysis
/// modules, serving the gRPC API.
///
/// Exit status: 0 after a clean shutdown, 1 on an error (bad config, a port
/// in use, a subsystem that stopped), 2 on a usage error.
#[derive(Debug, Parser)]
#[command(name = "bgpmond", version)]
pub struct DaemonArgs {
    /// The TOML config file.
    #[arg(long, short, value_name = "FILE", env = "BGPMOND_CONFIG")]
    pub config: Option<PathBuf>,
    /// The config file, as the only positional argument (as in bgpmon v2).
    #[arg(value_name = "CONFIG", conflicts_with = "config")]
    pub config_positional: Option<PathBuf>,
    /// Print the effective config as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
    /// The log format; the level comes from RUST_LOG (default info).
    #[arg(long, value_enum, default_value = "text", env = "BGPMOND_LOG_FORMAT")]
    pub log_format: LogFormat,
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        "info,cranelift_codegen=warn,wasmtime=warn,h2=warn,hyper=warn,tower=warn".into()
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn shutdown_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}

/// Runs the daemon until a signal or a failure.
///
/// Returns an error if the config is invalid, a listener cannot bind, or a
/// subsystem stops unexpectedly.
pub async fn run(args: DaemonArgs) -> anyhow::Result<()> {
    let Some(path) = args.config.or(args.config_positional) else {
        bail!("no config file given; run `bgpmond --config FILE` (see etc/bgpmond.toml)");
    };
    let config = Config::load(&path)?;
    if args.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    let guard = config.api_guard()?;
    init_tracing(args.log_format);
    tracing::info!(config = %path.display(), api_token = guard.token.is_some(), tls = guard.tls.is_some(), "starting");
    let rpc_address = config.rpc_address;
    let metrics_address = config.metrics_address;
    let server = Server::start(config).await?;
    for failure in server.load_failures() {
        tracing::warn!(module = %failure.origin, reason = %failure.reason, "module not loaded");
    }

    let shutdown = CancellationToken::new();
    let mut metrics = crate::rpc::MetricsBuilder::new();
    metrics
        .registry()
        .register_collector(Box::new(crate::bmp::BmpCollector::new(
            server
                .bmp_stations()
                .iter()
                .map(|(_, h)| h.clone())
                .collect(),
        )));
    let metrics = Arc::new(metrics.build());
    let mut tasks = JoinSet::new();
    let listener = TcpListener::bind(rpc_address).await.with_context(|| {
        format!("cannot listen on {rpc_address} (rpc_address); is another bgpmond running?")
    })?;
    let bound = listener.local_addr()?;
    tasks.spawn({
        let (server, metrics, shutdown) = (server.clone(), metrics.clone(), shutdown.clone());
        async move {
            serve_rpc(listener, server, metrics, guard, shutdown)
                .await
                .context("the gRPC API stopped")
        }
    });
    tracing::info!(address = %bound, "serving gRPC");
    eprintln!("bgpmond: serving gRPC on {bound}");
    if let Some(address) = metrics_address {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} (metrics_address)"))?;
        let bound = listener.local_addr()?;
        tasks.spawn({
            let (server, metrics, shutdown) = (server.clone(), metrics.clone(), shutdown.clone());
            async move {
                serve_metrics(listener, server, metrics, shutdown)
                    .await
                    .context("the metrics endpoint stopped")
            }
        });
        tracing::info!(address = %bound, "serving metrics");
        eprintln!("bgpmond: serving metrics on http://{bound}/metrics");
    }

    for (name, status) in server.bmp_stations() {
        let station = server.config().bmp[name].clone();
        let listener = TcpListener::bind(station.address).await.with_context(|| {
            format!("cannot listen on {} (bmp.{name}.address)", station.address)
        })?;
        let bound = listener.local_addr()?;
        status.lock().address = bound;
        tasks.spawn({
            let (server, status, shutdown, name) = (
                server.clone(),
                status.clone(),
                shutdown.clone(),
                name.clone(),
            );
            async move {
                crate::bmp::serve_station(server, name.clone(), station, listener, status, shutdown)
                    .await
                    .with_context(|| format!("the BMP station bmp.{name} stopped"))
            }
        });
        tracing::info!(station = %name, address = %bound, "serving BMP");
        eprintln!("bgpmond: BMP station {name} listening on {bound}");
    }

    let failure = tokio::select! {
        signal = shutdown_signal() => { signal?; None }
        Some(ended) = tasks.join_next() => Some(match ended {
            Ok(Ok(())) => anyhow::anyhow!("a listener stopped unexpectedly"),
            Ok(Err(e)) => e,
            Err(e) => anyhow::anyhow!("a listener task failed: {e}"),
        }),
    };
    tracing::info!("shutting down: closing modules, then sessions");
    shutdown.cancel();
    let close = async {
        server.close().await;
        while tasks.join_next().await.is_some() {}
    };
    tokio::select! {
        () = close => {}
        () = tokio::time::sleep(SHUTDOWN_DEADLINE) => {
            tracing::warn!(deadline = ?SHUTDOWN_DEADLINE, "shutdown deadline passed; exiting");
        }
        _ = shutdown_signal() => {
            tracing::warn!("second signal; exiting at once");
        }
    }
    match failure {
        Some(e) => Err(e),
        None => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// Prints `error: <message>` and one `caused by:` line per source.
pub fn report(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("caused by: {cause}");
    }
}

/// The whole `bgpmond` program: parses flags (exiting 2 on a usage error),
/// runs the daemon, and maps the outcome to an exit status.
pub fn main() -> std::process::ExitCode {
    let args = DaemonArgs::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            report(&anyhow::Error::new(e).context("cannot start the async runtime"));
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            std::process::ExitCode::FAILURE
        }
    }
}
