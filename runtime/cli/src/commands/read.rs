//! `bgpmon read captures|prefixes|entities|count SESSION`.

use std::io::{BufWriter, Write};

use bgpmon_proto::v1;
use clap::Subcommand;

use crate::client::{Client, status_error};
use crate::filter::FilterArgs;
use crate::output::{CaptureWriter, Format};

/// Read commands.
#[derive(Debug, Subcommand)]
pub enum ReadCommand {
    /// Print the captures that match the filter, in time order.
    Captures {
        /// The session to read.
        session: String,
        /// The filter.
        #[command(flatten)]
        filter: FilterArgs,
        /// The output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Keep printing new captures as they are written.
        #[arg(long)]
        follow: bool,
        /// Resume a read where an earlier one stopped, with the same
        /// filter: the cursor an interrupted read printed to stderr.
        #[arg(long, value_name = "CURSOR")]
        cursor: Option<String>,
    },
    /// Print the prefix elements of the captures that match the filter.
    Prefixes {
        /// The session to read.
        session: String,
        /// The filter.
        #[command(flatten)]
        filter: FilterArgs,
        /// The output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print entities.
    Entities {
        /// The session to read.
        session: String,
        /// Only entities with this name.
        #[arg(long)]
        name: Vec<String>,
        /// The output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Print the number of captures that match the filter, alone.
    Count {
        /// The session to read.
        session: String,
        /// The filter.
        #[command(flatten)]
        filter: FilterArgs,
        /// Also print, to stderr, how the daemon answered: which indexes
        /// it used and whether it checked captures.
        #[arg(long)]
        explain: bool,
    },
}

/// Refuses, before any request, a format that prints captures only.
fn captures_only_check(format: Format) -> anyhow::Result<()> {
    if !format.prints_more_than_captures() {
        anyhow::bail!(
            "--format bgpdump prints captures only; use it with \"bgpmon read captures\", or pick table, json or psv"
        );
    }
    Ok(())
}

impl ReadCommand {
    pub(crate) async fn run(self, client: &mut Client) -> anyhow::Result<()> {
        let stdout = std::io::stdout();
        match self {
            Self::Captures {
                session,
                filter,
                format,
                follow,
                cursor,
            } => {
                let elements = filter.element_filter();
                let request = v1::ReadCapturesRequest {
                    session_id: session,
                    filter: Some(filter.to_proto()?),
                    follow,
                    batch_size: 0,
                    cursor: cursor.unwrap_or_default(),
                };
                let mut stream = client
                    .read_captures(request)
                    .await
                    .map_err(status_error)?
                    .into_inner();
                let mut out = CaptureWriter::new(BufWriter::new(stdout.lock()), format)
                    .with_elements(elements);
                let mut last_cursor = String::new();
                loop {
                    let batch = match stream.message().await {
                        Ok(Some(batch)) => batch,
                        Ok(None) => break,
                        Err(status) => {
                            out.flush()?;
                            if !last_cursor.is_empty() {
                                eprintln!(
                                    "the read stopped; resume it with --cursor {last_cursor}"
                                );
                            }
                            return Err(status_error(status));
                        }
                    };
                    for capture in &batch.captures {
                        out.write(capture)?;
                    }
                    last_cursor = batch.cursor;
                    if follow {
                        out.flush()?;
                    }
                }
                out.flush()?;
            }
            Self::Prefixes {
                session,
                filter,
                format,
            } => {
                captures_only_check(format)?;
                let request = v1::ReadPrefixesRequest {
                    session_id: session,
                    filter: Some(filter.to_proto()?),
                    batch_size: 0,
                };
                let mut stream = client
                    .read_prefixes(request)
                    .await
                    .map_err(status_error)?
                    .into_inner();
                let mut out = CaptureWriter::new(BufWriter::new(stdout.lock()), format);
                while let Some(batch) = stream.message().await.map_err(status_error)? {
                    for event in &batch.prefixes {
                        out.write_prefix(event)?;
                    }
                }
                out.flush()?;
            }
            Self::Entities {
                session,
                name,
                format,
            } => {
                captures_only_check(format)?;
                let request = v1::ReadEntitiesRequest {
                    session_id: session,
                    names: name,
                };
                let mut stream = client
                    .read_entities(request)
                    .await
                    .map_err(status_error)?
                    .into_inner();
                let mut out = CaptureWriter::new(BufWriter::new(stdout.lock()), format);
                while let Some(batch) = stream.message().await.map_err(status_error)? {
                    for entity in &batch.entities {
                        out.write_entity(entity)?;
                    }
                }
                out.flush()?;
            }
            Self::Count {
                session,
                filter,
                explain,
            } => {
                let response = client
                    .count_captures(v1::CountCapturesRequest {
                        session_id: session,
                        filter: Some(filter.to_proto()?),
                        explain,
                    })
                    .await
                    .map_err(status_error)?
                    .into_inner();
                if explain {
                    eprintln!("plan: {}", response.plan);
                }
                let mut out = stdout.lock();
                writeln!(out, "{}", response.count)?;
            }
        }
        Ok(())
    }
}
