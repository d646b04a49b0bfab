//! `churn`: how fast the routing table changes. Update rates per
//! collector, peer and minute (announced and withdrawn prefixes), and the
//! prefixes that flap most, as findings.
//!
//! A prefix flaps at a peer when the peer withdraws it and announces it
//! again; its flap count is the number of such re-announcements, summed
//! over the peers that saw it. RIB entries are not updates and are left out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bgpmon_guest::{
    CaptureKind, Filter, Module, ModuleInfo, OptionType, Options, RunResult, Session,
};

struct Churn;

/// Announced and withdrawn prefixes in some span.
#[derive(Clone, Copy, Default)]
struct Rate {
    announced: u64,
    withdrawn: u64,
}

impl Rate {
    fn updates(self) -> u64 {
        self.announced + self.withdrawn
    }
}

/// One prefix's history.
#[derive(Default)]
struct PrefixHistory {
    flaps: u64,
    updates: u64,
    peers: BTreeSet<(String, String)>,
}

/// What a peer last said of a prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Announced,
    Withdrawn,
}

const MINUTE_US: u64 = 60_000_000;

fn filter_from(options: &Options) -> Result<Filter, String> {
    let mut filter = Filter::new().kind(CaptureKind::Update);
    if let Some(collector) = options.get("collector") {
        filter = filter.collector(collector);
    }
    if options.get("start").is_some() || options.get("end").is_some() {
        let start: u64 = options
            .get("start")
            .map_or(Ok(0), |_| options.parse("start"))?;
        let end: u64 = options
            .get("end")
            .map_or(Ok(u64::MAX), |_| options.parse("end"))?;
        // Typed `time` options arrive as microseconds.
        filter = filter.time(start, end);
    }
    Ok(filter)
}

