//! Index terms and posting chunks.
//!
//! Every indexed value of a capture becomes a [`Term`]: a kind and a `u64`
//! key. Keys are ordered so that the questions filters ask are key ranges:
//! ASNs are their own value, an `asn:value` community is `asn << 16 |
//! value`, and a prefix lives under its /16 (IPv4) or /32 (IPv6) bucket, so
//! the more-specifics of a prefix are one range of buckets.
//!
//! A posting is a block number and how many of the block's captures carry
//! the term. Terms are packed into rows: a row holds the terms of one
//! *bucket* (the key's high bits, [`row_shift`] of them low), each with its
//! postings, for the blocks from the row's first block on
//! (`schema::POSTINGS`). Packing keeps the per-row cost of the B-tree off
//! the many terms that appear in a few blocks. A commit appends to the last
//! row of each bucket it touches, or starts a new one once that row is
//! full; blocks are numbered in commit order, so appends always go to the
//! end of a term's list.
//!
//! Terms are exact for ASNs and standard communities; prefixes, peer IPv6
//! addresses, collector names and large communities are bucketed or hashed,
//! so a posting only says a block may match: the planner always checks the
//! captures themselves, and counts from postings only where terms are exact.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Result, StoreError};
use crate::model::{Capture, Community};

/// What a term indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub(crate) enum TermKind {
    /// The origin AS.
    Origin = 1,
    /// The peer AS.
    PeerAs = 2,
    /// The peer address (IPv4 exact, IPv6 hashed).
    PeerIp = 3,
    /// The collector name, hashed.
    Collector = 4,
    /// An AS anywhere on the path.
    PathAs = 5,
    /// A community (standard exact, large partly hashed).
    Community = 6,
    /// An advertised prefix, by bucket.
    Advertised = 7,
    /// A withdrawn prefix, by bucket.
    Withdrawn = 8,
}

impl TermKind {
    /// The kind's name in plans.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Origin => "origin",
            Self::PeerAs => "peer-as",
            Self::PeerIp => "peer-ip",
            Self::Collector => "collector",
            Self::PathAs => "path-as",
            Self::Community => "community",
            Self::Advertised => "advertised",
            Self::Withdrawn => "withdrawn",
        }
    }
}

/// One indexed value of a capture.
pub(crate) type Term = (TermKind, u64);

/// The high bit of a large community's key.
const LARGE_COMMUNITY: u64 = 1 << 63;
/// The family tag of an IPv4 prefix key, in bits 60..64.
const FAMILY_V4: u64 = 0x4 << 60;
/// The family tag of an IPv6 prefix key.
const FAMILY_V6: u64 = 0x6 << 60;
/// Set in bit 56 for a prefix shorter than its family's bucket.
const SHORT_PREFIX: u64 = 1 << 56;
/// The bucket length of IPv4 prefix keys.
pub(crate) const V4_BUCKET_BITS: u8 = 16;
/// The bucket length of IPv6 prefix keys.
pub(crate) const V6_BUCKET_BITS: u8 = 32;

/// FNV-1a, 64 bits: a stable hash for names and IPv6 addresses.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The key of a collector name.
pub(crate) fn collector_key(name: &str) -> u64 {
    fnv(name.as_bytes())
}

/// The key of a peer address: IPv4 exact, IPv6 hashed below the family tag.
pub(crate) fn peer_ip_key(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => FAMILY_V4 | u64::from(u32::from(*v4)),
        IpAddr::V6(v6) => FAMILY_V6 | (fnv(&v6.octets()) >> 4),
    }
}

/// The key of a community.
pub(crate) fn community_key(community: &Community) -> u64 {
    match *community {
        Community::Standard(asn, value) => (u64::from(asn) << 16) | u64::from(value),
        Community::Large(global, local1, local2) => {
            let mut locals = [0u8; 8];
            locals[..4].copy_from_slice(&local1.to_be_bytes());
            locals[4..].copy_from_slice(&local2.to_be_bytes());
            LARGE_COMMUNITY | (u64::from(global) << 31) | (fnv(&locals) & 0x7fff_ffff)
        }
    }
}

