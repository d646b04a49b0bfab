//! The query planner: turns a [`CaptureFilter`] into a [`Plan`], a value
//! that says which indexes answer it and what is left to check, and that
//! prints like an `EXPLAIN`.
//!
//! - Each indexed filter term becomes a [`TermQuery`]: a union of posting
//!   key ranges. Terms are AND'ed, so any one of them bounds the answer.
//! - The planner measures each query's postings (chunks and bytes) without
//!   decoding them, answers from the smallest, and intersects the next ones
//!   only while they are at most [`INTERSECT_RATIO`] times its size.
//! - The time window narrows the candidate blocks through the block
//!   directory, which knows each block's first and last timestamp.
//! - Every candidate block's captures are still checked against the whole
//!   filter, since prefix, hashed and intersected postings only say a block
//!   may match. A count comes from postings alone when one exact query is
//!   the whole filter.
//!
//! Without an indexed term the plan scans blocks in time order.

use std::fmt;

use crate::directory::Directory;
use crate::error::Result;
use crate::filter::{
    CaptureFilter, CaptureKind, CommunityPattern, PrefixMatch, PrefixScope, TimeRange,
};
use crate::index::{
    Posting, TermKind, collector_key, community_key, decode_chunk, large_community_range,
    less_specific_keys, more_specific_ranges, peer_ip_key, prefix_key,
};
use crate::model::Community;

/// A query is intersected with the smallest one only while its postings
/// are at most this many times the smallest's bytes.
pub(crate) const INTERSECT_RATIO: usize = 8;

/// At most this many queries are intersected.
const MAX_INTERSECTED: usize = 3;

/// What [`PostingSource::scan_postings`] calls for each chunk: its key, its
/// first block and its bytes.
pub(crate) type ChunkVisitor<'a> = dyn FnMut(u64, u32, &[u8]) -> Result<()> + 'a;

/// Reads posting chunks.
pub(crate) trait PostingSource {
    /// Calls `visit(key, first_block, chunk)` for every chunk of `kind`
    /// whose key lies in `lo..=hi`, in key order.
    fn scan_postings<'v>(
        &self,
        kind: TermKind,
        lo: u64,
        hi: u64,
        visit: &'v mut ChunkVisitor<'v>,
    ) -> Result<()>;
}

/// One indexed filter term: the union of its key ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TermQuery {
    /// How the plan names it, such as `origin=[3356]`.
    pub(crate) label: String,
    /// Inclusive key ranges, each of one kind, with the keys inside that
    /// count.
    pub(crate) ranges: Vec<(TermKind, u64, u64, KeyMatch)>,
    /// Whether its postings' counts add up to exactly the captures that
    /// pass the term: its keys are exact and no capture carries two of
    /// them.
    pub(crate) exact_count: bool,
}

/// Which keys of a range a query takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeyMatch {
    /// Every key.
    All,
    /// Keys whose low 16 bits are this value: the standard communities
    /// `*:value`.
    Low16(u16),
}

impl KeyMatch {
    fn accepts(self, key: u64) -> bool {
        match self {
            Self::All => true,
            Self::Low16(v) => key & 0xffff == u64::from(v),
        }
    }
}

fn points(
    kind: TermKind,
    keys: impl IntoIterator<Item = u64>,
) -> Vec<(TermKind, u64, u64, KeyMatch)> {
    let mut keys: Vec<u64> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|k| (kind, k, k, KeyMatch::All))
        .collect()
}

/// The key range of a community pattern.
fn community_range(pattern: &CommunityPattern) -> (u64, u64, KeyMatch) {
    match *pattern {
        CommunityPattern::Standard {
            asn: Some(asn),
            value: Some(value),
        } => {
            let k = community_key(&Community::Standard(asn, value));
            (k, k, KeyMatch::All)
        }
        CommunityPattern::Standard {
            asn: Some(asn),
            value: None,
        } => {
            let lo = community_key(&Community::Standard(asn, 0));
            (lo, lo | 0xffff, KeyMatch::All)
        }
        CommunityPattern::Standard { asn: None, value } => {
            (0, 0xffff_ffff, value.map_or(KeyMatch::All, KeyMatch::Low16))
        }
        CommunityPattern::Large {
            global: Some(global),
            ..
        } => {
            let (lo, hi) = large_community_range(global);
            (lo, hi, KeyMatch::All)
        }
        CommunityPattern::Large { global: None, .. } => {
            (large_community_range(0).0, u64::MAX, KeyMatch::All)
        }
    }
}

