//! What the BMP stations know of their routers and peers, for `GetBmpStatus` and the logs.

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use bgpmon_ingest::bmp::PeerKey;

/// Up and down records kept per peer; older ones are dropped.
pub const MAX_PEER_EVENTS: usize = 32;

/// A peer-up or peer-down, or the end of the router's connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerEvent {
    /// The router's time for it (the station's for a closed connection), microseconds since
    /// the unix epoch.
    pub timestamp_us: u64,
    /// Up or down.
    pub up: bool,
    /// For a down, why.
    pub reason: String,
}

/// One peer of a router, or its Loc-RIB.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerStatus {
    /// Its AS.
    pub asn: u32,
    /// Whether it is up: after a peer-up (or, for a peer or Loc-RIB monitored without one,
    /// its first message) and before a peer-down or the connection's end.
    pub up: bool,
    /// Route-monitoring messages received.
    pub messages: u64,
    /// Their advertised and withdrawn prefixes.
    pub prefixes: u64,
    /// When the last one arrived, by the station's clock.
    pub last_message_us: Option<u64>,
    /// The latest up and down records, oldest first, at most [`MAX_PEER_EVENTS`].
    pub events: VecDeque<PeerEvent>,
    /// From the latest peer-up: whether both OPENs carry the 4-octet AS capability.
    pub four_octet_as: bool,
    /// From the latest peer-up: the (AFI, SAFI) pairs with ADD-PATH towards the router.
    pub add_path: Vec<(u16, u8)>,
}

impl PeerStatus {
    /// Records `event`, dropping the oldest beyond [`MAX_PEER_EVENTS`].
    pub fn record(&mut self, event: PeerEvent) {
        self.up = event.up;
        if self.events.len() == MAX_PEER_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}

/// A router that connected to a station.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterStatus {
    /// Its name: a configured node's, its sysName, or its address.
    pub name: String,
    /// The address it connects from.
    pub address: IpAddr,
    /// Whether it is connected now.
    pub connected: bool,
    /// Times it connected.
    pub connections: u64,
    /// BMP messages received.
    pub messages: u64,
    /// Prefixes of its route-monitoring messages.
    pub prefixes: u64,
    /// When its last message arrived, by the station's clock.
    pub last_message_us: Option<u64>,
    /// Malformed messages, each of which ended a connection.
    pub errors: u64,
    /// The last of them, with its offset.
    pub last_error: String,
    /// Its peers.
    pub peers: BTreeMap<PeerKey, PeerStatus>,
}

/// One station's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StationStatus {
    /// Its `[bmp.<name>]` name.
    pub name: String,
    /// The address it listens on.
    pub address: SocketAddr,
    /// The session it writes.
    pub session: String,
    /// Captures committed.
    pub captures_stored: u64,
    /// Captures received that a failed commit lost.
    pub captures_lost: u64,
    /// Every router that connected since the daemon started, by address.
    pub routers: BTreeMap<IpAddr, RouterStatus>,
}

/// The shared status of one station.
#[derive(Clone, Debug)]
pub struct StationHandle(Arc<Mutex<StationStatus>>);

impl StationHandle {
    pub(crate) fn new(name: &str, address: SocketAddr, session: &str) -> Self {
        Self(Arc::new(Mutex::new(StationStatus {
            name: name.to_owned(),
            address,
            session: session.to_owned(),
            captures_stored: 0,
            captures_lost: 0,
            routers: BTreeMap::new(),
        })))
    }

    /// The status, locked. A panic while it was held leaves figures, not invariants, so a
    /// poisoned lock is used as is.
    pub fn lock(&self) -> MutexGuard<'_, StationStatus> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of the status.
    pub fn snapshot(&self) -> StationStatus {
        self.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_keeps_its_latest_records_up_to_the_limit() {
        let mut peer = PeerStatus::default();
        for n in 0..=MAX_PEER_EVENTS as u64 {
            peer.record(PeerEvent {
                timestamp_us: n,
                up: n % 2 == 0,
                reason: String::new(),
            });
        }
        assert_eq!(peer.events.len(), MAX_PEER_EVENTS);
        assert_eq!(peer.events.front().map(|e| e.timestamp_us), Some(1));
        assert_eq!(
            peer.events.back().map(|e| e.timestamp_us),
            Some(MAX_PEER_EVENTS as u64)
        );
        assert!(peer.up, "the latest record sets the state");
    }
}
