//! The module host: loaded types, running modules, and their lifecycle.
//!
//! Each run is a tokio task that owns its store. A close first asks the
//! module to stop (its `stop-requested` turns true, sleeps and following
//! reads end), waits the grace period, then drops the run, which rolls
//! back every stream it left open. Locks guard only the maps and are never
//! held across an await.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::catalog::{self, ModuleType};
use crate::context::{Grants, LogLine, RunContext};
use crate::directory::SessionDirectory;
use crate::engine::{EngineOptions, HostEngine};
use crate::error::{HostError, LoadError};
use crate::info::ModuleInfo;
use crate::limits::ModuleLimits;
use crate::options::resolve_options;
use crate::run::{Outcome, execute};
use crate::status::{ModuleStatus, RunState};

/// How long an ended module stays listable by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(3600);

/// The longest module id.
pub const MAX_MODULE_ID_LEN: usize = 128;

/// How the module host is set up.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The engine's options.
    pub engine: EngineOptions,
    /// Where installed modules are written.
    ///
    /// By default `None`: installing is refused.
    pub module_dir: Option<PathBuf>,
    /// The limits of a run that sets none of its own.
    ///
    /// By default [`ModuleLimits::default`].
    pub default_limits: ModuleLimits,
    /// How long an ended module stays listable.
    ///
    /// By default [`DEFAULT_RETENTION`].
    pub retention: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            engine: EngineOptions::default(),
            module_dir: None,
            default_limits: ModuleLimits::default(),
            retention: DEFAULT_RETENTION,
        }
    }
}

/// A request to run a module.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// The module type.
    pub type_name: String,
    /// The run's id: 1 to 128 letters, digits, `.`, `_` or `-`.
    pub id: String,
    /// Options, checked against the type's schema.
    pub options: BTreeMap<String, String>,
    /// Limits; `None` takes the host's defaults.
    pub limits: Option<ModuleLimits>,
    /// Capabilities granted to the run.
    pub grants: Grants,
}

impl RunRequest {
    /// A request with no options, default limits and no grants.
    pub fn new(type_name: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            type_name: type_name.into(),
            id: id.into(),
            options: BTreeMap::new(),
            limits: None,
            grants: Grants::default(),
        }
    }

    /// Adds an option.
    pub fn option(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(name.into(), value.into());
        self
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: ModuleLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Sets the grants.
    pub fn grants(mut self, grants: Grants) -> Self {
        self.grants = grants;
        self
    }
}

struct Running {
    ctx: Arc<RunContext>,
    state: Mutex<RunState>,
    ended_at: Mutex<Option<(Instant, SystemTime)>>,
    force: CancellationToken,
    done: watch::Sender<bool>,
}

impl Running {
    fn status(&self) -> ModuleStatus {
        let state = self
            .state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(RunState::Starting);
        let ended = self.ended_at.lock().ok().and_then(|e| *e);
        let mut counters = self.ctx.counters();
        if let Some((at, _)) = ended {
            counters.uptime = at.duration_since(self.ctx.started);
        }
        ModuleStatus {
            id: self.ctx.id.clone(),
            type_name: self.ctx.type_name.clone(),
            kind: self.ctx.kind,
            state,
            counters,
            started_at: self.ctx.started_at,
            ended_at: ended.map(|(_, t)| t),
        }
    }

    fn set_state(&self, state: RunState) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
    }

    fn is_ended(&self) -> bool {
        self.state.lock().map(|s| s.is_ended()).unwrap_or(true)
    }

    async fn wait(&self) {
        let mut done = self.done.subscribe();
        let _ = done.wait_for(|d| *d).await;
    }
}

/// State shared by the host handle and every instance.
pub(crate) struct Shared {
    pub(crate) engine: Arc<HostEngine>,
    pub(crate) sessions: Arc<dyn SessionDirectory>,
    config: HostConfig,
    types: RwLock<HashMap<String, Arc<ModuleType>>>,
    modules: Mutex<HashMap<String, Arc<Running>>>,
    root: CancellationToken,
    tasks: TaskTracker,
}

