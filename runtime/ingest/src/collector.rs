//! Collector names: which name each capture gets, from the operator's override, the configured
//! nodes, the file path or the collector address.
//!
//! MRT records name no collector, only addresses, so the name has to come from outside the
//! records; the archive layouts of RouteViews and RIPE RIS put it in the file or folder name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

/// The name a capture gets when nothing names its collector and it has no collector address.
pub const UNKNOWN_COLLECTOR: &str = "unknown";

/// The common stem of RouteViews collector names (`route-views2`, `route-views.jinx`).
const ROUTE_VIEWS: &str = "route-views";

/// The stem of RIPE RIS collector names (`rrc00` to `rrc26`).
const RIS: &str = "rrc";

/// Words that follow `route-views` in file names without being a site, as in
/// `route-views.updates.20150401.0000.bz2` (the original Oregon collector).
const NOT_SITES: &[&str] = &[
    "bgpdata", "bview", "bviews", "bz2", "dump", "gz", "mrt", "rib", "ribs", "tar", "txt",
    "update", "updates", "xz",
];

/// Chooses the collector name of each capture.
///
/// The name is the first of these that applies:
/// 1. the override name (the CLI's `--collector`);
/// 2. the configured node whose address equals the collector address;
/// 3. the name found in the file path (see [`collector_from_path`]);
/// 4. the collector address as text;
/// 5. [`UNKNOWN_COLLECTOR`].
///
/// By default nothing is configured, so names come from the path or the address.
///
/// # Example
///
/// ```
/// use bgpmon_ingest::CollectorNames;
///
/// let names = CollectorNames::new()
///     .with_node("192.0.2.1".parse()?, "lab")
///     .with_path("archive/route-views2/bgpdata/2013.01/UPDATES/updates.20130101.0013.bz2".as_ref());
/// assert_eq!(names.name(Some("192.0.2.1".parse()?)), "lab");
/// assert_eq!(names.name(Some("192.0.2.9".parse()?)), "route-views2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectorNames {
    override_name: Option<String>,
    nodes: HashMap<IpAddr, String>,
    path_name: Option<String>,
}

impl CollectorNames {
    /// Names with nothing configured: names come from the path (once set) or the address.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives every capture the name `name`, whatever its address or file.
    pub fn with_override(mut self, name: impl Into<String>) -> Self {
        self.override_name = Some(name.into());
        self
    }

    /// Names the captures whose collector address is `ip` `name`.
    pub fn with_node(mut self, ip: IpAddr, name: impl Into<String>) -> Self {
        self.nodes.insert(ip, name.into());
        self
    }

    /// Adds each `(address, name)` pair as by [`with_node`](Self::with_node).
    pub fn with_nodes<I, S>(mut self, nodes: I) -> Self
    where
        I: IntoIterator<Item = (IpAddr, S)>,
        S: Into<String>,
    {
        self.nodes
            .extend(nodes.into_iter().map(|(ip, name)| (ip, name.into())));
        self
    }

    /// Takes the path name from `path`, replacing any earlier one; a path that names no
    /// collector clears it.
    pub fn with_path(mut self, path: &Path) -> Self {
        self.path_name = collector_from_path(path);
        self
    }

    /// The override name, if one is set.
    pub fn override_name(&self) -> Option<&str> {
        self.override_name.as_deref()
    }

    /// The name found in the path, if any.
    pub fn path_name(&self) -> Option<&str> {
        self.path_name.as_deref()
    }

    /// The name of a capture whose collector address is `collector_ip`.
    pub fn name(&self, collector_ip: Option<IpAddr>) -> Cow<'_, str> {
        if let Some(name) = &self.override_name {
            return Cow::Borrowed(name);
        }
        if let Some(name) = collector_ip.and_then(|ip| self.nodes.get(&ip)) {
            return Cow::Borrowed(name);
        }
        if let Some(name) = &self.path_name {
            return Cow::Borrowed(name);
        }
        match collector_ip {
            Some(ip) => Cow::Owned(ip.to_string()),
            None => Cow::Borrowed(UNKNOWN_COLLECTOR),
        }
    }
}

