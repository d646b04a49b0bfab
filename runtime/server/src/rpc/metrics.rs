//! The daemon's Prometheus metrics, in one [`Registry`] built by
//! [`MetricsBuilder`].
//!
//! Three kinds of families live in it:
//! - counters and histograms the code bumps as things happen (API writes
//!   and reads, every gRPC call through [`RpcMetricsLayer`]);
//! - figures read from the server at each scrape by a collector (sessions,
//!   per-type module activity), so a deleted session or a retired run
//!   leaves no stale series behind;
//! - the build info and, on Linux, the `process_*` families.
//!
//! Module series are labelled by module type, never by run id: their number
//! is bounded by the loaded types however many runs come and go. A
//! subsystem with families of its own (a live listener) registers them
//! through [`MetricsBuilder::registry`] before the daemon serves.

use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::observe::{RpcMetrics, RpcMetricsLayer};
use crate::server::{Server, SessionInfo};
use bgpmon_host::TypeActivity;

/// The `Content-Type` of what [`Metrics::render`] returns: the Prometheus
/// text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Builds the daemon's [`Metrics`]: the one place metric families are
/// registered.
///
/// # Example
///
/// ```
/// use bgpmon_server::rpc::MetricsBuilder;
/// use prometheus_client::metrics::counter::Counter;
///
/// let connections = Counter::<u64>::default();
/// let mut builder = MetricsBuilder::new();
/// builder.registry().register(
///     "bgpmon_bmp_connections",
///     "BMP connections accepted.",
///     connections.clone(),
/// );
/// let metrics = builder.build();
/// connections.inc();
/// assert!(metrics.render_registry().contains("\nbgpmon_bmp_connections_total 1\n"));
/// ```
#[derive(Debug)]
pub struct MetricsBuilder {
    registry: Registry,
    api: ApiCounters,
    rpc: RpcMetrics,
    view: Arc<Mutex<Option<ServerView>>>,
}

impl Default for MetricsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsBuilder {
    /// A registry holding every family of the daemon: build info, API
    /// counters, RPC requests and latency, sessions, modules, and on Linux
    /// the `process_*` families.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                rustc: env!("BGPMON_RUSTC_VERSION"),
            })
            .set(1);
        registry.register(
            "bgpmon_build_info",
            "Always 1; its labels say which build of bgpmond runs.",
            build,
        );
        let api = ApiCounters::register(&mut registry);
        let rpc = RpcMetrics::register(&mut registry);
        let view = Arc::new(Mutex::new(None));
        registry.register_collector(Box::new(ServerCollector { view: view.clone() }));
        #[cfg(target_os = "linux")]
        registry.register_collector(Box::new(super::process::ProcessCollector));
        Self {
            registry,
            api,
            rpc,
            view,
        }
    }

    /// The registry, to add families of another subsystem: register a
    /// metric here and keep a clone to update it (metrics are shared
    /// handles), or register a [`Collector`] for figures read at scrape
    /// time. Names must not clash with the daemon's
    /// (`bgpmon_*` as listed in `docs/design.md`, `process_*`).
    pub fn registry(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The metrics, ready to count and render.
    pub fn build(self) -> Metrics {
        Metrics {
            registry: self.registry,
            api: self.api,
            rpc: Arc::new(self.rpc),
            view: self.view,
            scrape: Mutex::new(()),
        }
    }
}

/// The labels of `bgpmon_build_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    /// The crate version.
    version: &'static str,
    /// `rustc --version` of the compiler that built it.
    rustc: &'static str,
}

/// The counters the API bumps.
#[derive(Debug)]
struct ApiCounters {
    captures_written: Counter,
    captures_received: Counter,
    captures_rolled_back: Counter,
    entities_written: Counter,
    captures_read: Counter,
}

impl ApiCounters {
    fn register(registry: &mut Registry) -> Self {
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        Self {
            captures_written: counter(
                registry,
                "bgpmon_ingest_captures_written",
                "Captures committed through the API.",
            ),
            captures_received: counter(
                registry,
                "bgpmon_ingest_captures_received",
                "Captures received in write streams, committed or not.",
            ),
            captures_rolled_back: counter(
                registry,
                "bgpmon_ingest_captures_rolled_back",
                "Captures received but not flushed, rolled back when their stream ended, failed or was cancelled.",
            ),
            entities_written: counter(
                registry,
                "bgpmon_ingest_entities_written",
                "Entities committed through the API.",
            ),
            captures_read: counter(
                registry,
                "bgpmon_captures_read",
                "Captures streamed to API clients.",
            ),
        }
    }
}

