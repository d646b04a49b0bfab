//! Conversions between the wire messages and the store's and host's types.
//!
//! Everything from a client is checked here, once: a malformed address or
//! prefix, an unspecified enum or an empty window is an `InvalidArgument`
//! naming the field.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bgpmon_host::{
    FailureReason, Grants, LoadedType, LogLevel, LogLine, ModuleKind, ModuleLimits, ModuleStatus,
    OptionType, RunState, WitVersion,
};
use bgpmon_proto::{ip_from_bytes, ip_to_bytes, prefix_from_proto, prefix_to_proto, v1};
use bgpmon_store as store;
use ipnet::IpNet;
use tonic::Status;

pub(super) fn invalid(field: &str, message: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("{field}: {message}"))
}

// Field names are built only on error: ingest converts millions of values.

pub(super) fn ip(
    field: impl Fn() -> String,
    bytes: &[u8],
) -> Result<Option<std::net::IpAddr>, Status> {
    ip_from_bytes(bytes).map_err(|e| invalid(&field(), e))
}

pub(super) fn required_ip(
    field: impl Fn() -> String,
    bytes: &[u8],
) -> Result<std::net::IpAddr, Status> {
    ip(&field, bytes)?.ok_or_else(|| invalid(&field(), "is empty; give a 4- or 16-byte address"))
}

fn prefix(field: impl Fn() -> String, p: &v1::Prefix) -> Result<IpNet, Status> {
    prefix_from_proto(p).map_err(|e| invalid(&field(), e))
}

fn community_from(
    field: impl Fn() -> String,
    c: &v1::Community,
) -> Result<store::Community, Status> {
    let field = &field;
    match &c.value {
        Some(v1::community::Value::Standard(s)) => {
            let asn = u16::try_from(s.asn)
                .map_err(|_| invalid(&field(), "standard community AS exceeds 65535"))?;
            let value = u16::try_from(s.value)
                .map_err(|_| invalid(&field(), "standard community value exceeds 65535"))?;
            Ok(store::Community::Standard(asn, value))
        }
        Some(v1::community::Value::Large(l)) => {
            Ok(store::Community::Large(l.global, l.local1, l.local2))
        }
        None => Err(invalid(&field(), "community has no value")),
    }
}

fn community_to(c: &store::Community) -> v1::Community {
    let value = match *c {
        store::Community::Standard(asn, value) => {
            v1::community::Value::Standard(v1::StandardCommunity {
                asn: u32::from(asn),
                value: u32::from(value),
            })
        }
        store::Community::Large(global, local1, local2) => {
            v1::community::Value::Large(v1::LargeCommunity {
                global,
                local1,
                local2,
            })
        }
    };
    v1::Community { value: Some(value) }
}

/// The wire form of a capture.
pub(crate) fn capture_to_proto(c: store::Capture) -> v1::Capture {
    v1::Capture {
        timestamp_us: c.timestamp_us,
        collector: c.collector,
        collector_ip: c.collector_ip.map(ip_to_bytes).unwrap_or_default(),
        peer_ip: ip_to_bytes(c.peer_ip),
        peer_as: c.peer_as,
        as_path: c
            .as_path
            .into_iter()
            .map(|s| {
                let (kind, asns) = match s {
                    store::PathSegment::Sequence(a) => (v1::SegmentKind::Sequence, a),
                    store::PathSegment::Set(a) => (v1::SegmentKind::Set, a),
                    store::PathSegment::ConfedSequence(a) => (v1::SegmentKind::ConfedSequence, a),
                    store::PathSegment::ConfedSet(a) => (v1::SegmentKind::ConfedSet, a),
                };
                v1::PathSegment {
                    kind: kind.into(),
                    asns,
                }
            })
            .collect(),
        origin_as: c.origin_as,
        next_hop: c.next_hop.map(ip_to_bytes).unwrap_or_default(),
        advertised: c.advertised.iter().map(prefix_to_proto).collect(),
        withdrawn: c.withdrawn.iter().map(prefix_to_proto).collect(),
        communities: c.communities.iter().map(community_to).collect(),
        origin: match c.origin {
            Some(store::OriginAttribute::Igp) => v1::OriginAttribute::Igp,
            Some(store::OriginAttribute::Egp) => v1::OriginAttribute::Egp,
            Some(store::OriginAttribute::Incomplete) => v1::OriginAttribute::Incomplete,
            None => v1::OriginAttribute::Unspecified,
        }
        .into(),
        med: c.med,
        local_pref: c.local_pref,
        atomic_aggregate: c.atomic_aggregate,
        aggregator: c.aggregator.map(|a| v1::Aggregator {
            asn: a.asn,
            address: ip_to_bytes(a.address),
        }),
        is_rib: c.is_rib,
        mrt_type: c.mrt_type.map(u32::from),
        view: view_to_proto(c.view).into(),
    }
}

