//! Decodes an encoded `bgpmon.v1.Capture` straight into a store capture.
//!
//! Ingest decodes millions of captures; going through the generated type
//! would allocate a `Vec` for every address, prefix and community only to
//! convert and drop it. This decoder reads fields in place with prost's
//! wire primitives and checks them as `convert` does: a malformed address,
//! prefix or enum is an `InvalidArgument` naming the field.
//!
//! Protobuf semantics are kept: fields may come in any order, the last
//! value of a scalar wins, a repeated message field appends, repeated
//! numbers may be packed or not, and unknown fields are skipped.

use bgpmon_proto::{AddressError, prefix_from_parts, v1};
use bgpmon_store as store;
use ipnet::IpNet;
use prost::DecodeError;
use prost::encoding::{DecodeContext, WireType, check_wire_type, decode_key, decode_varint};
use tonic::Status;

use super::convert::{invalid, ip, required_ip, view_from_proto};

/// Why bytes are not a `Capture` message.
#[derive(Debug, thiserror::Error)]
enum WireError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("a field's length runs past the end of its message")]
    Truncated,
}

/// Calls `field` with the tag, wire type and remaining input of each field
/// of the message in `input`; `field` consumes the field's value.
fn for_each_field<'a>(
    mut input: &'a [u8],
    mut field: impl FnMut(u32, WireType, &mut &'a [u8]) -> Result<(), WireError>,
) -> Result<(), WireError> {
    while !input.is_empty() {
        let (tag, wire_type) = decode_key(&mut input)?;
        field(tag, wire_type, &mut input)?;
    }
    Ok(())
}

fn skip(tag: u32, wire_type: WireType, input: &mut &[u8]) -> Result<(), WireError> {
    Ok(prost::encoding::skip_field(
        wire_type,
        tag,
        input,
        DecodeContext::default(),
    )?)
}

fn varint(wire_type: WireType, input: &mut &[u8]) -> Result<u64, WireError> {
    check_wire_type(WireType::Varint, wire_type)?;
    Ok(decode_varint(input)?)
}

/// A `uint32` (or enum, as `i32` bits): protobuf keeps the low 32 bits.
fn uint32(wire_type: WireType, input: &mut &[u8]) -> Result<u32, WireError> {
    Ok(varint(wire_type, input)? as u32)
}

/// A length-delimited value, borrowed from the input.
fn delimited<'a>(wire_type: WireType, input: &mut &'a [u8]) -> Result<&'a [u8], WireError> {
    check_wire_type(WireType::LengthDelimited, wire_type)?;
    let len = decode_varint(input)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| len <= input.len())
        .ok_or(WireError::Truncated)?;
    let (value, rest) = input.split_at(len);
    *input = rest;
    Ok(value)
}

/// Appends the `uint32` values of a repeated field, packed or not.
fn uint32s(wire_type: WireType, input: &mut &[u8], out: &mut Vec<u32>) -> Result<(), WireError> {
    if wire_type == WireType::LengthDelimited {
        let mut packed = delimited(wire_type, input)?;
        while !packed.is_empty() {
            out.push(decode_varint(&mut packed)? as u32);
        }
        Ok(())
    } else {
        out.push(uint32(wire_type, input)?);
        Ok(())
    }
}

/// A `Prefix` message, checked later.
#[derive(Clone, Copy, Default)]
struct RawPrefix<'a> {
    address: &'a [u8],
    length: u32,
}

impl<'a> RawPrefix<'a> {
    fn decode(message: &'a [u8]) -> Result<Self, WireError> {
        let mut prefix = Self::default();
        for_each_field(message, |tag, wire_type, input| {
            match tag {
                1 => prefix.address = delimited(wire_type, input)?,
                2 => prefix.length = uint32(wire_type, input)?,
                _ => skip(tag, wire_type, input)?,
            }
            Ok(())
        })?;
        Ok(prefix)
    }

    fn check(self) -> Result<IpNet, AddressError> {
        prefix_from_parts(self.address, self.length)
    }
}

