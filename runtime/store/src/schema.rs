//! The redb tables. Table names are file format: never rename one; record a
//! format change as a new schema version in `docs/design.md`.

use redb::TableDefinition;

/// The schema version this build reads and writes.
pub(crate) const SCHEMA_VERSION: u64 = 4;

/// Captures in time order, in blocks (see `block.rs`): `(timestamp_us,
/// seq)` of a block's first capture to the block. Every capture of a block
/// has that timestamp, and the block's captures have consecutive `seq`s from
/// that one. `seq` is unique and grows with each commit, so captures with
/// equal timestamps keep their write order.
pub(crate) const CAPTURES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("captures");

/// One row per capture commit: the commit's last `seq` to its blocks in
/// `seq` order, each a little-endian `u64` timestamp and `u32` count. A
/// commit of `n` captures holds `seq` values `last - n + 1 ..= last`, so the
/// row gives the [`CAPTURES`] key of each block. Following readers tail
/// this table.
pub(crate) const CAPTURE_COMMITS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("capture_commits");

/// The bytes of one block in a [`CAPTURE_COMMITS`] row.
pub(crate) const COMMIT_LOG_ENTRY: usize = 12;

/// Entities by unique name, postcard-encoded.
pub(crate) const ENTITIES: TableDefinition<&str, &[u8]> = TableDefinition::new("entities");

/// Nodes by IP address text, postcard-encoded.
pub(crate) const NODES: TableDefinition<&str, &[u8]> = TableDefinition::new("nodes");

/// Store-wide values, such as `schema_version`.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The [`META`] key of the schema version.
pub(crate) const META_SCHEMA_VERSION: &str = "schema_version";
