//! A task that tries every ambient escape WASI offers a Rust program (the
//! file system, the environment, arguments, sockets, a child process, the
//! exit call is left out since it only ends the module) and reports each
//! one that worked. A contained module finds none.

use std::io::Read;
use std::net::{TcpListener, TcpStream, UdpSocket};

use bgpmon_guest::{Module, ModuleInfo, Options, RunResult};

struct WasiEscape;

impl Module for WasiEscape {
    fn info() -> ModuleInfo {
        ModuleInfo::task(
            "wasi-escape",
            "Tries to reach files, environment and network",
        )
    }

    fn run(_options: Options) -> Result<RunResult, String> {
        let mut escapes: Vec<String> = Vec::new();
        for path in ["/", ".", "/etc", "/proc/self"] {
            if std::fs::read_dir(path).is_ok() {
                escapes.push(format!("listed {path}"));
            }
        }
        for path in ["/etc/passwd", "/proc/self/status", "Cargo.toml"] {
            let mut text = String::new();
            if std::fs::File::open(path)
                .and_then(|mut f| f.read_to_string(&mut text))
                .is_ok()
            {
                escapes.push(format!("read {path}"));
            }
        }
        if std::fs::write("/tmp/bgpmon-escape", b"x").is_ok() {
            escapes.push("wrote /tmp/bgpmon-escape".into());
        }
        if std::env::vars().next().is_some() {
            escapes.push("saw environment variables".into());
        }
        if std::env::args().next().is_some() {
            escapes.push("saw arguments".into());
        }
        if std::env::current_dir().is_ok_and(|d| d.as_os_str().len() > 1) {
            escapes.push("has a working directory".into());
        }
        if TcpStream::connect("127.0.0.1:12289").is_ok() {
            escapes.push("connected over TCP".into());
        }
        if TcpListener::bind("127.0.0.1:0").is_ok() {
            escapes.push("listened on TCP".into());
        }
        if UdpSocket::bind("127.0.0.1:0").is_ok() {
            escapes.push("bound a UDP socket".into());
        }
        if std::process::Command::new("/bin/sh").output().is_ok() {
            escapes.push("ran a process".into());
        }
        if escapes.is_empty() {
            Ok(RunResult::message("no escape"))
        } else {
            Ok(RunResult::message(escapes.join("; ")))
        }
    }
}

bgpmon_guest::export_module!(WasiEscape);
