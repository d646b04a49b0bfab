//! The server: one value that owns the configuration, the open sessions
//! and the module host.
//!
//! Locks guard only maps and are never held across storage work or a
//! stream wait: a store opens under its own session type's lock, and
//! streams wait on their session's workers, not on the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bgpmon_host::{
    EngineOptions, HostConfig, Installed, LoadError, LoadedType, LogLine, ModuleHost, ModuleLimits,
    ModuleStatus, OnExisting, Removed, RunRequest, TypeActivity,
};
use bgpmon_store::{
    CaptureFilter, CaptureReader, CaptureSelection, CaptureWriter, EntityFilter, EntityReader,
    EntityWriter, FindingFilter, FindingPage, Import, ImportBegun, ImportSpec, PrefixReader,
    Session,
};

use crate::bmp::StationHandle;
use crate::config::Config;
use crate::error::{Result, ServerError};
use crate::sessions::SessionRegistry;
pub use crate::sessions::{SessionInfo, SessionTypeInfo};

struct Inner {
    config: Config,
    default_limits: ModuleLimits,
    sessions: Arc<SessionRegistry>,
    modules: ModuleHost,
    load_failures: Vec<LoadError>,
    closed: AtomicBool,
    next_session: AtomicU64,
    /// The status of each `[bmp.<name>]` station, in name order.
    bmp: Vec<(String, StationHandle)>,
}

/// The bgpmon server.
///
/// Cloning is cheap; clones share everything.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

fn check_session_id(id: &str) -> Result<()> {
    bgpmon_host::check_identifier(id).map_err(|problem| ServerError::InvalidArgument {
        what: "session id",
        message: format!("{id:?}: {problem}"),
    })
}

impl Server {
    /// Starts a server from `config`: starts the module host, loads the
    /// module directory, and runs the configured modules.
    ///
    /// A module file that fails to load is logged and skipped (see
    /// [`Server::load_failures`]). Returns an error if the engine cannot
    /// start or a configured module cannot run; the key names it.
    pub async fn start(config: Config) -> Result<Self> {
        let default_limits = config.ceiling();
        let host_config = HostConfig {
            engine: EngineOptions {
                cache_dir: config.cache_dir.clone(),
                ..EngineOptions::default()
            },
            module_dir: config.module_dir.clone(),
            default_limits: default_limits.clone(),
            ..HostConfig::default()
        };
        let types = config
            .sessions
            .iter()
            .map(|(name, s)| SessionTypeInfo {
                name: name.clone(),
                kind: s.kind,
                path: s.path.clone(),
                workers: s.workers,
                module_workers: s.module_workers,
                module_streams: s.module_streams,
                worker_wait: Duration::from_secs(s.timeout_secs),
            })
            .collect();
        let sessions = Arc::new(SessionRegistry::open(types, config.node_list()).await?);
        let modules = ModuleHost::new(host_config, sessions.clone())?;
        let mut load_failures = Vec::new();
        if let Some(dir) = &config.module_dir {
            std::fs::create_dir_all(dir).map_err(|source| {
                ServerError::Host(bgpmon_host::HostError::Io {
                    path: dir.clone(),
                    source,
                })
            })?;
            load_failures = modules.load_dir(dir).await?;
        }
        // Stations' sessions exist before any configured module starts, so a daemon module
        // can follow what routers stream from the first message.
        let mut bmp_status = Vec::new();
        for (name, station) in &config.bmp {
            let session_type = station
                .session_type_in(&config)
                .unwrap_or_default()
                .to_owned();
            sessions
                .open_session(&session_type, &station.session, None)
                .await?;
            bmp_status.push((
                name.clone(),
                StationHandle::new(name, station.address, &station.session),
            ));
        }
        let server = Self {
            inner: Arc::new(Inner {
                config,
                default_limits,
                sessions,
                modules,
                load_failures,
                closed: AtomicBool::new(false),
                next_session: AtomicU64::new(1),
                bmp: bmp_status,
            }),
        };
        for (id, module) in &server.inner.config.modules {
            server.create_granted_sessions(id, module).await?;
            let request = RunRequest {
                type_name: module.type_name.clone(),
                id: id.clone(),
                options: module.options.clone(),
                limits: Some(module.limits.apply(&server.inner.default_limits)),
                grants: (&module.grants).into(),
            };
            server.inner.modules.run(request).map_err(|e| {
                ServerError::Config(crate::config::ConfigError {
                    file: "(config)".into(),
                    key: format!("modules.{id}"),
                    message: e.to_string(),
                })
            })?;
        }
        Ok(server)
    }

