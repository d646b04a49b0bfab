//! The test oracle's capture matcher, written from the filter's documented
//! meaning (values within a term OR'ed, terms AND'ed, an empty term keeps
//! everything) and sharing no code with `CaptureFilter::matches`: its own
//! loops, and its own prefix containment on raw address bits.

use bgpmon_store::{
    Capture, CaptureFilter, CaptureKind, Community, CommunityPattern, PathSegment, PrefixMatch,
    PrefixScope,
};
use ipnet::IpNet;

/// A prefix as raw bits: the family, the address left-aligned in 128
/// bits, and the length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bits {
    v6: bool,
    address: u128,
    len: u32,
}

fn bits(prefix: &IpNet) -> Bits {
    match prefix {
        IpNet::V4(p) => Bits {
            v6: false,
            address: u128::from(u32::from(p.addr())) << 96,
            len: u32::from(p.prefix_len()),
        },
        IpNet::V6(p) => Bits {
            v6: true,
            address: u128::from(p.addr()),
            len: u32::from(p.prefix_len()),
        },
    }
}

/// The first `len` of 128 bits set.
fn leading_ones(len: u32) -> u128 {
    let mut mask = 0u128;
    for bit in 0..len {
        mask |= 1u128 << (127 - bit);
    }
    mask
}

/// Whether `outer` covers `inner`: the same family, no longer, and the
/// same first `outer.len` bits.
fn covers(outer: Bits, inner: Bits) -> bool {
    let mask = leading_ones(outer.len);
    outer.v6 == inner.v6 && outer.len <= inner.len && outer.address & mask == inner.address & mask
}

/// Whether the capture prefix `candidate` passes a term on `term`.
fn prefix_passes(term: &IpNet, specificity: PrefixMatch, candidate: &IpNet) -> bool {
    let (t, c) = (bits(term), bits(candidate));
    match specificity {
        PrefixMatch::Exact => t.len == c.len && covers(t, c),
        PrefixMatch::More => covers(t, c),
        PrefixMatch::Less => covers(c, t),
        PrefixMatch::Any => covers(t, c) || covers(c, t),
    }
}

fn on_path(path: &[PathSegment], asn: u32) -> bool {
    for segment in path {
        let members = match segment {
            PathSegment::Sequence(a)
            | PathSegment::Set(a)
            | PathSegment::ConfedSequence(a)
            | PathSegment::ConfedSet(a) => a,
        };
        for member in members {
            if *member == asn {
                return true;
            }
        }
    }
    false
}

/// Whether `capture` passes every term of `filter`.
/// Whether `carried` fits the pattern `wanted`, part by part.
fn community_passes(wanted: &CommunityPattern, carried: &Community) -> bool {
    let part = |want: Option<u32>, have: u32| want.is_none() || want == Some(have);
    match (wanted, carried) {
        (CommunityPattern::Standard { asn, value }, Community::Standard(a, v)) => {
            part(asn.map(u32::from), u32::from(*a)) && part(value.map(u32::from), u32::from(*v))
        }
        (
            CommunityPattern::Large {
                global,
                local1,
                local2,
            },
            Community::Large(g, l1, l2),
        ) => part(*global, *g) && part(*local1, *l1) && part(*local2, *l2),
        _ => false,
    }
}

pub(crate) fn keeps(filter: &CaptureFilter, capture: &Capture) -> bool {
    match filter.kind {
        CaptureKind::Any => {}
        CaptureKind::Rib if !capture.is_rib => return false,
        CaptureKind::Update if capture.is_rib => return false,
        CaptureKind::Rib | CaptureKind::Update => {}
    }
    if let Some(window) = filter.time
        && (capture.timestamp_us < window.start_us || capture.timestamp_us >= window.end_us)
    {
        return false;
    }
    let mut terms: Vec<bool> = Vec::new();
    if !filter.collectors.is_empty() {
        terms.push(filter.collectors.contains(&capture.collector));
    }
    if !filter.views.is_empty() {
        terms.push(capture.view.is_some_and(|v| filter.views.contains(&v)));
    }
    if !filter.peer_ips.is_empty() {
        terms.push(filter.peer_ips.contains(&capture.peer_ip));
    }
    if !filter.peer_ases.is_empty() {
        terms.push(filter.peer_ases.contains(&capture.peer_as));
    }
    if !filter.origin_ases.is_empty() {
        let hit = match capture.origin_as {
            Some(origin) => filter.origin_ases.contains(&origin),
            None => false,
        };
        terms.push(hit);
    }
    if !filter.path_contains.is_empty() {
        let mut hit = false;
        for asn in &filter.path_contains {
            hit |= on_path(&capture.as_path, *asn);
        }
        terms.push(hit);
    }
    if !filter.communities.is_empty() {
        let mut hit = false;
        for wanted in &filter.communities {
            for carried in &capture.communities {
                hit |= community_passes(wanted, carried);
            }
        }
        terms.push(hit);
    }
    if !filter.prefixes.is_empty() {
        let mut looked_at: Vec<&IpNet> = Vec::new();
        if filter.prefix_scope != PrefixScope::Withdrawn {
            looked_at.extend(&capture.advertised);
        }
        if filter.prefix_scope != PrefixScope::Advertised {
            looked_at.extend(&capture.withdrawn);
        }
        let mut hit = false;
        for term in &filter.prefixes {
            for candidate in &looked_at {
                hit |= prefix_passes(&term.prefix, term.specificity, candidate);
            }
        }
        terms.push(hit);
    }
    !terms.contains(&false)
}

/// Whether `filter` has a term that an index answers (every term but the
/// time window and the kind).
pub(crate) fn has_indexed_term(filter: &CaptureFilter) -> bool {
    !(filter.collectors.is_empty()
        && filter.peer_ips.is_empty()
        && filter.peer_ases.is_empty()
        && filter.origin_ases.is_empty()
        && filter.prefixes.is_empty()
        && filter.path_contains.is_empty()
        && filter.communities.is_empty())
}

#[test]
fn the_oracle_compares_prefixes_on_their_bits() {
    let net = |s: &str| s.parse::<IpNet>().unwrap();
    let cases = [
        ("10.0.0.0/8", PrefixMatch::More, "10.255.0.0/16", true),
        ("10.0.0.0/8", PrefixMatch::More, "11.0.0.0/16", false),
        ("10.0.0.0/8", PrefixMatch::Less, "0.0.0.0/0", true),
        ("10.0.0.0/8", PrefixMatch::Exact, "10.0.0.0/9", false),
        ("10.0.0.0/8", PrefixMatch::Any, "10.0.0.0/7", true),
        ("0.0.0.0/0", PrefixMatch::More, "::/0", false),
        (
            "2001:db8::/32",
            PrefixMatch::More,
            "2001:db8:ffff::/48",
            true,
        ),
        ("2001:db8::/32", PrefixMatch::Less, "2001:db8:1::/48", false),
        ("::/0", PrefixMatch::More, "2001:db8::1/128", true),
        ("10.1.2.3/32", PrefixMatch::Exact, "10.1.2.3/32", true),
        ("10.1.2.3/32", PrefixMatch::Exact, "10.1.2.2/32", false),
    ];
    for (term, m, candidate, want) in cases {
        assert_eq!(
            prefix_passes(&net(term), m, &net(candidate)),
            want,
            "{term} {m:?} {candidate}"
        );
    }
}
