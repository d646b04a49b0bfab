//! The API over TLS: with a certificate and key configured it serves TLS
//! only, and the token check works the same inside it.

use std::path::Path;

use bgpmon_proto::v1::bgpmon_client::BgpmonClient;
use bgpmon_server::rpc::{ApiGuard, ApiToken};
use bgpmon_test_modules as guests;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::auth::{TOKEN, run_noop, serve_guarded, with_token};
use crate::util::Harness;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/server/tls")
        .join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_tls_with_the_token_inside() {
    let h = Harness::start(&[guests::NOOP]).await;
    let config = bgpmon_server::Config::parse(&format!(
        "tls_cert_file = {:?}\ntls_key_file = {:?}\n",
        fixture("server.pem"),
        fixture("server.key")
    ))
    .unwrap();
    let guard = ApiGuard {
        token: Some(ApiToken::new(TOKEN).unwrap()),
        tls: config.tls_identity().unwrap(),
    };
    let (url, shutdown) = serve_guarded(&h, guard).await;
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let ca = Certificate::from_pem(std::fs::read(fixture("ca.pem")).unwrap());
    let channel = Channel::from_shared(url.clone())
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(ca))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = BgpmonClient::new(channel);
    let err = client.run_module(run_noop("anon")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    client
        .run_module(with_token(run_noop("signed"), TOKEN))
        .await
        .unwrap();

    // A plain HTTP/2 client gets nothing from a TLS listener.
    let plain = url.replace("https://", "http://");
    if let Ok(mut plain) = BgpmonClient::connect(plain).await {
        let answer = plain
            .list_modules(bgpmon_proto::v1::ListModulesRequest {})
            .await;
        assert!(answer.is_err(), "{answer:?}");
    }
    shutdown.cancel();
}

#[test]
fn a_certificate_needs_its_key() {
    let err = bgpmon_server::Config::parse("tls_cert_file = \"cert.pem\"\n").unwrap_err();
    assert_eq!(err.key, "tls_key_file");
    let err = bgpmon_server::Config::parse("tls_key_file = \"key.pem\"\n").unwrap_err();
    assert_eq!(err.key, "tls_cert_file");
}
