//! `bgpmon:module/modules`: list, run and close other modules, with the
//! `may-run-modules` grant.

use std::collections::BTreeMap;

use super::HostCallError;
use crate::bindings::modules::{Host, ModuleSummary};
use crate::bindings::types::{self, Error, OptionValue};
use crate::error::HostError;
use crate::state::ModuleState;
use crate::supervisor::{ModuleHost, RunRequest};

impl From<HostError> for HostCallError {
    fn from(e: HostError) -> Self {
        let message = e.to_string();
        Self::Guest(match e {
            HostError::UnknownType { .. } => Error::UnknownType(message),
            HostError::UnknownModule { .. } => Error::UnknownId(message),
            HostError::DuplicateModule { .. } | HostError::DuplicateType { .. } => {
                Error::DuplicateId(message)
            }
            HostError::ShuttingDown => Error::Closed(message),
            _ => Error::InvalidArgument(message),
        })
    }
}

impl ModuleState {
    fn module_host(&self) -> Result<ModuleHost, HostCallError> {
        let shared = self.host.upgrade().ok_or_else(|| {
            HostCallError::Guest(Error::Closed("the module host is shutting down".to_owned()))
        })?;
        Ok(ModuleHost::from_shared(shared))
    }

    fn require_run_grant(&self) -> Result<(), HostCallError> {
        if !self.ctx.grants.may_run_modules {
            return Err(HostCallError::denied(format!(
                "module {:?} was not granted may-run-modules; grant it in the run's grants",
                self.ctx.id
            )));
        }
        Ok(())
    }
}

impl Host for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.modules.list_types", skip_all)]
    async fn list_types(&mut self) -> wasmtime::Result<Vec<types::ModuleInfo>> {
        self.ctx.count_call();
        let types = match self.module_host() {
            Ok(host) => host.types(),
            Err(_) => Vec::new(),
        };
        Ok(types.iter().map(Into::into).collect())
    }

    #[tracing::instrument(name = "bgpmon_host.modules.run", skip_all)]
    async fn run(
        &mut self,
        type_name: String,
        id: String,
        options: Vec<OptionValue>,
    ) -> Result<(), HostCallError> {
        self.ctx.count_call();
        self.require_run_grant()?;
        let host = self.module_host()?;
        let options: BTreeMap<String, String> =
            options.into_iter().map(|o| (o.name, o.value)).collect();
        // The child runs under the parent's own limits and grants, so it can
        // never do more than its parent could.
        let request = RunRequest {
            type_name,
            id,
            options,
            limits: Some(self.ctx.limits.clone()),
            grants: self.ctx.grants.clone(),
        };
        host.run(request)?;
        Ok(())
    }

    #[tracing::instrument(name = "bgpmon_host.modules.list_running", skip_all)]
    async fn list_running(&mut self) -> wasmtime::Result<Vec<ModuleSummary>> {
        self.ctx.count_call();
        let list = match self.module_host() {
            Ok(host) => host.list(),
            Err(_) => Vec::new(),
        };
        Ok(list
            .into_iter()
            .map(|s| ModuleSummary {
                id: s.id,
                type_name: s.type_name,
                state: s.state.name().to_owned(),
            })
            .collect())
    }

    #[tracing::instrument(name = "bgpmon_host.modules.close", skip_all)]
    async fn close(&mut self, id: String) -> Result<(), HostCallError> {
        self.ctx.count_call();
        self.require_run_grant()?;
        ModuleHost::check_not_self(&id, &self.ctx.id)?;
        self.module_host()?.close(&id).await?;
        Ok(())
    }
}
