//! Filter flags, shared by the read commands.

use std::net::IpAddr;

use bgpmon_proto::{ip_to_bytes, prefix_to_proto, v1};
use clap::{Args, ValueEnum};
use ipnet::IpNet;

use crate::time::Timestamp;

/// How `--prefix` compares a capture's prefixes with the one given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum MatchArg {
    /// The same prefix.
    #[default]
    Exact,
    /// The prefix or a more specific one inside it.
    More,
    /// The prefix or a less specific one covering it.
    Less,
    /// Any overlapping prefix.
    Any,
}

/// A community pattern: `AS:VALUE` (standard) or `GLOBAL:LOCAL1:LOCAL2`
/// (large), each part a number or `*` for any value, such as `3356:*`,
/// `*:300` or `64496:1:*`. The syntax is the store's `CommunityPattern`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommunityArg {
    /// A standard community's AS and value; `None` is `*`.
    Standard(Option<u16>, Option<u16>),
    /// A large community's global and local parts; `None` is `*`.
    Large(Option<u32>, Option<u32>, Option<u32>),
}

impl std::str::FromStr for CommunityArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        fn part<T: std::str::FromStr>(s: &str, part: &str, max: u32) -> Result<Option<T>, String> {
            if part == "*" {
                return Ok(None);
            }
            let bad = || {
                format!(
                    "{part:?} in community {s:?} is not * or a number from 0 to {max}; fix that part"
                )
            };
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map(Some).map_err(|_| bad())
        }
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [a, v] => Ok(Self::Standard(
                part(s, a, u16::MAX.into())?,
                part(s, v, u16::MAX.into())?,
            )),
            [g, l1, l2] => Ok(Self::Large(
                part(s, g, u32::MAX)?,
                part(s, l1, u32::MAX)?,
                part(s, l2, u32::MAX)?,
            )),
            _ => Err(format!(
                "{s:?} is not a community; write AS:VALUE or GLOBAL:LOCAL1:LOCAL2, each part a number or *, such as 64496:300, 3356:* or *:300"
            )),
        }
    }
}

impl std::fmt::Display for CommunityArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn part<T: std::fmt::Display>(v: Option<T>) -> String {
            v.map_or_else(|| "*".to_owned(), |v| v.to_string())
        }
        match *self {
            Self::Standard(a, v) => write!(f, "{}:{}", part(a), part(v)),
            Self::Large(g, l1, l2) => write!(f, "{}:{}:{}", part(g), part(l1), part(l2)),
        }
    }
}

/// A community term on the wire: an exact community goes in the old
/// `communities` field, which every daemon reads; one with a wildcard in
/// `community_patterns`.
enum CommunityTerm {
    Exact(v1::Community),
    Pattern(v1::CommunityPattern),
}

impl CommunityArg {
    fn to_proto(self) -> CommunityTerm {
        use v1::community_pattern::Pattern;
        match self {
            Self::Standard(Some(asn), Some(value)) => CommunityTerm::Exact(v1::Community {
                value: Some(v1::community::Value::Standard(v1::StandardCommunity {
                    asn: u32::from(asn),
                    value: u32::from(value),
                })),
            }),
            Self::Large(Some(global), Some(local1), Some(local2)) => {
                CommunityTerm::Exact(v1::Community {
                    value: Some(v1::community::Value::Large(v1::LargeCommunity {
                        global,
                        local1,
                        local2,
                    })),
                })
            }
            Self::Standard(asn, value) => CommunityTerm::Pattern(v1::CommunityPattern {
                pattern: Some(Pattern::Standard(v1::StandardCommunityPattern {
                    asn: asn.map(u32::from),
                    value: value.map(u32::from),
                })),
            }),
            Self::Large(global, local1, local2) => CommunityTerm::Pattern(v1::CommunityPattern {
                pattern: Some(Pattern::Large(v1::LargeCommunityPattern {
                    global,
                    local1,
                    local2,
                })),
            }),
        }
    }
}

/// An address family for `-4` and `-6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl Family {
    /// Whether `prefix` is of this family.
    pub fn contains(self, prefix: &IpNet) -> bool {
        matches!(
            (self, prefix),
            (Self::Ipv4, IpNet::V4(_)) | (Self::Ipv6, IpNet::V6(_))
        )
    }
}

