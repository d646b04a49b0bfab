//! The state of one run that the supervisor and the instance share: its
//! identity, grants, limits, live counters, stop signals and recent logs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::account::{Account, OutOfBudget};
use crate::info::ModuleKind;
use crate::limits::{HOST_CALL_FUEL, MAX_LOG_LINE_BYTES, ModuleLimits};

/// How many recent log lines a run keeps for `logs`.
pub const MAX_RETAINED_LOG_LINES: usize = 1_000;

/// The capabilities an operator grants a module.
///
/// By default a module is granted nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Session ids the module may read and write; `"*"` grants every
    /// session.
    pub sessions: Vec<String>,
    /// Session ids the module may only read; `"*"` grants every session.
    pub read_sessions: Vec<String>,
    /// Whether the module may run other modules, and list and close those
    /// it ran.
    pub may_run_modules: bool,
    /// Whether the modules it runs may be daemons. Without it, a module may
    /// run only tasks.
    pub may_run_daemons: bool,
}

impl Grants {
    /// Whether the module may open session `id`, to read at least.
    pub fn allows_session(&self, id: &str) -> bool {
        self.allows_write(id) || self.read_sessions.iter().any(|s| s == "*" || s == id)
    }

    /// Whether the module may write to session `id`.
    pub fn allows_write(&self, id: &str) -> bool {
        self.sessions.iter().any(|s| s == "*" || s == id)
    }
}

/// A log level of a module's log line.
///
/// The module's own log keeps the level it chose; the daemon's log records
/// module text at most at [`LogLevel::Info`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// For debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

impl LogLevel {
    /// The level's name, in lowercase.
    pub fn name(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// One line a module logged, through the log call or its stdout/stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Its number within the run, from 0; lines dropped by the rate limit
    /// take no number.
    pub seq: u64,
    /// When it was logged.
    pub time: SystemTime,
    /// Its level; stdout lines are info and stderr lines warn.
    pub level: LogLevel,
    /// The text, cut to [`MAX_LOG_LINE_BYTES`].
    pub message: String,
}

/// A snapshot of a run's live counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Fuel the module has used: its guest code's, plus what its host calls
    /// were charged.
    pub fuel_used: u64,
    /// Linear memory and tables in use, in bytes.
    pub memory_bytes: u64,
    /// Host calls made.
    pub host_calls: u64,
    /// Records returned by read streams.
    pub records_read: u64,
    /// Records committed by write streams.
    pub records_written: u64,
    /// Log lines dropped by the log rate limit.
    pub logs_dropped: u64,
    /// Findings reported and stored.
    pub findings: u64,
    /// Time the module spent paused for exceeding a fuel rate (its own, or
    /// an ancestor's).
    pub paused: Duration,
    /// Time since the run started.
    pub uptime: Duration,
}

struct LogBook {
    lines: VecDeque<LogLine>,
    next_seq: u64,
    window_start: Instant,
    in_window: u32,
}

/// The shared state of one run.
pub(crate) struct RunContext {
    pub(crate) id: String,
    pub(crate) type_name: String,
    pub(crate) kind: ModuleKind,
    pub(crate) grants: Grants,
    pub(crate) limits: ModuleLimits,
    pub(crate) started: Instant,
    pub(crate) started_at: SystemTime,
    /// Cancelled when the module is asked to stop; a child's is a child of
    /// its parent's.
    pub(crate) stop: CancellationToken,
    /// Cancelled when the module is ended without waiting; a child's is a
    /// child of its parent's.
    pub(crate) force: CancellationToken,
    /// What the run and its descendants have used.
    pub(crate) account: Arc<Account>,
    /// Fuel the guest code burned, as last read from its store.
    wasm_fuel: AtomicU64,
    /// Fuel charged for host calls.
    host_fuel: AtomicU64,
    pub(crate) memory_bytes: AtomicU64,
    /// The memory cap a growth hit, or 0.
    pub(crate) memory_exceeded: AtomicU64,
    pub(crate) host_calls: AtomicU64,
    pub(crate) records_read: AtomicU64,
    pub(crate) records_written: AtomicU64,
    pub(crate) logs_dropped: AtomicU64,
    pub(crate) findings: AtomicU64,
    /// When the findings rate next has room, as the time past which the
    /// reports so far are paid for (a virtual schedule: each finding takes
    /// `1 / findings_per_second`, and a second's worth may run ahead).
    findings_due: Mutex<Instant>,
    pub(crate) paused_us: AtomicU64,
    /// A pause the fuel meter asked for, in microseconds, or 0.
    pause_request_us: AtomicU64,
    logs: Mutex<LogBook>,
}

