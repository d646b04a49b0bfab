//! The `churn` and `periodic` example modules on hand-built captures, with
//! answers worked out by hand.

use std::time::Duration;

use bgpmon_host::{Grants, RunRequest, RunState};
use bgpmon_test_modules as guests;

use crate::util::{Harness, capture, eventually, grants};

/// An update at second `t` from peer `peer` of collector `collector`,
/// announcing `announced` and withdrawing `withdrawn`.
fn update(
    t: u64,
    collector: &str,
    peer: &str,
    announced: &[&str],
    withdrawn: &[&str],
) -> bgpmon_store::Capture {
    let mut c = capture(t, 64500, "10.0.0.0/8");
    c.collector = collector.into();
    c.peer_ip = peer.parse().unwrap();
    c.advertised = announced.iter().map(|p| p.parse().unwrap()).collect();
    c.withdrawn = withdrawn.iter().map(|p| p.parse().unwrap()).collect();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn churn_counts_rates_per_peer_minute_and_flaps() {
    let h = Harness::start(&[guests::CHURN]).await;
    let s = h.session("s1").await;
    let (a, b) = ("192.0.2.1", "192.0.2.2");
    let p = "203.0.113.0/24";
    let q = "198.51.100.0/24";
    let mut rib = update(0, "rrc00", a, &[q], &[]);
    rib.is_rib = true;
    h.write(
        &s,
        vec![
            rib,
            // Minute 0 at rrc00: peer a announces p and q, withdraws p,
            // announces p again (a flap), withdraws p, announces p (a second).
            update(1, "rrc00", a, &[p, q], &[]),
            update(2, "rrc00", a, &[], &[p]),
            update(3, "rrc00", a, &[p], &[]),
            update(4, "rrc00", a, &[], &[p]),
            update(5, "rrc00", a, &[p], &[]),
            // Peer b withdraws q it never announced (no flap), then
            // announces it: a flap, since a withdrawal came first.
            update(10, "rrc00", b, &[], &[q]),
            update(11, "rrc00", b, &[q], &[]),
            // Minute 1 at rrc00, and one update at route-views2.
            update(61, "rrc00", a, &[q], &[]),
            update(62, "route-views2", a, &[], &[p]),
        ],
    )
    .await;
    let status = h
        .run_to_end(
            RunRequest::new("churn", "churn")
                .option("session", &s)
                .option("top", "2")
                .grants(grants(&[&s])),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("churn did not finish: {:?}", status.state);
    };
    assert_eq!(
        result.message,
        "9 updates from 3 peers at 2 collectors over 2 minutes: 6 announced and 4 withdrawn prefixes, at most 8 per collector-minute"
    );
    let found: Vec<(&str, Vec<(&str, &str)>)> = result
        .findings
        .iter()
        .map(|f| {
            (
                f.kind.as_str(),
                f.fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            )
        })
        .collect();
    let expected: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "collector-rate",
            vec![
                ("announced", "0"),
                ("collector", "route-views2"),
                ("minutes", "1"),
                ("peak-minute", "60"),
                ("peak-updates", "1"),
                ("withdrawn", "1"),
            ],
        ),
        (
            "collector-rate",
            vec![
                ("announced", "6"),
                ("collector", "rrc00"),
                ("minutes", "2"),
                ("peak-minute", "0"),
                ("peak-updates", "8"),
                ("withdrawn", "3"),
            ],
        ),
        (
            "peer-minute",
            vec![
                ("announced", "4"),
                ("collector", "rrc00"),
                ("minute", "0"),
                ("peer", a),
                ("withdrawn", "2"),
            ],
        ),
        (
            "peer-minute",
            vec![
                ("announced", "1"),
                ("collector", "rrc00"),
                ("minute", "0"),
                ("peer", b),
                ("withdrawn", "1"),
            ],
        ),
        (
            "flapping-prefix",
            vec![
                ("flaps", "2"),
                ("peers", "2"),
                ("prefix", p),
                ("updates", "6"),
            ],
        ),
        (
            "flapping-prefix",
            vec![
                ("flaps", "1"),
                ("peers", "2"),
                ("prefix", q),
                ("updates", "4"),
            ],
        ),
    ];
    assert_eq!(found, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn periodic_runs_a_type_every_interval_as_its_children() {
    let h = Harness::start(&[guests::PERIODIC, guests::ORIGIN_STATS]).await;
    let s = h.session("s1").await;
    h.write(&s, vec![capture(100, 64500, "10.0.0.0/24")]).await;
    let granted = Grants {
        may_run_modules: true,
        ..grants(&[&s])
    };
    h.server
        .run_module(
            RunRequest::new("periodic", "every")
                .option("type", "origin-stats")
                .option("every", "1s")
                .option("options", format!("session={s}; top=1"))
                .option("runs", "3")
                .grants(granted),
        )
        .unwrap();
    eventually("three runs to finish", || {
        (1..=3).all(|n| {
            h.server
                .module_status(&format!("every/run-{n}"))
                .is_ok_and(|m| matches!(m.state, RunState::Finished(_)))
        })
    })
    .await;
    for n in 1..=3 {
        let run = h.server.module_status(&format!("every/run-{n}")).unwrap();
        let RunState::Finished(result) = &run.state else {
            unreachable!()
        };
        assert_eq!(result.message, "1 captures, 1 origin ASes");
        assert_eq!(run.type_name, "origin-stats");
    }
    // The runs start a second apart, and there are only three.
    let started = |n: u32| {
        h.server
            .module_status(&format!("every/run-{n}"))
            .unwrap()
            .started_at
    };
    let gap = started(2).duration_since(started(1)).unwrap();
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(3000)).contains(&gap),
        "{gap:?}"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        h.server.module_status("every/run-4").is_err(),
        "runs=3 is the last"
    );

    let closed = h.server.close_module("every").await.unwrap();
    assert_eq!(closed.state, RunState::Stopped);
    let logs: Vec<String> = h
        .server
        .module_logs("every")
        .unwrap()
        .into_iter()
        .map(|l| l.message)
        .collect();
    assert_eq!(
        logs,
        [
            "started run-1",
            "run-1 finished",
            "started run-2",
            "run-2 finished",
            "started run-3",
            "run-3 finished",
            "3 runs of origin-stats started: 3 finished, 0 failed, 0 turns skipped",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn periodic_needs_the_grant_and_well_formed_options() {
    let h = Harness::start(&[guests::PERIODIC, guests::ORIGIN_STATS]).await;
    let s = h.session("s1").await;
    let run = |id: &str, options: &str, granted: Grants| {
        RunRequest::new("periodic", id)
            .option("type", "origin-stats")
            .option("options", options)
            .grants(granted)
    };
    let status = h
        .run_to_end(run("ungranted", &format!("session={s}"), grants(&[&s])))
        .await;
    let reason = crate::util::failure(&status).to_string();
    assert!(
        reason.contains("cannot start origin-stats as run-1: denied: "),
        "{reason}"
    );
    let status = h
        .run_to_end(run(
            "malformed",
            "session",
            Grants {
                may_run_modules: true,
                ..grants(&[&s])
            },
        ))
        .await;
    let reason = crate::util::failure(&status).to_string();
    assert!(
        reason.contains("write NAME=VALUE pairs separated by ';'"),
        "{reason}"
    );
}
