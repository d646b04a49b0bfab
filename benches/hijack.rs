//! `hijack` as a component against the same detection code compiled
//! natively, over the same ≥ 1 M stored captures.
//!
//! Setup: the built `bgpmond` stores `routeviews-route-views2.updates.
//! 20260222.1530.bz2` 21 times over (1,033,620 captures) and the shared
//! rpki-client export (723,521 VRPs, 100 ASPAs) in one redb session, then
//! stops. An in-process server opens that file. Each run then does the
//! same work on the same data:
//!
//! - **component**: `hijack` through the server, under production limits
//!   (fuel metered, memory capped): it reads the VRP and ASPA entities and
//!   every capture from the store, classifies, validates and verifies each
//!   announcement, and stores its events and counts as findings;
//! - **native**: `hijack_core` in this process, fed by the server's own
//!   entity and capture readers on the same session, with the same filter
//!   and batch size, the same rules and the same reused buffers, storing
//!   its events and counts as findings in the same batches; its count of
//!   announcements is checked against the component's.
//!
//! It prints each side's median over `RUNS` alternating runs, their
//! spread, and the ratio of throughputs (component / native; the goal is
//! ≥ 0.6). Run with `cargo bench --bench hijack`; it needs `../shared`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports failure by panicking"
)]

#[path = "../tests/e2e/util.rs"]
mod util;

use std::time::{Duration, Instant};

use bgpmon_host::{Grants, ModuleLimits, RunRequest, RunState};
use bgpmon_server::{Config, Server};
use bgpmon_store::{Capture, CaptureFilter, EntityFilter, FindingFilter, NewFinding, PathSegment};
use bgpmon_test_modules as guests;
use hijack_core::aspa::AspaTable;
use hijack_core::classify::collapse_into;
use hijack_core::report::{Report, count_reports, event_report};
use hijack_core::rov::VrpTable;
use hijack_core::rules::RuleSet;
use hijack_core::{Config as Rules, Detector, Net, Update};
use tokio_util::sync::CancellationToken;

const FILE: &str = "routeviews-route-views2.updates.20260222.1530.bz2";
const EXPORT: &str = "rpkiclient_summary_20250720T093135Z.json.bz2";
const COPIES: usize = 21;
const RUNS: usize = 3;
/// Owned prefixes for the ARTEMIS classes: busy real prefixes of the file
/// claimed for other ASes, so that the classifier has work and events.
const RULES: &str = r#"[
    {"prefixes": ["8.0.0.0/8", "45.0.0.0/8", "103.0.0.0/8"], "origins": [64500], "neighbours": [64501]},
    {"prefixes": ["185.0.0.0/8"], "origins": [64502], "no-export": true}
]"#;
const BATCH: u32 = 1_000;
/// How many findings the `hijack` module stores per commit.
const REPORT_BATCH: usize = 100;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn spread(v: &[Duration]) -> String {
    let min = v.iter().min().unwrap().as_secs_f64();
    let max = v.iter().max().unwrap().as_secs_f64();
    format!("{min:.2}–{max:.2} s")
}

/// Stores the data with the built daemon and returns its folder.
fn prepare() -> Option<tempfile::TempDir> {
    let file = util::mrt(FILE)?;
    let export = util::entity_file(EXPORT)?;
    let d = util::Daemon::start(&[guests::HIJACK]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&[
        "write",
        "entities",
        "s",
        export.to_str().unwrap(),
        "--format",
        "roa",
    ]);
    for _ in 0..COPIES {
        d.ok(&["write", "captures", "s", file.to_str().unwrap(), "--force"]);
    }
    let (dir, status) = d.stop();
    assert!(status.success());
    Some(dir)
}

fn net(p: &ipnet::IpNet) -> Option<Net> {
    Net::new(p.addr(), p.prefix_len())
}

