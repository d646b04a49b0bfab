//! The module glue: options, loading rules, VRPs and ASPAs from the
//! session, reading captures, and reporting events as findings. The
//! `hijack` (replay) and `hijack-live` (daemon) components are this code
//! in two modes.

use bgpmon_guest::{
    CaptureKind, CaptureRef, Entity, Filter, Finding, ModuleInfo, OptionType, Options, RunResult,
    SegmentType, Session, log, runtime,
};

use crate::aspa::AspaTable;
use crate::classify::collapse_into;
use crate::detector::{Config, Detector, Update};
use crate::net::Net;
use crate::report::{Report, count_reports, event_report};
use crate::rov::VrpTable;
use crate::rules::{Rule, RuleSet};

/// The entity contact the `roa` entity loader gives VRP entities.
pub const VRP_CONTACT: &str = "rpki";
/// The entity contact the `roa` entity loader gives ASPA entities, named
/// `aspa:AS<customer>` with the providers as their origin ASes.
pub const ASPA_CONTACT: &str = "rpki-aspa";

/// How many findings one report call carries.
const REPORT_BATCH: usize = 100;

/// Replay a time window, or follow the session live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A task over the stored captures.
    Replay,
    /// A daemon over the stored captures, then new ones as they come.
    Live,
}

/// The module's description and options.
pub fn info(mode: Mode) -> ModuleInfo {
    let info = match mode {
        Mode::Replay => ModuleInfo::task(
            "hijack",
            "Hijack events in ARTEMIS's classes, RPKI route origin validation and ASPA path verification over a session's stored captures",
        ),
        Mode::Live => ModuleInfo::daemon(
            "hijack-live",
            "Hijack events in ARTEMIS's classes, RPKI route origin validation and ASPA path verification, following a session live",
        ),
    };
    let info = info
        .required_option("session", "the session to read")
        .optional_option(
            "rules",
            "owned prefixes: TOML [[rules]] tables or a JSON list, each with prefixes, origins, neighbours and no-export",
        )
        .optional_option(
            "owners",
            "comma-separated entity names whose prefixes (with max lengths) and origin ASes are owned prefixes",
        )
        .option(
            "rpki",
            "validate every announcement against the session's VRP entities (from `write entities --format roa`)",
            "true",
        )
        .of_type(OptionType::Boolean)
        .option(
            "aspa",
            "verify every AS path against the session's ASPA entities (from `write entities --format roa`)",
            "true",
        )
        .of_type(OptionType::Boolean)
        .option(
            "invalid-events",
            "also make events of RPKI-invalid and ASPA-invalid announcements (they are always counted)",
            "false",
        )
        .of_type(OptionType::Boolean)
        .optional_option("collector", "only captures from this collector")
        .optional_option("start", "only captures at or after this time")
        .of_type(OptionType::Time);
    match mode {
        Mode::Replay => info
            .optional_option("end", "only captures before this time")
            .of_type(OptionType::Time),
        Mode::Live => info,
    }
}

/// Runs the detector in `mode`.
pub fn run(options: &Options, mode: Mode) -> Result<RunResult, String> {
    let session = Session::open(options.require("session")?)?;
    let config = load_config(&session, options)?;
    if config.rules.is_empty() && config.vrps.is_empty() && config.aspas.is_empty() {
        return Err("nothing to check against: give `rules` or `owners`, or load VRPs and ASPAs with `bgpmon write SESSION entities --format roa FILE`".into());
    }
    log::info(format!(
        "checking against {} owned prefixes, {} VRPs and {} ASPAs",
        config.rules.len(),
        config.vrps.len(),
        config.aspas.len()
    ));
    let filter = filter_from(options, mode)?;
    let mut reader = match mode {
        Mode::Replay => session.captures(&filter)?,
        Mode::Live => session.follow_captures(&filter)?,
    };
    let mut detector = Detector::new(config);
    let mut scratch = Scratch::default();
    let mut captures = 0u64;
    while let Some(batch) = reader.next_columns()? {
        captures += batch.len() as u64;
        for capture in batch.iter() {
            scratch.observe(&mut detector, &capture);
        }
        if mode == Mode::Live {
            let keys = detector.events_mut().take_changed();
            let events = detector.events();
            let changed: Vec<Report> = keys
                .iter()
                .filter_map(|k| events.get(k))
                .map(|e| event_report(e, events))
                .collect();
            report(&session, &changed)?;
            if runtime::stop_requested() {
                break;
            }
        }
    }
    let events = detector.events();
    if mode == Mode::Replay {
        let all: Vec<Report> = events.iter().map(|e| event_report(e, events)).collect();
        report(&session, &all)?;
    }
    let counts = count_reports(&detector);
    report(&session, &counts)?;
    let hijacks = events
        .iter()
        .filter(|e| e.key.kind.finding_kind() == "hijack")
        .count();
    let ongoing = events
        .iter()
        .filter(|e| e.state() == crate::events::EventState::Ongoing)
        .count();
    let mut result = RunResult::message(format!(
        "{captures} captures, {} announcements: {} events ({hijacks} hijacks), {ongoing} ongoing",
        detector.counts().announcements,
        events.len()
    ));
    for r in counts {
        result = result.finding(r.kind, r.summary, r.fields);
    }
    Ok(result)
}

