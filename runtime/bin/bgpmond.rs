//! `bgpmond`, the bgpmon daemon; see [`bgpmon_server::daemon`].

fn main() -> std::process::ExitCode {
    bgpmon_server::daemon::main()
}
