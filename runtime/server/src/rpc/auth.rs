//! Bearer-token authentication of the RPCs that change state.
//!
//! When the config names a token file (`api_token_file`), every RPC listed
//! in [`PROTECTED_RPCS`] needs the header `authorization: Bearer <token>`;
//! a missing or wrong token gets `UNAUTHENTICATED`, and the daemon's log
//! names the RPC, never the token. Reads stay open, and so do the health
//! service (load balancers probe it without credentials) and reflection
//! (it shows only the schema, which is public). The check is a tower
//! layer over the whole gRPC router, keyed on the method path, so an RPC
//! added later is covered by adding its name to the table.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::codegen::Service;
use tonic::codegen::http;

use crate::config::ConfigError;

/// The gRPC service whose methods the table names.
const SERVICE_PATH: &str = "/bgpmon.v1.Bgpmon/";

/// The RPCs that change state, by method name. Each needs the token when
/// one is configured; every other RPC is open.
pub const PROTECTED_RPCS: &[&str] = &[
    "OpenSession",
    "CloseSession",
    "DeleteSession",
    "WriteCaptures",
    "WriteEntities",
    "DeleteCaptures",
    "RunModule",
    "CloseModule",
    "InstallModule",
    "RemoveModule",
];

/// The shortest token accepted, so a token file holding a stray character
/// is refused rather than trusted.
pub const MIN_TOKEN_BYTES: usize = 16;

/// The API's bearer token, read from the config's `api_token_file`.
#[derive(Clone)]
pub struct ApiToken {
    header: Arc<[u8]>,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

impl ApiToken {
    /// Reads the token from the file at `path` (surrounding whitespace is
    /// ignored).
    ///
    /// Returns an error naming the key `api_token_file` and the path if the
    /// file cannot be read, or holds a token shorter than
    /// [`MIN_TOKEN_BYTES`] or with whitespace or control characters inside.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let fail = |message: String| ConfigError {
            file: path.display().to_string(),
            key: "api_token_file".into(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| fail(format!("cannot read the token file: {e}")))?;
        Self::new(text.trim()).map_err(fail)
    }

    /// A token from its text.
    ///
    /// Returns an error saying what is wrong with it.
    pub fn new(token: &str) -> Result<Self, String> {
        if token.len() < MIN_TOKEN_BYTES {
            return Err(format!(
                "the token is {} bytes; use at least {MIN_TOKEN_BYTES}, such as the output of `openssl rand -hex 32`",
                token.len()
            ));
        }
        if token.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(
                "the token holds spaces or control characters; use printable ASCII only".into(),
            );
        }
        Ok(Self {
            header: format!("Bearer {token}").into_bytes().into(),
        })
    }

    /// Whether `header` (an `authorization` value) carries this token. The
    /// comparison takes the same time wherever the first difference is.
    fn admits(&self, header: &[u8]) -> bool {
        if header.len() != self.header.len() {
            return false;
        }
        header
            .iter()
            .zip(self.header.iter())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

/// The method name of a gRPC path, if it is one of this API's.
fn method(path: &str) -> Option<&str> {
    path.strip_prefix(SERVICE_PATH)
}

/// Whether the RPC at `path` needs the token.
pub fn is_protected(path: &str) -> bool {
    method(path).is_some_and(|m| PROTECTED_RPCS.contains(&m))
}

/// The layer that checks the token; without a token it lets everything
/// through.
#[derive(Clone, Debug, Default)]
pub struct AuthLayer {
    token: Option<ApiToken>,
}

impl AuthLayer {
    /// A layer that asks for `token` on the protected RPCs, or, with
    /// `None`, asks for nothing.
    pub fn new(token: Option<ApiToken>) -> Self {
        Self { token }
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            token: self.token.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around the router.
#[derive(Clone, Debug)]
pub struct Auth<S> {
    inner: S,
    token: Option<ApiToken>,
}

impl<S> Auth<S> {
    /// Checks `request`'s token; the error is the status to answer with.
    fn check<B>(&self, request: &http::Request<B>) -> Result<(), tonic::Status> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let path = request.uri().path();
        if !is_protected(path) {
            return Ok(());
        }
        let presented = request.headers().get(http::header::AUTHORIZATION);
        if presented.is_some_and(|h| token.admits(h.as_bytes())) {
            return Ok(());
        }
        let rpc = method(path).unwrap_or(path);
        tracing::warn!(
            rpc,
            token_given = presented.is_some(),
            "refused an RPC without a valid token"
        );
        Err(tonic::Status::unauthenticated(format!(
            "{rpc} needs the daemon's API token; pass --token-file FILE or set BGPMON_TOKEN"
        )))
    }
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for Auth<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        match self.check(&request) {
            Ok(()) => Box::pin(self.inner.call(request)),
            Err(status) => Box::pin(std::future::ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_changing_rpc_is_protected_and_reads_are_open() {
        for rpc in PROTECTED_RPCS {
            assert!(is_protected(&format!("/bgpmon.v1.Bgpmon/{rpc}")), "{rpc}");
        }
        for rpc in [
            "ListSessions",
            "ReadCaptures",
            "GetModuleStatus",
            "ListModules",
        ] {
            assert!(!is_protected(&format!("/bgpmon.v1.Bgpmon/{rpc}")), "{rpc}");
        }
        assert!(!is_protected("/other.Service/RunModule"));
    }

    #[test]
    fn tokens_are_checked_whole() {
        let token = ApiToken::new("0123456789abcdef").unwrap();
        assert!(token.admits(b"Bearer 0123456789abcdef"));
        assert!(!token.admits(b"Bearer 0123456789abcdeg"));
        assert!(!token.admits(b"Bearer 0123456789abcde"));
        assert!(!token.admits(b"0123456789abcdef"));
        assert!(ApiToken::new("short").unwrap_err().contains("at least 16"));
        assert!(ApiToken::new("has a space inside it").is_err());
        assert_eq!(format!("{token:?}"), "ApiToken(..)");
    }
}
