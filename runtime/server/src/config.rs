//! The daemon's TOML configuration: typed, checked as a whole before
//! anything opens, with every error naming its key.
//!
//! ```toml
//! rpc_address = "127.0.0.1:12289"
//! module_dir = "modules"
//!
//! [sessions.local]
//! type = "redb"
//! path = "bgpmon.redb"
//! workers = 4
//! module_workers = 4
//! module_streams = 2
//! timeout_secs = 10
//!
//! [modules.watch]
//! type = "example-daemon"
//! options = { session = "live" }
//! grants = { sessions = ["live"] }
//!
//! [nodes."128.223.51.102"]
//! name = "route-views2"
//! collector = true
//! dump_duration_minutes = 15
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bgpmon_host::{Grants, LimitName, MAX_MEMORY_BYTES, ModuleLimits};
use bgpmon_store::{MAX_WORKERS, Node};
use serde::{Deserialize, Serialize};

/// The default RPC listen address: loopback only.
pub const DEFAULT_RPC_ADDRESS: &str = "127.0.0.1:12289";

/// The default number of workers of a session type.
pub const DEFAULT_SESSION_WORKERS: u32 = bgpmon_store::DEFAULT_WORKERS;

/// The default number of module workers of a session type.
pub const DEFAULT_SESSION_MODULE_WORKERS: u32 = bgpmon_store::DEFAULT_MODULE_WORKERS;

/// The default number of streams one module family may hold on a session.
pub const DEFAULT_SESSION_MODULE_STREAMS: u32 = bgpmon_store::DEFAULT_MODULE_STREAMS;

/// The default seconds a stream open waits for a free worker.
pub const DEFAULT_SESSION_TIMEOUT_SECS: u64 = 10;

/// A configuration error, naming the file, the key and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    /// The config file, or `(inline)`.
    pub file: String,
    /// The dotted key path, such as `sessions.local.workers`.
    pub key: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `rpc_address`: where the gRPC API listens. By default
    /// [`DEFAULT_RPC_ADDRESS`].
    #[serde(default = "default_rpc_address")]
    pub rpc_address: SocketAddr,
    /// `metrics_address`: where Prometheus metrics are served; none by
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_address: Option<SocketAddr>,
    /// `module_dir`: the folder of module `.wasm` files, loaded at start
    /// and written by installs; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_dir: Option<PathBuf>,
    /// `cache_dir`: where compiled modules are cached; none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_dir: Option<PathBuf>,
    /// `api_token_file`: a file holding the API's bearer token. With it,
    /// every RPC that changes state (see `rpc::PROTECTED_RPCS`) needs the
    /// token; none by default, which leaves the API open to whoever can
    /// reach `rpc_address` (loopback only by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token_file: Option<PathBuf>,
    /// `tls_cert_file`: the API's TLS certificate chain (PEM). With
    /// `tls_key_file`, the API serves TLS only; none by default (plain
    /// HTTP/2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert_file: Option<PathBuf>,
    /// `tls_key_file`: the private key of `tls_cert_file` (PEM); none by
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key_file: Option<PathBuf>,
    /// `limits`: the limits of a module run, over the built-in defaults.
    /// They are both the defaults and the ceilings: a run (from the API or
    /// `modules.<id>.limits`) may ask for less, never for more.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `sessions.<name>`: the session types.
    #[serde(default)]
    pub sessions: BTreeMap<String, SessionTypeConfig>,
    /// `modules.<id>`: modules started with the daemon.
    #[serde(default)]
    pub modules: BTreeMap<String, ModuleConfig>,
    /// `nodes."<ip>"`: known collectors and peers.
    #[serde(default)]
    pub nodes: BTreeMap<String, NodeConfig>,
    /// `bmp.<name>`: BMP stations that routers stream to.
    #[serde(default)]
    pub bmp: BTreeMap<String, BmpConfig>,
}

/// The default `bmp.<name>.address`: loopback, on pmacct's BMP port.
pub const DEFAULT_BMP_ADDRESS: &str = "127.0.0.1:1790";
const DEFAULT_BMP_SOCKET: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1790);
/// The default `bmp.<name>.commit_interval_ms`.
pub const DEFAULT_BMP_COMMIT_INTERVAL_MS: u64 = 100;
/// The default `bmp.<name>.commit_captures`.
pub const DEFAULT_BMP_COMMIT_CAPTURES: usize = 10_000;
/// The default `bmp.<name>.dump_quiet_ms`.
pub const DEFAULT_BMP_DUMP_QUIET_MS: u64 = 1_000;

