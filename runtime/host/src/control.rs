//! The narrow interface a running module has to the host: the module
//! types, and its own children.
//!
//! An instance holds a [`ModuleControl`] scoped to its run, never the host
//! itself, so what a module can reach is exactly what this trait offers:
//! it can list types, start children (within its grants and its family's
//! caps), and list and close its own descendants, by ids relative to
//! itself.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::error::HostError;
use crate::info::ModuleInfo;

/// One descendant of a module, as the module sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChildSummary {
    /// Its id relative to the module: `child`, or `child/grandchild`.
    pub(crate) id: String,
    /// Its type name.
    pub(crate) type_name: String,
    /// Its state's name.
    pub(crate) state: &'static str,
}

/// A boxed future of a control call.
pub(crate) type ControlFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a running module may ask of the host about other modules.
pub(crate) trait ModuleControl: Send + Sync {
    /// The loaded module types.
    fn types(&self) -> Vec<ModuleInfo>;

    /// Starts a child of type `type_name` with id `id` in the module's own
    /// namespace.
    ///
    /// Returns an error if a grant is missing, a family cap is reached, or
    /// the type, id or options are bad.
    fn run(
        &self,
        type_name: &str,
        id: &str,
        options: BTreeMap<String, String>,
    ) -> Result<(), HostError>;

    /// The module's descendants, running or retained.
    fn list(&self) -> Vec<ChildSummary>;

    /// Stops the descendant `id` (relative to the module).
    ///
    /// Returns an error if the module has no such descendant.
    fn close<'a>(&'a self, id: &'a str) -> ControlFuture<'a, Result<(), HostError>>;
}

/// The control of a store that is no run, such as the one that reads a
/// type's info: no types, no children.
pub(crate) struct NoControl;

impl ModuleControl for NoControl {
    fn types(&self) -> Vec<ModuleInfo> {
        Vec::new()
    }

    fn run(
        &self,
        _type_name: &str,
        _id: &str,
        _options: BTreeMap<String, String>,
    ) -> Result<(), HostError> {
        Err(HostError::NotGranted {
            id: "(loading)".into(),
            grant: "may_run_modules",
        })
    }

    fn list(&self) -> Vec<ChildSummary> {
        Vec::new()
    }

    fn close<'a>(&'a self, id: &'a str) -> ControlFuture<'a, Result<(), HostError>> {
        Box::pin(async move { Err(HostError::UnknownModule { id: id.to_owned() }) })
    }
}
