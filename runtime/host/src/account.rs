//! What a run and its descendants may use together: the one place where a
//! child draws on its parent's fuel, memory and descendant count.
//!
//! Every run has an [`Account`]; a child's account points at its parent's.
//! Fuel a run burns and memory it grows are charged to its own account and
//! to every ancestor's, so a parent's limits bound its whole family:
//! - memory: growth fails as soon as any account in the chain would pass
//!   its cap, and a store's memory is released from the chain when it
//!   drops;
//! - a task's fuel budget: once the family has used it, every member is
//!   ended as out of fuel;
//! - a daemon's fuel rate: a member waits while any account in its chain is
//!   over its rate;
//! - live descendants and depth: capped at [`MAX_LIVE_DESCENDANTS`] and
//!   [`MAX_CHILD_DEPTH`], counted at every ancestor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::context::RunContext;
use crate::limits::{MAX_CHILD_DEPTH, MAX_LIVE_DESCENDANTS};

/// The burst a daemon may use before its rate applies: one second's worth.
const RATE_BURST: Duration = Duration::from_secs(1);

/// The longest single pause of a run over a fuel rate, so a paused module
/// still notices a stop request often.
pub(crate) const MAX_PAUSE: Duration = Duration::from_millis(500);

/// A host call or a tick found the run's family out of fuel.
#[derive(Debug, thiserror::Error)]
#[error("out of fuel: the module and its descendants used their budget of {budget}")]
pub(crate) struct OutOfBudget {
    /// The budget that was used up.
    pub(crate) budget: u64,
}

/// Why a child cannot be added to a family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AdoptError {
    /// The child would be deeper than [`MAX_CHILD_DEPTH`].
    TooDeep,
    /// The ancestor `depth` levels up already has [`MAX_LIVE_DESCENDANTS`].
    TooMany,
}

impl std::fmt::Display for AdoptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooDeep => write!(
                f,
                "modules nest at most {MAX_CHILD_DEPTH} deep (MAX_CHILD_DEPTH); run it from a shallower module"
            ),
            Self::TooMany => write!(
                f,
                "a family may have at most {MAX_LIVE_DESCENDANTS} descendants running at once (MAX_LIVE_DESCENDANTS); wait for one to end"
            ),
        }
    }
}

/// What one run and its descendants have used, against the run's limits.
#[derive(Debug)]
pub(crate) struct Account {
    parent: Option<Arc<Account>>,
    depth: u32,
    /// A task's fuel budget, for the whole family.
    fuel_budget: Option<u64>,
    /// A daemon's fuel rate, for the whole family.
    fuel_rate: Option<u64>,
    started: Instant,
    fuel_used: AtomicU64,
    memory_limit: u64,
    memory_used: AtomicU64,
    live_descendants: AtomicU32,
}

impl Account {
    /// The account of a run started by the operator.
    pub(crate) fn root(fuel_budget: Option<u64>, fuel_rate: Option<u64>, memory: u64) -> Arc<Self> {
        Arc::new(Self::new(None, 0, fuel_budget, fuel_rate, memory))
    }

    fn new(
        parent: Option<Arc<Account>>,
        depth: u32,
        fuel_budget: Option<u64>,
        fuel_rate: Option<u64>,
        memory_limit: u64,
    ) -> Self {
        Self {
            parent,
            depth,
            fuel_budget,
            fuel_rate,
            started: Instant::now(),
            fuel_used: AtomicU64::new(0),
            memory_limit,
            memory_used: AtomicU64::new(0),
            live_descendants: AtomicU32::new(0),
        }
    }

