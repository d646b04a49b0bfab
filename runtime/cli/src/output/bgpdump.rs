//! The one-line format of `bgpdump -m` (RIPE NCC's bgpdump 1.6, as Debian
//! ships it): one line per announcement (`A`), withdrawal (`W`) and RIB
//! entry (`B`), byte for byte as bgpdump prints them for the same MRT file.
//!
//! ```text
//! BGP4MP|1427846874|A|196.223.14.46|37105|154.73.136.0/24|37105 37549|IGP|196.223.14.84|0|0|37105:300|NAG||
//! BGP4MP_ET|1771774200.756269|W|12.0.1.63|7018|176.105.186.0/24
//! TABLE_DUMP2|1555488000|B|168.195.130.2|263702|1.0.0.0/24|263702 61522 7004 12956 13335|IGP|168.195.130.2|0|0|7004:9000 61522:65023|NAG|13335 141.101.100.1|
//! ```
//!
//! An `A` or `B` line is `record|time|type|peer_ip|peer_as|prefix|as_path|origin|next_hop|local_pref|med|communities|AG or NAG|aggregator|`;
//! a `W` line stops after the prefix. As bgpdump does:
//!
//! - the record word is the MRT type the capture was read from (`BGP4MP`,
//!   `BGP4MP_ET`, `TABLE_DUMP2`, `TABLE_DUMP`, `BGP`); a capture that did
//!   not come from MRT is `TABLE_DUMP2` if it is a RIB entry, else `BGP4MP`;
//! - the time is unix seconds, with `.` and six digits of microseconds for
//!   BGP4MP_ET only;
//! - the withdrawals of an UPDATE come before its announcements, IPv4
//!   before IPv6 within each;
//! - an AS_SET is `{a,b}`, an AS_CONFED_SEQUENCE `(a b)`, an AS_CONFED_SET
//!   `[a,b]`;
//! - a missing ORIGIN is `INCOMPLETE`, a missing IPv4 next hop
//!   `255.255.255.255`, a missing IPv6 one `::`, a missing LOCAL_PREF or
//!   MED `0`;
//! - only standard communities are printed, NO_EXPORT, NO_ADVERTISE and
//!   NO_EXPORT_SUBCONFED as `no-export`, `no-advertise` and `local-AS`;
//! - the aggregator is `AS ADDRESS`, empty when absent.
//!
//! State changes are not stored, so they are never printed. bgpdump's
//! ADD-PATH and LOCAL record words (`BGP4MP_AP`, `BGP4MP_LOCAL`, ...) are
//! not reproduced: a capture keeps only the MRT type, not its subtype.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpmon_proto::{ip_from_bytes, prefix_from_proto, v1};
use ipnet::IpNet;

use crate::filter::ElementFilter;

/// The MRT record types (RFC 6396) with their own bgpdump record word.
mod mrt_type {
    pub(super) const BGP: u32 = 5;
    pub(super) const TABLE_DUMP: u32 = 12;
    pub(super) const TABLE_DUMP_V2: u32 = 13;
    pub(super) const BGP4MP: u32 = 16;
    pub(super) const BGP4MP_ET: u32 = 17;
}

/// bgpdump writes an AS path into a buffer of 8000 bytes and, once it
/// passes this length, ends it with `...`.
const MAX_PATH_TEXT: usize = 8000 - 100;

/// The RFC 1997 well-known communities as bgpdump names them.
const WELL_KNOWN: [((u32, u32), &str); 3] = [
    ((0xFFFF, 0xFF01), "no-export"),
    ((0xFFFF, 0xFF02), "no-advertise"),
    ((0xFFFF, 0xFF03), "local-AS"),
];

