//! `bgpmon delete captures SESSION --import ID | --all | [filter flags]`.

use bgpmon_proto::v1;
use clap::Subcommand;

use crate::client::{Client, status_error};
use crate::filter::FilterArgs;

/// Delete commands.
#[derive(Debug, Subcommand)]
pub enum DeleteCommand {
    /// Delete captures, with their index entries: those of one import, or
    /// those the filter flags match. Refuses to run with neither, unless
    /// `--all` says to delete every capture of the session.
    Captures {
        /// The session to delete from.
        session: String,
        /// Delete the captures of this import (see `bgpmon session info`)
        /// and its record.
        #[arg(long, value_name = "ID", conflicts_with = "all")]
        import: Option<u32>,
        /// Delete every capture of the session.
        #[arg(long)]
        all: bool,
        /// The captures to delete.
        #[command(flatten)]
        filter: FilterArgs,
    },
}

impl DeleteCommand {
    pub(crate) async fn run(self, client: &mut Client) -> anyhow::Result<()> {
        match self {
            Self::Captures {
                session,
                import,
                all,
                filter,
            } => {
                let proto = filter.to_proto()?;
                // Flags left at their defaults still set some wire fields
                // (the prefix scope), so compare with the flags' defaults.
                let filtered = proto != FilterArgs::default().to_proto()?;
                let selection = match (import, all, filtered) {
                    (Some(_), _, true) => anyhow::bail!(
                        "--import deletes a whole import; leave out the filter flags, or drop --import to delete by filter"
                    ),
                    (Some(id), _, false) => v1::delete_captures_request::Selection::ImportId(id),
                    (None, true, true) => anyhow::bail!(
                        "--all deletes every capture; leave out the filter flags, or drop --all"
                    ),
                    (None, false, false) => anyhow::bail!(
                        "name what to delete: --import ID, filter flags (such as --origin or --start), or --all"
                    ),
                    (None, _, _) => v1::delete_captures_request::Selection::Filter(proto),
                };
                let deleted = client
                    .delete_captures(v1::DeleteCapturesRequest {
                        session_id: session.clone(),
                        selection: Some(selection),
                    })
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .captures_deleted;
                println!("{session}: {deleted} captures deleted");
            }
        }
        Ok(())
    }
}
