//! The network face of the server: the gRPC API and the metrics endpoint.

mod auth;
mod capture_wire;
mod convert;
mod metrics;
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
pub use metrics::Metrics;
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

/// Serves the gRPC API on `listener` until `shutdown` is cancelled, guarded
/// by `guard`.
///
/// Returns an error if the TLS identity is unusable or the transport
/// fails.
pub async fn serve_rpc(
    listener: TcpListener,
    server: Server,
    metrics: Arc<Metrics>,
    guard: ApiGuard,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    let service = BgpmonService::new(server, metrics, shutdown.clone());
    // Without TCP_NODELAY a small reply can wait out a delayed ACK (40 ms).
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = tonic::transport::Server::builder();
    if let Some(identity) = guard.tls {
        builder =
            builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    builder
        .layer(AuthLayer::new(guard.token))
        .add_service(
            BgpmonServer::new(service)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
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
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    body,
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