/// Writes the `W` lines, then the `A` (or `B`) lines, of the prefixes of
/// `capture` that `elements` keeps.
///
/// Returns an error if writing fails.
pub(super) fn write_capture(
    out: &mut impl Write,
    capture: &v1::Capture,
    elements: &ElementFilter,
) -> io::Result<()> {
    let head = format!(
        "{}|{}",
        record_word(capture),
        time_text(capture.timestamp_us, capture.mrt_type)
    );
    let peer = format!("{}|{}", address_text(&capture.peer_ip), capture.peer_as);
    let withdrawn = by_family(&capture.withdrawn, true, elements);
    for prefix in &withdrawn {
        writeln!(out, "{head}|W|{peer}|{}", net_text(prefix))?;
    }
    let advertised = by_family(&capture.advertised, false, elements);
    if advertised.is_empty() {
        return Ok(());
    }
    let kind = if capture.is_rib { "B" } else { "A" };
    let path = path_text(&capture.as_path);
    let origin = origin_word(capture.origin);
    let tail = format!(
        "{}|{}|{}|{}|{}|",
        capture.local_pref.unwrap_or(0),
        capture.med.unwrap_or(0),
        communities_text(&capture.communities),
        if capture.atomic_aggregate {
            "AG"
        } else {
            "NAG"
        },
        aggregator_text(capture.aggregator.as_ref()),
    );
    for prefix in &advertised {
        writeln!(
            out,
            "{head}|{kind}|{peer}|{}|{path}|{origin}|{}|{tail}",
            net_text(prefix),
            next_hop_text(&capture.next_hop, prefix),
        )?;
    }
    Ok(())
}

/// The prefixes `elements` keeps, IPv4 first, each family in stored order,
/// as bgpdump prints the NLRI fields before MP_REACH / MP_UNREACH and
/// IPv4 address families before IPv6. A malformed prefix is left out.
fn by_family(prefixes: &[v1::Prefix], withdrawn: bool, elements: &ElementFilter) -> Vec<IpNet> {
    let mut nets: Vec<IpNet> = prefixes
        .iter()
        .filter_map(|p| prefix_from_proto(p).ok())
        .filter(|net| elements.keeps(net, withdrawn))
        .collect();
    // A stable sort keeps each family's order.
    nets.sort_by_key(|net| matches!(net, IpNet::V6(_)));
    nets
}

/// The record word of a capture's MRT type.
fn record_word(capture: &v1::Capture) -> &'static str {
    match capture.mrt_type {
        Some(mrt_type::BGP4MP) => "BGP4MP",
        Some(mrt_type::BGP4MP_ET) => "BGP4MP_ET",
        Some(mrt_type::TABLE_DUMP_V2) => "TABLE_DUMP2",
        Some(mrt_type::TABLE_DUMP) => "TABLE_DUMP",
        Some(mrt_type::BGP) => "BGP",
        _ if capture.is_rib => "TABLE_DUMP2",
        _ => "BGP4MP",
    }
}

/// Unix seconds; BGP4MP_ET records add `.` and six digits of microseconds,
/// others never show any (their MRT header has none).
fn time_text(timestamp_us: u64, mrt_type: Option<u32>) -> String {
    let secs = timestamp_us / 1_000_000;
    if mrt_type == Some(mrt_type::BGP4MP_ET) {
        format!("{secs}.{:06}", timestamp_us % 1_000_000)
    } else {
        secs.to_string()
    }
}

/// An address as bgpdump prints it; empty when absent or malformed.
fn address_text(bytes: &[u8]) -> String {
    match ip_from_bytes(bytes) {
        Ok(Some(IpAddr::V4(v4))) => v4.to_string(),
        Ok(Some(IpAddr::V6(v6))) => ipv6_text(v6),
        _ => String::new(),
    }
}

