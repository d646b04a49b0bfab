//! WIT 0.2.0 beside 0.1.0: findings stored as modules report them, their
//! caps, typed options checked before a run, and a module built against
//! 0.1.0 running unchanged.

use std::collections::BTreeMap;
use std::time::Duration;

use bgpmon_host::{
    FailureReason, Grants, MAX_FINDING_BYTES, MAX_FINDING_FIELDS, MAX_FINDING_KIND_BYTES,
    ModuleLimits, RunRequest, RunState, WitVersion,
};
use bgpmon_server::ServerError;
use bgpmon_store::{FindingFilter, StoredFinding};
use bgpmon_test_modules as guests;

use crate::util::{Harness, capture, failure, grants};

/// Every finding of session `id` that passes `filter`, page by page.
pub(crate) async fn findings(h: &Harness, id: &str, filter: FindingFilter) -> Vec<StoredFinding> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = h
            .server
            .findings(id, after, filter.clone(), 7)
            .await
            .unwrap();
        out.extend(page.findings);
        if page.exhausted {
            return out;
        }
        after = page.last_examined;
    }
}

fn reporter(id: &str, session: &str) -> RunRequest {
    RunRequest::new("finding-reporter", id)
        .option("session", session)
        .grants(grants(&[session]))
}

fn message(state: &RunState) -> &str {
    match state {
        RunState::Finished(result) => &result.message,
        other => panic!("the run did not finish: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn findings_are_stored_in_their_session_as_they_are_reported() {
    let h = Harness::start(&[guests::FINDING_REPORTER]).await;
    let s = h.session("s1").await;
    let other = h.session("s2").await;
    let status = h
        .run_to_end(
            reporter("rep", &s)
                .option("count", "25")
                .option("batch", "10")
                .option("fields", "3"),
        )
        .await;
    assert_eq!(message(&status.state), "stored 25");
    assert_eq!(status.counters.findings, 25);

    let stored = findings(&h, &s, FindingFilter::default()).await;
    assert_eq!(stored.len(), 25);
    for (i, f) in stored.iter().enumerate() {
        assert_eq!(f.seq, i as u64 + 1);
        assert_eq!(f.finding.module_id, "rep");
        assert_eq!(f.finding.module_type, "finding-reporter");
        assert_eq!(f.finding.kind, "numbered");
        assert_eq!(f.finding.summary, format!("finding {i}"));
        assert_eq!(
            f.finding.fields,
            vec![
                ("n".to_owned(), i.to_string()),
                ("field-1".to_owned(), i.to_string()),
                ("field-2".to_owned(), (2 * i).to_string()),
            ]
        );
        assert!(f.finding.time_us > 1_700_000_000_000_000, "stamped now");
    }
    assert!(
        findings(&h, &other, FindingFilter::default())
            .await
            .is_empty()
    );

    // A second run of another kind; the filters tell them apart.
    h.run_to_end(
        reporter("rep2", &s)
            .option("count", "3")
            .option("kind", "other"),
    )
    .await;
    let by_kind = FindingFilter {
        kind: Some("other".into()),
        ..FindingFilter::default()
    };
    let others = findings(&h, &s, by_kind).await;
    assert_eq!(
        others.iter().map(|f| f.seq).collect::<Vec<_>>(),
        [26, 27, 28]
    );
    let by_module = FindingFilter {
        module_id: Some("rep".into()),
        ..FindingFilter::default()
    };
    assert_eq!(findings(&h, &s, by_module).await.len(), 25);

    // A read-only grant is enough to report.
    let read_only = Grants {
        read_sessions: vec![other.clone()],
        ..Grants::default()
    };
    let status = h
        .run_to_end(
            reporter("ro", &other)
                .grants(read_only)
                .option("count", "2"),
        )
        .await;
    assert_eq!(message(&status.state), "stored 2");

    // Findings are durable: a restarted daemon serves them.
    let h = h.restart().await;
    assert_eq!(findings(&h, &s, FindingFilter::default()).await.len(), 28);
    h.server.delete_session(&other).await.unwrap();
    assert!(matches!(
        h.server
            .findings(&other, 0, FindingFilter::default(), 10)
            .await,
        Err(ServerError::UnknownSession { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn every_cap_on_findings_is_reached_and_refuses_whole_reports() {
    let h = Harness::start(&[guests::FINDING_REPORTER]).await;
    let s = h.session("s1").await;
    let stop = |r: RunRequest| r.option("on-error", "stop");

    // max_findings: the report that would pass it is refused whole.
    let capped = ModuleLimits {
        max_findings: 12,
        ..ModuleLimits::default()
    };
    let status = h
        .run_to_end(
            stop(reporter("count", &s))
                .option("count", "25")
                .option("batch", "5")
                .limits(capped),
        )
        .await;
    let text = message(&status.state);
    assert!(
        text.starts_with("stored 10; refused: limit reached: the run has reported 10 findings and may report 12 in all (max_findings)"),
        "{text}"
    );
    assert_eq!(status.counters.findings, 10);

    // One finding over the byte cap, or over the field cap, or without a kind.
    let oversized = (MAX_FINDING_BYTES + 1).to_string();
    let status = h
        .run_to_end(
            stop(reporter("bytes", &s))
                .option("count", "3")
                .option("summary-bytes", &oversized),
        )
        .await;
    let text = message(&status.state);
    assert!(
        text.contains("refused: invalid argument: finding 0 (kind \"numbered\") takes"),
        "{text}"
    );
    assert!(text.contains("(MAX_FINDING_BYTES)"), "{text}");
    let fields = (MAX_FINDING_FIELDS + 1).to_string();
    let status = h
        .run_to_end(
            stop(reporter("fields", &s))
                .option("count", "1")
                .option("fields", &fields),
        )
        .await;
    assert!(
        message(&status.state).contains("(MAX_FINDING_FIELDS)"),
        "{:?}",
        status.state
    );
    let status = h
        .run_to_end(
            stop(reporter("nokind", &s))
                .option("count", "1")
                .option("kind", ""),
        )
        .await;
    assert!(
        message(&status.state).contains("has an empty kind"),
        "{:?}",
        status.state
    );

    let long_kind = "k".repeat(MAX_FINDING_KIND_BYTES + 1);
    let status = h
        .run_to_end(
            stop(reporter("longkind", &s))
                .option("count", "1")
                .option("kind", &long_kind),
        )
        .await;
    assert!(
        message(&status.state).contains("(MAX_FINDING_KIND_BYTES)"),
        "{:?}",
        status.state
    );

    // A report over the run's max_batch.
    let small = ModuleLimits {
        max_batch: 5,
        ..ModuleLimits::default()
    };
    let status = h
        .run_to_end(
            stop(reporter("batch", &s))
                .option("count", "6")
                .option("batch", "6")
                .limits(small),
        )
        .await;
    assert!(
        message(&status.state).contains("over the run's max_batch of 5"),
        "{:?}",
        status.state
    );

    // None of the refused reports stored anything.
    let stored = findings(&h, &s, FindingFilter::default()).await;
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|f| f.finding.module_id == "count"));

    // Without `on-error=stop` the module's error fails the run, naming it.
    let status = h.run_to_end(reporter("fails", &s).option("kind", "")).await;
    let FailureReason::Error(text) = failure(&status) else {
        panic!("{:?}", status.state);
    };
    assert!(
        text.contains("report after 0 stored: invalid argument"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_module_over_its_findings_rate_is_paused_not_refused() {
    let h = Harness::start(&[guests::FINDING_REPORTER]).await;
    let s = h.session("s1").await;
    let slow = ModuleLimits {
        findings_per_second: 20,
        ..ModuleLimits::default()
    };
    // A second's burst (20) passes at once; the next 20 take a second.
    let status = h
        .run_to_end(
            reporter("rate", &s)
                .option("count", "40")
                .option("batch", "10")
                .limits(slow),
        )
        .await;
    assert_eq!(message(&status.state), "stored 40");
    assert!(
        status.counters.paused >= Duration::from_millis(900),
        "paused {:?}",
        status.counters.paused
    );
    assert_eq!(findings(&h, &s, FindingFilter::default()).await.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn a_module_built_against_wit_0_1_0_runs_unchanged() {
    let h = Harness::start(&[guests::ORIGINS_V010, guests::ORIGIN_STATS]).await;
    let s = h.session("s1").await;
    let written = vec![
        capture(100, 64500, "10.0.0.0/24"),
        capture(101, 64501, "10.0.1.0/24"),
        capture(102, 64500, "10.0.2.0/24"),
        capture(103, 64502, "2001:db8::/32"),
        capture(104, 64500, "10.0.3.0/24"),
    ];
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for c in &written {
        let n: u64 = want
            .get(&c.origin_as.unwrap().to_string())
            .map_or(0, |v| v.parse().unwrap());
        want.insert(c.origin_as.unwrap().to_string(), (n + 1).to_string());
    }
    h.write(&s, written).await;

    let versions: BTreeMap<String, WitVersion> = h
        .server
        .list_module_types()
        .into_iter()
        .map(|t| (t.info.type_name, t.wit_version))
        .collect();
    assert_eq!(versions["origins-v010"], WitVersion::V0_1);
    assert_eq!(versions["origin-stats"], WitVersion::V0_2);

    let status = h
        .run_to_end(
            RunRequest::new("origins-v010", "old")
                .option("session", &s)
                .grants(grants(&[&s])),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("{:?}", status.state);
    };
    assert_eq!(result.message, "5 captures, 3 origin ASes");
    let got: BTreeMap<String, String> = result
        .findings
        .iter()
        .map(|f| (f.fields["origin"].clone(), f.fields["captures"].clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(status.counters.records_read, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
pub(crate) async fn typed_options_are_checked_before_a_run_and_arrive_canonical() {
    let h = Harness::start(&[guests::ORIGIN_STATS]).await;
    let s = h.session("s1").await;
    h.write(
        &s,
        vec![
            capture(100, 64500, "10.0.0.0/24"),
            capture(101, 64501, "10.0.1.0/24"),
            capture(1_546_300_800, 64500, "10.0.2.0/24"),
        ],
    )
    .await;
    let run = |id: &str| {
        RunRequest::new("origin-stats", id)
            .option("session", &s)
            .grants(grants(&[&s]))
    };
    let err = h
        .server
        .run_module(
            run("bad")
                .option("origin", "ASX")
                .option("top", "many")
                .option("start", "soon"),
        )
        .unwrap_err()
        .to_string();
    for needle in [
        "option \"origin\" is of type asn: \"ASX\" is not an AS number",
        "option \"top\" is of type integer",
        "option \"start\" is of type time",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(
        h.server
            .list_running_modules()
            .iter()
            .all(|m| m.id != "bad"),
        "nothing started"
    );
    let err = h
        .server
        .run_module(run("host-bits").option("prefix", "10.0.0.1/8"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("give the network, 10.0.0.0/8"), "{err}");

    // `AS64500` and an RFC 3339 end reach the module as 64500 and
    // microseconds: of AS64500's captures, only the one before 2019 counts.
    let status = h
        .run_to_end(
            run("good")
                .option("origin", "AS64500")
                .option("end", "2019-01-01T00:00:00Z"),
        )
        .await;
    let RunState::Finished(result) = &status.state else {
        panic!("{:?}", status.state);
    };
    assert_eq!(result.message, "1 captures, 1 origin ASes");
}
