//! Errors of the module host.

use std::path::PathBuf;

/// A module type that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot load module {origin}: {reason}")]
pub struct LoadError {
    /// Where the bytes came from: a file path or "upload".
    pub origin: String,
    /// What is wrong and what to do.
    pub reason: String,
}

/// An error of a module host operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// No module type has that name.
    #[error(
        "unknown module type {type_name:?}; list the loaded types with \"bgpmon module types\""
    )]
    UnknownType {
        /// The name asked for.
        type_name: String,
    },
    /// No module has that id.
    #[error("unknown module {id:?}; list modules with \"bgpmon module list\"")]
    UnknownModule {
        /// The id asked for.
        id: String,
    },
    /// A module with that id is still running.
    #[error("module {id:?} is already running; close it first or choose another id")]
    DuplicateModule {
        /// The id asked for.
        id: String,
    },
    /// A module type with that name is already loaded.
    #[error(
        "module type {type_name:?} is already loaded from {existing}; replace it (`bgpmon module install --replace`), remove it (`bgpmon module remove {type_name}`) or rename the new type"
    )]
    DuplicateType {
        /// The type name.
        type_name: String,
        /// Where the loaded type came from.
        existing: String,
    },
    /// An install would write over the file of another loaded type.
    #[error(
        "{path} holds module type {holder:?}, so installing type {type_name:?} there would remove it; remove {holder:?} first (`bgpmon module remove {holder}`) or rename one of the types"
    )]
    FileTaken {
        /// The file the install would write.
        path: PathBuf,
        /// The type being installed.
        type_name: String,
        /// The loaded type whose file it is.
        holder: String,
    },
    /// A module id is malformed.
    #[error("invalid module id {id:?}: {reason}")]
    InvalidId {
        /// The id given.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Options do not fit the type's schema.
    #[error("invalid options for module type {type_name:?}: {}", problems.join("; "))]
    InvalidOptions {
        /// The module type.
        type_name: String,
        /// Each problem, naming the option.
        problems: Vec<String>,
    },
    /// A module failed to load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The module directory or cache could not be used.
    #[error("cannot use {path:?}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// An install was asked for, but no module directory is configured.
    #[error(
        "no module directory is configured; set module_dir in the daemon's config to install modules"
    )]
    NoModuleDir,
    /// The engine could not be built.
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    /// The host is shutting down.
    #[error("the module host is shutting down; retry after the daemon restarts")]
    ShuttingDown,
    /// A module asked for something its grants do not allow.
    #[error("module {id:?} was not granted {grant}; the operator grants it in the run's grants")]
    NotGranted {
        /// The module's id.
        id: String,
        /// The grant it lacks, such as `may_run_modules`.
        grant: &'static str,
    },
    /// A module's family is at one of its caps.
    #[error("module {id:?} cannot start {child:?}: {reason}")]
    FamilyLimit {
        /// The parent's id.
        id: String,
        /// The child it tried to start.
        child: String,
        /// Which cap, and what to do.
        reason: String,
    },
}
