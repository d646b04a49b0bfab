//! Logging into the daemon's log, tagged with the module's id.
//!
//! Lines over the module's log rate are dropped and counted by the host.

use crate::wit::bgpmon::module0_1_0::logging::{self, Level};

/// Logs `message` at debug level.
pub fn debug(message: impl AsRef<str>) {
    logging::log(Level::Debug, message.as_ref());
}

/// Logs `message` at info level.
pub fn info(message: impl AsRef<str>) {
    logging::log(Level::Info, message.as_ref());
}

/// Logs `message` at warn level.
pub fn warn(message: impl AsRef<str>) {
    logging::log(Level::Warn, message.as_ref());
}

/// Logs `message` at error level.
pub fn error(message: impl AsRef<str>) {
    logging::log(Level::Error, message.as_ref());
}
