//! Other modules: list the loaded types, run one, list the running, close.
//!
//! Running and closing need the `may-run-modules` grant; a child runs with
//! its parent's grants and limits.

use crate::Error;
use crate::wit::bgpmon::module::modules;
use crate::wit::bgpmon::module::types::{self, OptionValue};

pub use modules::ModuleSummary;

/// The module types the daemon has loaded.
pub fn types() -> Vec<types::ModuleInfo> {
    modules::list_types()
}

/// Starts a module of `type_name` as `id` with `options`.
///
/// Returns an error if the module was not granted `may-run-modules`, the
/// type is unknown, the id is taken, or the options do not fit the type.
pub fn run<'a>(
    type_name: &str,
    id: &str,
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), Error> {
    let options: Vec<OptionValue> = options
        .into_iter()
        .map(|(name, value)| OptionValue {
            name: name.to_owned(),
            value: value.to_owned(),
        })
        .collect();
    modules::run(type_name, id, &options)
}

/// Running modules and recently ended ones, with their states.
pub fn list() -> Vec<ModuleSummary> {
    modules::list_running()
}

/// Stops module `id`.
///
/// Returns an error if the module was not granted `may-run-modules` or no
/// module has that id.
pub fn close(id: &str) -> Result<(), Error> {
    modules::close(id)
}
