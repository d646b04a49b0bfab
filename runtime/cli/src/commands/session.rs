//! `bgpmon session types|list|open|close|info|delete`.

use bgpmon_proto::v1;
use clap::Subcommand;

use crate::client::{Client, status_error};
use crate::time::format_micros;

/// Session commands.
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List the session types the daemon is configured with.
    Types,
    /// List every stored session: id, type, whether the daemon holds it
    /// open, captures, bytes stored and time span.
    List,
    /// Open a session of TYPE and print its id: creates it, or reopens it
    /// if it is stored.
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
    /// Close a session: its unflushed writes roll back; its data stays
    /// stored.
    Close {
        /// The session's id.
        id: String,
    },
    /// Describe a stored session and list its imports.
    Info {
        /// The session's id.
        id: String,
    },
    /// Delete a session and everything stored in it.
    Delete {
        /// The session's id.
        id: String,
        /// Confirm the deletion; without it nothing is deleted.
        #[arg(long)]
        yes: bool,
    },
}

fn time_or_dash(t: Option<u64>) -> String {
    t.map_or_else(|| "-".to_owned(), format_micros)
}

fn print_session(s: &v1::SessionInfo) {
    println!(
        "{:<24} {:<16} {:<4} {:>10} {:>12} {:<20} {}",
        s.id,
        s.session_type,
        if s.open { "yes" } else { "no" },
        s.captures,
        s.stored_bytes,
        time_or_dash(s.first_us),
        time_or_dash(s.last_us)
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
                println!(
                    "{:<24} {:<16} {:<4} {:>10} {:>12} {:<20} LAST",
                    "ID", "TYPE", "OPEN", "CAPTURES", "BYTES", "FIRST"
                );
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
                let response = client
                    .get_session(v1::GetSessionRequest { id })
                    .await
                    .map_err(status_error)?
                    .into_inner();
                let s = response
                    .session
                    .ok_or_else(|| anyhow::anyhow!("the daemon returned no session"))?;
                println!("id: {}", s.id);
                println!("type: {}", s.session_type);
                println!("open: {}", if s.open { "yes" } else { "no" });
                println!("workers: {}", s.workers);
                println!("busy: {}", s.workers_busy);
                println!("captures: {}", s.captures);
                println!("stored bytes: {}", s.stored_bytes);
                println!("index bytes: {}", s.index_bytes);
                println!("first: {}", time_or_dash(s.first_us));
                println!("last: {}", time_or_dash(s.last_us));
                println!("created: {}", format_micros(s.created_us));
                println!("imports: {}", response.imports.len());
                if !response.imports.is_empty() {
                    println!(
                        "  {:>4} {:<8} {:>10} {:<20} {:<20} {:<16} FILE",
                        "ID", "STATE", "CAPTURES", "FIRST", "LAST", "SHA256"
                    );
                }
                for i in &response.imports {
                    println!(
                        "  {:>4} {:<8} {:>10} {:<20} {:<20} {:<16} {}",
                        i.id,
                        if i.complete { "complete" } else { "partial" },
                        i.captures,
                        time_or_dash(i.first_us),
                        time_or_dash(i.last_us),
                        i.sha256.get(..16).unwrap_or(&i.sha256),
                        i.file_name
                    );
                }
            }
            Self::Delete { id, yes } => {
                if !yes {
                    anyhow::bail!(
                        "deleting session {id:?} removes all its data; pass --yes to confirm"
                    );
                }
                let deleted = client
                    .delete_session(v1::DeleteSessionRequest { id: id.clone() })
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .captures_deleted;
                println!("{id}: deleted with {deleted} captures");
            }
        }
        Ok(())
    }
}
