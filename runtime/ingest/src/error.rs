//! The errors of opening an MRT input.
//!
//! Problems inside the stream (a malformed record, a truncated file) are not errors: the
//! reader skips or stops, and its [`IngestSummary`](crate::IngestSummary) says what happened.

use std::io;
use std::path::PathBuf;

/// An MRT input that cannot be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The file cannot be opened.
    #[error("cannot open MRT file {}; check that it exists and is readable", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why opening failed.
        #[source]
        source: io::Error,
    },
    /// The first bytes of the input, which tell its compression, cannot be read.
    #[error(
        "cannot read the start of MRT input {name}; check that it is a readable file, not a folder"
    )]
    Read {
        /// The file path or the name given for the input.
        name: String,
        /// Why reading failed.
        #[source]
        source: io::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_input_and_what_to_do() {
        let error = IngestError::Open {
            path: PathBuf::from("/no/such.mrt"),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(
            error.to_string(),
            "cannot open MRT file /no/such.mrt; check that it exists and is readable"
        );
        assert!(std::error::Error::source(&error).is_some());
    }
}
