//! `bgpmon:module/logging`: log lines into the daemon's log.

use crate::bindings::logging::{Host, Level};
use crate::context::LogLevel;
use crate::state::ModuleState;

impl Host for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.logging.log", skip_all)]
    async fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        self.ctx.count_call();
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.ctx.log(level, &message);
        Ok(())
    }
}
