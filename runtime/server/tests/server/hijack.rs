//! The `hijack` and `hijack-live` components: every ARTEMIS class on
//! hand-built captures, RPKI and ASPA counts, event states, and replay
//! against live.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use bgpmon_host::{RunRequest, RunState};
use bgpmon_store::{Capture, Entity, FindingFilter, OwnedPrefix, PathSegment, StoredFinding};
use bgpmon_test_modules as guests;

use crate::util::{Harness, capture, eventually, failure, grants};

/// ARTEMIS-style rules: 10.0/16 owned by AS1 through AS2; 10.9/16 the
/// same, announced with NO_EXPORT; 10.8/16 and 10.7/16 never announced
/// (the last with NO_EXPORT too).
const RULES: &str = r#"
[[rules]]
prefixes = ["10.0.0.0/16"]
origins = [1]
neighbours = [2]

[[rules]]
prefixes = ["10.9.0.0/16"]
origins = [1]
neighbours = [2]
no-export = true

[[rules]]
prefixes = ["10.8.0.0/16"]

[[rules]]
prefixes = ["10.7.0.0/16"]
no-export = true
"#;

const P1: &str = "192.0.2.1";
const P2: &str = "192.0.2.2";

fn route(t: u64, peer: &str, path: &[u32], prefix: &str) -> Capture {
    let mut c = capture(t, *path.last().unwrap(), prefix);
    c.peer_ip = peer.parse::<IpAddr>().unwrap();
    c.peer_as = path[0];
    c.as_path = vec![PathSegment::Sequence(path.to_vec())];
    c
}

fn withdrawal(t: u64, peer: &str, prefix: &str) -> Capture {
    let mut c = route(t, peer, &[9], prefix);
    c.as_path.clear();
    c.origin_as = None;
    c.withdrawn = std::mem::take(&mut c.advertised);
    c
}

/// Sixteen captures that make each of ARTEMIS's thirteen classes once.
fn captures() -> Vec<Capture> {
    vec![
        route(1, P1, &[9, 2, 1], "10.0.0.0/16"),
        route(2, P1, &[9, 5], "10.0.0.0/16"),
        route(3, P2, &[8, 6, 1], "10.0.0.0/16"),
        route(4, P1, &[9, 5], "10.0.1.0/24"),
        route(5, P2, &[8, 6, 1], "10.0.2.0/24"),
        route(6, P1, &[9, 2, 1], "10.0.3.0/24"),
        route(7, P1, &[9, 5], "10.8.0.0/16"),
        route(8, P1, &[9, 2, 1], "10.9.0.0/16"),
        route(9, P2, &[8, 9, 5], "10.9.1.0/24"),
        withdrawal(10, P1, "10.0.0.0/16"),
        route(11, P2, &[8, 6, 1], "10.0.0.0/16"),
        route(12, P2, &[8, 9, 5], "10.9.0.0/16"),
        route(13, P2, &[8, 6, 1], "10.9.2.0/24"),
        route(14, P1, &[9, 7, 1], "10.9.0.0/16"),
        route(15, P1, &[9, 8, 5], "10.7.0.0/16"),
        route(16, P2, &[8, 2, 1], "10.9.3.0/24"),
    ]
}

/// A VRP for AS1's 10.0/16 and ASPAs for AS1 (provider AS2) and AS2
/// (provider AS9), as `write entities --format roa` stores them.
fn rpki_entities() -> Vec<Entity> {
    vec![
        Entity {
            name: "AS1".into(),
            contact: "rpki".into(),
            origin_ases: vec![1],
            prefixes: vec![OwnedPrefix {
                prefix: "10.0.0.0/16".parse().unwrap(),
                max_length: 16,
            }],
        },
        Entity {
            name: "aspa:AS1".into(),
            contact: "rpki-aspa".into(),
            origin_ases: vec![2],
            prefixes: vec![],
        },
        Entity {
            name: "aspa:AS2".into(),
            contact: "rpki-aspa".into(),
            origin_ases: vec![9],
            prefixes: vec![],
        },
    ]
}

