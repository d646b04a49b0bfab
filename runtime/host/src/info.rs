//! What a module type says about itself, and what a run returns.

use std::collections::BTreeMap;

use crate::bindings::schema;
use crate::bindings::types as wit;

/// Whether a module runs to completion or until it is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModuleKind {
    /// Runs to completion and returns a result.
    Task,
    /// Runs until it is closed.
    Daemon,
}

impl std::fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Task => "task",
            Self::Daemon => "daemon",
        })
    }
}

/// The type of an option's value (WIT 0.2.0 `schema.option-type`). A
/// type built against WIT 0.1.0 takes text options only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OptionType {
    /// Any text.
    #[default]
    String,
    /// A signed 64-bit integer.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// An AS number.
    Asn,
    /// An IPv4 or IPv6 prefix.
    Prefix,
    /// A moment: RFC 3339 or unix seconds.
    Time,
    /// A length of time, such as `90s` or `1h30m`.
    Duration,
}

impl OptionType {
    /// The type's name, as the API and the CLI show it.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Asn => "asn",
            Self::Prefix => "prefix",
            Self::Time => "time",
            Self::Duration => "duration",
        }
    }

    /// The type named `name`, as [`name`](Self::name) spells it.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::String,
            Self::Integer,
            Self::Boolean,
            Self::Asn,
            Self::Prefix,
            Self::Time,
            Self::Duration,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }
}

impl std::fmt::Display for OptionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The WIT version a module type was built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WitVersion {
    /// `bgpmon:module@0.1.0`: text options, findings only in the result.
    V0_1,
    /// `bgpmon:module@0.2.0`: typed options and the findings interface.
    V0_2,
}

impl std::fmt::Display for WitVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V0_1 => "0.1.0",
            Self::V0_2 => "0.2.0",
        })
    }
}

/// One option a module type accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionSpec {
    /// The option's name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Whether a run must give it.
    pub required: bool,
    /// The value used when a run leaves it out.
    pub default_value: Option<String>,
    /// The type of its value.
    pub value_type: OptionType,
}

/// A module type's description of itself, read from its `info` export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The type name: lowercase letters, digits and dashes.
    pub type_name: String,
    /// What the module does.
    pub description: String,
    /// Task or daemon.
    pub kind: ModuleKind,
    /// The options it accepts.
    pub options: Vec<OptionSpec>,
}

/// One structured finding of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The finding's kind.
    pub kind: String,
    /// A human-readable summary.
    pub summary: String,
    /// Named values.
    pub fields: BTreeMap<String, String>,
}

/// What a finished run returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunResult {
    /// A one-line summary.
    pub message: String,
    /// Structured findings.
    pub findings: Vec<Finding>,
}

impl RunResult {
    /// The bytes of text in the result: what storing and listing it costs.
    pub fn text_bytes(&self) -> usize {
        self.message.len()
            + self
                .findings
                .iter()
                .map(|f| {
                    f.kind.len()
                        + f.summary.len()
                        + f.fields
                            .iter()
                            .map(|(k, v)| k.len() + v.len())
                            .sum::<usize>()
                })
                .sum::<usize>()
    }
}

impl From<wit::ModuleKind> for ModuleKind {
    fn from(kind: wit::ModuleKind) -> Self {
        match kind {
            wit::ModuleKind::Task => Self::Task,
            wit::ModuleKind::Daemon => Self::Daemon,
        }
    }
}

impl From<wit::ModuleInfo> for ModuleInfo {
    fn from(info: wit::ModuleInfo) -> Self {
        Self {
            type_name: info.type_name,
            description: info.description,
            kind: info.kind.into(),
            options: info
                .options
                .into_iter()
                .map(|o| OptionSpec {
                    name: o.name,
                    description: o.description,
                    required: o.required,
                    default_value: o.default_value,
                    value_type: OptionType::String,
                })
                .collect(),
        }
    }
}

impl From<schema::ModuleInfo> for ModuleInfo {
    fn from(info: schema::ModuleInfo) -> Self {
        Self {
            type_name: info.type_name,
            description: info.description,
            kind: info.kind.into(),
            options: info
                .options
                .into_iter()
                .map(|o| OptionSpec {
                    name: o.name,
                    description: o.description,
                    required: o.required,
                    default_value: o.default_value,
                    value_type: match o.value_type {
                        schema::OptionType::String => OptionType::String,
                        schema::OptionType::Integer => OptionType::Integer,
                        schema::OptionType::Boolean => OptionType::Boolean,
                        schema::OptionType::Asn => OptionType::Asn,
                        schema::OptionType::Prefix => OptionType::Prefix,
                        schema::OptionType::Time => OptionType::Time,
                        schema::OptionType::Duration => OptionType::Duration,
                    },
                })
                .collect(),
        }
    }
}

impl From<&ModuleInfo> for wit::ModuleInfo {
    fn from(info: &ModuleInfo) -> Self {
        Self {
            type_name: info.type_name.clone(),
            description: info.description.clone(),
            kind: match info.kind {
                ModuleKind::Task => wit::ModuleKind::Task,
                ModuleKind::Daemon => wit::ModuleKind::Daemon,
            },
            options: info
                .options
                .iter()
                .map(|o| wit::OptionSpec {
                    name: o.name.clone(),
                    description: o.description.clone(),
                    required: o.required,
                    default_value: o.default_value.clone(),
                })
                .collect(),
        }
    }
}

impl From<wit::RunResult> for RunResult {
    fn from(r: wit::RunResult) -> Self {
        Self {
            message: r.message,
            findings: r
                .findings
                .into_iter()
                .map(|f| Finding {
                    kind: f.kind,
                    summary: f.summary,
                    fields: f.fields.into_iter().collect(),
                })
                .collect(),
        }
    }
}
