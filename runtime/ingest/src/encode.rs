//! Writes bgpkit-parser's BGP values as `bgpmon.v1.Capture` messages, straight into the wire
//! encoding.
//!
//! Building the generated `Capture` first would allocate a `Vec` for every address, prefix,
//! path segment and community of every capture, only for the encoder to copy them out again.
//! Here each field is written as it is read, into one growing buffer; the few fields that
//! depend on several attributes (the AS path, next hop and aggregator) are written last.
//!
//! The bytes equal what prost writes for the same values, field order aside: scalars at their
//! zero value and empty fields are left out, and numbers of a path segment are packed.

use std::net::IpAddr;

use bgpkit_parser::models::{
    AsPath, AsPathSegment, Asn, AttributeValue, Attributes, Community, LargeCommunity, Origin,
};
use bgpmon_proto::EncodedCapture;
use bgpmon_proto::v1::{OriginAttribute, RouteView, SegmentKind};
use ipnet::IpNet;
use prost::bytes::{BufMut, BytesMut};
use prost::encoding::{WireType, encoded_len_varint};

/// The AS number a 2-byte speaker puts in AGGREGATOR and AS_PATH in place of a 4-byte one
/// (RFC 6793).
const AS_TRANS: u32 = 23456;

/// The RFC 1997 well-known communities, as (asn, value).
const NO_EXPORT: (u32, u32) = (0xFFFF, 0xFF01);
const NO_ADVERTISE: (u32, u32) = (0xFFFF, 0xFF02);
const NO_EXPORT_SUBCONFED: (u32, u32) = (0xFFFF, 0xFF03);

/// The field numbers of `bgpmon.v1.Capture`.
mod field {
    pub(super) const TIMESTAMP_US: u32 = 1;
    pub(super) const COLLECTOR: u32 = 2;
    pub(super) const COLLECTOR_IP: u32 = 3;
    pub(super) const PEER_IP: u32 = 4;
    pub(super) const PEER_AS: u32 = 5;
    pub(super) const AS_PATH: u32 = 6;
    pub(super) const ORIGIN_AS: u32 = 7;
    pub(super) const NEXT_HOP: u32 = 8;
    pub(super) const ADVERTISED: u32 = 9;
    pub(super) const WITHDRAWN: u32 = 10;
    pub(super) const COMMUNITIES: u32 = 11;
    pub(super) const ORIGIN: u32 = 12;
    pub(super) const MED: u32 = 13;
    pub(super) const LOCAL_PREF: u32 = 14;
    pub(super) const ATOMIC_AGGREGATE: u32 = 15;
    pub(super) const AGGREGATOR: u32 = 16;
    pub(super) const IS_RIB: u32 = 17;
    pub(super) const MRT_TYPE: u32 = 18;
    pub(super) const VIEW: u32 = 19;
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

/// The fields every capture starts with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header<'a> {
    /// Microseconds since the unix epoch.
    pub(crate) timestamp_us: u64,
    /// The collector's name.
    pub(crate) collector: &'a str,
    /// The collector's address, when the record has one.
    pub(crate) collector_ip: Option<IpAddr>,
    /// The peer's address.
    pub(crate) peer_ip: IpAddr,
    /// The peer's AS.
    pub(crate) peer_as: u32,
    /// Whether the capture is a RIB entry.
    pub(crate) is_rib: bool,
    /// The MRT record type the capture was read from (RFC 6396: 13 for TABLE_DUMP_V2, 17
    /// for BGP4MP_ET, ...); `None` for BMP.
    pub(crate) mrt_type: Option<u16>,
    /// The BMP view of a route-monitoring message; `None` for MRT.
    pub(crate) view: Option<RouteView>,
}

/// Encodes captures into one arena, each an [`EncodedCapture`] slice of it.
#[derive(Debug, Default)]
pub(crate) struct CaptureWriter {
    arena: BytesMut,
    elements: u64,
}

impl CaptureWriter {
    /// The arena grows by at least this much at a time.
    const CHUNK: usize = 256 * 1024;