/// The key range of the large communities of global administrator
/// `global`; from `global` 0 up to `u64::MAX` it covers them all.
pub(crate) fn large_community_range(global: u32) -> (u64, u64) {
    let base = LARGE_COMMUNITY | (u64::from(global) << 31);
    (base, base | 0x7fff_ffff)
}

/// A prefix's network bits as a left-aligned `u128` and its family's
/// width.
fn bits(prefix: &IpNet) -> (u128, u8, u64, u8) {
    match prefix {
        IpNet::V4(p) => (
            u128::from(u32::from(p.network())) << 96,
            32,
            FAMILY_V4,
            V4_BUCKET_BITS,
        ),
        IpNet::V6(p) => (u128::from(p.network()), 128, FAMILY_V6, V6_BUCKET_BITS),
    }
}

/// The bucket of left-aligned address bits.
fn bucket_of(bits: u128, bucket_bits: u8) -> u64 {
    (bits >> (128 - u32::from(bucket_bits))) as u64
}

/// The key of the bucket holding prefixes of at least the bucket length
/// whose address starts with `bucket`.
fn long_key(family: u64, bucket: u64) -> u64 {
    family | bucket
}

/// The key of a prefix shorter than the bucket length.
fn short_key(family: u64, bucket: u64, len: u8) -> u64 {
    family | SHORT_PREFIX | (bucket << 8) | u64::from(len)
}

/// The key of a prefix: its bucket, or the prefix itself when it is
/// shorter than a bucket.
pub(crate) fn prefix_key(prefix: &IpNet) -> u64 {
    let (bits, _, family, bucket_bits) = self::bits(prefix);
    let bucket = bucket_of(bits, bucket_bits);
    let len = prefix.prefix_len();
    if len >= bucket_bits {
        long_key(family, bucket)
    } else {
        short_key(family, bucket, len)
    }
}

/// Key ranges (inclusive) whose postings cover every prefix equal to or
/// more specific than `prefix`.
///
/// A short-prefix key in the second range is always inside `prefix`: a
/// network in a later bucket than the first has address bits set past
/// `prefix`'s length, so it cannot be shorter than `prefix`.
pub(crate) fn more_specific_ranges(prefix: &IpNet) -> Vec<(u64, u64)> {
    let (bits, _, family, bucket_bits) = self::bits(prefix);
    let len = prefix.prefix_len();
    let first = bucket_of(bits, bucket_bits);
    if len >= bucket_bits {
        return vec![(long_key(family, first), long_key(family, first))];
    }
    let host = if len == 0 {
        u128::MAX
    } else {
        (1u128 << (128 - u32::from(len))) - 1
    };
    let last = bucket_of(bits | host, bucket_bits);
    vec![
        (long_key(family, first), long_key(family, last)),
        (
            short_key(family, first, len),
            short_key(family, last, bucket_bits - 1),
        ),
    ]
}

/// The keys whose postings cover every prefix equal to or less specific
/// than `prefix`.
pub(crate) fn less_specific_keys(prefix: &IpNet) -> Vec<u64> {
    let (bits, _, family, bucket_bits) = self::bits(prefix);
    let len = prefix.prefix_len();
    let mut keys = Vec::new();
    for l in 0..=len.min(bucket_bits - 1) {
        let mask = if l == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(l))
        };
        keys.push(short_key(family, bucket_of(bits & mask, bucket_bits), l));
    }
    if len >= bucket_bits {
        keys.push(long_key(family, bucket_of(bits, bucket_bits)));
    }
    keys
}

