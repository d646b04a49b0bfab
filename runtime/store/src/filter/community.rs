//! Community patterns: a community with any of its parts left open (`*`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::Community;

/// A community to match, each part a value or `None` for the wildcard `*`.
///
/// Written `AS:VALUE` for a standard community and
/// `GLOBAL:LOCAL1:LOCAL2` for a large one, any part `*`: `3356:*`,
/// `*:300`, `*:*`, `64496:1:*`. A pattern with every part given is an
/// exact community.
///
/// # Example
///
/// ```
/// use bgpmon_store::{Community, CommunityPattern};
///
/// let any_300: CommunityPattern = "*:300".parse()?;
/// assert!(any_300.matches(&Community::Standard(37105, 300)));
/// assert!(!any_300.matches(&Community::Large(37105, 0, 300)));
/// assert_eq!(any_300.to_string(), "*:300");
/// # Ok::<(), bgpmon_store::CommunityPatternError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommunityPattern {
    /// A standard community (RFC 1997).
    Standard {
        /// The AS part, or any.
        asn: Option<u16>,
        /// The value part, or any.
        value: Option<u16>,
    },
    /// A large community (RFC 8092).
    Large {
        /// The global administrator, or any.
        global: Option<u32>,
        /// The first local value, or any.
        local1: Option<u32>,
        /// The second local value, or any.
        local2: Option<u32>,
    },
}

/// Why a text is not a community pattern.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommunityPatternError {
    /// Not two or three `:`-separated parts.
    #[error(
        "{text:?} is not a community pattern; write AS:VALUE or GLOBAL:LOCAL1:LOCAL2, each part a number or *, such as 3356:*, *:300 or 64496:1:*"
    )]
    Shape {
        /// The text given.
        text: String,
    },
    /// A part that is neither `*` nor a number in range.
    #[error(
        "{part:?} in community pattern {text:?} is not * or a number from 0 to {max}; fix that part"
    )]
    Part {
        /// The whole text given.
        text: String,
        /// The bad part.
        part: String,
        /// The largest number the part takes.
        max: u32,
    },
}

impl CommunityPattern {
    /// Whether `community` matches: the same kind, and every given part
    /// equal.
    pub fn matches(&self, community: &Community) -> bool {
        fn part<T: PartialEq + Copy>(want: Option<T>, have: T) -> bool {
            want.is_none_or(|w| w == have)
        }
        match (*self, *community) {
            (Self::Standard { asn, value }, Community::Standard(a, v)) => {
                part(asn, a) && part(value, v)
            }
            (
                Self::Large {
                    global,
                    local1,
                    local2,
                },
                Community::Large(g, l1, l2),
            ) => part(global, g) && part(local1, l1) && part(local2, l2),
            _ => false,
        }
    }

    /// The community this pattern matches alone, when every part is given.
    pub fn exact(&self) -> Option<Community> {
        match *self {
            Self::Standard {
                asn: Some(a),
                value: Some(v),
            } => Some(Community::Standard(a, v)),
            Self::Large {
                global: Some(g),
                local1: Some(l1),
                local2: Some(l2),
            } => Some(Community::Large(g, l1, l2)),
            _ => None,
        }
    }
}

impl From<Community> for CommunityPattern {
    /// The exact pattern of `community`.
    fn from(community: Community) -> Self {
        match community {
            Community::Standard(a, v) => Self::Standard {
                asn: Some(a),
                value: Some(v),
            },
            Community::Large(g, l1, l2) => Self::Large {
                global: Some(g),
                local1: Some(l1),
                local2: Some(l2),
            },
        }
    }
}

/// A part as text: its number, or `*`.
struct Part<T>(Option<T>);

impl<T: fmt::Display> fmt::Display for Part<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("*"),
        }
    }
}

impl fmt::Display for CommunityPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Standard { asn, value } => write!(f, "{}:{}", Part(asn), Part(value)),
            Self::Large {
                global,
                local1,
                local2,
            } => write!(f, "{}:{}:{}", Part(global), Part(local1), Part(local2)),
        }
    }
}

impl FromStr for CommunityPattern {
    type Err = CommunityPatternError;

