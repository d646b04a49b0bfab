//! Host implementations of the WIT interfaces, one file per interface.
//!
//! Guest mistakes (a stale handle, an unknown session, a bad filter, a
//! missing grant) come back as the WIT `error` variant; only host faults
//! and exceeded limits trap.

mod columns;
pub(crate) mod convert;
mod findings;
pub(crate) mod logging;
mod modules;
mod runtime;
pub(crate) mod sessions;
mod streams;

use bgpmon_store::StoreError;

use crate::bindings::types::{self, Error};
use crate::state::ModuleState;

/// An error of a host call: a WIT error for the guest, or a trap.
#[derive(Debug)]
#[allow(
    unreachable_pub,
    reason = "the generated bindings' public host traits name it; rustc 1.97 refuses a crate-private type there (E0446)"
)]
pub enum HostCallError {
    /// Returned to the guest as the WIT `error` variant.
    Guest(Error),
    /// Ends the guest's run.
    Trap(wasmtime::Error),
}

impl HostCallError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Guest(Error::InvalidArgument(message.into()))
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Self::Guest(Error::LimitReached(message.into()))
    }

    pub(crate) fn denied(message: impl Into<String>) -> Self {
        Self::Guest(Error::Denied(message.into()))
    }
}

impl From<crate::account::OutOfBudget> for HostCallError {
    fn from(e: crate::account::OutOfBudget) -> Self {
        Self::Trap(wasmtime::Error::from(e))
    }
}

impl From<wasmtime::Error> for HostCallError {
    fn from(e: wasmtime::Error) -> Self {
        Self::Trap(e)
    }
}

impl From<wasmtime::component::ResourceTableError> for HostCallError {
    fn from(e: wasmtime::component::ResourceTableError) -> Self {
        Self::Guest(Error::UnknownId(format!(
            "stale or foreign handle: {e}; use a handle this module opened and has not dropped"
        )))
    }
}

impl From<StoreError> for HostCallError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        Self::Guest(match e {
            StoreError::Closed { .. } => Error::Closed(message),
            StoreError::WorkersBusy { .. }
            | StoreError::ModuleStreamsBusy { .. }
            | StoreError::BufferFull { .. }
            | StoreError::BufferBytesFull { .. } => Error::LimitReached(message),
            StoreError::EmptyEntityName
            | StoreError::CaptureTooLarge { .. }
            | StoreError::BadCursor { .. } => Error::InvalidArgument(message),
            StoreError::ReadOnly { .. } => Error::Denied(message),
            StoreError::UnknownDataset { .. } | StoreError::UnknownImport { .. } => {
                Error::UnknownId(message)
            }
            _ => Error::Storage(message),
        })
    }
}

impl crate::bindings::schema::Host for ModuleState {}

impl types::Host for ModuleState {
    fn convert_error(&mut self, err: HostCallError) -> wasmtime::Result<Error> {
        match err {
            HostCallError::Guest(e) => Ok(e),
            HostCallError::Trap(e) => Err(e),
        }
    }
}
