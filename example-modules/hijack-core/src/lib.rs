//! The logic of bgpmon's `hijack` module, apart from the module glue so
//! that it runs natively too.
//!
//! - [`rules`]: owned prefixes with their legal origins and neighbours,
//!   from a TOML or JSON rules file like ARTEMIS's, or from entities.
//! - [`classify`]: ARTEMIS's hijack classes (`S`/`E`/`Q` × `0`/`1`/`-` ×
//!   `L`).
//! - [`rov`]: RPKI route origin validation (RFC 6811).
//! - [`aspa`]: ASPA upstream path verification.
//! - [`events`]: one event per (prefix, AS, type), with first and last
//!   seen, peers, collectors and state.
//! - [`detector`]: all of it over a stream of updates; [`report`] writes
//!   the result as findings.

pub mod aspa;
pub mod classify;
pub mod detector;
pub mod events;
pub mod net;
pub mod report;
pub mod rov;
pub mod rules;

#[cfg(feature = "guest")]
pub mod module;

pub use detector::{Config, Counts, Detector, Update};

/// The hash maps of the detector: foldhash is several times faster than
/// SipHash on these small keys, and still seeded per process.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub use net::Net;
