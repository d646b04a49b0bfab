//! Dates on the command line: RFC 3339, plain dates and unix seconds, all
//! in UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A point in time, in microseconds since the unix epoch, parsed from
/// `2015-04-01T00:00:30Z` or `2015-04-01T00:00:30.25Z` (RFC 3339),
/// `2015-04-01T00:00:30` (UTC), `2015-04-01` (midnight UTC), or
/// `1427846430` or `1427846430.25` (unix seconds, with up to six digits
/// of fraction).
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
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        if digits(whole) && (fraction.is_empty() || digits(fraction)) && !s.ends_with('.') {
            if fraction.len() > 6 {
                return Err(format!(
                    "{s:?} is more precise than a microsecond; give at most six digits after the point"
                ));
            }
            let secs: u64 = whole
                .parse()
                .map_err(|e| format!("{s:?} is not a unix time: {e}"))?;
            // Six digits of fraction are the microseconds: "25" is 250000.
            let micros: u64 = format!("{fraction:0<6}").parse().unwrap_or(0);
            return secs
                .checked_mul(1_000_000)
                .and_then(|us| us.checked_add(micros))
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
            "{s:?} is not a time; use RFC 3339 (2015-04-01T00:00:30Z, 2015-04-01T00:00:30.25Z), a date (2015-04-01) or unix seconds (1427846430, 1427846430.25)"
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
    fn fractions_of_a_second_are_kept_to_the_microsecond() {
        assert_eq!(parse("1427846847.25"), 1_427_846_847_250_000);
        assert_eq!(parse("1427846847.000001"), 1_427_846_847_000_001);
        assert_eq!(parse("1427846847.0"), 1_427_846_847_000_000);
        assert_eq!(parse("0.5"), 500_000);
        assert_eq!(parse("2015-04-01T00:00:47.123456Z"), 1_427_846_447_123_456);
        assert_eq!(parse("2015-04-01T02:00:47.5+02:00"), 1_427_846_447_500_000);
        assert_eq!(parse("2015-04-01T00:00:47.75"), 1_427_846_447_750_000);
        let e = "1427846847.1234567".parse::<Timestamp>().unwrap_err();
        assert!(e.contains("more precise than a microsecond"), "{e}");
        for bad in ["1427846847.", ".25", "1.2.3", "1427846847.x"] {
            assert!(bad.parse::<Timestamp>().is_err(), "{bad}");
        }
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
