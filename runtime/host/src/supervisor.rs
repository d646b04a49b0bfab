//! The module host: one handle over the type registry (`registry`) and the
//! run lifecycle (`lifecycle`), with the requests and config they take.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::context::{Grants, LogLine};
use crate::directory::SessionDirectory;
use crate::engine::{EngineOptions, HostEngine};
use crate::error::{HostError, LoadError};
use crate::info::ModuleInfo;
use crate::installed::{Installed, LoadedType, OnExisting, Removed};
use crate::lifecycle::Lifecycle;
use crate::limits::ModuleLimits;
use crate::registry::TypeRegistry;
use crate::status::{ModuleStatus, TypeActivity};

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
    /// The run's id: 1 to 128 letters, digits, `.`, `_` or `-`. (A
    /// module's children get `parent/child` ids, which no request can.)
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

pub(crate) fn check_id(id: &str) -> Result<(), HostError> {
    check_identifier(id).map_err(|reason| HostError::InvalidId {
        id: id.to_owned(),
        reason,
    })
}

/// The module host: loads module types and runs, lists and closes modules.
///
/// Cloning is cheap; clones share everything.
#[derive(Clone)]
pub struct ModuleHost {
    registry: Arc<TypeRegistry>,
    lifecycle: Arc<Lifecycle>,
    default_limits: Arc<ModuleLimits>,
}

impl std::fmt::Debug for ModuleHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleHost").finish_non_exhaustive()
    }
}

impl ModuleHost {
    /// Starts a module host with its engine.
    ///
    /// Returns an error if the engine or its cache folder cannot be set up.
    pub fn new(config: HostConfig, sessions: Arc<dyn SessionDirectory>) -> Result<Self, HostError> {
        let engine = Arc::new(HostEngine::new(&config.engine)?);
        let registry = Arc::new(TypeRegistry::new(engine.clone(), config.module_dir));
        let lifecycle = Lifecycle::new(engine, sessions, registry.clone(), config.retention);
        Ok(Self {
            registry,
            lifecycle,
            default_limits: Arc::new(config.default_limits),
        })
    }

    /// Loads every `.wasm` file in `dir` as a module type.
    ///
    /// A file that fails to load is skipped and reported in the returned
    /// list; the others load. Returns an error only if `dir` cannot be read.
    pub async fn load_dir(&self, dir: &Path) -> Result<Vec<LoadError>, HostError> {
        self.registry.load_dir(dir).await
    }

    /// Loads one `.wasm` file as a module type and returns its info.
    ///
    /// Returns an error if the file cannot be read, is not a valid module,
    /// or names a type that is already loaded.
    pub async fn load_file(&self, path: &Path) -> Result<ModuleInfo, HostError> {
        self.registry.load_file(path).await
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
        self.registry.load_bytes(bytes, origin).await
    }

    /// Checks `bytes` as a module, writes it to the module directory as
    /// `<type>.wasm`, and loads it.
    ///
    /// When a type of the same name is loaded, [`OnExisting`] says whether
    /// to refuse or to replace it. A replaced type serves new runs only:
    /// runs already started keep the build they started with. Its file in
    /// the module directory, if it had another name, is deleted so the
    /// next start loads only the new build.
    ///
    /// Returns an error if there is no module directory, the module is
    /// invalid (its info over `MAX_INFO_BYTES` included), its type is
    /// already loaded and not to be replaced, or the file cannot be
    /// written; nothing changes then: no file, no type.
    pub async fn install(
        &self,
        bytes: Vec<u8>,
        on_existing: OnExisting,
    ) -> Result<Installed, HostError> {
        self.registry.install(bytes, on_existing).await
    }

    /// Unlists module type `type_name` and deletes its file when that file
    /// is in the module directory, so it is gone after a restart too.
    /// Runs already started keep the type's build until they end; new
    /// runs of it fail as an unknown type.
    ///
    /// Returns an error if no type has that name or its file cannot be
    /// deleted; the type stays loaded then.
    pub fn remove_type(&self, type_name: &str) -> Result<Removed, HostError> {
        let (removed, file_deleted) = self.registry.remove(type_name)?;
        let still_running = self
            .lifecycle
            .list()
            .iter()
            .filter(|s| s.type_name == type_name && !s.state.is_ended())
            .count();
        Ok(Removed {
            removed,
            file_deleted,
            still_running,
        })
    }

    /// The loaded module types, by name.
    pub fn types(&self) -> Vec<ModuleInfo> {
        self.registry.infos()
    }

    /// The loaded module types with the digest and origin of each, by name.
    pub fn loaded_types(&self) -> Vec<LoadedType> {
        self.registry.listings()
    }

    /// Starts a module.
    ///
    /// Returns an error if the id is malformed or in use by a running
    /// module, the type is unknown, the options do not fit its schema, or
    /// the host is shutting down. An ended module with the same id is
    /// replaced.
    pub fn run(&self, request: RunRequest) -> Result<ModuleStatus, HostError> {
        self.lifecycle.start(request, &self.default_limits)
    }

    /// Running modules and ended ones still retained, by id: within the
    /// retention period, and at most `MAX_RETAINED_RUNS` ended ones.
    pub fn list(&self) -> Vec<ModuleStatus> {
        self.lifecycle.list()
    }

    /// What the runs of each module type have done since the host started,
    /// by type name: one entry per type that ever ran, however many runs
    /// came and went.
    pub fn activity(&self) -> Vec<TypeActivity> {
        self.lifecycle.activity()
    }

    /// The status of module `id`.
    ///
    /// Returns an error if no module has that id.
    pub fn status(&self, id: &str) -> Result<ModuleStatus, HostError> {
        self.lifecycle.status(id)
    }

    /// The recent log lines of module `id`, oldest first.
    ///
    /// Returns an error if no module has that id.
    pub fn logs(&self, id: &str) -> Result<Vec<LogLine>, HostError> {
        self.lifecycle.logs(id)
    }

    /// Waits until module `id` ends and returns its final status.
    ///
    /// Returns an error if no module has that id.
    pub async fn wait(&self, id: &str) -> Result<ModuleStatus, HostError> {
        self.lifecycle.wait(id).await
    }

    /// Stops module `id`: asks it to stop, waits its grace period, then
    /// ends it. Returns its final status; closing an ended module returns
    /// its status unchanged. Its descendants end with it.
    ///
    /// Returns an error if no module has that id.
    pub async fn close(&self, id: &str) -> Result<ModuleStatus, HostError> {
        self.lifecycle.close(id).await
    }

    /// Stops every module (each with its grace period, all at once), then
    /// refuses new runs.
    pub async fn close_all(&self) {
        self.lifecycle.close_all().await;
    }
}
