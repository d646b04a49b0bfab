//! `bgpmon`, the bgpmon client; see [`bgpmon_cli`].

fn main() -> std::process::ExitCode {
    bgpmon_cli::main()
}