/// The wire form of a capture's BMP view.
pub(crate) fn view_to_proto(view: Option<store::RouteView>) -> v1::RouteView {
    match view {
        None => v1::RouteView::Unspecified,
        Some(store::RouteView::PrePolicy) => v1::RouteView::PrePolicy,
        Some(store::RouteView::PostPolicy) => v1::RouteView::PostPolicy,
        Some(store::RouteView::LocRib) => v1::RouteView::LocRib,
    }
}

/// A BMP view from the wire: `None` for unspecified, an error for a value
/// this build does not know.
pub(crate) fn view_from_proto(value: i32) -> Result<Option<store::RouteView>, String> {
    match v1::RouteView::try_from(value) {
        Ok(v1::RouteView::Unspecified) => Ok(None),
        Ok(v1::RouteView::PrePolicy) => Ok(Some(store::RouteView::PrePolicy)),
        Ok(v1::RouteView::PostPolicy) => Ok(Some(store::RouteView::PostPolicy)),
        Ok(v1::RouteView::LocRib) => Ok(Some(store::RouteView::LocRib)),
        Err(_) => Err(format!(
            "route view {value} is unknown; use 1 (pre-policy), 2 (post-policy) or 3 (loc-rib)"
        )),
    }
}

/// An entity from the wire; `index` names it in errors.
pub(crate) fn entity_from_proto(index: usize, e: v1::Entity) -> Result<store::Entity, Status> {
    let field = |name: String| format!("entities[{index}].{name}");
    if e.name.is_empty() {
        return Err(invalid(
            &field("name".into()),
            "is empty; give every entity a unique name",
        ));
    }
    let prefixes = e
        .prefixes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let f = field(format!("prefixes[{i}]"));
            let net = prefix(
                || f.clone(),
                p.prefix
                    .as_ref()
                    .ok_or_else(|| invalid(&f, "has no prefix"))?,
            )?;
            let max = if p.max_length == 0 {
                u32::from(net.prefix_len())
            } else {
                p.max_length
            };
            store::OwnedPrefix::new(net, max).map_err(|e| invalid(&f, e))
        })
        .collect::<Result<_, _>>()?;
    Ok(store::Entity {
        name: e.name,
        contact: e.contact,
        origin_ases: e.origin_ases,
        prefixes,
    })
}

/// The wire form of an entity.
pub(crate) fn entity_to_proto(e: store::Entity) -> v1::Entity {
    v1::Entity {
        name: e.name,
        contact: e.contact,
        origin_ases: e.origin_ases,
        prefixes: e
            .prefixes
            .iter()
            .map(|p| v1::OwnedPrefix {
                prefix: Some(prefix_to_proto(&p.prefix)),
                max_length: u32::from(p.max_length),
            })
            .collect(),
    }
}

