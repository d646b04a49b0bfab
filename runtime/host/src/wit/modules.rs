//! `bgpmon:module/modules`: list types, and run, list and close the
//! module's own children, through its narrow control (see `control`).

use std::collections::BTreeMap;

use super::HostCallError;
use crate::bindings::modules::{Host, ModuleSummary};
use crate::bindings::types::{self, Error, OptionValue};
use crate::error::HostError;
use crate::limits::MAX_OPTIONS_BYTES;
use crate::state::ModuleState;

impl From<HostError> for HostCallError {
    fn from(e: HostError) -> Self {
        let message = e.to_string();
        Self::Guest(match e {
            HostError::UnknownType { .. } => Error::UnknownType(message),
            HostError::UnknownModule { .. } => Error::UnknownId(message),
            HostError::DuplicateModule { .. } | HostError::DuplicateType { .. } => {
                Error::DuplicateId(message)
            }
            HostError::NotGranted { .. } => Error::Denied(message),
            HostError::FamilyLimit { .. } => Error::LimitReached(message),
            HostError::ShuttingDown => Error::Closed(message),
            _ => Error::InvalidArgument(message),
        })
    }
}

impl Host for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.modules.list_types", skip_all)]
    async fn list_types(&mut self) -> wasmtime::Result<Vec<types::ModuleInfo>> {
        self.ctx.host_call(0)?;
        Ok(self.control.types().iter().map(Into::into).collect())
    }

    #[tracing::instrument(name = "bgpmon_host.modules.run", skip_all)]
    async fn run(
        &mut self,
        type_name: String,
        id: String,
        options: Vec<OptionValue>,
    ) -> Result<(), HostCallError> {
        self.ctx.host_call(0).map_err(wasmtime::Error::from)?;
        let bytes: usize = options.iter().map(|o| o.name.len() + o.value.len()).sum();
        if bytes > MAX_OPTIONS_BYTES {
            return Err(HostCallError::limit(format!(
                "options take {bytes} bytes, over the cap of {MAX_OPTIONS_BYTES} (MAX_OPTIONS_BYTES); pass less"
            )));
        }
        let options: BTreeMap<String, String> =
            options.into_iter().map(|o| (o.name, o.value)).collect();
        self.control.run(&type_name, &id, options)?;
        Ok(())
    }

    #[tracing::instrument(name = "bgpmon_host.modules.list_running", skip_all)]
    async fn list_running(&mut self) -> wasmtime::Result<Vec<ModuleSummary>> {
        self.ctx.host_call(0)?;
        Ok(self
            .control
            .list()
            .into_iter()
            .map(|s| ModuleSummary {
                id: s.id,
                type_name: s.type_name,
                state: s.state.to_owned(),
            })
            .collect())
    }

    #[tracing::instrument(name = "bgpmon_host.modules.close", skip_all)]
    async fn close(&mut self, id: String) -> Result<(), HostCallError> {
        self.ctx.host_call(0).map_err(wasmtime::Error::from)?;
        self.control.close(&id).await?;
        Ok(())
    }
}