/// Capture filter flags. Repeating a flag ORs its values; different flags
/// AND.
#[derive(Clone, Debug, Default, Args)]
pub struct FilterArgs {
    /// Keep captures from this collector.
    #[arg(long, value_name = "NAME")]
    pub collector: Vec<String>,
    /// Keep captures at or after this time (RFC 3339, YYYY-MM-DD or unix
    /// seconds, either with fractions of a second; UTC).
    #[arg(long, value_name = "TIME")]
    pub start: Option<Timestamp>,
    /// Keep captures before this time; --end is exclusive: a capture at
    /// exactly this time is left out.
    #[arg(long, value_name = "TIME")]
    pub end: Option<Timestamp>,
    /// Keep captures from this peer IP.
    #[arg(long, value_name = "IP")]
    pub peer: Vec<IpAddr>,
    /// Keep captures from this peer AS.
    #[arg(long = "peer-as", value_name = "ASN")]
    pub peer_as: Vec<u32>,
    /// Keep captures originated by this AS.
    #[arg(long, value_name = "ASN")]
    pub origin: Vec<u32>,
    /// Keep captures with a prefix matching this one (see --match).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Vec<IpNet>,
    /// How --prefix matches.
    #[arg(long = "match", value_enum, default_value = "exact")]
    pub specificity: MatchArg,
    /// Match --prefix against withdrawn prefixes instead of advertised ones.
    #[arg(long)]
    pub withdrawn: bool,
    /// Keep captures whose AS path contains this AS.
    #[arg(long = "path-contains", value_name = "ASN")]
    pub path_contains: Vec<u32>,
    /// Keep captures whose AS path matches this regular expression, where
    /// `_` is a boundary: ^3356_ (learned from AS3356), _174_ (through
    /// AS174), _13335$ (originated by AS13335), ^$ (empty). The path is
    /// ASes separated by spaces, an AS_SET written {a,b}.
    #[arg(long = "path-regex", value_name = "REGEX")]
    pub path_regex: Vec<String>,
    /// Keep captures carrying a community matching this one (AS:VALUE or
    /// G:L1:L2, any part * for any value: 3356:*, *:300).
    #[arg(long, value_name = "COMMUNITY")]
    pub community: Vec<CommunityArg>,
    /// Keep captures with an IPv4 prefix, and print only IPv4 elements
    /// (with --prefix, only the prefixes --withdrawn selects count).
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Keep captures with an IPv6 prefix, and print only IPv6 elements.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Keep only RIB entries.
    #[arg(long, conflicts_with = "updates")]
    pub rib: bool,
    /// Keep only updates.
    #[arg(long)]
    pub updates: bool,
    /// Keep captures a BMP station received for this view of a router's
    /// routes. Captures from MRT files have no view.
    #[arg(long, value_enum, value_name = "VIEW")]
    pub view: Vec<ViewArg>,
}

/// A BMP view for `--view`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ViewArg {
    /// Adj-RIB-In before the router's inbound policy.
    PrePolicy,
    /// Adj-RIB-In after the router's inbound policy.
    PostPolicy,
    /// The routes the router selected (Loc-RIB).
    LocRib,
}

impl ViewArg {
    /// The wire value.
    pub fn to_proto(self) -> v1::RouteView {
        match self {
            Self::PrePolicy => v1::RouteView::PrePolicy,
            Self::PostPolicy => v1::RouteView::PostPolicy,
            Self::LocRib => v1::RouteView::LocRib,
        }
    }
}

impl MatchArg {
    /// Whether `candidate` matches `term` by this specificity.
    pub fn matches(self, term: &IpNet, candidate: &IpNet) -> bool {
        let term = term.trunc();
        match self {
            Self::Exact => term == *candidate,
            Self::More => term.contains(candidate),
            Self::Less => candidate.contains(&term),
            Self::Any => term.contains(candidate) || candidate.contains(&term),
        }
    }
}

/// The element-level part of a filter: which prefixes of a matching
/// capture the PSV and bgpdump formats print.
#[derive(Clone, Debug, Default)]
pub struct ElementFilter {
    terms: Vec<IpNet>,
    specificity: MatchArg,
    withdrawn: bool,
    family: Option<Family>,
}