    /// Starts a capture with `header`.
    pub(crate) fn start(&mut self, header: &Header<'_>) -> &mut Self {
        if self.arena.capacity() < 4096 {
            self.arena.reserve(Self::CHUNK);
        }
        let out = &mut self.arena;
        varint_field(out, field::TIMESTAMP_US, header.timestamp_us);
        bytes_field(out, field::COLLECTOR, header.collector.as_bytes());
        if let Some(ip) = header.collector_ip {
            ip_field(out, field::COLLECTOR_IP, ip);
        }
        ip_field(out, field::PEER_IP, header.peer_ip);
        varint_field(out, field::PEER_AS, u64::from(header.peer_as));
        if header.is_rib {
            varint_field(out, field::IS_RIB, 1);
        }
        if let Some(mrt_type) = header.mrt_type {
            present_varint_field(out, field::MRT_TYPE, u64::from(mrt_type));
        }
        if let Some(view) = header.view {
            varint_field(out, field::VIEW, view as u64);
        }
        self
    }

    /// Adds an advertised prefix.
    pub(crate) fn advertised(&mut self, prefix: &IpNet) -> &mut Self {
        self.elements += 1;
        prefix_field(&mut self.arena, field::ADVERTISED, prefix);
        self
    }

    /// Adds a withdrawn prefix.
    pub(crate) fn withdrawn(&mut self, prefix: &IpNet) -> &mut Self {
        self.elements += 1;
        prefix_field(&mut self.arena, field::WITHDRAWN, prefix);
        self
    }

    /// Writes the path attributes of `attributes`:
    ///
    /// - with [`MpPrefixes::Append`], MP_REACH prefixes are appended to `advertised` and
    ///   MP_UNREACH ones to `withdrawn`;
    /// - the AS path is AS_PATH merged with AS4_PATH when both are present, as bgpkit-parser
    ///   merges them (RFC 6793), and `origin_as` is its last AS when it ends with a sequence;
    /// - the next hop is NEXT_HOP, else the global address of the MP_REACH next hop;
    /// - the aggregator is AS4_AGGREGATOR when AGGREGATOR is absent or holds AS_TRANS, else
    ///   AGGREGATOR.
    pub(crate) fn attributes(&mut self, attributes: &Attributes, mp: MpPrefixes) -> &mut Self {
        let mut as_path = None;
        let mut as4_path = None;
        let mut next_hop = None;
        let mut mp_next_hop = None;
        let mut aggregator = None;
        let mut as4_aggregator = None;
        for value in attributes {
            let out = &mut self.arena;
            match value {
                AttributeValue::Origin(origin) => {
                    varint_field(out, field::ORIGIN, origin_attribute(*origin) as u64);
                }
                AttributeValue::AsPath(path) => as_path = Some(path),
                AttributeValue::As4Path(path) => as4_path = Some(path),
                AttributeValue::NextHop(ip) => next_hop = Some(*ip),
                AttributeValue::MultiExitDiscriminator(med) => {
                    present_varint_field(out, field::MED, u64::from(*med));
                }
                AttributeValue::LocalPreference(pref) => {
                    present_varint_field(out, field::LOCAL_PREF, u64::from(*pref));
                }
                AttributeValue::AtomicAggregate => varint_field(out, field::ATOMIC_AGGREGATE, 1),
                AttributeValue::Aggregator { asn, id } => aggregator = Some((*asn, *id)),
                AttributeValue::As4Aggregator { asn, id } => as4_aggregator = Some((*asn, *id)),
                AttributeValue::Communities(list) => {
                    for community in list {
                        standard_community(out, *community);
                    }
                }
                AttributeValue::LargeCommunities(list) => {
                    for community in list {
                        large_community(out, community);
                    }
                }
                AttributeValue::MpReachNlri(nlri) => {
                    if mp_next_hop.is_none() {
                        mp_next_hop = nlri.next_hop.map(|hop| hop.global_addr());
                    }
                    if mp == MpPrefixes::Append {
                        for prefix in &nlri.prefixes {
                            self.advertised(&prefix.prefix);
                        }
                    }
                }
                AttributeValue::MpUnreachNlri(nlri) if mp == MpPrefixes::Append => {
                    for prefix in &nlri.prefixes {
                        self.withdrawn(&prefix.prefix);
                    }
                }
                _ => {}
            }
        }
        let out = &mut self.arena;
        let merged;
        let path = match (as_path, as4_path) {
            (Some(path), Some(as4)) => {
                merged = AsPath::merge_aspath_as4path(path, as4);
                Some(&merged)
            }
            (path, as4) => path.or(as4),
        };
        if let Some(path) = path {
            for segment in path.iter_segments() {
                path_segment(out, segment);
            }
            if let Some(origin) = origin_as(path) {
                present_varint_field(out, field::ORIGIN_AS, u64::from(origin));
            }
        }
        if let Some(hop) = next_hop.or(mp_next_hop) {
            ip_field(out, field::NEXT_HOP, hop);
        }
        let aggregator = match (aggregator, as4_aggregator) {
            (Some((asn, _)), Some(as4)) if asn.to_u32() == AS_TRANS => Some(as4),
            (Some(aggregator), _) => Some(aggregator),
            (None, as4) => as4,
        };
        if let Some((asn, id)) = aggregator {
            let asn = u64::from(asn.to_u32());
            let inner = varint_field_len(1, asn) + 2 + 4;
            put_key(out, field::AGGREGATOR, WireType::LengthDelimited);
            put_varint(out, inner as u64);
            varint_field(out, 1, asn);
            bytes_field(out, 2, &id.octets());
        }
        self
    }

