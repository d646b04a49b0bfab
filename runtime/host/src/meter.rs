//! Fuel metering of a run: the one place where fuel rates, family budgets,
//! deadlines and forced stops take effect.
//!
//! A guest's fuel counter lives in a register while it runs and reaches the
//! store only when the guest calls out (a host call, a return, running out
//! of fuel). An epoch tick inside a loop without calls therefore reads a
//! stale count, and a run dropped there loses what it burned since its last
//! call. So:
//! - every store runs with `fuel_async_yield_interval`: every [`slice()`]
//!   units of fuel the guest yields, and its counter reaches the store;
//! - [`supervise`] counts those yields (a poll in which the guest wakes
//!   itself), so it knows a lower bound of the fuel burned within one slice
//!   even before the first epoch tick, and pauses the run as soon as an
//!   account in its chain is over its rate;
//! - the epoch callback only reads the counter (stale by at most one
//!   slice), charges the account chain, and posts a pause; it never
//!   suspends the guest;
//! - [`supervise`] acts on pauses, the family budget, the deadline and the
//!   force token only while the guest is suspended at a yield or in a host
//!   call, where its counter is exact. So the fuel read when a run ends is
//!   exact however it ends, and each pause is timed as it is slept.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use wasmtime::{StoreContextMut, UpdateDeadline};

use crate::context::RunContext;
use crate::epoch::EPOCH_TICK;
use crate::info::ModuleKind;
use crate::state::ModuleState;

/// The most fuel a guest burns between two yields: a few milliseconds of
/// compute, so a stop, a deadline or a pause takes effect that soon.
pub const MAX_FUEL_SLICE: u64 = 10_000_000;

/// The least fuel a guest burns between two yields, so a very low rate
/// does not turn every basic block into a yield, and a yield's own charge
/// (`HOST_CALL_FUEL`) stays a tenth of a slice at most.
pub const MIN_FUEL_SLICE: u64 = 100_000;

/// The fuel a run burns between yields: for a run held to a rate (a
/// daemon, or a task under a daemon), what the rate allows in one epoch
/// tick, so it is held to the rate within a tick; for any other task,
/// [`MAX_FUEL_SLICE`].
pub(crate) fn slice(kind: ModuleKind, fuel_per_second: u64, rate_in_chain: bool) -> u64 {
    if kind == ModuleKind::Task && !rate_in_chain {
        return MAX_FUEL_SLICE;
    }
    let per_tick = fuel_per_second as f64 * EPOCH_TICK.as_secs_f64();
    (per_tick as u64).clamp(MIN_FUEL_SLICE, MAX_FUEL_SLICE)
}

/// Why [`supervise`] ended a run before it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupt {
    /// The task's deadline passed.
    Deadline,
    /// The run was ended without waiting.
    Forced,
    /// The family used up the fuel budget given.
    OutOfBudget(u64),
}

/// The epoch callback of a metered store: at each tick, records the fuel
/// the guest burned (`tank` minus what is left), charges it up the account
/// chain, and posts a pause or an out-of-budget verdict for [`supervise`].
/// It never suspends the guest, so the guest is never dropped here.
pub(crate) fn epoch_callback(
    ctx: Arc<RunContext>,
    tank: u64,
) -> impl FnMut(StoreContextMut<'_, ModuleState>) -> wasmtime::Result<UpdateDeadline>
+ Send
+ Sync
+ 'static {
    move |store| {
        ctx.record_wasm_fuel(tank.saturating_sub(store.get_fuel()?));
        if let Some(pause) = ctx.account.pause_needed(0) {
            ctx.request_pause(pause);
        }
        Ok(UpdateDeadline::Continue(1))
    }
}

/// A waker that notes whether it was woken, wrapped around the task's.
/// The guest's fuel yield wakes its task before it returns pending, so a
/// poll after which this is set ended at a yield.
#[derive(Default)]
struct YieldFlag {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl YieldFlag {
    /// Makes `waker` the one to pass wakes on to, and clears the flag.
    fn arm(&self, waker: &Waker) {
        if let Ok(mut task) = self.task.lock()
            && !task.as_ref().is_some_and(|w| w.will_wake(waker))
        {
            *task = Some(waker.clone());
        }
        self.woken.store(false, Ordering::SeqCst);
    }

