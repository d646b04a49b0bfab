//! The type registry: the module types loaded from the module directory or
//! installed through the API.
//!
//! A type is listed only once it is checked whole (see `catalog`), and an
//! install writes its file and lists its type in one step under the
//! registry's lock, so an install that fails leaves nothing behind: no
//! file, no type.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::catalog::{self, ModuleType};
use crate::engine::HostEngine;
use crate::error::{HostError, LoadError};
use crate::info::ModuleInfo;

/// The loaded module types.
pub(crate) struct TypeRegistry {
    engine: Arc<HostEngine>,
    module_dir: Option<PathBuf>,
    types: RwLock<HashMap<String, Arc<ModuleType>>>,
    next_upload: AtomicU64,
}

impl TypeRegistry {
    pub(crate) fn new(engine: Arc<HostEngine>, module_dir: Option<PathBuf>) -> Self {
        Self {
            engine,
            module_dir,
            types: RwLock::new(HashMap::new()),
            next_upload: AtomicU64::new(0),
        }
    }

    /// Loads every `.wasm` file in `dir`; see `ModuleHost::load_dir`.
    pub(crate) async fn load_dir(&self, dir: &Path) -> Result<Vec<LoadError>, HostError> {
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
                // The reason can carry the module's own text: escaped.
                tracing::warn!(module = %failure.origin, reason = ?failure.reason, "module type not loaded");
                failures.push(failure);
            }
        }
        Ok(failures)
    }

    /// Loads one `.wasm` file; see `ModuleHost::load_file`.
    pub(crate) async fn load_file(&self, path: &Path) -> Result<ModuleInfo, HostError> {
        let bytes = std::fs::read(path).map_err(|source| HostError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_bytes(bytes, path.display().to_string()).await
    }

    /// Loads a type from `bytes`; see `ModuleHost::load_bytes`.
    pub(crate) async fn load_bytes(
        &self,
        bytes: Vec<u8>,
        origin: String,
    ) -> Result<ModuleInfo, HostError> {
        let loaded = catalog::load(&self.engine, bytes, origin).await?;
        self.list_type(loaded, None)
    }

    /// Checks `bytes`, writes them to the module directory and lists the
    /// type; see `ModuleHost::install`.
    pub(crate) async fn install(&self, bytes: Vec<u8>) -> Result<ModuleInfo, HostError> {
        let Some(dir) = self.module_dir.clone() else {
            return Err(HostError::NoModuleDir);
        };
        let mut checked = catalog::load(&self.engine, bytes.clone(), "upload".into()).await?;
        let path = dir.join(format!("{}.wasm", checked.info.type_name));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| HostError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let n = self.next_upload.fetch_add(1, Ordering::Relaxed);
        // A name no load picks up (it does not end in `.wasm`), unique per
        // install, so two installs never write the same file.
        let tmp = dir.join(format!(
            ".{}.{}-{n}.upload",
            checked.info.type_name,
            std::process::id()
        ));
        if let Err(e) = std::fs::write(&tmp, &bytes) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(&tmp)(e));
        }
        checked.origin = path.display().to_string();
        let listed = self.list_type(checked, Some((&tmp, &path)));
        if listed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        listed
    }

    /// Lists a loaded type, unless one of its name is already listed. With
    /// `file`, first moves the uploaded file into place, under the same
    /// lock, so the type is listed if and only if its file is in place.
    fn list_type(
        &self,
        loaded: ModuleType,
        file: Option<(&Path, &Path)>,
    ) -> Result<ModuleInfo, HostError> {
        let info = loaded.info.clone();
        let mut types = self.types.write().map_err(|_| HostError::ShuttingDown)?;
        if let Some(existing) = types.get(&info.type_name) {
            return Err(HostError::DuplicateType {
                type_name: info.type_name.clone(),
                existing: existing.origin.clone(),
            });
        }
        if let Some((from, to)) = file {
            std::fs::rename(from, to).map_err(|source| HostError::Io {
                path: to.to_path_buf(),
                source,
            })?;
        }
        tracing::info!(module_type = %info.type_name, origin = %loaded.origin, digest = %loaded.digest, "module type loaded");
        types.insert(info.type_name.clone(), Arc::new(loaded));
        Ok(info)
    }

    /// The loaded types, by name.
    pub(crate) fn infos(&self) -> Vec<ModuleInfo> {
        let Ok(types) = self.types.read() else {
            return Vec::new();
        };
        let mut infos: Vec<ModuleInfo> = types.values().map(|t| t.info.clone()).collect();
        infos.sort_by(|a, b| a.type_name.cmp(&b.type_name));
        infos
    }

    /// The type named `type_name`.
    ///
    /// Returns an error if no such type is loaded.
    pub(crate) fn get(&self, type_name: &str) -> Result<Arc<ModuleType>, HostError> {
        self.types
            .read()
            .ok()
            .and_then(|t| t.get(type_name).cloned())
            .ok_or_else(|| HostError::UnknownType {
                type_name: type_name.to_owned(),
            })
    }
}
