//! The detector: classifies, validates and verifies every announcement of
//! a stream of updates, and keeps the events and counts.

use std::net::IpAddr;

use crate::aspa::{AspaState, AspaTable};
use crate::classify::classify;
use crate::events::{EventKey, EventKind, Events};
use crate::net::Net;
use crate::rov::{RovState, VrpTable};
use crate::rules::RuleSet;

/// What the detector checks announcements against.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Owned prefixes with their legal origins and neighbours.
    pub rules: RuleSet,
    /// Validated ROA payloads.
    pub vrps: VrpTable,
    /// ASPA objects.
    pub aspas: AspaTable,
    /// Whether RPKI-invalid and ASPA-invalid announcements make events too
    /// (they are always counted).
    pub invalid_events: bool,
}

/// One BGP update or RIB entry, as the detector reads it.
#[derive(Clone, Copy, Debug)]
pub struct Update<'a> {
    /// When it was received, µs since the epoch.
    pub time_us: u64,
    /// The collector's name.
    pub collector: &'a str,
    /// The peer's address.
    pub peer: IpAddr,
    /// The AS path, neighbour first, prepends collapsed, sets left out.
    pub path: &'a [u32],
    /// Whether the AS path held an AS_SET.
    pub has_set: bool,
    /// The origin AS; `None` when the path ends in an AS_SET.
    pub origin: Option<u32>,
    /// The prefixes it announces.
    pub announced: &'a [Net],
    /// The prefixes it withdraws.
    pub withdrawn: &'a [Net],
}

/// How many announcements were seen, and their RPKI and ASPA outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Announced prefixes (one per prefix per update or RIB entry).
    pub announcements: u64,
    /// Withdrawn prefixes.
    pub withdrawals: u64,
    /// Route origin validation: valid, invalid-origin, invalid-length,
    /// not-found.
    pub rov: [u64; 4],
    /// ASPA upstream verification: valid, invalid, unknown.
    pub aspa: [u64; 3],
}

impl Counts {
    /// The count of announcements in `state`.
    pub fn rov(&self, state: RovState) -> u64 {
        self.rov[rov_index(state)]
    }

    /// The count of announcements with ASPA outcome `state`.
    pub fn aspa(&self, state: AspaState) -> u64 {
        self.aspa[aspa_index(state)]
    }
}

fn rov_index(state: RovState) -> usize {
    match state {
        RovState::Valid => 0,
        RovState::InvalidOrigin => 1,
        RovState::InvalidLength => 2,
        RovState::NotFound => 3,
    }
}

fn aspa_index(state: AspaState) -> usize {
    match state {
        AspaState::Valid => 0,
        AspaState::Invalid => 1,
        AspaState::Unknown => 2,
    }
}

/// Classifies updates and keeps events and counts.
#[derive(Debug)]
pub struct Detector {
    config: Config,
    events: Events,
    counts: Counts,
    found: Vec<(EventKey, Option<Net>)>,
}

impl Detector {
    /// A detector with no events yet.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            events: Events::default(),
            counts: Counts::default(),
            found: Vec::new(),
        }
    }

    /// What it checks against.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Takes in one update, in the order the peer sent them: withdrawals
    /// first, then announcements, as within one UPDATE message.
    pub fn observe(&mut self, update: &Update<'_>) {
        let peer = self.events.peer_id(update.collector, update.peer);
        for &prefix in update.withdrawn {
            self.counts.withdrawals += 1;
            self.events.withdraw(update.time_us, peer, prefix);
        }
        if update.announced.is_empty() {
            return;
        }
        let aspa = self
            .config
            .aspas
            .verify_upstream(update.path, update.has_set);
        let origin_asn = update.origin.unwrap_or(0);
        for &prefix in update.announced {
            self.counts.announcements += 1;
            self.counts.aspa[aspa_index(aspa)] += 1;
            let rov = self.config.vrps.validate(&prefix, update.origin);
            self.counts.rov[rov_index(rov)] += 1;
            let mut found = std::mem::take(&mut self.found);
            found.clear();
            if let Some((rule_prefix, rule)) = self.config.rules.covering(&prefix)
                && let Some(verdict) = classify(&prefix, rule, update.path, update.origin)
            {
                let key = EventKey {
                    prefix,
                    asn: verdict.hijacker,
                    kind: EventKind::Hijack(verdict.kind),
                };
                found.push((key, Some(rule_prefix)));
            }
            if self.config.invalid_events {
                let rpki = match rov {
                    RovState::InvalidOrigin => Some(EventKind::RpkiInvalidOrigin),
                    RovState::InvalidLength => Some(EventKind::RpkiInvalidLength),
                    RovState::Valid | RovState::NotFound => None,
                };
                let aspa = (aspa == AspaState::Invalid && !self.config.aspas.is_empty())
                    .then_some(EventKind::AspaInvalid);
                for kind in rpki.into_iter().chain(aspa) {
                    let key = EventKey {
                        prefix,
                        asn: origin_asn,
                        kind,
                    };
                    found.push((key, None));
                }
            }
            self.events.announce(update.time_us, peer, prefix, &found);
            self.found = found;
        }
    }

    /// The events so far.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// The events, to take the changed ones from.
    pub fn events_mut(&mut self) -> &mut Events {
        &mut self.events
    }

    /// The counts so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventState;

    fn net(s: &str) -> Net {
        s.parse().unwrap()
    }

    #[test]
    fn counts_and_events_follow_the_updates() {
        let mut vrps = VrpTable::default();
        vrps.add(net("10.0.0.0/16"), 16, 1);
        let mut aspas = AspaTable::default();
        aspas.add(1, [2]);
        let config = Config {
            rules: RuleSet::parse(r#"[{"prefixes": ["10.0.0.0/16"], "origins": [1]}]"#).unwrap(),
            vrps,
            aspas,
            invalid_events: true,
        };
        let mut d = Detector::new(config);
        let hijacked = [net("10.0.0.0/16")];
        let (a, b): (IpAddr, IpAddr) = ([192, 0, 2, 1].into(), [192, 0, 2, 2].into());
        let update = |time_us,
                      peer,
                      path: &'static [u32],
                      announced: &'static [Net],
                      withdrawn: &'static [Net]| Update {
            time_us,
            collector: "rrc00",
            peer,
            path,
            has_set: false,
            origin: path.last().copied(),
            announced,
            withdrawn,
        };
        let legit: &'static [Net] = Box::leak(Box::new(hijacked));
        d.observe(&update(1, a, &[2, 1], legit, &[]));
        d.observe(&update(2, b, &[3, 5], legit, &[]));
        d.observe(&update(3, a, &[3, 5], legit, &[]));
        let c = *d.counts();
        assert_eq!(c.announcements, 3);
        assert_eq!(
            (c.rov(RovState::Valid), c.rov(RovState::InvalidOrigin)),
            (1, 2)
        );
        assert_eq!(
            (c.aspa(AspaState::Valid), c.aspa(AspaState::Unknown)),
            (1, 2)
        );
        let kinds: Vec<String> = d.events().iter().map(|e| e.key.kind.type_name()).collect();
        assert_eq!(kinds, ["E|0|-|-", "invalid-origin"]);
        d.observe(&update(4, a, &[], &[], legit));
        d.observe(&update(5, b, &[2, 1], legit, &[]));
        assert_eq!(c.withdrawals + 1, d.counts().withdrawals);
        for e in d.events().iter() {
            assert_eq!(
                (e.state(), e.withdrawn_us, e.peers.len()),
                (EventState::Withdrawn, Some(5), 2)
            );
        }
    }
}
