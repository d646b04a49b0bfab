//! The session registry: every configured store, every session stored in
//! them, and the sessions the daemon holds open.
//!
//! Sessions are persistent datasets. The registry knows every stored
//! session from startup on; one is *open* while the daemon holds its
//! worker pool, from `open_session` or from the first stream or module
//! that uses it, until it is closed. Session ids are unique across the
//! daemon's session types. Locks guard only maps and are never held across
//! storage work.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bgpmon_host::SessionDirectory;
use bgpmon_store::{
    Backend, DatasetId, Import, Node, RedbBackend, Session, SessionOptions, SessionStats,
    StoreError, StoredSession,
};

use crate::config::StoreKind;
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
    /// Its default worker count, for API clients.
    pub workers: u32,
    /// Its module worker count, for modules together.
    pub module_workers: u32,
    /// Streams one module family may hold on one session.
    pub module_streams: u32,
    /// How long a stream open waits for a worker.
    pub worker_wait: Duration,
}

/// A stored session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session's id.
    pub id: String,
    /// Its session type.
    pub session_type: String,
    /// Whether the daemon holds it open.
    pub open: bool,
    /// How many streams may be open at once; 0 when not open.
    pub workers: u32,
    /// How many are open now.
    pub workers_busy: u32,
    /// How many streams modules may have open at once; 0 when not open.
    pub module_workers: u32,
    /// How many modules have open now.
    pub module_workers_busy: u32,
    /// When it was created, in microseconds since the unix epoch.
    pub created_us: u64,
    /// What it stores.
    pub stats: SessionStats,
}

/// One configured store.
struct Store {
    info: SessionTypeInfo,
    backend: Arc<dyn Backend>,
}

/// Where a stored session lives.
#[derive(Clone, Debug)]
struct Known {
    session_type: String,
    dataset: DatasetId,
}

/// The registry. See the module documentation.
pub(crate) struct SessionRegistry {
    stores: BTreeMap<String, Store>,
    known: RwLock<HashMap<String, Known>>,
    open: RwLock<HashMap<String, Arc<Session>>>,
}

fn task_failed(e: &tokio::task::JoinError) -> ServerError {
    ServerError::Store(StoreError::TaskFailed {
        task: "storage task",
        detail: e.to_string(),
    })
}

/// Runs blocking storage work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T> {
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| task_failed(&e))??)
}

impl SessionRegistry {
    /// Opens every store of `types`, records `nodes` in each, and reads
    /// the sessions they hold.
    ///
    /// Returns an error naming the session type if a store cannot open.
    pub(crate) async fn open(types: Vec<SessionTypeInfo>, nodes: Vec<Node>) -> Result<Self> {
        let mut stores = BTreeMap::new();
        let mut known = HashMap::new();
        for info in types {
            let path = info.path.clone();
            let nodes = nodes.clone();
            let (backend, stored) = blocking(move || {
                let store = RedbBackend::open(&path)?;
                if !nodes.is_empty() {
                    store.put_nodes(&nodes)?;
                }
                let stored = store.datasets()?;
                Ok((Arc::new(store) as Arc<dyn Backend>, stored))
            })
            .await?;
            tracing::info!(session_type = %info.name, path = %info.path.display(), sessions = stored.len(), "store opened");
            for session in stored {
                if let Some(other) = known.get(&session.name) {
                    let Known { session_type, .. } = other;
                    tracing::warn!(session = %session.name, session_type = %info.name, kept = %session_type, "a session id is stored in two session types; the first type's is used");
                    continue;
                }
                known.insert(
                    session.name,
                    Known {
                        session_type: info.name.clone(),
                        dataset: session.dataset,
                    },
                );
            }
            stores.insert(info.name.clone(), Store { info, backend });
        }
        Ok(Self {
            stores,
            known: RwLock::new(known),
            open: RwLock::new(HashMap::new()),
        })
    }

    /// The configured session types, by name.
    pub(crate) fn types(&self) -> Vec<SessionTypeInfo> {
        self.stores.values().map(|s| s.info.clone()).collect()
    }

