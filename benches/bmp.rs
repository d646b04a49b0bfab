//! The BMP station's figures, each against a baseline measured in the same
//! run, with gobgpd 3.10 routers (as `../shared/docs/LIVE-FACTS.md` sets
//! them up) and the live RIB of `../shared/data/live`:
//!
//! 1. **Ingest.** The stream gobgpd B sends for that RIB is first recorded by
//!    a plain TCP sink. It is then replayed over loopback into a release
//!    `bgpmond`'s station as fast as the station reads it, timed from the
//!    connect until the station has committed every capture (polled over
//!    gRPC every 2 ms). The baseline is bgpkit-parser's `parse_bmp_msg` over
//!    the same bytes in memory, the parse the station does too, with no
//!    I/O, storage or checks. Both in messages per second; ratio station /
//!    parse.
//! 2. **Full table.** From B's peer-up (its own timestamp) to the last
//!    capture committed, against the same span when B streams to the sink
//!    (gobgpd's own send time: its last byte read). Ratio send / station:
//!    near 1 means gobgpd, not the station, sets the pace. Also printed: the
//!    station's receipt of B's last message, and how long after it the last
//!    capture was committed, which is the station's own lag (the routers and
//!    the daemon share two cores, so a busy station also slows gobgpd).
//! 3. **Latency.** `gobgp global rib add` of one /32 on A, timed from the
//!    command's start to a following gRPC reader's receipt of the capture;
//!    median and maximum over 100 announcements.
//!
//! Run with `cargo bench --bench bmp`. It needs gobgpd (`scripts/setup.sh`
//! installs it) and `../shared`; without them it prints why and stops.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports failure by panicking"
)]

#[path = "../tests/e2e/util.rs"]
mod util;

#[path = "../tests/e2e/gobgp.rs"]
mod gobgp;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bgpkit_parser::parse_bmp_msg;
use bgpkit_parser::parser::bmp::messages::BmpMessageBody;
use bgpmon_proto::v1;
use bgpmon_proto::v1::bgpmon_client::BgpmonClient;
use bytes::Bytes;

const RUNS: usize = 7;
const ANNOUNCEMENTS: u32 = 100;

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The stream gobgpd B sends for the injected RIB, and its send span: B's
/// peer-up timestamp to the sink's last byte.
fn record(rib: &std::path::Path) -> (Vec<u8>, Duration) {
    let sink = TcpListener::bind("127.0.0.1:0").unwrap();
    let station = sink.local_addr().unwrap();
    let (a_port, b_port) = (gobgp::free_port(), gobgp::free_port());
    let a = gobgp::Gobgp::a(a_port, b_port);
    a.inject(rib);
    let b = gobgp::Gobgp::b(b_port, a_port, station);
    let (mut socket, _) = sink.accept().unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut stream = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut last_byte_us = 0;
    let started = Instant::now();
    loop {
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                stream.extend_from_slice(&buf[..n]);
                last_byte_us = now_us();
            }
            // Quiet for 3 s after the table: the dump is over. Before, B is
            // still peering with A.
            Err(_) if has_table(&stream) => break,
            Err(_) => assert!(
                started.elapsed() < Duration::from_secs(180),
                "no table from gobgpd in 3 minutes"
            ),
        }
    }
    drop(b);
    drop(a);
    let peer_up = peer_up_us(&stream);
    (stream, Duration::from_micros(last_byte_us - peer_up))
}

/// Whether `stream` holds a peer-up and route monitoring after it.
fn has_table(stream: &[u8]) -> bool {
    let mut data = Bytes::copy_from_slice(stream);
    let mut up = false;
    while data.len() >= 6 {
        let length = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        if data.len() < length {
            break;
        }
        match parse_bmp_msg(&mut data).unwrap().message_body {
            BmpMessageBody::PeerUpNotification(_) => up = true,
            BmpMessageBody::RouteMonitoring(_) if up => return true,
            _ => {}
        }
    }
    false
}

/// The per-peer timestamp of the stream's first peer-up.
fn peer_up_us(stream: &[u8]) -> u64 {
    let mut data = Bytes::copy_from_slice(stream);
    while !data.is_empty() {
        let m = parse_bmp_msg(&mut data).unwrap();
        if let (BmpMessageBody::PeerUpNotification(_), Some(h)) =
            (&m.message_body, m.per_peer_header)
        {
            return (h.timestamp * 1e6) as u64;
        }
    }
    panic!("the stream has no peer-up");
}

/// Parses `stream` with bgpkit-parser; returns the time, the messages, and
/// those that become captures (route monitoring other than End-of-RIB).
fn parse_only(stream: &[u8]) -> (Duration, u64, u64) {
    let mut data = Bytes::copy_from_slice(stream);
    let start = Instant::now();
    let (mut messages, mut captures) = (0, 0);
    while !data.is_empty() {
        let m = parse_bmp_msg(&mut data).unwrap();
        messages += 1;
        if let BmpMessageBody::RouteMonitoring(r) = &m.message_body
            && !r.is_end_of_rib()
        {
            captures += 1;
        }
    }
    (start.elapsed(), messages, captures)
}

