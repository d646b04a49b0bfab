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
