//! End-to-end tests: the built `bgpmond` on a free loopback port with a
//! temporary redb store, driven by the built `bgpmon`, on the real MRT files
//! of `../shared/data/mrt` (each test prints a visible skip line when that
//! folder is absent).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test reports failure by panicking"
)]

mod auth;
mod bgpdump;
mod bmp;
mod crash;
mod daemon;
mod faults;
mod filters;
mod gobgp;
mod grpc;
mod hijack;
mod ingest;
mod languages;
mod load;
mod module_test;
mod modules;
mod python;
mod sessions;
mod storage;
mod util;
