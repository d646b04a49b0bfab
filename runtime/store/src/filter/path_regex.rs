//! AS-path regular expressions in the style of Cisco IOS and BGPStream,
//! matched against the path written as text.
//!
//! The text of a path is its ASes in order, separated by spaces, with an
//! AS_SET as `{a,b}`, an AS_CONFED_SEQUENCE as `(a b)` and an
//! AS_CONFED_SET as `[a,b]`: the form bgpdump, bgpkit-parser and
//! `bgpmon read` print, so `37105 37549` or `3356 1299 {64500,64501}`. A
//! pattern is searched anywhere in that text; `_` stands for a boundary
//! (the start, the end, a space, or the punctuation of a set or a
//! confederation), so `_174_` finds AS174 and not AS1742.

use std::fmt;

use regex::bytes::{Regex, RegexBuilder};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::PathSegment;

/// The longest AS-path pattern accepted, in bytes.
///
/// Patterns come from clients and modules. Matching is linear in the path
/// whatever the pattern, but compiling is not: this cap, with
/// [`MAX_PATH_REGEX_COMPILED_BYTES`], bounds what one filter can make the
/// daemon spend. Real patterns are a few dozen bytes.
pub const MAX_PATH_REGEX_BYTES: usize = 1024;

/// The most memory one compiled pattern, and its lazy DFA cache, may take.
///
/// A short pattern can still compile big (`(3356_){1,1000}`); past this
/// size it is refused rather than held for the life of a stream.
pub const MAX_PATH_REGEX_COMPILED_BYTES: usize = 1024 * 1024;

/// What `_` becomes: the start, the end, or one separator character.
const BOUNDARY: &str = r"(?:^|$|[ ,{}()\[\]])";

/// How many characters of a pattern an error message quotes.
const QUOTED_CHARS: usize = 64;

/// Why a text is not an AS-path pattern.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathRegexError {
    /// The pattern is longer than [`MAX_PATH_REGEX_BYTES`].
    #[error("AS path pattern {start:?}… is {length} bytes, over the {max} allowed; shorten it")]
    TooLong {
        /// The first characters of the pattern.
        start: String,
        /// Its length in bytes.
        length: usize,
        /// The most allowed.
        max: usize,
    },
    /// The pattern is not a valid regular expression.
    #[error(
        "AS path pattern {pattern:?} is not a valid regular expression ({reason}); write one such as \"^3356_\", \"_174_\" or \"_13335$\""
    )]
    Invalid {
        /// The pattern.
        pattern: String,
        /// What the regular expression parser said.
        reason: String,
    },
    /// The pattern compiles to more than [`MAX_PATH_REGEX_COMPILED_BYTES`].
    #[error(
        "AS path pattern {pattern:?} compiles to more than {limit} bytes; simplify it (fewer or smaller repetitions)"
    )]
    TooBig {
        /// The pattern.
        pattern: String,
        /// The compiled-size limit.
        limit: usize,
    },
}

/// An AS-path regular expression: its text and the compiled matcher.
///
/// Two values are equal, print and serialize by their pattern text.
///
/// # Example
///
/// ```
/// use bgpmon_store::{AsPathRegex, PathSegment};
///
/// let transit = AsPathRegex::new("_174_")?;
/// let path = [PathSegment::Sequence(vec![3356, 174, 13335])];
/// assert!(transit.matches_path(&path));
/// assert!(!transit.is_match("3356 1742 13335"));
/// # Ok::<(), bgpmon_store::PathRegexError>(())
/// ```
#[derive(Clone)]
pub struct AsPathRegex {
    pattern: String,
    regex: Regex,
}

