//! Strategies for random captures and filters over small pools of values,
//! so that captures share timestamps, peers, origins and prefixes, and
//! filters often match some of them.

use std::net::IpAddr;

use bgpmon_store::{
    Capture, CaptureFilter, CaptureKind, Community, CommunityPattern, PathSegment, PrefixMatch,
    PrefixScope, PrefixTerm, RouteView, TimeRange,
};
use ipnet::IpNet;
use proptest::prelude::*;

/// Collectors captures come from; filters also ask for one that none has.
pub(crate) const COLLECTORS: [&str; 3] = ["rrc00", "route-views2", "rrc99"];

/// Peers as `(address, AS)`; IPv4 and IPv6.
pub(crate) const PEERS: [(&str, u32); 4] = [
    ("192.0.2.1", 64496),
    ("192.0.2.2", 64497),
    ("2001:db8::1", 64498),
    ("2001:db8::2", 64496),
];

/// Origin ASes.
pub(crate) const ORIGINS: [u32; 4] = [64500, 64501, 64502, 65550];

/// ASes in the middle of paths.
const TRANSIT: [u32; 3] = [3356, 1299, 64510];

/// Communities, standard and large.
pub(crate) const COMMUNITIES: [Community; 4] = [
    Community::Standard(64496, 100),
    Community::Standard(3356, 2),
    Community::Large(64496, 1, 2),
    Community::Large(64496, 1, 3),
];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A prefix from a few addresses at any length, so that prefixes of every
/// length (shorter and longer than the index buckets) nest in each other.
pub(crate) fn prefix() -> impl Strategy<Value = IpNet> {
    let v4 = [
        [10, 0, 0, 0],
        [10, 1, 2, 3],
        [10, 1, 130, 7],
        [10, 200, 0, 1],
        [192, 0, 2, 128],
    ];
    let v6 = [
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        [0x2001, 0xdb8, 1, 2, 0, 0, 0, 5],
        [0x2001, 0xdb9, 0, 0, 0, 0, 0, 1],
        [0x2a00, 0, 0, 0, 0, 0, 0, 0],
    ];
    prop_oneof![
        3 => (prop::sample::select(v4.to_vec()), prop_oneof![0u8..=32, 6u8..=24])
            .prop_map(|(a, len)| IpNet::new(IpAddr::from(a), len).unwrap().trunc()),
        2 => (prop::sample::select(v6.to_vec()), prop_oneof![0u8..=128, 16u8..=64])
            .prop_map(|(a, len)| IpNet::new(IpAddr::from(a), len).unwrap().trunc()),
    ]
}

fn path() -> impl Strategy<Value = Vec<PathSegment>> {
    (
        prop::collection::vec(prop::sample::select(TRANSIT.to_vec()), 0..3),
        prop::sample::select(ORIGINS.to_vec()),
        0u8..6,
    )
        .prop_map(|(transit, origin, shape)| {
            let mut sequence = transit;
            match shape {
                // An AS_SET at the end: no origin.
                0 => vec![
                    PathSegment::Sequence(sequence),
                    PathSegment::Set(vec![origin, 64999]),
                ],
                // A confederation segment before the sequence.
                1 => {
                    sequence.push(origin);
                    vec![
                        PathSegment::ConfedSequence(vec![65010]),
                        PathSegment::Sequence(sequence),
                    ]
                }
                // No path at all.
                2 => vec![],
                _ => {
                    sequence.push(origin);
                    vec![PathSegment::Sequence(sequence)]
                }
            }
        })
}

