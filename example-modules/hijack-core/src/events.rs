//! Events: one per (prefix, AS, type), with when it was first and last
//! seen, the peers and collectors that saw it, and whether any peer still
//! carries it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::Map;
use crate::classify::HijackType;
use crate::net::Net;

/// What an event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// A hijack of an owned prefix, in one of ARTEMIS's classes.
    Hijack(HijackType),
    /// RPKI-invalid: covering VRPs exist and none names the origin.
    RpkiInvalidOrigin,
    /// RPKI-invalid: the origin's VRPs do not allow the length.
    RpkiInvalidLength,
    /// The AS path fails ASPA upstream verification.
    AspaInvalid,
}

impl EventKind {
    /// The finding kind: `hijack`, `rpki-invalid` or `aspa-invalid`.
    pub fn finding_kind(self) -> &'static str {
        match self {
            Self::Hijack(_) => "hijack",
            Self::RpkiInvalidOrigin | Self::RpkiInvalidLength => "rpki-invalid",
            Self::AspaInvalid => "aspa-invalid",
        }
    }

    /// The type within the kind: the ARTEMIS class (`E|0|-|-`),
    /// `invalid-origin`, `invalid-length` or `invalid`.
    pub fn type_name(self) -> String {
        match self {
            Self::Hijack(t) => t.to_string(),
            Self::RpkiInvalidOrigin => "invalid-origin".into(),
            Self::RpkiInvalidLength => "invalid-length".into(),
            Self::AspaInvalid => "invalid".into(),
        }
    }
}

/// What makes an event one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey {
    /// The announced prefix.
    pub prefix: Net,
    /// The AS the event blames: the hijacker, or the origin for RPKI and
    /// ASPA events.
    pub asn: u32,
    /// The type.
    pub kind: EventKind,
}

/// Whether some peer still carries the route that made the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventState {
    /// At least one peer's last word on the prefix is this event.
    Ongoing,
    /// Every peer that saw it has since withdrawn the prefix or replaced
    /// the route with one that is not this event.
    Withdrawn,
}

impl EventState {
    /// `ongoing` or `withdrawn`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ongoing => "ongoing",
            Self::Withdrawn => "withdrawn",
        }
    }
}

/// A peer, as an index into [`Events::peer_name`].
pub type PeerId = u32;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// What it is about.
    pub key: EventKey,
    /// The owned prefix whose rule the announcement broke (hijacks only).
    pub rule_prefix: Option<Net>,
    /// The first announcement's time, µs since the epoch.
    pub first_seen_us: u64,
    /// The last announcement's time, µs since the epoch.
    pub last_seen_us: u64,
    /// How many announcements made it.
    pub announcements: u64,
    /// Every peer that announced it.
    pub peers: BTreeSet<PeerId>,
    /// The peers whose last word on the prefix is still this event.
    active: BTreeSet<PeerId>,
    /// When the last active peer let go of it, if none carries it now.
    pub withdrawn_us: Option<u64>,
}

impl Event {
    /// Ongoing or withdrawn.
    pub fn state(&self) -> EventState {
        if self.active.is_empty() {
            EventState::Withdrawn
        } else {
            EventState::Ongoing
        }
    }
}

/// Every event, and which events each peer's route for a prefix makes.
#[derive(Debug, Default)]
pub struct Events {
    events: BTreeMap<EventKey, Event>,
    carried: Map<(PeerId, Net), Vec<EventKey>>,
    changed: BTreeSet<EventKey>,
    peer_ids: Map<String, Map<IpAddr, PeerId>>,
    peer_names: Vec<(String, IpAddr)>,
}

impl Events {
    /// The id of the peer `peer` at `collector`.
    pub fn peer_id(&mut self, collector: &str, peer: IpAddr) -> PeerId {
        if let Some(&id) = self.peer_ids.get(collector).and_then(|m| m.get(&peer)) {
            return id;
        }
        let id = PeerId::try_from(self.peer_names.len()).unwrap_or(PeerId::MAX);
        self.peer_names.push((collector.to_owned(), peer));
        self.peer_ids
            .entry(collector.to_owned())
            .or_default()
            .insert(peer, id);
        id
    }

