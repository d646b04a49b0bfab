//! One file per command group.

pub(crate) mod bmp;
pub(crate) mod delete;
pub(crate) mod findings;
pub(crate) mod module;
pub(crate) mod module_test;
pub(crate) mod read;
pub(crate) mod session;
pub(crate) mod write;
