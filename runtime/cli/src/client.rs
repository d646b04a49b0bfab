//! Connecting to the daemon and turning its statuses into messages.

use bgpmon_proto::v1::bgpmon_client::BgpmonClient;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The most bytes of one message the client sends or accepts; it matches
/// the daemon's limit.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// A connected API client.
pub type Client = BgpmonClient<InterceptedService<Channel, BearerToken>>;

/// Adds the API token, if there is one, to every request as
/// `authorization: Bearer <token>`.
#[derive(Clone, Debug, Default)]
pub struct BearerToken {
    header: Option<AsciiMetadataValue>,
}

impl BearerToken {
    /// A token from its text (surrounding whitespace is ignored); `None`
    /// sends no token.
    ///
    /// Returns an error if the token cannot go in a header.
    pub fn new(token: Option<&str>) -> anyhow::Result<Self> {
        let header = token
            .map(|t| {
                format!("Bearer {}", t.trim()).parse().map_err(|_| {
                    anyhow::anyhow!(
                        "the API token holds characters a header cannot carry; use printable ASCII"
                    )
                })
            })
            .transpose()?;
        Ok(Self { header })
    }

    /// The token in the file at `path`.
    ///
    /// Returns an error naming the file if it cannot be read.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the token file {}: {e}", path.display()))?;
        Self::new(Some(&text))
    }
}

impl Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(header) = &self.header {
            request
                .metadata_mut()
                .insert("authorization", header.clone());
        }
        Ok(request)
    }
}

/// Connects to the daemon at `addr` (`host:port`, or a full `http://` or
/// `https://` URL), sending `token` with every request. With `ca_file`
/// (a PEM certificate), it speaks TLS and trusts that CA; an `https://`
/// address needs one.
///
/// Returns an error naming the address if it is malformed or nothing
/// answers there, or naming the CA file if it cannot be read.
pub async fn connect(
    addr: &str,
    token: BearerToken,
    ca_file: Option<&std::path::Path>,
) -> anyhow::Result<Client> {
    let url = match (addr.contains("://"), ca_file.is_some()) {
        (true, _) => addr.to_owned(),
        (false, true) => format!("https://{addr}"),
        (false, false) => format!("http://{addr}"),
    };
    let mut endpoint = Channel::from_shared(url.clone())
        .map_err(|e| anyhow::anyhow!("invalid daemon address {addr:?}: {e}; give host:port"))?;
    match ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("cannot read the CA file {}: {e}", path.display()))?;
            let tls = tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(pem));
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| anyhow::anyhow!("cannot set up TLS to {addr}: {e}"))?;
        }
        None if url.starts_with("https://") => anyhow::bail!(
            "{addr} is an https address; pass --ca-file FILE with the CA that signed the daemon's certificate"
        ),
        None => {}
    }
    let channel = endpoint.connect().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to bgpmond at {addr} ({e}); is it running? start it with `bgpmond --config FILE` or pass --addr"
        )
    })?;
    Ok(BgpmonClient::with_interceptor(channel, token)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES))
}

/// A daemon error as the CLI reports it: the daemon's message, which names
/// the problem and what to do.
#[expect(
    clippy::needless_pass_by_value,
    reason = "it is used as `map_err(status_error)`, which passes the status by value"
)]
pub fn status_error(status: tonic::Status) -> anyhow::Error {
    let message = status.message();
    if message.is_empty() {
        anyhow::anyhow!("the daemon answered {:?}", status.code())
    } else {
        anyhow::anyhow!("{message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_rides_in_the_authorization_header() {
        let mut token = BearerToken::new(Some(" abc123\n")).unwrap();
        let request = token.call(tonic::Request::new(())).unwrap();
        assert_eq!(
            request.metadata().get("authorization").unwrap(),
            "Bearer abc123"
        );
        let mut none = BearerToken::new(None).unwrap();
        let request = none.call(tonic::Request::new(())).unwrap();
        assert!(request.metadata().get("authorization").is_none());
        assert!(BearerToken::new(Some("bad\u{7f}token")).is_err());
    }
}
