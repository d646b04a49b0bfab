//! The one mapping from server errors to gRPC statuses.

use tonic::{Code, Status};

use crate::error::{ErrorKind, ServerError};

impl From<ServerError> for Status {
    fn from(e: ServerError) -> Self {
        let code = match e.kind() {
            ErrorKind::NotFound => Code::NotFound,
            ErrorKind::AlreadyExists => Code::AlreadyExists,
            ErrorKind::InvalidArgument => Code::InvalidArgument,
            ErrorKind::ResourceExhausted => Code::ResourceExhausted,
            ErrorKind::FailedPrecondition => Code::FailedPrecondition,
            ErrorKind::PermissionDenied => Code::PermissionDenied,
            ErrorKind::Unavailable => Code::Unavailable,
            ErrorKind::Internal => {
                tracing::error!(error = %e, "internal error serving a request");
                return Status::internal("internal error; see the daemon's log");
            }
        };
        Status::new(code, e.to_string())
    }
}
