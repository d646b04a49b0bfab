//! The stored data: captures, entities, nodes and the prefix events derived
//! from captures.
//!
//! These types are the one in-memory form of bgpmon's data. The WASM host,
//! the ingest and the RPC layer convert to and from them at their borders.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// One segment of an AS path. Sets stay distinguishable from sequences.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathSegment {
    /// An ordered AS_SEQUENCE.
    Sequence(Vec<u32>),
    /// An unordered AS_SET.
    Set(Vec<u32>),
    /// An AS_CONFED_SEQUENCE.
    ConfedSequence(Vec<u32>),
    /// An AS_CONFED_SET.
    ConfedSet(Vec<u32>),
}

impl PathSegment {
    /// The ASes of the segment, in order.
    pub fn asns(&self) -> &[u32] {
        match self {
            Self::Sequence(a) | Self::Set(a) | Self::ConfedSequence(a) | Self::ConfedSet(a) => a,
        }
    }
}

/// A BGP community.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Community {
    /// A standard community (RFC 1997): AS and value.
    Standard(u16, u16),
    /// A large community (RFC 8092): global administrator and two local values.
    Large(u32, u32, u32),
}

/// The ORIGIN path attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OriginAttribute {
    /// Learned from an interior protocol.
    Igp,
    /// Learned from EGP.
    Egp,
    /// Learned some other way.
    Incomplete,
}

/// The AGGREGATOR path attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Aggregator {
    /// The aggregating AS.
    pub asn: u32,
    /// The BGP identifier of the aggregating router.
    pub address: IpAddr,
}

/// Which of a router's routing tables a BMP route-monitoring message
/// describes (RFC 7854 pre- and post-policy Adj-RIB-In, RFC 9069 Loc-RIB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RouteView {
    /// Adj-RIB-In before the router's inbound policy.
    PrePolicy,
    /// Adj-RIB-In after the router's inbound policy.
    PostPolicy,
    /// The router's Loc-RIB: the routes it selected.
    LocRib,
}

impl RouteView {
    /// Every view, in the order of their names.
    pub const ALL: [Self; 3] = [Self::PrePolicy, Self::PostPolicy, Self::LocRib];

    /// The view's name in the config, the CLI and the output:
    /// `pre-policy`, `post-policy` or `loc-rib`.
    pub fn name(self) -> &'static str {
        match self {
            Self::PrePolicy => "pre-policy",
            Self::PostPolicy => "post-policy",
            Self::LocRib => "loc-rib",
        }
    }

    /// The view named `name` (see [`RouteView::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl std::fmt::Display for RouteView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One BGP UPDATE as seen at a collector, or one RIB entry of a dump.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    /// Microseconds since the unix epoch, UTC.
    pub timestamp_us: u64,
    /// The collector's name.
    pub collector: String,
    /// The collector's IP address, when known.
    pub collector_ip: Option<IpAddr>,
    /// The peer that sent the update.
    pub peer_ip: IpAddr,
    /// The peer's AS.
    pub peer_as: u32,
    /// The AS path.
    pub as_path: Vec<PathSegment>,
    /// The origin AS, when the path ends in a sequence.
    pub origin_as: Option<u32>,
    /// The next hop.
    pub next_hop: Option<IpAddr>,
    /// Advertised prefixes.
    pub advertised: Vec<IpNet>,
    /// Withdrawn prefixes.
    pub withdrawn: Vec<IpNet>,
    /// Standard and large communities.
    pub communities: Vec<Community>,
    /// The ORIGIN attribute.
    pub origin: Option<OriginAttribute>,
    /// The MULTI_EXIT_DISC attribute.
    pub med: Option<u32>,
    /// The LOCAL_PREF attribute.
    pub local_pref: Option<u32>,
    /// Whether ATOMIC_AGGREGATE is present.
    pub atomic_aggregate: bool,
    /// The AGGREGATOR attribute.
    pub aggregator: Option<Aggregator>,
    /// True for a RIB dump entry, false for an UPDATE. A BMP route
    /// monitoring message of a router's table dump (after a peer comes up,
    /// until its End-of-RIB) is a RIB entry too.
    pub is_rib: bool,
    /// The MRT record type (RFC 6396) the capture was read from: 12 for
    /// TABLE_DUMP, 13 for TABLE_DUMP_V2, 16 for BGP4MP, 17 for BGP4MP_ET;
    /// `None` when it did not come from an MRT file (a client, a module or
    /// a live feed wrote it). Output in bgpdump's format needs it, since
    /// bgpdump names the record type on every line.
    pub mrt_type: Option<u16>,
    /// The routing table a BMP route-monitoring message described; `None`
    /// for captures that did not come from BMP.
    pub view: Option<RouteView>,
}

impl Capture {
    /// The origin AS derived from an AS path: the last AS of a path whose
    /// last segment is a sequence, or `None`.
    pub fn origin_of(path: &[PathSegment]) -> Option<u32> {
        match path.last()? {
            PathSegment::Sequence(asns) => asns.last().copied(),
            _ => None,
        }
    }

    /// The memory the capture holds, estimated: its own size and the heap
    /// values it owns.
    pub fn approx_size(&self) -> usize {
        let path: usize = self
            .as_path
            .iter()
            .map(|s| size_of::<PathSegment>() + size_of_val(s.asns()))
            .sum();
        size_of::<Self>()
            + self.collector.len()
            + path
            + size_of_val(self.advertised.as_slice())
            + size_of_val(self.withdrawn.as_slice())
            + size_of_val(self.communities.as_slice())
    }

