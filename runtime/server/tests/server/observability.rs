//! Operator observability: gRPC health checking and reflection on the API
//! port (both open without a token), RPC requests and latency by method
//! and code, and module series that stay bounded however many runs come
//! and go.

use std::sync::Arc;

use bgpmon_host::RunRequest;
use bgpmon_proto::v1::{self, bgpmon_client::BgpmonClient};
use bgpmon_server::rpc::{ApiGuard, ApiToken, Metrics, serve_rpc};
use bgpmon_test_modules as guests;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1alpha;

use crate::auth::{TOKEN, run_noop};
use crate::util::Harness;

/// Serves `h` on a free loopback port with the test token, counting into
/// the returned metrics.
async fn serve(h: &Harness) -> (Channel, Arc<Metrics>, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let metrics = Arc::new(Metrics::default());
    let shutdown = CancellationToken::new();
    tokio::spawn(serve_rpc(
        listener,
        h.server.clone(),
        metrics.clone(),
        ApiGuard {
            token: Some(ApiToken::new(TOKEN).unwrap()),
            tls: None,
        },
        shutdown.clone(),
    ));
    let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
    (channel, metrics, shutdown)
}

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_without_a_token_and_turns_not_serving_at_shutdown() {
    let h = Harness::start(&[guests::NOOP]).await;
    let (channel, _metrics, shutdown) = serve(&h).await;
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "bgpmon.v1.Bgpmon"] {
        let status = health.check(check(service)).await.unwrap().into_inner();
        assert_eq!(status.status(), ServingStatus::Serving, "{service:?}");
    }
    let err = health.check(check("no.such.Service")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    // The API itself still asks for the token.
    let err = BgpmonClient::new(channel)
        .run_module(run_noop("anon"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let mut watch = health.watch(check("")).await.unwrap().into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    shutdown.cancel();
    let next = watch.next().await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
}

/// The services a v1 reflection client lists.
async fn listed_services(channel: Channel) -> Vec<String> {
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("not a service list: {response:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_describes_the_api_without_a_token() {
    let h = Harness::start(&[]).await;
    let (channel, _metrics, shutdown) = serve(&h).await;
    assert_eq!(
        listed_services(channel.clone()).await,
        [
            "bgpmon.v1.Bgpmon",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection"
        ]
    );

    // The file that defines the service, as grpcurl asks for it.
    let mut client = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "bgpmon.v1.Bgpmon".into(),
        )),
    };
    let response = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner()
        .next()
        .await
        .unwrap()
        .unwrap();
    let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
        panic!("not a file descriptor: {response:?}");
    };
    let file = &files.file_descriptor_proto[0];
    let contains = |needle: &[u8]| file.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"bgpmon/v1/bgpmon.proto"));
    for method in bgpmon_proto::METHODS {
        assert!(contains(method.as_bytes()), "{method}");
    }

    // An unknown symbol ends the stream with NOT_FOUND.
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol("no.Such".into())),
    };
    let response = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(response.code(), Code::NotFound, "{response:?}");

    // Older tools ask v1alpha.
    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let response = alpha
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner()
        .next()
        .await
        .unwrap()
        .unwrap();
    assert!(
        format!("{response:?}").contains("\"bgpmon.v1.Bgpmon\""),
        "{response:?}"
    );
    shutdown.cancel();
}

