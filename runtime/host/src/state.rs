//! The data of one instance's store: WASI context, resource table, memory
//! limiter, the run's shared context, and the narrow control the module has
//! over other modules.

use std::sync::Arc;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::account::MemoryLimiter;
use crate::context::{LogLevel, RunContext};
use crate::control::ModuleControl;
use crate::directory::SessionDirectory;
use crate::stdio::LogStream;
use crate::wit::HostCallError;

/// The store data of one module instance.
pub(crate) struct ModuleState {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) ctx: Arc<RunContext>,
    pub(crate) sessions: Arc<dyn SessionDirectory>,
    pub(crate) control: Arc<dyn ModuleControl>,
    handles: u32,
}

impl ModuleState {
    pub(crate) fn new(
        ctx: Arc<RunContext>,
        sessions: Arc<dyn SessionDirectory>,
        control: Arc<dyn ModuleControl>,
    ) -> Self {
        // No preopened directories, no environment, no arguments, no
        // sockets: a module starts with no ambient authority.
        let wasi = WasiCtxBuilder::new()
            .stdout(LogStream::new(ctx.clone(), LogLevel::Info))
            .stderr(LogStream::new(ctx.clone(), LogLevel::Warn))
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(ctx.clone()),
            ctx,
            sessions,
            control,
            handles: 0,
        }
    }

    /// Adds a handle, within the run's handle cap.
    pub(crate) fn push<T: Send + 'static>(
        &mut self,
        value: T,
    ) -> Result<Resource<T>, HostCallError> {
        if self.handles >= self.ctx.limits.max_handles {
            return Err(HostCallError::limit(format!(
                "module has {} handles open, its limit; drop a stream or session first",
                self.handles
            )));
        }
        let handle = self.table.push(value)?;
        self.handles += 1;
        Ok(handle)
    }

    /// Removes a handle the guest dropped.
    pub(crate) fn delete<T: 'static>(&mut self, handle: Resource<T>) -> wasmtime::Result<()> {
        self.table.delete(handle)?;
        self.handles = self.handles.saturating_sub(1);
        Ok(())
    }

    /// Clamps a guest's requested batch size to the run's cap.
    pub(crate) fn batch(&self, requested: u32) -> usize {
        requested.clamp(1, self.ctx.limits.max_batch) as usize
    }
}

impl WasiView for ModuleState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