/// `bmp.<name>`: a BMP station (RFC 7854) writing what routers stream into one session.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BmpConfig {
    /// `address`: where it listens for routers; by default [`DEFAULT_BMP_ADDRESS`].
    #[serde(default = "default_bmp_address")]
    pub address: SocketAddr,
    /// `session_type`: the type of `session`; by default the first in name order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_type: Option<String>,
    /// `session`: the session captures are written to, created at startup if missing.
    pub session: String,
    /// `views`: which route-monitoring views to store, of `"pre-policy"`,
    /// `"post-policy"` and `"loc-rib"`; by default all three.
    #[serde(default = "default_bmp_views")]
    pub views: Vec<String>,
    /// `commit_interval_ms`: the longest a received capture waits for its commit; by
    /// default [`DEFAULT_BMP_COMMIT_INTERVAL_MS`].
    #[serde(default = "default_bmp_commit_interval_ms")]
    pub commit_interval_ms: u64,
    /// `commit_captures`: captures that make a commit before the interval is up; by
    /// default [`DEFAULT_BMP_COMMIT_CAPTURES`].
    #[serde(default = "default_bmp_commit_captures")]
    pub commit_captures: usize,
    /// `dump_quiet_ms`: how long a router is quiet before its table dumps count as over
    /// (for routers that send no End-of-RIB); by default [`DEFAULT_BMP_DUMP_QUIET_MS`].
    #[serde(default = "default_bmp_dump_quiet_ms")]
    pub dump_quiet_ms: u64,
}

fn default_bmp_address() -> SocketAddr {
    DEFAULT_BMP_SOCKET
}

fn default_bmp_views() -> Vec<String> {
    bgpmon_store::RouteView::ALL
        .iter()
        .map(|v| v.name().to_owned())
        .collect()
}

fn default_bmp_commit_interval_ms() -> u64 {
    DEFAULT_BMP_COMMIT_INTERVAL_MS
}

fn default_bmp_commit_captures() -> usize {
    DEFAULT_BMP_COMMIT_CAPTURES
}

fn default_bmp_dump_quiet_ms() -> u64 {
    DEFAULT_BMP_DUMP_QUIET_MS
}

impl BmpConfig {
    /// The session type of the station's session: `session_type`, else the first of
    /// `types` in name order.
    pub fn session_type_in<'a>(&'a self, config: &'a Config) -> Option<&'a str> {
        self.session_type
            .as_deref()
            .or_else(|| config.sessions.keys().next().map(String::as_str))
    }

    /// The views to store, as names were checked at load.
    pub fn route_views(&self) -> Vec<bgpmon_store::RouteView> {
        self.views
            .iter()
            .filter_map(|v| bgpmon_store::RouteView::from_name(v))
            .collect()
    }

