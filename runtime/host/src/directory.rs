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
