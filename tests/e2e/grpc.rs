//! A tonic client of the running daemon, for the tests that drive the API
//! directly: synthetic captures tagged by batch, write calls, and reads
//! tallied by batch.

use std::collections::BTreeMap;

use bgpmon_proto::v1::{self, bgpmon_client::BgpmonClient};
use bgpmon_proto::{EncodedCapture, ip_to_bytes};
use tonic::transport::Channel;

/// A client of the daemon at `addr` (`host:port`).
pub(crate) async fn connect(addr: &str) -> BgpmonClient<Channel> {
    BgpmonClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20)
}

/// Capture `i` of batch `batch`: the batch is its peer AS, so a read can
/// tally captures per batch; timestamps are unique per (batch, i).
pub(crate) fn capture(batch: u32, i: u32) -> v1::Capture {
    v1::Capture {
        timestamp_us: u64::from(batch) * 10_000_000 + u64::from(i),
        collector: "synthetic".into(),
        peer_ip: ip_to_bytes("192.0.2.1".parse().unwrap()),
        peer_as: batch,
        origin_as: Some(64500 + i % 16),
        advertised: vec![v1::Prefix {
            address: ip_to_bytes(
                format!("10.{}.{}.0", (i >> 8) & 0xff, i & 0xff)
                    .parse()
                    .unwrap(),
            ),
            length: 24,
        }],
        ..v1::Capture::default()
    }
}

/// One write message: `captures` of `batch` from `from`, flushed or not.
pub(crate) fn message(
    session: &str,
    batch: u32,
    from: u32,
    n: u32,
    flush: bool,
) -> v1::WriteCapturesRequest {
    v1::WriteCapturesRequest {
        session_id: session.into(),
        captures: (from..from + n)
            .map(|i| EncodedCapture::new(&capture(batch, i)))
            .collect(),
        flush,
        ..v1::WriteCapturesRequest::default()
    }
}

/// The window that holds every capture of batches `from..to`.
pub(crate) fn batches_window(from: u32, to: u32) -> v1::CaptureFilter {
    v1::CaptureFilter {
        start_us: Some(u64::from(from) * 10_000_000),
        end_us: Some(u64::from(to) * 10_000_000),
        ..v1::CaptureFilter::default()
    }
}

/// How many captures `session` stores.
pub(crate) async fn count(client: &mut BgpmonClient<Channel>, session: &str) -> u64 {
    client
        .count_captures(v1::CountCapturesRequest {
            session_id: session.into(),
            ..v1::CountCapturesRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .count
}

/// How many captures of each batch (peer AS) `session` stores, among
/// those `filter` matches.
pub(crate) async fn tally(
    client: &mut BgpmonClient<Channel>,
    session: &str,
    filter: v1::CaptureFilter,
) -> BTreeMap<u32, u64> {
    let mut stream = client
        .read_captures(v1::ReadCapturesRequest {
            session_id: session.into(),
            filter: Some(filter),
            batch_size: 10_000,
            ..v1::ReadCapturesRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut by_batch = BTreeMap::new();
    while let Some(response) = stream.message().await.unwrap() {
        for c in response.captures {
            *by_batch.entry(c.peer_as).or_insert(0) += 1;
        }
    }
    by_batch
}

/// A small deterministic random source (xorshift64*), so a failing run can
/// be repeated from its printed seed.
pub(crate) struct Rng(u64);

impl Rng {
    /// A source seeded by `seed` (zero is replaced).
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// A seed from the environment variable `var`, or from the clock.
    pub(crate) fn seed_from(var: &str) -> u64 {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            })
    }

    /// A value in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        lo + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (hi - lo + 1)
    }
}