/// The module host: loads module types and runs, lists and closes modules.
///
/// Cloning is cheap; clones share everything.
#[derive(Clone)]
pub struct ModuleHost {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ModuleHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleHost").finish_non_exhaustive()
    }
}

/// Checks an id of a module or session: 1 to 128 letters, digits, `.`,
/// `_` or `-`.
///
/// Returns an error saying what is wrong with it.
pub fn check_identifier(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        Err("it is empty; give 1 to 128 letters, digits, '.', '_' or '-'")
    } else if id.len() > MAX_MODULE_ID_LEN {
        Err("it is longer than 128 bytes")
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        Err("use only letters, digits, '.', '_' and '-'")
    } else {
        Ok(())
    }
}

fn check_id(id: &str) -> Result<(), HostError> {
    check_identifier(id).map_err(|reason| HostError::InvalidId {
        id: id.to_owned(),
        reason,
    })
}

impl ModuleHost {
    /// Starts a module host with its engine.
    ///
    /// Returns an error if the engine or its cache folder cannot be set up.
    pub fn new(config: HostConfig, sessions: Arc<dyn SessionDirectory>) -> Result<Self, HostError> {
        let engine = Arc::new(HostEngine::new(&config.engine)?);
        Ok(Self {
            shared: Arc::new(Shared {
                engine,
                sessions,
                config,
                types: RwLock::new(HashMap::new()),
                modules: Mutex::new(HashMap::new()),
                root: CancellationToken::new(),
                tasks: TaskTracker::new(),
            }),
        })
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Loads every `.wasm` file in `dir` as a module type.
    ///
    /// A file that fails to load is skipped and reported in the returned
    /// list; the others load. Returns an error only if `dir` cannot be read.
    pub async fn load_dir(&self, dir: &Path) -> Result<Vec<LoadError>, HostError> {
        let io = |source| HostError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
            .collect();
        paths.sort();
        let mut failures = Vec::new();
        for path in paths {
            if let Err(e) = self.load_file(&path).await {
                let failure = match e {
                    HostError::Load(e) => e,
                    other => LoadError {
                        origin: path.display().to_string(),
                        reason: other.to_string(),
                    },
                };
                tracing::warn!(module = %failure.origin, reason = %failure.reason, "module type not loaded");
                failures.push(failure);
            }
        }
        Ok(failures)
    }

    /// Loads one `.wasm` file as a module type and returns its info.
    ///
    /// Returns an error if the file cannot be read, is not a valid module,
    /// or names a type that is already loaded.
    pub async fn load_file(&self, path: &Path) -> Result<ModuleInfo, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(bytes, path.display().to_string()).await
    }

    /// Loads a module type from `bytes`, naming it `origin` in messages,
    /// and returns its info.
    ///
    /// Returns an error if the bytes are not a valid module or name a type
    /// that is already loaded.
    pub async fn load_bytes(
        &self,
        bytes: Vec<u8>,
        origin: String,
    ) -> Result<ModuleInfo, HostError> {
        let loaded = catalog::load(
            &self.shared.engine,
            self.shared.sessions.clone(),
            bytes,
            origin,
        )
        .await?;
        self.insert_type(loaded)
    }

