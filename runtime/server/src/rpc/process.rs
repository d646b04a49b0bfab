//! The standard `process_*` metrics of the daemon's own process, read from
//! `/proc` at each scrape.
//!
//! Only Linux has `/proc` in this shape, so only Linux registers the
//! collector; elsewhere the series are absent rather than made up. A file
//! that cannot be read or parsed leaves out the series it feeds and logs at
//! debug, since a scrape must not fail over one figure.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

/// Clock ticks per second of the times in `/proc/<pid>/stat`: the kernel
/// reports them in `USER_HZ`, which its user ABI fixes at 100.
const USER_HZ: f64 = 100.0;

/// The figures of one process, each absent when its source was unreadable.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ProcessStats {
    /// User plus system CPU time, in seconds.
    pub(crate) cpu_seconds: Option<f64>,
    /// When the process started, in seconds since the unix epoch.
    pub(crate) start_time_seconds: Option<f64>,
    /// Resident memory, in bytes.
    pub(crate) resident_memory_bytes: Option<u64>,
    /// Virtual memory, in bytes.
    pub(crate) virtual_memory_bytes: Option<u64>,
    /// Threads.
    pub(crate) threads: Option<u64>,
    /// Open file descriptors.
    pub(crate) open_fds: Option<u64>,
    /// The soft limit on open file descriptors.
    pub(crate) max_fds: Option<u64>,
}

/// The CPU seconds and start tick of `/proc/<pid>/stat` text: fields 14
/// and 15 (utime, stime) and 22 (starttime), counted after the command
/// name, which may itself hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(f64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `fields[0]` is field 3 (state).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let start: u64 = fields.get(19)?.parse().ok()?;
    #[expect(clippy::cast_precision_loss, reason = "tick counts fit f64's 53 bits")]
    let cpu = (utime + stime) as f64 / USER_HZ;
    Some((cpu, start))
}

/// The `btime` line of `/proc/stat`: the boot time in seconds since the
/// unix epoch.
fn parse_boot_time(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The value of `key` (such as `VmRSS:`) in `/proc/<pid>/status` text,
/// converted from kB to bytes when it carries that unit.
fn parse_status_field(status: &str, key: &str) -> Option<u64> {
    let value = status.lines().find_map(|line| line.strip_prefix(key))?;
    let mut words = value.split_whitespace();
    let number: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => number.checked_mul(1024),
        Some(_) => None,
        None => Some(number),
    }
}

/// The soft "Max open files" limit of `/proc/<pid>/limits` text; `None`
/// when unlimited.
fn parse_max_fds(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// Reads a `/proc` file, logging at debug when it cannot.
fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .inspect_err(|e| tracing::debug!(path, error = %e, "cannot read a /proc file"))
        .ok()
}

impl ProcessStats {
    /// The figures of this process, from `/proc/self`.
    pub(crate) fn read_self() -> Self {
        let stat = read("/proc/self/stat").and_then(|s| parse_stat(&s));
        let boot = read("/proc/stat").and_then(|s| parse_boot_time(&s));
        let status = read("/proc/self/status").unwrap_or_default();
        #[expect(clippy::cast_precision_loss, reason = "seconds since 1970 fit f64")]
        let start_time_seconds = stat
            .zip(boot)
            .map(|((_, ticks), boot)| boot as f64 + ticks as f64 / USER_HZ);
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .inspect_err(|e| tracing::debug!(error = %e, "cannot list /proc/self/fd"))
            .ok()
            .map(|dir| dir.count() as u64);
        Self {
            cpu_seconds: stat.map(|(cpu, _)| cpu),
            start_time_seconds,
            resident_memory_bytes: parse_status_field(&status, "VmRSS:"),
            virtual_memory_bytes: parse_status_field(&status, "VmSize:"),
            threads: parse_status_field(&status, "Threads:"),
            open_fds,
            max_fds: read("/proc/self/limits").and_then(|s| parse_max_fds(&s)),
        }
    }
}

/// The collector of the `process_*` families, registered on Linux only.
#[derive(Debug, Default)]
pub(crate) struct ProcessCollector;

fn gauge<V: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: Option<V>,
) -> Result<(), std::fmt::Error> {
    if let Some(value) = value {
        encoder
            .encode_descriptor(name, help, None, MetricType::Gauge)?
            .encode_gauge(&value)?;
    }
    Ok(())
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = ProcessStats::read_self();
        if let Some(cpu) = stats.cpu_seconds {
            encoder
                .encode_descriptor(
                    "process_cpu_seconds",
                    "Total user and system CPU time spent in seconds.",
                    None,
                    MetricType::Counter,
                )?
                .encode_counter::<NoLabelSet, _, f64>(&cpu, None)?;
        }
        let e = &mut encoder;
        gauge(
            e,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            stats.start_time_seconds,
        )?;
        gauge(
            e,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            stats.resident_memory_bytes,
        )?;
        gauge(
            e,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            stats.virtual_memory_bytes,
        )?;
        gauge(e, "process_threads", "Number of OS threads.", stats.threads)?;
        gauge(
            e,
            "process_open_fds",
            "Number of open file descriptors.",
            stats.open_fds,
        )?;
        gauge(
            e,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            stats.max_fds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis, as `comm` allows.
        let stat = "4242 (bgp mond) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    250 75 0 0 20 0 9 0 123456 1000000 500 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((3.25, 123_456)));
        assert_eq!(parse_stat("4242 (short) S 1"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn status_and_limits_fields_are_read_with_their_units() {
        let status = "Name:\tbgpmond\nVmSize:\t  20480 kB\nVmRSS:\t    1024 kB\nThreads:\t7\n";
        assert_eq!(parse_status_field(status, "VmRSS:"), Some(1024 * 1024));
        assert_eq!(parse_status_field(status, "VmSize:"), Some(20480 * 1024));
        assert_eq!(parse_status_field(status, "Threads:"), Some(7));
        assert_eq!(parse_status_field(status, "VmSwap:"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_max_fds(unlimited), None);
        assert_eq!(
            parse_boot_time("cpu 1 2 3\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_reads_plausible_figures() {
        let stats = ProcessStats::read_self();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = stats.start_time_seconds.unwrap();
        // Started before now, and not before the test binary was built.
        assert!(
            start <= now + 1.0 && start > now - 24.0 * 3600.0,
            "{start} vs {now}"
        );
        assert!(stats.resident_memory_bytes.unwrap() > 1 << 20);
        assert!(stats.virtual_memory_bytes.unwrap() >= stats.resident_memory_bytes.unwrap());
        assert!(stats.threads.unwrap() >= 1);
        // stdin, stdout, stderr and the listing itself at least.
        assert!(stats.open_fds.unwrap() >= 3);
        assert!(stats.cpu_seconds.unwrap() >= 0.0);
    }
}