/// The collector a file path names, from the file name or else the nearest folder that names
/// one.
///
/// Recognised names, case-insensitively, standing apart from letters and digits:
/// - RouteViews: `route-views`, then digits (`route-views2`, `route-views6`) or a site
///   (`route-views.jinx`, `route-views.linx`);
/// - RIPE RIS: `rrc` and two digits (`rrc00` to `rrc26`).
///
/// Returns `None` when no part of the path names a collector, as for
/// `ris.bview.20190417.0800.2peers.gz`.
///
/// # Example
///
/// ```
/// use bgpmon_ingest::collector_from_path;
///
/// let path = "routeviews.route-views.jinx.updates.1427846400.bz2".as_ref();
/// assert_eq!(collector_from_path(path).as_deref(), Some("route-views.jinx"));
/// assert_eq!(collector_from_path("data/rrc00/2019.01/updates.20190101.0000.gz".as_ref()).as_deref(), Some("rrc00"));
/// ```
pub fn collector_from_path(path: &Path) -> Option<String> {
    path.components()
        .rev()
        .find_map(|component| match component {
            std::path::Component::Normal(part) => {
                collector_in(&part.to_string_lossy().to_ascii_lowercase())
            }
            _ => None,
        })
}

/// The first collector name in one path component, already lowercase.
fn collector_in(part: &str) -> Option<String> {
    let route_views = find_stem(part, ROUTE_VIEWS, route_views_end);
    let ris = find_stem(part, RIS, ris_end);
    match (route_views, ris) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a.1 } else { b.1 }),
        (Some(found), None) | (None, Some(found)) => Some(found.1),
        (None, None) => None,
    }
}

/// The first occurrence of `stem` that starts a name, with its position; `end` gives where the
/// name starting at an occurrence ends, or `None` when it is not a name.
fn find_stem(
    part: &str,
    stem: &str,
    end: fn(&[u8], usize) -> Option<usize>,
) -> Option<(usize, String)> {
    let bytes = part.as_bytes();
    let mut from = 0;
    while let Some(found) = part.get(from..).and_then(|rest| rest.find(stem)) {
        let start = from + found;
        from = start + stem.len();
        let apart = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if !apart {
            continue;
        }
        if let Some(stop) = end(bytes, start + stem.len())
            && (stop == bytes.len() || !bytes[stop].is_ascii_alphanumeric())
        {
            return Some((start, part[start..stop].to_owned()));
        }
    }
    None
}

/// Where a RouteViews name whose stem ends at `at` ends: after its digits, or after its site.
fn route_views_end(bytes: &[u8], at: usize) -> Option<usize> {
    let digits_end = skip(bytes, at, u8::is_ascii_digit);
    if digits_end > at || bytes.get(at) != Some(&b'.') {
        return Some(digits_end);
    }
    let site_start = at + 1;
    let site_end = skip(bytes, site_start, u8::is_ascii_alphanumeric);
    let site = &bytes[site_start..site_end];
    let is_site = site.first().is_some_and(u8::is_ascii_alphabetic)
        && !NOT_SITES.iter().any(|word| word.as_bytes() == site);
    Some(if is_site { site_end } else { at })
}

/// Where a RIS name whose stem ends at `at` ends: after exactly two digits.
fn ris_end(bytes: &[u8], at: usize) -> Option<usize> {
    (skip(bytes, at, u8::is_ascii_digit) == at + 2).then_some(at + 2)
}

