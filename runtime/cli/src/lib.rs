//! The bgpmon command-line client: sessions, MRT and entity writes,
//! filtered reads, and modules, over the daemon's gRPC API.
//!
//! Data goes to stdout; progress (on a terminal only), warnings and errors
//! go to stderr.
//!
//! # Example
//!
//! ```no_run
//! use clap::Parser;
//! let cli = bgpmon_cli::Cli::parse_from(["bgpmon", "session", "list"]);
//! # let _ = cli;
//! ```

mod client;
mod commands;
pub mod entities;
mod filter;
pub mod module_test;
pub mod output;
mod time;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use client::{BearerToken, Client, MAX_MESSAGE_BYTES, connect, status_error};
pub use filter::{CommunityArg, ElementFilter, Family, FilterArgs, MatchArg};
pub use output::Format;
pub use time::{Timestamp, format_micros};

/// The daemon's default API address.
pub const DEFAULT_ADDR: &str = bgpmon_proto::DEFAULT_ADDRESS;

/// The bgpmon client.
///
/// Exit status: 0 on success; 1 on a failure, including any error from the
/// daemon, a file that could not be read whole, or a waited module that
/// failed; 2 on a usage error.
#[derive(Debug, Parser)]
#[command(name = "bgpmon", version)]
pub struct Cli {
    /// The daemon's API address.
    #[arg(long, global = true, env = "BGPMON_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: String,
    /// A file holding the daemon's API token, which commands that change
    /// state need when the daemon has `api_token_file` set. It takes
    /// precedence over --token and BGPMON_TOKEN.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// The daemon's API token itself; prefer --token-file, which keeps it
    /// out of the process list.
    #[arg(long, global = true, env = "BGPMON_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Speak TLS to the daemon, trusting the CA certificate (PEM) in this
    /// file; needed when the daemon has `tls_cert_file` set.
    #[arg(long, global = true, value_name = "FILE", env = "BGPMON_CA_FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A top-level command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open, list, describe, close and delete sessions.
    #[command(subcommand)]
    Session(commands::session::SessionCommand),
    /// Write captures from MRT files, or entities.
    #[command(subcommand)]
    Write(commands::write::WriteCommand),
    /// Read captures, prefixes or entities, or count captures.
    #[command(subcommand)]
    Read(commands::read::ReadCommand),
    /// Delete captures by import or by filter.
    #[command(subcommand)]
    Delete(commands::delete::DeleteCommand),
    /// Run, list, inspect, stop and install modules.
    #[command(subcommand)]
    Module(commands::module::ModuleCommand),
    /// Show the BMP stations and the routers streaming to them.
    #[command(subcommand)]
    Bmp(commands::bmp::BmpCommand),
    /// Print the findings modules reported to a session; `--follow` keeps
    /// printing new ones.
    Findings(commands::findings::FindingsArgs),
}

/// An outcome that is not an error report but still fails the command.
#[derive(Debug)]
pub struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the command failed; see the messages above")
    }
}

impl std::error::Error for Failed {}

impl Cli {
    /// Runs the command.
    ///
    /// Returns an error if the daemon cannot be reached or answers with an
    /// error, or the command fails.
    pub async fn run(self) -> anyhow::Result<()> {
        // `module test` runs its own server in this process: no daemon to reach.
        if let Command::Module(commands::module::ModuleCommand::Test(args)) = self.command {
            return args.run().await;
        }
        let token = match &self.token_file {
            Some(path) => BearerToken::from_file(path)?,
            None => BearerToken::new(self.token.as_deref())?,
        };
        let mut client = connect(&self.addr, token, self.ca_file.as_deref()).await?;
        match self.command {
            Command::Session(c) => c.run(&mut client).await,
            Command::Write(c) => c.run(&mut client).await,
            Command::Read(c) => c.run(&mut client).await,
            Command::Delete(c) => c.run(&mut client).await,
            Command::Module(c) => c.run(&mut client).await,
            Command::Bmp(c) => c.run(&mut client).await,
            Command::Findings(c) => c.run(&mut client).await,
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The whole `bgpmon` program: parses arguments (exiting 2 on a usage
/// error), runs the command, and maps the outcome to an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Failed>().is_some() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