    /// Checks `bytes` as a module, writes it to the module directory as
    /// `<type>.wasm`, and loads it.
    ///
    /// Returns an error if there is no module directory, the module is
    /// invalid, or its type is already loaded; nothing is written then.
    pub async fn install(&self, bytes: Vec<u8>) -> Result<ModuleInfo, HostError> {
        let Some(dir) = self.shared.config.module_dir.clone() else {
            return Err(HostError::NoModuleDir);
        };
        let mut checked = catalog::load(
            &self.shared.engine,
            self.shared.sessions.clone(),
            bytes.clone(),
            "upload".into(),
        )
        .await?;
        let name = checked.info.type_name.clone();
        self.check_new_type(&name)?;
        let path = dir.join(format!("{name}.wasm"));
        let io = |source| HostError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let tmp = path.with_extension("wasm.tmp");
        std::fs::write(&tmp, &bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        checked.origin = path.display().to_string();
        self.insert_type(checked)
    }

    /// Returns an error if a type named `type_name` is already loaded.
    fn check_new_type(&self, type_name: &str) -> Result<(), HostError> {
        let types = self
            .shared
            .types
            .read()
            .map_err(|_| HostError::ShuttingDown)?;
        match types.get(type_name) {
            Some(existing) => Err(HostError::DuplicateType {
                type_name: type_name.to_owned(),
                existing: existing.origin.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Lists a loaded type, unless one of its name is already listed.
    fn insert_type(&self, loaded: ModuleType) -> Result<ModuleInfo, HostError> {
        let info = loaded.info.clone();
        let mut types = self
            .shared
            .types
            .write()
            .map_err(|_| HostError::ShuttingDown)?;
        if let Some(existing) = types.get(&info.type_name) {
            return Err(HostError::DuplicateType {
                type_name: info.type_name.clone(),
                existing: existing.origin.clone(),
            });
        }
        tracing::info!(module_type = %info.type_name, origin = %loaded.origin, digest = %loaded.digest, "module type loaded");
        types.insert(info.type_name.clone(), Arc::new(loaded));
        Ok(info)
    }

    /// The loaded module types, by name.
    pub fn types(&self) -> Vec<ModuleInfo> {
        let Ok(types) = self.shared.types.read() else {
            return Vec::new();
        };
        let mut infos: Vec<ModuleInfo> = types.values().map(|t| t.info.clone()).collect();
        infos.sort_by(|a, b| a.type_name.cmp(&b.type_name));
        infos
    }

    /// Starts a module.
    ///
    /// Returns an error if the id is malformed or in use by a running
    /// module, the type is unknown, the options do not fit its schema, or
    /// the host is shutting down. An ended module with the same id is
    /// replaced.
    pub fn run(&self, request: RunRequest) -> Result<ModuleStatus, HostError> {
        let shared = &self.shared;
        if shared.root.is_cancelled() {
            return Err(HostError::ShuttingDown);
        }
        check_id(&request.id)?;
        let module_type = shared
            .types
            .read()
            .ok()
            .and_then(|t| t.get(&request.type_name).cloned())
            .ok_or_else(|| HostError::UnknownType {
                type_name: request.type_name.clone(),
            })?;
        let options = resolve_options(&module_type.info, &request.options)?;
        let limits = request
            .limits
            .unwrap_or_else(|| shared.config.default_limits.clone())
            .clamped();
        let ctx = RunContext::new(
            request.id.clone(),
            module_type.info.type_name.clone(),
            module_type.info.kind,
            request.grants,
            limits,
            shared.root.child_token(),
        );
        let (done, _) = watch::channel(false);
        let running = Arc::new(Running {
            ctx: ctx.clone(),
            state: Mutex::new(RunState::Starting),
            ended_at: Mutex::new(None),
            force: CancellationToken::new(),
            done,
        });
        {
            let mut modules = shared.modules.lock().map_err(|_| HostError::ShuttingDown)?;
            self.purge_expired(&mut modules);
            if modules.get(&request.id).is_some_and(|m| !m.is_ended()) {
                return Err(HostError::DuplicateModule { id: request.id });
            }
            modules.insert(request.id, running.clone());
        }
        let status = running.status();
        tracing::info!(module = %ctx.id, module_type = %ctx.type_name, kind = %ctx.kind, "module starting");
        let shared = shared.clone();
        self.shared.tasks.spawn(async move {
            let on_start = {
                let running = running.clone();
                move || running.set_state(RunState::Running)
            };
            let outcome = tokio::select! {
                outcome = execute(shared, module_type, ctx.clone(), options, on_start) => outcome,
                () = running.force.cancelled() => Outcome::Stopped,
            };
            let state = match outcome {
                Outcome::Finished(result) => RunState::Finished(result),
                Outcome::Failed(reason) => RunState::Failed(reason),
                Outcome::Stopped => RunState::Stopped,
            };
            match &state {
                RunState::Failed(reason) => {
                    tracing::warn!(module = %ctx.id, %reason, "module failed");
                }
                other => tracing::info!(module = %ctx.id, state = other.name(), "module ended"),
            }
            if let Ok(mut ended) = running.ended_at.lock() {
                *ended = Some((Instant::now(), SystemTime::now()));
            }
            running.set_state(state);
            running.done.send_replace(true);
        });
        Ok(status)
    }

    fn purge_expired(&self, modules: &mut HashMap<String, Arc<Running>>) {
        let retention = self.shared.config.retention;
        modules.retain(|_, m| {
            let ended = m.ended_at.lock().ok().and_then(|e| *e);
            ended.is_none_or(|(at, _)| at.elapsed() < retention)
        });
    }

    fn running(&self, id: &str) -> Result<Arc<Running>, HostError> {
        self.shared
            .modules
            .lock()
            .ok()
            .and_then(|m| m.get(id).cloned())
            .ok_or_else(|| HostError::UnknownModule { id: id.to_owned() })
    }

    /// Running modules and ended ones still within the retention period, by
    /// id.
    pub fn list(&self) -> Vec<ModuleStatus> {
        let Ok(mut modules) = self.shared.modules.lock() else {
            return Vec::new();
        };
        self.purge_expired(&mut modules);
        let mut list: Vec<ModuleStatus> = modules.values().map(|m| m.status()).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// The status of module `id`.
    ///
    /// Returns an error if no module has that id.
    pub fn status(&self, id: &str) -> Result<ModuleStatus, HostError> {
        Ok(self.running(id)?.status())
    }

    /// The recent log lines of module `id`, oldest first.
    ///
    /// Returns an error if no module has that id.
    pub fn logs(&self, id: &str) -> Result<Vec<LogLine>, HostError> {
        Ok(self.running(id)?.ctx.logs())
    }

    /// Waits until module `id` ends and returns its final status.
    ///
    /// Returns an error if no module has that id.
    pub async fn wait(&self, id: &str) -> Result<ModuleStatus, HostError> {
        let running = self.running(id)?;
        running.wait().await;
        Ok(running.status())
    }

    /// Stops module `id`: asks it to stop, waits its grace period, then
    /// ends it. Returns its final status; closing an ended module returns
    /// its status unchanged.
    ///
    /// Returns an error if no module has that id.
    pub async fn close(&self, id: &str) -> Result<ModuleStatus, HostError> {
        let running = self.running(id)?;
        Self::stop(&running).await;
        Ok(running.status())
    }

    async fn stop(running: &Running) {
        if running.is_ended() {
            return;
        }
        running.ctx.stop.cancel();
        let grace = running.ctx.limits.stop_grace;
        if tokio::time::timeout(grace, running.wait()).await.is_err() {
            tracing::info!(module = %running.ctx.id, ?grace, "module ignored the stop request; ending it");
            running.force.cancel();
            running.wait().await;
        }
    }

    /// Stops every module (each with its grace period, all at once), then
    /// refuses new runs.
    pub async fn close_all(&self) {
        self.shared.root.cancel();
        let all: Vec<Arc<Running>> = self
            .shared
            .modules
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        let mut stops = tokio::task::JoinSet::new();
        for running in all {
            stops.spawn(async move { Self::stop(&running).await });
        }
        while stops.join_next().await.is_some() {}
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
    }

    /// Whether `id` names the module making a host call, to refuse a
    /// self-close.
    pub(crate) fn check_not_self(id: &str, caller: &str) -> Result<(), HostError> {
        if id == caller {
            return Err(HostError::SelfClose { id: id.to_owned() });
        }
        Ok(())
    }
}
