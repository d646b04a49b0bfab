//! The redb tables. Table names are file format: never rename one; record a
//! format change as a new schema version in `docs/design.md`.
//!
//! Every table but [`META`], [`SESSION_NAMES`] and [`NODES`] is keyed by a
//! session's dataset number first, so a session's rows are one key range
//! and no read of one session can reach another's.

use redb::TableDefinition;

/// The schema version this build reads and writes.
pub(crate) const SCHEMA_VERSION: u64 = 5;

/// Session names to their dataset numbers.
pub(crate) const SESSION_NAMES: TableDefinition<&str, u32> = TableDefinition::new("session_names");

/// Dataset number to the session's record (postcard `SessionRecord`):
/// name, creation time, counters and the next block and import numbers.
pub(crate) const SESSIONS: TableDefinition<u32, &[u8]> = TableDefinition::new("sessions");

/// `(dataset, block)` to the block's directory entry: timestamp, first
/// `seq`, capture count, import number and flags (see `directory.rs`).
/// Blocks are numbered in commit order, so `seq` grows with the number.
pub(crate) const BLOCKS: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("blocks");

/// `(dataset, block)` to the stored block (see `block.rs`). Kept apart
/// from [`TIME_ORDER`] so that the large values are always appended at the
/// end of the tree, whatever the order of their timestamps.
pub(crate) const BLOCK_DATA: TableDefinition<(u32, u32), &[u8]> =
    TableDefinition::new("block_data");

/// `(dataset, timestamp_us, block)`: blocks in time order. Captures in key
/// order, entries in block order, are captures in `(timestamp_us, seq)`
/// order.
pub(crate) const TIME_ORDER: TableDefinition<(u32, u64, u32), ()> =
    TableDefinition::new("time_order");

/// `(dataset, term kind, bucket, first block)` to a row of postings (see
/// `index.rs`): for each term of the bucket, the blocks from `first block`
/// on that carry it.
pub(crate) const POSTINGS: TableDefinition<(u32, u8, u64, u32), &[u8]> =
    TableDefinition::new("postings");

/// `(dataset, import)` to the import's record (postcard `Import`).
pub(crate) const IMPORTS: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("imports");

/// `(dataset, name)` to the entity (postcard `Entity`).
pub(crate) const ENTITIES: TableDefinition<(u32, &str), &[u8]> = TableDefinition::new("entities");

/// `(dataset, seq)` to a finding a module reported (postcard
/// `NewFinding`); `seq` counts from 1 in each session. Added in schema 5
/// without a version change: older builds never open it, and this build
/// creates it in an older file.
pub(crate) const FINDINGS: TableDefinition<(u32, u64), &[u8]> = TableDefinition::new("findings");

/// Nodes by IP address text, postcard-encoded; shared by every session of
/// the store, since they come from the configuration.
pub(crate) const NODES: TableDefinition<&str, &[u8]> = TableDefinition::new("nodes");

/// Store-wide values: `schema_version`, `last_seq`, `next_dataset`.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The [`META`] key of the schema version.
pub(crate) const META_SCHEMA_VERSION: &str = "schema_version";

/// The [`META`] key of the last capture `seq` assigned in the store.
pub(crate) const META_LAST_SEQ: &str = "last_seq";

/// The [`META`] key of the next dataset number.
pub(crate) const META_NEXT_DATASET: &str = "next_dataset";