impl AsPathRegex {
    /// Compiles `pattern`.
    ///
    /// - `_` (outside a bracket expression, and not escaped) matches a
    ///   boundary: the start, the end, a space, or one of `,{}()[]`;
    /// - `^` and `$` anchor at the start and end of the whole path; `^$`
    ///   matches the empty path;
    /// - everything else is the `regex` crate's syntax, ASCII only (`\d` is
    ///   `[0-9]`).
    ///
    /// Returns an error if the pattern is longer than
    /// [`MAX_PATH_REGEX_BYTES`], is not a valid regular expression, or
    /// compiles to more than [`MAX_PATH_REGEX_COMPILED_BYTES`].
    pub fn new(pattern: &str) -> Result<Self, PathRegexError> {
        if pattern.len() > MAX_PATH_REGEX_BYTES {
            return Err(PathRegexError::TooLong {
                start: pattern.chars().take(QUOTED_CHARS).collect(),
                length: pattern.len(),
                max: MAX_PATH_REGEX_BYTES,
            });
        }
        let regex = RegexBuilder::new(&expand_boundaries(pattern))
            .unicode(false)
            .size_limit(MAX_PATH_REGEX_COMPILED_BYTES)
            .dfa_size_limit(MAX_PATH_REGEX_COMPILED_BYTES)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(limit) => PathRegexError::TooBig {
                    pattern: pattern.to_owned(),
                    limit,
                },
                other => PathRegexError::Invalid {
                    pattern: pattern.to_owned(),
                    reason: parser_reason(&other),
                },
            })?;
        Ok(Self {
            pattern: pattern.to_owned(),
            regex,
        })
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern matches the path text `text` (see
    /// [`AsPathRegex::path_text`]).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text.as_bytes())
    }

    /// Whether the pattern matches `path`.
    pub fn matches_path(&self, path: &[PathSegment]) -> bool {
        self.is_match(&Self::path_text(path))
    }

    /// The text patterns are matched against: segments separated by a
    /// space, a sequence's ASes by spaces, a set as `{a,b}`, a confederation
    /// sequence as `(a b)` and a confederation set as `[a,b]`; empty
    /// segments are left out.
    pub fn path_text(path: &[PathSegment]) -> String {
        use std::fmt::Write as _;
        let mut text = String::new();
        for segment in path.iter().filter(|s| !s.asns().is_empty()) {
            let (open, separator, close) = match segment {
                PathSegment::Sequence(_) => ("", ' ', ""),
                PathSegment::Set(_) => ("{", ',', "}"),
                PathSegment::ConfedSequence(_) => ("(", ' ', ")"),
                PathSegment::ConfedSet(_) => ("[", ',', "]"),
            };
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(open);
            for (i, asn) in segment.asns().iter().enumerate() {
                if i > 0 {
                    text.push(separator);
                }
                let _ = write!(text, "{asn}");
            }
            text.push_str(close);
        }
        text
    }
}

/// `pattern` with every boundary `_` replaced by [`BOUNDARY`]; an escaped
/// `\_` and a `_` inside `[...]` stay literal.
fn expand_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal member.
                let rest = chars.as_str();
                let literal = if rest.starts_with("^]") {
                    2
                } else {
                    usize::from(rest.starts_with(']'))
                };
                for _ in 0..literal {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '_' if !in_class => out.push_str(BOUNDARY),
            _ => out.push(c),
        }
    }
    out
}

/// The one-line reason of a regex parse error: its `error: ...` line, since
/// the caret drawing above it points into the expanded pattern, not the one
/// the user wrote.
fn parser_reason(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .unwrap_or(text.trim())
        .to_owned()
}

impl fmt::Debug for AsPathRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AsPathRegex").field(&self.pattern).finish()
    }
}

impl fmt::Display for AsPathRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

impl PartialEq for AsPathRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for AsPathRegex {}

impl std::str::FromStr for AsPathRegex {
    type Err = PathRegexError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for AsPathRegex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.pattern)
    }
}

