//! `bgpmon write captures|entities SESSION FILE...`.
//!
//! MRT files are parsed on a blocking thread while the previous batches
//! stream to the daemon, so parsing and storing overlap.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use bgpmon_ingest::{CollectorNames, IngestSummary, MrtReader, SkipKind};
use bgpmon_proto::{ip_from_bytes, v1};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use crate::Failed;
use crate::client::{Client, status_error};
use crate::entities::{EntityFormat, read_entities};

/// Captures per streamed message.
const BATCH: usize = 500;

/// Captures between two durable commits: the daemon commits one batch while
/// the next arrives, and its write buffer stays bounded on large RIB dumps.
const FLUSH_EVERY: u64 = 10_000;

/// Messages parsed ahead of the network.
const AHEAD: usize = 8;

/// Write commands.
#[derive(Debug, Subcommand)]
pub enum WriteCommand {
    /// Store the captures of MRT files (BGP4MP, BGP4MP_ET, TABLE_DUMP_V2;
    /// plain, .gz or .bz2), printing a summary per file.
    ///
    /// A file that is cut short stores every whole record before the damage,
    /// reports the byte offset where reading stopped, and makes the command
    /// exit 1.
    ///
    /// Each file is recorded as an import of the session (name, sha256,
    /// captures, time span, complete or partial; see `bgpmon session
    /// info`). A file whose bytes were imported completely before is
    /// refused unless `--force`; a partial import (interrupted, cut short)
    /// is replaced when the same file is loaded again.
    Captures {
        /// The session to write to.
        session: String,
        /// The MRT files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Store a file again even if it was imported completely before.
        #[arg(long)]
        force: bool,
        /// The collector name for every capture. Otherwise a configured
        /// node with the collector's IP names it, then a RouteViews or RIS
        /// file name, then the IP itself.
        #[arg(long)]
        collector: Option<String>,
    },
    /// Store entities from files.
    Entities {
        /// The session to write to.
        session: String,
        /// The entity files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The files' format.
        #[arg(long, value_enum, default_value = "json")]
        format: EntityFormat,
    },
}

impl WriteCommand {
    pub(crate) async fn run(self, client: &mut Client) -> anyhow::Result<()> {
        match self {
            Self::Captures {
                session,
                files,
                force,
                collector,
            } => write_captures(client, &session, &files, collector, force).await,
            Self::Entities {
                session,
                files,
                format,
            } => write_entities(client, &session, &files, format).await,
        }
    }
}

async fn collector_names(
    client: &mut Client,
    collector: Option<String>,
) -> anyhow::Result<CollectorNames> {
    let nodes = client
        .list_nodes(v1::ListNodesRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .nodes;
    let mut names = CollectorNames::new();
    for node in nodes {
        if let Ok(Some(ip)) = ip_from_bytes(&node.ip) {
            names = names.with_node(ip, node.name);
        }
    }
    if let Some(name) = collector {
        names = names.with_override(name);
    }
    Ok(names)
}

fn progress_bar(path: &Path, total: Option<u64>) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total.unwrap_or(0));
    let style = ProgressStyle::with_template(
        "{spinner} {wide_msg} [{bar:30}] {bytes}/{total_bytes} {elapsed}",
    )
    .ok()?
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(path.display().to_string());
    Some(bar)
}

