//! Pipe-separated lines, one per prefix element, as bgpkit-parser 0.23
//! writes its elements (`BgpElem::to_psv`), after the same header line:
//! `type|timestamp|peer_ip|peer_asn|prefix|as_path|origin_asns|origin|next_hop|local_pref|med|communities|atomic|aggr_asn|aggr_ip|only_to_customer`.
//!
//! `type` is `A` for an announcement (RIB entries included) and `W` for a
//! withdrawal, whose attribute fields stay empty. `atomic` is `true` or
//! `false` (a withdrawal's is `false`); the well-known communities are
//! named as bgpkit-parser names them (`no-export`, `no-advertise`,
//! `no-export-sub-confed`). `only_to_customer` (RFC 9234) is not stored, so
//! it is always empty.

use std::io::{self, Write};

use bgpmon_proto::{prefix_from_proto, v1};

use crate::filter::ElementFilter;

use super::text::{as_path_text, community_text, ip_text, origin_text, prefix_text, seconds_text};

/// bgpkit-parser's PSV header line.
pub(super) const CAPTURE_HEADER: &str = "type|timestamp|peer_ip|peer_asn|prefix|as_path|origin_asns|origin|next_hop|local_pref|med|communities|atomic|aggr_asn|aggr_ip|only_to_customer";

/// The RFC 1997 well-known communities as bgpkit-parser names them.
const WELL_KNOWN: [((u32, u32), &str); 3] = [
    ((0xFFFF, 0xFF01), "no-export"),
    ((0xFFFF, 0xFF02), "no-advertise"),
    ((0xFFFF, 0xFF03), "no-export-sub-confed"),
];

/// A community as bgpkit-parser prints it.
fn community_psv(c: &v1::Community) -> String {
    if let Some(v1::community::Value::Standard(s)) = &c.value
        && let Some((_, name)) = WELL_KNOWN.iter().find(|(v, _)| *v == (s.asn, s.value))
    {
        return (*name).to_owned();
    }
    community_text(c)
}

/// Writes the header line of capture elements.
///
/// Returns an error if writing fails.
pub(super) fn capture_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{CAPTURE_HEADER}")
}

/// The origin ASes of a path: the last AS of a final sequence, or every AS
/// of a final set.
fn origin_asns(capture: &v1::Capture) -> String {
    match capture.as_path.last() {
        Some(s) if s.kind == i32::from(v1::SegmentKind::Set) => s
            .asns
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        _ => capture.origin_as.map(|a| a.to_string()).unwrap_or_default(),
    }
}

