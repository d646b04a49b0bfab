//! Errors of server operations, each with the kind an API maps to a status.

use bgpmon_host::{HostError, LimitError};
use bgpmon_store::{StorageFault, StoreError};

use crate::config::ConfigError;

/// The class of a server error, for mapping to API status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An unknown id or type.
    NotFound,
    /// A duplicate id.
    AlreadyExists,
    /// A malformed or out-of-range argument.
    InvalidArgument,
    /// A limit was reached, such as every worker of a session busy.
    ResourceExhausted,
    /// The target is closed, or not in a state that allows the call.
    FailedPrecondition,
    /// The caller's grant does not allow the call.
    PermissionDenied,
    /// The server is shutting down, or its store is held by another
    /// process or refuses work until the daemon restarts.
    Unavailable,
    /// Stored data is corrupt.
    DataLoss,
    /// The storage or a file the server needs failed; the message names
    /// the cause, for the client as for the log.
    StorageFailed,
    /// A bug of the server, whose details only its log shows.
    Internal,
}

/// An error of a server operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// No session type has that name.
    #[error("unknown session type {name:?}; configured types: {known}")]
    UnknownSessionType {
        /// The name asked for.
        name: String,
        /// The configured names, comma-separated.
        known: String,
    },
    /// No stored session has that id.
    #[error(
        "unknown session {id:?}; list stored sessions with \"bgpmon session list\", or create it with \"bgpmon session open TYPE --id {id}\""
    )]
    UnknownSession {
        /// The id asked for.
        id: String,
    },
    /// A session with that id is stored in another session type.
    #[error(
        "session {id:?} is stored in session type {session_type:?}; open it with that type, or choose another id"
    )]
    DuplicateSession {
        /// The id asked for.
        id: String,
        /// The type that holds it.
        session_type: String,
    },
    /// An argument is malformed.
    #[error("invalid {what}: {message}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The server is closed or closing.
    #[error("the server is shutting down; retry after it restarts")]
    ShuttingDown,
    /// A storage error.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A module host error.
    #[error(transparent)]
    Host(#[from] HostError),
    /// A configuration error.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A run asked for a limit over the daemon's ceiling.
    #[error("invalid limits: {0}")]
    OverCeiling(#[from] LimitError),
}

impl ServerError {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownSessionType { .. } | Self::UnknownSession { .. } => ErrorKind::NotFound,
            Self::DuplicateSession { .. } => ErrorKind::AlreadyExists,
            Self::InvalidArgument { .. } | Self::Config(_) | Self::OverCeiling(_) => {
                ErrorKind::InvalidArgument
            }
            Self::ShuttingDown => ErrorKind::Unavailable,
            Self::Store(e) => match (e.storage_fault(), e) {
                (Some(StorageFault::Locked | StorageFault::Poisoned), _) => ErrorKind::Unavailable,
                (Some(StorageFault::Full), _) => ErrorKind::ResourceExhausted,
                (Some(StorageFault::Corrupt), _) => ErrorKind::DataLoss,
                (Some(_), _) => ErrorKind::StorageFailed,
                (None, StoreError::SchemaVersion { .. })
                | (None, StoreError::Closed { .. } | StoreError::ImportComplete { .. }) => {
                    ErrorKind::FailedPrecondition
                }
                (
                    None,
                    StoreError::WorkersBusy { .. }
                    | StoreError::ModuleStreamsBusy { .. }
                    | StoreError::BufferFull { .. }
                    | StoreError::BufferBytesFull { .. },
                ) => ErrorKind::ResourceExhausted,
                (
                    None,
                    StoreError::EmptyEntityName
                    | StoreError::CaptureTooLarge { .. }
                    | StoreError::BadCursor { .. },
                ) => ErrorKind::InvalidArgument,
                (None, StoreError::UnknownDataset { .. } | StoreError::UnknownImport { .. }) => {
                    ErrorKind::NotFound
                }
                (None, StoreError::AlreadyImported { .. }) => ErrorKind::AlreadyExists,
                (None, StoreError::ReadOnly { .. }) => ErrorKind::PermissionDenied,
                (None, _) => ErrorKind::Internal,
            },
            Self::Host(e) => match e {
                HostError::UnknownType { .. } | HostError::UnknownModule { .. } => {
                    ErrorKind::NotFound
                }
                HostError::DuplicateModule { .. }
                | HostError::DuplicateType { .. }
                | HostError::FileTaken { .. } => ErrorKind::AlreadyExists,
                HostError::InvalidId { .. }
                | HostError::InvalidOptions { .. }
                | HostError::Load(_)
                | HostError::NotGranted { .. } => ErrorKind::InvalidArgument,
                HostError::FamilyLimit { .. } => ErrorKind::ResourceExhausted,
                HostError::ShuttingDown => ErrorKind::Unavailable,
                HostError::NoModuleDir => ErrorKind::FailedPrecondition,
                HostError::Io { .. } => ErrorKind::StorageFailed,
                _ => ErrorKind::Internal,
            },
        }
    }
}

/// The server result type.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
