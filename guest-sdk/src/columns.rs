//! Batches of captures read as columns, and borrowed views of their
//! captures.

use std::ops::Range;

use crate::wit::bgpmon::module0_2_0::columns::{CaptureColumns, SegmentKind};
use crate::{Aggregator, Capture, Community, IpAddress, OriginAttribute, PathSegment, Prefix};

/// A batch of captures read as columns with
/// [`CaptureReader::next_columns`](crate::CaptureReader::next_columns).
///
/// It holds a fixed number of lists however many captures it has, so
/// reading it costs the module a few allocations per batch instead of
/// several per capture. Its captures are borrowed views
/// ([`CaptureRef`]); [`CaptureRef::to_capture`] makes an owned
/// [`Capture`] of one.
#[derive(Debug)]
pub struct Captures {
    columns: CaptureColumns,
}

impl Captures {
    pub(crate) fn new(columns: CaptureColumns) -> Self {
        Self { columns }
    }

    /// How many captures the batch has.
    pub fn len(&self) -> usize {
        self.columns.timestamp_us.len()
    }

    /// Whether the batch has no captures.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Capture `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<CaptureRef<'_>> {
        (index < self.len()).then_some(CaptureRef {
            columns: &self.columns,
            index,
        })
    }

    /// The captures in the order they were read.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = CaptureRef<'_>> + '_ {
        (0..self.len()).map(|index| CaptureRef {
            columns: &self.columns,
            index,
        })
    }

    /// The distinct collector names of the batch.
    pub fn collectors(&self) -> &[String] {
        &self.columns.collectors
    }
}

/// The range of entry `index` in a flat list whose cumulative ends are
/// `ends`.
fn run(ends: &[u32], index: usize) -> Range<usize> {
    let start = match index {
        0 => 0,
        i => ends.get(i - 1).map_or(0, |&e| e as usize),
    };
    let end = ends.get(index).map_or(start, |&e| e as usize);
    start..end.max(start)
}

/// `list[range]`, or empty when the host sent offsets past the list.
fn slice<T>(list: &[T], range: Range<usize>) -> &[T] {
    list.get(range).unwrap_or(&[])
}

/// The kind of an AS path segment, as [`CaptureRef::path`] gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentType {
    /// An ordered AS_SEQUENCE.
    Sequence,
    /// An unordered AS_SET.
    Set,
    /// An AS_CONFED_SEQUENCE.
    ConfedSequence,
    /// An AS_CONFED_SET.
    ConfedSet,
}

impl From<SegmentKind> for SegmentType {
    fn from(kind: SegmentKind) -> Self {
        match kind {
            SegmentKind::Sequence => Self::Sequence,
            SegmentKind::Set => Self::Set,
            SegmentKind::ConfedSequence => Self::ConfedSequence,
            SegmentKind::ConfedSet => Self::ConfedSet,
        }
    }
}

/// One capture of a [`Captures`] batch, borrowed. Its accessors mean what
/// [`Capture`]'s fields mean.
#[derive(Clone, Copy, Debug)]
pub struct CaptureRef<'a> {
    columns: &'a CaptureColumns,
    index: usize,
}

impl<'a> CaptureRef<'a> {
    /// Microseconds since the unix epoch, UTC.
    pub fn timestamp_us(&self) -> u64 {
        self.columns.timestamp_us[self.index]
    }

    /// The collector's name.
    pub fn collector(&self) -> &'a str {
        let at = self.columns.collector[self.index] as usize;
        self.columns.collectors.get(at).map_or("", String::as_str)
    }

    /// The collector's address, when known.
    pub fn collector_ip(&self) -> Option<IpAddress> {
        self.columns.collector_ip[self.index]
    }

    /// The address of the peer that sent it.
    pub fn peer_ip(&self) -> IpAddress {
        self.columns.peer_ip[self.index]
    }

    /// The peer's AS.
    pub fn peer_as(&self) -> u32 {
        self.columns.peer_as[self.index]
    }

    /// The AS path: each segment's type and ASes, in order.
    pub fn path(&self) -> impl ExactSizeIterator<Item = (SegmentType, &'a [u32])> + 'a {
        let columns = self.columns;
        let segments = run(&columns.segment_ends, self.index);
        segments.map(move |s| {
            let segment = &columns.segments[s];
            let start = match s {
                0 => 0,
                s => columns.segments[s - 1].asns_end as usize,
            };
            let asns = slice(&columns.path_asns, start..segment.asns_end as usize);
            (segment.kind.into(), asns)
        })
    }

    /// The origin AS: the last AS of the path when it ends in a sequence.
    pub fn origin_as(&self) -> Option<u32> {
        self.columns.origin_as[self.index]
    }

    /// The next hop.
    pub fn next_hop(&self) -> Option<IpAddress> {
        self.columns.next_hop[self.index]
    }

    /// The advertised prefixes.
    pub fn advertised(&self) -> &'a [Prefix] {
        let range = run(&self.columns.advertised_ends, self.index);
        slice(&self.columns.advertised, range)
    }

    /// The withdrawn prefixes.
    pub fn withdrawn(&self) -> &'a [Prefix] {
        let range = run(&self.columns.withdrawn_ends, self.index);
        slice(&self.columns.withdrawn, range)
    }

    /// The standard and large communities.
    pub fn communities(&self) -> &'a [Community] {
        let range = run(&self.columns.community_ends, self.index);
        slice(&self.columns.communities, range)
    }

    /// The ORIGIN attribute.
    pub fn origin(&self) -> Option<OriginAttribute> {
        self.columns.origin[self.index]
    }

    /// The MULTI_EXIT_DISC attribute.
    pub fn med(&self) -> Option<u32> {
        self.columns.med[self.index]
    }

    /// The LOCAL_PREF attribute.
    pub fn local_pref(&self) -> Option<u32> {
        self.columns.local_pref[self.index]
    }

    /// Whether ATOMIC_AGGREGATE is present.
    pub fn atomic_aggregate(&self) -> bool {
        self.columns.atomic_aggregate[self.index]
    }

    /// The AGGREGATOR attribute.
    pub fn aggregator(&self) -> Option<Aggregator> {
        self.columns.aggregator[self.index]
    }

    /// Whether it is a RIB entry rather than an UPDATE.
    pub fn is_rib(&self) -> bool {
        self.columns.is_rib[self.index]
    }

    /// An owned copy, as [`CaptureReader::next_batch`](crate::CaptureReader::next_batch)
    /// returns it.
    pub fn to_capture(&self) -> Capture {
        Capture {
            timestamp_us: self.timestamp_us(),
            collector: self.collector().to_owned(),
            collector_ip: self.collector_ip(),
            peer_ip: self.peer_ip(),
            peer_as: self.peer_as(),
            as_path: self
                .path()
                .map(|(kind, asns)| {
                    let asns = asns.to_vec();
                    match kind {
                        SegmentType::Sequence => PathSegment::Sequence(asns),
                        SegmentType::Set => PathSegment::Set(asns),
                        SegmentType::ConfedSequence => PathSegment::ConfedSequence(asns),
                        SegmentType::ConfedSet => PathSegment::ConfedSet(asns),
                    }
                })
                .collect(),
            origin_as: self.origin_as(),
            next_hop: self.next_hop(),
            advertised: self.advertised().to_vec(),
            withdrawn: self.withdrawn().to_vec(),
            communities: self.communities().to_vec(),
            origin: self.origin(),
            med: self.med(),
            local_pref: self.local_pref(),
            atomic_aggregate: self.atomic_aggregate(),
            aggregator: self.aggregator(),
            is_rib: self.is_rib(),
        }
    }
}
