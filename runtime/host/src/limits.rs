//! Per-module limits, their defaults and caps, and the memory limiter.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::context::RunContext;

/// The default fuel budget of a task: tens of seconds of guest compute.
pub const DEFAULT_TASK_FUEL: u64 = 200_000_000_000;

/// The default fuel rate of a daemon, per second: about a tenth of a core.
pub const DEFAULT_DAEMON_FUEL_PER_SECOND: u64 = 1_000_000_000;

/// The default memory cap of one module instance: 256 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 256 << 20;

/// The default wall-clock deadline of a task.
pub const DEFAULT_TASK_DEADLINE: Duration = Duration::from_secs(600);

/// The default cap on records one host call moves in or out of a module.
pub const DEFAULT_MAX_BATCH: u32 = 10_000;

/// The default cap on open handles (sessions and streams) of one module.
pub const DEFAULT_MAX_HANDLES: u32 = 64;

/// The default number of log lines a module may write per second; lines
/// over it are dropped and counted.
pub const DEFAULT_LOGS_PER_SECOND: u32 = 100;

/// The default time a module asked to stop gets before it is ended.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(5);

/// The largest memory cap a run may ask for: 4 GiB, all a 32-bit guest
/// can address.
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;

/// The largest record batch one host call may move, whatever the config
/// says: it bounds the host memory one call can make the host allocate.
pub const MAX_BATCH: u32 = bgpmon_store::MAX_READ_BATCH as u32;

/// The longest log line kept; longer lines are cut, so a guest cannot make
/// the host hold an unbounded string.
pub const MAX_LOG_LINE_BYTES: usize = 4096;

/// The limits one module run is held to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleLimits {
    /// A task's fuel budget; running out fails the task.
    ///
    /// By default [`DEFAULT_TASK_FUEL`].
    pub fuel: u64,
    /// A daemon's fuel per second; a daemon over it is paused, not ended.
    ///
    /// By default [`DEFAULT_DAEMON_FUEL_PER_SECOND`].
    pub fuel_per_second: u64,
    /// The cap on linear memory and tables, in bytes.
    ///
    /// By default [`DEFAULT_MEMORY_BYTES`]; at most [`MAX_MEMORY_BYTES`].
    pub memory_bytes: u64,
    /// A task's wall-clock deadline.
    ///
    /// By default [`DEFAULT_TASK_DEADLINE`].
    pub deadline: Duration,
    /// The most records one host call moves.
    ///
    /// By default [`DEFAULT_MAX_BATCH`]; at most [`MAX_BATCH`].
    pub max_batch: u32,
    /// The most handles open at once.
    ///
    /// By default [`DEFAULT_MAX_HANDLES`].
    pub max_handles: u32,
    /// Log lines per second.
    ///
    /// By default [`DEFAULT_LOGS_PER_SECOND`].
    pub logs_per_second: u32,
    /// How long a module asked to stop gets before it is ended.
    ///
    /// By default [`DEFAULT_STOP_GRACE`].
    pub stop_grace: Duration,
}

impl Default for ModuleLimits {
    fn default() -> Self {
        Self {
            fuel: DEFAULT_TASK_FUEL,
            fuel_per_second: DEFAULT_DAEMON_FUEL_PER_SECOND,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            deadline: DEFAULT_TASK_DEADLINE,
            max_batch: DEFAULT_MAX_BATCH,
            max_handles: DEFAULT_MAX_HANDLES,
            logs_per_second: DEFAULT_LOGS_PER_SECOND,
            stop_grace: DEFAULT_STOP_GRACE,
        }
    }
}

impl ModuleLimits {
    /// These limits with every value clamped to its hard cap and to at
    /// least one unit.
    pub fn clamped(mut self) -> Self {
        self.memory_bytes = self.memory_bytes.clamp(1 << 16, MAX_MEMORY_BYTES);
        self.max_batch = self.max_batch.clamp(1, MAX_BATCH);
        self.max_handles = self.max_handles.max(1);
        self.fuel = self.fuel.max(1);
        self.fuel_per_second = self.fuel_per_second.max(1);
        self
    }
}

/// Caps the linear memory and tables of one store, in total.
///
/// Growth past the cap traps at once, and the run is reported as failed by
/// the memory limit.
pub(crate) struct MemoryLimiter {
    limit: usize,
    used: usize,
    ctx: Arc<RunContext>,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: u64, ctx: Arc<RunContext>) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            used: 0,
            ctx,
        }
    }

    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let after = self.used + desired.saturating_sub(current);
        if after > self.limit {
            self.ctx.memory_exceeded.store(true, Ordering::Relaxed);
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes exceeded: the module asked for {after} bytes",
                self.limit
            ));
        }
        self.used = after;
        self.ctx.memory_bytes.store(after as u64, Ordering::Relaxed);
        Ok(true)
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
