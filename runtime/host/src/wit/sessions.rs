//! `bgpmon:module/sessions`: handles on the server's open sessions, within
//! the module's grants.

use std::sync::Arc;

use bgpmon_store::{EntityFilter, ModuleStreams, ReadOnlySession};
use wasmtime::component::Resource;

use super::HostCallError;
use super::convert::{capture_filter_from_wit, filter_terms};
use crate::bindings::sessions::{Host, HostSession, SessionInfo};
use crate::bindings::streams::{
    CaptureReader, CaptureWriter, EntityReader, EntityWriter, PrefixReader,
};
use crate::bindings::types::{self, Error};
use crate::limits::{FILTER_TERM_FUEL, MAX_FILTER_TERMS};
use crate::state::ModuleState;

/// A module's handle on an open session. Its streams draw on the session's
/// module pool, within the module family's own allowance.
#[allow(
    unreachable_pub,
    reason = "bindgen! re-exports it, so it must be `pub`; its module is private"
)]
pub struct SessionHandle {
    streams: Arc<ModuleStreams>,
    /// Set when the grant allows reading only; writers are then refused by
    /// the store's read-only view.
    read_only: Option<ReadOnlySession>,
}

impl ModuleState {
    /// Charges a reader's filter to the module, and refuses one with more
    /// than [`MAX_FILTER_TERMS`] values before the host does any work for
    /// it.
    fn charge_filter(&self, terms: usize) -> Result<(), HostCallError> {
        if terms > MAX_FILTER_TERMS {
            return Err(HostCallError::invalid(format!(
                "filter has {terms} values, over the cap of {MAX_FILTER_TERMS} (MAX_FILTER_TERMS); split it into several readers"
            )));
        }
        self.ctx
            .host_call(FILTER_TERM_FUEL.saturating_mul(terms as u64))?;
        Ok(())
    }

    pub(crate) fn session(
        &self,
        handle: &Resource<SessionHandle>,
    ) -> Result<Arc<ModuleStreams>, HostCallError> {
        Ok(self.table.get(handle)?.streams.clone())
    }

    /// The session of `handle` for writing.
    ///
    /// Returns the store's read-only error for a read-only grant.
    fn writable(
        &self,
        handle: &Resource<SessionHandle>,
    ) -> Result<Arc<ModuleStreams>, HostCallError> {
        let handle = self.table.get(handle)?;
        match &handle.read_only {
            Some(view) => Err(view.refuse_write().into()),
            None => Ok(handle.streams.clone()),
        }
    }
}

impl Host for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.sessions.open_session", skip_all)]
    async fn open_session(&mut self, id: String) -> Result<Resource<SessionHandle>, HostCallError> {
        self.ctx.host_call(0)?;
        if !self.ctx.grants.allows_session(&id) {
            return Err(HostCallError::denied(format!(
                "module {:?} was not granted session {id:?}; grant it in the run's grants",
                self.ctx.id
            )));
        }
        let Some(session) = self.sessions.session(&id) else {
            return Err(HostCallError::Guest(Error::UnknownId(format!(
                "no stored session {id:?}; list sessions with sessions.list-sessions"
            ))));
        };
        let read_only = (!self.ctx.grants.allows_write(&id)).then(|| session.read_only());
        // A family shares one allowance: children count against the
        // module the operator started.
        let streams = Arc::new(session.for_module(self.ctx.family()));
        self.push(SessionHandle { streams, read_only })
    }

    #[tracing::instrument(name = "bgpmon_host.sessions.list_sessions", skip_all)]
    async fn list_sessions(&mut self) -> wasmtime::Result<Vec<SessionInfo>> {
        self.ctx.host_call(0)?;
        Ok(self
            .sessions
            .sessions()
            .iter()
            .filter(|s| self.ctx.grants.allows_session(s.id()))
            .map(|s| SessionInfo {
                id: s.id().to_owned(),
                session_type: s.session_type().to_owned(),
                workers: s.workers(),
            })
            .collect())
    }
}

impl HostSession for ModuleState {
    async fn id(&mut self, handle: Resource<SessionHandle>) -> wasmtime::Result<String> {
        self.ctx.host_call(0)?;
        Ok(self.table.get(&handle)?.streams.session().id().to_owned())
    }

    #[tracing::instrument(name = "bgpmon_host.sessions.open_capture_writer", skip_all)]
    async fn open_capture_writer(
        &mut self,
        handle: Resource<SessionHandle>,
    ) -> Result<Resource<CaptureWriter>, HostCallError> {
        self.ctx.host_call(0)?;
        let writer = self.writable(&handle)?.capture_writer().await?;
        self.push(writer)
    }

    #[tracing::instrument(name = "bgpmon_host.sessions.open_entity_writer", skip_all)]
    async fn open_entity_writer(
        &mut self,
        handle: Resource<SessionHandle>,
    ) -> Result<Resource<EntityWriter>, HostCallError> {
        self.ctx.host_call(0)?;
        let writer = self.writable(&handle)?.entity_writer().await?;
        self.push(writer)
    }

    #[tracing::instrument(name = "bgpmon_host.sessions.open_capture_reader", skip_all)]
    async fn open_capture_reader(
        &mut self,
        handle: Resource<SessionHandle>,
        filter: types::CaptureFilter,
        follow: bool,
    ) -> Result<Resource<CaptureReader>, HostCallError> {
        self.charge_filter(filter_terms(&filter))?;
        let filter = capture_filter_from_wit(filter)?;
        let reader = self
            .session(&handle)?
            .capture_reader(filter, follow)
            .await?;
        self.push(reader)
    }

    #[tracing::instrument(name = "bgpmon_host.sessions.open_prefix_reader", skip_all)]
    async fn open_prefix_reader(
        &mut self,
        handle: Resource<SessionHandle>,
        filter: types::CaptureFilter,
    ) -> Result<Resource<PrefixReader>, HostCallError> {
        self.charge_filter(filter_terms(&filter))?;
        let filter = capture_filter_from_wit(filter)?;
        let reader = self.session(&handle)?.prefix_reader(filter).await?;
        self.push(reader)
    }

    #[tracing::instrument(name = "bgpmon_host.sessions.open_entity_reader", skip_all)]
    async fn open_entity_reader(
        &mut self,
        handle: Resource<SessionHandle>,
        filter: types::EntityFilter,
    ) -> Result<Resource<EntityReader>, HostCallError> {
        self.charge_filter(filter.names.len())?;
        let filter = EntityFilter {
            names: filter.names,
        };
        let reader = self.session(&handle)?.entity_reader(filter).await?;
        self.push(reader)
    }

    async fn drop(&mut self, handle: Resource<SessionHandle>) -> wasmtime::Result<()> {
        self.delete(handle)
    }
}
