//! Connecting to the daemon and turning its statuses into messages.

use bgpmon_proto::v1::bgpmon_client::BgpmonClient;
use tonic::transport::Channel;

/// The most bytes of one message the client sends or accepts; it matches
/// the daemon's limit.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// A connected API client.
pub type Client = BgpmonClient<Channel>;

/// Connects to the daemon at `addr` (`host:port`, or a full `http://` URL).
///
/// Returns an error naming the address if it is malformed or nothing
/// answers there.
pub async fn connect(addr: &str) -> anyhow::Result<Client> {
    let url = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    let endpoint = Channel::from_shared(url.clone())
        .map_err(|e| anyhow::anyhow!("invalid daemon address {addr:?}: {e}; give host:port"))?;
    let channel = endpoint.connect().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot connect to bgpmond at {addr} ({e}); is it running? start it with `bgpmond --config FILE` or pass --addr"
        )
    })?;
    Ok(BgpmonClient::new(channel)
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