    fn woken(&self) -> bool {
        self.woken.load(Ordering::SeqCst)
    }
}

impl Wake for YieldFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Ok(task) = self.task.lock()
            && let Some(waker) = task.as_ref()
        {
            waker.wake_by_ref();
        }
    }
}

/// Drives `call` (a guest call on a metered store) to its end, unless the
/// deadline passes, `force` is cancelled, or the family runs out of fuel
/// first. Pauses the run, between two polls of `call`, when the fuel meter
/// asks, and adds each pause's length to the run's paused time (also one a
/// stop cuts short).
///
/// With `slice` (a metered store), each yield of the guest counts as that
/// much fuel burned, and a pause is decided at once from that count.
///
/// Every check happens before `call` is polled again, so `call` is always
/// dropped while the guest is suspended at a yield or in a host call.
pub(crate) async fn supervise<F: Future>(
    call: F,
    ctx: &RunContext,
    slice: Option<u64>,
    deadline: Option<Duration>,
    force: &CancellationToken,
) -> Result<F::Output, Interrupt> {
    let mut call = pin!(call);
    let flag = Arc::new(YieldFlag::default());
    let flag_waker = Waker::from(flag.clone());
    let mut yields: u64 = 0;
    let mut forced = pin!(force.cancelled());
    let mut deadline = pin!(async {
        match deadline {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    });
    let mut pause: Option<(std::pin::Pin<Box<tokio::time::Sleep>>, Instant)> = None;
    std::future::poll_fn(|cx| {
        let interrupt = if forced.as_mut().poll(cx).is_ready() {
            Some(Interrupt::Forced)
        } else if deadline.as_mut().poll(cx).is_ready() {
            Some(Interrupt::Deadline)
        } else {
            ctx.account.exhausted_budget().map(Interrupt::OutOfBudget)
        };
        if let Some(interrupt) = interrupt {
            if let Some((_, since)) = pause.take() {
                ctx.add_paused(since.elapsed());
            }
            return Poll::Ready(Err(interrupt));
        }
        if let Some((sleep, since)) = &mut pause {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            ctx.add_paused(since.elapsed());
            pause = None;
        }
        flag.arm(cx.waker());
        match call.as_mut().poll(&mut Context::from_waker(&flag_waker)) {
            Poll::Ready(output) => Poll::Ready(Ok(output)),
            Poll::Pending => {
                let mut asked = ctx.take_pause();
                if let Some(slice) = slice
                    && flag.woken()
                {
                    // The guest burned `yields` whole slices, at least;
                    // what the epoch callback has not charged yet counts
                    // against every rate in the chain now.
                    yields += 1;
                    let burned = yields.saturating_mul(slice);
                    let unrecorded = burned.saturating_sub(ctx.wasm_fuel());
                    asked = asked.max(ctx.account.pause_needed(unrecorded));
                }
                if let Some(length) = asked {
                    let mut sleep = Box::pin(tokio::time::sleep(length));
                    // Registers the timer; a zero-length pause is over at once.
                    if sleep.as_mut().poll(cx).is_pending() {
                        pause = Some((sleep, Instant::now()));
                    }
                }
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_yields_once_per_tick_at_its_rate() {
        assert_eq!(
            slice(ModuleKind::Daemon, 1_000_000_000, true),
            MAX_FUEL_SLICE
        );
        assert_eq!(slice(ModuleKind::Daemon, 50_000_000, true), 500_000);
        assert_eq!(slice(ModuleKind::Daemon, 1_000_000, true), MIN_FUEL_SLICE);
        assert_eq!(slice(ModuleKind::Task, 1, false), MAX_FUEL_SLICE);
        assert_eq!(slice(ModuleKind::Task, 50_000_000, true), 500_000);
    }
}