/// A capture filter from the wire.
pub(crate) fn filter_from_proto(
    f: Option<v1::CaptureFilter>,
) -> Result<store::CaptureFilter, Status> {
    let Some(f) = f else {
        return Ok(store::CaptureFilter::default());
    };
    let time = match (f.start_us, f.end_us) {
        (None, None) => None,
        (start, end) => {
            let start_us = start.unwrap_or(0);
            let end_us = end.unwrap_or(u64::MAX);
            if start_us >= end_us {
                return Err(invalid(
                    "filter",
                    format!(
                        "time window [{start_us}, {end_us}) is empty; give a start before the end"
                    ),
                ));
            }
            Some(store::TimeRange { start_us, end_us })
        }
    };
    let prefixes = f
        .prefixes
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let field = format!("filter.prefixes[{i}]");
            let p = t
                .prefix
                .as_ref()
                .ok_or_else(|| invalid(&field, "has no prefix"))?;
            let specificity = match v1::PrefixMatch::try_from(t.r#match) {
                Ok(v1::PrefixMatch::More) => store::PrefixMatch::More,
                Ok(v1::PrefixMatch::Less) => store::PrefixMatch::Less,
                Ok(v1::PrefixMatch::Any) => store::PrefixMatch::Any,
                _ => store::PrefixMatch::Exact,
            };
            Ok(store::PrefixTerm::new(
                prefix(|| field.clone(), p)?,
                specificity,
            ))
        })
        .collect::<Result<_, Status>>()?;
    let exact = f.communities.iter().enumerate().map(|(i, c)| {
        community_from(|| format!("filter.communities[{i}]"), c).map(store::CommunityPattern::from)
    });
    let patterns = f
        .community_patterns
        .iter()
        .enumerate()
        .map(|(i, p)| community_pattern_from(&format!("filter.community_patterns[{i}]"), p));
    let communities = exact.chain(patterns).collect::<Result<_, Status>>()?;
    let path_regex = f
        .path_regex
        .iter()
        .enumerate()
        .map(|(i, p)| {
            store::AsPathRegex::new(p).map_err(|e| invalid(&format!("filter.path_regex[{i}]"), e))
        })
        .collect::<Result<_, Status>>()?;
    let views = f
        .views
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let field = format!("filter.views[{i}]");
            view_from_proto(*v)
                .map_err(|e| invalid(&field, e))?
                .ok_or_else(|| invalid(&field, "is unspecified; give a view"))
        })
        .collect::<Result<_, Status>>()?;
    Ok(store::CaptureFilter {
        collectors: f.collectors,
        time,
        peer_ips: f
            .peer_ips
            .iter()
            .enumerate()
            .map(|(i, b)| required_ip(|| format!("filter.peer_ips[{i}]"), b))
            .collect::<Result<_, _>>()?,
        peer_ases: f.peer_ases,
        origin_ases: f.origin_ases,
        prefixes,
        prefix_scope: match v1::PrefixScope::try_from(f.prefix_scope) {
            Ok(v1::PrefixScope::Withdrawn) => store::PrefixScope::Withdrawn,
            Ok(v1::PrefixScope::Both) => store::PrefixScope::Both,
            _ => store::PrefixScope::Advertised,
        },
        path_contains: f.path_contains,
        communities,
        kind: match v1::CaptureKind::try_from(f.kind) {
            Ok(v1::CaptureKind::Rib) => store::CaptureKind::Rib,
            Ok(v1::CaptureKind::Update) => store::CaptureKind::Update,
            _ => store::CaptureKind::Any,
        },
        path_regex,
        family: match v1::AddressFamily::try_from(f.family) {
            Ok(v1::AddressFamily::Ipv4) => Some(store::AddressFamily::Ipv4),
            Ok(v1::AddressFamily::Ipv6) => Some(store::AddressFamily::Ipv6),
            _ => None,
        },
        views,
    })
}

/// A community pattern from the wire; an absent part is the wildcard.
fn community_pattern_from(
    field: &str,
    p: &v1::CommunityPattern,
) -> Result<store::CommunityPattern, Status> {
    let short = |part: &str, v: Option<u32>| {
        v.map(u16::try_from).transpose().map_err(|_| {
            invalid(
                field,
                format_args!(
                    "standard community pattern {part} {} exceeds 65535; give at most 65535 or leave it out for *",
                    v.unwrap_or_default()
                ),
            )
        })
    };
    match &p.pattern {
        Some(v1::community_pattern::Pattern::Standard(s)) => {
            Ok(store::CommunityPattern::Standard {
                asn: short("AS", s.asn)?,
                value: short("value", s.value)?,
            })
        }
        Some(v1::community_pattern::Pattern::Large(l)) => Ok(store::CommunityPattern::Large {
            global: l.global,
            local1: l.local1,
            local2: l.local2,
        }),
        None => Err(invalid(
            field,
            "community pattern has neither standard nor large set; set one",
        )),
    }
}

/// The wire form of a prefix event.
pub(crate) fn prefix_event_to_proto(e: store::PrefixEvent) -> v1::PrefixEvent {
    v1::PrefixEvent {
        prefix: Some(prefix_to_proto(&e.prefix)),
        withdrawn: e.withdrawn,
        timestamp_us: e.timestamp_us,
        collector: e.collector,
        peer_as: e.peer_as,
        origin_as: e.origin_as,
    }
}

fn kind_to_proto(kind: ModuleKind) -> v1::ModuleKind {
    match kind {
        ModuleKind::Task => v1::ModuleKind::Task,
        ModuleKind::Daemon => v1::ModuleKind::Daemon,
    }
}

