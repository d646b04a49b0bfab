//! A tour of the core on the embedded default: a server on a redb file in
//! `./bgpmon-demo`, a module that writes synthetic captures through a write
//! stream, and `origin-stats` reading them back through a filtered reader.
//!
//! Run with `cargo run -p bgpmon-server --example demo`.

use std::path::Path;
use std::time::Duration;

use bgpmon_host::{Grants, RunRequest, RunState};
use bgpmon_server::{Config, Server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,cranelift=warn,wasmtime=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let dir = Path::new("bgpmon-demo");
    let modules = dir.join("modules");
    std::fs::create_dir_all(&modules)?;
    for guest in [
        bgpmon_test_modules::ROUND_TRIP,
        bgpmon_test_modules::ORIGIN_STATS,
    ] {
        let name = Path::new(guest)
            .file_name()
            .ok_or("guest path has no file name")?;
        std::fs::copy(guest, modules.join(name))?;
    }
    let config = Config::parse(&format!(
        "module_dir = {:?}\ncache_dir = {:?}\n[sessions.local]\ntype = \"redb\"\npath = {:?}\n",
        modules,
        dir.join("cache"),
        dir.join("bgpmon.redb"),
    ))?;
    let server = Server::start(config).await?;
    for info in server.list_module_types() {
        println!(
            "module type {:<14} {} ({})",
            info.type_name, info.description, info.kind
        );
    }

    let session = server.open_session("local", Some("demo"), None).await?.id;
    let grants = Grants {
        sessions: vec![session.clone()],
        may_run_modules: false,
    };
    for request in [
        RunRequest::new("round-trip", "writer")
            .option("session", &session)
            .option("count", "1000")
            .grants(grants.clone()),
        RunRequest::new("origin-stats", "stats")
            .option("session", &session)
            .option("top", "5")
            .grants(grants.clone()),
    ] {
        let id = request.id.clone();
        server.run_module(request)?;
        let status =
            tokio::time::timeout(Duration::from_secs(120), server.modules().wait(&id)).await??;
        let c = &status.counters;
        println!(
            "\nmodule {id}: {} in {:?}; fuel {}, memory {} KiB, host calls {}, read {}, written {}",
            status.state.name(),
            c.uptime,
            c.fuel_used,
            c.memory_bytes / 1024,
            c.host_calls,
            c.records_read,
            c.records_written
        );
        match status.state {
            RunState::Finished(result) => {
                println!("  {}", result.message);
                for finding in result.findings {
                    println!("  - {}", finding.summary);
                }
            }
            RunState::Failed(reason) => return Err(format!("module {id} failed: {reason}").into()),
            other => return Err(format!("module {id} ended as {}", other.name()).into()),
        }
    }
    server.close().await;
    println!("\nstored in {}", dir.join("bgpmon.redb").display());
    Ok(())
}
