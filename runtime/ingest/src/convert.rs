//! The mapping from bgpkit-parser's BGP values to the fields of a bgpmon `Capture`: prefixes,
//! AS path, communities and the other path attributes.
//!
//! Values are read in place from the parsed record and copied into the capture's own
//! (protobuf) types.

use std::net::IpAddr;

use bgpkit_parser::models::{
    AsPath, AsPathSegment, Asn, AttributeValue, Attributes, Community, LargeCommunity,
    NetworkPrefix, Origin,
};
use bgpmon_proto::v1::{self, Capture, OriginAttribute, PathSegment, SegmentKind, community};
use bgpmon_proto::{ip_to_bytes, prefix_to_proto};

/// The AS number a 2-byte speaker puts in AGGREGATOR and AS_PATH in place of a 4-byte one
/// (RFC 6793).
const AS_TRANS: u32 = 23456;

/// The RFC 1997 well-known communities, as (asn, value).
const NO_EXPORT: (u32, u32) = (0xFFFF, 0xFF01);
const NO_ADVERTISE: (u32, u32) = (0xFFFF, 0xFF02);
const NO_EXPORT_SUBCONFED: (u32, u32) = (0xFFFF, 0xFF03);

/// The wire form of a parsed prefix; an ADD-PATH path id is dropped.
pub(crate) fn prefix(prefix: &NetworkPrefix) -> v1::Prefix {
    prefix_to_proto(&prefix.prefix)
}

/// The wire form of a list of parsed prefixes.
pub(crate) fn prefixes(list: &[NetworkPrefix]) -> Vec<v1::Prefix> {
    list.iter().map(prefix).collect()
}

/// What to do with the prefixes of MP_REACH_NLRI and MP_UNREACH_NLRI attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MpPrefixes {
    /// Append them to `advertised` and `withdrawn`: they are an UPDATE's prefixes.
    Append,
    /// Ignore them: in a RIB entry, bgpkit-parser fills them with the entry's own prefix (the
    /// abbreviated RFC 6396 form) or with whatever NLRI the dumper copied (RIS bviews).
    Ignore,
}

/// Copies the path attributes of `attributes` into `capture`.
///
/// - with [`MpPrefixes::Append`], MP_REACH prefixes are appended to `advertised` and
///   MP_UNREACH ones to `withdrawn`;
/// - the AS path is AS_PATH merged with AS4_PATH when both are present, as bgpkit-parser
///   merges them (RFC 6793), and `origin_as` is its last AS when it ends with a sequence;
/// - the next hop is NEXT_HOP, else the global address of the MP_REACH next hop;
/// - the aggregator is AS4_AGGREGATOR when AGGREGATOR is absent or holds AS_TRANS, else
///   AGGREGATOR.
///
/// The attributes are read in place: moving bgpkit-parser's large attribute values out costs
/// more than the copies of the few numbers each one holds.
pub(crate) fn apply_attributes(capture: &mut Capture, attributes: &Attributes, mp: MpPrefixes) {
    let mut as_path = None;
    let mut as4_path = None;
    let mut next_hop = None;
    let mut mp_next_hop = None;
    let mut aggregator = None;
    let mut as4_aggregator = None;
    for value in attributes {
        match value {
            AttributeValue::Origin(origin) => capture.origin = origin_attribute(*origin) as i32,
            AttributeValue::AsPath(path) => as_path = Some(path),
            AttributeValue::As4Path(path) => as4_path = Some(path),
            AttributeValue::NextHop(ip) => next_hop = Some(*ip),
            AttributeValue::MultiExitDiscriminator(med) => capture.med = Some(*med),
            AttributeValue::LocalPreference(pref) => capture.local_pref = Some(*pref),
            AttributeValue::AtomicAggregate => capture.atomic_aggregate = true,
            AttributeValue::Aggregator { asn, id } => aggregator = Some((*asn, *id)),
            AttributeValue::As4Aggregator { asn, id } => as4_aggregator = Some((*asn, *id)),
            AttributeValue::Communities(list) => capture
                .communities
                .extend(list.iter().copied().map(standard_community)),
            AttributeValue::LargeCommunities(list) => capture
                .communities
                .extend(list.iter().copied().map(large_community)),
            AttributeValue::MpReachNlri(nlri) => {
                if mp_next_hop.is_none() {
                    mp_next_hop = nlri.next_hop.map(|hop| hop.global_addr());
                }
                if mp == MpPrefixes::Append {
                    capture.advertised.extend(nlri.prefixes.iter().map(prefix));
                }
            }
            AttributeValue::MpUnreachNlri(nlri) if mp == MpPrefixes::Append => {
                capture.withdrawn.extend(nlri.prefixes.iter().map(prefix));
            }
            _ => {}
        }
    }
    let merged;
    let path = match (as_path, as4_path) {
        (Some(path), Some(as4)) => {
            merged = AsPath::merge_aspath_as4path(path, as4);
            Some(&merged)
        }
        (path, as4) => path.or(as4),
    };
    if let Some(path) = path {
        capture.origin_as = origin_as(path);
        capture.as_path = path_segments(path);
    }
    if let Some(hop) = next_hop.or(mp_next_hop) {
        capture.next_hop = ip_to_bytes(hop);
    }
    let aggregator = match (aggregator, as4_aggregator) {
        (Some((asn, _)), Some(as4)) if asn.to_u32() == AS_TRANS => Some(as4),
        (Some(aggregator), _) => Some(aggregator),
        (None, as4) => as4,
    };
    capture.aggregator = aggregator.map(|(asn, id)| v1::Aggregator {
        asn: asn.to_u32(),
        address: ip_to_bytes(IpAddr::V4(id)),
    });
}