/// A `Community` message: which member of the `value` oneof is set, and its
/// numbers.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum RawCommunity {
    #[default]
    Unset,
    Standard(u32, u32),
    Large(u32, u32, u32),
}

impl RawCommunity {
    fn decode(message: &[u8]) -> Result<Self, WireError> {
        let mut community = Self::Unset;
        for_each_field(message, |tag, wire_type, input| {
            match tag {
                1 => {
                    // A oneof member seen twice merges, as prost does.
                    let [mut asn, mut value] = match community {
                        Self::Standard(asn, value) => [asn, value],
                        _ => [0; 2],
                    };
                    numbers(delimited(wire_type, input)?, &mut [&mut asn, &mut value])?;
                    community = Self::Standard(asn, value);
                }
                2 => {
                    let [mut global, mut local1, mut local2] = match community {
                        Self::Large(g, l1, l2) => [g, l1, l2],
                        _ => [0; 3],
                    };
                    numbers(
                        delimited(wire_type, input)?,
                        &mut [&mut global, &mut local1, &mut local2],
                    )?;
                    community = Self::Large(global, local1, local2);
                }
                _ => skip(tag, wire_type, input)?,
            }
            Ok(())
        })?;
        Ok(community)
    }

    fn check(self) -> Result<store::Community, &'static str> {
        match self {
            Self::Standard(asn, value) => {
                let asn = u16::try_from(asn).map_err(|_| "standard community AS exceeds 65535")?;
                let value =
                    u16::try_from(value).map_err(|_| "standard community value exceeds 65535")?;
                Ok(store::Community::Standard(asn, value))
            }
            Self::Large(global, local1, local2) => {
                Ok(store::Community::Large(global, local1, local2))
            }
            Self::Unset => Err("community has no value"),
        }
    }
}

/// Merges a message of `uint32` fields numbered 1, 2, ... into `fields`.
fn numbers(message: &[u8], fields: &mut [&mut u32]) -> Result<(), WireError> {
    for_each_field(message, |tag, wire_type, input| {
        match usize::try_from(tag)
            .ok()
            .and_then(|tag| fields.get_mut(tag.wrapping_sub(1)))
        {
            Some(field) => **field = uint32(wire_type, input)?,
            None => skip(tag, wire_type, input)?,
        }
        Ok(())
    })
}

/// A `PathSegment` message.
fn path_segment(message: &[u8]) -> Result<(i32, Vec<u32>), WireError> {
    let mut kind = 0;
    let mut asns = Vec::new();
    for_each_field(message, |tag, wire_type, input| {
        match tag {
            1 => kind = uint32(wire_type, input)? as i32,
            2 => uint32s(wire_type, input, &mut asns)?,
            _ => skip(tag, wire_type, input)?,
        }
        Ok(())
    })?;
    Ok((kind, asns))
}

/// The fields of a `Capture` as read, before they are checked.
#[derive(Default)]
struct RawCapture<'a> {
    timestamp_us: u64,
    collector: &'a str,
    /// Whether any value of `collector` (not only the last, which wins)
    /// was not UTF-8: protobuf refuses the message then, as prost does.
    collector_not_utf8: bool,
    collector_ip: &'a [u8],
    peer_ip: &'a [u8],
    peer_as: u32,
    as_path: Vec<(i32, Vec<u32>)>,
    origin_as: Option<u32>,
    next_hop: &'a [u8],
    advertised: Vec<RawPrefix<'a>>,
    withdrawn: Vec<RawPrefix<'a>>,
    communities: Vec<RawCommunity>,
    origin: i32,
    med: Option<u32>,
    local_pref: Option<u32>,
    atomic_aggregate: bool,
    aggregator: Option<(u32, &'a [u8])>,
    is_rib: bool,
    mrt_type: Option<u32>,
    view: i32,
}

