//! MRT ingest: reads MRT archives and saved BMP streams ([`bmp`]) (BGP4MP and BGP4MP_ET updates, TABLE_DUMP_V2 and legacy
//! TABLE_DUMP RIB dumps; plain, gzip or bzip2) into bgpmon [`Capture`]s, with bgpkit-parser
//! doing all MRT and BGP decoding. Captures are written straight into their wire encoding
//! ([`EncodedCapture`]), the form the daemon's API takes.
//!
//! One capture is one BGP UPDATE as a collector saw it, or one RIB entry of a dump. Records
//! that carry no capture (KEEPALIVE, OPEN, state changes, peer tables) and malformed records
//! are skipped and counted; a truncated or corrupt file yields every whole record before the
//! damage and says where it stopped. [`CollectorNames`] chooses each capture's collector name.
//!
//! # Example
//!
//! ```no_run
//! use bgpmon_ingest::{CollectorNames, MrtReader};
//!
//! let names = CollectorNames::new().with_node("128.223.51.102".parse()?, "route-views2");
//! let mut reader = MrtReader::open("ris-rrc00.updates.20190101.0000.gz", names)?;
//! let progress = reader.progress();
//! while let Some(batch) = reader.next_batch(1000) {
//!     // Send `batch` to the daemon; show `progress.bytes_read()` of `progress.total_bytes()`.
//!     let _ = (batch, progress.bytes_read());
//! }
//! let summary = reader.finish();
//! println!(
//!     "{} records, {} captures, {} elements",
//!     summary.records, summary.captures, summary.elements
//! );
//! for skip in &summary.skipped {
//!     println!("skipped {} x {}", skip.count, skip.reason);
//! }
//! if let Some(stop) = &summary.stopped {
//!     println!("{stop}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bmp;
mod collector;
mod encode;
mod error;
mod reader;
mod source;
mod summary;

pub use bgpmon_proto::EncodedCapture;
pub use bgpmon_proto::v1::Capture;
pub use collector::{CollectorNames, UNKNOWN_COLLECTOR, collector_from_path};
pub use error::IngestError;
pub use reader::MrtReader;
pub use source::{Compression, Progress, READ_BUFFER_SIZE};
pub use summary::{
    IngestSummary, MAX_MALFORMED_SAMPLES, MAX_SAMPLE_BYTES, MAX_SKIP_REASONS, MalformedRecord,
    OTHER_MALFORMED, SKIP_BMP_END_OF_RIB, SKIP_BMP_INITIATION, SKIP_BMP_PEER_DOWN,
    SKIP_BMP_PEER_UP, SKIP_BMP_TERMINATION, SKIP_GEO_PEER_TABLE, SKIP_KEEPALIVE, SKIP_NOTIFICATION,
    SKIP_OPEN, SKIP_PEER_INDEX_TABLE, SKIP_RIB_WITHOUT_PEER_TABLE, SKIP_ROUTE_REFRESH,
    SKIP_STATE_CHANGE, SKIP_UNKNOWN_PEER, SkipCount, SkipKind, Stop,
};

/// The result of opening an MRT input.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
