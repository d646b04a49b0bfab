//! `bgpmon:module/columns@0.2.0`: a capture reader's next batch as
//! columns, a fixed number of lists per batch.

use bgpmon_store as store;
use wasmtime::component::Resource;

use super::HostCallError;
use super::convert::{community_to_wit, ip_to_wit, origin_to_wit, prefix_to_wit};
use crate::bindings::columns::{CaptureColumns, Host, Segment, SegmentKind};
use crate::bindings::streams::CaptureReader;
use crate::bindings::types;
use crate::state::ModuleState;

impl Host for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.columns.read_columns", skip_all)]
    async fn read_columns(
        &mut self,
        reader: Resource<CaptureReader>,
        max: u32,
    ) -> Result<CaptureColumns, HostCallError> {
        let batch = self.read_capture_batch(&reader, max).await?;
        to_columns(batch)
    }
}

/// The end (exclusive) of a flat list so far, as the WIT offsets carry it.
fn end(len: usize) -> Result<u32, HostCallError> {
    u32::try_from(len).map_err(|_| {
        HostCallError::limit(format!(
            "a batch's flat list reached {len} entries, over 2^32; read smaller batches"
        ))
    })
}

/// Lays `batch` out as columns, in its order.
pub(crate) fn to_columns(batch: Vec<store::Capture>) -> Result<CaptureColumns, HostCallError> {
    let n = batch.len();
    let mut c = CaptureColumns {
        timestamp_us: Vec::with_capacity(n),
        collector: Vec::with_capacity(n),
        collectors: Vec::new(),
        collector_ip: Vec::with_capacity(n),
        peer_ip: Vec::with_capacity(n),
        peer_as: Vec::with_capacity(n),
        segment_ends: Vec::with_capacity(n),
        segments: Vec::with_capacity(n),
        path_asns: Vec::with_capacity(n * 4),
        origin_as: Vec::with_capacity(n),
        next_hop: Vec::with_capacity(n),
        advertised_ends: Vec::with_capacity(n),
        advertised: Vec::with_capacity(n),
        withdrawn_ends: Vec::with_capacity(n),
        withdrawn: Vec::new(),
        community_ends: Vec::with_capacity(n),
        communities: Vec::new(),
        origin: Vec::with_capacity(n),
        med: Vec::with_capacity(n),
        local_pref: Vec::with_capacity(n),
        atomic_aggregate: Vec::with_capacity(n),
        aggregator: Vec::with_capacity(n),
        is_rib: Vec::with_capacity(n),
    };
    for capture in batch {
        c.timestamp_us.push(capture.timestamp_us);
        let collector = match c.collectors.iter().rposition(|k| *k == capture.collector) {
            Some(index) => index,
            None => {
                c.collectors.push(capture.collector);
                c.collectors.len() - 1
            }
        };
        c.collector.push(end(collector)?);
        c.collector_ip.push(capture.collector_ip.map(ip_to_wit));
        c.peer_ip.push(ip_to_wit(capture.peer_ip));
        c.peer_as.push(capture.peer_as);
        for segment in &capture.as_path {
            let (kind, asns) = match segment {
                store::PathSegment::Sequence(a) => (SegmentKind::Sequence, a),
                store::PathSegment::Set(a) => (SegmentKind::Set, a),
                store::PathSegment::ConfedSequence(a) => (SegmentKind::ConfedSequence, a),
                store::PathSegment::ConfedSet(a) => (SegmentKind::ConfedSet, a),
            };
            c.path_asns.extend_from_slice(asns);
            c.segments.push(Segment {
                kind,
                asns_end: end(c.path_asns.len())?,
            });
        }
        c.segment_ends.push(end(c.segments.len())?);
        c.origin_as.push(capture.origin_as);
        c.next_hop.push(capture.next_hop.map(ip_to_wit));
        c.advertised
            .extend(capture.advertised.iter().map(prefix_to_wit));
        c.advertised_ends.push(end(c.advertised.len())?);
        c.withdrawn
            .extend(capture.withdrawn.iter().map(prefix_to_wit));
        c.withdrawn_ends.push(end(c.withdrawn.len())?);
        c.communities
            .extend(capture.communities.into_iter().map(community_to_wit));
        c.community_ends.push(end(c.communities.len())?);
        c.origin.push(capture.origin.map(origin_to_wit));
        c.med.push(capture.med);
        c.local_pref.push(capture.local_pref);
        c.atomic_aggregate.push(capture.atomic_aggregate);
        c.aggregator
            .push(capture.aggregator.map(|a| types::Aggregator {
                asn: a.asn,
                address: ip_to_wit(a.address),
            }));
        c.is_rib.push(capture.is_rib);
    }
    Ok(c)
}
