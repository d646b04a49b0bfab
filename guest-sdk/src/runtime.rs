//! The module's view of its sandbox: grants, budget, stop and sleep.

use std::time::Duration;

use crate::wit::bgpmon::module0_1_0::runtime;

pub use runtime::{Budget, Grants};

/// The capabilities the operator granted this module.
pub fn grants() -> Grants {
    runtime::granted()
}

/// What is left of the module's limits.
pub fn budget() -> Budget {
    runtime::budget_left()
}

/// Whether the module has been asked to stop. A daemon should return from
/// `run` soon after this turns true.
pub fn stop_requested() -> bool {
    runtime::stop_requested()
}

/// Sleeps for `duration`, or until a stop is requested.
pub fn sleep(duration: Duration) {
    runtime::sleep(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
}