/// The origin AS of `path`: its last AS when its last segment is a non-empty sequence.
fn origin_as(path: &AsPath) -> Option<u32> {
    match path.segments.last() {
        Some(AsPathSegment::AsSequence(asns)) => asns.last().map(Asn::to_u32),
        _ => None,
    }
}

/// The wire form of the segments of `path`, kinds kept.
fn path_segments(path: &AsPath) -> Vec<PathSegment> {
    path.iter_segments()
        .map(|segment| {
            let (kind, asns) = match segment {
                AsPathSegment::AsSequence(asns) => (SegmentKind::Sequence, asns),
                AsPathSegment::AsSet(asns) => (SegmentKind::Set, asns),
                AsPathSegment::ConfedSequence(asns) => (SegmentKind::ConfedSequence, asns),
                AsPathSegment::ConfedSet(asns) => (SegmentKind::ConfedSet, asns),
            };
            PathSegment {
                kind: kind as i32,
                asns: asns.iter().map(Asn::to_u32).collect(),
            }
        })
        .collect()
}

/// The wire form of an ORIGIN value.
fn origin_attribute(origin: Origin) -> OriginAttribute {
    match origin {
        Origin::IGP => OriginAttribute::Igp,
        Origin::EGP => OriginAttribute::Egp,
        Origin::INCOMPLETE => OriginAttribute::Incomplete,
    }
}

/// The wire form of a standard community; well-known ones keep their numeric value.
fn standard_community(community: Community) -> v1::Community {
    let (asn, value) = match community {
        Community::NoExport => NO_EXPORT,
        Community::NoAdvertise => NO_ADVERTISE,
        Community::NoExportSubConfed => NO_EXPORT_SUBCONFED,
        Community::Custom(asn, value) => (asn.to_u32(), u32::from(value)),
    };
    v1::Community {
        value: Some(community::Value::Standard(v1::StandardCommunity {
            asn,
            value,
        })),
    }
}

