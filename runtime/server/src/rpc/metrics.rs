//! Prometheus text metrics: per session, per module, and ingest counters.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::server::{Server, SessionInfo};

/// Counters the API bumps; session and module figures are read from the
/// server at each scrape.
#[derive(Debug, Default)]
pub struct Metrics {
    captures_written: AtomicU64,
    captures_received: AtomicU64,
    captures_rolled_back: AtomicU64,
    entities_written: AtomicU64,
    captures_read: AtomicU64,
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A per-module metric: name, type, help, and how to read it.
type ModuleCounter = (
    &'static str,
    &'static str,
    &'static str,
    fn(&bgpmon_host::Counters) -> u64,
);

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .collect();
        if labels.is_empty() {
            let _ = writeln!(self.out, "{name} {value}");
        } else {
            let _ = writeln!(self.out, "{name}{{{}}} {value}", labels.join(","));
        }
    }
}

impl Metrics {
    /// Counts captures committed through the API.
    pub fn captures_written(&self, n: u64) {
        self.captures_written.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts captures received in `WriteCaptures` streams, committed or
    /// not.
    pub fn captures_received(&self, n: u64) {
        self.captures_received.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts captures a `WriteCaptures` stream received but did not flush,
    /// rolled back when it ended, failed or was cancelled.
    pub fn captures_rolled_back(&self, n: u64) {
        self.captures_rolled_back.fetch_add(n, Ordering::Relaxed);
    }

    /// The captures received in `WriteCaptures` streams so far.
    pub fn received_captures(&self) -> u64 {
        self.captures_received.load(Ordering::Relaxed)
    }

    /// The captures rolled back by `WriteCaptures` streams so far.
    pub fn rolled_back_captures(&self) -> u64 {
        self.captures_rolled_back.load(Ordering::Relaxed)
    }

    /// The captures committed through the API so far.
    pub fn written_captures(&self) -> u64 {
        self.captures_written.load(Ordering::Relaxed)
    }

    /// Counts entities committed through the API.
    pub fn entities_written(&self, n: u64) {
        self.entities_written.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts captures streamed to clients.
    pub fn captures_read(&self, n: u64) {
        self.captures_read.fetch_add(n, Ordering::Relaxed);
    }

    /// The metrics of `server` and these counters, in Prometheus text
    /// format 0.0.4.
    pub fn render(&self, server: &Server, sessions: &[SessionInfo]) -> String {
        let mut out = String::new();
        let mut f = Family { out: &mut out };
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);

        f.header(
            "bgpmon_ingest_captures_written_total",
            "counter",
            "Captures committed through the API.",
        );
        f.sample(
            "bgpmon_ingest_captures_written_total",
            &[],
            get(&self.captures_written),
        );
        f.header(
            "bgpmon_ingest_captures_received_total",
            "counter",
            "Captures received in write streams, committed or not.",
        );
        f.sample(
            "bgpmon_ingest_captures_received_total",
            &[],
            get(&self.captures_received),
        );
        f.header(
            "bgpmon_ingest_captures_rolled_back_total",
            "counter",
            "Captures received but not flushed, rolled back when their stream ended, failed or was cancelled.",
        );
        f.sample(
            "bgpmon_ingest_captures_rolled_back_total",
            &[],
            get(&self.captures_rolled_back),
        );
        f.header(
            "bgpmon_ingest_entities_written_total",
            "counter",
            "Entities committed through the API.",
        );
        f.sample(
            "bgpmon_ingest_entities_written_total",
            &[],
            get(&self.entities_written),
        );
        f.header(
            "bgpmon_captures_read_total",
            "counter",
            "Captures streamed to API clients.",
        );
        f.sample("bgpmon_captures_read_total", &[], get(&self.captures_read));

        f.header("bgpmon_sessions_stored", "gauge", "Stored sessions.");
        f.sample("bgpmon_sessions_stored", &[], sessions.len() as u64);
        f.header("bgpmon_sessions_open", "gauge", "Open sessions.");
        let open = sessions.iter().filter(|s| s.open).count();
        f.sample("bgpmon_sessions_open", &[], open as u64);
        f.header(
            "bgpmon_session_captures",
            "gauge",
            "Captures stored in each session.",
        );
        for s in sessions {
            let labels = [
                ("session", s.id.as_str()),
                ("session_type", s.session_type.as_str()),
            ];
            f.sample("bgpmon_session_captures", &labels, s.stats.captures);
        }
        f.header(
            "bgpmon_session_stored_bytes",
            "gauge",
            "Bytes of capture blocks and indexes stored in each session.",
        );
        for s in sessions {
            let labels = [
                ("session", s.id.as_str()),
                ("session_type", s.session_type.as_str()),
            ];
            f.sample(
                "bgpmon_session_stored_bytes",
                &labels,
                s.stats.stored_bytes(),
            );
        }
        f.header(
            "bgpmon_session_workers",
            "gauge",
            "API workers of each open session.",
        );
        for s in sessions.iter().filter(|s| s.open) {
            let labels = [
                ("session", s.id.as_str()),
                ("session_type", s.session_type.as_str()),
            ];
            f.sample("bgpmon_session_workers", &labels, u64::from(s.workers));
        }
        f.header(
            "bgpmon_session_workers_busy",
            "gauge",
            "Streams API clients have open on each session.",
        );
        for s in sessions.iter().filter(|s| s.open) {
            let labels = [
                ("session", s.id.as_str()),
                ("session_type", s.session_type.as_str()),
            ];
            f.sample(
                "bgpmon_session_workers_busy",
                &labels,
                u64::from(s.workers_busy),
            );
        }

        f.header(
            "bgpmon_session_module_workers_busy",
            "gauge",
            "Streams modules have open on each session, out of its module_workers.",
        );
        for s in sessions.iter().filter(|s| s.open) {
            let labels = [
                ("session", s.id.as_str()),
                ("session_type", s.session_type.as_str()),
            ];
            f.sample(
                "bgpmon_session_module_workers_busy",
                &labels,
                u64::from(s.module_workers_busy),
            );
        }

        let modules = server.list_running_modules();
        f.header("bgpmon_module_types", "gauge", "Loaded module types.");
        f.sample(
            "bgpmon_module_types",
            &[],
            server.list_module_types().len() as u64,
        );
        f.header(
            "bgpmon_module_state",
            "gauge",
            "1 for each module in its state.",
        );
        for m in &modules {
            let labels = [
                ("module", m.id.as_str()),
                ("type", m.type_name.as_str()),
                ("state", m.state.name()),
            ];
            f.sample("bgpmon_module_state", &labels, 1);
        }
        let counters: [ModuleCounter; 6] = [
            (
                "bgpmon_module_fuel_used_total",
                "counter",
                "Fuel a module used.",
                |c| c.fuel_used,
            ),
            (
                "bgpmon_module_memory_bytes",
                "gauge",
                "Linear memory of a module.",
                |c| c.memory_bytes,
            ),
            (
                "bgpmon_module_host_calls_total",
                "counter",
                "Host calls a module made.",
                |c| c.host_calls,
            ),
            (
                "bgpmon_module_records_read_total",
                "counter",
                "Records a module read.",
                |c| c.records_read,
            ),
            (
                "bgpmon_module_records_written_total",
                "counter",
                "Records a module committed.",
                |c| c.records_written,
            ),
            (
                "bgpmon_module_logs_dropped_total",
                "counter",
                "Log lines over a module's rate.",
                |c| c.logs_dropped,
            ),
        ];
        for (name, kind, help, value) in counters {
            f.header(name, kind, help);
            for m in &modules {
                let labels = [("module", m.id.as_str()), ("type", m.type_name.as_str())];
                f.sample(name, &labels, value(&m.counters));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("x\ny"), "x\\ny");
    }
}