impl Module for Churn {
    fn info() -> ModuleInfo {
        ModuleInfo::task(
            "churn",
            "Update rates per collector, peer and minute, and the prefixes that flap most",
        )
        .required_option("session", "the session to read")
        .optional_option("collector", "only updates from this collector")
        .optional_option("start", "only updates at or after this time")
        .of_type(OptionType::Time)
        .optional_option("end", "only updates before this time")
        .of_type(OptionType::Time)
        .option("top", "how many peer-minutes and prefixes to report", "10")
        .of_type(OptionType::Integer)
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let top: usize = options.parse("top")?;
        let filter = filter_from(&options)?;
        let session = Session::open(options.require("session")?)?;
        let mut reader = session.captures(&filter)?;

        // (collector, peer, minute) -> rate
        let mut peer_minutes: BTreeMap<(String, String, u64), Rate> = BTreeMap::new();
        let mut prefixes: HashMap<String, PrefixHistory> = HashMap::new();
        let mut last: HashMap<(String, String, String), Last> = HashMap::new();
        let mut updates = 0u64;
        while let Some(batch) = reader.next_batch()? {
            updates += batch.len() as u64;
            for capture in batch {
                let peer = capture.peer_ip.to_string();
                let minute = capture.timestamp_us / MINUTE_US * 60;
                let rate = peer_minutes
                    .entry((capture.collector.clone(), peer.clone(), minute))
                    .or_default();
                rate.withdrawn += capture.withdrawn.len() as u64;
                rate.announced += capture.advertised.len() as u64;
                // Withdrawals first, as within one UPDATE message.
                let said = capture
                    .withdrawn
                    .iter()
                    .map(|p| (p, Last::Withdrawn))
                    .chain(capture.advertised.iter().map(|p| (p, Last::Announced)));
                for (prefix, now) in said {
                    let prefix = prefix.to_string();
                    let history = prefixes.entry(prefix.clone()).or_default();
                    history.updates += 1;
                    history
                        .peers
                        .insert((capture.collector.clone(), peer.clone()));
                    let key = (capture.collector.clone(), peer.clone(), prefix);
                    if last.insert(key, now) == Some(Last::Withdrawn) && now == Last::Announced {
                        history.flaps += 1;
                    }
                }
            }
        }

        let mut collectors: BTreeMap<String, BTreeMap<u64, Rate>> = BTreeMap::new();
        let mut total = Rate::default();
        for ((collector, _, minute), rate) in &peer_minutes {
            let slot = collectors
                .entry(collector.clone())
                .or_default()
                .entry(*minute)
                .or_default();
            slot.announced += rate.announced;
            slot.withdrawn += rate.withdrawn;
            total.announced += rate.announced;
            total.withdrawn += rate.withdrawn;
        }
        let minutes: BTreeSet<u64> = peer_minutes.keys().map(|(_, _, m)| *m).collect();
        let peers: BTreeSet<(&str, &str)> = peer_minutes
            .keys()
            .map(|(c, p, _)| (c.as_str(), p.as_str()))
            .collect();
        let peak = collectors
            .values()
            .flat_map(|m| m.values())
            .map(|r| r.updates())
            .max()
            .unwrap_or(0);

        let mut result = RunResult::message(format!(
            "{updates} updates from {} peers at {} collectors over {} minutes: {} announced and {} withdrawn prefixes, at most {peak} per collector-minute",
            peers.len(),
            collectors.len(),
            minutes.len(),
            total.announced,
            total.withdrawn
        ));
        for (collector, by_minute) in &collectors {
            let (peak_minute, peak_rate) = by_minute
                .iter()
                .max_by(|a, b| a.1.updates().cmp(&b.1.updates()).then(b.0.cmp(a.0)))
                .map(|(m, r)| (*m, *r))
                .unwrap_or_default();
            let sum = by_minute.values().fold(Rate::default(), |a, r| Rate {
                announced: a.announced + r.announced,
                withdrawn: a.withdrawn + r.withdrawn,
            });
            result = result.finding(
                "collector-rate",
                format!(
                    "{collector}: {} announced and {} withdrawn prefixes over {} minutes, at most {} in the minute from {peak_minute}",
                    sum.announced,
                    sum.withdrawn,
                    by_minute.len(),
                    peak_rate.updates()
                ),
                [
                    ("collector", collector.clone()),
                    ("minutes", by_minute.len().to_string()),
                    ("announced", sum.announced.to_string()),
                    ("withdrawn", sum.withdrawn.to_string()),
                    ("peak-minute", peak_minute.to_string()),
                    ("peak-updates", peak_rate.updates().to_string()),
                ],
            );
        }

        let mut busiest: Vec<(&(String, String, u64), &Rate)> = peer_minutes.iter().collect();
        busiest.sort_by(|a, b| b.1.updates().cmp(&a.1.updates()).then(a.0.cmp(b.0)));
        for ((collector, peer, minute), rate) in busiest.into_iter().take(top) {
            result = result.finding(
                "peer-minute",
                format!(
                    "{collector} peer {peer}: {} announced and {} withdrawn prefixes in the minute from {minute}",
                    rate.announced, rate.withdrawn
                ),
                [
                    ("collector", collector.clone()),
                    ("peer", peer.clone()),
                    ("minute", minute.to_string()),
                    ("announced", rate.announced.to_string()),
                    ("withdrawn", rate.withdrawn.to_string()),
                ],
            );
        }

        let mut flapping: Vec<(String, PrefixHistory)> =
            prefixes.into_iter().filter(|(_, h)| h.flaps > 0).collect();
        flapping.sort_by(|a, b| b.1.flaps.cmp(&a.1.flaps).then(a.0.cmp(&b.0)));
        for (prefix, history) in flapping.into_iter().take(top) {
            result = result.finding(
                "flapping-prefix",
                format!(
                    "{prefix} flapped {} times in {} updates from {} peers",
                    history.flaps,
                    history.updates,
                    history.peers.len()
                ),
                [
                    ("prefix", prefix.clone()),
                    ("flaps", history.flaps.to_string()),
                    ("updates", history.updates.to_string()),
                    ("peers", history.peers.len().to_string()),
                ],
            );
        }
        Ok(result)
    }
}

bgpmon_guest::export_module!(Churn);