async fn prepared(h: &Harness, id: &str) -> String {
    let s = h.session(id).await;
    let mut writer = h.server.entity_writer(&s).await.unwrap();
    writer.write(rpki_entities()).unwrap();
    writer.flush().await.unwrap();
    s
}

async fn findings_of(h: &Harness, session: &str, module: &str) -> Vec<StoredFinding> {
    let filter = FindingFilter {
        module_id: Some(module.to_owned()),
        ..FindingFilter::default()
    };
    crate::findings::findings(h, session, filter).await
}

fn field<'a>(f: &'a StoredFinding, name: &str) -> &'a str {
    f.finding
        .fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("finding {f:?} has no field {name}"))
}

/// The latest fields of each event, by its `event` field, and of each
/// other finding, by kind.
fn folded(findings: &[StoredFinding]) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for f in findings {
        let key = f
            .finding
            .fields
            .iter()
            .find(|(k, _)| k == "event")
            .map_or_else(|| f.finding.kind.clone(), |(_, v)| v.clone());
        out.insert(key, f.finding.fields.clone());
    }
    out
}

fn hijack(session: &str, id: &str) -> RunRequest {
    RunRequest::new("hijack", id)
        .option("session", session)
        .option("rules", RULES)
        .grants(grants(&[session]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn hijack_reports_every_artemis_class_with_rpki_and_aspa_counts() {
    let h = Harness::start(&[guests::HIJACK]).await;
    let s = prepared(&h, "s").await;
    h.write(&s, captures()).await;
    let status = h.run_to_end(hijack(&s, "replay")).await;
    let RunState::Finished(result) = &status.state else {
        panic!("hijack did not finish: {status:?}");
    };
    assert_eq!(
        result.message,
        "16 captures, 15 announcements: 13 events (13 hijacks), 11 ongoing"
    );
    let found = findings_of(&h, &s, "replay").await;
    let events: BTreeSet<(String, String, String, String)> = found
        .iter()
        .filter(|f| f.finding.kind == "hijack")
        .map(|f| {
            (
                field(f, "type").to_owned(),
                field(f, "prefix").to_owned(),
                field(f, "hijacker").to_owned(),
                field(f, "state").to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String, String)> = [
        ("E|0|-|-", "10.0.0.0/16", "5", "withdrawn"),
        ("E|1|-|-", "10.0.0.0/16", "6", "ongoing"),
        ("S|0|-|-", "10.0.1.0/24", "5", "ongoing"),
        ("S|1|-|-", "10.0.2.0/24", "6", "ongoing"),
        ("S|-|-|-", "10.0.3.0/24", "1", "ongoing"),
        ("Q|0|-|-", "10.8.0.0/16", "5", "ongoing"),
        ("E|-|-|L", "10.9.0.0/16", "2", "withdrawn"),
        ("S|0|-|L", "10.9.1.0/24", "5", "ongoing"),
        ("E|0|-|L", "10.9.0.0/16", "5", "ongoing"),
        ("S|1|-|L", "10.9.2.0/24", "6", "ongoing"),
        ("E|1|-|L", "10.9.0.0/16", "7", "ongoing"),
        ("Q|0|-|L", "10.7.0.0/16", "5", "ongoing"),
        ("S|-|-|L", "10.9.3.0/24", "2", "ongoing"),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
    .collect();
    assert_eq!(events, expected);

    let by_event = folded(&found);
    let e = &by_event["10.0.0.0/16 AS6 E|1|-|-"];
    let get = |name: &str| e.iter().find(|(k, _)| k == name).unwrap().1.as_str();
    assert_eq!(get("first-seen"), "1970-01-01T00:00:03Z");
    assert_eq!(get("last-seen"), "1970-01-01T00:00:11Z");
    assert_eq!(get("announcements"), "2");
    assert_eq!(get("peers"), "test/192.0.2.2");
    assert_eq!(get("collectors"), "test");
    assert_eq!(get("owned-prefix"), "10.0.0.0/16");
    let w = &by_event["10.0.0.0/16 AS5 E|0|-|-"];
    assert!(
        w.contains(&("withdrawn-at".into(), "1970-01-01T00:00:10Z".into())),
        "{w:?}"
    );
    let w = &by_event["10.9.0.0/16 AS2 E|-|-|L"];
    assert!(
        w.contains(&("withdrawn-at".into(), "1970-01-01T00:00:14Z".into())),
        "{w:?}"
    );

    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
    };
    assert_eq!(
        by_event["rpki-summary"],
        pairs(&[
            ("vrps", "1"),
            ("announcements", "15"),
            ("valid", "3"),
            ("invalid-origin", "2"),
            ("invalid-length", "2"),
            ("not-found", "8"),
        ])
    );
    assert_eq!(
        by_event["aspa-summary"],
        pairs(&[
            ("aspas", "2"),
            ("announcements", "15"),
            ("valid", "3"),
            ("invalid", "6"),
            ("unknown", "6"),
        ])
    );
    // The result carries the counts too.
    assert_eq!(result.findings.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn hijack_live_gives_the_events_a_replay_gives() {
    let h = Harness::start(&[guests::HIJACK, guests::HIJACK_LIVE]).await;
    let s = prepared(&h, "s").await;
    let all = captures();
    let (before, after) = all.split_at(7);
    h.write(&s, before.to_vec()).await;
    h.server
        .run_module(
            RunRequest::new("hijack-live", "live")
                .option("session", &s)
                .option("rules", RULES)
                .option("invalid-events", "true")
                .grants(grants(&[&s])),
        )
        .unwrap();
    let server = h.server.clone();
    eventually(
        "the live detector to report the stored captures' events",
        || server.module_status("live").unwrap().counters.findings >= 6,
    )
    .await;
    // The rest arrives while it follows, one write at a time.
    for c in after {
        h.write(&s, vec![c.clone()]).await;
    }
    h.run_to_end(hijack(&s, "replay").option("invalid-events", "true"))
        .await;
    let replay = folded(&findings_of(&h, &s, "replay").await);
    let events = |m: &BTreeMap<String, Vec<(String, String)>>| {
        m.iter()
            .filter(|(k, _)| !k.ends_with("-summary"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let mut live = BTreeMap::new();
    for _ in 0..600 {
        live = folded(&findings_of(&h, &s, "live").await);
        if events(&live) == events(&replay) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events(&live), events(&replay));
    assert!(events(&replay).len() > 13, "RPKI and ASPA events come too");
    let closed = h.server.close_module("live").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped, "{closed:?}");
    let live = folded(&findings_of(&h, &s, "live").await);
    assert_eq!(live["rpki-summary"], replay["rpki-summary"]);
    assert_eq!(live["aspa-summary"], replay["aspa-summary"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn hijack_refuses_bad_rules_and_missing_owners_clearly() {
    let h = Harness::start(&[guests::HIJACK]).await;
    let s = h.session("s").await;
    let status = h
        .run_to_end(
            RunRequest::new("hijack", "bad")
                .option("session", &s)
                .option("rules", r#"[{"prefixes": ["10.0.0.1/16"]}]"#)
                .grants(grants(&[&s])),
        )
        .await;
    let reason = failure(&status).to_string();
    assert!(
        reason.contains("rule 1") && reason.contains("host bits"),
        "{reason}"
    );
    let status = h
        .run_to_end(
            RunRequest::new("hijack", "ghost")
                .option("session", &s)
                .option("owners", "AS64500")
                .grants(grants(&[&s])),
        )
        .await;
    let reason = failure(&status).to_string();
    assert!(
        reason.contains("owner entity \"AS64500\" is not in the session"),
        "{reason}"
    );
    let status = h
        .run_to_end(
            RunRequest::new("hijack", "empty")
                .option("session", &s)
                .grants(grants(&[&s])),
        )
        .await;
    let reason = failure(&status).to_string();
    assert!(reason.contains("nothing to check against"), "{reason}");
}
