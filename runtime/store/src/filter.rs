//! Capture and entity filters, and how a capture is matched against them.
//!
//! The values within one term are OR'ed and the terms are AND'ed; an empty
//! term keeps everything.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::model::{Capture, Community, Entity};

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
    /// Which prefixes the prefix terms look at.
    pub prefix_scope: PrefixScope,
    /// ASes of which at least one must be on the path.
    pub path_contains: Vec<u32>,
    /// Communities of which the capture must carry at least one.
    pub communities: Vec<Community>,
    /// Updates, RIB entries or both.
    pub kind: CaptureKind,
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
            && any_or_empty(&self.communities, |c| capture.communities.contains(c))
            && self.prefixes_match(capture)
    }

    /// Whether a single prefix passes the prefix terms.
    pub fn prefix_matches(&self, prefix: &IpNet) -> bool {
        any_or_empty(&self.prefixes, |term| term.matches(prefix))
    }

    fn prefixes_match(&self, capture: &Capture) -> bool {
        if self.prefixes.is_empty() {
            return true;
        }
        let in_advertised = || capture.advertised.iter().any(|p| self.prefix_matches(p));
        let in_withdrawn = || capture.withdrawn.iter().any(|p| self.prefix_matches(p));
        match self.prefix_scope {
            PrefixScope::Advertised => in_advertised(),
            PrefixScope::Withdrawn => in_withdrawn(),
            PrefixScope::Both => in_advertised() || in_withdrawn(),
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
    use crate::model::PathSegment;

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
            communities: vec![Community::Standard(64500, 300)],
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
}
