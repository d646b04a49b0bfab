//! A server in a temporary folder, with chosen guests in its module
//! directory and a compiled-module cache shared by every test of the run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use bgpmon_host::{Grants, ModuleStatus, RunRequest, RunResult, RunState};
use bgpmon_server::{Config, Server};
use bgpmon_store::{Capture, CaptureFilter, PathSegment};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// A running server and the folder that holds its files.
pub(crate) struct Harness {
    pub(crate) dir: TempDir,
    pub(crate) server: Server,
}

/// The cache of compiled modules shared by every test of this run.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("bgpmon-module-cache")
}

/// Config text for `dir`, with session type `local` and extra lines.
pub(crate) fn config_text(dir: &Path, extra: &str) -> String {
    format!(
        "module_dir = {:?}\ncache_dir = {:?}\n\n[sessions.local]\ntype = \"redb\"\npath = {:?}\nworkers = 4\ntimeout_secs = 1\n\n{extra}",
        dir.join("modules"),
        cache_dir(),
        dir.join("bgp.redb"),
    )
}

/// Every line the servers of this test run logged at info or above (bgpmon
/// crates only), as text.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Writes log lines into [`LOG`].
struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the process-wide subscriber that fills [`LOG`], once.
fn capture_logs() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("warn,bgpmon_host=info,bgpmon_server=info")
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// The daemon log lines captured so far that contain `needle`.
pub(crate) fn logged_lines(needle: &str) -> Vec<String> {
    let log = LOG.lock().unwrap();
    String::from_utf8_lossy(&log)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// The whole captured daemon log.
pub(crate) fn logged_text() -> String {
    String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned()
}

/// Serializes the tests whose weapon is memory, so each one's bound on the
/// peak RSS measures it rather than its neighbours.
pub(crate) static MEMORY_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The process's peak resident set (`VmHWM`), in bytes.
pub(crate) fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// Resets the peak resident set to the current one and returns it.
pub(crate) fn reset_peak_rss() -> u64 {
    // Writing 5 to clear_refs resets VmHWM (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    peak_rss()
}

/// The well-behaved module that runs beside each hostile one, and what it
/// returns when it runs alone.
pub(crate) struct GoodModule {
    session: String,
    /// Its result when it ran alone.
    pub(crate) alone: RunResult,
}

impl GoodModule {
    /// A run of the good module as `id`.
    pub(crate) fn request(&self, id: &str) -> RunRequest {
        RunRequest::new("origin-stats", id)
            .option("session", &self.session)
            .option("end", "10000")
            .grants(grants(&[&self.session]))
    }

    /// Asserts that `status` is the good module's, finished with exactly
    /// its result when alone.
    pub(crate) fn assert_same(&self, status: &ModuleStatus) {
        match &status.state {
            RunState::Finished(result) => assert_eq!(result, &self.alone),
            other => panic!("the good module {} did not finish: {other:?}", status.id),
        }
    }
}

impl Harness {
    /// Fills session `good` with a fixed set of captures and runs the good
    /// module (`origin-stats`, which must be loaded) over it alone.
    pub(crate) async fn good_module(&self) -> GoodModule {
        let session = self.session("good").await;
        let captures = (0..200u32)
            .map(|i| {
                capture(
                    100 + u64::from(i),
                    64500 + i % 7,
                    &format!("10.{}.{}.0/24", i / 50, i % 50),
                )
            })
            .collect();
        self.write(&session, captures).await;
        let mut good = GoodModule {
            session,
            alone: RunResult {
                message: String::new(),
                findings: Vec::new(),
            },
        };
        let status = self.run_to_end(good.request("good-alone")).await;
        let RunState::Finished(result) = status.state else {
            panic!("the good module failed alone: {:?}", status.state);
        };
        assert_eq!(result.message, "200 captures, 7 origin ASes");
        good.alone = result;
        good
    }

    /// Runs the good module as `id` to its end, and asserts its result is
    /// exactly its result alone.
    pub(crate) async fn good_beside(&self, good: &GoodModule, id: &str) {
        let status = self.run_to_end(good.request(id)).await;
        good.assert_same(&status);
    }

    /// Asserts that the server still serves: it lists, opens a session,
    /// and writes and reads back a capture.
    pub(crate) async fn assert_serves(&self) {
        assert!(!self.server.list_module_types().is_empty());
        let _ = self.server.list_running_modules();
        let s = self
            .server
            .open_session("local", None, None)
            .await
            .unwrap()
            .id;
        // Past the good module's window, so it never counts this one.
        let probe = capture(20_000, 64999, "198.51.100.0/24");
        self.write(&s, vec![probe.clone()]).await;
        let filter = CaptureFilter {
            origin_ases: vec![64999],
            ..CaptureFilter::default()
        };
        let back = self.captures(&s, filter).await;
        assert!(back.contains(&probe), "{back:?}");
        self.server.close_session(&s).unwrap();
    }

    /// Starts a server whose module directory holds `guests` (paths from
    /// `bgpmon_test_modules`).
    pub(crate) async fn start(guests: &[&str]) -> Self {
        Self::start_with(guests, "").await
    }

    /// Like [`Harness::start`], with extra config lines.
    pub(crate) async fn start_with(guests: &[&str], extra: &str) -> Self {
        capture_logs();
        let dir = tempfile::tempdir().unwrap();
        let modules = dir.path().join("modules");
        std::fs::create_dir_all(&modules).unwrap();
        for guest in guests {
            let name = Path::new(guest).file_name().unwrap();
            std::fs::copy(guest, modules.join(name)).unwrap();
        }
        let config = Config::parse(&config_text(dir.path(), extra)).unwrap();
        let server = Server::start(config).await.unwrap();
        Self { dir, server }
    }

    /// Closes the server and starts a new one on the same folder.
    pub(crate) async fn restart(self) -> Self {
        self.server.close().await;
        drop(self.server);
        let config = Config::parse(&config_text(self.dir.path(), "")).unwrap();
        let server = Server::start(config).await.unwrap();
        Self {
            dir: self.dir,
            server,
        }
    }

    /// Opens session `id` of type `local`.
    pub(crate) async fn session(&self, id: &str) -> String {
        self.server
            .open_session("local", Some(id), None)
            .await
            .unwrap()
            .id
    }

    /// Runs a module and waits for it to end.
    pub(crate) async fn run_to_end(&self, request: RunRequest) -> ModuleStatus {
        let id = request.id.clone();
        self.server.run_module(request).unwrap();
        tokio::time::timeout(Duration::from_secs(120), self.server.modules().wait(&id))
            .await
            .expect("module did not end within 120 s")
            .unwrap()
    }

    /// Every capture stored in session `id`, in time order.
    pub(crate) async fn captures(&self, id: &str, filter: CaptureFilter) -> Vec<Capture> {
        let mut reader = self.server.capture_reader(id, filter, false).await.unwrap();
        let stop = CancellationToken::new();
        let mut all = Vec::new();
        loop {
            let batch = reader.read(1000, &stop).await.unwrap();
            if batch.is_empty() {
                return all;
            }
            all.extend(batch);
        }
    }

    /// Writes `captures` to session `id` and flushes.
    pub(crate) async fn write(&self, id: &str, captures: Vec<Capture>) {
        let mut writer = self.server.capture_writer(id).await.unwrap();
        writer.write(captures).unwrap();
        writer.flush().await.unwrap();
    }
}

/// Grants for session ids.
pub(crate) fn grants(sessions: &[&str]) -> Grants {
    Grants {
        sessions: sessions.iter().map(|s| s.to_string()).collect(),
        ..Grants::default()
    }
}

/// A synthetic capture at second `t` from origin `origin`.
pub(crate) fn capture(t: u64, origin: u32, prefix: &str) -> Capture {
    Capture {
        timestamp_us: t * 1_000_000,
        collector: "test".into(),
        collector_ip: None,
        peer_ip: "192.0.2.1".parse().unwrap(),
        peer_as: 64496,
        as_path: vec![PathSegment::Sequence(vec![64496, origin])],
        origin_as: Some(origin),
        next_hop: None,
        advertised: vec![prefix.parse().unwrap()],
        withdrawn: vec![],
        communities: vec![],
        origin: None,
        med: None,
        local_pref: None,
        atomic_aggregate: false,
        aggregator: None,
        is_rib: false,
        mrt_type: None,
        view: None,
    }
}

/// The failure reason of an ended status, or a panic naming the state.
pub(crate) fn failure(status: &ModuleStatus) -> bgpmon_host::FailureReason {
    match &status.state {
        RunState::Failed(reason) => reason.clone(),
        other => panic!("module {} should have failed, but is {other:?}", status.id),
    }
}

/// Waits until `check` holds, polling; panics after 60 s.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