/// Calls `visit` with every term of `capture`; a term the capture holds
/// twice (an AS prepended on the path) is visited twice.
pub(crate) fn for_each_term(capture: &Capture, mut visit: impl FnMut(Term)) {
    if let Some(origin) = capture.origin_as {
        visit((TermKind::Origin, u64::from(origin)));
    }
    visit((TermKind::PeerAs, u64::from(capture.peer_as)));
    visit((TermKind::PeerIp, peer_ip_key(&capture.peer_ip)));
    visit((TermKind::Collector, collector_key(&capture.collector)));
    for segment in &capture.as_path {
        for asn in segment.asns() {
            visit((TermKind::PathAs, u64::from(*asn)));
        }
    }
    for community in &capture.communities {
        visit((TermKind::Community, community_key(community)));
    }
    for prefix in &capture.advertised {
        visit((TermKind::Advertised, prefix_key(prefix)));
    }
    for prefix in &capture.withdrawn {
        visit((TermKind::Withdrawn, prefix_key(prefix)));
    }
}

/// One posting: a block and how many of its captures carry the term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Posting {
    /// The block number.
    pub(crate) block: u32,
    /// How many of its captures carry the term.
    pub(crate) count: u32,
}

/// A row is full once its encoding reaches this many bytes.
pub(crate) const MAX_ROW_BYTES: usize = 4096;

/// How many low key bits one row's bucket spans, by kind: 64 ASNs, every
/// value of one community AS (or one large-community administrator), and
/// the /16 buckets of one /8 (IPv4) or /24 (IPv6).
pub(crate) fn row_shift(kind: TermKind) -> u32 {
    match kind {
        TermKind::Origin | TermKind::PeerAs | TermKind::PathAs => 6,
        TermKind::PeerIp | TermKind::Advertised | TermKind::Withdrawn => 8,
        TermKind::Collector => 0,
        TermKind::Community => 16,
    }
}

/// The row bucket of a term key.
pub(crate) fn bucket(kind: TermKind, key: u64) -> u64 {
    key >> row_shift(kind)
}

/// Encodes a row: its terms' keys below the bucket (ascending) and the
/// encoded postings of each.
pub(crate) fn encode_row(terms: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (low, postings) in terms {
        put_varint(&mut out, *low);
        put_varint(&mut out, postings.len() as u64);
        out.extend_from_slice(postings);
    }
    out
}

/// The terms of a row: each key below the bucket and its encoded postings.
///
/// Returns an error if the row is malformed.
pub(crate) fn decode_row(mut row: &[u8]) -> Result<Vec<(u64, &[u8])>> {
    let corrupt = || StoreError::Corrupt {
        what: "index row",
        detail: "a row ends inside a term".into(),
    };
    let mut out = Vec::new();
    while !row.is_empty() {
        let low = take_varint(&mut row).ok_or_else(corrupt)?;
        let len =
            usize::try_from(take_varint(&mut row).ok_or_else(corrupt)?).map_err(|_| corrupt())?;
        if len > row.len() {
            return Err(corrupt());
        }
        let (postings, rest) = row.split_at(len);
        out.push((low, postings));
        row = rest;
    }
    Ok(out)
}