/// The first index from `at` whose byte does not satisfy `keep`.
fn skip(bytes: &[u8], at: usize, keep: fn(&u8) -> bool) -> usize {
    bytes
        .get(at..)
        .map_or(at, |rest| at + rest.iter().take_while(|b| keep(b)).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inferred(path: &str) -> Option<String> {
        collector_from_path(Path::new(path))
    }

    #[test]
    fn infers_route_views_from_file_names() {
        let cases = [
            (
                "routeviews-route-views2.updates.20130101.0013.mrt",
                "route-views2",
            ),
            (
                "routeviews-route-views2.updates.20260222.1530.bz2",
                "route-views2",
            ),
            (
                "routeviews.route-views.jinx.updates.1427846400.bz2",
                "route-views.jinx",
            ),
            (
                "routeviews.route-views.linx.updates.1427846400.bz2",
                "route-views.linx",
            ),
            (
                "routeviews-route-views2.rib.20140523.0600.first1MB.truncated.bz2",
                "route-views2",
            ),
            (
                "routeviews-route-views6.rib.20151101.0600.first1MB.complete.bz2",
                "route-views6",
            ),
            ("route-views.updates.20150401.0000.bz2", "route-views"),
            ("ROUTE-VIEWS.SYDNEY.rib.bz2", "route-views.sydney"),
        ];
        for (path, name) in cases {
            assert_eq!(inferred(path).as_deref(), Some(name), "{path}");
        }
    }

    #[test]
    fn infers_ris_from_file_names() {
        assert_eq!(
            inferred("ris-rrc00.updates.20190101.0000.gz").as_deref(),
            Some("rrc00")
        );
        assert_eq!(
            inferred("ris.rrc06.updates.1427846400.gz").as_deref(),
            Some("rrc06")
        );
        assert_eq!(
            inferred("ris-rrc21.updates.20160811.1600.gz").as_deref(),
            Some("rrc21")
        );
        assert_eq!(inferred("rrc26").as_deref(), Some("rrc26"));
    }

    #[test]
    fn infers_from_parent_folders() {
        assert_eq!(
            inferred("/archive/route-views2/bgpdata/2013.01/UPDATES/updates.20130101.0013.bz2")
                .as_deref(),
            Some("route-views2")
        );
        assert_eq!(
            inferred("/archive/route-views.jinx/bgpdata/2015.04/UPDATES/updates.20150401.0000.bz2")
                .as_deref(),
            Some("route-views.jinx")
        );
        assert_eq!(
            inferred("/data/ris/rrc00/2019.01/updates.20190101.0000.gz").as_deref(),
            Some("rrc00")
        );
        // The file name wins over a folder.
        assert_eq!(
            inferred("/data/rrc00/ris.rrc06.updates.1427846400.gz").as_deref(),
            Some("rrc06")
        );
    }

    #[test]
    fn infers_nothing_without_a_collector_name() {
        for path in [
            "ris.bview.20190417.0800.2peers.gz",
            "/work/shared/data/mrt/ris.bview.20190417.0800.2peers.gz",
            "pch-as3856.bgp4mp-et.fullfeed.20151023.gz",
            "updates.20190101.0000.gz",
            "rrc1.gz",
            "rrc100.gz",
            "xrrc00.gz",
            "rrc00x.gz",
            "myroute-views2.gz",
            "routeviews.gz",
            "",
        ] {
            assert_eq!(inferred(path), None, "{path}");
        }
    }

    #[test]
    fn names_in_priority_order() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "2001:db8::1".parse().unwrap();
        let path = Path::new("ris.rrc06.updates.1427846400.gz");

        let names = CollectorNames::new();
        assert_eq!(names.name(None), UNKNOWN_COLLECTOR);
        assert_eq!(names.name(Some(other)), "2001:db8::1");

        let names = names.with_path(path);
        assert_eq!(names.path_name(), Some("rrc06"));
        assert_eq!(names.name(Some(other)), "rrc06");
        assert_eq!(names.name(None), "rrc06");

        let names = names.with_node(ip, "node-a");
        assert_eq!(names.name(Some(ip)), "node-a");
        assert_eq!(names.name(Some(other)), "rrc06");

        let names = names.with_override("forced");
        assert_eq!(names.override_name(), Some("forced"));
        assert_eq!(names.name(Some(ip)), "forced");
        assert_eq!(names.name(None), "forced");
    }

    #[test]
    fn a_path_without_a_name_clears_the_path_name() {
        let names = CollectorNames::new()
            .with_nodes([("192.0.2.1".parse().unwrap(), "a")])
            .with_path(Path::new("rrc00.gz"))
            .with_path(Path::new("x.gz"));
        assert_eq!(names.path_name(), None);
        assert_eq!(names.name(Some("192.0.2.1".parse().unwrap())), "a");
    }
}
