//! Findings on a real redb file, checked against the in-memory model:
//! numbering per session, filters, paging within the scan caps, isolation
//! between sessions, durability across a reopen, and deletion with the
//! session.

use bgpmon_store::{
    Backend, FindingFilter, MAX_SCAN_ROWS, NewFinding, RedbBackend, StoreError, StoredFinding,
};

use crate::memory_backend::MemoryBackend;

fn finding(i: usize) -> NewFinding {
    NewFinding {
        time_us: 1_000 + i as u64,
        module_id: format!("m{}", i % 3),
        module_type: if i.is_multiple_of(2) {
            "hijack"
        } else {
            "churn"
        }
        .into(),
        kind: format!("k{}", i % 5),
        summary: format!("finding {i}"),
        fields: vec![
            ("n".into(), i.to_string()),
            ("prefix".into(), "10.0.0.0/8".into()),
        ],
    }
}

/// Every finding after `after` that passes `filter`, page by page.
fn read_all(
    backend: &dyn Backend,
    ds: bgpmon_store::DatasetId,
    filter: &FindingFilter,
    max: usize,
) -> Vec<StoredFinding> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = backend.scan_findings(ds, after, filter, max).unwrap();
        assert!(
            page.findings.len() <= max.max(1),
            "a page holds at most max_items"
        );
        assert!(page.last_examined >= after);
        out.extend(page.findings);
        if page.exhausted {
            return out;
        }
        assert!(page.last_examined > after, "an unfinished page moves on");
        after = page.last_examined;
    }
}

#[test]
fn findings_are_numbered_filtered_and_paged_as_the_model_does() {
    let dir = tempfile::tempdir().unwrap();
    let redb = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
    let model = MemoryBackend::new();
    let backends: [&dyn Backend; 2] = [&redb, &model];
    let batches = [1usize, 7, 0, 40, 3];
    for backend in backends {
        let a = backend.open_dataset("a", true).unwrap().unwrap().dataset;
        let b = backend.open_dataset("b", true).unwrap().unwrap().dataset;
        let mut sent = 0;
        for size in batches {
            let batch: Vec<NewFinding> = (sent..sent + size).map(finding).collect();
            sent += size;
            assert_eq!(backend.append_findings(a, &batch).unwrap(), sent as u64);
        }
        backend.append_findings(b, &[finding(99)]).unwrap();
        assert_eq!(backend.count_findings(a).unwrap(), sent as u64);
        assert_eq!(backend.count_findings(b).unwrap(), 1);
    }
    let a_of = |b: &dyn Backend| b.open_dataset("a", false).unwrap().unwrap().dataset;
    let filters = [
        FindingFilter::default(),
        FindingFilter {
            module_id: Some("m1".into()),
            ..FindingFilter::default()
        },
        FindingFilter {
            kind: Some("k4".into()),
            module_type: Some("hijack".into()),
            ..FindingFilter::default()
        },
        FindingFilter {
            kind: Some("none".into()),
            ..FindingFilter::default()
        },
    ];
    for filter in &filters {
        for max in [1, 4, 1_000] {
            let got = read_all(&redb, a_of(&redb), filter, max);
            let want = read_all(&model, a_of(&model), filter, max);
            assert_eq!(got, want, "filter {filter:?}, max {max}");
        }
    }
    // Told apart from the model: the numbers are 1..=51 in report order,
    // and session b's finding is not among a's.
    let all = read_all(&redb, a_of(&redb), &FindingFilter::default(), 10);
    assert_eq!(
        all.iter().map(|f| f.seq).collect::<Vec<_>>(),
        (1..=51).collect::<Vec<_>>()
    );
    assert!(all.iter().all(|f| f.finding.summary != "finding 99"));
    assert_eq!(all[50].finding, finding(50));
    let m1 = read_all(&redb, a_of(&redb), &filters[1], 10);
    assert_eq!(m1.len(), (0..51).filter(|i| i % 3 == 1).count());
}

#[test]
fn findings_survive_a_reopen_and_go_with_their_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bgp.redb");
    let batch: Vec<NewFinding> = (0..5).map(finding).collect();
    let old = {
        let backend = RedbBackend::open(&path).unwrap();
        let ds = backend.open_dataset("s", true).unwrap().unwrap().dataset;
        backend.append_findings(ds, &batch).unwrap();
        ds
    };
    let backend = RedbBackend::open(&path).unwrap();
    let ds = backend.open_dataset("s", false).unwrap().unwrap().dataset;
    let page = backend
        .scan_findings(ds, 0, &FindingFilter::default(), 100)
        .unwrap();
    assert_eq!(
        page.findings.iter().map(|f| &f.finding).collect::<Vec<_>>(),
        batch.iter().collect::<Vec<_>>()
    );
    // Numbering goes on from the stored findings.
    assert_eq!(backend.append_findings(ds, &[finding(5)]).unwrap(), 6);

    backend.delete_dataset(ds).unwrap();
    assert!(matches!(
        backend.scan_findings(old, 0, &FindingFilter::default(), 100),
        Err(StoreError::UnknownDataset { .. })
    ));
    let again = backend.open_dataset("s", true).unwrap().unwrap().dataset;
    assert_ne!(again, old);
    assert_eq!(backend.count_findings(again).unwrap(), 0);
    assert!(matches!(
        backend.append_findings(old, &batch),
        Err(StoreError::UnknownDataset { .. })
    ));
}

#[test]
fn a_scan_stops_at_the_row_cap_when_nothing_matches() {
    let dir = tempfile::tempdir().unwrap();
    let backend = RedbBackend::open(dir.path().join("bgp.redb")).unwrap();
    let ds = backend.open_dataset("s", true).unwrap().unwrap().dataset;
    let many: Vec<NewFinding> = (0..MAX_SCAN_ROWS + 10).map(finding).collect();
    backend.append_findings(ds, &many).unwrap();
    let none = FindingFilter {
        kind: Some("absent".into()),
        ..FindingFilter::default()
    };
    let first = backend.scan_findings(ds, 0, &none, 100).unwrap();
    assert!(first.findings.is_empty());
    assert!(!first.exhausted);
    assert_eq!(first.last_examined, MAX_SCAN_ROWS as u64);
    let second = backend
        .scan_findings(ds, first.last_examined, &none, 100)
        .unwrap();
    assert!(second.exhausted);
    assert_eq!(second.last_examined, (MAX_SCAN_ROWS + 10) as u64);
}