/// Writes a LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a LEB128 varint from the front of `bytes`.
pub(crate) fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Appends `postings` (ascending blocks, all after the chunk's last) to the
/// chunk `chunk` that starts at block `first`.
pub(crate) fn append_postings(chunk: &mut Vec<u8>, first: u32, postings: &[Posting]) {
    let mut previous = last_block(chunk, first);
    for posting in postings {
        let delta = match previous {
            Some(p) => posting.block - p,
            None => posting.block - first,
        };
        put_varint(chunk, u64::from(delta));
        put_varint(chunk, u64::from(posting.count));
        previous = Some(posting.block);
    }
}

/// The last block a chunk lists; `None` for an empty or malformed chunk.
fn last_block(mut chunk: &[u8], first: u32) -> Option<u32> {
    // The first delta is from `first`, each next from the previous block.
    let mut block = u64::from(first);
    let mut last = None;
    while !chunk.is_empty() {
        block += take_varint(&mut chunk)?;
        take_varint(&mut chunk)?;
        last = Some(u32::try_from(block).ok()?);
    }
    last
}

/// The postings of a chunk starting at block `first`.
///
/// Returns an error if the chunk is malformed.
pub(crate) fn decode_chunk(mut chunk: &[u8], first: u32) -> Result<Vec<Posting>> {
    let corrupt = || StoreError::Corrupt {
        what: "index chunk",
        detail: format!("the chunk of block {first} ends inside a posting"),
    };
    let mut out = Vec::new();
    // The first delta is from `first`, each next from the previous block.
    let mut block = u64::from(first);
    while !chunk.is_empty() {
        let delta = take_varint(&mut chunk).ok_or_else(corrupt)?;
        let count = take_varint(&mut chunk).ok_or_else(corrupt)?;
        block += delta;
        out.push(Posting {
            block: u32::try_from(block).map_err(|_| corrupt())?,
            count: u32::try_from(count).map_err(|_| corrupt())?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn covered(key: u64, ranges: &[(u64, u64)]) -> bool {
        ranges.iter().any(|(a, b)| (*a..=*b).contains(&key))
    }

    #[test]
    fn more_specifics_lie_in_the_ranges_and_others_do_not() {
        for (term, inside, outside) in [
            (
                "8.0.0.0/8",
                &["8.0.0.0/8", "8.8.8.0/24", "8.255.0.0/16", "8.128.0.0/9"][..],
                &["9.0.0.0/16", "7.255.255.0/24", "0.0.0.0/0", "8.0.0.0/7"][..],
            ),
            (
                "193.0.0.0/22",
                &["193.0.0.0/22", "193.0.3.0/24"],
                &["193.1.0.0/24", "192.0.0.0/8"],
            ),
            (
                "2001:db8::/32",
                &["2001:db8::/32", "2001:db8:1::/48"],
                &["2001:db9::/48", "2001::/16"],
            ),
        ] {
            let ranges = more_specific_ranges(&net(term));
            for p in inside {
                assert!(covered(prefix_key(&net(p)), &ranges), "{p} in {term}");
            }
            for p in outside {
                assert!(!covered(prefix_key(&net(p)), &ranges), "{p} not in {term}");
            }
        }
    }

    #[test]
    fn less_specifics_are_point_keys() {
        let keys = less_specific_keys(&net("8.8.8.0/24"));
        assert_eq!(keys.len(), 17);
        for p in [
            "0.0.0.0/0",
            "8.0.0.0/8",
            "8.8.0.0/16",
            "8.8.8.0/24",
            "8.8.0.0/20",
        ] {
            assert!(keys.contains(&prefix_key(&net(p))), "{p}");
        }
        assert!(!keys.contains(&prefix_key(&net("9.0.0.0/8"))));
        assert_eq!(less_specific_keys(&net("10.0.0.0/8")).len(), 9);
    }

    #[test]
    fn rows_round_trip() {
        let mut a = Vec::new();
        append_postings(&mut a, 3, &[Posting { block: 4, count: 2 }]);
        let row = encode_row(&[(1, a.clone()), (60, Vec::new())]);
        let terms = decode_row(&row).unwrap();
        assert_eq!(terms, [(1, a.as_slice()), (60, &[][..])]);
        assert!(decode_row(&row[..row.len() - 3]).is_err());
        assert_eq!(bucket(TermKind::Origin, 3356), 3356 >> 6);
    }

    #[test]
    fn chunks_round_trip_and_append() {
        let mut chunk = Vec::new();
        let a = [
            Posting { block: 7, count: 3 },
            Posting {
                block: 9,
                count: 300,
            },
        ];
        append_postings(&mut chunk, 7, &a);
        append_postings(
            &mut chunk,
            7,
            &[Posting {
                block: 900,
                count: 1,
            }],
        );
        let got = decode_chunk(&chunk, 7).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[2],
            Posting {
                block: 900,
                count: 1
            }
        );
        assert!(decode_chunk(&[0x80], 0).is_err());
    }

    #[test]
    fn community_keys_order_standard_by_asn_then_value() {
        let a = community_key(&Community::Standard(3356, 1));
        let b = community_key(&Community::Standard(3356, 65535));
        let c = community_key(&Community::Standard(3357, 0));
        assert!(a < b && b < c);
        let large = community_key(&Community::Large(7, 1, 2));
        assert!(large > c);
        assert_eq!(large >> 31, (1 << 32) | 7);
    }
}