    /// Every `[bmp.<name>]` station's status, in name order.
    pub fn bmp_stations(&self) -> &[(String, StationHandle)] {
        &self.inner.bmp
    }

    /// The limits of a module run that sets none of its own, and the
    /// ceilings of every run: the built-in defaults under the config's
    /// `limits`.
    pub fn default_limits(&self) -> &ModuleLimits {
        &self.inner.default_limits
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Module files in the module directory that failed to load.
    pub fn load_failures(&self) -> &[LoadError] {
        &self.inner.load_failures
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(ServerError::ShuttingDown);
        }
        Ok(())
    }

    /// The configured session types, by name.
    pub fn list_session_types(&self) -> Vec<SessionTypeInfo> {
        self.inner.sessions.types()
    }

    /// Creates the sessions a configured module is granted that are not
    /// stored yet, in the module's `session_type` or the first configured
    /// type, so a daemon module works from the config alone.
    async fn create_granted_sessions(
        &self,
        id: &str,
        module: &crate::config::ModuleConfig,
    ) -> Result<()> {
        let grants = &module.grants;
        let named = grants
            .sessions
            .iter()
            .chain(&grants.read_sessions)
            .filter(|s| s.as_str() != "*");
        for session in named {
            if self.inner.sessions.is_stored(session) {
                continue;
            }
            let session_type = match &module.session_type {
                Some(t) => t.clone(),
                None => match self.inner.sessions.types().first() {
                    Some(t) => t.name.clone(),
                    None => continue,
                },
            };
            check_session_id(session)?;
            self.inner
                .sessions
                .open_session(&session_type, session, None)
                .await?;
            tracing::info!(module = %id, session = %session, session_type, "created a session a configured module is granted");
        }
        Ok(())
    }

    /// Opens session `id` of `session_type`: creates it, or reopens it if
    /// it is stored. Without an id one is made up; without a worker count
    /// the type's default applies (a session already open keeps its own).
    ///
    /// Returns an error if the type is unknown, the id is malformed or
    /// stored in another type, the worker count is out of range, or the
    /// store fails.
    pub async fn open_session(
        &self,
        session_type: &str,
        id: Option<&str>,
        workers: Option<u32>,
    ) -> Result<SessionInfo> {
        self.check_open()?;
        if let Some(w) = workers
            && !(1..=bgpmon_store::MAX_WORKERS).contains(&w)
        {
            return Err(ServerError::InvalidArgument {
                what: "workers",
                message: format!(
                    "{w} is out of range; use 1 to {}",
                    bgpmon_store::MAX_WORKERS
                ),
            });
        }
        let id = match id {
            Some(id) => {
                check_session_id(id)?;
                id.to_owned()
            }
            None => self.fresh_session_id(session_type),
        };
        self.inner
            .sessions
            .open_session(session_type, &id, workers)
            .await?;
        tracing::info!(session = %id, session_type, "session opened");
        self.session_info(&id).await
    }

    fn fresh_session_id(&self, session_type: &str) -> String {
        loop {
            let n = self.inner.next_session.fetch_add(1, Ordering::Relaxed);
            let id = format!("{session_type}-{n}");
            if !self.inner.sessions.is_stored(&id) {
                return id;
            }
        }
    }

    /// Every stored session, by id.
    ///
    /// Returns an error if a store fails.
    pub async fn list_sessions(&self) -> Result<Vec<SessionInfo>> {
        self.inner.sessions.list().await
    }

    /// The stored session `id`, opened if it was not.
    ///
    /// Returns an error if no session has that id.
    pub fn session(&self, id: &str) -> Result<Arc<Session>> {
        self.inner.sessions.session(id)
    }

    /// Information on the stored session `id`.
    ///
    /// Returns an error if no session has that id.
    pub async fn session_info(&self, id: &str) -> Result<SessionInfo> {
        Ok(self.inner.sessions.info(id).await?.0)
    }