    fn check(&self, key: &str, config: &Config, problems: &mut Vec<(String, String)>) {
        if let Err(problem) = bgpmon_host::check_identifier(&self.session) {
            problems.push((
                format!("{key}.session"),
                format!("{:?}: {problem}", self.session),
            ));
        }
        match self.session_type_in(config) {
            None => problems.push((
                format!("{key}.session_type"),
                "no session types are configured; add a [sessions.<type>] table".into(),
            )),
            Some(t) if !config.sessions.contains_key(t) => problems.push((
                format!("{key}.session_type"),
                format!("{t:?} is not a configured session type"),
            )),
            Some(_) => {}
        }
        if self.views.is_empty() {
            problems.push((
                format!("{key}.views"),
                "is empty; list at least one of \"pre-policy\", \"post-policy\", \"loc-rib\""
                    .into(),
            ));
        }
        for (i, view) in self.views.iter().enumerate() {
            if bgpmon_store::RouteView::from_name(view).is_none() {
                problems.push((
                    format!("{key}.views[{i}]"),
                    format!(
                        "{view:?} is not a view; use \"pre-policy\", \"post-policy\" or \"loc-rib\""
                    ),
                ));
            }
        }
        if !(1..=60_000).contains(&self.commit_interval_ms) {
            problems.push((
                format!("{key}.commit_interval_ms"),
                format!(
                    "{} is out of range; use 1 to 60000",
                    self.commit_interval_ms
                ),
            ));
        }
        let max = bgpmon_store::MAX_WRITE_BUFFER;
        if !(1..=max).contains(&self.commit_captures) {
            problems.push((
                format!("{key}.commit_captures"),
                format!("{} is out of range; use 1 to {max}", self.commit_captures),
            ));
        }
        if !(1..=3_600_000).contains(&self.dump_quiet_ms) {
            problems.push((
                format!("{key}.dump_quiet_ms"),
                format!("{} is out of range; use 1 to 3600000", self.dump_quiet_ms),
            ));
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            rpc_address: default_rpc_address(),
            metrics_address: None,
            module_dir: None,
            cache_dir: None,
            api_token_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            limits: LimitsConfig::default(),
            sessions: BTreeMap::new(),
            modules: BTreeMap::new(),
            nodes: BTreeMap::new(),
            bmp: BTreeMap::new(),
        }
    }
}

fn default_rpc_address() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 12289))
}

/// The kind of store behind a session type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// An embedded redb file.
    Redb,
}

/// `sessions.<name>`: one session type.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SessionTypeConfig {
    /// `type`: the store kind; `"redb"`.
    #[serde(rename = "type")]
    pub kind: StoreKind,
    /// `path`: the redb file; relative paths are relative to the config
    /// file's folder.
    pub path: PathBuf,
    /// `workers`: streams API clients may have open at once on one
    /// session. By default [`DEFAULT_SESSION_WORKERS`]; 1 to
    /// [`MAX_WORKERS`].
    #[serde(default = "default_workers")]
    pub workers: u32,
    /// `module_workers`: streams modules may have open at once on one
    /// session, all together, apart from the API's `workers`. By default
    /// [`DEFAULT_SESSION_MODULE_WORKERS`]; 2 to [`MAX_WORKERS`].
    #[serde(default = "default_module_workers")]
    pub module_workers: u32,
    /// `module_streams`: streams one module and its children may have open
    /// at once on one session. By default
    /// [`DEFAULT_SESSION_MODULE_STREAMS`]; at least 1 and below
    /// `module_workers`, so one module never takes every module worker.
    #[serde(default = "default_module_streams")]
    pub module_streams: u32,
    /// `timeout_secs`: how long a stream open waits for a free worker. By
    /// default [`DEFAULT_SESSION_TIMEOUT_SECS`].
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_workers() -> u32 {
    DEFAULT_SESSION_WORKERS
}

fn default_module_workers() -> u32 {
    DEFAULT_SESSION_MODULE_WORKERS
}

fn default_module_streams() -> u32 {
    DEFAULT_SESSION_MODULE_STREAMS
}

fn default_timeout_secs() -> u64 {
    DEFAULT_SESSION_TIMEOUT_SECS
}

/// Module limits as configured; each key left out takes the built-in
/// default. Under `limits` they are also the ceilings of every run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// `fuel`: a task's fuel budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// `fuel_per_second`: a daemon's fuel rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_per_second: Option<u64>,
    /// `memory_mb`: the memory cap in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// `deadline_secs`: a task's wall-clock deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_secs: Option<u64>,
    /// `max_batch`: records per host call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch: Option<u32>,
    /// `max_handles`: open handles per module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_handles: Option<u32>,
    /// `logs_per_second`: log lines per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logs_per_second: Option<u32>,
    /// `stop_grace_secs`: time between a stop request and a forced stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_grace_secs: Option<u64>,
    /// `findings_per_second`: findings per second, after a burst of as
    /// many; a module over it is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings_per_second: Option<u32>,
    /// `max_findings`: findings one run may report in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_findings: Option<u64>,
}

