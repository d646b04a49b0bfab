//! The network face of the server: the gRPC API (with health checking
//! and reflection on the same port) and the metrics endpoint.

mod auth;
mod capture_wire;
mod convert;
mod metrics;
mod observe;
#[cfg(target_os = "linux")]
mod process;
mod service;
mod status;
pub mod untrusted;

use std::sync::Arc;

use bgpmon_proto::v1::bgpmon_server::BgpmonServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;

pub use auth::{ApiToken, Auth, AuthLayer, MIN_TOKEN_BYTES, PROTECTED_RPCS, is_protected};
pub(crate) use capture_wire::decode_capture;
pub use metrics::{CONTENT_TYPE, Metrics, MetricsBuilder};
pub use observe::{ObservedBody, RPC_DURATION_BUCKETS, RpcMetricsLayer, RpcMetricsService};
pub use service::{BgpmonService, DEFAULT_READ_BATCH};

use crate::server::Server;

/// The largest message the API accepts or sends: big enough for a module
/// upload of an interpreted language (tens of MiB), small enough to bound
/// one request's memory.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// How the API is guarded.
///
/// By default it is not: no token, plain HTTP/2.
#[derive(Clone, Debug, Default)]
pub struct ApiGuard {
    /// The bearer token the RPCs that change state need (see
    /// [`AuthLayer`]).
    pub token: Option<ApiToken>,
    /// The TLS identity the API serves with; without one it serves plain
    /// HTTP/2.
    pub tls: Option<tonic::transport::Identity>,
}

/// Why the gRPC API could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The TLS identity is unusable, or the transport failed.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
    /// The reflection service refused the built-in descriptor set (a bug
    /// of the build).
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Serves the gRPC API on `listener` until `shutdown` is cancelled, guarded
/// by `guard`, with on the same port:
/// - `grpc.health.v1.Health`, reporting `SERVING` for the whole server
///   (service `""`) and for `bgpmon.v1.Bgpmon` until shutdown begins,
///   then `NOT_SERVING`; it needs no token, so load balancers can probe;
/// - `grpc.reflection.v1` and `v1alpha`, describing the API and health
///   services; open like every read, since it shows only the schema.
///
/// Every call is counted and timed in `metrics` by method and status code.
///
/// Returns an error if the TLS identity is unusable or the transport
/// fails.
pub async fn serve_rpc(
    listener: TcpListener,
    server: Server,
    metrics: Arc<Metrics>,
    guard: ApiGuard,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<BgpmonServer<BgpmonService>>().await;
    health
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown.cancelled().await;
            health
                .set_not_serving::<BgpmonServer<BgpmonService>>()
                .await;
            health
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
        }
    });
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(bgpmon_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    let rpc_layer = metrics.rpc_layer();
    let service = BgpmonService::new(server, metrics, shutdown.clone());
    // Without TCP_NODELAY a small reply can wait out a delayed ACK (40 ms).
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = tonic::transport::Server::builder();
    if let Some(identity) = guard.tls {
        builder =
            builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    // The metrics layer is outermost, so refused tokens count too.
    builder
        .layer(rpc_layer)
        .layer(AuthLayer::new(guard.token))
        .add_service(
            BgpmonServer::new(service)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Serves `GET /metrics` on `listener` until `shutdown` is cancelled.
///
/// Returns an error if the listener fails.
pub async fn serve_metrics(
    listener: TcpListener,
    server: Server,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (metrics, server) = (metrics.clone(), server.clone());
            async move {
                // A store that fails to list shows no session series.
                let sessions = server.list_sessions().await.unwrap_or_default();
                let body = metrics.render(&server, &sessions);
                ([(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)], body)
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
