//! The one mapping from server errors to gRPC statuses.
//!
//! A failure of the storage reaches the client with its cause and what to
//! do (`UNAVAILABLE` for a store held elsewhere or refusing work after an
//! I/O error, `RESOURCE_EXHAUSTED` for a full disk, `DATA_LOSS` for
//! corruption, `INTERNAL` for any other I/O failure), and is logged at
//! error, since an operator must act. Only a bug of the daemon itself gets
//! the generic text, its details in the log.

use tonic::{Code, Status};

use crate::error::{ErrorKind, ServerError};

impl From<ServerError> for Status {
    fn from(e: ServerError) -> Self {
        if let ServerError::Store(store) = &e
            && store.storage_fault().is_some()
        {
            tracing::error!(error = %e, "the store failed serving a request");
        }
        let code = match e.kind() {
            ErrorKind::NotFound => Code::NotFound,
            ErrorKind::AlreadyExists => Code::AlreadyExists,
            ErrorKind::InvalidArgument => Code::InvalidArgument,
            ErrorKind::ResourceExhausted => Code::ResourceExhausted,
            ErrorKind::FailedPrecondition => Code::FailedPrecondition,
            ErrorKind::PermissionDenied => Code::PermissionDenied,
            ErrorKind::Unavailable => Code::Unavailable,
            ErrorKind::DataLoss => Code::DataLoss,
            ErrorKind::StorageFailed => {
                if !matches!(e, ServerError::Store(_)) {
                    tracing::error!(error = %e, "a file the server needs failed");
                }
                Code::Internal
            }
            ErrorKind::Internal => {
                tracing::error!(error = %e, "internal error serving a request");
                return Status::internal("internal error; see the daemon's log");
            }
        };
        Status::new(code, e.to_string())
    }
}