/// A capture at one of `seconds` whole seconds.
pub(crate) fn capture(seconds: u64) -> impl Strategy<Value = Capture> {
    (
        0..seconds,
        prop::sample::select(COLLECTORS[..2].to_vec()),
        prop::sample::select(PEERS.to_vec()),
        path(),
        prop::collection::vec(prefix(), 0..3),
        prop::collection::vec(prefix(), 0..2),
        prop::collection::vec(prop::sample::select(COMMUNITIES.to_vec()), 0..3),
        any::<bool>(),
        view(),
    )
        .prop_map(
            |(
                t,
                collector,
                (peer_ip, peer_as),
                as_path,
                advertised,
                withdrawn,
                communities,
                rib,
                view,
            )| {
                let mut as_path = as_path;
                if let Some(PathSegment::Sequence(first)) = as_path
                    .iter_mut()
                    .find(|s| matches!(s, PathSegment::Sequence(_)))
                {
                    first.insert(0, peer_as);
                }
                Capture {
                    timestamp_us: t * 1_000_000,
                    collector: collector.into(),
                    collector_ip: None,
                    peer_ip: ip(peer_ip),
                    peer_as,
                    origin_as: Capture::origin_of(&as_path),
                    as_path,
                    next_hop: Some(ip(peer_ip)),
                    advertised,
                    withdrawn,
                    communities,
                    origin: None,
                    med: None,
                    local_pref: None,
                    atomic_aggregate: false,
                    aggregator: None,
                    is_rib: rib,
                    mrt_type: None,
                    view,
                }
            },
        )
}

/// No view (an MRT or API capture) half the time, else a BMP view.
fn view() -> impl Strategy<Value = Option<RouteView>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(RouteView::PrePolicy)),
        1 => Just(Some(RouteView::PostPolicy)),
        1 => Just(Some(RouteView::LocRib)),
    ]
}

/// Mostly empty (a term that keeps everything), else 1 or 2 values.
fn term<T: Clone + std::fmt::Debug + 'static>(
    values: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Vec<T>> {
    prop_oneof![
        3 => Just(Vec::new()),
        2 => prop::collection::vec(values, 1..3),
    ]
}

fn specificity() -> impl Strategy<Value = PrefixMatch> {
    prop_oneof![
        Just(PrefixMatch::Exact),
        Just(PrefixMatch::More),
        Just(PrefixMatch::Less),
        Just(PrefixMatch::Any),
    ]
}

/// A filter over the pools, with every term, on captures at up to
/// `seconds` whole seconds.
pub(crate) fn filter(seconds: u64) -> impl Strategy<Value = CaptureFilter> {
    let window = prop_oneof![
        2 => Just(None),
        1 => (0..seconds + 1, 0..seconds + 1).prop_map(|(start, len)| Some(TimeRange {
            start_us: start * 1_000_000,
            end_us: (start + len) * 1_000_000,
        })),
    ];
    let peer_ips =
        prop::sample::select(vec!["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::9"]);
    (
        (
            term(prop::sample::select(COLLECTORS.to_vec())),
            window,
            term(peer_ips),
            term(prop::sample::select(vec![64496u32, 64497, 64498, 1])),
            term(prop::sample::select(vec![64500u32, 64501, 64502, 65550, 7])),
        ),
        (
            term((prefix(), specificity())),
            prop_oneof![
                Just(PrefixScope::Advertised),
                Just(PrefixScope::Withdrawn),
                Just(PrefixScope::Both),
            ],
            term(prop::sample::select(vec![
                3356u32, 1299, 64500, 64999, 65010, 5,
            ])),
            term(prop::sample::select(COMMUNITIES.to_vec())),
            prop_oneof![
                2 => Just(CaptureKind::Any),
                1 => Just(CaptureKind::Rib),
                1 => Just(CaptureKind::Update),
            ],
            term(prop::sample::select(RouteView::ALL.to_vec())),
        ),
    )
        .prop_map(
            |(
                (collectors, time, peer_ips, peer_ases, origin_ases),
                (prefixes, prefix_scope, path_contains, communities, kind, views),
            )| CaptureFilter {
                collectors: collectors.into_iter().map(String::from).collect(),
                time,
                peer_ips: peer_ips.into_iter().map(ip).collect(),
                peer_ases,
                origin_ases,
                prefixes: prefixes
                    .into_iter()
                    .map(|(p, m)| PrefixTerm::new(p, m))
                    .collect(),
                prefix_scope,
                path_contains,
                communities: communities
                    .into_iter()
                    .map(CommunityPattern::from)
                    .collect(),
                kind,
                path_regex: Vec::new(),
                family: None,
                views,
            },
        )
}