fn report(session: &Session, reports: &[Report]) -> Result<(), String> {
    for chunk in reports.chunks(REPORT_BATCH) {
        let findings: Vec<Finding> = chunk
            .iter()
            .map(|r| Finding::new(r.kind, r.summary.clone(), r.fields.clone()))
            .collect();
        session.report(&findings)?;
    }
    Ok(())
}

fn filter_from(options: &Options, mode: Mode) -> Result<Filter, String> {
    let mut filter = Filter::new().kind(CaptureKind::Any);
    if let Some(collector) = options.get("collector") {
        filter = filter.collector(collector);
    }
    let start: u64 = options
        .get("start")
        .map_or(Ok(0), |_| options.parse("start"))?;
    let end: u64 = match mode {
        Mode::Replay => options
            .get("end")
            .map_or(Ok(u64::MAX), |_| options.parse("end"))?,
        Mode::Live => u64::MAX,
    };
    if start > 0 || end < u64::MAX {
        // Typed `time` options arrive as microseconds.
        filter = filter.time(start, end);
    }
    Ok(filter)
}

fn net_of(prefix: &bgpmon_guest::Prefix) -> Option<Net> {
    Net::new(prefix.ip(), prefix.length)
}

/// Reads rules, VRPs and ASPAs as the options ask.
fn load_config(session: &Session, options: &Options) -> Result<Config, String> {
    let mut rules = match options.get("rules") {
        Some(text) => RuleSet::parse(text)?,
        None => RuleSet::default(),
    };
    let owners: Vec<&str> = options
        .get("owners")
        .map(|o| {
            o.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !owners.is_empty() {
        let found = read_entities(session, &owners)?;
        for name in &owners {
            if !found.iter().any(|e| e.name == *name) {
                return Err(format!(
                    "owner entity {name:?} is not in the session; load it with `bgpmon write SESSION entities FILE` or fix `owners`"
                ));
            }
        }
        for entity in &found {
            add_owner(&mut rules, entity);
        }
    }
    let (want_rpki, want_aspa): (bool, bool) = (options.parse("rpki")?, options.parse("aspa")?);
    let mut vrps = VrpTable::default();
    let mut aspas = AspaTable::default();
    if want_rpki || want_aspa {
        let mut reader = session.entities(&[])?;
        while let Some(batch) = reader.next_batch()? {
            for entity in batch {
                if want_rpki && entity.contact == VRP_CONTACT {
                    add_vrps(&mut vrps, &entity);
                } else if want_aspa && entity.contact == ASPA_CONTACT {
                    let customer = entity
                        .name
                        .strip_prefix("aspa:AS")
                        .and_then(|n| n.parse::<u32>().ok())
                        .ok_or_else(|| {
                            format!(
                                "ASPA entity {:?} is not named aspa:AS<customer>; reload the ASPAs with `write entities --format roa`",
                                entity.name
                            )
                        })?;
                    aspas.add(customer, entity.origin_ases.iter().copied());
                }
            }
        }
    }
    Ok(Config {
        rules,
        vrps,
        aspas,
        invalid_events: options.parse("invalid-events")?,
    })
}

fn read_entities(session: &Session, names: &[&str]) -> Result<Vec<Entity>, String> {
    let mut reader = session.entities(names)?;
    let mut all = Vec::new();
    while let Some(batch) = reader.next_batch()? {
        all.extend(batch);
    }
    Ok(all)
}

fn add_owner(rules: &mut RuleSet, entity: &Entity) {
    for owned in &entity.prefixes {
        if let Some(net) = net_of(&owned.prefix) {
            rules.add(
                net,
                Rule {
                    max_len: owned.max_length.max(net.prefix_len()),
                    origins: entity.origin_ases.iter().copied().collect(),
                    neighbours: None,
                    no_export: false,
                },
            );
        }
    }
}

fn add_vrps(vrps: &mut VrpTable, entity: &Entity) {
    for owned in &entity.prefixes {
        if let Some(net) = net_of(&owned.prefix) {
            for &asn in &entity.origin_ases {
                vrps.add(net, owned.max_length, asn);
            }
        }
    }
}

/// Buffers reused from capture to capture.
#[derive(Default)]
struct Scratch {
    path: Vec<u32>,
    announced: Vec<Net>,
    withdrawn: Vec<Net>,
}

impl Scratch {
    fn observe(&mut self, detector: &mut Detector, capture: &CaptureRef<'_>) {
        let has_set = collapse_into(
            &mut self.path,
            capture.path().filter_map(|(kind, asns)| match kind {
                SegmentType::Sequence => Some((false, asns)),
                SegmentType::Set => Some((true, asns)),
                SegmentType::ConfedSequence | SegmentType::ConfedSet => None,
            }),
        );
        self.announced.clear();
        self.announced
            .extend(capture.advertised().iter().filter_map(net_of));
        self.withdrawn.clear();
        self.withdrawn
            .extend(capture.withdrawn().iter().filter_map(net_of));
        detector.observe(&Update {
            time_us: capture.timestamp_us(),
            collector: capture.collector(),
            peer: capture.peer_ip().into(),
            path: &self.path,
            has_set,
            origin: capture.origin_as(),
            announced: &self.announced,
            withdrawn: &self.withdrawn,
        });
    }
}