async fn native(server: &Server) -> (Duration, u64) {
    let start = Instant::now();
    let stop = CancellationToken::new();
    let mut vrps = VrpTable::default();
    let mut aspas = AspaTable::default();
    let mut entities = server
        .entity_reader("s", EntityFilter::default())
        .await
        .unwrap();
    loop {
        let batch = entities.read(BATCH as usize).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for e in batch {
            if e.contact == "rpki" {
                for owned in &e.prefixes {
                    for &asn in &e.origin_ases {
                        vrps.add(net(&owned.prefix).unwrap(), owned.max_length, asn);
                    }
                }
            } else if let Some(customer) = e.name.strip_prefix("aspa:AS") {
                aspas.add(customer.parse().unwrap(), e.origin_ases.iter().copied());
            }
        }
    }
    let mut detector = Detector::new(Rules {
        rules: RuleSet::parse(RULES).unwrap(),
        vrps,
        aspas,
        invalid_events: false,
    });
    let mut reader = server
        .capture_reader("s", CaptureFilter::default(), false)
        .await
        .unwrap();
    let (mut path, mut announced, mut withdrawn) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let batch: Vec<Capture> = reader.read(BATCH as usize, &stop).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for c in &batch {
            let has_set = collapse_into(
                &mut path,
                c.as_path.iter().filter_map(|s| match s {
                    PathSegment::Sequence(a) => Some((false, a.as_slice())),
                    PathSegment::Set(a) => Some((true, a.as_slice())),
                    _ => None,
                }),
            );
            announced.clear();
            announced.extend(c.advertised.iter().filter_map(net));
            withdrawn.clear();
            withdrawn.extend(c.withdrawn.iter().filter_map(net));
            detector.observe(&Update {
                time_us: c.timestamp_us,
                collector: &c.collector,
                peer: c.peer_ip,
                path: &path,
                has_set,
                origin: c.origin_as,
                announced: &announced,
                withdrawn: &withdrawn,
            });
        }
    }
    // The component stores its events and counts as findings, a hundred
    // per commit; so does this side, in the same shape and batches.
    let events = detector.events();
    let mut reports: Vec<Report> = events.iter().map(|e| event_report(e, events)).collect();
    reports.extend(count_reports(&detector));
    let session = server.session("s").unwrap();
    for chunk in reports.chunks(REPORT_BATCH) {
        let findings = chunk
            .iter()
            .map(|r| NewFinding {
                time_us: 0,
                module_id: "native".into(),
                module_type: "hijack".into(),
                kind: r.kind.into(),
                summary: r.summary.clone(),
                fields: r.fields.clone(),
            })
            .collect();
        session.report_findings(findings).await.unwrap();
    }
    (start.elapsed(), detector.counts().announcements)
}

async fn component(server: &Server, run: usize) -> (Duration, String) {
    let id = format!("hijack-{run}");
    let limits = ModuleLimits {
        deadline: Duration::from_secs(600),
        ..ModuleLimits::default()
    };
    let start = Instant::now();
    server
        .run_module(
            RunRequest::new("hijack", &id)
                .option("session", "s")
                .option("rules", RULES)
                .limits(limits)
                .grants(Grants {
                    sessions: vec!["s".into()],
                    ..Grants::default()
                }),
        )
        .unwrap();
    let status = server.modules().wait(&id).await.unwrap();
    let elapsed = start.elapsed();
    let RunState::Finished(result) = &status.state else {
        panic!("hijack did not finish: {status:?}");
    };
    let counters = &status.counters;
    println!(
        "  component run {run}: {:.2} s, fuel {}, peak memory {} MiB, records read {}",
        elapsed.as_secs_f64(),
        counters.fuel_used,
        counters.memory_bytes >> 20,
        counters.records_read
    );
    (elapsed, result.message.clone())
}

fn main() {
    let Some(dir) = prepare() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = Config::parse(&util::config_text(dir.path(), "")).unwrap();
        let server = Server::start(config).await.unwrap();
        // The server compiled (or loaded the cached compile of) the
        // component as it started, before any timing.
        assert!(
            server
                .list_module_types()
                .iter()
                .any(|t| t.info.type_name == "hijack"),
            "hijack is not loaded: {:?}",
            server.load_failures()
        );
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let mut announcements = 0;
        for run in 0..RUNS {
            let (t, message) = component(&server, run).await;
            theirs.push(t);
            let (t, n) = native(&server).await;
            ours.push(t);
            announcements = n;
            assert!(
                message.contains(&format!(" {n} announcements")),
                "the component and the native code disagree: {message} against {n} announcements"
            );
        }
        let findings = server
            .findings("s", 0, FindingFilter::default(), 1)
            .await
            .unwrap();
        std::hint::black_box(findings);
        let (c, n) = (median(theirs.clone()), median(ours.clone()));
        println!(
            "hijack over {} captures ({announcements} announcements), median of {RUNS}:",
            49_220 * COPIES
        );
        println!(
            "  component {:.2} s (spread {})",
            c.as_secs_f64(),
            spread(&theirs)
        );
        println!(
            "  native    {:.2} s (spread {})",
            n.as_secs_f64(),
            spread(&ours)
        );
        println!(
            "  throughput ratio component/native: {:.3} (goal >= 0.6)",
            n.as_secs_f64() / c.as_secs_f64()
        );
        server.close().await;
    });
}
