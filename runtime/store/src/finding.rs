//! Findings: what modules report as they go, stored per session apart
//! from its captures.

use serde::{Deserialize, Serialize};

/// A finding as a module reports it, stamped by the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewFinding {
    /// When the host received it, in microseconds since the unix epoch.
    pub time_us: u64,
    /// The id of the module run that reported it.
    pub module_id: String,
    /// That module's type.
    pub module_type: String,
    /// The finding's kind, such as `exact-prefix-hijack`.
    pub kind: String,
    /// A human-readable summary.
    pub summary: String,
    /// Named values, in the order the module gave them.
    pub fields: Vec<(String, String)>,
}

/// A stored finding: a [`NewFinding`] and its number in the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFinding {
    /// Its number in the session, from 1, in commit order.
    pub seq: u64,
    /// What was reported.
    pub finding: NewFinding,
}

/// One page of a findings scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingPage {
    /// The matching findings, in `seq` order.
    pub findings: Vec<StoredFinding>,
    /// The last `seq` the scan looked at, matching or not: where the next
    /// page starts.
    pub last_examined: u64,
    /// True when nothing was left after `last_examined`.
    pub exhausted: bool,
}

/// Which findings a read returns. An unset term keeps every finding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// Only those of this module id.
    pub module_id: Option<String>,
    /// Only those of this module type.
    pub module_type: Option<String>,
    /// Only those of this kind.
    pub kind: Option<String>,
}

impl FindingFilter {
    /// Whether `finding` passes the filter.
    pub fn matches(&self, finding: &NewFinding) -> bool {
        let keeps = |term: &Option<String>, value: &str| term.as_deref().is_none_or(|t| t == value);
        keeps(&self.module_id, &finding.module_id)
            && keeps(&self.module_type, &finding.module_type)
            && keeps(&self.kind, &finding.kind)
    }

    /// Whether the filter keeps every finding.
    pub fn is_empty(&self) -> bool {
        self.module_id.is_none() && self.module_type.is_none() && self.kind.is_none()
    }
}

impl NewFinding {
    /// The bytes of text it holds: what storing it costs.
    pub fn text_bytes(&self) -> usize {
        self.module_id.len()
            + self.module_type.len()
            + self.kind.len()
            + self.summary.len()
            + self
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(module: &str, kind: &str) -> NewFinding {
        NewFinding {
            time_us: 1,
            module_id: module.into(),
            module_type: "hijack".into(),
            kind: kind.into(),
            summary: String::new(),
            fields: vec![("prefix".into(), "10.0.0.0/8".into())],
        }
    }

    #[test]
    fn every_term_must_match() {
        let all = FindingFilter::default();
        assert!(all.is_empty());
        assert!(all.matches(&finding("a", "x")));
        let by_module = FindingFilter {
            module_id: Some("a".into()),
            ..FindingFilter::default()
        };
        assert!(by_module.matches(&finding("a", "x")));
        assert!(!by_module.matches(&finding("b", "x")));
        let both = FindingFilter {
            kind: Some("y".into()),
            ..by_module
        };
        assert!(!both.matches(&finding("a", "x")));
        assert!(both.matches(&finding("a", "y")));
        assert!(
            !FindingFilter {
                module_type: Some("churn".into()),
                ..FindingFilter::default()
            }
            .matches(&finding("a", "x"))
        );
    }

    #[test]
    fn text_bytes_counts_every_string() {
        // "a" + "hijack" + "x" + "" + "prefix" + "10.0.0.0/8"
        assert_eq!(finding("a", "x").text_bytes(), 1 + 6 + 1 + 6 + 10);
    }
}