    /// Parses `AS:VALUE` or `GLOBAL:LOCAL1:LOCAL2`, each part a decimal
    /// number or `*`.
    ///
    /// Returns an error if there are not two or three parts, or a part is
    /// neither `*` nor a number in its range (65535 for a standard
    /// community's parts, 4294967295 for a large one's).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        fn part<T: FromStr + Into<u32>>(
            text: &str,
            part: &str,
            max: u32,
        ) -> Result<Option<T>, CommunityPatternError> {
            if part == "*" {
                return Ok(None);
            }
            // `u16::from_str` takes a leading `+`; a community part is digits only.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(text, part, max));
            }
            part.parse().map(Some).map_err(|_| bad(text, part, max))
        }
        fn bad(text: &str, part: &str, max: u32) -> CommunityPatternError {
            CommunityPatternError::Part {
                text: text.to_owned(),
                part: part.to_owned(),
                max,
            }
        }
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            [a, v] => Ok(Self::Standard {
                asn: part::<u16>(text, a, u16::MAX.into())?,
                value: part::<u16>(text, v, u16::MAX.into())?,
            }),
            [g, l1, l2] => Ok(Self::Large {
                global: part::<u32>(text, g, u32::MAX)?,
                local1: part::<u32>(text, l1, u32::MAX)?,
                local2: part::<u32>(text, l2, u32::MAX)?,
            }),
            _ => Err(CommunityPatternError::Shape {
                text: text.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pattern(s: &str) -> CommunityPattern {
        s.parse().unwrap()
    }

    #[test]
    fn wildcards_leave_parts_open() {
        let c = Community::Standard(3356, 300);
        for yes in ["3356:300", "3356:*", "*:300", "*:*"] {
            assert!(pattern(yes).matches(&c), "{yes}");
        }
        for no in ["3356:301", "174:*", "*:3", "3356:300:*", "*:*:*"] {
            assert!(!pattern(no).matches(&c), "{no}");
        }
        let l = Community::Large(64496, 1, 3);
        for yes in ["64496:1:3", "64496:*:3", "*:*:*", "*:1:*"] {
            assert!(pattern(yes).matches(&l), "{yes}");
        }
        for no in ["64496:2:3", "1:*:*", "*:*"] {
            assert!(!pattern(no).matches(&l), "{no}");
        }
    }

    #[test]
    fn exact_patterns_are_communities() {
        assert_eq!(
            pattern("37105:300").exact(),
            Some(Community::Standard(37105, 300))
        );
        assert_eq!(pattern("1:2:3").exact(), Some(Community::Large(1, 2, 3)));
        assert_eq!(pattern("1:*:3").exact(), None);
        assert_eq!(pattern("*:300").exact(), None);
        let c = Community::Large(4_294_967_295, 0, 7);
        assert_eq!(CommunityPattern::from(c).exact(), Some(c));
    }

    #[test]
    fn bad_patterns_say_which_part_and_what_to_write() {
        let e = "70000:1".parse::<CommunityPattern>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"70000\" in community pattern \"70000:1\" is not * or a number from 0 to 65535; fix that part"
        );
        let e = "1:2:4294967296".parse::<CommunityPattern>().unwrap_err();
        assert!(
            matches!(e, CommunityPatternError::Part { max: u32::MAX, .. }),
            "{e:?}"
        );
        for shape in ["", "1", "1:2:3:4", "x"] {
            let e = shape.parse::<CommunityPattern>().unwrap_err();
            assert!(
                matches!(e, CommunityPatternError::Shape { .. }),
                "{shape}: {e:?}"
            );
            assert!(e.to_string().contains("such as 3356:*"), "{e}");
        }
        for part in ["+1:2", "1:", ":2", "**:1", "-1:2", "1: 2"] {
            assert!(part.parse::<CommunityPattern>().is_err(), "{part}");
        }
    }

    fn part<T: Arbitrary + Clone + 'static>() -> impl Strategy<Value = Option<T>> {
        prop::option::of(any::<T>())
    }

    fn any_pattern() -> impl Strategy<Value = CommunityPattern> {
        prop_oneof![
            (part::<u16>(), part::<u16>())
                .prop_map(|(asn, value)| CommunityPattern::Standard { asn, value }),
            (part::<u32>(), part::<u32>(), part::<u32>()).prop_map(|(global, local1, local2)| {
                CommunityPattern::Large {
                    global,
                    local1,
                    local2,
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn parsing_a_printed_pattern_gives_it_back(p in any_pattern()) {
            let text = p.to_string();
            prop_assert_eq!(text.parse::<CommunityPattern>(), Ok(p));
        }

        #[test]
        fn an_exact_pattern_matches_its_community_only(
            c in prop_oneof![
                any::<(u16, u16)>().prop_map(|(a, v)| Community::Standard(a, v)),
                any::<(u32, u32, u32)>().prop_map(|(g, l1, l2)| Community::Large(g, l1, l2)),
            ],
            other in any::<(u16, u16)>(),
        ) {
            let p = CommunityPattern::from(c);
            prop_assert!(p.matches(&c));
            let o = Community::Standard(other.0, other.1);
            prop_assert_eq!(p.matches(&o), o == c);
        }
    }
}