impl LimitsConfig {
    /// These limits applied over `base`.
    pub fn apply(&self, base: &ModuleLimits) -> ModuleLimits {
        let mut l = base.clone();
        if let Some(v) = self.fuel {
            l.fuel = v;
        }
        if let Some(v) = self.fuel_per_second {
            l.fuel_per_second = v;
        }
        if let Some(v) = self.memory_mb {
            l.memory_bytes = v.saturating_mul(1 << 20);
        }
        if let Some(v) = self.deadline_secs {
            l.deadline = Duration::from_secs(v);
        }
        if let Some(v) = self.max_batch {
            l.max_batch = v;
        }
        if let Some(v) = self.max_handles {
            l.max_handles = v;
        }
        if let Some(v) = self.logs_per_second {
            l.logs_per_second = v;
        }
        if let Some(v) = self.stop_grace_secs {
            l.stop_grace = Duration::from_secs(v);
        }
        if let Some(v) = self.findings_per_second {
            l.findings_per_second = v;
        }
        if let Some(v) = self.max_findings {
            l.max_findings = v;
        }
        l
    }

    fn check(&self, key: &str, problems: &mut Vec<(String, String)>) {
        let max_mb = MAX_MEMORY_BYTES >> 20;
        let mut positive = |name: &str, value: Option<u64>| {
            if value == Some(0) {
                problems.push((format!("{key}.{name}"), "must be at least 1".into()));
            }
        };
        positive("fuel", self.fuel);
        positive("fuel_per_second", self.fuel_per_second);
        positive("deadline_secs", self.deadline_secs);
        positive("max_batch", self.max_batch.map(u64::from));
        positive("max_handles", self.max_handles.map(u64::from));
        positive(
            "findings_per_second",
            self.findings_per_second.map(u64::from),
        );
        if let Some(mb) = self.memory_mb
            && !(1..=max_mb).contains(&mb)
        {
            problems.push((
                format!("{key}.memory_mb"),
                format!("{mb} is out of range; use 1 to {max_mb}"),
            ));
        }
    }
}

/// `modules.<id>`: a module started with the daemon.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleConfig {
    /// `type`: the module type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `options`: option values by name.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// `limits`: limits over the daemon's defaults.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `grants`: the capabilities granted.
    #[serde(default)]
    pub grants: GrantsConfig,
    /// `session_type`: where the granted sessions are created at startup
    /// when they are not stored yet. By default the first session type in
    /// name order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_type: Option<String>,
}

/// Granted capabilities, as configured. By default none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GrantsConfig {
    /// `sessions`: session ids the module may read and write; `"*"` for
    /// all.
    #[serde(default)]
    pub sessions: Vec<String>,
    /// `read_sessions`: session ids the module may only read; `"*"` for
    /// all.
    #[serde(default)]
    pub read_sessions: Vec<String>,
    /// `may_run_modules`: whether it may run other modules, and list and
    /// close those it ran. By default false.
    #[serde(default)]
    pub may_run_modules: bool,
    /// `may_run_daemons`: whether the modules it runs may be daemons; needs
    /// `may_run_modules`. By default false.
    #[serde(default)]
    pub may_run_daemons: bool,
}

impl From<&GrantsConfig> for Grants {
    fn from(g: &GrantsConfig) -> Self {
        Grants {
            sessions: g.sessions.clone(),
            read_sessions: g.read_sessions.clone(),
            may_run_modules: g.may_run_modules,
            may_run_daemons: g.may_run_daemons,
        }
    }
}

/// The config key of a limit, under `limits`.
pub(crate) fn limit_key(limit: LimitName) -> &'static str {
    match limit {
        LimitName::Fuel => "fuel",
        LimitName::FuelPerSecond => "fuel_per_second",
        LimitName::MemoryBytes => "memory_mb",
        LimitName::Deadline => "deadline_secs",
        LimitName::MaxBatch => "max_batch",
        LimitName::MaxHandles => "max_handles",
        LimitName::LogsPerSecond => "logs_per_second",
        LimitName::FindingsPerSecond => "findings_per_second",
        LimitName::MaxFindings => "max_findings",
        LimitName::StopGrace => "stop_grace_secs",
        _ => "(limit)",
    }
}

/// `nodes."<ip>"`: a known collector or peer.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// `name`: the node's name.
    pub name: String,
    /// `collector`: whether it is a collector. By default false.
    #[serde(default)]
    pub collector: bool,
    /// `dump_duration_minutes`: minutes one dump file covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dump_duration_minutes: Option<u32>,
    /// `description`: free text.
    #[serde(default)]
    pub description: String,
}

