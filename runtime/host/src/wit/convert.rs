//! Conversions between the WIT types and the store's model.
//!
//! Values from a guest are checked here, once, at the border: a prefix
//! length beyond its family or an empty time window is an
//! `invalid-argument` error naming the value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpmon_store as store;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::HostCallError;
use crate::bindings::types as wit;

pub(crate) fn ip_from_wit(ip: &wit::IpAddress) -> IpAddr {
    match *ip {
        wit::IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        wit::IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
        }
    }
}

pub(crate) fn ip_to_wit(ip: IpAddr) -> wit::IpAddress {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            wit::IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.segments();
            wit::IpAddress::Ipv6((a, b, c, d, e, f, g, h))
        }
    }
}

pub(crate) fn prefix_from_wit(prefix: &wit::Prefix) -> Result<IpNet, HostCallError> {
    let net = match ip_from_wit(&prefix.address) {
        IpAddr::V4(a) => Ipv4Net::new(a, prefix.length).map(IpNet::V4),
        IpAddr::V6(a) => Ipv6Net::new(a, prefix.length).map(IpNet::V6),
    };
    net.map(|n| n.trunc()).map_err(|_| {
        HostCallError::invalid(format!(
            "prefix length {} is too long for address {}; use at most 32 for IPv4 and 128 for IPv6",
            prefix.length,
            ip_from_wit(&prefix.address)
        ))
    })
}

pub(crate) fn prefix_to_wit(net: &IpNet) -> wit::Prefix {
    wit::Prefix {
        address: ip_to_wit(net.network()),
        length: net.prefix_len(),
    }
}

fn segment_from_wit(s: wit::PathSegment) -> store::PathSegment {
    match s {
        wit::PathSegment::Sequence(a) => store::PathSegment::Sequence(a),
        wit::PathSegment::Set(a) => store::PathSegment::Set(a),
        wit::PathSegment::ConfedSequence(a) => store::PathSegment::ConfedSequence(a),
        wit::PathSegment::ConfedSet(a) => store::PathSegment::ConfedSet(a),
    }
}

fn segment_to_wit(s: store::PathSegment) -> wit::PathSegment {
    match s {
        store::PathSegment::Sequence(a) => wit::PathSegment::Sequence(a),
        store::PathSegment::Set(a) => wit::PathSegment::Set(a),
        store::PathSegment::ConfedSequence(a) => wit::PathSegment::ConfedSequence(a),
        store::PathSegment::ConfedSet(a) => wit::PathSegment::ConfedSet(a),
    }
}

pub(crate) fn community_from_wit(c: &wit::Community) -> store::Community {
    match *c {
        wit::Community::Standard((a, v)) => store::Community::Standard(a, v),
        wit::Community::Large((g, l1, l2)) => store::Community::Large(g, l1, l2),
    }
}

pub(crate) fn community_to_wit(c: store::Community) -> wit::Community {
    match c {
        store::Community::Standard(a, v) => wit::Community::Standard((a, v)),
        store::Community::Large(g, l1, l2) => wit::Community::Large((g, l1, l2)),
    }
}

fn origin_from_wit(o: wit::OriginAttribute) -> store::OriginAttribute {
    match o {
        wit::OriginAttribute::Igp => store::OriginAttribute::Igp,
        wit::OriginAttribute::Egp => store::OriginAttribute::Egp,
        wit::OriginAttribute::Incomplete => store::OriginAttribute::Incomplete,
    }
}

pub(crate) fn origin_to_wit(o: store::OriginAttribute) -> wit::OriginAttribute {
    match o {
        store::OriginAttribute::Igp => wit::OriginAttribute::Igp,
        store::OriginAttribute::Egp => wit::OriginAttribute::Egp,
        store::OriginAttribute::Incomplete => wit::OriginAttribute::Incomplete,
    }
}

fn prefixes_from_wit(list: &[wit::Prefix]) -> Result<Vec<IpNet>, HostCallError> {
    list.iter().map(prefix_from_wit).collect()
}

pub(crate) fn capture_from_wit(c: wit::Capture) -> Result<store::Capture, HostCallError> {
    Ok(store::Capture {
        timestamp_us: c.timestamp_us,
        collector: c.collector,
        collector_ip: c.collector_ip.as_ref().map(ip_from_wit),
        peer_ip: ip_from_wit(&c.peer_ip),
        peer_as: c.peer_as,
        as_path: c.as_path.into_iter().map(segment_from_wit).collect(),
        origin_as: c.origin_as,
        next_hop: c.next_hop.as_ref().map(ip_from_wit),
        advertised: prefixes_from_wit(&c.advertised)?,
        withdrawn: prefixes_from_wit(&c.withdrawn)?,
        communities: c.communities.iter().map(community_from_wit).collect(),
        origin: c.origin.map(origin_from_wit),
        med: c.med,
        local_pref: c.local_pref,
        atomic_aggregate: c.atomic_aggregate,
        aggregator: c.aggregator.map(|a| store::Aggregator {
            asn: a.asn,
            address: ip_from_wit(&a.address),
        }),
        is_rib: c.is_rib,
        // WIT 0.1.0 captures carry no MRT record type: a module's captures
        // did not come from an MRT file.
        mrt_type: None,
        // Nor a BMP view: they did not come from a router.
        view: None,
    })
}

