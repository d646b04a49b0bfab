//! Dates on the command line: RFC 3339, plain dates and unix seconds, all
//! in UTC.

use chrono::DateTime;

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
        bgpmon_host::parse_time_us(s).map(Timestamp)
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
