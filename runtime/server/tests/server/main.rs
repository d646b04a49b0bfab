//! Integration tests of the server with real redb files, a real wasmtime
//! engine and real components built from `tests/guests` and
//! `example-modules`.

mod limits;
mod loading;
mod modules;
mod sessions;
mod util;