    /// Ends the capture started last and returns its bytes.
    pub(crate) fn finish(&mut self) -> EncodedCapture {
        EncodedCapture::from_bytes(self.arena.split().freeze())
    }

    /// The prefix elements written so far.
    pub(crate) fn elements(&self) -> u64 {
        self.elements
    }
}

/// Appends `value` as a protobuf varint. prost's `encode_varint` writes a
/// byte at a time through `BufMut`, which costs a capacity check per byte;
/// one slice append is cheaper for the millions of varints of an ingest.
fn put_varint(out: &mut BytesMut, mut value: u64) {
    if value < 0x80 {
        out.put_u8(value as u8);
        return;
    }
    let mut bytes = [0u8; 10];
    let mut n = 0;
    while value >= 0x80 {
        bytes[n] = (value as u8) | 0x80;
        value >>= 7;
        n += 1;
    }
    bytes[n] = value as u8;
    out.extend_from_slice(&bytes[..=n]);
}

/// Appends the key of field `tag` with `wire_type`.
fn put_key(out: &mut BytesMut, tag: u32, wire_type: WireType) {
    put_varint(out, u64::from(tag << 3 | wire_type as u32));
}

/// The length of a varint field at a non-zero value, or 0 for zero (which proto3 leaves out).
fn varint_field_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        prost::encoding::key_len(tag) + encoded_len_varint(value)
    }
}

/// A scalar field; zero is left out.
fn varint_field(out: &mut BytesMut, tag: u32, value: u64) {
    if value != 0 {
        present_varint_field(out, tag, value);
    }
}

/// An `optional` scalar field: written even at zero.
fn present_varint_field(out: &mut BytesMut, tag: u32, value: u64) {
    put_key(out, tag, WireType::Varint);
    put_varint(out, value);
}

/// A `bytes` or `string` field; empty is left out.
fn bytes_field(out: &mut BytesMut, tag: u32, bytes: &[u8]) {
    if !bytes.is_empty() {
        put_key(out, tag, WireType::LengthDelimited);
        put_varint(out, bytes.len() as u64);
        out.put_slice(bytes);
    }
}

/// An address field: 4 or 16 bytes.
fn ip_field(out: &mut BytesMut, tag: u32, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => bytes_field(out, tag, &v4.octets()),
        IpAddr::V6(v6) => bytes_field(out, tag, &v6.octets()),
    }
}

