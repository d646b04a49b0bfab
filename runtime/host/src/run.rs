//! One run of a module: a fresh store and instance under the run's limits,
//! and the classification of how it ended.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use wasmtime::{Store, StoreContextMut, Trap, UpdateDeadline};

use crate::bindings::types::OptionValue;
use crate::catalog::ModuleType;
use crate::context::RunContext;
use crate::info::{ModuleKind, RunResult};
use crate::state::ModuleState;
use crate::status::FailureReason;
use crate::supervisor::Shared;

/// The fuel a daemon's store starts with. A daemon is held to a rate, not a
/// budget, so this only has to outlast any real run.
const DAEMON_FUEL_TANK: u64 = u64::MAX / 4;

/// The longest single pause of a daemon over its fuel rate, so a paused
/// daemon still notices a stop request often.
const MAX_PAUSE: Duration = Duration::from_millis(500);

/// How a run ended.
pub(crate) enum Outcome {
    Finished(RunResult),
    Failed(FailureReason),
    Stopped,
}

/// Runs `module_type` once with `options`, reporting into `ctx`.
///
/// `started` is called once the instance exists and `run` is about to be
/// called.
pub(crate) async fn execute(
    shared: Arc<Shared>,
    module_type: Arc<ModuleType>,
    ctx: Arc<RunContext>,
    options: Vec<(String, String)>,
    started: impl FnOnce(),
) -> Outcome {
    let engine = &shared.engine;
    let state = ModuleState::new(
        ctx.clone(),
        shared.sessions.clone(),
        Arc::downgrade(&shared),
    );
    let mut store = Store::new(&engine.engine, state);
    store.limiter(|s| &mut s.limiter);
    let tank = match ctx.kind {
        ModuleKind::Task => ctx.limits.fuel,
        ModuleKind::Daemon => DAEMON_FUEL_TANK,
    };
    let metered = engine.fuel_metering;
    if metered && let Err(e) = store.set_fuel(tank) {
        return Outcome::Failed(FailureReason::Trap(format!("cannot set fuel: {e}")));
    }
    store.epoch_deadline_callback(epoch_callback(ctx.clone(), tank, metered));
    store.set_epoch_deadline(1);

    let options: Vec<OptionValue> = options
        .into_iter()
        .map(|(name, value)| OptionValue { name, value })
        .collect();
    let call = async {
        let instance = module_type.pre.instantiate_async(&mut store).await?;
        started();
        instance.call_run(&mut store, &options).await
    };
    let result = match ctx.kind {
        ModuleKind::Task => tokio::time::timeout(ctx.limits.deadline, call).await.ok(),
        ModuleKind::Daemon => Some(call.await),
    };
    if metered && let Ok(left) = store.get_fuel() {
        ctx.fuel_used
            .store(tank.saturating_sub(left), Ordering::Relaxed);
    }
    let stop_requested = ctx.stop.is_cancelled();
    match result {
        None => Outcome::Failed(FailureReason::Deadline {
            after: ctx.limits.deadline,
        }),
        Some(Ok(Ok(_))) if stop_requested && ctx.kind == ModuleKind::Daemon => Outcome::Stopped,
        Some(Ok(Ok(result))) => Outcome::Finished(result.into()),
        Some(Ok(Err(message))) => Outcome::Failed(FailureReason::Error(message)),
        Some(Err(e)) => Outcome::Failed(classify(&e, &ctx, tank)),
    }
}

/// Names why a guest call failed.
fn classify(e: &wasmtime::Error, ctx: &RunContext, tank: u64) -> FailureReason {
    if ctx.memory_exceeded.load(Ordering::Relaxed) {
        return FailureReason::MemoryLimit {
            limit_bytes: ctx.limits.memory_bytes,
        };
    }
    if e.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        return FailureReason::OutOfFuel { budget: tank };
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
    FailureReason::Trap(message)
}

/// At each epoch tick: record fuel used, hold a daemon to its fuel rate,
/// and yield so other tasks run and deadlines and stops take effect.
fn epoch_callback(
    ctx: Arc<RunContext>,
    tank: u64,
    metered: bool,
) -> impl FnMut(StoreContextMut<'_, ModuleState>) -> wasmtime::Result<UpdateDeadline>
+ Send
+ Sync
+ 'static {
    move |store| {
        if !metered {
            return Ok(UpdateDeadline::Yield(1));
        }
        let used = tank.saturating_sub(store.get_fuel()?);
        ctx.fuel_used.store(used, Ordering::Relaxed);
        if ctx.kind == ModuleKind::Daemon {
            let rate = ctx.limits.fuel_per_second as f64;
            // One second of burst, then the rate.
            let allowed = rate * (1.0 + ctx.started.elapsed().as_secs_f64());
            let over = used as f64 - allowed;
            if over > 0.0 {
                let pause = Duration::from_secs_f64(over / rate).min(MAX_PAUSE);
                ctx.paused_us.fetch_add(
                    u64::try_from(pause.as_micros()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                return Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::time::sleep(pause)),
                ));
            }
        }
        Ok(UpdateDeadline::Yield(1))
    }
}
