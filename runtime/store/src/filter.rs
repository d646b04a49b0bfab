//! Capture and entity filters, and how a capture is matched against them.
//!
//! The values within one term are OR'ed and the terms are AND'ed; an empty
//! term keeps everything. Community patterns and AS-path regular
//! expressions have their own modules.

mod community;
mod path_regex;

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::model::{Capture, Entity, RouteView};

pub use community::{CommunityPattern, CommunityPatternError};
pub use path_regex::{
    AsPathRegex, MAX_PATH_REGEX_BYTES, MAX_PATH_REGEX_COMPILED_BYTES, PathRegexError,
};

/// A half-open time window `[start_us, end_us)` in microseconds, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// The first microsecond included.
    pub start_us: u64,
    /// The first microsecond excluded.
    pub end_us: u64,
}

impl TimeRange {
    /// Whether `t` lies in the window.
    pub fn contains(&self, t: u64) -> bool {
        self.start_us <= t && t < self.end_us
    }
}

/// How a prefix term compares a capture's prefix with its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PrefixMatch {
    /// The same prefix.
    #[default]
    Exact,
    /// The same prefix or a more specific one inside it.
    More,
    /// The same prefix or a less specific one covering it.
    Less,
    /// Any overlapping prefix: more or less specific.
    Any,
}

/// Which prefixes of a capture the prefix terms look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PrefixScope {
    /// Advertised prefixes only.
    #[default]
    Advertised,
    /// Withdrawn prefixes only.
    Withdrawn,
    /// Either.
    Both,
}

/// An address family: IPv4 or IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AddressFamily {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl AddressFamily {
    /// The family of `prefix`.
    pub fn of(prefix: &IpNet) -> Self {
        match prefix {
            IpNet::V4(_) => Self::Ipv4,
            IpNet::V6(_) => Self::Ipv6,
        }
    }

    /// Whether `prefix` is of this family.
    pub fn contains(self, prefix: &IpNet) -> bool {
        Self::of(prefix) == self
    }
}

/// Which kind of capture a filter keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CaptureKind {
    /// Updates and RIB entries.
    #[default]
    Any,
    /// RIB entries only.
    Rib,
    /// Updates only.
    Update,
}

/// One prefix term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixTerm {
    /// The prefix to compare with, without host bits.
    pub prefix: IpNet,
    /// How to compare.
    pub specificity: PrefixMatch,
}

impl PrefixTerm {
    /// A term; host bits of `prefix` are cleared.
    pub fn new(prefix: IpNet, specificity: PrefixMatch) -> Self {
        Self {
            prefix: prefix.trunc(),
            specificity,
        }
    }

    /// Whether `candidate` matches this term.
    pub fn matches(&self, candidate: &IpNet) -> bool {
        let ours = &self.prefix;
        match self.specificity {
            PrefixMatch::Exact => ours == candidate,
            PrefixMatch::More => ours.contains(candidate),
            PrefixMatch::Less => candidate.contains(ours),
            PrefixMatch::Any => ours.contains(candidate) || candidate.contains(ours),
        }
    }
}

/// A capture filter. Every field left empty (or `None`) keeps every capture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureFilter {
    /// Collector names.
    pub collectors: Vec<String>,
    /// The time window.
    pub time: Option<TimeRange>,
    /// Peer IPs.
    pub peer_ips: Vec<IpAddr>,
    /// Peer ASes.
    pub peer_ases: Vec<u32>,
    /// Origin ASes.
    pub origin_ases: Vec<u32>,
    /// Prefix terms.
    pub prefixes: Vec<PrefixTerm>,
    /// Which prefixes the prefix terms (and, with prefix terms, the
    /// family) look at.
    pub prefix_scope: PrefixScope,
    /// ASes of which at least one must be on the path.
    pub path_contains: Vec<u32>,
    /// Community patterns of which the capture must carry a match for at
    /// least one; an exact community is a pattern with every part given.
    pub communities: Vec<CommunityPattern>,
    /// Updates, RIB entries or both.
    pub kind: CaptureKind,
    /// AS-path regular expressions of which at least one must match the
    /// path (see [`AsPathRegex`]).
    pub path_regex: Vec<AsPathRegex>,
    /// The address family of which the capture must have a prefix:
    ///
    /// - without prefix terms, any advertised or withdrawn prefix counts;
    /// - with prefix terms, only the prefixes [`prefix_scope`] names count,
    ///   the same ones the terms look at.
    ///
    /// Elements printed or read one by one ([`CaptureFilter::element_matches`])
    /// are also kept to that family.
    ///
    /// [`prefix_scope`]: CaptureFilter::prefix_scope
    pub family: Option<AddressFamily>,
    /// BMP views of which the capture's must be one; a capture that did
    /// not come from BMP has none, so it fails a non-empty list.
    pub views: Vec<RouteView>,
}

