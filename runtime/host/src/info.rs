//! What a module type says about itself, and what a run returns.

use std::collections::BTreeMap;

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

impl From<wit::ModuleInfo> for ModuleInfo {
    fn from(info: wit::ModuleInfo) -> Self {
        Self {
            type_name: info.type_name,
            description: info.description,
            kind: match info.kind {
                wit::ModuleKind::Task => ModuleKind::Task,
                wit::ModuleKind::Daemon => ModuleKind::Daemon,
            },
            options: info
                .options
                .into_iter()
                .map(|o| OptionSpec {
                    name: o.name,
                    description: o.description,
                    required: o.required,
                    default_value: o.default_value,
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
