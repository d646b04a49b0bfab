//! The API's bearer token and TLS, through the CLI's flags and environment.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::util::{BGPMON, Daemon, config_text};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// Starts a daemon whose config begins with `top` (keys before any table).
fn daemon_with(top: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("modules")).unwrap();
    let text = format!("{top}\n{}", config_text(dir.path(), ""));
    std::fs::write(dir.path().join("bgpmond.toml"), text).unwrap();
    Daemon::start_in(dir)
}

/// Runs `bgpmon` against `addr` with `env` set and BGPMON_TOKEN cleared.
fn cli(addr: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(BGPMON);
    command
        .args(args)
        .env("BGPMON_ADDR", addr)
        .env_remove("BGPMON_TOKEN")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_token_file_guards_changes_and_the_cli_sends_it_from_a_flag_or_the_environment() {
    let secrets = tempfile::tempdir().unwrap();
    let token_file = secrets.path().join("token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let wrong_file = secrets.path().join("wrong");
    std::fs::write(&wrong_file, "not-the-token-but-long-enough").unwrap();
    let d = daemon_with(&format!("api_token_file = {token_file:?}"));
    let open = ["session", "open", "local", "--id", "s"];

    let refused = cli(&d.addr, &[], &open);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("token"), "{}", stderr(&refused));
    let wrong = cli(
        &d.addr,
        &[],
        &[&["--token-file", wrong_file.to_str().unwrap()], &open[..]].concat(),
    );
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    // Reading needs no token; nothing was opened by the refused calls.
    d.fails(&["session", "info", "s"]);

    let by_flag = cli(
        &d.addr,
        &[],
        &[&["--token-file", token_file.to_str().unwrap()], &open[..]].concat(),
    );
    assert!(by_flag.status.success(), "{}", stderr(&by_flag));
    let by_env = cli(
        &d.addr,
        &[("BGPMON_TOKEN", TOKEN)],
        &["session", "open", "local", "--id", "t"],
    );
    assert!(by_env.status.success(), "{}", stderr(&by_env));
    d.ok(&["session", "info", "s"]);
    d.ok(&["session", "info", "t"]);
    assert!(
        !d.log().contains(TOKEN),
        "the daemon's log never holds the token"
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

/// Makes a CA (`ca.pem`) and a server certificate it signs for 127.0.0.1
/// (`cert.pem`, `key.pem`) in `dir`, as an operator would with openssl.
fn certificates(dir: &Path, name: &str) {
    // A new P-256 key, unencrypted, for `openssl req`.
    let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    let ca = format!("req -x509 {new_key} -keyout ca-key.pem -out ca.pem -days 2");
    let ca_subject = format!("/CN={name} CA");
    let args: Vec<&str> = ca.split(' ').chain(["-subj", &ca_subject]).collect();
    openssl(dir, &args);
    let csr = format!("req {new_key} -keyout key.pem -out cert.csr -subj /CN=bgpmond");
    openssl(dir, &csr.split(' ').collect::<Vec<_>>());
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n\
         extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "cert.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[test]
fn tls_serves_a_cli_that_trusts_its_ca_and_refuses_one_that_does_not() {
    let certs = tempfile::tempdir().unwrap();
    certificates(certs.path(), "bgpmon");
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    let ca = certs.path().join("ca.pem");
    let d = daemon_with(&format!("tls_cert_file = {cert:?}\ntls_key_file = {key:?}"));

    let trusted = cli(
        &d.addr,
        &[],
        &[
            "--ca-file",
            ca.to_str().unwrap(),
            "session",
            "open",
            "local",
            "--id",
            "s",
        ],
    );
    assert!(trusted.status.success(), "{}", stderr(&trusted));
    let info = cli(
        &d.addr,
        &[],
        &["--ca-file", ca.to_str().unwrap(), "session", "info", "s"],
    );
    assert!(info.status.success(), "{}", stderr(&info));

    // Plain HTTP/2 to a TLS port, and TLS trusting another CA, both fail.
    let plain = cli(&d.addr, &[], &["session", "list"]);
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));
    let other = tempfile::tempdir().unwrap();
    certificates(other.path(), "other");
    let untrusted = cli(
        &d.addr,
        &[],
        &[
            "--ca-file",
            other.path().join("ca.pem").to_str().unwrap(),
            "session",
            "list",
        ],
    );
    assert_eq!(untrusted.status.code(), Some(1), "{}", stderr(&untrusted));
}