    /// Opens a child's account under `parent`, counting it as a live
    /// descendant of every ancestor. The child's own limits apply on top
    /// of every ancestor's.
    ///
    /// Returns an error if the child would be too deep, or an ancestor has
    /// too many live descendants; nothing is counted then.
    pub(crate) fn adopt(
        parent: &Arc<Account>,
        fuel_budget: Option<u64>,
        fuel_rate: Option<u64>,
        memory: u64,
    ) -> Result<Arc<Self>, AdoptError> {
        let depth = parent.depth + 1;
        if depth > MAX_CHILD_DEPTH {
            return Err(AdoptError::TooDeep);
        }
        let mut counted: Vec<&Account> = Vec::new();
        for ancestor in parent.chain() {
            let ok = ancestor
                .live_descendants
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < MAX_LIVE_DESCENDANTS).then_some(n + 1)
                })
                .is_ok();
            if !ok {
                for a in counted {
                    a.live_descendants.fetch_sub(1, Ordering::AcqRel);
                }
                return Err(AdoptError::TooMany);
            }
            counted.push(ancestor);
        }
        Ok(Arc::new(Self::new(
            Some(parent.clone()),
            depth,
            fuel_budget,
            fuel_rate,
            memory,
        )))
    }

    /// This account, then its parent's, up to the root.
    fn chain(&self) -> impl Iterator<Item = &Account> {
        std::iter::successors(Some(self), |a| a.parent.as_deref())
    }

    /// Removes an ended run from its ancestors' live descendants. Call
    /// once, when the run has ended.
    pub(crate) fn release(&self) {
        for ancestor in self.chain().skip(1) {
            ancestor.live_descendants.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// How many descendants of this run are running.
    pub(crate) fn live_descendants(&self) -> u32 {
        self.live_descendants.load(Ordering::Acquire)
    }

    /// Charges `fuel` to this run and every ancestor.
    pub(crate) fn charge_fuel(&self, fuel: u64) {
        if fuel == 0 {
            return;
        }
        for a in self.chain() {
            a.fuel_used.fetch_add(fuel, Ordering::AcqRel);
        }
    }

    /// The fuel budget of the first account in the chain whose family has
    /// used it up, if any.
    pub(crate) fn exhausted_budget(&self) -> Option<u64> {
        self.chain().find_map(|a| {
            let budget = a.fuel_budget?;
            (a.fuel_used.load(Ordering::Acquire) >= budget).then_some(budget)
        })
    }

    /// The fuel this run may still burn before some budget in its chain is
    /// used up; `None` when no account in the chain has a budget.
    pub(crate) fn fuel_left(&self) -> Option<u64> {
        self.chain()
            .filter_map(|a| {
                let budget = a.fuel_budget?;
                Some(budget.saturating_sub(a.fuel_used.load(Ordering::Acquire)))
            })
            .min()
    }

    /// Whether any account in the chain is held to a fuel rate.
    pub(crate) fn has_rate(&self) -> bool {
        self.chain().any(|a| a.fuel_rate.is_some())
    }

    /// How long this run must wait for every account in its chain to be
    /// back within its fuel rate, at most [`MAX_PAUSE`]; `None` when none
    /// is over. `unrecorded` is fuel the run burned that is not charged
    /// yet.
    pub(crate) fn pause_needed(&self, unrecorded: u64) -> Option<Duration> {
        self.chain()
            .filter_map(|a| {
                let rate = a.fuel_rate? as f64;
                let allowed = rate * (RATE_BURST + a.started.elapsed()).as_secs_f64();
                let used = a
                    .fuel_used
                    .load(Ordering::Acquire)
                    .saturating_add(unrecorded);
                let over = used as f64 - allowed;
                (over > 0.0).then(|| Duration::from_secs_f64(over / rate).min(MAX_PAUSE))
            })
            .max()
    }

    /// Grows this run's memory by `bytes`, charged up the chain.
    ///
    /// Returns the cap that would be passed, if any; nothing is charged
    /// then.
    pub(crate) fn grow_memory(&self, bytes: u64) -> Result<(), u64> {
        let mut charged: Vec<&Account> = Vec::new();
        for a in self.chain() {
            let ok = a
                .memory_used
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                    used.checked_add(bytes)
                        .filter(|after| *after <= a.memory_limit)
                })
                .is_ok();
            if !ok {
                for c in charged {
                    c.memory_used.fetch_sub(bytes, Ordering::AcqRel);
                }
                return Err(a.memory_limit);
            }
            charged.push(a);
        }
        Ok(())
    }

    /// Releases `bytes` of this run's memory up the chain.
    pub(crate) fn release_memory(&self, bytes: u64) {
        for a in self.chain() {
            a.memory_used.fetch_sub(bytes, Ordering::AcqRel);
        }
    }
}

