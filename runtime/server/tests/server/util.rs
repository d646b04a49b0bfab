//! A server in a temporary folder, with chosen guests in its module
//! directory and a compiled-module cache shared by every test of the run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bgpmon_host::{Grants, ModuleStatus, RunRequest, RunState};
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

impl Harness {
    /// Starts a server whose module directory holds `guests` (paths from
    /// `bgpmon_test_modules`).
    pub(crate) async fn start(guests: &[&str]) -> Self {
        Self::start_with(guests, "").await
    }

    /// Like [`Harness::start`], with extra config lines.
    pub(crate) async fn start_with(guests: &[&str], extra: &str) -> Self {
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
