//! Events and counts written as findings: a kind, a summary and named
//! fields, in the shape `bgpmon findings` prints.

use crate::aspa::AspaState;
use crate::detector::Detector;
use crate::events::{Event, EventKind, Events};
use crate::rov::RovState;

/// How many peers an event's finding names; the count is always given.
/// Keeps a finding well under the host's 16 KiB cap.
pub const MAX_LISTED_PEERS: usize = 64;

/// One finding, ready for the SDK's `Finding::new`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// `hijack`, `rpki-invalid`, `aspa-invalid`, `rpki-summary` or
    /// `aspa-summary`.
    pub kind: &'static str,
    /// One line for people.
    pub summary: String,
    /// Named values, in a fixed order.
    pub fields: Vec<(String, String)>,
}

/// An event's finding. Its `event` field (`prefix AS type`) names the event,
/// so a reader that folds findings by it keeps the latest state.
pub fn event_report(event: &Event, events: &Events) -> Report {
    let key = &event.key;
    let type_name = key.kind.type_name();
    let mut collectors: Vec<&str> = event
        .peers
        .iter()
        .filter_map(|&p| events.peer_name(p).map(|(c, _)| c))
        .collect();
    collectors.sort_unstable();
    collectors.dedup();
    let peers: Vec<String> = event
        .peers
        .iter()
        .take(MAX_LISTED_PEERS)
        .filter_map(|&p| events.peer_name(p))
        .map(|(collector, peer)| format!("{collector}/{peer}"))
        .collect();
    let state = event.state().name();
    let blamed = match key.kind {
        EventKind::Hijack(_) => "hijacker",
        _ => "origin",
    };
    let mut fields = vec![
        (
            "event".to_owned(),
            format!("{} AS{} {type_name}", key.prefix, key.asn),
        ),
        ("type".to_owned(), type_name.clone()),
        ("prefix".to_owned(), key.prefix.to_string()),
        (blamed.to_owned(), key.asn.to_string()),
    ];
    if let Some(rule) = event.rule_prefix {
        fields.push(("owned-prefix".into(), rule.to_string()));
    }
    fields.extend([
        ("state".to_owned(), state.to_owned()),
        ("first-seen".to_owned(), rfc3339(event.first_seen_us)),
        ("last-seen".to_owned(), rfc3339(event.last_seen_us)),
        (
            "withdrawn-at".to_owned(),
            event.withdrawn_us.map(rfc3339).unwrap_or_default(),
        ),
        ("announcements".to_owned(), event.announcements.to_string()),
        ("peer-count".to_owned(), event.peers.len().to_string()),
        ("peers".to_owned(), peers.join(" ")),
        ("collectors".to_owned(), collectors.join(" ")),
    ]);
    let what = match key.kind {
        EventKind::Hijack(_) => format!("{type_name} hijack of {} by AS{}", key.prefix, key.asn),
        EventKind::RpkiInvalidOrigin | EventKind::RpkiInvalidLength => {
            format!("RPKI {type_name} {} from AS{}", key.prefix, key.asn)
        }
        EventKind::AspaInvalid => format!("ASPA-invalid path to {} from AS{}", key.prefix, key.asn),
    };
    Report {
        kind: key.kind.finding_kind(),
        summary: format!(
            "{what}: {state}, seen by {} peers at {} collectors from {} to {}",
            event.peers.len(),
            collectors.len(),
            rfc3339(event.first_seen_us),
            rfc3339(event.last_seen_us)
        ),
        fields,
    }
}

/// The RPKI and ASPA counts, as two findings.
pub fn count_reports(detector: &Detector) -> [Report; 2] {
    let c = detector.counts();
    let config = detector.config();
    let rov = [
        RovState::Valid,
        RovState::InvalidOrigin,
        RovState::InvalidLength,
        RovState::NotFound,
    ];
    let aspa = [AspaState::Valid, AspaState::Invalid, AspaState::Unknown];
    let mut rpki_fields = vec![
        ("vrps".to_owned(), config.vrps.len().to_string()),
        ("announcements".to_owned(), c.announcements.to_string()),
    ];
    rpki_fields.extend(
        rov.iter()
            .map(|&s| (s.name().to_owned(), c.rov(s).to_string())),
    );
    let mut aspa_fields = vec![
        ("aspas".to_owned(), config.aspas.len().to_string()),
        ("announcements".to_owned(), c.announcements.to_string()),
    ];
    aspa_fields.extend(
        aspa.iter()
            .map(|&s| (s.name().to_owned(), c.aspa(s).to_string())),
    );
    [
        Report {
            kind: "rpki-summary",
            summary: format!(
                "RPKI over {} announcements and {} VRPs: {} valid, {} invalid by origin, {} invalid by length, {} not found",
                c.announcements,
                config.vrps.len(),
                c.rov(RovState::Valid),
                c.rov(RovState::InvalidOrigin),
                c.rov(RovState::InvalidLength),
                c.rov(RovState::NotFound)
            ),
            fields: rpki_fields,
        },
        Report {
            kind: "aspa-summary",
            summary: format!(
                "ASPA over {} announcements and {} ASPAs: {} valid, {} invalid, {} unknown",
                c.announcements,
                config.aspas.len(),
                c.aspa(AspaState::Valid),
                c.aspa(AspaState::Invalid),
                c.aspa(AspaState::Unknown)
            ),
            fields: aspa_fields,
        },
    ]
}

/// `time_us` (µs since the epoch) as RFC 3339 UTC, to the second, or with
/// microseconds when it has them.
pub fn rfc3339(time_us: u64) -> String {
    let secs = time_us / 1_000_000;
    let micros = time_us % 1_000_000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if micros == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{micros:06}Z")
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_546_300_800_000_000), "2019-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
        assert_eq!(rfc3339(1_771_718_400_000_000), "2026-02-22T00:00:00Z");
    }
}
