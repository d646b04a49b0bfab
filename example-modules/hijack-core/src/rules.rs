//! Owned prefixes with their legal origins and first hops, as ARTEMIS
//! configures them, and the lookup of the rule that covers a prefix.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::Map;
use crate::net::Net;

/// What the owner of one prefix allows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// The longest announcement inside the prefix that the owner makes;
    /// anything longer is a sub-prefix. Equal to the prefix length unless
    /// the rule came from an entity with a longer `max-length`.
    pub max_len: u8,
    /// The ASes allowed to originate it. Empty: the prefix must not be
    /// announced at all, and every announcement is squatting.
    pub origins: BTreeSet<u32>,
    /// The ASes allowed as the first hop after the origin. `None`: any.
    pub neighbours: Option<BTreeSet<u32>>,
    /// The owner announces it with NO_EXPORT, so it must reach no AS
    /// beyond the owner's neighbours.
    pub no_export: bool,
}

/// Rules by prefix, looked up by most specific covering prefix.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    rules: Map<Net, Rule>,
    /// Prefix lengths present, per family (v4, v6), longest first.
    lengths: [Vec<u8>; 2],
}

/// One rule as a rules file writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleInput {
    prefixes: Vec<String>,
    #[serde(default)]
    origins: Vec<u32>,
    #[serde(default, alias = "neighbors")]
    neighbours: Option<Vec<u32>>,
    #[serde(default)]
    no_export: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rules: Vec<RuleInput>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonRules {
    List(Vec<RuleInput>),
    File(RulesFile),
}

impl RuleSet {
    /// Parses a rules file: TOML with `[[rules]]` tables, or JSON (a list of
    /// rules, or an object with a `rules` list). Each rule has `prefixes`,
    /// `origins` (empty or absent: the prefixes must not be announced),
    /// `neighbours` (absent: any first hop) and `no-export`.
    ///
    /// Returns an error that names the rule and the field at fault.
    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim_start();
        let inputs = if trimmed.starts_with('[') && !trimmed.starts_with("[[")
            || trimmed.starts_with('{')
        {
            match serde_json::from_str::<JsonRules>(trimmed) {
                Ok(JsonRules::List(list)) => list,
                Ok(JsonRules::File(file)) => file.rules,
                Err(e) => {
                    return Err(format!(
                        "the rules are not valid JSON rules: {e}; write a list of {{\"prefixes\": [...], \"origins\": [...], \"neighbours\": [...]}}"
                    ));
                }
            }
        } else {
            toml::from_str::<RulesFile>(text)
                .map_err(|e| format!("the rules are not valid TOML rules: {e}; write [[rules]] tables with prefixes, origins and neighbours"))?
                .rules
        };
        let mut set = Self::default();
        for (i, input) in inputs.into_iter().enumerate() {
            if input.prefixes.is_empty() {
                return Err(format!("rule {} has no prefixes; give at least one", i + 1));
            }
            for text in &input.prefixes {
                let net: Net = text.parse().map_err(|e| format!("rule {}: {e}", i + 1))?;
                set.add(
                    net,
                    Rule {
                        max_len: net.prefix_len(),
                        origins: input.origins.iter().copied().collect(),
                        neighbours: input
                            .neighbours
                            .as_ref()
                            .map(|n| n.iter().copied().collect()),
                        no_export: input.no_export,
                    },
                );
            }
        }
        Ok(set)
    }

    /// Adds a rule; a prefix given twice allows what either rule allows.
    pub fn add(&mut self, net: Net, rule: Rule) {
        match self.rules.get_mut(&net) {
            Some(have) => {
                have.max_len = have.max_len.max(rule.max_len);
                have.origins.extend(rule.origins);
                have.neighbours = match (have.neighbours.take(), rule.neighbours) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b);
                        Some(a)
                    }
                    _ => None,
                };
                have.no_export &= rule.no_export;
            }
            None => {
                self.rules.insert(net, rule);
                let lengths = &mut self.lengths[usize::from(net.is_ipv6())];
                if let Err(at) = lengths.binary_search_by(|l| net.prefix_len().cmp(l)) {
                    lengths.insert(at, net.prefix_len());
                }
            }
        }
    }

    /// How many prefixes have rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The most specific rule prefix that covers `net`, with its rule.
    pub fn covering(&self, net: &Net) -> Option<(Net, &Rule)> {
        self.lengths[usize::from(net.is_ipv6())]
            .iter()
            .filter(|&&len| len <= net.prefix_len())
            .find_map(|&len| {
                let candidate = net.truncated(len);
                self.rules.get(&candidate).map(|rule| (candidate, rule))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Net {
        s.parse().unwrap()
    }

    #[test]
    fn toml_and_json_read_the_same_rules() {
        let toml = r#"
            [[rules]]
            prefixes = ["192.0.2.0/24", "2001:db8::/32"]
            origins = [64500]
            neighbours = [64501]

            [[rules]]
            prefixes = ["198.51.100.0/24"]
            no-export = true
        "#;
        let json = r#"[{"prefixes": ["192.0.2.0/24", "2001:db8::/32"], "origins": [64500], "neighbors": [64501]},
                       {"prefixes": ["198.51.100.0/24"], "no-export": true}]"#;
        for text in [toml, json] {
            let set = RuleSet::parse(text).unwrap();
            assert_eq!(set.len(), 3);
            let (at, rule) = set.covering(&net("192.0.2.128/25")).unwrap();
            assert_eq!(at, net("192.0.2.0/24"));
            assert_eq!(rule.neighbours, Some([64501].into()));
            let (_, squat) = set.covering(&net("198.51.100.0/24")).unwrap();
            assert!(squat.origins.is_empty() && squat.no_export && squat.neighbours.is_none());
            assert!(set.covering(&net("203.0.113.0/24")).is_none());
        }
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let set = RuleSet::parse(
            r#"[{"prefixes": ["10.0.0.0/8"], "origins": [1]}, {"prefixes": ["10.1.0.0/16"], "origins": [2]}]"#,
        )
        .unwrap();
        assert_eq!(
            set.covering(&net("10.1.2.0/24")).unwrap().1.origins,
            [2].into()
        );
        assert_eq!(
            set.covering(&net("10.2.0.0/16")).unwrap().1.origins,
            [1].into()
        );
    }

    #[test]
    fn bad_rules_name_the_rule_and_the_problem() {
        let err = RuleSet::parse(r#"[{"prefixes": ["10.0.0.1/8"]}]"#).unwrap_err();
        assert!(err.contains("rule 1") && err.contains("host bits"), "{err}");
        let err = RuleSet::parse("[[rules]]\nprefixes = []\n").unwrap_err();
        assert!(err.contains("rule 1 has no prefixes"), "{err}");
        let err = RuleSet::parse("[[rules]]\nprefix = [\"10.0.0.0/8\"]\n").unwrap_err();
        assert!(err.contains("not valid TOML rules"), "{err}");
    }
}
