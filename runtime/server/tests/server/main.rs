//! Integration tests of the server with real redb files, a real wasmtime
//! engine and real components built from `tests/guests` and
//! `example-modules`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test reports failure by panicking"
)]

mod limits;
mod loading;
mod modules;
mod sessions;
mod util;
