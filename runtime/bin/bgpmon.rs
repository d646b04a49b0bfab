//! `bgpmon`, the bgpmon client; see [`bgpmon_cli`].

// Ingest allocates many small values per capture; mimalloc serves them
// faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    bgpmon_cli::main()
}
