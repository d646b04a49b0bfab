//! ARTEMIS's hijack classes: prefix (`S` sub-prefix, `E` exact, `Q`
//! squatting), path (`0` illegal origin, `1` illegal first hop, `-`), data
//! plane (always `-`: captures say nothing of it) and policy (`L`, a
//! no-export violation).

use std::fmt;

use crate::net::Net;
use crate::rules::Rule;

/// The prefix dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrefixClass {
    /// More specific than the owned prefix (and than its max length).
    Sub,
    /// The owned prefix itself, or more specific within its max length.
    Exact,
    /// A prefix whose owner announces it from no AS.
    Squat,
}

/// The path dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathClass {
    /// Type 0: the origin is not a legal origin.
    Origin,
    /// Type 1: the origin is legal, the first hop after it is not.
    FirstHop,
    /// The path is legal.
    Legal,
}

/// One hijack class, written as ARTEMIS writes it: `E|0|-|-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HijackType {
    /// The prefix dimension.
    pub prefix: PrefixClass,
    /// The path dimension.
    pub path: PathClass,
    /// Whether a no-export policy was violated.
    pub leak: bool,
}

impl fmt::Display for HijackType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.prefix {
            PrefixClass::Sub => 'S',
            PrefixClass::Exact => 'E',
            PrefixClass::Squat => 'Q',
        };
        let path = match self.path {
            PathClass::Origin => '0',
            PathClass::FirstHop => '1',
            PathClass::Legal => '-',
        };
        let policy = if self.leak { 'L' } else { '-' };
        write!(f, "{prefix}|{path}|-|{policy}")
    }
}

/// A hijack class and the AS it blames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The class.
    pub kind: HijackType,
    /// The hijacking AS: the illegal origin (type 0 and squatting, and a
    /// sub-prefix from a legal path), the illegal first hop (type 1), or the
    /// neighbour that passed on a no-export route (`L` on a legal path).
    /// 0 when the origin is an AS_SET.
    pub hijacker: u32,
}

/// Classifies the announcement of `net` with `path` (neighbour first,
/// origin last, prepends collapsed) and `origin` (`None` for an AS_SET),
/// against `rule`, the most specific rule that covers it.
///
/// Returns `None` when the announcement is legal: `E|-|-|-` is no hijack.
pub fn classify(net: &Net, rule: &Rule, path: &[u32], origin: Option<u32>) -> Option<Verdict> {
    let first_hop = path.len().checked_sub(2).map(|i| path[i]);
    let leak = rule.no_export && path.len() > 2;
    let origin_legal = origin.is_some_and(|o| rule.origins.contains(&o));
    let (prefix, path_class, hijacker) = if rule.origins.is_empty() {
        (PrefixClass::Squat, PathClass::Origin, origin.unwrap_or(0))
    } else {
        let prefix = if net.prefix_len() > rule.max_len {
            PrefixClass::Sub
        } else {
            PrefixClass::Exact
        };
        if !origin_legal {
            (prefix, PathClass::Origin, origin.unwrap_or(0))
        } else if let (Some(hop), Some(allowed)) = (first_hop, &rule.neighbours)
            && !allowed.contains(&hop)
        {
            (prefix, PathClass::FirstHop, hop)
        } else if leak {
            (prefix, PathClass::Legal, first_hop.unwrap_or(0))
        } else if prefix == PrefixClass::Sub {
            (prefix, PathClass::Legal, origin.unwrap_or(0))
        } else {
            return None;
        }
    };
    Some(Verdict {
        kind: HijackType {
            prefix,
            path: path_class,
            leak,
        },
        hijacker,
    })
}

/// Flattens AS_SEQUENCE segments into one path, neighbour first, with
/// prepends collapsed. Returns the path and whether an AS_SET occurred.
/// Confederation segments are left out: they never reach a collector's
/// eBGP view of the route's ASes.
pub fn collapse<'a>(segments: impl IntoIterator<Item = (bool, &'a [u32])>) -> (Vec<u32>, bool) {
    let mut path = Vec::new();
    let has_set = collapse_into(&mut path, segments);
    (path, has_set)
}