/// The sha256 of the bytes of `path`, in lowercase hex.
///
/// Returns an error if the file cannot be read.
fn file_sha256(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// What one file's load did.
struct FileLoad {
    written: u64,
    summary: IngestSummary,
    import: Option<v1::Import>,
    replaced: Option<v1::Import>,
}

/// Parses `path` on a blocking thread and streams it to the daemon as an
/// import.
async fn write_file(
    client: &mut Client,
    session: &str,
    path: &Path,
    names: CollectorNames,
    force: bool,
) -> anyhow::Result<FileLoad> {
    // The file is hashed while its first batches are parsed; the first
    // message, which names the import by its hash, goes out when both are
    // ready.
    let hash_path = path.to_path_buf();
    let hashing = tokio::task::spawn_blocking(move || file_sha256(&hash_path));
    let mut reader = MrtReader::open(path, names)?;
    let progress = reader.progress();
    let bar = progress_bar(path, progress.total_bytes());
    let (tx, rx) = mpsc::channel(AHEAD);
    let parse = tokio::task::spawn_blocking(move || {
        let mut since_flush = 0u64;
        let mut sent_all = true;
        while let Some(captures) = reader.next_batch(BATCH) {
            since_flush += captures.len() as u64;
            let flush = since_flush >= FLUSH_EVERY;
            if flush {
                since_flush = 0;
            }
            let message = v1::WriteCapturesRequest {
                captures,
                flush,
                ..v1::WriteCapturesRequest::default()
            };
            if tx.blocking_send(message).is_err() {
                sent_all = false;
                break;
            }
        }
        let summary = reader.finish();
        // Only a flush commits, so the last message flushes. Only a file
        // read to its end completes the import; a cut one stays partial,
        // so loading it again replaces it.
        if sent_all {
            let _ = tx.blocking_send(v1::WriteCapturesRequest {
                flush: true,
                finish_import: summary.stopped.is_none(),
                ..v1::WriteCapturesRequest::default()
            });
        }
        summary
    });
    let first = v1::WriteCapturesRequest {
        session_id: session.to_owned(),
        import: Some(v1::ImportSpec {
            file_name: path.display().to_string(),
            sha256: hashing.await??,
            force,
        }),
        ..v1::WriteCapturesRequest::default()
    };
    let messages = tokio_stream::once(first).chain(ReceiverStream::new(rx));
    let ticker = bar.clone().map(|bar| {
        let started = Instant::now();
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.bytes_read());
                let rate =
                    progress.bytes_read() as f64 / started.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!("{:.1} MB/s", rate / 1e6));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let result = client.write_captures(messages).await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = parse.await?;
    let response = result.map_err(status_error)?.into_inner();
    Ok(FileLoad {
        written: response.captures_written,
        summary,
        import: response.import,
        replaced: response.replaced,
    })
}

fn report(path: &Path, load: &FileLoad) -> bool {
    let (written, summary) = (load.written, &load.summary);
    let import = match &load.import {
        Some(i) if i.complete => format!(", import {}", i.id),
        Some(i) => format!(", import {} partial", i.id),
        None => String::new(),
    };
    println!(
        "{}: {written} captures stored from {} records ({}, {} elements{import})",
        path.display(),
        summary.records,
        summary.compression.name(),
        summary.elements
    );
    if let Some(replaced) = &load.replaced {
        println!(
            "  replaced partial import {} ({} captures)",
            replaced.id, replaced.captures
        );
    }
    for skip in &summary.skipped {
        let what = match skip.kind {
            SkipKind::Malformed => "malformed",
            _ => "skipped",
        };
        println!("  {what} {}: {}", skip.count, skip.reason);
    }
    for bad in &summary.malformed_samples {
        eprintln!(
            "warning: {}: malformed record at byte {} ({} bytes) skipped: {}",
            path.display(),
            bad.offset,
            bad.length,
            bad.error
        );
    }
    if let Some(stop) = &summary.stopped {
        eprintln!(
            "error: {}: reading stopped at byte {}: {}; the {written} captures before it are stored as a partial import, which loading the whole file again replaces",
            path.display(),
            stop.offset,
            stop.reason
        );
        return false;
    }
    true
}

/// The user interrupted a load; the files after it are not loaded.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "interrupted; what was committed stays stored as a partial import, which loading the file again replaces",
        )
    }
}

impl std::error::Error for Interrupted {}

/// Loads one file, or stops when the user interrupts: the daemon then rolls
/// back what it did not commit, and the import stays partial.
async fn load_interruptibly(
    client: &mut Client,
    session: &str,
    path: &Path,
    names: CollectorNames,
    force: bool,
) -> anyhow::Result<FileLoad> {
    tokio::select! {
        load = write_file(client, session, path, names, force) => load,
        _ = tokio::signal::ctrl_c() => Err(Interrupted.into()),
    }
}

pub(crate) async fn write_captures(
    client: &mut Client,
    session: &str,
    files: &[PathBuf],
    collector: Option<String>,
    force: bool,
) -> anyhow::Result<()> {
    let names = collector_names(client, collector).await?;
    let mut ok = true;
    let mut total = 0;
    for path in files {
        match load_interruptibly(client, session, path, names.clone(), force).await {
            Ok(load) => {
                total += load.written;
                ok &= report(path, &load);
            }
            Err(e) => {
                eprintln!("error: {}: {e:#}", path.display());
                ok = false;
                if e.downcast_ref::<Interrupted>().is_some() {
                    break;
                }
            }
        }
    }
    if files.len() > 1 {
        println!("total: {total} captures stored from {} files", files.len());
    }
    if ok { Ok(()) } else { Err(Failed.into()) }
}

pub(crate) async fn write_entities(
    client: &mut Client,
    session: &str,
    files: &[PathBuf],
    format: EntityFormat,
) -> anyhow::Result<()> {
    for path in files {
        let entities = read_entities(path, format)?;
        let count = entities.len();
        let mut messages = vec![v1::WriteEntitiesRequest {
            session_id: session.to_owned(),
            entities: Vec::new(),
            flush: false,
        }];
        for (i, chunk) in entities.chunks(BATCH).enumerate() {
            messages.push(v1::WriteEntitiesRequest {
                session_id: String::new(),
                entities: chunk.to_vec(),
                flush: (i + 1) % 50 == 0,
            });
        }
        // Only a flush commits: the last message flushes the rest.
        if let Some(last) = messages.last_mut() {
            last.flush = true;
        }
        let written = client
            .write_entities(tokio_stream::iter(messages))
            .await
            .map_err(status_error)?
            .into_inner()
            .entities_written;
        println!("{}: {written} of {count} entities stored", path.display());
    }
    Ok(())
}