fn any_or_empty<T>(values: &[T], pred: impl FnMut(&T) -> bool) -> bool {
    values.is_empty() || values.iter().any(pred)
}

impl CaptureFilter {
    /// Whether `capture` passes every term.
    pub fn matches(&self, capture: &Capture) -> bool {
        let kind_ok = match self.kind {
            CaptureKind::Any => true,
            CaptureKind::Rib => capture.is_rib,
            CaptureKind::Update => !capture.is_rib,
        };
        kind_ok
            && self.time.is_none_or(|t| t.contains(capture.timestamp_us))
            && any_or_empty(&self.collectors, |c| *c == capture.collector)
            && any_or_empty(&self.peer_ips, |ip| *ip == capture.peer_ip)
            && any_or_empty(&self.peer_ases, |asn| *asn == capture.peer_as)
            && any_or_empty(&self.origin_ases, |asn| Some(*asn) == capture.origin_as)
            && any_or_empty(&self.path_contains, |asn| capture.path_contains(*asn))
            && any_or_empty(&self.communities, |p| {
                capture.communities.iter().any(|c| p.matches(c))
            })
            && self.prefixes_match(capture)
            && self.family_matches(capture)
            && self.path_regex_matches(capture)
            && any_or_empty(&self.views, |v| Some(*v) == capture.view)
    }

    /// Whether a single prefix passes the prefix terms.
    pub fn prefix_matches(&self, prefix: &IpNet) -> bool {
        any_or_empty(&self.prefixes, |term| term.matches(prefix))
    }

    /// Whether one element of a matching capture, `prefix` advertised or
    /// (`withdrawn`) withdrawn, is kept when elements are read one by one:
    ///
    /// - with prefix terms, it must be in [`prefix_scope`] and match a
    ///   term;
    /// - with a family, it must be of that family.
    ///
    /// [`prefix_scope`]: CaptureFilter::prefix_scope
    pub fn element_matches(&self, prefix: &IpNet, withdrawn: bool) -> bool {
        let scoped = self.prefixes.is_empty()
            || (self.prefix_scope.includes(withdrawn) && self.prefix_matches(prefix));
        scoped && self.family.is_none_or(|f| f.contains(prefix))
    }

    fn prefixes_match(&self, capture: &Capture) -> bool {
        self.prefixes.is_empty() || self.scoped_prefixes(capture, |p| self.prefix_matches(p))
    }

    fn family_matches(&self, capture: &Capture) -> bool {
        let Some(family) = self.family else {
            return true;
        };
        let in_family = |p: &IpNet| family.contains(p);
        if self.prefixes.is_empty() {
            capture.advertised.iter().any(in_family) || capture.withdrawn.iter().any(in_family)
        } else {
            self.scoped_prefixes(capture, in_family)
        }
    }

    /// Whether a prefix in [`CaptureFilter::prefix_scope`] satisfies `pred`.
    fn scoped_prefixes(&self, capture: &Capture, pred: impl Fn(&IpNet) -> bool) -> bool {
        let in_advertised = || capture.advertised.iter().any(&pred);
        let in_withdrawn = || capture.withdrawn.iter().any(&pred);
        match self.prefix_scope {
            PrefixScope::Advertised => in_advertised(),
            PrefixScope::Withdrawn => in_withdrawn(),
            PrefixScope::Both => in_advertised() || in_withdrawn(),
        }
    }

    fn path_regex_matches(&self, capture: &Capture) -> bool {
        if self.path_regex.is_empty() {
            return true;
        }
        let text = AsPathRegex::path_text(&capture.as_path);
        self.path_regex.iter().any(|r| r.is_match(&text))
    }
}

impl PrefixScope {
    /// Whether an element that is (`withdrawn`) or is not withdrawn is in
    /// this scope.
    pub fn includes(self, withdrawn: bool) -> bool {
        match self {
            Self::Advertised => !withdrawn,
            Self::Withdrawn => withdrawn,
            Self::Both => true,
        }
    }
}