/// The value of the one sample line that starts with `series` (name and
/// labels), if there is one.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_counted_and_timed_by_method_and_code() {
    let h = Harness::start(&[]).await;
    h.server
        .open_session("local", Some("s1"), None)
        .await
        .unwrap();
    let (channel, metrics, shutdown) = serve(&h).await;
    let mut client = BgpmonClient::new(channel.clone());
    for _ in 0..2 {
        client
            .list_sessions(v1::ListSessionsRequest::default())
            .await
            .unwrap();
    }
    let err = client
        .get_session(v1::GetSessionRequest { id: "nope".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client.run_module(run_noop("anon")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    HealthClient::new(channel).check(check("")).await.unwrap();
    // A server stream counts once its status arrives, at its end.
    let mut stream = client
        .read_captures(v1::ReadCapturesRequest {
            session_id: "s1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    while stream.next().await.transpose().unwrap().is_some() {}

    let text = metrics.render_registry();
    let requests = |method: &str, code: &str| {
        sample(
            &text,
            &format!("bgpmon_rpc_requests_total{{method=\"{method}\",code=\"{code}\"}}"),
        )
    };
    assert_eq!(
        requests("bgpmon.v1.Bgpmon/ListSessions", "OK"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        requests("bgpmon.v1.Bgpmon/GetSession", "NOT_FOUND"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("bgpmon.v1.Bgpmon/RunModule", "UNAUTHENTICATED"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("grpc.health.v1.Health/Check", "OK"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests("bgpmon.v1.Bgpmon/ReadCaptures", "OK"),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("# TYPE bgpmon_rpc_request_duration_seconds histogram\n"));
    let labels = "method=\"bgpmon.v1.Bgpmon/ListSessions\",code=\"OK\"";
    assert_eq!(
        sample(
            &text,
            &format!("bgpmon_rpc_request_duration_seconds_count{{{labels}}}")
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("bgpmon_rpc_request_duration_seconds_bucket{{le=\"+Inf\",{labels}}}")
        )
        .or_else(|| sample(
            &text,
            &format!("bgpmon_rpc_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}")
        )),
        Some(2.0),
        "{text}"
    );
    shutdown.cancel();
}

/// Every `bgpmon_module*` sample line of a scrape.
/// Runs noop as `id`, waits for it to end, and returns the fuel it used.
async fn run(h: &Harness, id: String) -> u64 {
    h.server.run_module(RunRequest::new("noop", &id)).unwrap();
    let status = h.server.modules().wait(&id).await.unwrap();
    assert_eq!(status.state.name(), "finished", "{status:?}");
    status.counters.fuel_used
}

async fn module_series(h: &Harness) -> Vec<String> {
    let sessions = h.server.list_sessions().await.unwrap();
    Metrics::default()
        .render(&h.server, &sessions)
        .lines()
        .filter(|l| l.starts_with("bgpmon_module"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_series_stay_bounded_as_runs_come_and_go() {
    let h = Harness::start(&[guests::NOOP]).await;
    let mut used = run(&h, "first".into()).await;
    let after_one = module_series(&h).await;
    let names = |series: &[String]| -> Vec<String> {
        series
            .iter()
            .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
            .collect()
    };
    assert!(
        after_one.contains(&"bgpmon_modules{type=\"noop\",state=\"finished\"} 1".to_owned()),
        "{after_one:#?}"
    );
    let fuel = |series: &[String]| -> u64 {
        series
            .iter()
            .find_map(|l| l.strip_prefix("bgpmon_module_fuel_used_total{type=\"noop\"} "))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(fuel(&after_one), used);
    assert!(used > 0);

    // More runs than the host retains, and runs that replace an ended run
    // of the same id: both retire runs from the listing.
    let mut last = used;
    for i in 0..(bgpmon_host::MAX_RETAINED_RUNS + 20) {
        used += run(&h, format!("run-{i}")).await;
        if i % 3 == 0 {
            used += run(&h, "again".into()).await;
        }
        if i % 25 == 0 {
            let now = fuel(&module_series(&h).await);
            assert!(
                now > last,
                "a per-type counter went down: {last} then {now}"
            );
            last = now;
        }
    }
    let after_many = module_series(&h).await;
    assert_eq!(names(&after_one), names(&after_many), "{after_many:#?}");
    // The totals hold every run, retired or not.
    assert_eq!(fuel(&after_many), used, "{after_many:#?}");
    let listed = format!(
        "bgpmon_modules{{type=\"noop\",state=\"finished\"}} {}",
        bgpmon_host::MAX_RETAINED_RUNS
    );
    assert!(after_many.contains(&listed), "{after_many:#?}");
}