    /// Information on the stored session `id`, with its imports.
    ///
    /// Returns an error if no session has that id.
    pub async fn session_details(&self, id: &str) -> Result<(SessionInfo, Vec<Import>)> {
        self.inner.sessions.info(id).await
    }

    /// Closes session `id`: its open streams fail from their next call and
    /// roll back what they did not flush. Its data stays stored.
    ///
    /// Returns an error if no session has that id.
    pub fn close_session(&self, id: &str) -> Result<()> {
        self.inner.sessions.close(id)
    }

    /// Deletes session `id` and everything stored in it, and returns how
    /// many captures it held.
    ///
    /// Returns an error if no session has that id or the store fails.
    pub async fn delete_session(&self, id: &str) -> Result<u64> {
        self.check_open()?;
        self.inner.sessions.delete(id).await
    }

    /// Opens a capture writer on session `id`.
    ///
    /// Returns an error if the session is unknown or closed, or every
    /// worker stays busy for the whole wait.
    pub async fn capture_writer(&self, id: &str) -> Result<CaptureWriter> {
        Ok(self.session(id)?.capture_writer().await?)
    }

    /// Records the start of an import of a file into session `id` and
    /// opens a writer whose commits belong to it.
    ///
    /// Returns an error if the session is unknown, the same file was
    /// imported completely before and `spec.force` is not set, or as
    /// [`Server::capture_writer`] does.
    pub async fn import_writer(
        &self,
        id: &str,
        spec: ImportSpec,
    ) -> Result<(ImportBegun, CaptureWriter)> {
        let session = self.session(id)?;
        let begun = session.begin_import(spec).await?;
        let writer = session.import_writer(begun.import.id).await?;
        Ok((begun, writer))
    }

    /// Marks import `import` of session `id` complete.
    ///
    /// Returns an error if the session or import is unknown.
    pub async fn finish_import(&self, id: &str, import: u32) -> Result<Import> {
        Ok(self.session(id)?.finish_import(import).await?)
    }

    /// Counts the captures of session `id` that match `filter`, and how
    /// the filter was answered.
    ///
    /// Returns an error if the session is unknown or the store fails.
    pub async fn count_captures(
        &self,
        id: &str,
        filter: CaptureFilter,
        explain: bool,
    ) -> Result<(u64, Option<String>)> {
        let session = self.session(id)?;
        let plan = if explain {
            Some(session.explain(filter.clone()).await?)
        } else {
            None
        };
        Ok((session.count(filter).await?, plan))
    }

    /// Reads the findings of session `id` after number `after` that match
    /// `filter`, up to `max_items`.
    ///
    /// Returns an error if the session is unknown or the store fails.
    pub async fn findings(
        &self,
        id: &str,
        after: u64,
        filter: FindingFilter,
        max_items: usize,
    ) -> Result<FindingPage> {
        Ok(self.session(id)?.findings(after, filter, max_items).await?)
    }

    /// A receiver that changes whenever findings are stored in the store
    /// of session `id`.
    ///
    /// Returns an error if the session is unknown.
    pub fn findings_committed(&self, id: &str) -> Result<tokio::sync::watch::Receiver<u64>> {
        Ok(self.session(id)?.backend().findings_committed())
    }

    /// Deletes the selected captures of session `id` and returns how many
    /// were deleted.
    ///
    /// Returns an error if the session or import is unknown or the store
    /// fails.
    pub async fn delete_captures(&self, id: &str, selection: CaptureSelection) -> Result<u64> {
        self.check_open()?;
        let deleted = self.session(id)?.delete_captures(selection).await?;
        tracing::info!(session = %id, deleted, "captures deleted");
        Ok(deleted)
    }

    /// Opens an entity writer on session `id`.
    ///
    /// Returns an error as [`Server::capture_writer`] does.
    pub async fn entity_writer(&self, id: &str) -> Result<EntityWriter> {
        Ok(self.session(id)?.entity_writer().await?)
    }

    /// Opens a capture reader on session `id`.
    ///
    /// Returns an error as [`Server::capture_writer`] does.
    pub async fn capture_reader(
        &self,
        id: &str,
        filter: CaptureFilter,
        follow: bool,
    ) -> Result<CaptureReader> {
        Ok(self.session(id)?.capture_reader(filter, follow).await?)
    }