/// An entity filter: an empty list of names keeps every entity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityFilter {
    /// Entity names.
    pub names: Vec<String>,
}

impl EntityFilter {
    /// Whether `entity` passes.
    pub fn matches(&self, entity: &Entity) -> bool {
        any_or_empty(&self.names, |n| *n == entity.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Community, PathSegment};

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn capture(advertised: &[&str]) -> Capture {
        Capture {
            as_path: vec![PathSegment::Sequence(vec![64500, 64501, 64502])],
            origin_as: Some(64502),
            advertised: advertised.iter().map(|s| net(s)).collect(),
            withdrawn: vec![net("198.51.100.0/24")],
            communities: vec![Community::Standard(64500, 300)],
            ..Capture::bare(1_000)
        }
    }

    #[test]
    fn prefix_terms_compare_by_specificity() {
        let p = net("10.1.0.0/16");
        let term = |m| PrefixTerm::new(p, m);
        assert!(term(PrefixMatch::Exact).matches(&net("10.1.0.0/16")));
        assert!(!term(PrefixMatch::Exact).matches(&net("10.1.2.0/24")));
        assert!(term(PrefixMatch::More).matches(&net("10.1.2.0/24")));
        assert!(!term(PrefixMatch::More).matches(&net("10.0.0.0/8")));
        assert!(term(PrefixMatch::Less).matches(&net("10.0.0.0/8")));
        assert!(!term(PrefixMatch::Less).matches(&net("10.1.2.0/24")));
        assert!(term(PrefixMatch::Any).matches(&net("10.0.0.0/8")));
        assert!(term(PrefixMatch::Any).matches(&net("10.1.2.0/24")));
        assert!(!term(PrefixMatch::Any).matches(&net("10.2.0.0/16")));
        assert!(!term(PrefixMatch::Any).matches(&net("2001:db8::/32")));
    }

    #[test]
    fn host_bits_are_cleared_from_terms() {
        let term = PrefixTerm::new(net("10.1.2.3/16"), PrefixMatch::Exact);
        assert!(term.matches(&net("10.1.0.0/16")));
    }

    #[test]
    fn values_are_ored_and_terms_anded() {
        let c = capture(&["203.0.113.0/24"]);
        let mut f = CaptureFilter {
            origin_ases: vec![1, 64502],
            ..Default::default()
        };
        assert!(f.matches(&c));
        f.peer_ases = vec![7];
        assert!(!f.matches(&c), "peer AS term must AND with origin term");
        f.peer_ases = vec![7, 64500];
        assert!(f.matches(&c));
    }

    #[test]
    fn prefix_scope_selects_advertised_or_withdrawn() {
        let c = capture(&["203.0.113.0/24"]);
        let mut f = CaptureFilter {
            prefixes: vec![PrefixTerm::new(net("198.51.100.0/24"), PrefixMatch::Exact)],
            ..Default::default()
        };
        assert!(!f.matches(&c));
        f.prefix_scope = PrefixScope::Withdrawn;
        assert!(f.matches(&c));
        f.prefix_scope = PrefixScope::Both;
        assert!(f.matches(&c));
    }

    #[test]
    fn time_window_is_half_open() {
        let c = capture(&[]);
        let window = |start_us, end_us| CaptureFilter {
            time: Some(TimeRange { start_us, end_us }),
            ..Default::default()
        };
        assert!(window(1_000, 1_001).matches(&c));
        assert!(!window(0, 1_000).matches(&c));
        assert!(!window(1_001, 2_000).matches(&c));
    }

    #[test]
    fn path_community_and_kind_terms() {
        let c = capture(&[]);
        let f = CaptureFilter {
            path_contains: vec![64501],
            communities: vec![Community::Standard(64500, 300).into()],
            kind: CaptureKind::Update,
            ..Default::default()
        };
        assert!(f.matches(&c));
        let rib_only = CaptureFilter {
            kind: CaptureKind::Rib,
            ..Default::default()
        };
        assert!(!rib_only.matches(&c));
        let other_path = CaptureFilter {
            path_contains: vec![1],
            ..Default::default()
        };
        assert!(!other_path.matches(&c));
    }

    fn pattern(s: &str) -> CommunityPattern {
        s.parse().unwrap()
    }

    #[test]
    fn community_patterns_are_ored() {
        let c = capture(&[]);
        let with = |list: &[&str]| CaptureFilter {
            communities: list.iter().map(|s| pattern(s)).collect(),
            ..Default::default()
        };
        assert!(with(&["*:300"]).matches(&c));
        assert!(with(&["64500:*"]).matches(&c));
        assert!(with(&["1:1", "*:300"]).matches(&c));
        assert!(!with(&["1:1", "*:301"]).matches(&c));
        assert!(!with(&["*:*:*"]).matches(&c), "no large community");
        assert!(with(&["*:*"]).matches(&c));
    }

    #[test]
    fn path_regexes_are_ored_and_and_with_other_terms() {
        let c = capture(&[]);
        let with = |list: &[&str]| CaptureFilter {
            path_regex: list.iter().map(|s| AsPathRegex::new(s).unwrap()).collect(),
            ..Default::default()
        };
        assert!(with(&["^64500_"]).matches(&c));
        assert!(with(&["_64501_"]).matches(&c));
        assert!(with(&["_64502$"]).matches(&c));
        assert!(!with(&["_6450_"]).matches(&c));
        assert!(with(&["^1_", "_64502$"]).matches(&c));
        assert!(!with(&["^$"]).matches(&c));
        let empty_path = Capture::bare(1);
        assert!(with(&["^$"]).matches(&empty_path));
        let mut f = with(&["_64501_"]);
        f.peer_ases = vec![7];
        assert!(!f.matches(&c));
    }

    #[test]
    fn family_looks_at_every_prefix_without_prefix_terms() {
        // Advertised 203.0.113.0/24 and 2001:db8::/32, withdrawn 198.51.100.0/24.
        let both = capture(&["203.0.113.0/24", "2001:db8::/32"]);
        let with_family = |f| CaptureFilter {
            family: Some(f),
            ..Default::default()
        };
        assert!(with_family(AddressFamily::Ipv4).matches(&both));
        assert!(with_family(AddressFamily::Ipv6).matches(&both));
        // Only the withdrawal is IPv4 here: it counts without prefix terms.
        let v6_only = capture(&["2001:db8::/32"]);
        assert!(with_family(AddressFamily::Ipv4).matches(&v6_only));
        let none = Capture::bare(1);
        assert!(!with_family(AddressFamily::Ipv4).matches(&none));
        assert!(!with_family(AddressFamily::Ipv6).matches(&capture(&["203.0.113.0/24"])));
    }

    #[test]
    fn family_follows_the_prefix_scope_with_prefix_terms() {
        let c = capture(&["2001:db8::/32"]);
        let mut f = CaptureFilter {
            prefixes: vec![PrefixTerm::new(net("::/0"), PrefixMatch::Any)],
            family: Some(AddressFamily::Ipv4),
            ..Default::default()
        };
        // The advertised prefixes hold no IPv4 one.
        assert!(!f.matches(&c));
        f.prefixes = vec![PrefixTerm::new(net("0.0.0.0/0"), PrefixMatch::More)];
        f.prefix_scope = PrefixScope::Withdrawn;
        assert!(f.matches(&c), "the IPv4 withdrawal is in scope");
        f.family = Some(AddressFamily::Ipv6);
        assert!(!f.matches(&c));
        f.prefix_scope = PrefixScope::Both;
        assert!(f.matches(&c));
    }

    #[test]
    fn elements_keep_to_the_scope_terms_and_family() {
        let v4 = net("10.1.2.0/24");
        let v6 = net("2001:db8::/32");
        let all = CaptureFilter::default();
        assert!(all.element_matches(&v4, true) && all.element_matches(&v6, false));
        let only_v6 = CaptureFilter {
            family: Some(AddressFamily::Ipv6),
            ..Default::default()
        };
        assert!(!only_v6.element_matches(&v4, false));
        assert!(only_v6.element_matches(&v6, true));
        let term = CaptureFilter {
            prefixes: vec![PrefixTerm::new(net("10.0.0.0/8"), PrefixMatch::More)],
            ..Default::default()
        };
        assert!(term.element_matches(&v4, false));
        assert!(
            !term.element_matches(&v4, true),
            "withdrawn is out of scope"
        );
        assert!(!term.element_matches(&v6, false));
    }
}
