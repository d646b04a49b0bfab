//! The [`Module`] trait, a module's self-description, its options and its
//! result.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::wit::bgpmon::module0_1_0::types as wit;
use crate::wit::bgpmon::module0_2_0::schema::{self, OptionType};

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

/// A module's self-description: type name, description, kind and typed
/// options.
///
/// Options are text unless [`of_type`](Self::of_type) says otherwise; the
/// host then refuses a run whose value is not of that type, naming the
/// option, and hands the module the value in its canonical form (see
/// [`OptionType`]).
///
/// ```
/// use bgpmon_guest::{ModuleInfo, OptionType};
///
/// let info = ModuleInfo::task("origin-stats", "Counts prefixes per origin AS")
///     .required_option("session", "the session to read")
///     .option("top", "how many origins to report", "10")
///     .of_type(OptionType::Integer);
/// ```
#[derive(Clone, Debug)]
pub struct ModuleInfo {
    inner: schema::ModuleInfo,
}

impl ModuleInfo {
    fn new(type_name: &str, description: &str, kind: wit::ModuleKind) -> Self {
        Self {
            inner: schema::ModuleInfo {
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
        self.inner.options.push(schema::OptionSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            required: true,
            default_value: None,
            value_type: OptionType::String,
        });
        self
    }

    /// Adds an option with a default value.
    pub fn option(mut self, name: &str, description: &str, default: &str) -> Self {
        self.inner.options.push(schema::OptionSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            required: false,
            default_value: Some(default.to_owned()),
            value_type: OptionType::String,
        });
        self
    }

    /// Adds an option a run may leave out, with no default.
    pub fn optional_option(mut self, name: &str, description: &str) -> Self {
        self.inner.options.push(schema::OptionSpec {
            name: name.to_owned(),
            description: description.to_owned(),
            required: false,
            default_value: None,
            value_type: OptionType::String,
        });
        self
    }

    /// Gives the option added last the type `value_type`. Called before
    /// any option is added, it changes nothing.
    pub fn of_type(mut self, value_type: OptionType) -> Self {
        if let Some(last) = self.inner.options.last_mut() {
            last.value_type = value_type;
        }
        self
    }

    #[doc(hidden)]
    pub fn into_wit(self) -> schema::ModuleInfo {
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
    ///
    /// A typed option arrives in its canonical form, so `parse` reads it
    /// directly: an `integer` as `i64`, a `boolean` as `bool`, an `asn` as
    /// `u32`, a `prefix` as [`Prefix`](crate::Prefix), a `time` as `u64`
    /// microseconds and a `duration` as `u64` milliseconds (or use
    /// [`duration`](Self::duration)).
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

impl Options {
    /// Option `name`, of type `duration`, as a [`std::time::Duration`].
    pub fn duration(&self, name: &str) -> Result<std::time::Duration, String> {
        self.parse::<u64>(name)
            .map(std::time::Duration::from_millis)
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