fn label<T: fmt::Display>(name: &str, values: &[T]) -> String {
    let shown: Vec<String> = values.iter().take(4).map(ToString::to_string).collect();
    let more = if values.len() > 4 {
        format!(",+{}", values.len() - 4)
    } else {
        String::new()
    };
    format!("{name}=[{}{more}]", shown.join(","))
}

/// The indexed terms of `filter`, in filter order.
pub(crate) fn term_queries(filter: &CaptureFilter) -> Vec<TermQuery> {
    let mut out = Vec::new();
    if !filter.origin_ases.is_empty() {
        out.push(TermQuery {
            label: label("origin", &filter.origin_ases),
            ranges: points(
                TermKind::Origin,
                filter.origin_ases.iter().map(|a| u64::from(*a)),
            ),
            exact_count: true,
        });
    }
    if !filter.peer_ases.is_empty() {
        out.push(TermQuery {
            label: label("peer-as", &filter.peer_ases),
            ranges: points(
                TermKind::PeerAs,
                filter.peer_ases.iter().map(|a| u64::from(*a)),
            ),
            exact_count: true,
        });
    }
    if !filter.peer_ips.is_empty() {
        out.push(TermQuery {
            label: label("peer-ip", &filter.peer_ips),
            ranges: points(TermKind::PeerIp, filter.peer_ips.iter().map(peer_ip_key)),
            exact_count: filter.peer_ips.iter().all(std::net::IpAddr::is_ipv4),
        });
    }
    if !filter.collectors.is_empty() {
        out.push(TermQuery {
            label: label("collector", &filter.collectors),
            ranges: points(
                TermKind::Collector,
                filter.collectors.iter().map(|c| collector_key(c)),
            ),
            exact_count: false,
        });
    }
    if !filter.path_contains.is_empty() {
        let ranges = points(
            TermKind::PathAs,
            filter.path_contains.iter().map(|a| u64::from(*a)),
        );
        out.push(TermQuery {
            label: label("path-as", &filter.path_contains),
            exact_count: ranges.len() == 1,
            ranges,
        });
    }
    if !filter.communities.is_empty() {
        let mut ranges: Vec<(TermKind, u64, u64, KeyMatch)> = filter
            .communities
            .iter()
            .map(|p| {
                let (lo, hi, accept) = community_range(p);
                (TermKind::Community, lo, hi, accept)
            })
            .collect();
        ranges.sort_unstable();
        ranges.dedup();
        let exact_standard = matches!(
            filter.communities.as_slice(),
            [CommunityPattern::Standard {
                asn: Some(_),
                value: Some(_)
            }]
        );
        out.push(TermQuery {
            label: label("community", &filter.communities),
            exact_count: exact_standard,
            ranges,
        });
    }
    if !filter.prefixes.is_empty() {
        let kinds: &[TermKind] = match filter.prefix_scope {
            PrefixScope::Advertised => &[TermKind::Advertised],
            PrefixScope::Withdrawn => &[TermKind::Withdrawn],
            PrefixScope::Both => &[TermKind::Advertised, TermKind::Withdrawn],
        };
        let mut ranges = Vec::new();
        for term in &filter.prefixes {
            let more = || more_specific_ranges(&term.prefix);
            let less = || less_specific_keys(&term.prefix);
            let keys: Vec<(u64, u64)> = match term.specificity {
                PrefixMatch::Exact => {
                    let k = prefix_key(&term.prefix);
                    vec![(k, k)]
                }
                PrefixMatch::More => more(),
                PrefixMatch::Less => less().into_iter().map(|k| (k, k)).collect(),
                PrefixMatch::Any => {
                    let mut all = more();
                    all.extend(less().into_iter().map(|k| (k, k)));
                    all
                }
            };
            for kind in kinds {
                ranges.extend(keys.iter().map(|(lo, hi)| (*kind, *lo, *hi, KeyMatch::All)));
            }
        }
        ranges.sort_unstable();
        ranges.dedup();
        let shown: Vec<String> = filter
            .prefixes
            .iter()
            .map(|t| {
                let m = match t.specificity {
                    PrefixMatch::Exact => "",
                    PrefixMatch::More => "+",
                    PrefixMatch::Less => "-",
                    PrefixMatch::Any => "~",
                };
                format!("{}{m}", t.prefix)
            })
            .collect();
        out.push(TermQuery {
            label: label(kinds_name(kinds), &shown),
            ranges,
            exact_count: false,
        });
    }
    out
}

