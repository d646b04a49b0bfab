//! The state of one run that the supervisor and the instance share: its
//! identity, grants, limits, live counters, stop signals and recent logs.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::info::ModuleKind;
use crate::limits::{MAX_LOG_LINE_BYTES, ModuleLimits};

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
    /// Whether the module may run and close other modules.
    pub may_run_modules: bool,
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
    /// Fuel the guest has used.
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
    /// Time a daemon spent paused for exceeding its fuel rate.
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
    /// Cancelled when the module is asked to stop.
    pub(crate) stop: CancellationToken,
    pub(crate) fuel_used: AtomicU64,
    pub(crate) memory_bytes: AtomicU64,
    pub(crate) memory_exceeded: AtomicBool,
    pub(crate) host_calls: AtomicU64,
    pub(crate) records_read: AtomicU64,
    pub(crate) records_written: AtomicU64,
    pub(crate) logs_dropped: AtomicU64,
    pub(crate) paused_us: AtomicU64,
    logs: Mutex<LogBook>,
}

impl RunContext {
    pub(crate) fn new(
        id: String,
        type_name: String,
        kind: ModuleKind,
        grants: Grants,
        limits: ModuleLimits,
        stop: CancellationToken,
    ) -> Arc<Self> {
        Arc::new(Self {
            id,
            type_name,
            kind,
            grants,
            limits,
            started: Instant::now(),
            started_at: SystemTime::now(),
            stop,
            fuel_used: AtomicU64::new(0),
            memory_bytes: AtomicU64::new(0),
            memory_exceeded: AtomicBool::new(false),
            host_calls: AtomicU64::new(0),
            records_read: AtomicU64::new(0),
            records_written: AtomicU64::new(0),
            logs_dropped: AtomicU64::new(0),
            paused_us: AtomicU64::new(0),
            logs: Mutex::new(LogBook {
                lines: VecDeque::new(),
                next_seq: 0,
                window_start: Instant::now(),
                in_window: 0,
            }),
        })
    }

    pub(crate) fn counters(&self) -> Counters {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            fuel_used: get(&self.fuel_used),
            memory_bytes: get(&self.memory_bytes),
            host_calls: get(&self.host_calls),
            records_read: get(&self.records_read),
            records_written: get(&self.records_written),
            logs_dropped: get(&self.logs_dropped),
            paused: Duration::from_micros(get(&self.paused_us)),
            uptime: self.started.elapsed(),
        }
    }

    pub(crate) fn count_call(&self) {
        self.host_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Logs one line through `tracing` and keeps it, unless the run is over
    /// its log rate, in which case it is counted as dropped.
    pub(crate) fn log(&self, level: LogLevel, message: &str) {
        let mut message = message.trim_end().to_owned();
        if message.len() > MAX_LOG_LINE_BYTES {
            let mut cut = MAX_LOG_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
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
        let module = self.id.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(module, "{message}"),
            LogLevel::Debug => tracing::debug!(module, "{message}"),
            LogLevel::Info => tracing::info!(module, "{message}"),
            LogLevel::Warn => tracing::warn!(module, "{message}"),
            LogLevel::Error => tracing::error!(module, "{message}"),
        }
    }

    pub(crate) fn logs(&self) -> Vec<LogLine> {
        self.logs
            .lock()
            .map(|book| book.lines.iter().cloned().collect())
            .unwrap_or_default()
    }
}