impl ElementFilter {
    /// Whether the element `prefix` (withdrawn or not) is printed:
    ///
    /// - with prefix terms, it is on the side --withdrawn selects and
    ///   matches a term;
    /// - with -4 or -6, it is of that family.
    pub fn keeps(&self, prefix: &IpNet, withdrawn: bool) -> bool {
        let scoped = self.terms.is_empty()
            || (withdrawn == self.withdrawn
                && self
                    .terms
                    .iter()
                    .any(|t| self.specificity.matches(t, prefix)));
        scoped && self.family.is_none_or(|f| f.contains(prefix))
    }
}

impl FilterArgs {
    /// The prefix terms and the family, applied to single elements.
    pub fn element_filter(&self) -> ElementFilter {
        ElementFilter {
            terms: self.prefix.clone(),
            specificity: self.specificity,
            withdrawn: self.withdrawn,
            family: self.family(),
        }
    }

    /// The family -4 or -6 chose.
    pub fn family(&self) -> Option<Family> {
        if self.ipv4 {
            Some(Family::Ipv4)
        } else if self.ipv6 {
            Some(Family::Ipv6)
        } else {
            None
        }
    }

    /// The wire filter.
    ///
    /// Returns an error if the time window is empty.
    pub fn to_proto(&self) -> anyhow::Result<v1::CaptureFilter> {
        if let (Some(start), Some(end)) = (self.start, self.end)
            && start.0 >= end.0
        {
            anyhow::bail!("--start is not before --end; give a start earlier than the end");
        }
        let specificity = match self.specificity {
            MatchArg::Exact => v1::PrefixMatch::Exact,
            MatchArg::More => v1::PrefixMatch::More,
            MatchArg::Less => v1::PrefixMatch::Less,
            MatchArg::Any => v1::PrefixMatch::Any,
        };
        let (mut communities, mut community_patterns) = (Vec::new(), Vec::new());
        for c in &self.community {
            match c.to_proto() {
                CommunityTerm::Exact(c) => communities.push(c),
                CommunityTerm::Pattern(p) => community_patterns.push(p),
            }
        }
        Ok(v1::CaptureFilter {
            views: self.view.iter().map(|v| v.to_proto().into()).collect(),
            collectors: self.collector.clone(),
            start_us: self.start.map(|t| t.0),
            end_us: self.end.map(|t| t.0),
            peer_ips: self.peer.iter().map(|ip| ip_to_bytes(*ip)).collect(),
            peer_ases: self.peer_as.clone(),
            origin_ases: self.origin.clone(),
            prefixes: self
                .prefix
                .iter()
                .map(|p| v1::PrefixTerm {
                    prefix: Some(prefix_to_proto(&p.trunc())),
                    r#match: specificity.into(),
                })
                .collect(),
            prefix_scope: if self.withdrawn {
                v1::PrefixScope::Withdrawn
            } else {
                v1::PrefixScope::Advertised
            }
            .into(),
            path_contains: self.path_contains.clone(),
            communities,
            kind: if self.rib {
                v1::CaptureKind::Rib
            } else if self.updates {
                v1::CaptureKind::Update
            } else {
                v1::CaptureKind::Unspecified
            }
            .into(),
            community_patterns,
            path_regex: self.path_regex.clone(),
            family: match self.family() {
                Some(Family::Ipv4) => v1::AddressFamily::Ipv4,
                Some(Family::Ipv6) => v1::AddressFamily::Ipv6,
                None => v1::AddressFamily::Unspecified,
            }
            .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::Parser;
    use proptest::prelude::*;

    #[test]
    fn communities_parse_in_both_forms_with_wildcards() {
        assert_eq!(
            "64496:300".parse(),
            Ok(CommunityArg::Standard(Some(64496), Some(300)))
        );
        assert_eq!(
            "1:2:3".parse(),
            Ok(CommunityArg::Large(Some(1), Some(2), Some(3)))
        );
        assert_eq!("*:300".parse(), Ok(CommunityArg::Standard(None, Some(300))));
        assert_eq!(
            "3356:*".parse(),
            Ok(CommunityArg::Standard(Some(3356), None))
        );
        assert_eq!("*:*".parse(), Ok(CommunityArg::Standard(None, None)));
        assert_eq!(
            "1:*:3".parse(),
            Ok(CommunityArg::Large(Some(1), None, Some(3)))
        );
        let e = "70000:1".parse::<CommunityArg>().unwrap_err();
        assert!(e.contains("\"70000\"") && e.contains("0 to 65535"), "{e}");
        let e = "x".parse::<CommunityArg>().unwrap_err();
        assert!(e.contains("such as 64496:300, 3356:* or *:300"), "{e}");
        for bad in ["+1:2", "1:", "**:1", "1:2:3:4"] {
            assert!(bad.parse::<CommunityArg>().is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_communities_use_the_old_field_and_wildcards_the_new() {
        let f = FilterArgs {
            community: vec![
                "37105:300".parse().unwrap(),
                "*:300".parse().unwrap(),
                "1:*:3".parse().unwrap(),
            ],
            ..Default::default()
        };
        let wire = f.to_proto().unwrap();
        assert_eq!(wire.communities.len(), 1);
        assert_eq!(wire.community_patterns.len(), 2);
        assert_eq!(
            wire.community_patterns[0].pattern,
            Some(v1::community_pattern::Pattern::Standard(
                v1::StandardCommunityPattern {
                    asn: None,
                    value: Some(300)
                }
            ))
        );
    }

    /// The flags parsed as `bgpmon read count s ARGS` would parse them.
    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        filter: FilterArgs,
    }

    fn flags(args: &[&str]) -> Result<FilterArgs, clap::Error> {
        Flags::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map(|f| f.filter)
    }

    #[test]
    fn ipv4_and_ipv6_conflict_and_reach_the_wire() {
        let e = flags(&["-4", "-6"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let v4 = flags(&["-4"]).unwrap();
        assert_eq!(v4.family(), Some(Family::Ipv4));
        assert_eq!(
            v4.to_proto().unwrap().family,
            i32::from(v1::AddressFamily::Ipv4)
        );
        let v6 = flags(&["--ipv6", "--path-regex", "_174_", "--path-regex", "^3356_"]).unwrap();
        let wire = v6.to_proto().unwrap();
        assert_eq!(wire.family, i32::from(v1::AddressFamily::Ipv6));
        assert_eq!(wire.path_regex, ["_174_", "^3356_"]);
        assert_eq!(flags(&[]).unwrap().to_proto().unwrap().family, 0);
    }

    #[test]
    fn elements_keep_to_the_family() {
        let v4: IpNet = "10.0.0.0/8".parse().unwrap();
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        let only_v6 = flags(&["-6"]).unwrap().element_filter();
        assert!(!only_v6.keeps(&v4, false));
        assert!(only_v6.keeps(&v6, true));
        let both = flags(&["-4", "--prefix", "10.0.0.0/8", "--match", "more"])
            .unwrap()
            .element_filter();
        assert!(both.keeps(&v4, false));
        assert!(!both.keeps(&v4, true));
        assert!(!both.keeps(&v6, false));
    }

    #[test]
    fn help_says_end_is_exclusive() {
        use clap::CommandFactory;
        let help = Flags::command().render_long_help().to_string();
        assert!(help.contains("--end is exclusive"), "{help}");
    }

    fn any_community() -> impl Strategy<Value = CommunityArg> {
        let part16 = || prop::option::of(any::<u16>());
        let part32 = || prop::option::of(any::<u32>());
        prop_oneof![
            (part16(), part16()).prop_map(|(a, v)| CommunityArg::Standard(a, v)),
            (part32(), part32(), part32()).prop_map(|(g, a, b)| CommunityArg::Large(g, a, b)),
        ]
    }

    proptest! {
        #[test]
        fn a_printed_community_parses_back(c in any_community()) {
            prop_assert_eq!(c.to_string().parse::<CommunityArg>(), Ok(c));
        }
    }

    #[test]
    fn an_empty_window_is_refused() {
        let f = FilterArgs {
            start: Some(Timestamp(10)),
            end: Some(Timestamp(10)),
            ..Default::default()
        };
        assert!(f.to_proto().is_err());
    }
}