impl<'de> Deserialize<'de> for AsPathRegex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pattern = String::deserialize(deserializer)?;
        Self::new(&pattern).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> AsPathRegex {
        AsPathRegex::new(p).unwrap()
    }

    #[test]
    fn underscores_match_boundaries_only() {
        let transit = re("_174_");
        assert!(transit.is_match("3356 174 13335"));
        assert!(transit.is_match("174"));
        assert!(transit.is_match("174 13335"));
        assert!(transit.is_match("3356 174"));
        assert!(!transit.is_match("3356 1742 13335"));
        assert!(!transit.is_match("3356 2174 13335"));
        // Set and confederation punctuation are boundaries too.
        assert!(transit.is_match("3356 {64500,174}"));
        assert!(transit.is_match("(65001 174) 3356"));
        assert!(transit.is_match("3356 [174,65002]"));
    }

    #[test]
    fn anchors_hold_at_the_ends_of_the_whole_path() {
        assert!(re("^3356_").is_match("3356 174"));
        assert!(re("^3356_").is_match("3356"));
        assert!(!re("^3356_").is_match("174 3356"));
        assert!(!re("^3356_").is_match("33561 174"));
        assert!(re("_13335$").is_match("3356 13335"));
        assert!(!re("_13335$").is_match("13335 3356"));
        assert!(re("^$").is_match(""));
        assert!(!re("^$").is_match("3356"));
        assert!(re("^3356_174_13335$").is_match("3356 174 13335"));
        assert!(re("^[0-9]+$").is_match("64500"));
        assert!(re(r"^\d+_\d+$").is_match("64500 64501"));
        assert!(re("_(174|3356)_").is_match("1299 3356 13335"));
    }

    #[test]
    fn sets_are_written_in_braces() {
        let path = [
            PathSegment::Sequence(vec![3356, 1299]),
            PathSegment::Set(vec![64500, 64501]),
        ];
        assert_eq!(AsPathRegex::path_text(&path), "3356 1299 {64500,64501}");
        assert!(re(r"\{64500,64501\}$").matches_path(&path));
        assert!(re("_64501_").matches_path(&path));
        assert!(!re("_1299$").matches_path(&path), "the set is last");
        let confed = [
            PathSegment::ConfedSequence(vec![65001, 65002]),
            PathSegment::ConfedSet(vec![65003]),
            PathSegment::Sequence(vec![]),
            PathSegment::Sequence(vec![7]),
        ];
        assert_eq!(AsPathRegex::path_text(&confed), "(65001 65002) [65003] 7");
        assert_eq!(AsPathRegex::path_text(&[]), "");
        assert!(re("^$").matches_path(&[]));
    }

    #[test]
    fn escaped_and_bracketed_underscores_stay_literal() {
        assert_eq!(expand_boundaries(r"a\_b"), r"a\_b");
        assert_eq!(expand_boundaries("[_]"), "[_]");
        assert_eq!(expand_boundaries("[]_]_"), format!("[]_]{BOUNDARY}"));
        assert_eq!(expand_boundaries("[^]_]"), "[^]_]");
        assert!(!re("3356[_]174").is_match("3356 174"));
    }

    #[test]
    fn bad_patterns_name_themselves_and_say_what_to_do() {
        let e = AsPathRegex::new("(3356_").unwrap_err();
        assert!(matches!(e, PathRegexError::Invalid { .. }), "{e:?}");
        let message = e.to_string();
        assert!(
            message.starts_with(
                "AS path pattern \"(3356_\" is not a valid regular expression (unclosed group)"
            ),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");

        let long = "1".repeat(MAX_PATH_REGEX_BYTES + 1);
        let e = AsPathRegex::new(&long).unwrap_err();
        assert!(
            matches!(
                e,
                PathRegexError::TooLong {
                    length: 1025,
                    max: 1024,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().ends_with("; shorten it"), "{e}");
        assert!(AsPathRegex::new(&"1".repeat(MAX_PATH_REGEX_BYTES)).is_ok());

        let e = AsPathRegex::new("(_[0-9]+_){200}{200}").unwrap_err();
        assert!(matches!(e, PathRegexError::TooBig { .. }), "{e:?}");
        assert!(e.to_string().contains("simplify it"), "{e}");
    }

    #[test]
    fn compares_prints_and_serializes_by_pattern() {
        let a = re("_174_");
        assert_eq!(a, re("_174_"));
        assert_ne!(a, re("_174$"));
        assert_eq!(format!("{a:?}"), "AsPathRegex(\"_174_\")");
        assert_eq!(a.to_string(), "_174_");
        let bytes = postcard::to_allocvec(&a).unwrap();
        assert_eq!(postcard::from_bytes::<AsPathRegex>(&bytes).unwrap(), a);
        let bad = postcard::to_allocvec("(").unwrap();
        assert!(postcard::from_bytes::<AsPathRegex>(&bad).is_err());
    }
}
