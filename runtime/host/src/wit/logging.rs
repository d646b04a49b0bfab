//! `bgpmon:module/logging`: log lines into the module's log and, escaped,
//! into the daemon's.
//!
//! The function is linked by hand rather than through `bindgen!`, so its
//! message is read in place in the guest's memory: only its first
//! [`MAX_LOG_LINE_BYTES`] are copied out, however long the guest made it.
//! (Wasmtime's hostcall fuel still refuses a message over
//! `MAX_HOSTCALL_BYTES` before the call.)

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, WasmStr};

use crate::bindings::logging::Level;
use crate::context::{LogLevel, cut};
use crate::limits::MAX_LOG_LINE_BYTES;
use crate::state::ModuleState;

/// The interface's name, as the guest imports it.
const INTERFACE: &str = "bgpmon:module/logging@0.1.0";

/// Adds `bgpmon:module/logging` to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<ModuleState>) -> wasmtime::Result<()> {
    let mut instance = linker.instance(INTERFACE)?;
    instance.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, ModuleState>, (level, message): (Level, WasmStr)| {
            let _span = tracing::trace_span!("bgpmon_host.logging.log").entered();
            let line = {
                let text = message.to_str(&store)?;
                cut(&text, MAX_LOG_LINE_BYTES).to_owned()
            };
            let state = store.data_mut();
            state.ctx.host_call(0)?;
            let level = match level {
                Level::Trace => LogLevel::Trace,
                Level::Debug => LogLevel::Debug,
                Level::Info => LogLevel::Info,
                Level::Warn => LogLevel::Warn,
                Level::Error => LogLevel::Error,
            };
            state.ctx.log(level, &line);
            Ok(())
        },
    )
}
