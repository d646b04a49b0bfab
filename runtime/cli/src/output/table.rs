//! Columns for people. Rows stream out as they arrive, so columns have
//! fixed widths and long values are cut with `…`.

use std::io::{self, Write};

use bgpmon_proto::v1;

use super::text::{as_path_text, ip_text, prefix_text};
use crate::time::format_micros;

/// The widest a prefix list or path column gets before it is cut.
const WIDE: usize = 40;

fn cut(s: String, width: usize) -> String {
    if s.chars().count() <= width {
        return s;
    }
    let mut t: String = s.chars().take(width - 1).collect();
    t.push('…');
    t
}

fn list(prefixes: &[v1::Prefix]) -> String {
    let text = prefixes
        .iter()
        .map(prefix_text)
        .collect::<Vec<_>>()
        .join(",");
    if text.is_empty() {
        "-".into()
    } else {
        cut(text, WIDE)
    }
}

pub(super) fn capture_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<27} {:<16} {:<39} {:>10} {:>10} {:<40} {:<40} WITHDRAWN",
        "TIME", "COLLECTOR", "PEER", "PEER AS", "ORIGIN", "AS PATH", "ADVERTISED"
    )
}

pub(super) fn capture_row(out: &mut impl Write, c: &v1::Capture) -> io::Result<()> {
    let time = if c.is_rib {
        format!("{} RIB", format_micros(c.timestamp_us))
    } else {
        format_micros(c.timestamp_us)
    };
    writeln!(
        out,
        "{:<27} {:<16} {:<39} {:>10} {:>10} {:<40} {:<40} {}",
        time,
        cut(c.collector.clone(), 16),
        ip_text(&c.peer_ip),
        c.peer_as,
        c.origin_as.map_or("-".into(), |a| a.to_string()),
        cut(as_path_text(&c.as_path), WIDE),
        list(&c.advertised),
        list(&c.withdrawn),
    )
}

pub(super) fn prefix_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<27} {:<4} {:<43} {:<16} {:>10} {:>10}",
        "TIME", "TYPE", "PREFIX", "COLLECTOR", "PEER AS", "ORIGIN"
    )
}

pub(super) fn prefix_row(out: &mut impl Write, e: &v1::PrefixEvent) -> io::Result<()> {
    writeln!(
        out,
        "{:<27} {:<4} {:<43} {:<16} {:>10} {:>10}",
        format_micros(e.timestamp_us),
        if e.withdrawn { "W" } else { "A" },
        e.prefix.as_ref().map(prefix_text).unwrap_or_default(),
        cut(e.collector.clone(), 16),
        e.peer_as,
        e.origin_as.map_or("-".into(), |a| a.to_string()),
    )
}

pub(super) fn entity_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<24} {:<24} {:<24} PREFIXES",
        "NAME", "CONTACT", "ORIGIN ASES"
    )
}

pub(super) fn entity_row(out: &mut impl Write, e: &v1::Entity) -> io::Result<()> {
    let origins = e
        .origin_ases
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let prefixes = e
        .prefixes
        .iter()
        .map(|p| {
            let prefix = p.prefix.as_ref().map(prefix_text).unwrap_or_default();
            format!("{prefix}-{}", p.max_length)
        })
        .collect::<Vec<_>>()
        .join(",");
    writeln!(
        out,
        "{:<24} {:<24} {:<24} {}",
        cut(e.name.clone(), 24),
        cut(e.contact.clone(), 24),
        cut(origins, 24),
        cut(prefixes, 60)
    )
}

#[cfg(test)]
mod tests {
    use bgpmon_proto::{ip_to_bytes, prefix_to_proto};

    use super::*;

    fn rendered(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn captures_line_up_under_the_header_and_long_values_are_cut() {
        let update = v1::Capture {
            timestamp_us: 1_427_846_874_123_456,
            collector: "route-views.jinx".into(),
            peer_ip: ip_to_bytes("2001:db8::1".parse().unwrap()),
            peer_as: 37105,
            as_path: vec![v1::PathSegment {
                kind: v1::SegmentKind::Sequence.into(),
                asns: vec![37105, 37549],
            }],
            origin_as: Some(37549),
            advertised: vec![prefix_to_proto(&"154.73.136.0/24".parse().unwrap())],
            withdrawn: vec![prefix_to_proto(&"2001:db8::/32".parse().unwrap())],
            ..Default::default()
        };
        let rib = v1::Capture {
            timestamp_us: 1_400_824_800_000_000,
            collector: "a-collector-with-a-long-name".into(),
            peer_ip: ip_to_bytes("192.0.2.1".parse().unwrap()),
            peer_as: 4_200_000_000,
            as_path: vec![
                v1::PathSegment {
                    kind: v1::SegmentKind::Sequence.into(),
                    asns: vec![4_200_000_000, 3356, 1299, 174, 6939, 2914, 3257, 6453],
                },
                v1::PathSegment {
                    kind: v1::SegmentKind::Set.into(),
                    asns: vec![64500, 64501],
                },
            ],
            advertised: (0..4)
                .map(|n| prefix_to_proto(&format!("10.{n}.0.0/16").parse().unwrap()))
                .collect(),
            is_rib: true,
            ..Default::default()
        };
        let text = rendered(|out| {
            capture_header(out)?;
            capture_row(out, &update)?;
            capture_row(out, &rib)
        });
        let expected = concat!(
            "TIME                        COLLECTOR        PEER                                       PEER AS     ORIGIN AS PATH                                  ADVERTISED                               WITHDRAWN\n",
            "2015-04-01T00:07:54.123456Z route-views.jinx 2001:db8::1                                  37105      37549 37105 37549                              154.73.136.0/24                          2001:db8::/32\n",
            "2014-05-23T06:00:00Z RIB    a-collector-wit… 192.0.2.1                               4200000000          - 4200000000 3356 1299 174 6939 2914 3257… 10.0.0.0/16,10.1.0.0/16,10.2.0.0/16,10.… -\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn prefix_and_entity_rows_line_up_under_their_headers() {
        let withdrawal = v1::PrefixEvent {
            prefix: Some(prefix_to_proto(&"2001:db8:1::/48".parse().unwrap())),
            withdrawn: true,
            timestamp_us: 1_427_846_874_000_000,
            collector: "rrc00".into(),
            peer_as: 3356,
            origin_as: None,
        };
        let text = rendered(|out| {
            prefix_header(out)?;
            prefix_row(out, &withdrawal)
        });
        assert_eq!(
            text,
            concat!(
                "TIME                        TYPE PREFIX                                      COLLECTOR           PEER AS     ORIGIN\n",
                "2015-04-01T00:07:54Z        W    2001:db8:1::/48                             rrc00                  3356          -\n",
            )
        );
        let entity = v1::Entity {
            name: "example-net".into(),
            contact: "noc@example.net".into(),
            origin_ases: vec![64500, 64501],
            prefixes: vec![v1::OwnedPrefix {
                prefix: Some(prefix_to_proto(&"192.0.2.0/24".parse().unwrap())),
                max_length: 24,
            }],
        };
        let text = rendered(|out| {
            entity_header(out)?;
            entity_row(out, &entity)
        });
        assert_eq!(
            text,
            concat!(
                "NAME                     CONTACT                  ORIGIN ASES              PREFIXES\n",
                "example-net              noc@example.net          64500,64501              192.0.2.0/24-24\n",
            )
        );
    }
}
