//! The redb tables. Table names are file format: never rename one; record a
//! format change as a new schema version in `docs/design.md`.

use redb::TableDefinition;

/// The schema version this build reads and writes.
pub(crate) const SCHEMA_VERSION: u64 = 1;

/// Captures in time order: `(timestamp_us, seq)` to a postcard-encoded
/// [`Capture`](crate::Capture). `seq` is unique and grows with each commit,
/// so captures with equal timestamps keep their write order.
pub(crate) const CAPTURES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("captures");

/// Captures in commit order: `seq` to `timestamp_us`, the key of the
/// capture in [`CAPTURES`]. Following readers tail this table.
pub(crate) const CAPTURE_SEQ: TableDefinition<u64, u64> = TableDefinition::new("capture_seq");

/// Entities by unique name, postcard-encoded.
pub(crate) const ENTITIES: TableDefinition<&str, &[u8]> = TableDefinition::new("entities");

/// Nodes by IP address text, postcard-encoded.
pub(crate) const NODES: TableDefinition<&str, &[u8]> = TableDefinition::new("nodes");

/// Store-wide values, such as `schema_version`.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The [`META`] key of the schema version.
pub(crate) const META_SCHEMA_VERSION: &str = "schema_version";