impl<'a> RawCapture<'a> {
    fn decode(message: &'a [u8]) -> Result<Self, WireError> {
        let mut c = Self::default();
        for_each_field(message, |tag, wire_type, input| {
            match tag {
                1 => c.timestamp_us = varint(wire_type, input)?,
                2 => match std::str::from_utf8(delimited(wire_type, input)?) {
                    Ok(collector) => c.collector = collector,
                    Err(_) => c.collector_not_utf8 = true,
                },
                3 => c.collector_ip = delimited(wire_type, input)?,
                4 => c.peer_ip = delimited(wire_type, input)?,
                5 => c.peer_as = uint32(wire_type, input)?,
                6 => c.as_path.push(path_segment(delimited(wire_type, input)?)?),
                7 => c.origin_as = Some(uint32(wire_type, input)?),
                8 => c.next_hop = delimited(wire_type, input)?,
                9 => c
                    .advertised
                    .push(RawPrefix::decode(delimited(wire_type, input)?)?),
                10 => c
                    .withdrawn
                    .push(RawPrefix::decode(delimited(wire_type, input)?)?),
                11 => c
                    .communities
                    .push(RawCommunity::decode(delimited(wire_type, input)?)?),
                12 => c.origin = uint32(wire_type, input)? as i32,
                13 => c.med = Some(uint32(wire_type, input)?),
                14 => c.local_pref = Some(uint32(wire_type, input)?),
                15 => c.atomic_aggregate = varint(wire_type, input)? != 0,
                16 => {
                    let (mut asn, mut address) = c.aggregator.unwrap_or_default();
                    for_each_field(delimited(wire_type, input)?, |tag, wire_type, input| {
                        match tag {
                            1 => asn = uint32(wire_type, input)?,
                            2 => address = delimited(wire_type, input)?,
                            _ => skip(tag, wire_type, input)?,
                        }
                        Ok(())
                    })?;
                    c.aggregator = Some((asn, address));
                }
                17 => c.is_rib = varint(wire_type, input)? != 0,
                18 => c.mrt_type = Some(uint32(wire_type, input)?),
                19 => c.view = uint32(wire_type, input)? as i32,
                _ => skip(tag, wire_type, input)?,
            }
            Ok(())
        })?;
        Ok(c)
    }
}

