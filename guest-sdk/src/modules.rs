//! Other modules: list the loaded types, run one, list the running, close.
//!
//! Running and closing need the `may-run-modules` grant, and a child that
//! is a daemon also needs `may_run_daemons` (granted by the operator). A
//! module's children are its own family:
//! - their ids live in its namespace: `run("t", "c1", ..)` starts a module
//!   the operator sees as `<this id>/c1`, and [`list`] and [`close`] see
//!   only this module's descendants, by ids relative to it;
//! - they draw on this module's fuel, memory and rate, with its grants, no
//!   longer a deadline than it has left, at most 3 levels deep and 16
//!   running at once;
//! - they are asked to stop when it is, and ended when it ends.

use crate::Error;
use crate::wit::bgpmon::module0_1_0::modules;
use crate::wit::bgpmon::module0_1_0::types::{self, OptionValue};

pub use modules::ModuleSummary;

/// The module types the daemon has loaded.
pub fn types() -> Vec<types::ModuleInfo> {
    modules::list_types()
}

/// Starts a module of `type_name` as `id` with `options`.
///
/// Returns an error if the module was not granted `may-run-modules` (or
/// `may_run_daemons` for a daemon type), its family is at a cap or out of
/// fuel, the type is unknown, the id is taken, or the options do not fit
/// the type.
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

/// This module's descendants, running and recently ended, with ids
/// relative to this module and their states.
pub fn list() -> Vec<ModuleSummary> {
    modules::list_running()
}

/// Stops this module's descendant `id` (relative to this module).
///
/// Returns an error if the module was not granted `may-run-modules` or has
/// no such descendant.
pub fn close(id: &str) -> Result<(), Error> {
    modules::close(id)
}
