//! Ingest benchmark.

fn main() {}
