//! `bgpmon session types|list|open|close|info`.

use bgpmon_proto::v1;
use clap::Subcommand;

use crate::client::{Client, status_error};

/// Session commands.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List the session types the daemon is configured with.
    Types,
    /// List the open sessions.
    List,
    /// Open a session of TYPE and print its id.
    Open {
        /// The session type, a key under `sessions` in the daemon's config.
        session_type: String,
        /// The session's id; made up by the daemon when left out.
        #[arg(long)]
        id: Option<String>,
        /// How many streams may be open on it at once; the type's default
        /// when left out.
        #[arg(long)]
        workers: Option<u32>,
    },
    /// Close a session; its unflushed writes roll back.
    Close {
        /// The session's id.
        id: String,
    },
    /// Describe an open session.
    Info {
        /// The session's id.
        id: String,
    },
}

fn print_session(s: &v1::SessionInfo) {
    println!(
        "{:<24} {:<16} {:>7} {:>5}",
        s.id, s.session_type, s.workers, s.workers_busy
    );
}

impl SessionCommand {
    pub(crate) async fn run(self, client: &mut Client) -> anyhow::Result<()> {
        match self {
            Self::Types => {
                let types = client
                    .list_session_types(v1::ListSessionTypesRequest {})
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .session_types;
                println!(
                    "{:<16} {:<6} {:>7} {:>8} PATH",
                    "TYPE", "KIND", "WORKERS", "TIMEOUT"
                );
                for t in types {
                    println!(
                        "{:<16} {:<6} {:>7} {:>7}s {}",
                        t.name, t.kind, t.workers, t.timeout_secs, t.path
                    );
                }
            }
            Self::List => {
                let sessions = client
                    .list_sessions(v1::ListSessionsRequest {})
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .sessions;
                println!("{:<24} {:<16} {:>7} {:>5}", "ID", "TYPE", "WORKERS", "BUSY");
                for s in &sessions {
                    print_session(s);
                }
            }
            Self::Open {
                session_type,
                id,
                workers,
            } => {
                let session = client
                    .open_session(v1::OpenSessionRequest {
                        session_type,
                        id: id.unwrap_or_default(),
                        workers: workers.unwrap_or(0),
                    })
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .session
                    .ok_or_else(|| anyhow::anyhow!("the daemon returned no session"))?;
                println!("{}", session.id);
            }
            Self::Close { id } => {
                client
                    .close_session(v1::CloseSessionRequest { id })
                    .await
                    .map_err(status_error)?;
            }
            Self::Info { id } => {
                let s = client
                    .get_session(v1::GetSessionRequest { id })
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .session
                    .ok_or_else(|| anyhow::anyhow!("the daemon returned no session"))?;
                println!("id: {}", s.id);
                println!("type: {}", s.session_type);
                println!("workers: {}", s.workers);
                println!("busy: {}", s.workers_busy);
            }
        }
        Ok(())
    }
}