/// Caps the linear memory and tables of one store, charged to the run's
/// account chain.
///
/// Growth past any cap in the chain traps at once, and the run is reported
/// as failed by the memory limit it hit. Dropping the limiter (with its
/// store) gives the memory back to the chain.
pub(crate) struct MemoryLimiter {
    used: u64,
    ctx: Arc<RunContext>,
}

impl MemoryLimiter {
    pub(crate) fn new(ctx: Arc<RunContext>) -> Self {
        Self { used: 0, ctx }
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let extra = desired.saturating_sub(current) as u64;
        if let Err(limit) = self.ctx.account.grow_memory(extra) {
            self.ctx.memory_exceeded.store(limit, Ordering::Relaxed);
            return Err(wasmtime::format_err!(
                "memory limit of {limit} bytes exceeded: the module asked for {} more bytes on top of {}",
                extra,
                self.used
            ));
        }
        self.used += extra;
        self.ctx.memory_bytes.store(self.used, Ordering::Relaxed);
        Ok(true)
    }
}

impl Drop for MemoryLimiter {
    fn drop(&mut self) {
        self.ctx.account.release_memory(self.used);
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Table elements are pointer-sized on the host.
        let size = std::mem::size_of::<usize>();
        self.grow(current.saturating_mul(size), desired.saturating_mul(size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_draw_on_their_parents_memory() {
        let root = Account::root(None, None, 100);
        let child = Account::adopt(&root, None, None, 100).unwrap();
        root.grow_memory(60).unwrap();
        assert_eq!(child.grow_memory(50), Err(100), "the family cap binds");
        child.grow_memory(40).unwrap();
        root.release_memory(60);
        child.grow_memory(60).unwrap();
        assert_eq!(child.grow_memory(1), Err(100), "the child's own cap binds");
    }

    #[test]
    fn a_family_shares_one_fuel_budget() {
        let root = Account::root(Some(1000), None, 1 << 20);
        let child = Account::adopt(&root, Some(1000), None, 1 << 20).unwrap();
        child.charge_fuel(600);
        assert_eq!(root.fuel_left(), Some(400));
        assert_eq!(child.fuel_left(), Some(400));
        root.charge_fuel(400);
        assert_eq!(child.exhausted_budget(), Some(1000));
        assert_eq!(root.exhausted_budget(), Some(1000));
    }

    #[test]
    fn depth_and_live_descendants_are_capped() {
        let root = Account::root(None, None, 1);
        let mut parent = root.clone();
        for _ in 0..MAX_CHILD_DEPTH {
            parent = Account::adopt(&parent, None, None, 1).unwrap();
        }
        assert_eq!(
            Account::adopt(&parent, None, None, 1).unwrap_err(),
            AdoptError::TooDeep
        );
        let mut children = Vec::new();
        while children.len() < (MAX_LIVE_DESCENDANTS - MAX_CHILD_DEPTH) as usize {
            children.push(Account::adopt(&root, None, None, 1).unwrap());
        }
        assert_eq!(root.live_descendants(), MAX_LIVE_DESCENDANTS);
        assert_eq!(
            Account::adopt(&root, None, None, 1).unwrap_err(),
            AdoptError::TooMany
        );
        children.pop().unwrap().release();
        Account::adopt(&root, None, None, 1).unwrap();
    }

    #[test]
    fn a_rate_pauses_the_whole_family() {
        let root = Account::root(None, Some(1000), 1);
        let child = Account::adopt(&root, None, Some(1_000_000), 1).unwrap();
        assert_eq!(child.pause_needed(0), None);
        assert!(child.pause_needed(1500).is_some());
        child.charge_fuel(1500);
        let pause = child.pause_needed(0).unwrap();
        assert!(pause > Duration::from_millis(400), "{pause:?}");
        assert!(pause <= MAX_PAUSE);
    }
}
