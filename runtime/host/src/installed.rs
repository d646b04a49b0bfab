//! What the type registry tells its callers about the types it holds, and
//! what an install or a removal changed.

use crate::info::{ModuleInfo, WitVersion};

/// A loaded module type as listed: its info, the build it came from and
/// where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedType {
    /// What the type says about itself.
    pub info: ModuleInfo,
    /// The sha256 of its component's bytes, in hex: which build is loaded.
    pub digest: String,
    /// The file (or other source) it was loaded from.
    pub origin: String,
    /// The version of the WIT world it implements.
    pub wit_version: WitVersion,
}

/// What an install does when a type of the same name is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnExisting {
    /// Refuse the install; the loaded type stays.
    Refuse,
    /// Replace the loaded type for new runs; runs already started keep
    /// the build they started with until they end.
    Replace,
}

/// What an install did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    /// The type now loaded.
    pub loaded: LoadedType,
    /// The type it replaced, if one of its name was loaded.
    pub replaced: Option<LoadedType>,
}

/// What a removal did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed {
    /// The type no longer loaded.
    pub removed: LoadedType,
    /// Whether its file was deleted from the module directory (a type
    /// loaded from elsewhere is only unlisted, and loads again at the next
    /// start if its file is still read then).
    pub file_deleted: bool,
    /// Runs of the type still going; they keep its build until they end.
    pub still_running: usize,
}
