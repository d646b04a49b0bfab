//! The bgpmon server: configuration, sessions, modules and their
//! lifecycle.
//!
//! [`Server`] owns the [`Config`], the open sessions and the module host.
//! Every operation returns a [`ServerError`] whose [`ErrorKind`] an API
//! maps to a status code.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bgpmon_server::{Config, Server};
//!
//! let dir = tempfile::tempdir()?;
//! let config = Config::parse(&format!(
//!     "[sessions.local]\ntype = \"redb\"\npath = {:?}\n",
//!     dir.path().join("bgp.redb")
//! ))?;
//! let server = Server::start(config).await?;
//! let session = server.open_session("local", Some("s1"), None).await?;
//! assert_eq!(session.id, "s1");
//! server.close().await;
//! # Ok(())
//! # }
//! ```

pub mod bmp;
mod config;
pub mod daemon;
mod error;
pub mod rpc;
mod server;
mod sessions;

pub use config::{
    BmpConfig, Config, ConfigError, DEFAULT_BMP_ADDRESS, DEFAULT_BMP_COMMIT_CAPTURES,
    DEFAULT_BMP_COMMIT_INTERVAL_MS, DEFAULT_BMP_DUMP_QUIET_MS, DEFAULT_RPC_ADDRESS,
    DEFAULT_SESSION_MODULE_STREAMS, DEFAULT_SESSION_MODULE_WORKERS, DEFAULT_SESSION_TIMEOUT_SECS,
    DEFAULT_SESSION_WORKERS, GrantsConfig, LimitsConfig, ModuleConfig, NodeConfig,
    SessionTypeConfig, StoreKind,
};
pub use error::{ErrorKind, Result, ServerError};
pub use server::{Server, SessionInfo, SessionTypeInfo};
