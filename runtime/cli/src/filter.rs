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

/// A community: `AS:VALUE` (standard) or `GLOBAL:LOCAL1:LOCAL2` (large).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommunityArg {
    /// A standard community.
    Standard(u16, u16),
    /// A large community.
    Large(u32, u32, u32),
}

impl std::str::FromStr for CommunityArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("{s:?} is not a community; write AS:VALUE (64496:300) or GLOBAL:LOCAL1:LOCAL2")
        };
        let parts: Vec<&str> = s.split(':').collect();
        match parts.as_slice() {
            [a, v] => Ok(Self::Standard(
                a.parse().map_err(|_| bad())?,
                v.parse().map_err(|_| bad())?,
            )),
            [g, l1, l2] => Ok(Self::Large(
                g.parse().map_err(|_| bad())?,
                l1.parse().map_err(|_| bad())?,
                l2.parse().map_err(|_| bad())?,
            )),
            _ => Err(bad()),
        }
    }
}

impl CommunityArg {
    fn to_proto(self) -> v1::Community {
        let value = match self {
            Self::Standard(asn, value) => v1::community::Value::Standard(v1::StandardCommunity {
                asn: u32::from(asn),
                value: u32::from(value),
            }),
            Self::Large(global, local1, local2) => {
                v1::community::Value::Large(v1::LargeCommunity {
                    global,
                    local1,
                    local2,
                })
            }
        };
        v1::Community { value: Some(value) }
    }
}

/// Capture filter flags. Repeating a flag ORs its values; different flags
/// AND.
#[derive(Clone, Debug, Default, Args)]
pub struct FilterArgs {
    /// Keep captures from this collector.
    #[arg(long, value_name = "NAME")]
    pub collector: Vec<String>,
    /// Keep captures at or after this time (RFC 3339, YYYY-MM-DD or unix seconds; UTC).
    #[arg(long, value_name = "TIME")]
    pub start: Option<Timestamp>,
    /// Keep captures before this time.
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
    /// Keep captures carrying this community (AS:VALUE or G:L1:L2).
    #[arg(long, value_name = "COMMUNITY")]
    pub community: Vec<CommunityArg>,
    /// Keep only RIB entries.
    #[arg(long, conflicts_with = "updates")]
    pub rib: bool,
    /// Keep only updates.
    #[arg(long)]
    pub updates: bool,
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
/// capture the PSV format prints.
#[derive(Clone, Debug, Default)]
pub struct ElementFilter {
    terms: Vec<IpNet>,
    specificity: MatchArg,
    withdrawn: bool,
}

impl ElementFilter {
    /// Whether the element `prefix` (withdrawn or not) is printed.
    pub fn keeps(&self, prefix: &IpNet, withdrawn: bool) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        withdrawn == self.withdrawn
            && self
                .terms
                .iter()
                .any(|t| self.specificity.matches(t, prefix))
    }
}

impl FilterArgs {
    /// The prefix terms, applied to single elements.
    pub fn element_filter(&self) -> ElementFilter {
        ElementFilter {
            terms: self.prefix.clone(),
            specificity: self.specificity,
            withdrawn: self.withdrawn,
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
        Ok(v1::CaptureFilter {
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
            communities: self.community.iter().map(|c| c.to_proto()).collect(),
            kind: if self.rib {
                v1::CaptureKind::Rib
            } else if self.updates {
                v1::CaptureKind::Update
            } else {
                v1::CaptureKind::Unspecified
            }
            .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities_parse_in_both_forms() {
        assert_eq!("64496:300".parse(), Ok(CommunityArg::Standard(64496, 300)));
        assert_eq!("1:2:3".parse(), Ok(CommunityArg::Large(1, 2, 3)));
        assert!("70000:1".parse::<CommunityArg>().is_err());
        assert!("x".parse::<CommunityArg>().is_err());
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