pub(crate) fn capture_to_wit(c: store::Capture) -> wit::Capture {
    wit::Capture {
        timestamp_us: c.timestamp_us,
        collector: c.collector,
        collector_ip: c.collector_ip.map(ip_to_wit),
        peer_ip: ip_to_wit(c.peer_ip),
        peer_as: c.peer_as,
        as_path: c.as_path.into_iter().map(segment_to_wit).collect(),
        origin_as: c.origin_as,
        next_hop: c.next_hop.map(ip_to_wit),
        advertised: c.advertised.iter().map(prefix_to_wit).collect(),
        withdrawn: c.withdrawn.iter().map(prefix_to_wit).collect(),
        communities: c.communities.into_iter().map(community_to_wit).collect(),
        origin: c.origin.map(origin_to_wit),
        med: c.med,
        local_pref: c.local_pref,
        atomic_aggregate: c.atomic_aggregate,
        aggregator: c.aggregator.map(|a| wit::Aggregator {
            asn: a.asn,
            address: ip_to_wit(a.address),
        }),
        is_rib: c.is_rib,
    }
}

pub(crate) fn entity_from_wit(e: wit::Entity) -> Result<store::Entity, HostCallError> {
    let prefixes = e
        .prefixes
        .iter()
        .map(|p| {
            let prefix = prefix_from_wit(&p.prefix)?;
            store::OwnedPrefix::new(prefix, u32::from(p.max_length))
                .map_err(|e| HostCallError::invalid(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    Ok(store::Entity {
        name: e.name,
        contact: e.contact,
        origin_ases: e.origin_ases,
        prefixes,
    })
}

pub(crate) fn entity_to_wit(e: store::Entity) -> wit::Entity {
    wit::Entity {
        name: e.name,
        contact: e.contact,
        origin_ases: e.origin_ases,
        prefixes: e
            .prefixes
            .iter()
            .map(|p| wit::OwnedPrefix {
                prefix: prefix_to_wit(&p.prefix),
                max_length: p.max_length,
            })
            .collect(),
    }
}

pub(crate) fn prefix_event_to_wit(e: store::PrefixEvent) -> wit::PrefixEvent {
    wit::PrefixEvent {
        prefix: prefix_to_wit(&e.prefix),
        withdrawn: e.withdrawn,
        timestamp_us: e.timestamp_us,
        collector: e.collector,
        peer_as: e.peer_as,
        origin_as: e.origin_as,
    }
}

/// How many values a capture filter carries, over all its terms: the work
/// it asks of the store.
pub(crate) fn filter_terms(f: &wit::CaptureFilter) -> usize {
    f.collectors.len()
        + usize::from(f.time.is_some())
        + f.peer_ips.len()
        + f.peer_ases.len()
        + f.origin_ases.len()
        + f.prefixes.len()
        + f.path_contains.len()
        + f.communities.len()
}

pub(crate) fn capture_filter_from_wit(
    f: wit::CaptureFilter,
) -> Result<store::CaptureFilter, HostCallError> {
    if let Some(t) = &f.time
        && t.start_us >= t.end_us
    {
        return Err(HostCallError::invalid(format!(
            "time window [{}, {}) is empty; give a start before the end",
            t.start_us, t.end_us
        )));
    }
    let prefixes = f
        .prefixes
        .iter()
        .map(|t| {
            let specificity = match t.specificity {
                wit::PrefixMatch::Exact => store::PrefixMatch::Exact,
                wit::PrefixMatch::More => store::PrefixMatch::More,
                wit::PrefixMatch::Less => store::PrefixMatch::Less,
                wit::PrefixMatch::Any => store::PrefixMatch::Any,
            };
            Ok(store::PrefixTerm::new(
                prefix_from_wit(&t.prefix)?,
                specificity,
            ))
        })
        .collect::<Result<_, HostCallError>>()?;
    Ok(store::CaptureFilter {
        collectors: f.collectors,
        time: f.time.map(|t| store::TimeRange {
            start_us: t.start_us,
            end_us: t.end_us,
        }),
        peer_ips: f.peer_ips.iter().map(ip_from_wit).collect(),
        peer_ases: f.peer_ases,
        origin_ases: f.origin_ases,
        prefixes,
        prefix_scope: match f.prefix_scope {
            wit::PrefixScope::Advertised => store::PrefixScope::Advertised,
            wit::PrefixScope::Withdrawn => store::PrefixScope::Withdrawn,
            wit::PrefixScope::Both => store::PrefixScope::Both,
        },
        path_contains: f.path_contains,
        // WIT 0.1.0 filters carry exact communities: each is a pattern with
        // every part given.
        communities: f
            .communities
            .iter()
            .map(|c| store::CommunityPattern::from(community_from_wit(c)))
            .collect(),
        kind: match f.kind {
            wit::CaptureKind::Any => store::CaptureKind::Any,
            wit::CaptureKind::Rib => store::CaptureKind::Rib,
            wit::CaptureKind::Update => store::CaptureKind::Update,
        },
        // WIT 0.1.0 has no AS-path patterns, address family or BMP views.
        path_regex: Vec::new(),
        family: None,
        views: Vec::new(),
    })
}
