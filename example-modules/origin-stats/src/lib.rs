//! `origin-stats`: counts the prefixes each origin AS advertises in the
//! captures that match a filter, and reports the busiest origins.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use bgpmon_guest::{
    Filter, Module, ModuleInfo, OptionType, Options, Prefix, PrefixMatch, RunResult, Session,
};

struct OriginStats;

#[derive(Default)]
struct Tally {
    announcements: u64,
    /// Distinct prefixes, as address and length: cheaper to compare than
    /// their text.
    prefixes: BTreeSet<(IpAddr, u8)>,
}

fn filter_from(options: &Options) -> Result<Filter, String> {
    let mut filter = Filter::new();
    if let Some(collector) = options.get("collector") {
        filter = filter.collector(collector);
    }
    match (options.get("start"), options.get("end")) {
        (None, None) => {}
        _ => {
            // Typed `time` options arrive as microseconds.
            let start: u64 = options
                .get("start")
                .map_or(Ok(0), |_| options.parse("start"))?;
            let end: u64 = options
                .get("end")
                .map_or(Ok(u64::MAX), |_| options.parse("end"))?;
            filter = filter.time(start, end);
        }
    }
    if let Some(prefix) = options.get("prefix") {
        let prefix: Prefix = prefix.parse()?;
        filter = filter.prefix(prefix, PrefixMatch::More);
    }
    if options.get("origin").is_some() {
        filter = filter.origin(options.parse("origin")?);
    }
    Ok(filter)
}

impl Module for OriginStats {
    fn info() -> ModuleInfo {
        ModuleInfo::task(
            "origin-stats",
            "Counts the prefixes each origin AS advertises in matching captures",
        )
        .required_option("session", "the session to read")
        .optional_option("collector", "only captures from this collector")
        .optional_option("start", "only captures at or after this time")
        .of_type(OptionType::Time)
        .optional_option("end", "only captures before this time")
        .of_type(OptionType::Time)
        .optional_option(
            "prefix",
            "only captures advertising this prefix or a more specific one",
        )
        .of_type(OptionType::Prefix)
        .optional_option("origin", "only captures from this origin AS")
        .of_type(OptionType::Asn)
        .option("top", "how many origins to report", "10")
        .of_type(OptionType::Integer)
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let top: usize = options.parse("top")?;
        let filter = filter_from(&options)?;
        let session = Session::open(options.require("session")?)?;
        let mut reader = session.captures(&filter)?;
        let mut captures = 0u64;
        let mut tallies: BTreeMap<u32, Tally> = BTreeMap::new();
        while let Some(batch) = reader.next_columns()? {
            captures += batch.len() as u64;
            for capture in batch.iter() {
                let Some(origin) = capture.origin_as() else {
                    continue;
                };
                let tally = tallies.entry(origin).or_default();
                for prefix in capture.advertised() {
                    tally.announcements += 1;
                    tally
                        .prefixes
                        .insert((IpAddr::from(prefix.address), prefix.length));
                }
            }
        }
        let mut ranked: Vec<(u32, Tally)> = tallies.into_iter().collect();
        ranked.sort_by(|a, b| {
            b.1.prefixes
                .len()
                .cmp(&a.1.prefixes.len())
                .then(a.0.cmp(&b.0))
        });
        let origins = ranked.len();
        let mut result = RunResult::message(format!("{captures} captures, {origins} origin ASes"));
        for (origin, tally) in ranked.into_iter().take(top) {
            result = result.finding(
                "origin-prefix-count",
                format!(
                    "AS{origin} advertised {} distinct prefixes in {} announcements",
                    tally.prefixes.len(),
                    tally.announcements
                ),
                [
                    ("origin", origin.to_string()),
                    ("prefixes", tally.prefixes.len().to_string()),
                    ("announcements", tally.announcements.to_string()),
                ],
            );
        }
        Ok(result)
    }
}

bgpmon_guest::export_module!(OriginStats);
