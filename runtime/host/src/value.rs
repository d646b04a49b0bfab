//! Option values of each [`OptionType`]: what a person may type, and the
//! canonical text a module receives.
//!
//! The host parses every typed option before a run starts, so a bad value
//! is refused naming the option, and hands the module one spelling of each
//! value, so a guest never parses the forms people type.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ipnet::IpNet;

use crate::info::OptionType;

/// Parses `text` as a value of `value_type` and returns its canonical text.
///
/// Returns an error saying what the value should look like.
pub fn canonical_value(value_type: OptionType, text: &str) -> Result<String, String> {
    match value_type {
        OptionType::String => Ok(text.to_owned()),
        OptionType::Integer => text
            .trim()
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| {
                format!("{text:?} is not an integer; give a whole number such as 42 or -3")
            }),
        OptionType::Boolean => parse_bool(text).map(|b| b.to_string()),
        OptionType::Asn => parse_asn(text).map(|asn| asn.to_string()),
        OptionType::Prefix => parse_prefix(text).map(|p| p.to_string()),
        OptionType::Time => parse_time_us(text).map(|us| us.to_string()),
        OptionType::Duration => parse_duration_ms(text).map(|ms| ms.to_string()),
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("{text:?} is not a boolean; give true or false")),
    }
}

fn parse_asn(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let digits = t
        .strip_prefix("AS")
        .or_else(|| t.strip_prefix("as"))
        .unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{text:?} is not an AS number; give one such as 3356 or AS3356"
        ));
    }
    digits
        .parse()
        .map_err(|_| format!("{text:?} is over the largest AS number, 4294967295"))
}

fn parse_prefix(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    let prefix: IpNet = t.parse().map_err(|_| {
        if t.parse::<IpAddr>().is_ok() {
            format!("{text:?} is an address, not a prefix; add its length, as in {t}/32 or {t}/128")
        } else {
            format!("{text:?} is not a prefix; give one such as 192.0.2.0/24 or 2001:db8::/32")
        }
    })?;
    if prefix.trunc() != prefix {
        return Err(format!(
            "{text:?} has host bits set; give the network, {}",
            prefix.trunc()
        ));
    }
    Ok(prefix)
}

/// Parses a moment in UTC and returns it in microseconds since the unix
/// epoch: `2015-04-01T00:00:30Z` or `2015-04-01T00:00:30.25Z` (RFC 3339),
/// `2015-04-01T00:00:30` (UTC), `2015-04-01` (midnight UTC), or
/// `1427846430` or `1427846430.25` (unix seconds, with up to six digits
/// of fraction).
///
/// Returns an error naming the forms it takes.
pub fn parse_time_us(text: &str) -> Result<u64, String> {
    let s = text.trim();
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
            .ok_or_else(|| format!("{s:?} is too far in the future"));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return micros(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return micros(Utc.from_utc_datetime(&t));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).ok_or("bad date")?;
        return micros(Utc.from_utc_datetime(&t));
    }
    Err(format!(
        "{s:?} is not a time; use RFC 3339 (2015-04-01T00:00:30Z, 2015-04-01T00:00:30.25Z), a date (2015-04-01) or unix seconds (1427846430, 1427846430.25)"
    ))
}

/// Parses a length of time, one or more integers each with a unit (`ms`,
/// `s`, `m`, `h`, `d`), such as `250ms`, `90s` or `1h30m`, and returns it
/// in milliseconds.
///
/// Returns an error naming the units it takes.
pub fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "{text:?} is not a duration; give whole numbers with units ms, s, m, h or d, such as 250ms, 90s or 1h30m"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let scale: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total = number
            .checked_mul(scale)
            .and_then(|ms| total.checked_add(ms))
            .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(t: OptionType, text: &str) -> String {
        canonical_value(t, text).unwrap()
    }

    fn err(t: OptionType, text: &str) -> String {
        canonical_value(t, text).unwrap_err()
    }

    #[test]
    fn each_type_has_one_canonical_spelling() {
        assert_eq!(ok(OptionType::String, " as is "), " as is ");
        assert_eq!(ok(OptionType::Integer, "+42"), "42");
        assert_eq!(ok(OptionType::Integer, "-3"), "-3");
        assert_eq!(ok(OptionType::Boolean, "Yes"), "true");
        assert_eq!(ok(OptionType::Boolean, "0"), "false");
        assert_eq!(ok(OptionType::Asn, "AS3356"), "3356");
        assert_eq!(ok(OptionType::Asn, "4294967295"), "4294967295");
        assert_eq!(ok(OptionType::Prefix, "2001:0db8:0::/32"), "2001:db8::/32");
        assert_eq!(
            ok(OptionType::Time, "2019-01-01T00:00:00Z"),
            "1546300800000000"
        );
        assert_eq!(ok(OptionType::Time, "1546300800.5"), "1546300800500000");
        assert_eq!(ok(OptionType::Duration, "1h30m"), "5400000");
        assert_eq!(ok(OptionType::Duration, "250ms"), "250");
        assert_eq!(ok(OptionType::Duration, "2d"), "172800000");
    }

    #[test]
    fn a_bad_value_says_what_to_give() {
        assert!(err(OptionType::Integer, "1.5").contains("not an integer"));
        assert!(err(OptionType::Integer, "9223372036854775808").contains("not an integer"));
        assert!(err(OptionType::Boolean, "maybe").contains("give true or false"));
        assert!(err(OptionType::Asn, "AS").contains("not an AS number"));
        assert!(err(OptionType::Asn, "-1").contains("not an AS number"));
        assert!(err(OptionType::Asn, "4294967296").contains("largest AS number"));
        assert!(err(OptionType::Prefix, "10.0.0.1").contains("add its length"));
        assert!(err(OptionType::Prefix, "10.0.0.1/8").contains("give the network, 10.0.0.0/8"));
        assert!(err(OptionType::Prefix, "10.0.0.0/33").contains("not a prefix"));
        assert!(err(OptionType::Time, "yesterday").contains("not a time"));
        assert!(err(OptionType::Time, "1969-12-31").contains("before 1970"));
        assert!(err(OptionType::Duration, "5").contains("not a duration"));
        assert!(err(OptionType::Duration, "5 minutes").contains("not a duration"));
        assert!(err(OptionType::Duration, "1.5h").contains("not a duration"));
        assert!(err(OptionType::Duration, "999999999999999999d").contains("too long"));
    }
}