fn opt(v: Option<u32>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes one line per advertised and withdrawn prefix of `capture` that
/// `elements` keeps.
pub(super) fn write_capture(
    out: &mut impl Write,
    capture: &v1::Capture,
    elements: &ElementFilter,
) -> io::Result<()> {
    let keep = |p: &v1::Prefix, withdrawn| {
        prefix_from_proto(p).map_or(true, |net| elements.keeps(&net, withdrawn))
    };
    let time = seconds_text(capture.timestamp_us);
    let peer = ip_text(&capture.peer_ip);
    if !capture.advertised.is_empty() {
        let path = as_path_text(&capture.as_path);
        let origins = origin_asns(capture);
        let communities = capture
            .communities
            .iter()
            .map(community_psv)
            .collect::<Vec<_>>()
            .join(" ");
        let atomic = capture.atomic_aggregate;
        let (aggr_asn, aggr_ip) = capture
            .aggregator
            .as_ref()
            .map(|a| (a.asn.to_string(), ip_text(&a.address)))
            .unwrap_or_default();
        for prefix in capture.advertised.iter().filter(|p| keep(p, false)) {
            writeln!(
                out,
                "A|{time}|{peer}|{}|{}|{path}|{origins}|{}|{}|{}|{}|{communities}|{atomic}|{aggr_asn}|{aggr_ip}|",
                capture.peer_as,
                prefix_text(prefix),
                origin_text(capture.origin),
                ip_text(&capture.next_hop),
                opt(capture.local_pref),
                opt(capture.med),
            )?;
        }
    }
    for prefix in capture.withdrawn.iter().filter(|p| keep(p, true)) {
        writeln!(
            out,
            "W|{time}|{peer}|{}|{}||||||||false|||",
            capture.peer_as,
            prefix_text(prefix)
        )?;
    }
    Ok(())
}

/// Writes one prefix event as `type|timestamp|collector|peer_asn|prefix|origin_asn`.
pub(super) fn write_prefix(out: &mut impl Write, e: &v1::PrefixEvent) -> io::Result<()> {
    writeln!(
        out,
        "{}|{}|{}|{}|{}|{}",
        if e.withdrawn { "W" } else { "A" },
        seconds_text(e.timestamp_us),
        e.collector,
        e.peer_as,
        e.prefix.as_ref().map(prefix_text).unwrap_or_default(),
        opt(e.origin_as)
    )
}

/// Writes one `name|prefix|max_length|origin_ases` line per owned prefix.
pub(super) fn write_entity(out: &mut impl Write, e: &v1::Entity) -> io::Result<()> {
    let origins = e
        .origin_ases
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    for p in &e.prefixes {
        writeln!(
            out,
            "{}|{}|{}|{origins}",
            e.name,
            p.prefix.as_ref().map(prefix_text).unwrap_or_default(),
            p.max_length
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgpmon_proto::{ip_to_bytes, prefix_to_proto};

    #[test]
    fn one_line_per_element_in_bgpkit_order() {
        let capture = v1::Capture {
            timestamp_us: 1_427_846_874_000_000,
            peer_ip: ip_to_bytes("196.223.14.46".parse().unwrap()),
            peer_as: 37105,
            as_path: vec![v1::PathSegment {
                kind: v1::SegmentKind::Sequence.into(),
                asns: vec![37105, 37549],
            }],
            origin_as: Some(37549),
            next_hop: ip_to_bytes("196.223.14.84".parse().unwrap()),
            advertised: vec![prefix_to_proto(&"154.73.136.0/24".parse().unwrap())],
            withdrawn: vec![prefix_to_proto(&"10.0.0.0/8".parse().unwrap())],
            communities: vec![v1::Community {
                value: Some(v1::community::Value::Standard(v1::StandardCommunity {
                    asn: 37105,
                    value: 300,
                })),
            }],
            origin: v1::OriginAttribute::Igp.into(),
            ..Default::default()
        };
        let mut out = Vec::new();
        write_capture(&mut out, &capture, &ElementFilter::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "A|1427846874|196.223.14.46|37105|154.73.136.0/24|37105 37549|37549|IGP|196.223.14.84|||37105:300|false|||\n\
             W|1427846874|196.223.14.46|37105|10.0.0.0/8||||||||false|||\n"
        );
    }

    #[test]
    fn the_header_is_bgpkits_and_lines_have_its_sixteen_columns() {
        assert_eq!(CAPTURE_HEADER.split('|').count(), 16);
        let capture = v1::Capture {
            peer_ip: ip_to_bytes("192.0.2.1".parse().unwrap()),
            advertised: vec![prefix_to_proto(&"192.0.2.0/24".parse().unwrap())],
            withdrawn: vec![prefix_to_proto(&"10.0.0.0/8".parse().unwrap())],
            atomic_aggregate: true,
            communities: vec![v1::Community {
                value: Some(v1::community::Value::Standard(v1::StandardCommunity {
                    asn: 65535,
                    value: 65283,
                })),
            }],
            ..Default::default()
        };
        let mut out = Vec::new();
        write_capture(&mut out, &capture, &ElementFilter::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines() {
            assert_eq!(line.split('|').count(), 16, "{line}");
        }
        assert_eq!(
            text.lines().next().unwrap(),
            "A|0|192.0.2.1|0|192.0.2.0/24|||||||no-export-sub-confed|true|||"
        );
    }
}