    fn store(&self, session_type: &str) -> Result<&Store> {
        self.stores
            .get(session_type)
            .ok_or_else(|| ServerError::UnknownSessionType {
                name: session_type.to_owned(),
                known: self.stores.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    fn known(&self, id: &str) -> Option<Known> {
        self.known.read().ok()?.get(id).cloned()
    }

    /// Whether `id` is stored.
    pub(crate) fn is_stored(&self, id: &str) -> bool {
        self.known(id).is_some()
    }

    fn loaded(&self, id: &str) -> Option<Arc<Session>> {
        self.open.read().ok()?.get(id).cloned()
    }

    /// Holds a session open, with `workers` or its type's default.
    fn hold(&self, id: &str, known: &Known, workers: Option<u32>) -> Result<Arc<Session>> {
        let store = self.store(&known.session_type)?;
        let mut open = self.open.write().map_err(|_| ServerError::ShuttingDown)?;
        if let Some(session) = open.get(id) {
            return Ok(session.clone());
        }
        let options = SessionOptions {
            workers: workers.unwrap_or(store.info.workers),
            module_workers: store.info.module_workers,
            module_streams: store.info.module_streams,
            worker_wait: store.info.worker_wait,
        };
        let session = Arc::new(Session::new(
            id,
            known.dataset,
            &known.session_type,
            store.backend.clone(),
            options,
        ));
        open.insert(id.to_owned(), session.clone());
        Ok(session)
    }

    /// Creates session `id` of `session_type`, or reopens it if it is
    /// stored, and holds it open.
    ///
    /// Returns an error if the type is unknown, the id is stored in
    /// another type, or the store fails.
    pub(crate) async fn open_session(
        &self,
        session_type: &str,
        id: &str,
        workers: Option<u32>,
    ) -> Result<(Arc<Session>, bool)> {
        let store = self.store(session_type)?;
        if let Some(known) = self.known(id) {
            if known.session_type != session_type {
                return Err(ServerError::DuplicateSession {
                    id: id.to_owned(),
                    session_type: known.session_type,
                });
            }
            return Ok((self.hold(id, &known, workers)?, false));
        }
        let backend = store.backend.clone();
        let name = id.to_owned();
        let stored: StoredSession = blocking(move || {
            backend
                .open_dataset(&name, true)?
                .ok_or_else(|| StoreError::UnknownDataset {
                    session: name.clone(),
                })
        })
        .await?;
        let known = Known {
            session_type: session_type.to_owned(),
            dataset: stored.dataset,
        };
        self.known
            .write()
            .map_err(|_| ServerError::ShuttingDown)?
            .insert(id.to_owned(), known.clone());
        tracing::info!(session = %id, session_type, "session created");
        Ok((self.hold(id, &known, workers)?, true))
    }

    /// The stored session `id`, opened if it was not.
    ///
    /// Returns an error if no session has that id.
    pub(crate) fn session(&self, id: &str) -> Result<Arc<Session>> {
        if let Some(session) = self.loaded(id) {
            return Ok(session);
        }
        let known = self
            .known(id)
            .ok_or_else(|| ServerError::UnknownSession { id: id.to_owned() })?;
        self.hold(id, &known, None)
    }

    fn info_of(&self, id: &str, known: &Known, stored: &StoredSession) -> SessionInfo {
        let open = self.loaded(id);
        SessionInfo {
            id: id.to_owned(),
            session_type: known.session_type.clone(),
            open: open.is_some(),
            workers: open.as_ref().map_or(0, |s| s.workers()),
            workers_busy: open.as_ref().map_or(0, |s| s.workers_busy()),
            module_workers: open.as_ref().map_or(0, |s| s.module_workers()),
            module_workers_busy: open.as_ref().map_or(0, |s| s.module_workers_busy()),
            created_us: stored.created_us,
            stats: stored.stats,
        }
    }

    async fn stored(&self, id: &str) -> Result<(Known, StoredSession)> {
        let known = self
            .known(id)
            .ok_or_else(|| ServerError::UnknownSession { id: id.to_owned() })?;
        let backend = self.store(&known.session_type)?.backend.clone();
        let dataset = known.dataset;
        let stored = blocking(move || backend.dataset(dataset)).await?;
        Ok((known, stored))
    }

    /// Every stored session, by id.
    ///
    /// Returns an error if a store fails.
    pub(crate) async fn list(&self) -> Result<Vec<SessionInfo>> {
        let mut ids: Vec<String> = self
            .known
            .read()
            .map(|k| k.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            // A session deleted meanwhile is left out.
            if let Ok((known, stored)) = self.stored(&id).await {
                out.push(self.info_of(&id, &known, &stored));
            }
        }
        Ok(out)
    }

    /// Session `id` with its imports.
    ///
    /// Returns an error if no session has that id or its store fails.
    pub(crate) async fn info(&self, id: &str) -> Result<(SessionInfo, Vec<Import>)> {
        let (known, stored) = self.stored(id).await?;
        let backend = self.store(&known.session_type)?.backend.clone();
        let dataset = known.dataset;
        let imports = blocking(move || backend.imports(dataset)).await?;
        Ok((self.info_of(id, &known, &stored), imports))
    }

    /// Closes session `id` if it is open: its streams fail from their next
    /// call and roll back what they did not flush. Its data stays.
    ///
    /// Returns an error if no session has that id.
    pub(crate) fn close(&self, id: &str) -> Result<()> {
        if !self.is_stored(id) {
            return Err(ServerError::UnknownSession { id: id.to_owned() });
        }
        let session = self
            .open
            .write()
            .map_err(|_| ServerError::ShuttingDown)?
            .remove(id);
        if let Some(session) = session {
            session.close();
            tracing::info!(session = %id, "session closed");
        }
        Ok(())
    }

    /// Deletes session `id` and its data, closing it first, and returns
    /// how many captures it held.
    ///
    /// Returns an error if no session has that id or its store fails.
    pub(crate) async fn delete(&self, id: &str) -> Result<u64> {
        let (known, stored) = self.stored(id).await?;
        self.close(id)?;
        let backend = self.store(&known.session_type)?.backend.clone();
        let dataset = known.dataset;
        blocking(move || backend.delete_dataset(dataset)).await?;
        self.known
            .write()
            .map_err(|_| ServerError::ShuttingDown)?
            .remove(id);
        tracing::info!(session = %id, captures = stored.stats.captures, "session deleted");
        Ok(stored.stats.captures)
    }

    /// Closes every open session.
    pub(crate) fn close_all(&self) {
        let sessions: Vec<Arc<Session>> = self
            .open
            .write()
            .map(|mut m| m.drain().map(|(_, s)| s).collect())
            .unwrap_or_default();
        for session in sessions {
            session.close();
        }
    }
}

impl SessionDirectory for SessionRegistry {
    fn session(&self, id: &str) -> Option<Arc<Session>> {
        SessionRegistry::session(self, id).ok()
    }

    fn sessions(&self) -> Vec<Arc<Session>> {
        let mut ids: Vec<String> = self
            .known
            .read()
            .map(|k| k.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        ids.iter()
            .filter_map(|id| SessionRegistry::session(self, id).ok())
            .collect()
    }
}