/// [`collapse`] into `path`, which it clears first, so that a caller can
/// reuse one buffer from update to update. Returns whether an AS_SET
/// occurred.
pub fn collapse_into<'a>(
    path: &mut Vec<u32>,
    segments: impl IntoIterator<Item = (bool, &'a [u32])>,
) -> bool {
    path.clear();
    let mut has_set = false;
    for (is_set, asns) in segments {
        if is_set {
            has_set = true;
            continue;
        }
        for &asn in asns {
            if path.last() != Some(&asn) {
                path.push(asn);
            }
        }
    }
    has_set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn verdict(rules: &RuleSet, prefix: &str, path: &[u32]) -> Option<String> {
        let net: Net = prefix.parse().unwrap();
        let (_, rule) = rules.covering(&net)?;
        classify(&net, rule, path, path.last().copied())
            .map(|v| format!("{} {}", v.kind, v.hijacker))
    }

    #[test]
    fn every_artemis_class() {
        let rules = RuleSet::parse(
            r#"[{"prefixes": ["10.0.0.0/16"], "origins": [1], "neighbours": [2]},
                {"prefixes": ["10.9.0.0/16"], "origins": [1], "neighbours": [2], "no-export": true},
                {"prefixes": ["10.8.0.0/16"]},
                {"prefixes": ["10.7.0.0/16"], "no-export": true}]"#,
        )
        .unwrap();
        let v = |p: &str, path: &[u32]| verdict(&rules, p, path);
        assert_eq!(v("10.0.0.0/16", &[9, 2, 1]), None, "E|-|-|- is no hijack");
        assert_eq!(v("10.0.0.0/16", &[9, 5]).as_deref(), Some("E|0|-|- 5"));
        assert_eq!(v("10.0.0.0/16", &[9, 6, 1]).as_deref(), Some("E|1|-|- 6"));
        assert_eq!(v("10.0.1.0/24", &[9, 5]).as_deref(), Some("S|0|-|- 5"));
        assert_eq!(v("10.0.1.0/24", &[9, 6, 1]).as_deref(), Some("S|1|-|- 6"));
        assert_eq!(v("10.0.1.0/24", &[9, 2, 1]).as_deref(), Some("S|-|-|- 1"));
        assert_eq!(v("10.8.0.0/16", &[9, 5]).as_deref(), Some("Q|0|-|- 5"));
        assert_eq!(v("10.8.4.0/24", &[9, 5]).as_deref(), Some("Q|0|-|- 5"));
        // No-export: the owner's neighbour 2 passed it on to 9.
        assert_eq!(
            v("10.9.0.0/16", &[2, 1]),
            None,
            "the neighbour itself may hold it"
        );
        assert_eq!(v("10.9.0.0/16", &[9, 2, 1]).as_deref(), Some("E|-|-|L 2"));
        assert_eq!(v("10.9.1.0/24", &[9, 2, 1]).as_deref(), Some("S|-|-|L 2"));
        assert_eq!(v("10.9.0.0/16", &[8, 9, 5]).as_deref(), Some("E|0|-|L 5"));
        assert_eq!(v("10.9.0.0/16", &[8, 6, 1]).as_deref(), Some("E|1|-|L 6"));
        assert_eq!(v("10.9.1.0/24", &[8, 9, 5]).as_deref(), Some("S|0|-|L 5"));
        assert_eq!(v("10.9.1.0/24", &[8, 6, 1]).as_deref(), Some("S|1|-|L 6"));
        assert_eq!(v("10.7.0.0/16", &[8, 9, 5]).as_deref(), Some("Q|0|-|L 5"));
        assert_eq!(v("11.0.0.0/16", &[9, 5]), None, "no rule covers it");
        // An origin that owns the prefix directly peering with the collector.
        assert_eq!(v("10.0.0.0/16", &[1]), None);
    }

    #[test]
    fn a_longer_max_length_makes_more_specifics_legal() {
        let mut rules = RuleSet::default();
        let net: Net = "10.0.0.0/16".parse().unwrap();
        rules.add(
            net,
            Rule {
                max_len: 24,
                origins: [1].into(),
                neighbours: None,
                no_export: false,
            },
        );
        assert_eq!(verdict(&rules, "10.0.1.0/24", &[9, 1]), None);
        assert_eq!(
            verdict(&rules, "10.0.1.0/25", &[9, 1]).as_deref(),
            Some("S|-|-|- 1")
        );
        assert_eq!(
            verdict(&rules, "10.0.1.0/24", &[9, 5]).as_deref(),
            Some("E|0|-|- 5")
        );
    }

    #[test]
    fn collapse_drops_prepends_and_flags_sets() {
        let seq = [1, 1, 2, 3, 3, 3];
        assert_eq!(collapse([(false, &seq[..])]), (vec![1, 2, 3], false));
        let set = [7, 8];
        assert_eq!(
            collapse([(false, &seq[..]), (true, &set[..])]),
            (vec![1, 2, 3], true)
        );
    }
}