impl Config {
    /// Reads and checks the config file at `path`. Relative paths in it are
    /// made relative to the file's folder.
    ///
    /// Returns an error naming the file and key if it cannot be read or
    /// parsed, or holds an unknown key or a bad value.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            key: "(file)".into(),
            message: format!("cannot read it: {e}"),
        })?;
        let mut config = Self::parse_named(&text, &file)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    /// Parses and checks config text.
    ///
    /// Returns an error naming the key of an unknown key or a bad value.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_named(text, "(inline)")
    }

    fn parse_named(text: &str, file: &str) -> Result<Self, ConfigError> {
        let deserializer = toml::Deserializer::parse(text).map_err(|e| ConfigError {
            file: file.to_owned(),
            key: "(syntax)".into(),
            message: e.message().to_owned() + &span_note(text, e.span()),
        })?;
        let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            // A key named "" (found by fuzzing) has an empty path.
            let key = match e.path().to_string() {
                path if path.is_empty() || path == "." => "(top level)".to_owned(),
                path => path,
            };
            ConfigError {
                file: file.to_owned(),
                key,
                message: e.inner().message().to_owned(),
            }
        })?;
        config.check().map_err(|(key, message)| ConfigError {
            file: file.to_owned(),
            key,
            message,
        })?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for session in self.sessions.values_mut() {
            resolve(&mut session.path);
        }
        if let Some(dir) = &mut self.module_dir {
            resolve(dir);
        }
        if let Some(dir) = &mut self.cache_dir {
            resolve(dir);
        }
        for file in [
            &mut self.api_token_file,
            &mut self.tls_cert_file,
            &mut self.tls_key_file,
        ]
        .into_iter()
        .flatten()
        {
            resolve(file);
        }
    }

    /// Checks values serde cannot: ranges, names and cross-references.
    fn check(&self) -> Result<(), (String, String)> {
        let mut problems = Vec::new();
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => problems.push((
                "tls_key_file".into(),
                "is missing; tls_cert_file needs its private key too".into(),
            )),
            (None, Some(_)) => problems.push((
                "tls_cert_file".into(),
                "is missing; tls_key_file needs its certificate too".into(),
            )),
            _ => {}
        }
        self.limits.check("limits", &mut problems);
        let ceiling = self.ceiling();
        for (name, session) in &self.sessions {
            let key = format!("sessions.{name}");
            if !(1..=MAX_WORKERS).contains(&session.workers) {
                problems.push((
                    format!("{key}.workers"),
                    format!(
                        "{} is out of range; use 1 to {MAX_WORKERS}",
                        session.workers
                    ),
                ));
            }
            if !(2..=MAX_WORKERS).contains(&session.module_workers) {
                problems.push((
                    format!("{key}.module_workers"),
                    format!(
                        "{} is out of range; use 2 to {MAX_WORKERS}, so module_streams can stay below it",
                        session.module_workers
                    ),
                ));
            } else if !(1..session.module_workers).contains(&session.module_streams) {
                problems.push((
                    format!("{key}.module_streams"),
                    format!(
                        "{} is out of range; use 1 to {} (below module_workers = {}), so one module never takes every module worker",
                        session.module_streams,
                        session.module_workers - 1,
                        session.module_workers
                    ),
                ));
            }
            if session.path.as_os_str().is_empty() {
                problems.push((
                    format!("{key}.path"),
                    "is empty; give the redb file's path".into(),
                ));
            }
        }
        for (id, module) in &self.modules {
            let key = format!("modules.{id}");
            if module.type_name.is_empty() {
                problems.push((format!("{key}.type"), "is empty; name a module type".into()));
            }
            module.limits.check(&format!("{key}.limits"), &mut problems);
            if let Err(e) = module.limits.apply(&ceiling).check_within(&ceiling) {
                problems.push((
                    format!("{key}.limits.{}", limit_key(e.limit)),
                    e.to_string(),
                ));
            }
            if module.grants.may_run_daemons && !module.grants.may_run_modules {
                problems.push((
                    format!("{key}.grants.may_run_daemons"),
                    "needs may_run_modules = true as well".into(),
                ));
            }
            for session in &module.grants.sessions {
                if session != "*" && self.sessions.is_empty() {
                    problems.push((
                        format!("{key}.grants.sessions"),
                        format!("grants session {session:?}, but no session types are configured"),
                    ));
                }
            }
        }
        let mut addresses = BTreeMap::new();
        for (name, station) in &self.bmp {
            let key = format!("bmp.{name}");
            station.check(&key, self, &mut problems);
            if let Some(other) = addresses.insert(station.address, name) {
                problems.push((
                    format!("{key}.address"),
                    format!(
                        "{} is bmp.{other}'s address too; give each station its own",
                        station.address
                    ),
                ));
            }
        }
        for (ip, node) in &self.nodes {
            if ip.parse::<IpAddr>().is_err() {
                problems.push((
                    format!("nodes.{ip:?}"),
                    "is not an IP address; key each node by its IP, such as nodes.\"192.0.2.1\""
                        .into(),
                ));
            }
            if node.name.is_empty() {
                problems.push((
                    format!("nodes.{ip:?}.name"),
                    "is empty; name the node".into(),
                ));
            }
        }
        match problems.into_iter().next() {
            Some(p) => Err(p),
            None => Ok(()),
        }
    }

    /// The API token from `api_token_file`, if one is configured.
    ///
    /// Returns an error naming the key if the file cannot be read or holds
    /// no usable token.
    pub fn api_token(&self) -> Result<Option<crate::rpc::ApiToken>, ConfigError> {
        self.api_token_file
            .as_deref()
            .map(crate::rpc::ApiToken::load)
            .transpose()
    }

    /// The API's TLS identity from `tls_cert_file` and `tls_key_file`, if
    /// they are configured.
    ///
    /// Returns an error naming the key of a file that cannot be read.
    pub fn tls_identity(&self) -> Result<Option<tonic::transport::Identity>, ConfigError> {
        let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return Ok(None);
        };
        let read = |path: &Path, key: &str| {
            std::fs::read(path).map_err(|e| ConfigError {
                file: path.display().to_string(),
                key: key.into(),
                message: format!("cannot read it: {e}"),
            })
        };
        Ok(Some(tonic::transport::Identity::from_pem(
            read(cert, "tls_cert_file")?,
            read(key, "tls_key_file")?,
        )))
    }

    /// How the API is guarded: its token and its TLS identity.
    ///
    /// Returns an error as [`Config::api_token`] and
    /// [`Config::tls_identity`] do.
    pub fn api_guard(&self) -> Result<crate::rpc::ApiGuard, ConfigError> {
        Ok(crate::rpc::ApiGuard {
            token: self.api_token()?,
            tls: self.tls_identity()?,
        })
    }

    /// The limits of every module run: the built-in defaults under
    /// `limits`. A run without limits of its own gets them, and no run may
    /// ask for more (see [`ModuleLimits::check_within`]).
    pub fn ceiling(&self) -> ModuleLimits {
        self.limits.apply(&ModuleLimits::default())
    }

    /// The configured nodes.
    pub fn node_list(&self) -> Vec<Node> {
        self.nodes
            .iter()
            .filter_map(|(ip, n)| {
                Some(Node {
                    ip: ip.parse().ok()?,
                    name: n.name.clone(),
                    collector: n.collector,
                    dump_duration_minutes: n.dump_duration_minutes,
                    description: n.description.clone(),
                })
            })
            .collect()
    }

    /// The effective configuration as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print the config: {e}\n"))
    }
}