    /// Whether `asn` appears anywhere in the AS path.
    pub fn path_contains(&self, asn: u32) -> bool {
        self.as_path.iter().any(|s| s.asns().contains(&asn))
    }

    /// The capture's prefix elements: advertisements first, then
    /// withdrawals.
    pub fn prefix_events(&self) -> impl Iterator<Item = PrefixEvent> + '_ {
        let advertised = self.advertised.iter().map(|p| (p, false));
        let withdrawn = self.withdrawn.iter().map(|p| (p, true));
        advertised
            .chain(withdrawn)
            .map(|(prefix, withdrawn)| PrefixEvent {
                prefix: *prefix,
                withdrawn,
                timestamp_us: self.timestamp_us,
                collector: self.collector.clone(),
                peer_as: self.peer_as,
                origin_as: if withdrawn { None } else { self.origin_as },
            })
    }
}

#[cfg(test)]
impl Capture {
    /// A capture at `timestamp_us` from peer AS64500 at 192.0.2.1, with
    /// every other field empty: the base of the crate's unit-test captures.
    pub(crate) fn bare(timestamp_us: u64) -> Self {
        Self {
            timestamp_us,
            collector: "rrc00".into(),
            collector_ip: None,
            peer_ip: IpAddr::from([192, 0, 2, 1]),
            peer_as: 64500,
            as_path: vec![],
            origin_as: None,
            next_hop: None,
            advertised: vec![],
            withdrawn: vec![],
            communities: vec![],
            origin: None,
            med: None,
            local_pref: None,
            atomic_aggregate: false,
            aggregator: None,
            is_rib: false,
            mrt_type: None,
            view: None,
        }
    }
}

/// One prefix element of a capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefixEvent {
    /// The prefix.
    pub prefix: IpNet,
    /// True for a withdrawal, false for an advertisement.
    pub withdrawn: bool,
    /// The capture's timestamp in microseconds.
    pub timestamp_us: u64,
    /// The collector's name.
    pub collector: String,
    /// The peer's AS.
    pub peer_as: u32,
    /// The origin AS of an advertisement.
    pub origin_as: Option<u32>,
}

/// A prefix an entity owns, with the longest announcement it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OwnedPrefix {
    /// The owned prefix.
    pub prefix: IpNet,
    /// The longest prefix length announced inside it (a ROA's max length).
    pub max_length: u8,
}

/// A max length outside the lengths its prefix allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "max length {max_length} is out of range for {prefix}; use {}..={}",
    prefix.prefix_len(),
    prefix.max_prefix_len()
)]
pub struct MaxLengthOutOfRange {
    /// The owned prefix.
    pub prefix: IpNet,
    /// The max length given.
    pub max_length: u32,
}

impl OwnedPrefix {
    /// `prefix` owned up to announcements of `max_length`.
    ///
    /// Returns an error if `max_length` is shorter than the prefix or
    /// longer than its address family allows.
    pub fn new(prefix: IpNet, max_length: u32) -> Result<Self, MaxLengthOutOfRange> {
        let out_of_range = MaxLengthOutOfRange { prefix, max_length };
        let max = u8::try_from(max_length).map_err(|_| out_of_range)?;
        if max < prefix.prefix_len() || max > prefix.max_prefix_len() {
            return Err(out_of_range);
        }
        Ok(Self {
            prefix,
            max_length: max,
        })
    }
}

/// An organisation that owns address space and origin ASes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// A unique name.
    pub name: String,
    /// How to reach the organisation.
    pub contact: String,
    /// The ASes allowed to originate the owned prefixes.
    pub origin_ases: Vec<u32>,
    /// The owned prefixes.
    pub prefixes: Vec<OwnedPrefix>,
}

impl Entity {
    /// The memory the entity holds, estimated: its own size and the heap
    /// values it owns.
    pub fn approx_size(&self) -> usize {
        size_of::<Self>()
            + self.name.len()
            + self.contact.len()
            + size_of_val(self.origin_ases.as_slice())
            + size_of_val(self.prefixes.as_slice())
    }
}

/// A known collector or peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The node's IP address.
    pub ip: IpAddr,
    /// Its name, such as "route-views2".
    pub name: String,
    /// Whether it is a collector (as opposed to a peer).
    pub collector: bool,
    /// How long one dump file covers, in minutes (bgpmon's time partitioning).
    pub dump_duration_minutes: Option<u32>,
    /// A free-form description.
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_prefix_allows_max_lengths_from_its_own_to_its_family_limit() {
        let v4: IpNet = "192.0.2.0/24".parse().unwrap();
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert_eq!(OwnedPrefix::new(v4, 24).unwrap().max_length, 24);
        assert_eq!(OwnedPrefix::new(v4, 32).unwrap().max_length, 32);
        assert_eq!(OwnedPrefix::new(v6, 128).unwrap().max_length, 128);
        for (prefix, max) in [(v4, 23), (v4, 33), (v6, 129), (v6, 256), (v6, u32::MAX)] {
            let error = OwnedPrefix::new(prefix, max).unwrap_err();
            assert_eq!(error.max_length, max);
        }
        assert_eq!(
            OwnedPrefix::new(v4, 33).unwrap_err().to_string(),
            "max length 33 is out of range for 192.0.2.0/24; use 24..=32"
        );
    }
}
