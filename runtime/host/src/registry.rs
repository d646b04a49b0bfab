//! The type registry: the module types loaded from the module directory or
//! installed through the API.
//!
//! A type is listed only once it is checked whole (see `catalog`), and an
//! install writes its file and lists its type in one step under the
//! registry's lock, so an install that fails leaves nothing behind: no
//! file, no type. A replacing install and a removal change the file and
//! the listing under the same lock. Runs hold their type's `Arc`, so
//! neither touches a run already started.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::catalog::{self, ModuleType};
use crate::engine::HostEngine;
use crate::error::{HostError, LoadError};
use crate::info::ModuleInfo;
use crate::installed::{Installed, LoadedType, OnExisting};

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
        self.list_type(loaded, None, OnExisting::Refuse)
            .map(|installed| installed.loaded.info)
    }

    /// Checks `bytes`, writes them to the module directory and lists the
    /// type; see `ModuleHost::install`.
    pub(crate) async fn install(
        &self,
        bytes: Vec<u8>,
        on_existing: OnExisting,
    ) -> Result<Installed, HostError> {
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
        let listed = self.list_type(checked, Some((&tmp, &path)), on_existing);
        if listed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        listed
    }

    /// Unlists the type named `type_name` and deletes its file when that
    /// file is in the module directory; see `ModuleHost::remove_type`.
    ///
    /// Returns the removed type and whether its file was deleted.
    pub(crate) fn remove(&self, type_name: &str) -> Result<(LoadedType, bool), HostError> {
        let mut types = self.types.write().map_err(|_| HostError::ShuttingDown)?;
        let removed =
            types
                .get(type_name)
                .map(|t| listing(t))
                .ok_or_else(|| HostError::UnknownType {
                    type_name: type_name.to_owned(),
                })?;
        let file = self.file_in_module_dir(&removed.origin);
        if let Some(file) = &file {
            // The file goes first: if it cannot be deleted, the type stays
            // listed, as it would load again at the next start.
            std::fs::remove_file(file).map_err(|source| HostError::Io {
                path: file.clone(),
                source,
            })?;
        }
        types.remove(type_name);
        tracing::info!(module_type = %type_name, origin = %removed.origin, "module type removed");
        Ok((removed, file.is_some()))
    }

    /// `origin` as a path, if it names a file directly in the module
    /// directory: the files this registry may replace or delete.
    fn file_in_module_dir(&self, origin: &str) -> Option<PathBuf> {
        let dir = self.module_dir.as_deref()?;
        let path = PathBuf::from(origin);
        (path.parent() == Some(dir) && path.is_file()).then_some(path)
    }

    /// Lists a loaded type. A type of its name already listed is refused,
    /// or with [`OnExisting::Replace`] replaced. With `file`, first moves
    /// the uploaded file into place, under the same lock, so the type is
    /// listed if and only if its file is in place.
    fn list_type(
        &self,
        loaded: ModuleType,
        file: Option<(&Path, &Path)>,
        on_existing: OnExisting,
    ) -> Result<Installed, HostError> {
        let mut types = self.types.write().map_err(|_| HostError::ShuttingDown)?;
        let existing = types.get(&loaded.info.type_name).cloned();
        if let Some(existing) = &existing
            && on_existing == OnExisting::Refuse
        {
            return Err(HostError::DuplicateType {
                type_name: loaded.info.type_name,
                existing: existing.origin.clone(),
            });
        }
        if let Some((_, to)) = file
            && let Some(holder) = types
                .values()
                .find(|t| t.info.type_name != loaded.info.type_name && Path::new(&t.origin) == to)
        {
            return Err(HostError::FileTaken {
                path: to.to_path_buf(),
                type_name: loaded.info.type_name,
                holder: holder.info.type_name.clone(),
            });
        }
        if let Some((from, to)) = file {
            std::fs::rename(from, to).map_err(|source| HostError::Io {
                path: to.to_path_buf(),
                source,
            })?;
        }
        // A replaced type's own file, under another name in the module
        // directory, would load beside the new one at the next start.
        if let Some(old) = existing
            .as_ref()
            .and_then(|e| self.file_in_module_dir(&e.origin))
            .filter(|old| Some(old.as_path()) != file.map(|(_, to)| to))
            && let Err(e) = std::fs::remove_file(&old)
        {
            tracing::warn!(file = %old.display(), error = %e, "the replaced module type's file could not be deleted; it will be refused as a duplicate at the next start");
        }
        tracing::info!(module_type = %loaded.info.type_name, origin = %loaded.origin, digest = %loaded.digest, replaced = existing.is_some(), "module type loaded");
        let listed = listing(&loaded);
        types.insert(loaded.info.type_name.clone(), Arc::new(loaded));
        Ok(Installed {
            loaded: listed,
            replaced: existing.map(|e| listing(&e)),
        })
    }

    /// The loaded types with their digests and origins, by name.
    pub(crate) fn listings(&self) -> Vec<LoadedType> {
        let Ok(types) = self.types.read() else {
            return Vec::new();
        };
        let mut listed: Vec<LoadedType> = types.values().map(|t| listing(t)).collect();
        listed.sort_by(|a, b| a.info.type_name.cmp(&b.info.type_name));
        listed
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

fn listing(t: &ModuleType) -> LoadedType {
    LoadedType {
        info: t.info.clone(),
        digest: t.digest.clone(),
        origin: t.origin.clone(),
        wit_version: t.pre.version(),
    }
}