    /// The collector and peer address of `id`, if it is an id.
    pub fn peer_name(&self, id: PeerId) -> Option<(&str, IpAddr)> {
        self.peer_names
            .get(id as usize)
            .map(|(c, p)| (c.as_str(), *p))
    }

    /// Records that `peer` now routes `prefix` with a route that makes
    /// `found` (each with the rule prefix it broke), replacing what it
    /// routed before.
    pub fn announce(
        &mut self,
        time_us: u64,
        peer: PeerId,
        prefix: Net,
        found: &[(EventKey, Option<Net>)],
    ) {
        let keys: Vec<EventKey> = found.iter().map(|(k, _)| *k).collect();
        self.release(time_us, peer, prefix, &keys);
        for &(key, rule_prefix) in found {
            let event = self.events.entry(key).or_insert_with(|| Event {
                key,
                rule_prefix,
                first_seen_us: time_us,
                last_seen_us: time_us,
                announcements: 0,
                peers: BTreeSet::new(),
                active: BTreeSet::new(),
                withdrawn_us: None,
            });
            event.first_seen_us = event.first_seen_us.min(time_us);
            event.last_seen_us = event.last_seen_us.max(time_us);
            event.announcements += 1;
            event.peers.insert(peer);
            event.active.insert(peer);
            event.withdrawn_us = None;
            self.changed.insert(key);
        }
        if keys.is_empty() {
            self.carried.remove(&(peer, prefix));
        } else {
            self.carried.insert((peer, prefix), keys);
        }
    }

    /// Records that `peer` withdrew `prefix`.
    pub fn withdraw(&mut self, time_us: u64, peer: PeerId, prefix: Net) {
        self.release(time_us, peer, prefix, &[]);
        self.carried.remove(&(peer, prefix));
    }

    /// Takes `peer` off the events its route for `prefix` made, but for
    /// those in `keep`.
    fn release(&mut self, time_us: u64, peer: PeerId, prefix: Net, keep: &[EventKey]) {
        let Some(before) = self.carried.get(&(peer, prefix)) else {
            return;
        };
        for key in before.iter().filter(|k| !keep.contains(k)) {
            if let Some(event) = self.events.get_mut(key) {
                event.active.remove(&peer);
                if event.active.is_empty() {
                    event.withdrawn_us = Some(time_us);
                    self.changed.insert(*key);
                }
            }
        }
    }

    /// Every event, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.events.values()
    }

    /// How many events there are.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The event with `key`.
    pub fn get(&self, key: &EventKey) -> Option<&Event> {
        self.events.get(key)
    }

    /// The keys of the events that changed since the last call, in order.
    pub fn take_changed(&mut self) -> Vec<EventKey> {
        std::mem::take(&mut self.changed).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_withdrawn_once_no_peer_carries_it() {
        let mut events = Events::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let (a, b) = (events.peer_id("rrc00", ip), events.peer_id("rrc01", ip));
        assert_ne!(a, b, "the same address at two collectors is two peers");
        assert_eq!(events.peer_id("rrc00", ip), a);
        let prefix: Net = "10.0.0.0/16".parse().unwrap();
        let key = EventKey {
            prefix,
            asn: 5,
            kind: EventKind::AspaInvalid,
        };
        events.announce(10, a, prefix, &[(key, None)]);
        events.announce(20, b, prefix, &[(key, None)]);
        events.announce(15, a, prefix, &[(key, None)]);
        assert_eq!(events.take_changed().len(), 1);
        assert!(events.take_changed().is_empty());
        events.withdraw(30, a, prefix);
        let e = events.iter().next().unwrap();
        assert_eq!(
            (e.state(), e.first_seen_us, e.last_seen_us, e.announcements),
            (EventState::Ongoing, 10, 20, 3)
        );
        // b replaces its route with a clean one.
        events.announce(40, b, prefix, &[]);
        let e = events.iter().next().unwrap();
        assert_eq!(
            (e.state(), e.withdrawn_us),
            (EventState::Withdrawn, Some(40))
        );
        assert_eq!(events.take_changed().len(), 1);
        events.announce(50, a, prefix, &[(key, None)]);
        let e = events.iter().next().unwrap();
        assert_eq!(
            (e.state(), e.withdrawn_us, e.peers.len()),
            (EventState::Ongoing, None, 2)
        );
    }
}
