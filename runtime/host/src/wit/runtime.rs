//! `bgpmon:module/runtime`: grants, budget, stop and sleep.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::bindings::runtime::{Budget, Grants, Host};
use crate::info::ModuleKind;
use crate::state::ModuleState;

impl Host for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.runtime.granted", skip_all)]
    async fn granted(&mut self) -> wasmtime::Result<Grants> {
        self.ctx.host_call(0)?;
        Ok(Grants {
            sessions: self.ctx.grants.sessions.clone(),
            may_run_modules: self.ctx.grants.may_run_modules,
        })
    }

    #[tracing::instrument(name = "bgpmon_host.runtime.budget_left", skip_all)]
    async fn budget_left(&mut self) -> wasmtime::Result<Budget> {
        self.ctx.host_call(0)?;
        let ctx = &self.ctx;
        let fuel_used = ctx.fuel_used();
        let (fuel_left, deadline_left_ms) = match ctx.kind {
            ModuleKind::Task => {
                let left = ctx.limits.deadline.saturating_sub(ctx.started.elapsed());
                (
                    ctx.account.fuel_left().unwrap_or(0),
                    Some(u64::try_from(left.as_millis()).unwrap_or(u64::MAX)),
                )
            }
            ModuleKind::Daemon => {
                let allowed =
                    ctx.limits.fuel_per_second as f64 * (1.0 + ctx.started.elapsed().as_secs_f64());
                ((allowed as u64).saturating_sub(fuel_used), None)
            }
        };
        Ok(Budget {
            fuel_left,
            fuel_used,
            memory_limit_bytes: ctx.limits.memory_bytes,
            memory_used_bytes: ctx.memory_bytes.load(Ordering::Relaxed),
            deadline_left_ms,
        })
    }

    #[tracing::instrument(name = "bgpmon_host.runtime.stop_requested", skip_all)]
    async fn stop_requested(&mut self) -> wasmtime::Result<bool> {
        self.ctx.host_call(0)?;
        Ok(self.ctx.stop.is_cancelled())
    }

    #[tracing::instrument(name = "bgpmon_host.runtime.sleep", skip_all)]
    async fn sleep(&mut self, ms: u64) -> wasmtime::Result<()> {
        self.ctx.host_call(0)?;
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms)) => {}
            () = self.ctx.stop.cancelled() => {}
        }
        Ok(())
    }
}
