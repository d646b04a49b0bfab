//! Counting and timing every gRPC call by method and status code.
//!
//! [`RpcMetricsLayer`] wraps the whole gRPC router (the API, health and
//! reflection). A call is recorded once, when its status is known:
//! - from the response headers, for a call that fails before any message
//!   (a trailers-only response, such as a refused token);
//! - from the trailers, for every other call, so a streaming call counts
//!   when its stream ends and its duration spans the whole stream;
//! - as `UNKNOWN` when the body ends or fails without a status, and as
//!   `CANCELLED` when the body is dropped first (the client went away).
//!
//! The method label is taken only from the known methods, never from what a
//! client sends, so a client cannot grow the number of series: every other
//! path counts as `unknown`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use tonic::Code;
use tonic::codegen::{Service, http};

/// The upper bounds of the latency histogram's buckets, in seconds: from
/// a cached read (under a millisecond) to a long import stream.
pub const RPC_DURATION_BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
    300.0,
];

/// The gRPC services served beside the API, with their methods.
const OTHER_METHODS: &[&str] = &[
    "grpc.health.v1.Health/Check",
    "grpc.health.v1.Health/Watch",
    "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The method label of paths that name no known method.
const UNKNOWN_METHOD: &str = "unknown";

/// The labels of one call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    /// `package.Service/Method`, or `unknown`.
    method: String,
    /// The status code's name in the gRPC spec, such as `NOT_FOUND`.
    code: &'static str,
}

fn duration_histogram() -> Histogram {
    Histogram::new(RPC_DURATION_BUCKETS)
}

/// The RPC families: requests by method and code, and their latency.
#[derive(Debug)]
pub(crate) struct RpcMetrics {
    requests: Family<CallLabels, Counter>,
    duration: Family<CallLabels, Histogram, fn() -> Histogram>,
    /// Every known method as `package.Service/Method`.
    methods: Vec<String>,
}

impl RpcMetrics {
    /// The RPC families, registered in `registry` as
    /// `bgpmon_rpc_requests_total` and
    /// `bgpmon_rpc_request_duration_seconds`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let requests = Family::<CallLabels, Counter>::default();
        let duration = Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register(
            "bgpmon_rpc_requests",
            "gRPC calls ended, by method and status code.",
            requests.clone(),
        );
        registry.register_with_unit(
            "bgpmon_rpc_request_duration",
            "Time from a gRPC call's arrival to its status, by method and status code.",
            Unit::Seconds,
            duration.clone(),
        );
        let api = bgpmon_proto::v1::bgpmon_server::SERVICE_NAME;
        let methods = bgpmon_proto::METHODS
            .iter()
            .map(|m| format!("{api}/{m}"))
            .chain(OTHER_METHODS.iter().map(|m| (*m).to_owned()))
            .collect();
        Self {
            requests,
            duration,
            methods,
        }
    }

    /// The method label of a request path.
    fn method(&self, path: &str) -> String {
        let name = path.strip_prefix('/').unwrap_or(path);
        self.methods
            .iter()
            .find(|m| *m == name)
            .map_or(UNKNOWN_METHOD, String::as_str)
            .to_owned()
    }

    fn record(&self, method: &str, code: Code, started: Instant) {
        let labels = CallLabels {
            method: method.to_owned(),
            code: code_name(code),
        };
        self.requests.get_or_create(&labels).inc();
        self.duration
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}

/// A status code's name as the gRPC spec writes it.
pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The `grpc-status` of a header map, if it has one.
fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    let value = headers.get("grpc-status")?;
    Some(Code::from_bytes(value.as_bytes()))
}

/// One call not yet recorded; recorded as `CANCELLED` if dropped so.
struct Call {
    metrics: Arc<RpcMetrics>,
    method: String,
    started: Instant,
    recorded: bool,
}

impl Call {
    fn finish(&mut self, code: Code) {
        if !self.recorded {
            self.recorded = true;
            self.metrics.record(&self.method, code, self.started);
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

/// The layer that records every call in the RPC families.
#[derive(Clone, Debug)]
pub struct RpcMetricsLayer {
    metrics: Arc<RpcMetrics>,
}

impl RpcMetricsLayer {
    pub(crate) fn new(metrics: Arc<RpcMetrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower_layer::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;

    fn layer(&self, inner: S) -> RpcMetricsService<S> {
        RpcMetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`RpcMetricsLayer`] wraps around the router.
#[derive(Clone, Debug)]
pub struct RpcMetricsService<S> {
    inner: S,
    metrics: Arc<RpcMetrics>,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for RpcMetricsService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: http_body::Body + Unpin + Send + 'static,
{
    type Response = http::Response<ObservedBody<ResBody>>;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let mut call = Call {
            method: self.metrics.method(request.uri().path()),
            metrics: self.metrics.clone(),
            started: Instant::now(),
            recorded: false,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            // A router error drops `call`, counting the call as cancelled.
            let response = response.await?;
            if let Some(code) = grpc_status(response.headers()) {
                call.finish(code);
            }
            Ok(response.map(|body| ObservedBody { body, call }))
        })
    }
}

/// A response body that records its call when its status passes.
pub struct ObservedBody<B> {
    body: B,
    call: Call,
}

impl<B> std::fmt::Debug for ObservedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedBody")
            .field("method", &self.call.method)
            .finish_non_exhaustive()
    }
}

impl<B: http_body::Body + Unpin> http_body::Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.call.finish(code);
                }
            }
            Poll::Ready(Some(Err(_)) | None) => this.call.finish(Code::Unknown),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_methods_become_labels() {
        let metrics = RpcMetrics::register(&mut Registry::default());
        assert_eq!(
            metrics.method("/bgpmon.v1.Bgpmon/ListSessions"),
            "bgpmon.v1.Bgpmon/ListSessions"
        );
        assert_eq!(
            metrics.method("/grpc.health.v1.Health/Check"),
            "grpc.health.v1.Health/Check"
        );
        assert_eq!(metrics.method("/bgpmon.v1.Bgpmon/NoSuchCall"), "unknown");
        assert_eq!(
            metrics.method("/x/../bgpmon.v1.Bgpmon/ListSessions"),
            "unknown"
        );
    }

    #[test]
    fn a_dropped_call_counts_as_cancelled_once() {
        let mut registry = Registry::default();
        let metrics = Arc::new(RpcMetrics::register(&mut registry));
        let mut call = Call {
            metrics: metrics.clone(),
            method: "grpc.health.v1.Health/Watch".into(),
            started: Instant::now(),
            recorded: false,
        };
        call.finish(Code::Ok);
        drop(call);
        drop(Call {
            metrics,
            method: "grpc.health.v1.Health/Watch".into(),
            started: Instant::now(),
            recorded: false,
        });
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(
                "bgpmon_rpc_requests_total{method=\"grpc.health.v1.Health/Watch\",code=\"OK\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "bgpmon_rpc_requests_total{method=\"grpc.health.v1.Health/Watch\",code=\"CANCELLED\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("bgpmon_rpc_request_duration_seconds_count{method=\"grpc.health.v1.Health/Watch\",code=\"OK\"} 1\n"),
            "{text}"
        );
    }
}
