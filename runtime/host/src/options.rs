//! Checking a run's options against its module type's schema.

use std::collections::BTreeMap;

use crate::error::HostError;
use crate::info::ModuleInfo;
use crate::limits::MAX_OPTIONS_BYTES;
use crate::value::canonical_value;

/// Checks `given` against `info`'s option schema, fills in defaults, and
/// returns each value in its type's canonical text (see
/// [`canonical_value`]).
///
/// Returns every problem at once: unknown names (listing the known ones),
/// missing required options, values that are not of their option's type
/// (naming the option), and options over [`MAX_OPTIONS_BYTES`] in all.
pub fn resolve_options(
    info: &ModuleInfo,
    given: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, HostError> {
    let mut problems = Vec::new();
    let bytes: usize = given.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_OPTIONS_BYTES {
        problems.push(format!(
            "the options take {bytes} bytes, over the cap of {MAX_OPTIONS_BYTES} (MAX_OPTIONS_BYTES); pass large inputs through a session"
        ));
    }
    for name in given.keys() {
        if !info.options.iter().any(|o| &o.name == name) {
            let known: Vec<&str> = info.options.iter().map(|o| o.name.as_str()).collect();
            problems.push(if known.is_empty() {
                format!("unknown option {name:?}; this type takes no options")
            } else {
                format!(
                    "unknown option {name:?}; known options: {}",
                    known.join(", ")
                )
            });
        }
    }
    let mut resolved = Vec::new();
    for spec in &info.options {
        let value = match (given.get(&spec.name), &spec.default_value) {
            (Some(value), _) => Some(value),
            (None, Some(default)) => Some(default),
            (None, None) => None,
        };
        match value.map(|v| canonical_value(spec.value_type, v)) {
            Some(Ok(value)) => resolved.push((spec.name.clone(), value)),
            Some(Err(problem)) => problems.push(format!(
                "option {:?} is of type {}: {problem}",
                spec.name, spec.value_type
            )),
            None if spec.required => problems.push(format!(
                "missing required option {:?} ({})",
                spec.name, spec.description
            )),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok(resolved)
    } else {
        Err(HostError::InvalidOptions {
            type_name: info.type_name.clone(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{ModuleKind, OptionSpec, OptionType};

    fn info() -> ModuleInfo {
        let spec = |name: &str, required, default: Option<&str>| OptionSpec {
            name: name.into(),
            description: format!("the {name}"),
            required,
            default_value: default.map(Into::into),
            value_type: OptionType::String,
        };
        ModuleInfo {
            type_name: "t".into(),
            description: String::new(),
            kind: ModuleKind::Task,
            options: vec![
                spec("session", true, None),
                spec("limit", false, Some("10")),
                spec("note", false, None),
            ],
        }
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_fill_in_and_optional_stay_out() {
        let resolved = resolve_options(&info(), &given(&[("session", "s1")])).unwrap();
        assert_eq!(
            resolved,
            vec![
                ("session".to_string(), "s1".to_string()),
                ("limit".to_string(), "10".to_string())
            ]
        );
    }

    #[test]
    fn typed_values_are_checked_and_made_canonical() {
        let typed = |name: &str, value_type, default: Option<&str>| OptionSpec {
            name: name.into(),
            description: String::new(),
            required: false,
            default_value: default.map(Into::into),
            value_type,
        };
        let info = ModuleInfo {
            type_name: "t".into(),
            description: String::new(),
            kind: ModuleKind::Task,
            options: vec![
                typed("origin", OptionType::Asn, None),
                typed("every", OptionType::Duration, Some("1m")),
                typed("live", OptionType::Boolean, None),
            ],
        };
        let resolved = resolve_options(&info, &given(&[("origin", "AS64500")])).unwrap();
        assert_eq!(
            resolved,
            vec![
                ("origin".to_string(), "64500".to_string()),
                ("every".to_string(), "60000".to_string())
            ]
        );
        let err = resolve_options(&info, &given(&[("origin", "x"), ("live", "perhaps")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("option \"origin\" is of type asn: \"x\" is not an AS number"),
            "{err}"
        );
        assert!(
            err.contains("option \"live\" is of type boolean: \"perhaps\" is not a boolean"),
            "{err}"
        );
    }

    #[test]
    fn oversized_options_are_refused() {
        let big = "x".repeat(MAX_OPTIONS_BYTES);
        let err = resolve_options(&info(), &given(&[("session", "s1"), ("note", &big)]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("over the cap of 65536 (MAX_OPTIONS_BYTES)"),
            "{err}"
        );
    }

    #[test]
    fn every_problem_is_named() {
        let err = resolve_options(&info(), &given(&[("bogus", "1")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown option \"bogus\""), "{text}");
        assert!(
            text.contains("known options: session, limit, note"),
            "{text}"
        );
        assert!(
            text.contains("missing required option \"session\""),
            "{text}"
        );
    }
}
