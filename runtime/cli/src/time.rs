//! Dates on the command line: RFC 3339, plain dates and unix seconds, all
//! in UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A point in time, in microseconds since the unix epoch, parsed from
/// `2015-04-01T00:00:30Z` (RFC 3339), `2015-04-01T00:00:30` (UTC),
/// `2015-04-01` (midnight UTC) or `1427846430` (unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp(pub u64);

impl std::str::FromStr for Timestamp {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let micros = |t: DateTime<Utc>| {
            u64::try_from(t.timestamp_micros())
                .map_err(|_| format!("{s:?} is before 1970; give a later time"))
        };
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            let secs: u64 = s
                .parse()
                .map_err(|e| format!("{s:?} is not a unix time: {e}"))?;
            return secs
                .checked_mul(1_000_000)
                .map(Timestamp)
                .ok_or_else(|| format!("{s:?} is too far in the future"));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return micros(t.with_timezone(&Utc)).map(Timestamp);
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
            return micros(Utc.from_utc_datetime(&t)).map(Timestamp);
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            let t = d.and_hms_opt(0, 0, 0).ok_or("bad date")?;
            return micros(Utc.from_utc_datetime(&t)).map(Timestamp);
        }
        Err(format!(
            "{s:?} is not a time; use RFC 3339 (2015-04-01T00:00:30Z), a date (2015-04-01) or unix seconds (1427846430)"
        ))
    }
}

/// `timestamp_us` as RFC 3339 in UTC, with microseconds when not zero.
pub fn format_micros(timestamp_us: u64) -> String {
    let secs = i64::try_from(timestamp_us / 1_000_000).unwrap_or(i64::MAX);
    let micros = (timestamp_us % 1_000_000) as u32;
    match DateTime::from_timestamp(secs, micros * 1_000) {
        Some(t) if micros == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => timestamp_us.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> u64 {
        s.parse::<Timestamp>().unwrap().0
    }

    #[test]
    fn every_form_is_utc() {
        assert_eq!(parse("1427846430"), 1_427_846_430_000_000);
        assert_eq!(parse("2015-04-01"), 1_427_846_400_000_000);
        assert_eq!(parse("2015-04-01T00:00:30Z"), 1_427_846_430_000_000);
        assert_eq!(parse("2015-04-01T02:00:30+02:00"), 1_427_846_430_000_000);
        assert_eq!(parse("2015-04-01T00:00:30"), 1_427_846_430_000_000);
        assert_eq!(parse("2015-04-01T00:00:30.25Z"), 1_427_846_430_250_000);
    }

    #[test]
    fn bad_times_say_which_forms_work() {
        let e = "yesterday".parse::<Timestamp>().unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        assert!("1960-01-01".parse::<Timestamp>().is_err());
    }

    proptest! {
        #[test]
        fn formatted_times_parse_back(t in 0u64..4_000_000_000_000_000) {
            prop_assert_eq!(parse(&format_micros(t)), t);
        }
    }
}
