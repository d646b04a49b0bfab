//! One run of a module: a fresh store and instance under the run's limits,
//! and the classification of how it ended.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use wasmtime::{CallHook, Store, Trap, UpdateDeadline};

use crate::account::OutOfBudget;
use crate::bindings::types::OptionValue;
use crate::catalog::ModuleType;
use crate::context::{RunContext, cut};
use crate::control::ModuleControl;
use crate::directory::SessionDirectory;
use crate::engine::HostEngine;
use crate::info::{ModuleKind, RunResult};
use crate::limits::{MAX_ERROR_BYTES, MAX_HOSTCALL_BYTES, MAX_RESULT_BYTES};
use crate::meter::{self, Interrupt, supervise};
use crate::state::ModuleState;
use crate::status::FailureReason;

/// The fuel a daemon's store starts with. A daemon is held to a rate, not a
/// budget, so this only has to outlast any real run.
const DAEMON_FUEL_TANK: u64 = u64::MAX / 4;

/// How a run ended.
pub(crate) enum Outcome {
    Finished(RunResult),
    Failed(FailureReason),
    Stopped,
}

/// What a run needs besides its type and context.
pub(crate) struct RunParts {
    pub(crate) sessions: Arc<dyn SessionDirectory>,
    pub(crate) control: Arc<dyn ModuleControl>,
    pub(crate) options: Vec<(String, String)>,
    /// A task's fuel: its own budget, or what its parent gave it.
    pub(crate) fuel: u64,
}

/// Whether `e` is wasmtime's refusal to copy more than the hostcall fuel.
pub(crate) fn is_hostcall_fuel(e: &wasmtime::Error) -> bool {
    e.chain()
        .any(|c| c.to_string().contains("fuel allocated for hostcalls"))
}

/// Runs `module_type` once, reporting into `ctx`.
///
/// `started` is called once the instance exists and `run` is about to be
/// called. The run's fuel counter is read exactly when it ends, however it
/// ends.
pub(crate) async fn execute(
    engine: &HostEngine,
    module_type: Arc<ModuleType>,
    ctx: Arc<RunContext>,
    parts: RunParts,
    started: impl FnOnce(),
) -> Outcome {
    let state = ModuleState::new(ctx.clone(), parts.sessions, parts.control);
    let mut store = Store::new(&engine.engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_hostcall_fuel(MAX_HOSTCALL_BYTES);
    // Every way into the host costs fuel, WASI's included.
    store.call_hook(|store, hook| {
        if matches!(hook, CallHook::CallingHost) {
            store.data().ctx.enter_host()?;
        }
        Ok(())
    });
    let tank = match ctx.kind {
        ModuleKind::Task => parts.fuel,
        ModuleKind::Daemon => DAEMON_FUEL_TANK,
    };
    let metered = engine.fuel_metering;
    let slice =
        metered.then(|| meter::slice(ctx.kind, ctx.limits.fuel_per_second, ctx.account.has_rate()));
    if let Some(slice) = slice {
        let set = store
            .set_fuel(tank)
            .and_then(|()| store.fuel_async_yield_interval(Some(slice)));
        if let Err(e) = set {
            return Outcome::Failed(FailureReason::Trap(format!("cannot set fuel: {e}")));
        }
        store.epoch_deadline_callback(meter::epoch_callback(ctx.clone(), tank));
    } else {
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
    }
    store.set_epoch_deadline(1);

    let options: Vec<OptionValue> = parts
        .options
        .into_iter()
        .map(|(name, value)| OptionValue { name, value })
        .collect();
    let call = module_type.pre.run(&mut store, &options, started);
    let deadline = (ctx.kind == ModuleKind::Task).then_some(ctx.limits.deadline);
    let result = supervise(call, &ctx, slice, deadline, &ctx.force).await;
    if metered && let Ok(left) = store.get_fuel() {
        ctx.record_wasm_fuel(tank.saturating_sub(left));
    }
    drop(store);
    let stop_requested = ctx.stop.is_cancelled();
    match result {
        Err(Interrupt::Deadline) => Outcome::Failed(FailureReason::Deadline {
            after: ctx.limits.deadline,
        }),
        Err(Interrupt::Forced) => Outcome::Stopped,
        Err(Interrupt::OutOfBudget(budget)) => Outcome::Failed(FailureReason::OutOfFuel { budget }),
        Ok(Ok(Ok(_))) if stop_requested && ctx.kind == ModuleKind::Daemon => Outcome::Stopped,
        Ok(Ok(Ok(result))) => {
            let result = RunResult::from(result);
            let bytes = result.text_bytes();
            if bytes > MAX_RESULT_BYTES {
                Outcome::Failed(FailureReason::Oversized {
                    what: "result",
                    bytes: Some(bytes as u64),
                    limit: MAX_RESULT_BYTES as u64,
                })
            } else {
                Outcome::Finished(result)
            }
        }
        Ok(Ok(Err(message))) => Outcome::Failed(FailureReason::Error(
            cut(&message, MAX_ERROR_BYTES).to_owned(),
        )),
        Ok(Err(e)) => Outcome::Failed(classify(&e, &ctx, tank)),
    }
}

/// wasmtime's instance pool's refusal of one more instance, when that is
/// what `e` is.
fn pool_full(e: &wasmtime::Error) -> Option<String> {
    e.chain()
        .map(|c| c.to_string())
        .find(|text| text.starts_with("maximum concurrent limit of "))
}

/// Names why a guest call failed.
fn classify(e: &wasmtime::Error, ctx: &RunContext, tank: u64) -> FailureReason {
    match ctx.memory_exceeded.load(Ordering::Relaxed) {
        0 => {}
        limit_bytes => return FailureReason::MemoryLimit { limit_bytes },
    }
    if e.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        return FailureReason::OutOfFuel { budget: tank };
    }
    if let Some(out) = e.downcast_ref::<OutOfBudget>() {
        return FailureReason::OutOfFuel { budget: out.budget };
    }
    if let Some(message) = pool_full(e) {
        return FailureReason::NoCapacity(message);
    }
    if is_hostcall_fuel(e) {
        return FailureReason::Oversized {
            what: "host call or result",
            bytes: None,
            limit: MAX_HOSTCALL_BYTES as u64,
        };
    }
    let mut message = e.to_string();
    if let Some(trap) = e.downcast_ref::<Trap>() {
        message = format!("{trap}");
    }
    // A Rust guest prints its panic to stderr as "thread .. panicked at
    // FILE:LINE:COL:" and the message on the next line.
    let logged = ctx.logs();
    if let Some(at) = logged
        .iter()
        .rposition(|l| l.message.contains("panicked at"))
    {
        let location = logged[at].message.trim_end_matches(':');
        let location = location.rsplit("panicked at ").next().unwrap_or(location);
        let text = logged.get(at + 1).map_or("", |l| l.message.as_str());
        message = format!("{message}: guest panicked at {location}: {text}");
    }
    FailureReason::Trap(cut(&message, MAX_ERROR_BYTES).to_owned())
}