fn kinds_name(kinds: &[TermKind]) -> &'static str {
    match kinds {
        [one] => one.name(),
        _ => "prefix",
    }
}

/// Whether `filter` has a term that no index covers, beyond time.
fn has_unindexed_terms(filter: &CaptureFilter) -> bool {
    filter.kind != CaptureKind::Any
        || !filter.path_regex.is_empty()
        || filter.family.is_some()
        || !filter.views.is_empty()
}

/// A query with the size of its postings.
#[derive(Clone, Debug)]
pub(crate) struct MeasuredQuery {
    /// The query.
    pub(crate) query: TermQuery,
    /// Posting chunks in its ranges.
    pub(crate) chunks: usize,
    /// Bytes of those chunks.
    pub(crate) bytes: usize,
    /// Whether the plan answers from it.
    pub(crate) used: bool,
}

/// How a plan finds its candidate blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Every block in time order, within the window.
    TimeScan,
    /// The blocks the used queries' postings name, with the captures each
    /// posting counts (summed over the query's keys; 0 after an
    /// intersection), in block order, within the window.
    Index(Vec<Posting>),
}

/// A filter's plan.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Every indexed term, measured.
    pub(crate) queries: Vec<MeasuredQuery>,
    /// How candidates are found.
    pub(crate) access: Access,
    /// The window that narrows candidates.
    pub(crate) time: Option<TimeRange>,
    /// Whether counts come from postings (or the directory) alone.
    pub(crate) count_from_index: bool,
}

impl Plan {
    /// Plans `filter` over `directory`'s blocks, reading postings from
    /// `source`.
    ///
    /// Returns an error if the postings cannot be read.
    pub(crate) fn new(
        filter: &CaptureFilter,
        directory: &Directory,
        source: &dyn PostingSource,
    ) -> Result<Self> {
        let mut queries: Vec<MeasuredQuery> = Vec::new();
        for query in term_queries(filter) {
            let (mut chunks, mut bytes) = (0, 0);
            for (kind, lo, hi, accept) in &query.ranges {
                source.scan_postings(*kind, *lo, *hi, &mut |key, _, chunk| {
                    if accept.accepts(key) {
                        chunks += 1;
                        bytes += chunk.len();
                    }
                    Ok(())
                })?;
            }
            queries.push(MeasuredQuery {
                query,
                chunks,
                bytes,
                used: false,
            });
        }
        let mut order: Vec<usize> = (0..queries.len()).collect();
        order.sort_by_key(|i| queries[*i].bytes);
        let mut candidates: Option<Vec<Posting>> = None;
        if let Some(&smallest) = order.first() {
            let limit = queries[smallest].bytes.max(1) * INTERSECT_RATIO;
            for &i in order.iter().take(MAX_INTERSECTED) {
                if candidates.is_some() && queries[i].bytes > limit {
                    break;
                }
                let postings = read_query(&queries[i].query, source)?;
                queries[i].used = true;
                candidates = Some(match candidates {
                    None => postings,
                    Some(acc) => intersect(&acc, &postings),
                });
            }
        }
        let time = filter.time;
        let in_window = |block: u32| directory.get(block).is_some_and(|b| b.overlaps(time));
        let used = queries.iter().filter(|q| q.used).count();
        let all_used = used == queries.len();
        let access = match candidates {
            Some(mut blocks) => {
                blocks.retain(|p| in_window(p.block));
                Access::Index(blocks)
            }
            None => Access::TimeScan,
        };
        let count_from_index = !has_unindexed_terms(filter)
            && all_used
            && match &access {
                Access::TimeScan => true,
                Access::Index(_) => used == 1 && queries.iter().all(|q| q.query.exact_count),
            };
        Ok(Self {
            queries,
            access,
            time,
            count_from_index,
        })
    }
}

/// The postings of `query`, one per block with their counts summed, in
/// block order.
fn read_query(query: &TermQuery, source: &dyn PostingSource) -> Result<Vec<Posting>> {
    let mut all: Vec<Posting> = Vec::new();
    for (kind, lo, hi, accept) in &query.ranges {
        source.scan_postings(*kind, *lo, *hi, &mut |key, first, chunk| {
            if accept.accepts(key) {
                all.extend(decode_chunk(chunk, first)?);
            }
            Ok(())
        })?;
    }
    all.sort_by_key(|p| p.block);
    let mut merged: Vec<Posting> = Vec::with_capacity(all.len());
    for posting in all {
        match merged.last_mut() {
            Some(last) if last.block == posting.block => last.count += posting.count,
            _ => merged.push(posting),
        }
    }
    Ok(merged)
}

