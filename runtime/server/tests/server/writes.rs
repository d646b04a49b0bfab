//! A `WriteCaptures` call commits only what it flushed (issue 8, vector
//! 8): a real tonic client that cancels the call, ends its stream without
//! a flush, or sends a bad capture mid-stream finds exactly its flushed
//! captures stored, and the server counts the rest as rolled back.

use std::sync::Arc;
use std::time::Duration;

use bgpmon_proto::v1::{self, bgpmon_client::BgpmonClient};
use bgpmon_proto::{EncodedCapture, ip_to_bytes};
use bgpmon_server::rpc::{ApiGuard, Metrics, serve_rpc};
use bgpmon_store::CaptureFilter;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;

use crate::util::{Harness, eventually};

/// Serves `h` on a free loopback port, counting into the returned metrics.
async fn serve(h: &Harness) -> (BgpmonClient<Channel>, Arc<Metrics>, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let metrics = Arc::new(Metrics::default());
    let shutdown = CancellationToken::new();
    tokio::spawn(serve_rpc(
        listener,
        h.server.clone(),
        metrics.clone(),
        ApiGuard {
            token: None,
            tls: None,
        },
        shutdown.clone(),
    ));
    let client = BgpmonClient::connect(url).await.unwrap();
    (client, metrics, shutdown)
}

/// `n` captures from second `from` on, one per second.
fn captures(from: u64, n: u64) -> Vec<EncodedCapture> {
    (from..from + n)
        .map(|t| {
            EncodedCapture::new(&v1::Capture {
                timestamp_us: t * 1_000_000,
                collector: "test".into(),
                peer_ip: ip_to_bytes("192.0.2.1".parse().unwrap()),
                peer_as: 64496,
                origin_as: Some(64500),
                advertised: vec![v1::Prefix {
                    address: ip_to_bytes("10.0.0.0".parse().unwrap()),
                    length: 24,
                }],
                ..v1::Capture::default()
            })
        })
        .collect()
}

fn message(session: &str, captures: Vec<EncodedCapture>, flush: bool) -> v1::WriteCapturesRequest {
    v1::WriteCapturesRequest {
        session_id: session.into(),
        captures,
        flush,
        ..v1::WriteCapturesRequest::default()
    }
}

/// The seconds of every capture stored in `session`.
async fn stored_seconds(h: &Harness, session: &str) -> Vec<u64> {
    h.captures(session, CaptureFilter::default())
        .await
        .iter()
        .map(|c| c.timestamp_us / 1_000_000)
        .collect()
}

/// Waits until the server has received `n` captures in all, so the last
/// ones sit unflushed in its writer.
async fn received(metrics: &Metrics, n: u64) {
    eventually("the server to receive the captures", || {
        metrics.received_captures() == n
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_write_call_commits_only_what_it_flushed() {
    let h = Harness::start(&[]).await;
    let s = h.session("w").await;
    let (client, metrics, shutdown) = serve(&h).await;

    let (tx, rx) = mpsc::channel(4);
    let mut call_client = client.clone();
    let call =
        tokio::spawn(async move { call_client.write_captures(ReceiverStream::new(rx)).await });
    tx.send(message(&s, captures(1, 10), true)).await.unwrap();
    tx.send(message("", captures(100, 30), false))
        .await
        .unwrap();
    // The stream stays open: the 30 wait in the server's writer, and the 10
    // are committed.
    received(&metrics, 40).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while stored_seconds(&h, &s).await.len() < 10 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flush never committed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(h.server.session(&s).unwrap().workers_busy(), 1);
    assert_eq!(metrics.rolled_back_captures(), 0);
    // Aborting the task drops the call, which resets the HTTP/2 stream;
    // the request stream stays open, so this is a cancel, not an end.
    call.abort();
    assert!(call.await.unwrap_err().is_cancelled());
    eventually("the 30 unflushed to be counted rolled back", || {
        metrics.rolled_back_captures() == 30
    })
    .await;
    assert_eq!(stored_seconds(&h, &s).await, (1..=10).collect::<Vec<_>>());
    eventually("the writer's worker to be released", || {
        h.server.session(&s).unwrap().workers_busy() == 0
    })
    .await;
    drop(tx);
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_stream_that_ends_or_fails_unflushed_rolls_the_rest_back() {
    let h = Harness::start(&[]).await;
    let s = h.session("w").await;
    let (mut client, metrics, shutdown) = serve(&h).await;

    // A stream that ends without flushing its last batch: the reply counts
    // the flushed captures only, and only those are stored.
    let messages = vec![
        message(&s, captures(1, 10), true),
        message("", captures(100, 30), false),
    ];
    let reply = client
        .write_captures(tokio_stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.captures_written, 10);
    assert_eq!(metrics.received_captures(), 40);
    assert_eq!(metrics.rolled_back_captures(), 30);
    assert_eq!(metrics.written_captures(), 10);
    assert_eq!(stored_seconds(&h, &s).await, (1..=10).collect::<Vec<_>>());

    // A bad capture mid-stream fails the call naming it, and rolls back
    // what came after the last flush.
    let mut bad = captures(300, 3);
    bad[1] = EncodedCapture::new(&v1::Capture {
        timestamp_us: 301_000_000,
        peer_ip: ip_to_bytes("192.0.2.1".parse().unwrap()),
        advertised: vec![v1::Prefix {
            address: ip_to_bytes("10.0.0.0".parse().unwrap()),
            length: 99,
        }],
        ..v1::Capture::default()
    });
    let messages = vec![
        message(&s, captures(200, 5), true),
        message("", captures(250, 20), false),
        message("", bad, false),
        message("", captures(400, 5), true),
    ];
    let err = client
        .write_captures(tokio_stream::iter(messages))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().starts_with("captures[1].advertised[0]"),
        "{}",
        err.message()
    );
    let mut expected: Vec<u64> = (1..=10).collect();
    expected.extend(200..205);
    assert_eq!(stored_seconds(&h, &s).await, expected);
    assert_eq!(metrics.received_captures(), 40 + 25);
    assert_eq!(metrics.rolled_back_captures(), 30 + 20);

    // A flush on the last message commits everything.
    let messages = vec![
        message(&s, captures(500, 10), false),
        message("", captures(600, 10), true),
    ];
    let reply = client
        .write_captures(tokio_stream::iter(messages))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.captures_written, 20);
    assert_eq!(stored_seconds(&h, &s).await.len(), 35);
    shutdown.cancel();
}