/// The wire form of a module type's info.
pub(crate) fn module_info_to_proto(loaded: LoadedType) -> v1::ModuleInfo {
    let info = loaded.info;
    v1::ModuleInfo {
        type_name: info.type_name,
        description: info.description,
        kind: kind_to_proto(info.kind).into(),
        options: info
            .options
            .into_iter()
            .map(|o| v1::OptionSpec {
                name: o.name,
                description: o.description,
                required: o.required,
                default_value: o.default_value,
                value_type: option_type_to_proto(loaded.wit_version, o.value_type).into(),
            })
            .collect(),
        digest: loaded.digest,
        origin: loaded.origin,
        wit_version: loaded.wit_version.to_string(),
    }
}

/// The wire form of an option's type: unspecified for a 0.1.0 type, whose
/// options are text without a declared type.
fn option_type_to_proto(version: WitVersion, t: OptionType) -> v1::OptionType {
    if version == WitVersion::V0_1 {
        return v1::OptionType::Unspecified;
    }
    match t {
        OptionType::String => v1::OptionType::String,
        OptionType::Integer => v1::OptionType::Integer,
        OptionType::Boolean => v1::OptionType::Boolean,
        OptionType::Asn => v1::OptionType::Asn,
        OptionType::Prefix => v1::OptionType::Prefix,
        OptionType::Time => v1::OptionType::Time,
        OptionType::Duration => v1::OptionType::Duration,
    }
}

/// The wire form of a stored finding.
pub(crate) fn stored_finding_to_proto(f: store::StoredFinding) -> v1::StoredFinding {
    let store::StoredFinding { seq, finding } = f;
    v1::StoredFinding {
        seq,
        time_us: finding.time_us,
        module_id: finding.module_id,
        module_type: finding.module_type,
        kind: finding.kind,
        summary: finding.summary,
        fields: finding
            .fields
            .into_iter()
            .map(|(name, value)| v1::FindingField { name, value })
            .collect(),
    }
}

fn micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The wire form of a module status.
pub(crate) fn status_to_proto(s: ModuleStatus) -> v1::ModuleStatus {
    let (state, result, failure) = match s.state {
        RunState::Starting => (v1::ModuleState::Starting, None, None),
        RunState::Running => (v1::ModuleState::Running, None, None),
        RunState::Stopped => (v1::ModuleState::Stopped, None, None),
        RunState::Finished(r) => (
            v1::ModuleState::Finished,
            Some(v1::RunResult {
                message: r.message,
                findings: r
                    .findings
                    .into_iter()
                    .map(|f| v1::Finding {
                        kind: f.kind,
                        summary: f.summary,
                        fields: f.fields.into_iter().collect(),
                    })
                    .collect(),
            }),
            None,
        ),
        RunState::Failed(reason) => {
            let kind = match &reason {
                // An oversized value is a limit the guest broke, as a trap is.
                FailureReason::Trap(_) | FailureReason::Oversized { .. } => v1::FailureKind::Trap,
                FailureReason::OutOfFuel { .. } => v1::FailureKind::OutOfFuel,
                FailureReason::MemoryLimit { .. } => v1::FailureKind::MemoryLimit,
                FailureReason::Deadline { .. } => v1::FailureKind::Deadline,
                FailureReason::Error(_) | FailureReason::NoCapacity(_) => v1::FailureKind::Error,
            };
            (
                v1::ModuleState::Failed,
                None,
                Some(v1::Failure {
                    kind: kind.into(),
                    message: reason.to_string(),
                }),
            )
        }
    };
    let c = s.counters;
    v1::ModuleStatus {
        id: s.id,
        type_name: s.type_name,
        type_digest: s.type_digest,
        kind: kind_to_proto(s.kind).into(),
        state: state.into(),
        result,
        failure,
        counters: Some(v1::ModuleCounters {
            fuel_used: c.fuel_used,
            memory_bytes: c.memory_bytes,
            host_calls: c.host_calls,
            records_read: c.records_read,
            records_written: c.records_written,
            logs_dropped: c.logs_dropped,
            findings: c.findings,
            paused_ms: millis(c.paused),
            uptime_ms: millis(c.uptime),
        }),
        started_at_us: micros(s.started_at),
        ended_at_us: s.ended_at.map(micros),
    }
}

