//! What the host needs from the server: its open sessions.

use std::sync::Arc;

use bgpmon_store::Session;

/// The server's open sessions, as modules see them.
pub trait SessionDirectory: Send + Sync + 'static {
    /// The open session `id`, if any.
    fn session(&self, id: &str) -> Option<Arc<Session>>;

    /// Every open session.
    fn sessions(&self) -> Vec<Arc<Session>>;
}

/// A directory with no sessions: for a store that reads a type's info, and
/// for embedders whose modules open none.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoSessions;

impl SessionDirectory for NoSessions {
    fn session(&self, _id: &str) -> Option<Arc<Session>> {
        None
    }

    fn sessions(&self) -> Vec<Arc<Session>> {
        Vec::new()
    }
}
