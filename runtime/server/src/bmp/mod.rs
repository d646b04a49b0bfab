//! BMP stations (`[bmp.<name>]`): routers stream BGP to the daemon over RFC 7854, and each
//! station writes what its routers send into one session.

mod metrics;
mod station;
mod status;

pub use metrics::BmpCollector;
pub(crate) use station::serve_station;
pub use status::{
    MAX_PEER_EVENTS, PeerEvent, PeerStatus, RouterStatus, StationHandle, StationStatus,
};
