//! Paths of bgpmon's example and test guests, built for `wasm32-wasip2` by
//! this crate's build script.
//!
//! Each constant is the path of one release-built component; `ALL` lists
//! them by package name, and `foreach_guest!` expands a macro once per
//! guest.

include!(concat!(env!("OUT_DIR"), "/guests.rs"));