/// The wire form of a log line.
pub(crate) fn log_line_to_proto(l: LogLine) -> v1::LogLine {
    v1::LogLine {
        time_us: micros(l.time),
        level: match l.level {
            LogLevel::Trace => v1::LogLevel::Trace,
            LogLevel::Debug => v1::LogLevel::Debug,
            LogLevel::Info => v1::LogLevel::Info,
            LogLevel::Warn => v1::LogLevel::Warn,
            LogLevel::Error => v1::LogLevel::Error,
        }
        .into(),
        message: l.message,
    }
}

/// Run limits from the wire, over `base`.
pub(crate) fn limits_from_proto(l: Option<v1::ModuleLimits>, base: &ModuleLimits) -> ModuleLimits {
    let mut out = base.clone();
    let Some(l) = l else {
        return out;
    };
    if let Some(v) = l.fuel {
        out.fuel = v;
    }
    if let Some(v) = l.fuel_per_second {
        out.fuel_per_second = v;
    }
    if let Some(v) = l.memory_bytes {
        out.memory_bytes = v;
    }
    if let Some(v) = l.deadline_secs {
        out.deadline = Duration::from_secs(v);
    }
    if let Some(v) = l.max_batch {
        out.max_batch = v;
    }
    if let Some(v) = l.max_handles {
        out.max_handles = v;
    }
    if let Some(v) = l.logs_per_second {
        out.logs_per_second = v;
    }
    if let Some(v) = l.stop_grace_secs {
        out.stop_grace = Duration::from_secs(v);
    }
    if let Some(v) = l.findings_per_second {
        out.findings_per_second = v;
    }
    if let Some(v) = l.max_findings {
        out.max_findings = v;
    }
    out
}

/// Grants from the wire.
pub(crate) fn grants_from_proto(g: Option<v1::Grants>) -> Grants {
    g.map(|g| Grants {
        sessions: g.sessions,
        read_sessions: g.read_sessions,
        may_run_modules: g.may_run_modules,
        may_run_daemons: g.may_run_daemons,
    })
    .unwrap_or_default()
}

/// Options from the wire, sorted.
pub(crate) fn options_from_proto(
    options: std::collections::HashMap<String, String>,
) -> BTreeMap<String, String> {
    options.into_iter().collect()
}

/// An import record on the wire.
pub(crate) fn import_to_proto(i: bgpmon_store::Import) -> v1::Import {
    v1::Import {
        id: i.id,
        file_name: i.file_name,
        sha256: i.sha256,
        captures: i.captures,
        first_us: i.first_us,
        last_us: i.last_us,
        complete: i.complete,
        started_us: i.started_us,
        finished_us: i.finished_us,
    }
}

/// The longest file name an import records.
pub(crate) const MAX_IMPORT_NAME_BYTES: usize = 4096;

/// An import description from the wire.
///
/// Returns an error naming the field if the name is empty or too long, or
/// the sha256 is not 64 hex digits.
pub(crate) fn import_spec_from_proto(
    spec: v1::ImportSpec,
) -> Result<bgpmon_store::ImportSpec, Status> {
    if spec.file_name.is_empty() || spec.file_name.len() > MAX_IMPORT_NAME_BYTES {
        return Err(Status::invalid_argument(format!(
            "import.file_name: is empty or over {MAX_IMPORT_NAME_BYTES} bytes; give the file's name"
        )));
    }
    let sha256 = spec.sha256.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Status::invalid_argument(format!(
            "import.sha256: {:?} is not 64 hex digits; send the sha256 of the file's bytes",
            spec.sha256
        )));
    }
    Ok(bgpmon_store::ImportSpec {
        file_name: spec.file_name,
        sha256,
        force: spec.force,
    })
}