/// What the server looked like at the start of one scrape.
#[derive(Debug)]
struct ServerView {
    sessions: Vec<SessionInfo>,
    module_types: usize,
    activity: Vec<TypeActivity>,
}

/// The scrape-time families: sessions and modules.
#[derive(Debug)]
struct ServerCollector {
    /// Set by [`Metrics::render`] for the length of one encode.
    view: Arc<Mutex<Option<ServerView>>>,
}

/// The daemon's metrics: the registry, and the handles the API counts
/// with.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    api: ApiCounters,
    rpc: Arc<RpcMetrics>,
    view: Arc<Mutex<Option<ServerView>>>,
    /// Held for a whole render, so two scrapes never share a view.
    scrape: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        MetricsBuilder::new().build()
    }
}

impl Metrics {
    /// Counts captures committed through the API.
    pub fn captures_written(&self, n: u64) {
        self.api.captures_written.inc_by(n);
    }

    /// Counts captures received in `WriteCaptures` streams, committed or
    /// not.
    pub fn captures_received(&self, n: u64) {
        self.api.captures_received.inc_by(n);
    }

    /// Counts captures a `WriteCaptures` stream received but did not flush,
    /// rolled back when it ended, failed or was cancelled.
    pub fn captures_rolled_back(&self, n: u64) {
        self.api.captures_rolled_back.inc_by(n);
    }

    /// The captures received in `WriteCaptures` streams so far.
    pub fn received_captures(&self) -> u64 {
        self.api.captures_received.get()
    }

    /// The captures rolled back by `WriteCaptures` streams so far.
    pub fn rolled_back_captures(&self) -> u64 {
        self.api.captures_rolled_back.get()
    }

    /// The captures committed through the API so far.
    pub fn written_captures(&self) -> u64 {
        self.api.captures_written.get()
    }

    /// Counts entities committed through the API.
    pub fn entities_written(&self, n: u64) {
        self.api.entities_written.inc_by(n);
    }

    /// Counts captures streamed to clients.
    pub fn captures_read(&self, n: u64) {
        self.api.captures_read.inc_by(n);
    }

    /// The tower layer that counts and times every gRPC call into
    /// `bgpmon_rpc_requests_total` and
    /// `bgpmon_rpc_request_duration_seconds`.
    pub fn rpc_layer(&self) -> RpcMetricsLayer {
        RpcMetricsLayer::new(self.rpc.clone())
    }

    /// Every family, with `server` and its `sessions` as they are now, in
    /// the Prometheus text format ([`CONTENT_TYPE`]).
    pub fn render(&self, server: &Server, sessions: &[SessionInfo]) -> String {
        let _scrape = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        *self.view.lock().unwrap_or_else(PoisonError::into_inner) = Some(ServerView {
            sessions: sessions.to_vec(),
            module_types: server.list_module_types().len(),
            activity: server.module_activity(),
        });
        let out = self.render_registry();
        *self.view.lock().unwrap_or_else(PoisonError::into_inner) = None;
        out
    }

    /// Every family except the server's sessions and modules, in the
    /// Prometheus text format.
    pub fn render_registry(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, and no collector here fails on
        // its own.
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

/// Writes one gauge without labels.
fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    encoder
        .encode_descriptor(name, help, None, MetricType::Gauge)?
        .encode_gauge(&value)
}

/// Writes one gauge family: `(labels, value)` per series.
fn gauges<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, u64)>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        family.encode_family(&labels)?.encode_gauge(&value)?;
    }
    Ok(())
}

/// Writes one counter family: `(labels, value)` per series. `name` has no
/// `_total`; the encoder adds it.
fn counters<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, u64)>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in samples {
        family
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, f64>(&value, None)?;
    }
    Ok(())
}

/// A per-type module counter: name without `_total`, help, and its value.
type ModuleCounter = (&'static str, &'static str, fn(&TypeActivity) -> u64);