    /// Opens a capture reader on session `id` at `position`, as an earlier
    /// reader with the same filter left it.
    ///
    /// Returns an error as [`Server::capture_writer`] does.
    pub async fn capture_reader_at(
        &self,
        id: &str,
        filter: CaptureFilter,
        follow: bool,
        position: bgpmon_store::ScanPosition,
    ) -> Result<CaptureReader> {
        Ok(self
            .session(id)?
            .capture_reader_at(filter, follow, position)
            .await?)
    }

    /// Opens a prefix reader on session `id`.
    ///
    /// Returns an error as [`Server::capture_writer`] does.
    pub async fn prefix_reader(&self, id: &str, filter: CaptureFilter) -> Result<PrefixReader> {
        Ok(self.session(id)?.prefix_reader(filter).await?)
    }

    /// Opens an entity reader on session `id`.
    ///
    /// Returns an error as [`Server::capture_writer`] does.
    pub async fn entity_reader(&self, id: &str, filter: EntityFilter) -> Result<EntityReader> {
        Ok(self.session(id)?.entity_reader(filter).await?)
    }

    /// The module host.
    pub fn modules(&self) -> &ModuleHost {
        &self.inner.modules
    }

    /// The loaded module types, with the digest and origin of each.
    pub fn list_module_types(&self) -> Vec<LoadedType> {
        self.inner.modules.loaded_types()
    }

    /// Starts a module.
    ///
    /// Returns an error if the server is closing, a limit is over its
    /// ceiling (the config's `limits`), or as [`ModuleHost::run`] does.
    pub fn run_module(&self, request: RunRequest) -> Result<ModuleStatus> {
        self.check_open()?;
        if let Some(limits) = &request.limits {
            limits.check_within(&self.inner.default_limits)?;
        }
        Ok(self.inner.modules.run(request)?)
    }

    /// Running modules and recently ended ones.
    pub fn list_running_modules(&self) -> Vec<ModuleStatus> {
        self.inner.modules.list()
    }

    /// What the runs of each module type have done since the daemon
    /// started (see [`ModuleHost::activity`]).
    pub fn module_activity(&self) -> Vec<TypeActivity> {
        self.inner.modules.activity()
    }

    /// The status of module `id`.
    ///
    /// Returns an error if no module has that id.
    pub fn module_status(&self, id: &str) -> Result<ModuleStatus> {
        Ok(self.inner.modules.status(id)?)
    }

    /// The recent log lines of module `id`.
    ///
    /// Returns an error if no module has that id.
    pub fn module_logs(&self, id: &str) -> Result<Vec<LogLine>> {
        Ok(self.inner.modules.logs(id)?)
    }

    /// Stops module `id` and returns its final status.
    ///
    /// Returns an error if no module has that id.
    pub async fn close_module(&self, id: &str) -> Result<ModuleStatus> {
        Ok(self.inner.modules.close(id).await?)
    }

    /// Checks and installs a module into the module directory, refusing
    /// or replacing a loaded type of the same name as `on_existing` says.
    ///
    /// Returns an error as [`ModuleHost::install`] does.
    pub async fn install_module(
        &self,
        bytes: Vec<u8>,
        on_existing: OnExisting,
    ) -> Result<Installed> {
        self.check_open()?;
        Ok(self.inner.modules.install(bytes, on_existing).await?)
    }

    /// Unloads module type `type_name` and deletes its file from the
    /// module directory; runs already started keep going.
    ///
    /// Returns an error as [`ModuleHost::remove_type`] does.
    pub fn remove_module_type(&self, type_name: &str) -> Result<Removed> {
        self.check_open()?;
        Ok(self.inner.modules.remove_type(type_name)?)
    }

    /// Closes the server: stops every module, then closes every session
    /// and releases the stores. Later calls fail with
    /// [`ServerError::ShuttingDown`]; closing twice does nothing.
    pub async fn close(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::info!("closing modules");
        self.inner.modules.close_all().await;
        tracing::info!("closing sessions");
        self.inner.sessions.close_all();
        tracing::info!("server closed");
    }
}