/// Who a run is and what it may use, to make its context from.
pub(crate) struct RunIdentity {
    pub(crate) id: String,
    pub(crate) type_name: String,
    pub(crate) kind: ModuleKind,
    pub(crate) grants: Grants,
    pub(crate) limits: ModuleLimits,
}

impl RunContext {
    /// The id of the run's family: its root's, the run the operator
    /// started. Operator ids cannot hold the namespace separator, so the
    /// id's first part is the root's.
    pub(crate) fn family(&self) -> &str {
        self.id
            .split(crate::lifecycle::NAMESPACE_SEPARATOR)
            .next()
            .unwrap_or(&self.id)
    }

    pub(crate) fn new(
        who: RunIdentity,
        account: Arc<Account>,
        stop: CancellationToken,
        force: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            id: who.id,
            type_name: who.type_name,
            kind: who.kind,
            grants: who.grants,
            limits: who.limits,
            started: Instant::now(),
            started_at: SystemTime::now(),
            stop,
            force,
            account,
            wasm_fuel: AtomicU64::new(0),
            host_fuel: AtomicU64::new(0),
            memory_bytes: AtomicU64::new(0),
            memory_exceeded: AtomicU64::new(0),
            host_calls: AtomicU64::new(0),
            records_read: AtomicU64::new(0),
            records_written: AtomicU64::new(0),
            logs_dropped: AtomicU64::new(0),
            findings: AtomicU64::new(0),
            findings_due: Mutex::new(Instant::now()),
            paused_us: AtomicU64::new(0),
            pause_request_us: AtomicU64::new(0),
            logs: Mutex::new(LogBook {
                lines: VecDeque::new(),
                next_seq: 0,
                window_start: Instant::now(),
                in_window: 0,
            }),
        })
    }

    /// Fuel used so far: guest code plus host calls.
    pub(crate) fn fuel_used(&self) -> u64 {
        self.wasm_fuel
            .load(Ordering::Acquire)
            .saturating_add(self.host_fuel.load(Ordering::Acquire))
    }

    /// Fuel the guest code burned, as last recorded.
    pub(crate) fn wasm_fuel(&self) -> u64 {
        self.wasm_fuel.load(Ordering::Acquire)
    }

    /// Records that the guest code has burned `total` fuel since the run
    /// began, and charges what is new to the account chain.
    pub(crate) fn record_wasm_fuel(&self, total: u64) {
        let before = self.wasm_fuel.fetch_max(total, Ordering::AcqRel);
        self.account.charge_fuel(total.saturating_sub(before));
    }

    /// Counts one call of a bgpmon interface and charges it `extra_fuel`
    /// for the work it asks of the host (the entry itself is charged by
    /// [`RunContext::enter_host`]).
    ///
    /// Returns an error, which ends the run, once the charge uses up the
    /// family's budget.
    pub(crate) fn host_call(&self, extra_fuel: u64) -> Result<(), OutOfBudget> {
        self.host_calls.fetch_add(1, Ordering::Relaxed);
        self.charge_host(extra_fuel)
    }

    /// Charges [`HOST_CALL_FUEL`] for one entry of the guest into the host:
    /// a bgpmon call, a WASI call, or an engine call such as a fuel yield.
    /// The store's call hook calls it, so no way into the host is free.
    ///
    /// Returns an error, which ends the run, once the charge uses up the
    /// family's budget.
    pub(crate) fn enter_host(&self) -> Result<(), OutOfBudget> {
        self.charge_host(HOST_CALL_FUEL)
    }

    fn charge_host(&self, fuel: u64) -> Result<(), OutOfBudget> {
        if fuel > 0 {
            self.host_fuel.fetch_add(fuel, Ordering::AcqRel);
            self.account.charge_fuel(fuel);
        }
        match self.account.exhausted_budget() {
            Some(budget) => Err(OutOfBudget { budget }),
            None => Ok(()),
        }
    }

    /// Asks the run to pause for `pause` at its next yield.
    pub(crate) fn request_pause(&self, pause: Duration) {
        let us = u64::try_from(pause.as_micros()).unwrap_or(u64::MAX).max(1);
        self.pause_request_us.store(us, Ordering::Release);
    }

    /// Takes the pause asked for, if any.
    pub(crate) fn take_pause(&self) -> Option<Duration> {
        match self.pause_request_us.swap(0, Ordering::AcqRel) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Adds time spent paused.
    pub(crate) fn add_paused(&self, paused: Duration) {
        self.paused_us.fetch_add(
            u64::try_from(paused.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn counters(&self) -> Counters {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            fuel_used: self.fuel_used(),
            memory_bytes: get(&self.memory_bytes),
            host_calls: get(&self.host_calls),
            records_read: get(&self.records_read),
            records_written: get(&self.records_written),
            logs_dropped: get(&self.logs_dropped),
            findings: get(&self.findings),
            paused: Duration::from_micros(get(&self.paused_us)),
            uptime: self.started.elapsed(),
        }
    }

    /// Logs one line: keeps it in the run's log, and writes it to the
    /// daemon's log as an escaped field at most at info, unless the run is
    /// over its log rate, in which case it is counted as dropped.
    ///
    /// `message` is cut to [`MAX_LOG_LINE_BYTES`].
    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        let message = cut(message.trim_end(), MAX_LOG_LINE_BYTES).to_owned();
        {
            let Ok(mut book) = self.logs.lock() else {
                return;
            };
            if book.window_start.elapsed() >= Duration::from_secs(1) {
                book.window_start = Instant::now();
                book.in_window = 0;
            }
            if book.in_window >= self.limits.logs_per_second {
                self.logs_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            book.in_window += 1;
            if book.lines.len() == MAX_RETAINED_LOG_LINES {
                book.lines.pop_front();
            }
            let seq = book.next_seq;
            book.next_seq += 1;
            book.lines.push_back(LogLine {
                seq,
                time: SystemTime::now(),
                level,
                message: message.clone(),
            });
        }
        // Module text goes in a Debug-formatted field, which escapes
        // newlines and control characters, so it can never forge a line of
        // the daemon's own log; and it never reaches warn or error, which
        // are for the operator.
        let (module, guest_level) = (&self.id, level.name());
        match level {
            LogLevel::Trace => {
                tracing::trace!(module = %module, guest_level, text = ?message, "module log");
            }
            LogLevel::Debug => {
                tracing::debug!(module = %module, guest_level, text = ?message, "module log");
            }
            LogLevel::Info | LogLevel::Warn | LogLevel::Error => {
                tracing::info!(module = %module, guest_level, text = ?message, "module log");
            }
        }
    }

    /// Schedules `count` findings on the run's findings rate and returns
    /// how long the module must wait before they may be stored: zero while
    /// it is within a second's burst of the rate.
    pub(crate) fn findings_wait(&self, count: u64) -> Duration {
        let per_second = u64::from(self.limits.findings_per_second.max(1));
        let cost = Duration::from_micros(count.saturating_mul(1_000_000) / per_second);
        let burst = Duration::from_secs(1);
        let now = Instant::now();
        let Ok(mut due) = self.findings_due.lock() else {
            return Duration::ZERO;
        };
        let start = (*due).max(now);
        *due = start + cost;
        (*due).saturating_duration_since(now + burst)
    }

    pub(crate) fn logs(&self) -> Vec<LogLine> {
        self.logs
            .lock()
            .map(|book| book.lines.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_run_a_second_ahead_of_their_rate_then_wait() {
        let limits = ModuleLimits {
            findings_per_second: 100,
            ..ModuleLimits::default()
        };
        let who = RunIdentity {
            id: "r".into(),
            type_name: "t".into(),
            kind: ModuleKind::Task,
            grants: Grants::default(),
            limits,
        };
        let ctx = RunContext::new(
            who,
            Account::root(None, None, 1 << 20),
            CancellationToken::new(),
            CancellationToken::new(),
        );
        // A second's worth passes at once, in one call or several.
        assert_eq!(ctx.findings_wait(60), Duration::ZERO);
        assert_eq!(ctx.findings_wait(39), Duration::ZERO);
        // Past it, each finding waits its share: 1/100 s.
        let wait = ctx.findings_wait(51);
        assert!(
            wait > Duration::from_millis(480) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
    }

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("aé", 2), "a");
    }
}
