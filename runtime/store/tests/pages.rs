//! Paging a capture scan to its end, checking every page keeps its limits.

use bgpmon_store::{Backend, Capture, CaptureFilter, DatasetId, ScanLimits, ScanPosition};

/// Scans `dataset` from `position` to the end, page by page, and returns
/// the captures of every page in order.
///
/// Panics if a page returns more captures or examines more rows than
/// `limits` allow, or if a page that is not the last examines nothing (the
/// scan would never end).
pub(crate) fn scan_all(
    backend: &dyn Backend,
    dataset: DatasetId,
    mut position: ScanPosition,
    filter: &CaptureFilter,
    limits: ScanLimits,
) -> Vec<Capture> {
    let mut captures = Vec::new();
    loop {
        let page = backend
            .scan_captures(dataset, position, filter, limits)
            .unwrap();
        assert!(
            page.captures.len() <= limits.items,
            "{} captures in a page of {limits:?}",
            page.captures.len()
        );
        assert!(
            page.examined <= limits.rows,
            "{} rows examined in a page of {limits:?}",
            page.examined
        );
        captures.extend(page.captures);
        if page.exhausted {
            return captures;
        }
        assert!(
            page.examined > 0,
            "a page that is not the last examined nothing at {position:?}"
        );
        position = page.next;
    }
}
