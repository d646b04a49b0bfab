//! Sessions through the CLI, and the CLI's errors and exit codes.

use crate::util::Daemon;

#[test]
fn sessions_open_list_describe_and_close() {
    let d = Daemon::start(&[]);
    let types = d.ok(&["session", "types"]);
    assert!(
        types.lines().nth(1).unwrap().starts_with("local "),
        "{types}"
    );

    assert_eq!(
        d.ok(&["session", "open", "local", "--id", "s1", "--workers", "2"]),
        "s1\n"
    );
    let made_up = d.ok(&["session", "open", "local"]);
    assert!(made_up.starts_with("local-"), "{made_up}");
    let list = d.ok(&["session", "list"]);
    assert!(list.contains("s1 "), "{list}");
    let info = d.ok(&["session", "info", "s1"]);
    assert!(info.contains("workers: 2\n"), "{info}");

    // Opening a stored session again reopens it.
    assert_eq!(d.ok(&["session", "open", "local", "--id", "s1"]), "s1\n");
    let err = d.fails(&["session", "open", "nope"]);
    assert!(
        err.starts_with("error: unknown session type \"nope\"; configured types: local"),
        "{err}"
    );
    d.ok(&["session", "close", "s1"]);
    let info = d.ok(&["session", "info", "s1"]);
    assert!(
        info.contains("open: no\n"),
        "closing keeps the data: {info}"
    );
    let err = d.fails(&["session", "delete", "s1"]);
    assert!(err.contains("pass --yes to confirm"), "{err}");
    assert_eq!(
        d.ok(&["session", "delete", "s1", "--yes"]),
        "s1: deleted with 0 captures\n"
    );
    let err = d.fails(&["session", "info", "s1"]);
    assert!(err.starts_with("error: unknown session \"s1\""), "{err}");
    let err = d.fails(&["read", "count", "ghost"]);
    assert!(err.contains("unknown session \"ghost\""), "{err}");
}

#[test]
fn usage_errors_exit_2_and_unreachable_daemons_exit_1() {
    let d = Daemon::start(&[]);
    let out = d.cli(&["session", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = d.cli(&["read", "count", "s", "--start", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects a bad date");
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
    let out = d.cli(&["read", "count", "s", "--prefix", "10.0.0.0/33"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects a bad prefix");

    let out = std::process::Command::new(crate::util::BGPMON)
        .args(["--addr", "127.0.0.1:1", "session", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: cannot connect to bgpmond at 127.0.0.1:1"),
        "{err}"
    );
}
