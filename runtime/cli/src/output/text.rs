//! Text forms of addresses, prefixes, paths and communities, shared by
//! every format.

use bgpmon_proto::{ip_from_bytes, prefix_from_proto, v1};

/// An address as text; empty when absent or malformed.
pub fn ip_text(bytes: &[u8]) -> String {
    match ip_from_bytes(bytes) {
        Ok(Some(ip)) => ip.to_string(),
        _ => String::new(),
    }
}

/// A prefix as text; `?` when malformed.
pub fn prefix_text(prefix: &v1::Prefix) -> String {
    prefix_from_proto(prefix).map_or_else(|_| "?".into(), |p| p.to_string())
}

/// An AS path as bgpkit-parser writes it: sequences space-separated, sets
/// in braces, confederation sequences in parentheses and sets in brackets.
pub fn as_path_text(path: &[v1::PathSegment]) -> String {
    let join = |asns: &[u32], sep: &str| {
        asns.iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    };
    path.iter()
        .map(|s| match v1::SegmentKind::try_from(s.kind) {
            Ok(v1::SegmentKind::Set) => format!("{{{}}}", join(&s.asns, ",")),
            Ok(v1::SegmentKind::ConfedSequence) => format!("({})", join(&s.asns, " ")),
            Ok(v1::SegmentKind::ConfedSet) => format!("[{}]", join(&s.asns, ",")),
            _ => join(&s.asns, " "),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A community as `AS:VALUE`, or `GLOBAL:LOCAL1:LOCAL2` for a large one.
pub fn community_text(c: &v1::Community) -> String {
    match &c.value {
        Some(v1::community::Value::Standard(s)) => format!("{}:{}", s.asn, s.value),
        Some(v1::community::Value::Large(l)) => format!("{}:{}:{}", l.global, l.local1, l.local2),
        None => String::new(),
    }
}

/// The ORIGIN attribute as `IGP`, `EGP` or `INCOMPLETE`; empty when absent.
pub fn origin_text(origin: i32) -> &'static str {
    match v1::OriginAttribute::try_from(origin) {
        Ok(v1::OriginAttribute::Igp) => "IGP",
        Ok(v1::OriginAttribute::Egp) => "EGP",
        Ok(v1::OriginAttribute::Incomplete) => "INCOMPLETE",
        _ => "",
    }
}

/// Seconds since the epoch as bgpkit-parser prints them: whole seconds, or
/// with the microseconds when there are any.
pub fn seconds_text(timestamp_us: u64) -> String {
    let (secs, micros) = (timestamp_us / 1_000_000, timestamp_us % 1_000_000);
    if micros == 0 {
        secs.to_string()
    } else {
        format!("{secs}.{micros:06}")
            .trim_end_matches('0')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(kind: v1::SegmentKind, asns: &[u32]) -> v1::PathSegment {
        v1::PathSegment {
            kind: kind.into(),
            asns: asns.to_vec(),
        }
    }

    #[test]
    fn paths_keep_sets_distinguishable() {
        let path = [
            seg(v1::SegmentKind::Sequence, &[1, 2]),
            seg(v1::SegmentKind::Set, &[3, 4]),
        ];
        assert_eq!(as_path_text(&path), "1 2 {3,4}");
        let confed = [
            seg(v1::SegmentKind::ConfedSequence, &[5, 6]),
            seg(v1::SegmentKind::Sequence, &[7]),
        ];
        assert_eq!(as_path_text(&confed), "(5 6) 7");
    }

    #[test]
    fn seconds_keep_microseconds() {
        assert_eq!(seconds_text(1_427_846_874_000_000), "1427846874");
        assert_eq!(seconds_text(1_771_774_200_123_450), "1771774200.12345");
    }
}
