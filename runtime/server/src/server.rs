//! The server: one value that owns the configuration, the open sessions
//! and the module host.
//!
//! Locks guard only maps and are never held across storage work or a
//! stream wait: a store opens under its own session type's lock, and
//! streams wait on their session's workers, not on the server.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bgpmon_host::{
    EngineOptions, HostConfig, LoadError, LogLine, ModuleHost, ModuleInfo, ModuleLimits,
    ModuleStatus, RunRequest, SessionDirectory,
};
use bgpmon_store::{
    Backend, CaptureFilter, CaptureReader, CaptureWriter, EntityFilter, EntityReader, EntityWriter,
    PrefixReader, RedbBackend, Session, SessionOptions, StoreError,
};

use crate::config::{Config, StoreKind};
use crate::error::{Result, ServerError};

/// A configured session type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTypeInfo {
    /// Its name, the key under `sessions`.
    pub name: String,
    /// The store kind.
    pub kind: StoreKind,
    /// The store file.
    pub path: PathBuf,
    /// Its default worker count.
    pub workers: u32,
    /// How long a stream open waits for a worker.
    pub worker_wait: Duration,
}

/// An open session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session's id.
    pub id: String,
    /// Its session type.
    pub session_type: String,
    /// How many streams may be open at once.
    pub workers: u32,
    /// How many are open now.
    pub workers_busy: u32,
}

impl SessionInfo {
    fn of(session: &Session) -> Self {
        Self {
            id: session.id().to_owned(),
            session_type: session.session_type().to_owned(),
            workers: session.workers(),
            workers_busy: session.workers_busy(),
        }
    }
}

/// The open sessions, shared with the module host.
#[derive(Default)]
struct Sessions {
    map: RwLock<HashMap<String, Arc<Session>>>,
}

impl SessionDirectory for Sessions {
    fn session(&self, id: &str) -> Option<Arc<Session>> {
        self.map.read().ok()?.get(id).cloned()
    }

    fn sessions(&self) -> Vec<Arc<Session>> {
        let Ok(map) = self.map.read() else {
            return Vec::new();
        };
        let mut list: Vec<Arc<Session>> = map.values().cloned().collect();
        list.sort_by(|a, b| a.id().cmp(b.id()));
        list
    }
}

/// One session type's store, opened on first use.
struct StoreSlot {
    info: SessionTypeInfo,
    backend: tokio::sync::Mutex<Option<Arc<dyn Backend>>>,
}

struct Inner {
    config: Config,
    default_limits: ModuleLimits,
    stores: BTreeMap<String, StoreSlot>,
    sessions: Arc<Sessions>,
    modules: ModuleHost,
    load_failures: Vec<LoadError>,
    closed: AtomicBool,
    next_session: AtomicU64,
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
        let sessions = Arc::new(Sessions::default());
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
        let stores = config
            .sessions
            .iter()
            .map(|(name, s)| {
                let info = SessionTypeInfo {
                    name: name.clone(),
                    kind: s.kind,
                    path: s.path.clone(),
                    workers: s.workers,
                    worker_wait: Duration::from_secs(s.timeout_secs),
                };
                let slot = StoreSlot {
                    info,
                    backend: tokio::sync::Mutex::new(None),
                };
                (name.clone(), slot)
            })
            .collect();
        let server = Self {
            inner: Arc::new(Inner {
                config,
                default_limits,
                stores,
                sessions,
                modules,
                load_failures,
                closed: AtomicBool::new(false),
                next_session: AtomicU64::new(1),
            }),
        };
        for (id, module) in &server.inner.config.modules {
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
        self.inner.stores.values().map(|s| s.info.clone()).collect()
    }

    async fn backend(&self, slot: &StoreSlot) -> Result<Arc<dyn Backend>> {
        let mut backend = slot.backend.lock().await;
        if let Some(b) = &*backend {
            return Ok(b.clone());
        }
        let path = slot.info.path.clone();
        let nodes = self.inner.config.node_list();
        let opened =
            tokio::task::spawn_blocking(move || -> Result<Arc<dyn Backend>, StoreError> {
                let store = RedbBackend::open(&path)?;
                if !nodes.is_empty() {
                    store.put_nodes(&nodes)?;
                }
                Ok(Arc::new(store))
            })
            .await
            // A failed task is a server fault, not the caller's mistake.
            .map_err(|e| {
                ServerError::Store(StoreError::Corrupt {
                    what: "store open task",
                    detail: e.to_string(),
                })
            })??;
        tracing::info!(session_type = %slot.info.name, path = %slot.info.path.display(), "store opened");
        *backend = Some(opened.clone());
        Ok(opened)
    }