impl Collector for ServerCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let view = self.view.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(view) = view.as_ref() else {
            return Ok(());
        };
        let e = &mut encoder;
        let sessions = &view.sessions;
        let session = |s: &SessionInfo| {
            [
                ("session", s.id.clone()),
                ("session_type", s.session_type.clone()),
            ]
        };
        let open = || sessions.iter().filter(|s| s.open);
        gauge(
            e,
            "bgpmon_sessions_stored",
            "Stored sessions.",
            sessions.len() as u64,
        )?;
        gauge(
            e,
            "bgpmon_sessions_open",
            "Open sessions.",
            open().count() as u64,
        )?;
        gauges(
            e,
            "bgpmon_session_captures",
            "Captures stored in each session.",
            sessions.iter().map(|s| (session(s), s.stats.captures)),
        )?;
        gauges(
            e,
            "bgpmon_session_stored_bytes",
            "Bytes of capture blocks and indexes stored in each session.",
            sessions
                .iter()
                .map(|s| (session(s), s.stats.stored_bytes())),
        )?;
        gauges(
            e,
            "bgpmon_session_workers",
            "API workers of each open session.",
            open().map(|s| (session(s), u64::from(s.workers))),
        )?;
        gauges(
            e,
            "bgpmon_session_workers_busy",
            "Streams API clients have open on each session.",
            open().map(|s| (session(s), u64::from(s.workers_busy))),
        )?;
        gauges(
            e,
            "bgpmon_session_module_workers_busy",
            "Streams modules have open on each session, out of its module_workers.",
            open().map(|s| (session(s), u64::from(s.module_workers_busy))),
        )?;

        gauge(
            e,
            "bgpmon_module_types",
            "Loaded module types.",
            view.module_types as u64,
        )?;
        let activity = &view.activity;
        let of_type = |a: &TypeActivity| [("type", a.type_name.clone())];
        gauges(
            e,
            "bgpmon_modules",
            "Module runs listed (running, or ended and still retained), by type and state.",
            activity.iter().flat_map(|a| {
                a.runs.iter().map(|(state, n)| {
                    (
                        [
                            ("type", a.type_name.clone()),
                            ("state", (*state).to_owned()),
                        ],
                        *n,
                    )
                })
            }),
        )?;
        gauges(
            e,
            "bgpmon_module_memory_bytes",
            "Linear memory and tables of the live runs of each module type.",
            activity.iter().map(|a| (of_type(a), a.memory_bytes)),
        )?;
        let module_counters: [ModuleCounter; 6] = [
            (
                "bgpmon_module_fuel_used",
                "Fuel used by the runs of each module type.",
                |a| a.fuel_used,
            ),
            (
                "bgpmon_module_host_calls",
                "Host calls made by the runs of each module type.",
                |a| a.host_calls,
            ),
            (
                "bgpmon_module_records_read",
                "Records read by the runs of each module type.",
                |a| a.records_read,
            ),
            (
                "bgpmon_module_records_written",
                "Records committed by the runs of each module type.",
                |a| a.records_written,
            ),
            (
                "bgpmon_module_logs_dropped",
                "Log lines over their run's rate, by module type.",
                |a| a.logs_dropped,
            ),
            (
                "bgpmon_module_findings",
                "Findings stored by the runs of each module type.",
                |a| a.findings,
            ),
        ];
        for (name, help, value) in module_counters {
            counters(
                e,
                name,
                help,
                activity.iter().map(|a| (of_type(a), value(a))),
            )?;
        }
        let mut paused = e.encode_descriptor(
            "bgpmon_module_paused_seconds",
            "Time the runs of each module type spent paused for a fuel rate.",
            None,
            MetricType::Counter,
        )?;
        for a in activity {
            paused
                .encode_family(&of_type(a))?
                .encode_counter::<NoLabelSet, _, f64>(&a.paused.as_secs_f64(), None)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_have_one_total_suffix_and_build_info_is_one() {
        let metrics = Metrics::default();
        metrics.captures_written(3);
        let text = metrics.render_registry();
        assert!(
            text.contains("# TYPE bgpmon_ingest_captures_written_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("\nbgpmon_ingest_captures_written_total 3\n"),
            "{text}"
        );
        assert!(!text.contains("_total_total"), "{text}");
        let build = text
            .lines()
            .find(|l| l.starts_with("bgpmon_build_info{"))
            .unwrap();
        assert!(
            build.starts_with(&format!(
                "bgpmon_build_info{{version=\"{}\",rustc=\"rustc ",
                env!("CARGO_PKG_VERSION")
            )),
            "{build}"
        );
        assert!(build.ends_with("} 1"), "{build}");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        let mut registry = Registry::default();
        let family = Family::<[(&'static str, String); 1], Gauge>::default();
        family
            .get_or_create(&[("type", "a\"b\\c\nd".to_owned())])
            .set(1);
        registry.register("x", "y", family);
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).unwrap();
        assert!(out.contains(r#"x{type="a\"b\\c\nd"} 1"#), "{out}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_families_are_served_on_linux() {
        let text = Metrics::default().render_registry();
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_start_time_seconds ",
            "process_max_fds ",
        ] {
            assert!(text.contains(&format!("\n{name}")), "{name}: {text}");
        }
    }
}