/// A `Prefix` message field: the network address and the length.
fn prefix_field(out: &mut BytesMut, tag: u32, prefix: &IpNet) {
    let length = u64::from(prefix.prefix_len());
    let (v4, v6);
    let address: &[u8] = match prefix.network() {
        IpAddr::V4(ip) => {
            v4 = ip.octets();
            &v4
        }
        IpAddr::V6(ip) => {
            v6 = ip.octets();
            &v6
        }
    };
    let inner = 2 + address.len() + varint_field_len(2, length);
    put_key(out, tag, WireType::LengthDelimited);
    put_varint(out, inner as u64);
    bytes_field(out, 1, address);
    varint_field(out, 2, length);
}

/// A `PathSegment` message field with its kind kept and its ASes packed.
fn path_segment(out: &mut BytesMut, segment: &AsPathSegment) {
    let (kind, asns) = match segment {
        AsPathSegment::AsSequence(asns) => (SegmentKind::Sequence, asns),
        AsPathSegment::AsSet(asns) => (SegmentKind::Set, asns),
        AsPathSegment::ConfedSequence(asns) => (SegmentKind::ConfedSequence, asns),
        AsPathSegment::ConfedSet(asns) => (SegmentKind::ConfedSet, asns),
    };
    let kind = kind as u64;
    let packed: usize = asns
        .iter()
        .map(|asn| encoded_len_varint(u64::from(asn.to_u32())))
        .sum();
    let numbers = if packed == 0 {
        0
    } else {
        1 + encoded_len_varint(packed as u64) + packed
    };
    let inner = varint_field_len(1, kind) + numbers;
    put_key(out, field::AS_PATH, WireType::LengthDelimited);
    put_varint(out, inner as u64);
    varint_field(out, 1, kind);
    if packed > 0 {
        put_key(out, 2, WireType::LengthDelimited);
        put_varint(out, packed as u64);
        for asn in asns.iter() {
            put_varint(out, u64::from(asn.to_u32()));
        }
    }
}

/// A `Community` field holding a `StandardCommunity`; well-known ones keep their numeric
/// value.
fn standard_community(out: &mut BytesMut, community: Community) {
    let (asn, value) = match community {
        Community::NoExport => NO_EXPORT,
        Community::NoAdvertise => NO_ADVERTISE,
        Community::NoExportSubConfed => NO_EXPORT_SUBCONFED,
        Community::Custom(asn, value) => (asn.to_u32(), u32::from(value)),
    };
    community_field(out, 1, &[asn, value]);
}

/// A `Community` field holding a `LargeCommunity`.
fn large_community(out: &mut BytesMut, community: &LargeCommunity) {
    let [local1, local2] = community.local_data;
    community_field(out, 2, &[community.global_admin, local1, local2]);
}

/// A `Community` field whose `value` oneof is member `member`, a message of the `uint32`
/// fields `numbers` (numbered from 1).
fn community_field(out: &mut BytesMut, member: u32, numbers: &[u32]) {
    let body: usize = (1..)
        .zip(numbers)
        .map(|(tag, n)| varint_field_len(tag, u64::from(*n)))
        .sum();
    let inner = 1 + encoded_len_varint(body as u64) + body;
    put_key(out, field::COMMUNITIES, WireType::LengthDelimited);
    put_varint(out, inner as u64);
    put_key(out, member, WireType::LengthDelimited);
    put_varint(out, body as u64);
    for (tag, n) in (1..).zip(numbers) {
        varint_field(out, tag, u64::from(*n));
    }
}

/// The origin AS of `path`: its last AS when its last segment is a non-empty sequence.
fn origin_as(path: &AsPath) -> Option<u32> {
    match path.segments.last() {
        Some(AsPathSegment::AsSequence(asns)) => asns.last().map(Asn::to_u32),
        _ => None,
    }
}

