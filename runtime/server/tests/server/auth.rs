//! The API's bearer token: the RPCs that change state need it once the
//! config names a token file, reads stay open, and the daemon's log names
//! a refused RPC but never a token.

use std::sync::Arc;

use bgpmon_proto::v1::{self, bgpmon_client::BgpmonClient};
use bgpmon_server::rpc::{ApiGuard, ApiToken, Metrics, serve_rpc};
use bgpmon_test_modules as guests;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;

use crate::util::{Harness, logged_lines, logged_text};

pub(crate) const TOKEN: &str = "s3cr3t-t0ken-of-the-auth-test-0123456789";

/// Serves the harness's server on a free loopback port, with `token`.
async fn serve(h: &Harness, token: Option<ApiToken>) -> (String, CancellationToken) {
    serve_guarded(h, ApiGuard { token, tls: None }).await
}

/// Serves the harness's server on a free loopback port, guarded by `guard`.
pub(crate) async fn serve_guarded(h: &Harness, guard: ApiGuard) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if guard.tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    tokio::spawn(serve_rpc(
        listener,
        h.server.clone(),
        Arc::new(Metrics::default()),
        guard,
        shutdown.clone(),
    ));
    (url, shutdown)
}

pub(crate) fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

pub(crate) fn run_noop(id: &str) -> v1::RunModuleRequest {
    v1::RunModuleRequest {
        type_name: "noop".into(),
        id: id.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changing_rpcs_need_the_token() {
    let h = Harness::start(&[guests::NOOP]).await;
    let file = h.dir.path().join("api-token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let token = ApiToken::load(&file).unwrap();
    let (url, shutdown) = serve(&h, Some(token)).await;
    let mut client: BgpmonClient<Channel> = BgpmonClient::connect(url).await.unwrap();

    let err = client.run_module(run_noop("anon")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(
        err.message(),
        "RunModule needs the daemon's API token; pass --token-file FILE or set BGPMON_TOKEN"
    );
    let err = client
        .run_module(with_token(run_noop("wrong"), "not-the-token-0123456789"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(h.server.module_status("anon").is_err());
    assert!(h.server.module_status("wrong").is_err());

    let open = v1::OpenSessionRequest {
        session_type: "local".into(),
        id: "s1".into(),
        workers: 0,
    };
    let err = client.open_session(open.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = client
        .close_module(v1::CloseModuleRequest { id: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = client
        .install_module(v1::InstallModuleRequest {
            wasm: vec![0; 8],
            replace: true,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let err = client
        .remove_module(v1::RemoveModuleRequest {
            type_name: "noop".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(h.server.list_sessions().await.unwrap().is_empty());

    // Reads stay open.
    client
        .list_modules(v1::ListModulesRequest {})
        .await
        .unwrap();
    client
        .list_module_types(v1::ListModuleTypesRequest {})
        .await
        .unwrap();

    // With the token, everything works.
    client.open_session(with_token(open, TOKEN)).await.unwrap();
    let mut run = run_noop("signed");
    run.wait = true;
    let status = client
        .run_module(with_token(run, TOKEN))
        .await
        .unwrap()
        .into_inner()
        .status
        .unwrap();
    assert_eq!(status.state, i32::from(v1::ModuleState::Finished));

    // The log names the refused RPC, never a token.
    let refused = logged_lines("refused an RPC without a valid token");
    assert!(
        refused.iter().any(|l| l.contains("rpc=\"RunModule\"")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|l| l.contains("rpc=\"OpenSession\"")),
        "{refused:?}"
    );
    let log = logged_text();
    assert!(!log.contains(TOKEN));
    assert!(!log.contains("not-the-token"));
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_file_the_api_is_open() {
    let h = Harness::start(&[guests::NOOP]).await;
    let (url, shutdown) = serve(&h, None).await;
    let mut client: BgpmonClient<Channel> = BgpmonClient::connect(url).await.unwrap();
    client.run_module(run_noop("open")).await.unwrap();
    shutdown.cancel();
}

#[test]
fn a_bad_token_file_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let config = bgpmon_server::Config::parse(&format!("api_token_file = {missing:?}\n")).unwrap();
    let err = config.api_token().unwrap_err();
    assert_eq!(err.key, "api_token_file");
    assert!(err.message.contains("cannot read the token file"), "{err}");
    let short = dir.path().join("short");
    std::fs::write(&short, "abc").unwrap();
    let err = ApiToken::load(&short).unwrap_err();
    assert!(err.message.contains("use at least 16"), "{err}");
}