/// Decodes and checks the encoded capture `bytes`; `index` names it in
/// errors, as `captures[index]`.
///
/// Returns `InvalidArgument` naming the field if the bytes are not a
/// `Capture` message, or a value in it is malformed.
pub(crate) fn decode_capture(index: usize, bytes: &[u8]) -> Result<store::Capture, Status> {
    let field = |name: &str| format!("captures[{index}].{name}");
    let raw = RawCapture::decode(bytes).map_err(|e| {
        invalid(
            &format!("captures[{index}]"),
            format_args!("is not a valid Capture message ({e}); encode it from bgpmon.proto"),
        )
    })?;
    let prefixes = |name: &str, list: Vec<RawPrefix<'_>>| {
        list.into_iter()
            .enumerate()
            .map(|(i, p)| {
                p.check()
                    .map_err(|e| invalid(&field(&format!("{name}[{i}]")), e))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let as_path = raw
        .as_path
        .into_iter()
        .enumerate()
        .map(|(i, (kind, asns))| match v1::SegmentKind::try_from(kind) {
            Ok(v1::SegmentKind::Sequence) => Ok(store::PathSegment::Sequence(asns)),
            Ok(v1::SegmentKind::Set) => Ok(store::PathSegment::Set(asns)),
            Ok(v1::SegmentKind::ConfedSequence) => Ok(store::PathSegment::ConfedSequence(asns)),
            Ok(v1::SegmentKind::ConfedSet) => Ok(store::PathSegment::ConfedSet(asns)),
            _ => Err(invalid(
                &field(&format!("as_path[{i}].kind")),
                "is unspecified; give SEQUENCE, SET, CONFED_SEQUENCE or CONFED_SET",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if raw.collector_not_utf8 {
        return Err(invalid(&field("collector"), "is not UTF-8"));
    }
    let collector = raw.collector.to_owned();
    Ok(store::Capture {
        timestamp_us: raw.timestamp_us,
        collector,
        collector_ip: ip(|| field("collector_ip"), raw.collector_ip)?,
        peer_ip: required_ip(|| field("peer_ip"), raw.peer_ip)?,
        peer_as: raw.peer_as,
        as_path,
        origin_as: raw.origin_as,
        next_hop: ip(|| field("next_hop"), raw.next_hop)?,
        advertised: prefixes("advertised", raw.advertised)?,
        withdrawn: prefixes("withdrawn", raw.withdrawn)?,
        communities: raw
            .communities
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                c.check()
                    .map_err(|e| invalid(&field(&format!("communities[{i}]")), e))
            })
            .collect::<Result<_, _>>()?,
        origin: match v1::OriginAttribute::try_from(raw.origin) {
            Ok(v1::OriginAttribute::Igp) => Some(store::OriginAttribute::Igp),
            Ok(v1::OriginAttribute::Egp) => Some(store::OriginAttribute::Egp),
            Ok(v1::OriginAttribute::Incomplete) => Some(store::OriginAttribute::Incomplete),
            _ => None,
        },
        med: raw.med,
        local_pref: raw.local_pref,
        atomic_aggregate: raw.atomic_aggregate,
        aggregator: match raw.aggregator {
            Some((asn, address)) => Some(store::Aggregator {
                asn,
                address: required_ip(|| field("aggregator.address"), address)?,
            }),
            None => None,
        },
        is_rib: raw.is_rib,
        mrt_type: raw
            .mrt_type
            .map(|t| {
                u16::try_from(t).map_err(|_| {
                    invalid(
                        &field("mrt_type"),
                        format_args!("{t} is not an MRT record type; give at most 65535"),
                    )
                })
            })
            .transpose()?,
        view: view_from_proto(raw.view).map_err(|e| invalid(&field("view"), e))?,
    })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use proptest::prelude::*;
    use prost::Message;

    use super::*;
    use crate::rpc::convert::capture_to_proto;

    fn sample() -> store::Capture {
        store::Capture {
            timestamp_us: 1_546_300_800_123_456,
            collector: "rrc00".into(),
            collector_ip: Some("193.0.4.28".parse().unwrap()),
            peer_ip: "2001:db8::1".parse().unwrap(),
            peer_as: 4_200_000_000,
            as_path: vec![
                store::PathSegment::ConfedSequence(vec![65_001]),
                store::PathSegment::Sequence(vec![3356, 1299]),
                store::PathSegment::Set(vec![64_500, 64_501]),
            ],
            origin_as: None,
            next_hop: Some("192.0.2.1".parse().unwrap()),
            advertised: vec!["192.0.2.0/24".parse().unwrap()],
            withdrawn: vec!["2001:db8::/32".parse().unwrap()],
            communities: vec![
                store::Community::Standard(3356, 100),
                store::Community::Large(4_200_000_000, 1, 2),
            ],
            origin: Some(store::OriginAttribute::Egp),
            med: Some(0),
            local_pref: Some(200),
            atomic_aggregate: true,
            aggregator: Some(store::Aggregator {
                asn: 64_500,
                address: "198.51.100.1".parse().unwrap(),
            }),
            is_rib: true,
            mrt_type: Some(17),
            view: Some(store::RouteView::PostPolicy),
        }
    }

    fn encoded(capture: &v1::Capture) -> Vec<u8> {
        capture.encode_to_vec()
    }

    fn error_of(capture: &v1::Capture) -> String {
        decode_capture(3, &encoded(capture))
            .unwrap_err()
            .message()
            .to_owned()
    }

    #[test]
    fn decodes_every_field() {
        let capture = sample();
        let bytes = encoded(&capture_to_proto(capture.clone()));
        assert_eq!(decode_capture(0, &bytes).unwrap(), capture);
    }

    #[test]
    fn keeps_protobuf_merge_semantics() {
        // Two encodings of one message concatenated are one message: scalars
        // take the last value, repeated fields append, and a message field
        // merges.
        let first = v1::Capture {
            timestamp_us: 1,
            peer_ip: vec![192, 0, 2, 1],
            advertised: vec![bgpmon_proto::prefix_to_proto(
                &"10.0.0.0/8".parse().unwrap(),
            )],
            aggregator: Some(v1::Aggregator {
                asn: 7,
                address: vec![192, 0, 2, 9],
            }),
            ..v1::Capture::default()
        };
        let second = v1::Capture {
            timestamp_us: 2,
            peer_ip: vec![192, 0, 2, 2],
            advertised: vec![bgpmon_proto::prefix_to_proto(
                &"11.0.0.0/8".parse().unwrap(),
            )],
            aggregator: Some(v1::Aggregator {
                asn: 0,
                address: vec![],
            }),
            ..v1::Capture::default()
        };
        let mut bytes = encoded(&second);
        bytes.extend(encoded(&first));
        // An unknown field (99, varint) is skipped.
        bytes.extend([0x98, 0x06, 0x01]);
        let capture = decode_capture(0, &bytes).unwrap();
        assert_eq!(capture.timestamp_us, 1);
        assert_eq!(capture.peer_ip.to_string(), "192.0.2.1");
        assert_eq!(
            capture.advertised,
            vec![
                "11.0.0.0/8".parse::<IpNet>().unwrap(),
                "10.0.0.0/8".parse().unwrap()
            ]
        );
        let aggregator = capture.aggregator.unwrap();
        assert_eq!(
            (aggregator.asn, aggregator.address.to_string()),
            (7, "192.0.2.9".into())
        );
    }

    #[test]
    fn reads_unpacked_path_numbers() {
        // PathSegment { kind: SEQUENCE, asns: 10, 20 } with each AS as its own
        // field, as older encoders write repeated numbers.
        let segment = [0x08, 0x01, 0x10, 10, 0x10, 20];
        let mut bytes = encoded(&v1::Capture {
            peer_ip: vec![192, 0, 2, 1],
            ..v1::Capture::default()
        });
        bytes.extend([0x32, segment.len() as u8]);
        bytes.extend(segment);
        let capture = decode_capture(0, &bytes).unwrap();
        assert_eq!(
            capture.as_path,
            vec![store::PathSegment::Sequence(vec![10, 20])]
        );
        assert_eq!(capture.origin_as, None);
    }

    #[test]
    fn names_the_bad_field() {
        let good = capture_to_proto(sample());
        let cases: Vec<(v1::Capture, &str)> = vec![
            (
                v1::Capture {
                    peer_ip: vec![1, 2, 3],
                    ..good.clone()
                },
                "captures[3].peer_ip: an address of 3 bytes",
            ),
            (
                v1::Capture {
                    peer_ip: vec![],
                    ..good.clone()
                },
                "captures[3].peer_ip: is empty",
            ),
            (
                v1::Capture {
                    advertised: vec![
                        good.advertised[0].clone(),
                        v1::Prefix {
                            address: vec![10, 0, 0, 0],
                            length: 33,
                        },
                    ],
                    ..good.clone()
                },
                "captures[3].advertised[1]: prefix length 33",
            ),
            (
                v1::Capture {
                    as_path: vec![v1::PathSegment {
                        kind: 0,
                        asns: vec![1],
                    }],
                    ..good.clone()
                },
                "captures[3].as_path[0].kind: is unspecified",
            ),
            (
                v1::Capture {
                    communities: vec![v1::Community { value: None }],
                    ..good.clone()
                },
                "captures[3].communities[0]: community has no value",
            ),
            (
                v1::Capture {
                    communities: vec![v1::Community {
                        value: Some(v1::community::Value::Standard(v1::StandardCommunity {
                            asn: 70_000,
                            value: 1,
                        })),
                    }],
                    ..good.clone()
                },
                "captures[3].communities[0]: standard community AS exceeds 65535",
            ),
            (
                v1::Capture {
                    aggregator: Some(v1::Aggregator {
                        asn: 1,
                        address: vec![],
                    }),
                    ..good.clone()
                },
                "captures[3].aggregator.address: is empty",
            ),
            (
                v1::Capture {
                    mrt_type: Some(70_000),
                    ..good.clone()
                },
                "captures[3].mrt_type: 70000 is not an MRT record type",
            ),
            (
                v1::Capture {
                    view: 9,
                    ..good.clone()
                },
                "captures[3].view: route view 9 is unknown",
            ),
        ];
        for (capture, expected) in cases {
            let message = error_of(&capture);
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
        }
    }

    #[test]
    fn refuses_bytes_that_are_not_a_capture() {
        let bytes = encoded(&capture_to_proto(sample()));
        let cut = &bytes[..bytes.len() - 1];
        let status = decode_capture(5, cut).unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status
                .message()
                .starts_with("captures[5]: is not a valid Capture message"),
            "{}",
            status.message()
        );
        // Field 1 (timestamp_us) sent as length-delimited.
        let status = decode_capture(0, &[0x0a, 0x01, 0x00]).unwrap_err();
        assert!(
            status.message().contains("not a valid Capture"),
            "{}",
            status.message()
        );
        // A collector that is not UTF-8, also when a valid one follows
        // (found by fuzzing: prost refuses the message).
        let status = decode_capture(0, &[0x12, 0x01, 0xff]).unwrap_err();
        assert_eq!(status.message(), "captures[0].collector: is not UTF-8");
        let status = decode_capture(0, &[0x12, 0x01, 0xff, 0x12, 0x01, b'a']).unwrap_err();
        assert_eq!(status.message(), "captures[0].collector: is not UTF-8");
    }

    fn ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    fn net() -> impl Strategy<Value = IpNet> {
        (ip(), any::<u8>()).prop_map(|(ip, len)| {
            let max = if ip.is_ipv4() { 33 } else { 129 };
            IpNet::new(ip, len % max).unwrap().trunc()
        })
    }

    fn segment() -> impl Strategy<Value = store::PathSegment> {
        (0..4u8, prop::collection::vec(any::<u32>(), 0..5)).prop_map(|(kind, asns)| match kind {
            0 => store::PathSegment::Sequence(asns),
            1 => store::PathSegment::Set(asns),
            2 => store::PathSegment::ConfedSequence(asns),
            _ => store::PathSegment::ConfedSet(asns),
        })
    }

    fn community() -> impl Strategy<Value = store::Community> {
        prop_oneof![
            any::<(u16, u16)>().prop_map(|(a, v)| store::Community::Standard(a, v)),
            any::<(u32, u32, u32)>().prop_map(|(g, a, b)| store::Community::Large(g, a, b)),
        ]
    }

    fn capture() -> impl Strategy<Value = store::Capture> {
        (
            (
                any::<u64>(),
                "[a-z0-9-]{0,12}",
                prop::option::of(ip()),
                ip(),
                any::<u32>(),
            ),
            (
                prop::collection::vec(segment(), 0..4),
                prop::option::of(any::<u32>()),
                prop::option::of(ip()),
                prop::collection::vec(net(), 0..4),
                prop::collection::vec(net(), 0..4),
                prop::collection::vec(community(), 0..4),
            ),
            (
                prop::option::of(prop_oneof![
                    Just(store::OriginAttribute::Igp),
                    Just(store::OriginAttribute::Egp),
                    Just(store::OriginAttribute::Incomplete),
                ]),
                prop::option::of(any::<u32>()),
                prop::option::of(any::<u32>()),
                any::<bool>(),
                prop::option::of((any::<u32>(), ip())),
                any::<bool>(),
                prop::option::of(any::<u16>()),
                prop::option::of(prop::sample::select(store::RouteView::ALL.to_vec())),
            ),
        )
            .prop_map(|(a, b, c)| store::Capture {
                timestamp_us: a.0,
                collector: a.1,
                collector_ip: a.2,
                peer_ip: a.3,
                peer_as: a.4,
                as_path: b.0,
                origin_as: b.1,
                next_hop: b.2,
                advertised: b.3,
                withdrawn: b.4,
                communities: b.5,
                origin: c.0,
                med: c.1,
                local_pref: c.2,
                atomic_aggregate: c.3,
                aggregator: c.4.map(|(asn, address)| store::Aggregator { asn, address }),
                is_rib: c.5,
                mrt_type: c.6,
                view: c.7,
            })
    }

    proptest! {
        #[test]
        fn round_trips_through_the_wire(capture in capture()) {
            let bytes = encoded(&capture_to_proto(capture.clone()));
            prop_assert_eq!(decode_capture(0, &bytes).unwrap(), capture);
        }
    }
}