/// The wire form of an ORIGIN value.
fn origin_attribute(origin: Origin) -> OriginAttribute {
    match origin {
        Origin::IGP => OriginAttribute::Igp,
        Origin::EGP => OriginAttribute::Egp,
        Origin::INCOMPLETE => OriginAttribute::Incomplete,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use bgpkit_parser::models::{Attribute, Nlri};
    use bgpmon_proto::v1::{self, Capture, PathSegment, community};
    use prost::Message;

    use super::*;

    fn attributes(values: Vec<AttributeValue>) -> Attributes {
        values
            .into_iter()
            .map(Attribute::from)
            .collect::<Vec<_>>()
            .into()
    }

    const HEADER: Header<'static> = Header {
        timestamp_us: 0,
        collector: "",
        collector_ip: None,
        peer_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        peer_as: 0,
        is_rib: false,
        mrt_type: Some(16),
        view: None,
    };

    /// The capture the writer encodes, with the header's fields at their defaults.
    fn converted(values: Vec<AttributeValue>, mp: MpPrefixes) -> Capture {
        let mut writer = CaptureWriter::default();
        writer.start(&HEADER).attributes(&attributes(values), mp);
        let mut capture = writer.finish().decode().unwrap();
        assert_eq!(capture.mrt_type, Some(16));
        capture.peer_ip.clear();
        capture.mrt_type = None;
        capture
    }

    fn segment(kind: SegmentKind, asns: &[u32]) -> PathSegment {
        PathSegment {
            kind: kind as i32,
            asns: asns.to_vec(),
        }
    }

    #[test]
    fn writes_what_prost_writes() {
        let header = Header {
            timestamp_us: 1_546_300_800_123_456,
            collector: "rrc00",
            collector_ip: Some("193.0.4.28".parse().unwrap()),
            peer_ip: "2001:db8::1".parse().unwrap(),
            peer_as: 4_200_000_000,
            is_rib: true,
            mrt_type: Some(13),
            view: None,
        };
        let mut writer = CaptureWriter::default();
        writer
            .start(&header)
            .advertised(&"192.0.2.0/24".parse().unwrap())
            .advertised(&"0.0.0.0/0".parse().unwrap())
            .withdrawn(&"2001:db8::/32".parse().unwrap());
        let bytes = writer.finish();
        let expected = Capture {
            timestamp_us: header.timestamp_us,
            collector: "rrc00".into(),
            collector_ip: vec![193, 0, 4, 28],
            peer_ip: "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
                .to_vec(),
            peer_as: 4_200_000_000,
            advertised: vec![
                bgpmon_proto::prefix_to_proto(&"192.0.2.0/24".parse().unwrap()),
                bgpmon_proto::prefix_to_proto(&"0.0.0.0/0".parse().unwrap()),
            ],
            withdrawn: vec![bgpmon_proto::prefix_to_proto(
                &"2001:db8::/32".parse().unwrap(),
            )],
            is_rib: true,
            mrt_type: Some(13),
            ..Capture::default()
        };
        assert_eq!(bytes.decode().unwrap(), expected);
        // prost writes fields in number order; concatenated messages merge, so these three
        // are the writer's field order.
        let head = Capture {
            advertised: vec![],
            withdrawn: vec![],
            is_rib: false,
            mrt_type: None,
            ..expected.clone()
        };
        let rib = Capture {
            is_rib: true,
            mrt_type: Some(13),
            ..Capture::default()
        };
        let prefixes = Capture {
            advertised: expected.advertised.clone(),
            withdrawn: expected.withdrawn,
            ..Capture::default()
        };
        let prost_bytes = [head, rib, prefixes].map(|c| c.encode_to_vec()).concat();
        assert_eq!(bytes.as_bytes(), prost_bytes.as_slice());
        assert_eq!(writer.elements(), 3);
    }

    #[test]
    fn keeps_segment_kinds_and_takes_origin_from_a_final_sequence() {
        let path = AsPath::from_segments(vec![
            AsPathSegment::ConfedSequence(vec![Asn::new_32bit(65001)].into()),
            AsPathSegment::ConfedSet(vec![Asn::new_32bit(65002)].into()),
            AsPathSegment::sequence([1, 2]),
            AsPathSegment::set([3, 4]),
        ]);
        let capture = converted(vec![AttributeValue::AsPath(path)], MpPrefixes::Append);
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

        let capture = converted(
            vec![AttributeValue::AsPath(AsPath::from_sequence([
                7,
                8,
                4_200_000_000,
            ]))],
            MpPrefixes::Append,
        );
        assert_eq!(capture.origin_as, Some(4_200_000_000));
        // AS 0 is a value like any other in a path.
        let capture = converted(
            vec![AttributeValue::AsPath(AsPath::from_sequence([0, 0]))],
            MpPrefixes::Append,
        );
        assert_eq!(
            capture.as_path,
            vec![segment(SegmentKind::Sequence, &[0, 0])]
        );
        assert_eq!(capture.origin_as, Some(0));
    }

    #[test]
    fn merges_as4_path() {
        let capture = converted(
            vec![
                AttributeValue::AsPath(AsPath::from_sequence([1, 2, AS_TRANS, AS_TRANS])),
                AttributeValue::As4Path(AsPath::from_sequence([400_000, 500_000])),
            ],
            MpPrefixes::Append,
        );
        assert_eq!(
            capture.as_path,
            vec![segment(SegmentKind::Sequence, &[1, 2, 400_000, 500_000])]
        );
        assert_eq!(capture.origin_as, Some(500_000));
    }

    #[test]
    fn maps_scalar_attributes_and_communities() {
        let capture = converted(
            vec![
                AttributeValue::Origin(Origin::EGP),
                AttributeValue::NextHop("192.0.2.1".parse().unwrap()),
                AttributeValue::MultiExitDiscriminator(0),
                AttributeValue::LocalPreference(200),
                AttributeValue::AtomicAggregate,
                AttributeValue::Communities(vec![
                    Community::Custom(Asn::new_16bit(37105), 300),
                    Community::Custom(Asn::new_16bit(0), 0),
                    Community::NoExport,
                ]),
                AttributeValue::LargeCommunities(vec![LargeCommunity::new(4_200_000_000, [1, 2])]),
            ],
            MpPrefixes::Append,
        );
        assert_eq!(capture.origin, OriginAttribute::Egp as i32);
        assert_eq!(capture.next_hop, vec![192, 0, 2, 1]);
        assert_eq!((capture.med, capture.local_pref), (Some(0), Some(200)));
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
                standard(0, 0),
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
        let capture = converted(vec![], MpPrefixes::Append);
        assert_eq!(capture, Capture::default());
    }

    #[test]
    fn takes_prefixes_and_next_hop_from_mp_nlri() {
        let reach = Nlri::new_reachable(
            "2001:db8::/32".parse().unwrap(),
            Some("2001:db8::1".parse().unwrap()),
        );
        let unreach = Nlri::new_unreachable("2001:db8:1::/48".parse().unwrap());
        let mp = || {
            attributes(vec![
                AttributeValue::MpReachNlri(reach.clone()),
                AttributeValue::MpUnreachNlri(unreach.clone()),
            ])
        };
        let encode = |mode| {
            let mut writer = CaptureWriter::default();
            writer
                .start(&HEADER)
                .advertised(&"192.0.2.0/24".parse().unwrap())
                .attributes(&mp(), mode);
            writer.finish().decode().unwrap()
        };
        let rib = encode(MpPrefixes::Ignore);
        assert_eq!((rib.advertised.len(), rib.withdrawn.len()), (1, 0));
        let capture = encode(MpPrefixes::Append);
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
        let capture = converted(
            vec![
                AttributeValue::Aggregator {
                    asn: Asn::new_16bit(23456),
                    id,
                },
                AttributeValue::As4Aggregator {
                    asn: Asn::new_32bit(400_000),
                    id: other,
                },
            ],
            MpPrefixes::Append,
        );
        assert_eq!(
            capture.aggregator,
            Some(v1::Aggregator {
                asn: 400_000,
                address: other.octets().to_vec(),
            })
        );
        let capture = converted(
            vec![
                AttributeValue::Aggregator {
                    asn: Asn::new_16bit(64500),
                    id,
                },
                AttributeValue::As4Aggregator {
                    asn: Asn::new_32bit(400_000),
                    id: other,
                },
            ],
            MpPrefixes::Append,
        );
        assert_eq!(capture.aggregator.map(|a| a.asn), Some(64500));
        let capture = converted(
            vec![AttributeValue::Aggregator {
                asn: Asn::new_16bit(0),
                id,
            }],
            MpPrefixes::Append,
        );
        assert_eq!(
            capture.aggregator,
            Some(v1::Aggregator {
                asn: 0,
                address: id.octets().to_vec(),
            })
        );
    }
}