/// The blocks in both lists, with no count.
fn intersect(a: &[Posting], b: &[Posting]) -> Vec<Posting> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        match a[i].block.cmp(&b[j].block) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(Posting {
                    block: a[i].block,
                    count: 0,
                });
                i += 1;
                j += 1;
            }
        }
    }
    out
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access {
            Access::TimeScan => write!(f, "scan blocks in time order")?,
            Access::Index(blocks) => write!(f, "index scan of {} blocks", blocks.len())?,
        }
        match self.time {
            Some(t) => write!(f, " in [{}, {})", t.start_us, t.end_us)?,
            None => write!(f, " at any time")?,
        }
        for q in &self.queries {
            let role = if q.used { "use" } else { "check" };
            write!(
                f,
                "; {role} {} ({} chunks, {} bytes)",
                q.query.label, q.chunks, q.bytes
            )?;
        }
        let count = if self.count_from_index {
            "from index"
        } else {
            "by checking captures"
        };
        write!(f, "; count {count}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::directory::BlockInfo;
    use crate::filter::PrefixTerm;
    use crate::index::append_postings;

    /// Postings in a map, keyed as the store keys them.
    #[derive(Default)]
    struct MapSource(BTreeMap<(u8, u64, u32), Vec<u8>>);

    impl MapSource {
        fn add(&mut self, kind: TermKind, key: u64, blocks: &[(u32, u32)]) {
            let first = blocks[0].0;
            let mut chunk = Vec::new();
            let postings: Vec<Posting> = blocks
                .iter()
                .map(|(block, count)| Posting {
                    block: *block,
                    count: *count,
                })
                .collect();
            append_postings(&mut chunk, first, &postings);
            self.0.insert((kind as u8, key, first), chunk);
        }
    }

    impl PostingSource for MapSource {
        fn scan_postings(
            &self,
            kind: TermKind,
            lo: u64,
            hi: u64,
            visit: &mut dyn FnMut(u64, u32, &[u8]) -> Result<()>,
        ) -> Result<()> {
            for ((_, key, first), chunk) in self
                .0
                .range((kind as u8, lo, 0)..=(kind as u8, hi, u32::MAX))
            {
                visit(*key, *first, chunk)?;
            }
            Ok(())
        }
    }

    fn directory(blocks: u32) -> Directory {
        Directory::new(
            (0..blocks)
                .map(|i| {
                    Some(BlockInfo {
                        first_us: u64::from(i) * 10,
                        last_us: u64::from(i) * 10,
                        first_seq: u64::from(i) * 100 + 1,
                        count: 100,
                        written: 100,
                        import: 0,
                        rewritten: false,
                    })
                })
                .collect(),
        )
    }

    fn blocks(plan: &Plan) -> Vec<u32> {
        match &plan.access {
            Access::Index(p) => p.iter().map(|p| p.block).collect(),
            Access::TimeScan => panic!("expected an index plan, got {plan}"),
        }
    }

    #[test]
    fn a_filter_without_indexed_terms_scans_in_time_order() {
        let plan = Plan::new(
            &CaptureFilter::default(),
            &directory(3),
            &MapSource::default(),
        )
        .unwrap();
        assert_eq!(plan.access, Access::TimeScan);
        assert!(plan.count_from_index);
        let rib = CaptureFilter {
            kind: CaptureKind::Rib,
            ..Default::default()
        };
        let plan = Plan::new(&rib, &directory(3), &MapSource::default()).unwrap();
        assert!(!plan.count_from_index);
    }

    #[test]
    fn one_exact_term_is_counted_from_its_postings_and_narrowed_by_time() {
        let mut source = MapSource::default();
        source.add(TermKind::Origin, 3356, &[(0, 5), (2, 7), (4, 1)]);
        source.add(TermKind::Origin, 174, &[(2, 1)]);
        let filter = CaptureFilter {
            origin_ases: vec![3356, 174, 3356],
            time: Some(TimeRange {
                start_us: 10,
                end_us: 41,
            }),
            ..Default::default()
        };
        let plan = Plan::new(&filter, &directory(5), &source).unwrap();
        assert_eq!(
            plan.access,
            Access::Index(vec![
                Posting { block: 2, count: 8 },
                Posting { block: 4, count: 1 }
            ])
        );
        assert!(plan.count_from_index);
        let text = plan.to_string();
        assert!(
            text.starts_with(
                "index scan of 2 blocks in [10, 41); use origin=[3356,174,3356] (2 chunks"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_smallest_term_answers_and_a_much_larger_one_is_checked() {
        let mut source = MapSource::default();
        source.add(TermKind::Origin, 1, &[(3, 1)]);
        let busy: Vec<(u32, u32)> = (0..400).map(|b| (b, 100)).collect();
        source.add(TermKind::PeerAs, 9, &busy);
        let filter = CaptureFilter {
            origin_ases: vec![1],
            peer_ases: vec![9],
            ..Default::default()
        };
        let plan = Plan::new(&filter, &directory(400), &source).unwrap();
        assert_eq!(blocks(&plan), [3]);
        assert!(
            plan.queries
                .iter()
                .any(|q| !q.used && q.query.label == "peer-as=[9]")
        );
        assert!(!plan.count_from_index);
    }

    #[test]
    fn similar_terms_are_intersected() {
        let mut source = MapSource::default();
        source.add(TermKind::Origin, 1, &[(1, 1), (2, 1), (3, 1)]);
        source.add(TermKind::PeerAs, 9, &[(2, 1), (3, 1), (4, 1)]);
        let filter = CaptureFilter {
            origin_ases: vec![1],
            peer_ases: vec![9],
            ..Default::default()
        };
        let plan = Plan::new(&filter, &directory(5), &source).unwrap();
        assert_eq!(blocks(&plan), [2, 3]);
        assert!(plan.queries.iter().all(|q| q.used));
        assert!(!plan.count_from_index);
    }

    #[test]
    fn community_wildcards_are_key_ranges() {
        let mut source = MapSource::default();
        let key = |a, v| community_key(&Community::Standard(a, v));
        source.add(TermKind::Community, key(3356, 300), &[(1, 1)]);
        source.add(TermKind::Community, key(3356, 1), &[(2, 1)]);
        source.add(TermKind::Community, key(174, 300), &[(3, 1)]);
        source.add(
            TermKind::Community,
            community_key(&Community::Large(3356, 1, 2)),
            &[(4, 1)],
        );
        let dir = directory(5);
        let run = |text: &str| {
            let filter = CaptureFilter {
                communities: vec![text.parse().unwrap()],
                ..Default::default()
            };
            blocks(&Plan::new(&filter, &dir, &source).unwrap())
        };
        assert_eq!(run("3356:*"), [1, 2]);
        assert_eq!(run("*:300"), [1, 3]);
        assert_eq!(run("*:*"), [1, 2, 3]);
        assert_eq!(run("3356:300"), [1]);
        assert_eq!(run("3356:*:*"), [4]);
        assert_eq!(run("*:1:2"), [4]);
    }

    #[test]
    fn prefix_terms_read_their_buckets() {
        let mut source = MapSource::default();
        let net = |s: &str| s.parse::<ipnet::IpNet>().unwrap();
        source.add(
            TermKind::Advertised,
            prefix_key(&net("8.8.8.0/24")),
            &[(1, 1)],
        );
        source.add(
            TermKind::Advertised,
            prefix_key(&net("8.0.0.0/8")),
            &[(2, 1)],
        );
        source.add(
            TermKind::Advertised,
            prefix_key(&net("9.9.0.0/16")),
            &[(3, 1)],
        );
        source.add(
            TermKind::Withdrawn,
            prefix_key(&net("8.8.4.0/24")),
            &[(4, 1)],
        );
        let filter = |p: &str, m, scope| CaptureFilter {
            prefixes: vec![PrefixTerm::new(net(p), m)],
            prefix_scope: scope,
            ..Default::default()
        };
        let dir = directory(5);
        let run = |f: CaptureFilter| blocks(&Plan::new(&f, &dir, &source).unwrap());
        assert_eq!(
            run(filter(
                "8.0.0.0/8",
                PrefixMatch::More,
                PrefixScope::Advertised
            )),
            [1, 2]
        );
        assert_eq!(
            run(filter("8.0.0.0/8", PrefixMatch::More, PrefixScope::Both)),
            [1, 2, 4]
        );
        assert_eq!(
            run(filter(
                "8.8.8.0/24",
                PrefixMatch::Less,
                PrefixScope::Advertised
            )),
            [1, 2]
        );
        assert_eq!(
            run(filter(
                "8.8.8.0/24",
                PrefixMatch::Exact,
                PrefixScope::Advertised
            )),
            [1]
        );
        assert_eq!(
            run(filter(
                "9.0.0.0/8",
                PrefixMatch::Any,
                PrefixScope::Withdrawn
            )),
            Vec::<u32>::new()
        );
    }
}