    /// Opens a session of `session_type`. Without an id one is made up;
    /// without a worker count the type's default applies.
    ///
    /// Returns an error if the type is unknown, the id is malformed or in
    /// use, the worker count is out of range, or the store cannot open.
    pub async fn open_session(
        &self,
        session_type: &str,
        id: Option<&str>,
        workers: Option<u32>,
    ) -> Result<SessionInfo> {
        self.check_open()?;
        let slot =
            self.inner
                .stores
                .get(session_type)
                .ok_or_else(|| ServerError::UnknownSessionType {
                    name: session_type.to_owned(),
                    known: self
                        .inner
                        .stores
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
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
        if self.inner.sessions.session(&id).is_some() {
            return Err(ServerError::DuplicateSession { id });
        }
        let backend = self.backend(slot).await?;
        let options = SessionOptions {
            workers: workers.unwrap_or(slot.info.workers),
            worker_wait: slot.info.worker_wait,
        };
        let session = Arc::new(Session::new(id.clone(), session_type, backend, options));
        {
            let mut map = self
                .inner
                .sessions
                .map
                .write()
                .map_err(|_| ServerError::ShuttingDown)?;
            if map.contains_key(&id) {
                return Err(ServerError::DuplicateSession { id });
            }
            map.insert(id.clone(), session.clone());
        }
        tracing::info!(session = %id, session_type, "session opened");
        Ok(SessionInfo::of(&session))
    }

    fn fresh_session_id(&self, session_type: &str) -> String {
        loop {
            let n = self.inner.next_session.fetch_add(1, Ordering::Relaxed);
            let id = format!("{session_type}-{n}");
            if self.inner.sessions.session(&id).is_none() {
                return id;
            }
        }
    }

    /// The open sessions, by id.
    pub fn list_sessions(&self) -> Vec<SessionInfo> {
        self.inner
            .sessions
            .sessions()
            .iter()
            .map(|s| SessionInfo::of(s))
            .collect()
    }

    /// The open session `id`.
    ///
    /// Returns an error if no session has that id.
    pub fn session(&self, id: &str) -> Result<Arc<Session>> {
        self.inner
            .sessions
            .session(id)
            .ok_or_else(|| ServerError::UnknownSession { id: id.to_owned() })
    }

    /// Information on the open session `id`.
    ///
    /// Returns an error if no session has that id.
    pub fn session_info(&self, id: &str) -> Result<SessionInfo> {
        Ok(SessionInfo::of(self.session(id)?.as_ref()))
    }

    /// Closes session `id`: its open streams fail from their next call and
    /// roll back what they did not flush.
    ///
    /// Returns an error if no session has that id.
    pub fn close_session(&self, id: &str) -> Result<()> {
        let session = self
            .inner
            .sessions
            .map
            .write()
            .map_err(|_| ServerError::ShuttingDown)?
            .remove(id)
            .ok_or_else(|| ServerError::UnknownSession { id: id.to_owned() })?;
        session.close();
        tracing::info!(session = %id, "session closed");
        Ok(())
    }

    /// Opens a capture writer on session `id`.
    ///
    /// Returns an error if the session is unknown or closed, or every
    /// worker stays busy for the whole wait.
    pub async fn capture_writer(&self, id: &str) -> Result<CaptureWriter> {
        Ok(self.session(id)?.capture_writer().await?)
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

    /// The loaded module types.
    pub fn list_module_types(&self) -> Vec<ModuleInfo> {
        self.inner.modules.types()
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

    /// Checks and installs a module into the module directory.
    ///
    /// Returns an error as [`ModuleHost::install`] does.
    pub async fn install_module(&self, bytes: Vec<u8>) -> Result<ModuleInfo> {
        self.check_open()?;
        Ok(self.inner.modules.install(bytes).await?)
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
        let sessions: Vec<Arc<Session>> = self
            .inner
            .sessions
            .map
            .write()
            .map(|mut m| m.drain().map(|(_, s)| s).collect())
            .unwrap_or_default();
        for session in sessions {
            session.close();
        }
        for slot in self.inner.stores.values() {
            slot.backend.lock().await.take();
        }
        tracing::info!("server closed");
    }
}