/// The wire form of a BMP station's status.
pub(crate) fn bmp_station_to_proto(s: crate::bmp::StationStatus) -> v1::BmpStation {
    v1::BmpStation {
        name: s.name,
        address: s.address.to_string(),
        session_id: s.session,
        captures_stored: s.captures_stored,
        captures_lost: s.captures_lost,
        routers: s
            .routers
            .into_values()
            .map(|r| v1::BmpRouter {
                name: r.name,
                address: ip_to_bytes(r.address),
                connected: r.connected,
                connections: r.connections,
                messages: r.messages,
                prefixes: r.prefixes,
                last_message_us: r.last_message_us,
                errors: r.errors,
                last_error: r.last_error,
                peers: r
                    .peers
                    .into_iter()
                    .map(|(key, p)| v1::BmpPeer {
                        address: ip_to_bytes(key.address),
                        asn: p.asn,
                        distinguisher: key.distinguisher,
                        loc_rib: key.loc_rib,
                        up: p.up,
                        messages: p.messages,
                        prefixes: p.prefixes,
                        last_message_us: p.last_message_us,
                        four_octet_as: p.four_octet_as,
                        add_path: p
                            .add_path
                            .iter()
                            .map(|(afi, safi)| format!("{afi}/{safi}"))
                            .collect(),
                        events: p
                            .events
                            .into_iter()
                            .map(|e| v1::BmpPeerEvent {
                                timestamp_us: e.timestamp_us,
                                up: e.up,
                                reason: e.reason,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard(asn: Option<u32>, value: Option<u32>) -> v1::CommunityPattern {
        v1::CommunityPattern {
            pattern: Some(v1::community_pattern::Pattern::Standard(
                v1::StandardCommunityPattern { asn, value },
            )),
        }
    }

    #[test]
    fn an_import_name_may_be_up_to_its_limit_and_a_sha256_must_be_hex() {
        let spec = |file_name: String, sha256: &str| v1::ImportSpec {
            file_name,
            sha256: sha256.into(),
            force: false,
        };
        let hash = "AB".repeat(32);
        let longest = "n".repeat(MAX_IMPORT_NAME_BYTES);
        let not_hex = "zz".repeat(32);
        let ok = import_spec_from_proto(spec(longest.clone(), &hash)).unwrap();
        assert_eq!(
            (ok.file_name, ok.sha256),
            (longest, hash.to_ascii_lowercase())
        );
        for (name, sha256, field) in [
            (
                "n".repeat(MAX_IMPORT_NAME_BYTES + 1),
                hash.as_str(),
                "import.file_name",
            ),
            (String::new(), hash.as_str(), "import.file_name"),
            ("f.gz".into(), &hash[1..], "import.sha256"),
            ("f.gz".into(), not_hex.as_str(), "import.sha256"),
        ] {
            let e = import_spec_from_proto(spec(name, sha256)).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
            assert!(e.message().starts_with(field), "{}", e.message());
        }
    }

    #[test]
    fn exact_communities_and_patterns_are_one_term() {
        let f = filter_from_proto(Some(v1::CaptureFilter {
            communities: vec![v1::Community {
                value: Some(v1::community::Value::Standard(v1::StandardCommunity {
                    asn: 37105,
                    value: 300,
                })),
            }],
            community_patterns: vec![
                standard(None, Some(300)),
                v1::CommunityPattern {
                    pattern: Some(v1::community_pattern::Pattern::Large(
                        v1::LargeCommunityPattern {
                            global: Some(1),
                            local1: None,
                            local2: Some(3),
                        },
                    )),
                },
            ],
            ..Default::default()
        }))
        .unwrap();
        let text: Vec<String> = f.communities.iter().map(|p| p.to_string()).collect();
        assert_eq!(text, ["37105:300", "*:300", "1:*:3"]);
    }

    #[test]
    fn path_regexes_and_the_family_are_read() {
        let f = filter_from_proto(Some(v1::CaptureFilter {
            path_regex: vec!["^3356_".into(), "_13335$".into()],
            family: v1::AddressFamily::Ipv6.into(),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(f.path_regex[1].pattern(), "_13335$");
        assert_eq!(f.family, Some(store::AddressFamily::Ipv6));
        let unspecified = filter_from_proto(Some(v1::CaptureFilter::default())).unwrap();
        assert_eq!(unspecified.family, None);
    }

    #[test]
    fn bad_terms_are_invalid_arguments_naming_the_field() {
        let status = filter_from_proto(Some(v1::CaptureFilter {
            path_regex: vec!["_174_".into(), "(3356".into()],
            ..Default::default()
        }))
        .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().starts_with(
                "filter.path_regex[1]: AS path pattern \"(3356\" is not a valid regular expression"
            ),
            "{}",
            status.message()
        );
        let status = filter_from_proto(Some(v1::CaptureFilter {
            community_patterns: vec![standard(Some(70_000), None)],
            ..Default::default()
        }))
        .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().starts_with(
                "filter.community_patterns[0]: standard community pattern AS 70000 exceeds 65535"
            ),
            "{}",
            status.message()
        );
        let status = filter_from_proto(Some(v1::CaptureFilter {
            community_patterns: vec![v1::CommunityPattern { pattern: None }],
            ..Default::default()
        }))
        .unwrap_err();
        assert!(status.message().contains("neither standard nor large"));
    }
}
