//! JSON lines: one object per capture, prefix event or entity, with stable
//! field names.

use bgpmon_proto::v1;
use serde::Serialize;

use super::text::{community_text, ip_text, origin_text, prefix_text};
use crate::time::format_micros;

/// One AS path segment: `type` is `sequence`, `set`, `confed_sequence` or
/// `confed_set`.
#[derive(Debug, Serialize)]
pub struct SegmentJson {
    /// The segment type.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its ASes.
    pub asns: Vec<u32>,
}

/// The AGGREGATOR attribute.
#[derive(Debug, Serialize)]
pub struct AggregatorJson {
    /// The aggregating AS.
    pub asn: u32,
    /// Its router id.
    pub address: String,
}

/// A capture as one JSON object. Fields:
/// `timestamp` (RFC 3339, UTC), `timestamp_us`, `collector`,
/// `collector_ip` (null when unknown), `peer_ip`, `peer_as`, `as_path`
/// (segments), `origin_as` (null when the path does not end in a
/// sequence), `next_hop`, `advertised` and `withdrawn` (prefix strings),
/// `communities` (`AS:VALUE` or `G:L1:L2`), `origin` (`IGP`, `EGP`,
/// `INCOMPLETE` or null), `med`, `local_pref`, `atomic_aggregate`,
/// `aggregator`, `rib`.
#[derive(Debug, Serialize)]
pub struct CaptureJson {
    /// RFC 3339 time, UTC.
    pub timestamp: String,
    /// Microseconds since the epoch.
    pub timestamp_us: u64,
    /// Collector name.
    pub collector: String,
    /// Collector IP.
    pub collector_ip: Option<String>,
    /// Peer IP.
    pub peer_ip: String,
    /// Peer AS.
    pub peer_as: u32,
    /// AS path segments.
    pub as_path: Vec<SegmentJson>,
    /// Origin AS.
    pub origin_as: Option<u32>,
    /// Next hop.
    pub next_hop: Option<String>,
    /// Advertised prefixes.
    pub advertised: Vec<String>,
    /// Withdrawn prefixes.
    pub withdrawn: Vec<String>,
    /// Communities.
    pub communities: Vec<String>,
    /// ORIGIN attribute.
    pub origin: Option<&'static str>,
    /// MED.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// ATOMIC_AGGREGATE.
    pub atomic_aggregate: bool,
    /// AGGREGATOR.
    pub aggregator: Option<AggregatorJson>,
    /// True for a RIB entry.
    pub rib: bool,
    /// The BMP view (`pre-policy`, `post-policy`, `loc-rib`) of a capture a BMP station
    /// received; left out otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<&'static str>,
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl From<&v1::Capture> for CaptureJson {
    fn from(c: &v1::Capture) -> Self {
        Self {
            timestamp: format_micros(c.timestamp_us),
            timestamp_us: c.timestamp_us,
            collector: c.collector.clone(),
            collector_ip: non_empty(ip_text(&c.collector_ip)),
            peer_ip: ip_text(&c.peer_ip),
            peer_as: c.peer_as,
            as_path: c
                .as_path
                .iter()
                .map(|s| SegmentJson {
                    kind: match v1::SegmentKind::try_from(s.kind) {
                        Ok(v1::SegmentKind::Set) => "set",
                        Ok(v1::SegmentKind::ConfedSequence) => "confed_sequence",
                        Ok(v1::SegmentKind::ConfedSet) => "confed_set",
                        _ => "sequence",
                    },
                    asns: s.asns.clone(),
                })
                .collect(),
            origin_as: c.origin_as,
            next_hop: non_empty(ip_text(&c.next_hop)),
            advertised: c.advertised.iter().map(prefix_text).collect(),
            withdrawn: c.withdrawn.iter().map(prefix_text).collect(),
            communities: c.communities.iter().map(community_text).collect(),
            origin: Some(origin_text(c.origin)).filter(|o| !o.is_empty()),
            med: c.med,
            local_pref: c.local_pref,
            atomic_aggregate: c.atomic_aggregate,
            aggregator: c.aggregator.as_ref().map(|a| AggregatorJson {
                asn: a.asn,
                address: ip_text(&a.address),
            }),
            rib: c.is_rib,
            view: match c.view() {
                v1::RouteView::Unspecified => None,
                v1::RouteView::PrePolicy => Some("pre-policy"),
                v1::RouteView::PostPolicy => Some("post-policy"),
                v1::RouteView::LocRib => Some("loc-rib"),
            },
        }
    }
}

/// A prefix event as one JSON object: `timestamp`, `timestamp_us`,
/// `collector`, `peer_as`, `prefix`, `withdrawn`, `origin_as`.
#[derive(Debug, Serialize)]
pub struct PrefixJson {
    /// RFC 3339 time, UTC.
    pub timestamp: String,
    /// Microseconds since the epoch.
    pub timestamp_us: u64,
    /// Collector name.
    pub collector: String,
    /// Peer AS.
    pub peer_as: u32,
    /// The prefix.
    pub prefix: String,
    /// True for a withdrawal.
    pub withdrawn: bool,
    /// Origin AS of an announcement.
    pub origin_as: Option<u32>,
}

impl From<&v1::PrefixEvent> for PrefixJson {
    fn from(e: &v1::PrefixEvent) -> Self {
        Self {
            timestamp: format_micros(e.timestamp_us),
            timestamp_us: e.timestamp_us,
            collector: e.collector.clone(),
            peer_as: e.peer_as,
            prefix: e.prefix.as_ref().map(prefix_text).unwrap_or_default(),
            withdrawn: e.withdrawn,
            origin_as: e.origin_as,
        }
    }
}

/// One owned prefix of an entity.
#[derive(Debug, Serialize)]
pub struct OwnedPrefixJson {
    /// The prefix.
    pub prefix: String,
    /// The longest length announced inside it.
    pub max_length: u32,
}

/// An entity as one JSON object: `name`, `contact`, `origin_ases`,
/// `prefixes` (each `prefix` and `max_length`). The same shape is read by
/// `bgpmon write entities --format json`.
#[derive(Debug, Serialize)]
pub struct EntityJson {
    /// The unique name.
    pub name: String,
    /// Contact.
    pub contact: String,
    /// Owned origin ASes.
    pub origin_ases: Vec<u32>,
    /// Owned prefixes.
    pub prefixes: Vec<OwnedPrefixJson>,
}

impl From<&v1::Entity> for EntityJson {
    fn from(e: &v1::Entity) -> Self {
        Self {
            name: e.name.clone(),
            contact: e.contact.clone(),
            origin_ases: e.origin_ases.clone(),
            prefixes: e
                .prefixes
                .iter()
                .map(|p| OwnedPrefixJson {
                    prefix: p.prefix.as_ref().map(prefix_text).unwrap_or_default(),
                    max_length: p.max_length,
                })
                .collect(),
        }
    }
}