fn span_note(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let line = text[..span.start.min(text.len())].lines().count().max(1);
    format!(" (line {line})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ConfigError {
        Config::parse(text).unwrap_err()
    }

    #[test]
    fn defaults_fill_an_empty_config() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.rpc_address.to_string(), DEFAULT_RPC_ADDRESS);
        assert!(c.sessions.is_empty());
    }

    #[test]
    fn full_layout_parses() {
        let c = Config::parse(
            r#"
            rpc_address = "127.0.0.1:9000"
            module_dir = "modules"
            [limits]
            memory_mb = 64
            [sessions.local]
            type = "redb"
            path = "bgp.redb"
            workers = 2
            [modules.watch]
            type = "example-daemon"
            options = { session = "s1" }
            grants = { sessions = ["s1"] }
            [modules.watch.limits]
            fuel_per_second = 1000
            [nodes."128.223.51.102"]
            name = "route-views2"
            collector = true
            dump_duration_minutes = 15
            "#,
        )
        .unwrap();
        assert_eq!(c.sessions["local"].workers, 2);
        assert_eq!(
            c.sessions["local"].module_workers,
            DEFAULT_SESSION_MODULE_WORKERS
        );
        assert_eq!(
            c.sessions["local"].module_streams,
            DEFAULT_SESSION_MODULE_STREAMS
        );
        assert_eq!(
            c.sessions["local"].timeout_secs,
            DEFAULT_SESSION_TIMEOUT_SECS
        );
        assert_eq!(c.modules["watch"].options["session"], "s1");
        let limits = c.modules["watch"]
            .limits
            .apply(&c.limits.apply(&ModuleLimits::default()));
        assert_eq!(limits.memory_bytes, 64 << 20);
        assert_eq!(limits.fuel_per_second, 1000);
        assert_eq!(c.node_list()[0].name, "route-views2");
        let again = Config::parse(&c.to_toml()).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn unknown_keys_name_their_path() {
        let e = err("[sessions.local]\ntype = \"redb\"\npath = \"x\"\nworkerz = 3\n");
        assert_eq!(e.key, "sessions.local.workerz");
        assert!(e.message.contains("unknown field `workerz`"), "{e}");
        let e = err("bogus = 1\n");
        assert!(e.message.contains("unknown field `bogus`"), "{e}");
        // A key named "" (found by fuzzing).
        let e = err("\"\" = 1\n");
        assert_eq!(e.key, "(top level)");
        assert!(e.message.contains("unknown field ``"), "{e}");
    }

    #[test]
    fn bad_values_name_their_path() {
        let e = err("[sessions.local]\ntype = \"postgres\"\npath = \"x\"\n");
        assert_eq!(e.key, "sessions.local.type");
        let e = err("[sessions.local]\ntype = \"redb\"\npath = \"x\"\nworkers = 0\n");
        assert_eq!(e.key, "sessions.local.workers");
        assert!(e.message.contains("out of range"), "{e}");
        let e = err("[sessions.local]\ntype = \"redb\"\npath = \"x\"\nmodule_workers = 1\n");
        assert_eq!(e.key, "sessions.local.module_workers");
        assert!(e.message.contains("use 2 to 1024"), "{e}");
        let e = err(
            "[sessions.local]\ntype = \"redb\"\npath = \"x\"\nmodule_workers = 3\nmodule_streams = 3\n",
        );
        assert_eq!(e.key, "sessions.local.module_streams");
        assert!(
            e.message.contains("use 1 to 2 (below module_workers = 3)"),
            "{e}"
        );
        let e = err("[sessions.local]\ntype = \"redb\"\npath = \"x\"\nmodule_streams = 0\n");
        assert_eq!(e.key, "sessions.local.module_streams");
        let e = err("rpc_address = \"nowhere\"\n");
        assert_eq!(e.key, "rpc_address");
        let e = err("[nodes.\"not-an-ip\"]\nname = \"x\"\n");
        assert!(e.key.starts_with("nodes."), "{e}");
        let e = err("[modules.m]\ntype = \"t\"\n[modules.m.limits]\nmemory_mb = 0\n");
        assert_eq!(e.key, "modules.m.limits.memory_mb");
    }

    #[test]
    fn module_limits_stay_under_the_ceiling() {
        let e = err(
            "[limits]\nmemory_mb = 64\n[modules.m]\ntype = \"t\"\n[modules.m.limits]\nmemory_mb = 128\n",
        );
        assert_eq!(e.key, "modules.m.limits.memory_mb");
        assert!(
            e.message
                .contains("memory_bytes = 134217728 is over its ceiling of 67108864"),
            "{e}"
        );
        let c = Config::parse(
            "[limits]\nfuel = 1000\n[modules.m]\ntype = \"t\"\n[modules.m.limits]\nfuel = 10\n",
        )
        .unwrap();
        assert_eq!(c.ceiling().fuel, 1000);
        let e = err("[modules.m]\ntype = \"t\"\ngrants = { may_run_daemons = true }\n");
        assert_eq!(e.key, "modules.m.grants.may_run_daemons");
    }

    #[test]
    fn the_example_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/bgpmond.toml");
        let c = Config::load(&path).unwrap();
        assert_eq!(c.rpc_address.to_string(), DEFAULT_RPC_ADDRESS);
        assert_eq!(c.sessions["local"].workers, 4);
        assert_eq!(c.sessions["local"].module_workers, 4);
        assert_eq!(c.sessions["local"].module_streams, 2);
        assert!(
            c.sessions["local"]
                .path
                .ends_with("bgpmon-data/bgpmon.redb")
        );
        assert_eq!(c.node_list().len(), 2);
    }

    const SESSIONS: &str = "[sessions.local]\ntype = \"redb\"\npath = \"x.redb\"\n";

    #[test]
    fn a_bmp_station_needs_only_its_session() {
        let c = Config::parse(&format!("{SESSIONS}[bmp.edge]\nsession = \"live\"\n")).unwrap();
        let b = &c.bmp["edge"];
        assert_eq!(b.address.to_string(), DEFAULT_BMP_ADDRESS);
        assert_eq!(b.session_type_in(&c), Some("local"));
        assert_eq!(b.route_views(), bgpmon_store::RouteView::ALL);
        assert_eq!(b.commit_interval_ms, DEFAULT_BMP_COMMIT_INTERVAL_MS);
        assert_eq!(b.commit_captures, DEFAULT_BMP_COMMIT_CAPTURES);
        assert_eq!(b.dump_quiet_ms, DEFAULT_BMP_DUMP_QUIET_MS);
        let again = Config::parse(&c.to_toml()).unwrap();
        assert_eq!(again.bmp, c.bmp);
    }

    #[test]
    fn bad_bmp_keys_and_values_name_their_key() {
        let station = |body: &str| format!("{SESSIONS}[bmp.edge]\nsession = \"live\"\n{body}");
        let cases = [
            (station("port = 1\n"), "bmp.edge.port"),
            (
                station("views = [\"pre-policy\", \"adj-rib-out\"]\n"),
                "bmp.edge.views[1]",
            ),
            (station("views = []\n"), "bmp.edge.views"),
            (
                station("commit_interval_ms = 0\n"),
                "bmp.edge.commit_interval_ms",
            ),
            (station("commit_captures = 0\n"), "bmp.edge.commit_captures"),
            (station("dump_quiet_ms = 0\n"), "bmp.edge.dump_quiet_ms"),
            (
                station("session_type = \"nope\"\n"),
                "bmp.edge.session_type",
            ),
            (station("address = \"localhost\"\n"), "bmp.edge.address"),
            (format!("{SESSIONS}[bmp.edge]\nviews = []\n"), "bmp.edge"),
            (
                format!("{SESSIONS}[bmp.edge]\nsession = \"a b\"\n"),
                "bmp.edge.session",
            ),
            (
                "[bmp.edge]\nsession = \"live\"\n".to_owned(),
                "bmp.edge.session_type",
            ),
            (
                format!("{SESSIONS}[bmp.a]\nsession = \"x\"\n[bmp.b]\nsession = \"y\"\n"),
                "bmp.b.address",
            ),
        ];
        for (text, key) in cases {
            let e = err(&text);
            assert_eq!(e.key, key, "{text}: {e}");
        }
        let e = err(&station("views = [\"adj-rib-out\"]\n"));
        assert!(e.message.contains("\"adj-rib-out\" is not a view"), "{e}");
    }

    #[test]
    fn the_commented_bmp_example_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/bgpmond.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let example: String = text
            .lines()
            .skip_while(|l| !l.starts_with("# [bmp."))
            .take_while(|l| l.starts_with("# "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        assert!(example.contains("session = "), "{example}");
        let c = Config::parse(&format!("{SESSIONS}{example}")).unwrap();
        assert_eq!(c.bmp["edge"].session, "live");
    }

    #[test]
    fn syntax_errors_give_the_line() {
        let e = err("a = \n");
        assert_eq!(e.key, "(syntax)");
        assert!(e.message.contains("line 1"), "{e}");
    }
}