/// The wire form of a large community.
fn large_community(community: LargeCommunity) -> v1::Community {
    v1::Community {
        value: Some(community::Value::Large(v1::LargeCommunity {
            global: community.global_admin,
            local1: community.local_data[0],
            local2: community.local_data[1],
        })),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use bgpkit_parser::models::{Attribute, Nlri};

    use super::*;

    fn attributes(values: Vec<AttributeValue>) -> Attributes {
        values
            .into_iter()
            .map(Attribute::from)
            .collect::<Vec<_>>()
            .into()
    }

    fn converted(values: Vec<AttributeValue>) -> Capture {
        let mut capture = Capture::default();
        apply_attributes(&mut capture, &attributes(values), MpPrefixes::Append);
        capture
    }

    fn segment(kind: SegmentKind, asns: &[u32]) -> PathSegment {
        PathSegment {
            kind: kind as i32,
            asns: asns.to_vec(),
        }
    }

    #[test]
    fn keeps_segment_kinds_and_takes_origin_from_a_final_sequence() {
        let path = AsPath::from_segments(vec![
            AsPathSegment::ConfedSequence(vec![Asn::new_32bit(65001)].into()),
            AsPathSegment::ConfedSet(vec![Asn::new_32bit(65002)].into()),
            AsPathSegment::sequence([1, 2]),
            AsPathSegment::set([3, 4]),
        ]);
        let capture = converted(vec![AttributeValue::AsPath(path)]);
        assert_eq!(
            capture.as_path,
            vec![
                segment(SegmentKind::ConfedSequence, &[65001]),
                segment(SegmentKind::ConfedSet, &[65002]),
                segment(SegmentKind::Sequence, &[1, 2]),
                segment(SegmentKind::Set, &[3, 4]),
            ]
        );
        assert_eq!(capture.origin_as, None);

        let capture = converted(vec![AttributeValue::AsPath(AsPath::from_sequence([
            7,
            8,
            4_200_000_000,
        ]))]);
        assert_eq!(capture.origin_as, Some(4_200_000_000));
    }

    #[test]
    fn merges_as4_path() {
        let capture = converted(vec![
            AttributeValue::AsPath(AsPath::from_sequence([1, 2, AS_TRANS, AS_TRANS])),
            AttributeValue::As4Path(AsPath::from_sequence([400_000, 500_000])),
        ]);
        assert_eq!(
            capture.as_path,
            vec![segment(SegmentKind::Sequence, &[1, 2, 400_000, 500_000])]
        );
        assert_eq!(capture.origin_as, Some(500_000));
    }

    #[test]
    fn maps_scalar_attributes_and_communities() {
        let capture = converted(vec![
            AttributeValue::Origin(Origin::EGP),
            AttributeValue::NextHop("192.0.2.1".parse().unwrap()),
            AttributeValue::MultiExitDiscriminator(10),
            AttributeValue::LocalPreference(200),
            AttributeValue::AtomicAggregate,
            AttributeValue::Communities(vec![
                Community::Custom(Asn::new_16bit(37105), 300),
                Community::NoExport,
            ]),
            AttributeValue::LargeCommunities(vec![LargeCommunity::new(4_200_000_000, [1, 2])]),
        ]);
        assert_eq!(capture.origin, OriginAttribute::Egp as i32);
        assert_eq!(capture.next_hop, vec![192, 0, 2, 1]);
        assert_eq!((capture.med, capture.local_pref), (Some(10), Some(200)));
        assert!(capture.atomic_aggregate);
        let standard = |asn, value| v1::Community {
            value: Some(community::Value::Standard(v1::StandardCommunity {
                asn,
                value,
            })),
        };
        assert_eq!(
            capture.communities,
            vec![
                standard(37105, 300),
                standard(65535, 65281),
                v1::Community {
                    value: Some(community::Value::Large(v1::LargeCommunity {
                        global: 4_200_000_000,
                        local1: 1,
                        local2: 2,
                    })),
                },
            ]
        );
        assert_eq!(capture.origin_as, None);
        assert!(capture.as_path.is_empty());
    }

    #[test]
    fn absent_attributes_stay_unset() {
        let capture = converted(vec![]);
        assert_eq!(capture, Capture::default());
    }

    #[test]
    fn takes_prefixes_and_next_hop_from_mp_nlri() {
        let reach = Nlri::new_reachable(
            "2001:db8::/32".parse().unwrap(),
            Some("2001:db8::1".parse().unwrap()),
        );
        let unreach = Nlri::new_unreachable("2001:db8:1::/48".parse().unwrap());
        let mut capture = Capture {
            advertised: vec![prefix(&"192.0.2.0/24".parse().unwrap())],
            ..Capture::default()
        };
        let mp = || {
            attributes(vec![
                AttributeValue::MpReachNlri(reach.clone()),
                AttributeValue::MpUnreachNlri(unreach.clone()),
            ])
        };
        let mut rib = capture.clone();
        apply_attributes(&mut rib, &mp(), MpPrefixes::Ignore);
        assert_eq!((rib.advertised.len(), rib.withdrawn.len()), (1, 0));
        apply_attributes(&mut capture, &mp(), MpPrefixes::Append);
        assert_eq!(rib.next_hop, capture.next_hop);
        assert_eq!(capture.advertised.len(), 2);
        assert_eq!(capture.advertised[1].length, 32);
        assert_eq!(capture.withdrawn.len(), 1);
        assert_eq!(capture.withdrawn[0].length, 48);
        let hop: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(capture.next_hop, hop.octets().to_vec());
    }

    #[test]
    fn prefers_as4_aggregator_only_over_as_trans() {
        let id: Ipv4Addr = "198.51.100.1".parse().unwrap();
        let other: Ipv4Addr = "198.51.100.2".parse().unwrap();
        let capture = converted(vec![
            AttributeValue::Aggregator {
                asn: Asn::new_16bit(23456),
                id,
            },
            AttributeValue::As4Aggregator {
                asn: Asn::new_32bit(400_000),
                id: other,
            },
        ]);
        assert_eq!(
            capture.aggregator,
            Some(v1::Aggregator {
                asn: 400_000,
                address: other.octets().to_vec(),
            })
        );
        let capture = converted(vec![
            AttributeValue::Aggregator {
                asn: Asn::new_16bit(64500),
                id,
            },
            AttributeValue::As4Aggregator {
                asn: Asn::new_32bit(400_000),
                id: other,
            },
        ]);
        assert_eq!(capture.aggregator.map(|a| a.asn), Some(64500));
    }
}