/// An IPv6 address as bgpdump writes it (its own `fmt_ipv6`, not RFC 5952):
///
/// - an IPv4-mapped address is `::ffff:a.b.c.d`, an IPv4-compatible one
///   (`::/96` except `::` and `::1`) is `::a.b.c.d`;
/// - otherwise groups are lowercase hex without leading zeros, and the
///   longest run of zero groups, the first of equal runs, becomes `::`
///   even when it is a single group (`2001:668::3:ffff:0:adcd:39ea`).
fn ipv6_text(ip: Ipv6Addr) -> String {
    let groups = ip.segments();
    let [.., a, b, c, d] = ip.octets();
    let v4 = Ipv4Addr::new(a, b, c, d);
    if groups[..5] == [0; 5] && groups[5] == 0xFFFF {
        return format!("::ffff:{v4}");
    }
    if groups[..6] == [0; 6] && u32::from(v4) > 1 {
        return format!("::{v4}");
    }
    // The longest run of zero groups as (start, length).
    let mut longest = (0, 0);
    let mut i = 0;
    while i < groups.len() {
        let start = i;
        while i < groups.len() && groups[i] == 0 {
            i += 1;
        }
        if i - start > longest.1 {
            longest = (start, i - start);
        }
        i = i.max(start + 1);
    }
    let hex = |groups: &[u16]| {
        groups
            .iter()
            .map(|g| format!("{g:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    match longest {
        (_, 0) => hex(&groups),
        (start, len) => format!("{}::{}", hex(&groups[..start]), hex(&groups[start + len..])),
    }
}

fn net_text(net: &IpNet) -> String {
    match net {
        IpNet::V4(v4) => v4.to_string(),
        IpNet::V6(v6) => format!("{}/{}", ipv6_text(v6.addr()), v6.prefix_len()),
    }
}

/// The next hop printed for `prefix`: the stored one, or what bgpdump
/// prints when the UPDATE has none for that family (`255.255.255.255`, the
/// "no address" value of its IPv4 field, or `::`).
fn next_hop_text(next_hop: &[u8], prefix: &IpNet) -> String {
    match (ip_from_bytes(next_hop), prefix) {
        (Ok(Some(IpAddr::V4(v4))), _) => v4.to_string(),
        (Ok(Some(IpAddr::V6(v6))), _) => ipv6_text(v6),
        (_, IpNet::V4(_)) => Ipv4Addr::BROADCAST.to_string(),
        (_, IpNet::V6(_)) => Ipv6Addr::UNSPECIFIED.to_string(),
    }
}

/// An AS path as bgpdump writes it: ASes of a sequence separated by spaces,
/// of a set by commas, each non-sequence segment in its brackets, segments
/// separated by a space after a segment that held an AS.
fn path_text(path: &[v1::PathSegment]) -> String {
    let brackets = |kind: i32| match v1::SegmentKind::try_from(kind) {
        Ok(v1::SegmentKind::Set) => Some(('{', '}', ',')),
        Ok(v1::SegmentKind::ConfedSequence) => Some(('(', ')', ' ')),
        Ok(v1::SegmentKind::ConfedSet) => Some(('[', ']', ',')),
        _ => None,
    };
    let mut text = String::new();
    let mut previous = None;
    // Whether the segment before held an AS, so a space separates the next.
    let mut space = false;
    for segment in path {
        if let Some((_, close, _)) = previous {
            text.push(close);
        }
        if space {
            text.push(' ');
        }
        let kind = brackets(segment.kind);
        if let Some((open, _, _)) = kind {
            text.push(open);
        }
        space = false;
        let separator = kind.map_or(' ', |(_, _, separator)| separator);
        for asn in &segment.asns {
            if space {
                text.push(separator);
            }
            space = true;
            let _ = write!(text, "{asn}");
            if text.len() > MAX_PATH_TEXT {
                text.push_str("...");
                return text;
            }
        }
        previous = kind;
    }
    if let Some((_, close, _)) = previous {
        text.push(close);
    }
    text
}

/// The ORIGIN attribute; bgpdump prints `INCOMPLETE` for a missing one.
fn origin_word(origin: i32) -> &'static str {
    match v1::OriginAttribute::try_from(origin) {
        Ok(v1::OriginAttribute::Igp) => "IGP",
        Ok(v1::OriginAttribute::Egp) => "EGP",
        _ => "INCOMPLETE",
    }
}

/// The standard communities, space-separated; large ones are left out, as
/// bgpdump 1.6 does.
fn communities_text(communities: &[v1::Community]) -> String {
    let mut text = String::new();
    for community in communities {
        let Some(v1::community::Value::Standard(c)) = &community.value else {
            continue;
        };
        if !text.is_empty() {
            text.push(' ');
        }
        match WELL_KNOWN
            .iter()
            .find(|(value, _)| *value == (c.asn, c.value))
        {
            Some((_, name)) => text.push_str(name),
            None => {
                let _ = write!(text, "{}:{}", c.asn, c.value);
            }
        }
    }
    text
}

/// `AS ADDRESS`, or empty. bgpdump keeps 255.255.255.255 as its "no
/// aggregator" value, so an aggregator with that address prints empty too.
fn aggregator_text(aggregator: Option<&v1::Aggregator>) -> String {
    let Some(a) = aggregator else {
        return String::new();
    };
    match ip_from_bytes(&a.address) {
        Ok(Some(IpAddr::V4(ip))) if ip == Ipv4Addr::BROADCAST => String::new(),
        Ok(Some(ip)) => format!("{} {ip}", a.asn),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgpmon_proto::{ip_to_bytes, prefix_to_proto};

    fn seg(kind: v1::SegmentKind, asns: &[u32]) -> v1::PathSegment {
        v1::PathSegment {
            kind: kind.into(),
            asns: asns.to_vec(),
        }
    }

    fn prefixes(list: &[&str]) -> Vec<v1::Prefix> {
        list.iter()
            .map(|p| prefix_to_proto(&p.parse().unwrap()))
            .collect()
    }

    fn standard(asn: u32, value: u32) -> v1::Community {
        v1::Community {
            value: Some(v1::community::Value::Standard(v1::StandardCommunity {
                asn,
                value,
            })),
        }
    }

    fn lines(capture: &v1::Capture) -> String {
        lines_with(capture, &ElementFilter::default())
    }

    fn lines_with(capture: &v1::Capture, elements: &ElementFilter) -> String {
        let mut out = Vec::new();
        write_capture(&mut out, capture, elements).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The jinx known answer's UPDATE, as stored.
    fn jinx() -> v1::Capture {
        v1::Capture {
            timestamp_us: 1_427_846_874_000_000,
            peer_ip: ip_to_bytes("196.223.14.46".parse().unwrap()),
            peer_as: 37105,
            as_path: vec![seg(v1::SegmentKind::Sequence, &[37105, 37549])],
            origin_as: Some(37549),
            next_hop: ip_to_bytes("196.223.14.84".parse().unwrap()),
            advertised: prefixes(&["154.73.136.0/24"]),
            communities: vec![standard(37105, 300)],
            origin: v1::OriginAttribute::Igp.into(),
            mrt_type: Some(16),
            ..Default::default()
        }
    }

    #[test]
    fn an_announcement_has_every_field_and_a_trailing_bar() {
        assert_eq!(
            lines(&jinx()),
            "BGP4MP|1427846874|A|196.223.14.46|37105|154.73.136.0/24|37105 37549|IGP|196.223.14.84|0|0|37105:300|NAG||\n"
        );
    }

    #[test]
    fn withdrawals_come_first_and_ipv4_before_ipv6() {
        let capture = v1::Capture {
            advertised: prefixes(&["2001:db8::/32", "154.73.136.0/24"]),
            withdrawn: prefixes(&["2001:db8:1::/48", "10.0.0.0/8"]),
            ..jinx()
        };
        let text = lines(&capture);
        let kinds: Vec<(&str, &str)> = text
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split('|').collect();
                (f[2], f[5])
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("W", "10.0.0.0/8"),
                ("W", "2001:db8:1::/48"),
                ("A", "154.73.136.0/24"),
                ("A", "2001:db8::/32"),
            ]
        );
        assert!(text.starts_with("BGP4MP|1427846874|W|196.223.14.46|37105|10.0.0.0/8\n"));
    }

    #[test]
    fn sets_and_confederations_keep_their_brackets() {
        let path = [
            seg(v1::SegmentKind::ConfedSequence, &[65001, 65002]),
            seg(v1::SegmentKind::Sequence, &[1273, 38266]),
            seg(v1::SegmentKind::Set, &[271, 7860]),
        ];
        assert_eq!(path_text(&path), "(65001 65002) 1273 38266 {271,7860}");
        let path = [
            seg(v1::SegmentKind::Sequence, &[1]),
            seg(v1::SegmentKind::ConfedSet, &[2, 3]),
            seg(v1::SegmentKind::Sequence, &[4]),
        ];
        assert_eq!(path_text(&path), "1 [2,3] 4");
        assert_eq!(path_text(&[]), "");
    }

    #[test]
    fn an_overlong_path_is_cut_as_bgpdump_cuts_it() {
        let path = [seg(v1::SegmentKind::Sequence, &[4_200_000_000; 1000])];
        let text = path_text(&path);
        assert!(text.ends_with("..."));
        assert!(text.len() <= MAX_PATH_TEXT + 11 + 3, "{}", text.len());
    }

    #[test]
    fn ipv6_rib_entries_use_the_mp_next_hop_and_the_et_time_keeps_microseconds() {
        let rib = v1::Capture {
            timestamp_us: 1_446_357_600_000_000,
            peer_ip: ip_to_bytes("2001:668:0:4::2".parse().unwrap()),
            peer_as: 3257,
            as_path: vec![
                seg(v1::SegmentKind::Sequence, &[3257, 11666, 6509]),
                seg(v1::SegmentKind::Set, &[271, 7860, 8111, 26677]),
            ],
            next_hop: ip_to_bytes("2001:668:0:4::2".parse().unwrap()),
            advertised: prefixes(&["2001:410::/32"]),
            med: Some(957),
            origin: v1::OriginAttribute::Igp.into(),
            communities: vec![standard(3257, 4000), standard(65535, 65281)],
            aggregator: Some(v1::Aggregator {
                asn: 6509,
                address: vec![205, 189, 32, 102],
            }),
            is_rib: true,
            mrt_type: Some(13),
            ..Default::default()
        };
        assert_eq!(
            lines(&rib),
            "TABLE_DUMP2|1446357600|B|2001:668:0:4::2|3257|2001:410::/32|3257 11666 6509 {271,7860,8111,26677}|IGP|2001:668:0:4::2|0|957|3257:4000 no-export|NAG|6509 205.189.32.102|\n"
        );
        let et = v1::Capture {
            timestamp_us: 1_771_774_200_000_017,
            mrt_type: Some(17),
            advertised: vec![],
            withdrawn: prefixes(&["176.105.186.0/24"]),
            ..jinx()
        };
        assert_eq!(
            lines(&et),
            "BGP4MP_ET|1771774200.000017|W|196.223.14.46|37105|176.105.186.0/24\n"
        );
    }

    #[test]
    fn absent_attributes_print_bgpdump_defaults() {
        let bare = v1::Capture {
            timestamp_us: 1_000_000_250_000,
            peer_ip: ip_to_bytes("192.0.2.1".parse().unwrap()),
            peer_as: 64500,
            advertised: prefixes(&["192.0.2.0/24", "2001:db8::/32"]),
            communities: vec![v1::Community {
                value: Some(v1::community::Value::Large(v1::LargeCommunity {
                    global: 1,
                    local1: 2,
                    local2: 3,
                })),
            }],
            ..Default::default()
        };
        assert_eq!(
            lines(&bare),
            "BGP4MP|1000000|A|192.0.2.1|64500|192.0.2.0/24||INCOMPLETE|255.255.255.255|0|0||NAG||\n\
             BGP4MP|1000000|A|192.0.2.1|64500|2001:db8::/32||INCOMPLETE|::|0|0||NAG||\n"
        );
        let rib = v1::Capture {
            is_rib: true,
            atomic_aggregate: true,
            local_pref: Some(100),
            ..bare
        };
        assert!(lines(&rib).starts_with(
            "TABLE_DUMP2|1000000|B|192.0.2.1|64500|192.0.2.0/24||INCOMPLETE|255.255.255.255|100|0||AG||\n"
        ));
    }

    #[test]
    fn well_known_communities_have_bgpdump_names() {
        let list = [
            standard(65535, 65281),
            standard(65535, 65282),
            standard(65535, 65283),
            standard(0, 0),
        ];
        assert_eq!(
            communities_text(&list),
            "no-export no-advertise local-AS 0:0"
        );
    }

    #[test]
    fn ipv6_addresses_print_as_bgpdump_prints_them() {
        let text = |s: &str| ipv6_text(s.parse().unwrap());
        // A single zero group is shortened when no run is longer.
        assert_eq!(
            text("2001:668:0:3:ffff:0:adcd:39ea"),
            "2001:668::3:ffff:0:adcd:39ea"
        );
        assert_eq!(text("2001:200:0:fe00::6249:0"), "2001:200:0:fe00::6249:0");
        assert_eq!(text("2001:db8::"), "2001:db8::");
        assert_eq!(text("fe80::1:0:0:1"), "fe80::1:0:0:1");
        assert_eq!(text("0:0:1::1"), "0:0:1::1");
        assert_eq!(text("0:0:0:1::1"), "::1:0:0:0:1");
        assert_eq!(text("::102:304"), "::1.2.3.4");
        assert_eq!(text("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(text("::1"), "::1");
        assert_eq!(text("::"), "::");
        assert_eq!(text("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
    }

    #[test]
    fn the_element_filter_picks_lines() {
        let capture = v1::Capture {
            advertised: prefixes(&["154.73.136.0/24", "197.231.196.0/22"]),
            withdrawn: prefixes(&["10.0.0.0/8"]),
            ..jinx()
        };
        let elements = crate::filter::FilterArgs {
            prefix: vec!["154.73.128.0/17".parse().unwrap()],
            specificity: crate::filter::MatchArg::More,
            ..Default::default()
        }
        .element_filter();
        assert_eq!(
            lines_with(&capture, &elements),
            "BGP4MP|1427846874|A|196.223.14.46|37105|154.73.136.0/24|37105 37549|IGP|196.223.14.84|0|0|37105:300|NAG||\n"
        );
    }
}