async fn stored(client: &mut BgpmonClient<tonic::transport::Channel>) -> (u64, Option<u64>) {
    let status = client
        .get_bmp_status(v1::GetBmpStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    let station = &status.stations[0];
    let peer_up = station
        .routers
        .iter()
        .flat_map(|r| &r.peers)
        .flat_map(|p| &p.events)
        .filter(|e| e.up)
        .map(|e| e.timestamp_us)
        .max();
    (station.captures_stored, peer_up)
}

async fn wait_stored(client: &mut BgpmonClient<tonic::transport::Channel>, target: u64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while stored(client).await.0 < target {
        assert!(
            Instant::now() < deadline,
            "the station did not store {target}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn main() {
    if !gobgp::have_gobgp() {
        return;
    }
    let Some(rib) = gobgp::live_rib() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (stream, send_span) = record(&rib);
    let (_, messages, captures) = parse_only(&stream);

    let parse: Vec<Duration> = (0..RUNS).map(|_| parse_only(&stream).0).collect();

    let port = gobgp::free_port();
    let d = util::Daemon::start_with(
        &[],
        &format!("[bmp.lab]\naddress = \"127.0.0.1:{port}\"\nsession = \"live\"\n"),
    );
    let addr = format!("http://{}", d.addr);
    let mut client = runtime.block_on(BgpmonClient::connect(addr)).unwrap();
    let mut replay = Vec::new();
    for run in 0..RUNS as u64 {
        let start = Instant::now();
        let mut socket = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
        socket.write_all(&stream).unwrap();
        runtime.block_on(wait_stored(&mut client, captures * (run + 1)));
        replay.push(start.elapsed());
        drop(socket);
    }

    // The full table through the station, then live announcements.
    let base = runtime.block_on(stored(&mut client)).0;
    let (a_port, b_port) = (gobgp::free_port(), gobgp::free_port());
    let a = gobgp::Gobgp::a(a_port, b_port);
    a.inject(&rib);
    let b = gobgp::Gobgp::b(b_port, a_port, SocketAddr::from(([127, 0, 0, 1], port)));
    runtime.block_on(wait_stored(&mut client, base + captures));
    let last_stored = now_us();
    let peer_up = runtime
        .block_on(stored(&mut client))
        .1
        .expect("B's peer-up is recorded");
    let station_span = Duration::from_micros(last_stored - peer_up);
    let last_received = runtime.block_on(async {
        let status = client
            .get_bmp_status(v1::GetBmpStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        status.stations[0]
            .routers
            .iter()
            .filter_map(|r| r.last_message_us)
            .max()
            .unwrap()
    });
    let receive_span = Duration::from_micros(last_received - peer_up);
    // Past the quiet time that ends the table dumps.
    std::thread::sleep(Duration::from_secs(2));

    let latencies = runtime.block_on(async {
        let filter = v1::CaptureFilter {
            prefixes: vec![v1::PrefixTerm {
                prefix: Some(v1::Prefix {
                    address: vec![203, 0, 113, 0],
                    length: 24,
                }),
                r#match: v1::PrefixMatch::More.into(),
            }],
            ..v1::CaptureFilter::default()
        };
        let mut follower = client
            .read_captures(v1::ReadCapturesRequest {
                session_id: "live".into(),
                filter: Some(filter),
                follow: true,
                batch_size: 0,
                cursor: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let mut latencies = Vec::new();
        for i in 0..ANNOUNCEMENTS {
            let host = (i % 250) as u8 + 1;
            let prefix = format!("203.0.113.{host}/32");
            let start = Instant::now();
            a.ok(&["global", "rib", "add", &prefix, "nexthop", "192.0.2.1"]);
            'seen: loop {
                let response = follower
                    .message()
                    .await
                    .unwrap()
                    .expect("the follow goes on");
                for c in response.captures {
                    if c.advertised
                        .iter()
                        .any(|p| p.address == [203, 0, 113, host])
                    {
                        break 'seen;
                    }
                }
            }
            latencies.push(start.elapsed());
            a.ok(&["global", "rib", "del", &prefix]);
        }
        latencies
    });
    drop(b);
    drop(a);

    let parse = median(parse);
    let replay_median = median(replay.clone());
    let rate = |d: Duration| messages as f64 / d.as_secs_f64();
    println!(
        "BMP stream of gobgpd for {} ({messages} messages, {captures} captures, {} bytes), median of {RUNS} runs",
        gobgp::LIVE_RIB,
        stream.len()
    );
    println!("{:<52} {:>10} {:>14}", "path", "time", "messages/s");
    println!(
        "{:<52} {:>7.1} ms {:>14.0}",
        "bgpkit-parser parse_bmp_msg alone (in memory)",
        parse.as_secs_f64() * 1e3,
        rate(parse)
    );
    println!(
        "{:<52} {:>7.1} ms {:>14.0}",
        "replayed over loopback into the station, committed",
        replay_median.as_secs_f64() * 1e3,
        rate(replay_median)
    );
    let mut sorted = replay;
    sorted.sort();
    println!(
        "replay spread: min {:.1} ms, max {:.1} ms",
        sorted[0].as_secs_f64() * 1e3,
        sorted[sorted.len() - 1].as_secs_f64() * 1e3
    );
    println!(
        "ratio station / parse-only: {:.2} (goal >= 0.5)",
        rate(replay_median) / rate(parse)
    );
    println!(
        "full table: gobgpd peer-up to its last byte to a sink {:.0} ms; to the station: its last message received {:.0} ms, the last capture committed {:.0} ms; ratio sink / station {:.2}; the station committed its last capture {:.1} ms after receiving it",
        send_span.as_secs_f64() * 1e3,
        receive_span.as_secs_f64() * 1e3,
        station_span.as_secs_f64() * 1e3,
        send_span.as_secs_f64() / station_span.as_secs_f64(),
        (station_span.as_secs_f64() - receive_span.as_secs_f64()) * 1e3
    );
    let mut sorted = latencies;
    sorted.sort();
    println!(
        "latency, gobgp global rib add to a following reader, {ANNOUNCEMENTS} announcements: median {:.1} ms, max {:.1} ms, min {:.1} ms (goal: median < 50 ms, max < 1 s)",
        sorted[sorted.len() / 2].as_secs_f64() * 1e3,
        sorted[sorted.len() - 1].as_secs_f64() * 1e3,
        sorted[0].as_secs_f64() * 1e3
    );
}
