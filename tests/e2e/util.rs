//! The real binaries, driven as a user would: a [`Daemon`] runs `bgpmond`
//! on a free loopback port with its own temporary store, and [`Daemon::cli`]
//! runs `bgpmon` against it.

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// The daemon binary.
pub(crate) const BGPMOND: &str = env!("CARGO_BIN_EXE_bgpmond");

/// The client binary.
pub(crate) const BGPMON: &str = env!("CARGO_BIN_EXE_bgpmon");

pub(crate) use bgpmon_test_support::{shared_mrt, skip};

/// The shared MRT file `name`, or `None` after recording a [`skip`] when
/// `../shared` is absent.
pub(crate) fn mrt(name: &str) -> Option<PathBuf> {
    match shared_mrt() {
        Some(dir) => Some(dir.join(name)),
        None => {
            skip(&format!(
                "../shared/data/mrt is not here, so {name} was not read"
            ));
            None
        }
    }
}

/// The shared entity file `name`, or `None` after recording a [`skip`].
pub(crate) fn entity_file(name: &str) -> Option<PathBuf> {
    shared_file("entities", name)
}

/// The file `../shared/data/<folder>/<name>`, or `None` after recording a
/// [`skip`].
pub(crate) fn shared_file(folder: &str, name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(folder)
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!("../shared/data/{folder}/{name} is not here"));
        None
    }
}

/// A running `bgpmond`, stopped with SIGTERM on drop.
pub(crate) struct Daemon {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) addr: String,
    pub(crate) metrics: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

/// The compiled-module cache shared by every daemon of the test run.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bgpmon-e2e-cache")
}

/// Config text for a daemon in `dir`, on free ports.
pub(crate) fn config_text(dir: &Path, extra: &str) -> String {
    format!(
        "rpc_address = \"127.0.0.1:0\"\nmetrics_address = \"127.0.0.1:0\"\nmodule_dir = {:?}\ncache_dir = {:?}\n\n[sessions.local]\ntype = \"redb\"\npath = {:?}\nworkers = 8\ntimeout_secs = 5\n\n{extra}",
        dir.join("modules"),
        cache_dir(),
        dir.join("bgpmon.redb"),
    )
}

impl Daemon {
    /// Starts a daemon with `guests` in its module directory.
    pub(crate) fn start(guests: &[&str]) -> Self {
        Self::start_with(guests, "")
    }

    /// Starts a daemon with `guests` and extra config lines.
    pub(crate) fn start_with(guests: &[&str], extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("modules")).unwrap();
        for guest in guests {
            let name = Path::new(guest).file_name().unwrap();
            std::fs::copy(guest, dir.path().join("modules").join(name)).unwrap();
        }
        std::fs::write(
            dir.path().join("bgpmond.toml"),
            config_text(dir.path(), extra),
        )
        .unwrap();
        Self::start_in(dir)
    }

    /// Starts a daemon on the config already in `dir`.
    pub(crate) fn start_in(dir: tempfile::TempDir) -> Self {
        let command = Command::new(BGPMOND);
        Self::spawn(dir, command)
    }

    /// Starts a daemon on the config already in `dir` that may write no
    /// file larger than `limit_bytes` (RLIMIT_FSIZE, rounded down to KiB),
    /// with SIGXFSZ ignored, so a write past the limit fails with EFBIG as
    /// on a full disk instead of killing the daemon. Needs bash.
    pub(crate) fn start_with_file_limit(dir: tempfile::TempDir, limit_bytes: u64) -> Self {
        let mut command = Command::new("bash");
        // An ignored signal stays ignored across exec.
        command
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {}; exec \"$0\" \"$@\"",
                limit_bytes / 1024
            ))
            .arg(BGPMOND);
        Self::spawn(dir, command)
    }

    fn spawn(dir: tempfile::TempDir, mut command: Command) -> Self {
        let mut child = command
            .arg("--config")
            .arg(dir.path().join("bgpmond.toml"))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    for (prefix, kind) in [
                        ("bgpmond: serving gRPC on ", "rpc"),
                        ("bgpmond: serving metrics on ", "metrics"),
                    ] {
                        if let Some(addr) = line.strip_prefix(prefix) {
                            let _ = tx.send((kind, addr.to_owned()));
                        }
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let mut addr = None;
        let mut metrics = None;
        while addr.is_none() || metrics.is_none() {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(("rpc", a)) => addr = Some(a),
                Ok((_, m)) => metrics = Some(m),
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "bgpmond did not start serving; its log:\n{}",
                        log.lock().unwrap().join("\n")
                    );
                }
            }
        }
        Self {
            dir,
            addr: addr.unwrap(),
            metrics: metrics.unwrap(),
            child,
            log,
        }
    }

    /// Runs `bgpmon` with `args` against this daemon.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        Command::new(BGPMON)
            .args(args)
            .env("BGPMON_ADDR", &self.addr)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs `bgpmon` and returns its stdout, failing the test with both
    /// outputs if it exits non-zero.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "bgpmon {args:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `bgpmon`, expects it to fail, and returns its stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            !out.status.success(),
            "bgpmon {args:?} should have failed\nstdout:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(out.status.code(), Some(1), "failures exit 1");
        String::from_utf8(out.stderr).unwrap()
    }

    /// The daemon's metrics page: the whole HTTP response, headers first.
    pub(crate) fn scrape(&self) -> String {
        use std::io::{Read, Write};
        let addr = self
            .metrics
            .trim_start_matches("http://")
            .trim_end_matches("/metrics");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// The daemon's process id, to read its `/proc` entry.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The daemon's log so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for the daemon to exit; returns its status.
    pub(crate) fn stop(mut self) -> (tempfile::TempDir, std::process::ExitStatus) {
        let status = self.terminate();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (dir, status)
    }

    /// Kills the daemon with SIGKILL, as a crash would, waits for it, and
    /// returns its folder for a restart with [`Daemon::start_in`].
    pub(crate) fn kill(mut self) -> tempfile::TempDir {
        // `Child::kill` sends SIGKILL on Unix.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..600 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().unwrap()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// Asserts two strings are equal, printing both whole when they differ.
#[macro_export]
macro_rules! eqnice {
    ($expected:expr, $got:expr) => {{
        let (expected, got) = (&$expected, &$got);
        if expected != got {
            panic!("\n== expected ==\n{}\n== got ==\n{}\n==", expected, got);
        }
    }};
}
