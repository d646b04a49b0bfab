//! The [`Module`] trait, a module's self-description, its options and its
//! result.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::wit::bgpmon::module::types as wit;

/// A bgpmon module. Implement it and call [`export_module!`](crate::export_module).
pub trait Module {
    /// Describes the module; the daemon calls it once, when it loads the
    /// module.
    fn info() -> ModuleInfo;

    /// Runs the module with options already checked against
    /// [`ModuleInfo`]'s schema, defaults filled in. An `Err` marks the run
    /// failed with that message.
    fn run(options: Options) -> Result<RunResult, String>;
}

/// A module's self-description: type name, description, kind and options.
///
/// ```
/// use bgpmon_guest::ModuleInfo;
///
/// let info = ModuleInfo::task("origin-stats", "Counts prefixes per origin AS")
///     .required_option("session", "the session to read")
///     .option("top", "how many origins to report", "10");
/// ```
#[derive(Clone, Debug)]
pub struct ModuleInfo {
    inner: wit::ModuleInfo,
}

impl ModuleInfo {
    fn new(type_name: &str, description: &str, kind: wit::ModuleKind) -> Self {
        Self {
            inner: wit::ModuleInfo {
                type_name: type_name.to_owned(),
                description: description.to_owned(),
                kind,
                options: Vec::new(),
            },
        }
    }

    /// A task: runs to completion and returns a result.
    pub fn task(type_name: &str, description: &str) -> Self {
        Self::new(type_name, description, wit::ModuleKind::Task)
    }

    /// A daemon: runs until it is stopped.
    pub fn daemon(type_name: &str, description: &str) -> Self {
        Self::new(type_name, description, wit::ModuleKind::Daemon)
    }

    /// Adds an option that a run must give.
    pub fn required_option(mut self, name: &str, description: &str) -> Self {
        self.inner.options.push(wit::OptionSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            required: true,
            default_value: None,
        });
        self
    }

    /// Adds an option with a default value.
    pub fn option(mut self, name: &str, description: &str, default: &str) -> Self {
        self.inner.options.push(wit::OptionSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            required: false,
            default_value: Some(default.to_owned()),
        });
        self
    }

    /// Adds an option a run may leave out, with no default.
    pub fn optional_option(mut self, name: &str, description: &str) -> Self {
        self.inner.options.push(wit::OptionSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            required: false,
            default_value: None,
        });
        self
    }

    #[doc(hidden)]
    pub fn into_wit(self) -> wit::ModuleInfo {
        self.inner
    }
}

/// The options of a run, by name.
///
/// ```
/// # use bgpmon_guest::Options;
/// let options = Options::from_pairs([("top", "5")]);
/// let top: usize = options.parse("top")?;
/// assert_eq!(top, 5);
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Options {
    values: BTreeMap<String, String>,
}

impl Options {
    /// Options from name and value pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    #[doc(hidden)]
    pub fn from_wit(options: Vec<wit::OptionValue>) -> Self {
        Self {
            values: options.into_iter().map(|o| (o.name, o.value)).collect(),
        }
    }

    /// The value of option `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of option `name`, or an error naming it.
    pub fn require(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("option {name:?} is missing; give it when running the module"))
    }

    /// Option `name` parsed as `T`, or an error naming the option and value.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        let value = self.require(name)?;
        value
            .parse()
            .map_err(|e| format!("option {name:?} has value {value:?}: {e}"))
    }
}

/// What a task returns: a one-line message and structured findings.
///
/// ```
/// # use bgpmon_guest::RunResult;
/// let result = RunResult::message("2 origins")
///     .finding("origin-count", "AS64500 originates 3 prefixes", [("origin", "64500"), ("prefixes", "3")]);
/// ```
#[derive(Clone, Debug)]
pub struct RunResult {
    inner: wit::RunResult,
}

impl RunResult {
    /// A result with `message` and no findings.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            inner: wit::RunResult {
                message: message.into(),
                findings: Vec::new(),
            },
        }
    }

    /// Adds a finding of `kind` with a summary and named fields.
    pub fn finding<K: Into<String>, V: Into<String>>(
        mut self,
        kind: impl Into<String>,
        summary: impl Into<String>,
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.inner.findings.push(wit::Finding {
            kind: kind.into(),
            summary: summary.into(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        });
        self
    }

    #[doc(hidden)]
    pub fn into_wit(self) -> wit::RunResult {
        self.inner
    }
}
