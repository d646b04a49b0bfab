//! Sessions as persistent, isolated datasets; safe loads; deletes; a
//! configured daemon module's session created at startup (issue 7).

use std::process::{Command, Stdio};

use bgpmon_test_modules as guests;

use crate::util::{BGPMON, Daemon, mrt};

fn count(d: &Daemon, session: &str, extra: &[&str]) -> u64 {
    let mut args = vec!["read", "count", session];
    args.extend_from_slice(extra);
    d.ok(&args).trim().parse().unwrap()
}

/// The import rows of `session info`: (id, state, captures).
fn imports(d: &Daemon, session: &str) -> Vec<(u32, String, u64)> {
    let info = d.ok(&["session", "info", session]);
    info.lines()
        .skip_while(|l| !l.trim_start().starts_with("ID "))
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].parse().unwrap(),
                f[1].to_owned(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn data_written_to_one_session_never_appears_in_another() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "a"]);
    d.ok(&["session", "open", "local", "--id", "b"]);
    d.ok(&["write", "captures", "a", file.to_str().unwrap()]);
    assert_eq!(count(&d, "a", &[]), 761);
    assert_eq!(count(&d, "b", &[]), 0);
    assert_eq!(d.ok(&["read", "captures", "b", "--format", "json"]), "");
    let list = d.ok(&["session", "list"]);
    let rows: Vec<Vec<&str>> = list
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{list}");
    assert_eq!(&rows[0][..4], ["a", "local", "yes", "761"], "{list}");
    assert_eq!(&rows[1][..4], ["b", "local", "yes", "0"], "{list}");
    let stored: u64 = rows[0][4].parse().unwrap();
    assert!(stored > 0, "bytes stored are shown: {list}");
}

#[test]
fn a_repeated_file_is_refused_forced_or_replaced_when_partial() {
    let (Some(small), Some(cut)) = (
        mrt("ris.rrc06.updates.1427846400.gz"),
        mrt("routeviews-route-views2.rib.20140523.0600.first1MB.truncated.bz2"),
    ) else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let out = d.ok(&["write", "captures", "s", small.to_str().unwrap()]);
    assert!(out.contains("761 captures stored"), "{out}");
    assert!(out.contains(", import 1)"), "{out}");

    let out = d.cli(&["write", "captures", "s", small.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was already imported completely into session \"s\" as import 1"),
        "{err}"
    );
    assert!(err.contains("pass --force"), "{err}");
    assert_eq!(count(&d, "s", &[]), 761, "a refused load stores nothing");

    d.ok(&["write", "captures", "s", "--force", small.to_str().unwrap()]);
    assert_eq!(count(&d, "s", &[]), 1522);

    // A cut file is a partial import; loading it again replaces it.
    let out = d.cli(&["write", "captures", "s", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("import 3 partial"), "{stdout}");
    let once = count(&d, "s", &[]) - 1522;
    assert!(once > 0);
    let out = d.cli(&["write", "captures", "s", cut.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("replaced partial import 3"), "{stdout}");
    assert_eq!(count(&d, "s", &[]) - 1522, once, "stored once, not twice");
    let rows = imports(&d, "s");
    let states: Vec<(u32, &str)> = rows.iter().map(|(i, s, _)| (*i, s.as_str())).collect();
    assert_eq!(
        states,
        [(1, "complete"), (2, "complete"), (4, "partial")],
        "{rows:?}"
    );
    assert_eq!(rows[0].2, 761);
    assert_eq!(rows[2].2, once);
}

#[test]
fn a_killed_load_is_partial_and_a_reload_leaves_one_copy() {
    let Some(file) = mrt("pch-as3856.bgp4mp-et.fullfeed.20151023.gz") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let mut load = Command::new(BGPMON)
        .args(["--addr", &d.addr, "write", "captures", "s"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the client once the daemon has committed part of the file.
    loop {
        let rows = imports(&d, "s");
        if rows.first().is_some_and(|r| r.2 > 0) {
            break;
        }
        if let Some(status) = load.try_wait().unwrap() {
            panic!("the load ended before it could be killed: {status}");
        }
        std::thread::yield_now();
    }
    load.kill().unwrap();
    load.wait().unwrap();
    let rows = imports(&d, "s");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, "partial", "{rows:?}");
    let partial = count(&d, "s", &[]);
    assert_eq!(partial, rows[0].2);
    assert!(partial < 89_679, "killed before the end: {partial}");

    let out = d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    assert!(out.contains("replaced partial import 1"), "{out}");
    assert_eq!(count(&d, "s", &[]), 89_679);
    let rows = imports(&d, "s");
    assert_eq!(rows, [(2, "complete".to_owned(), 89_679)]);
}

#[test]
fn captures_are_deleted_by_import_and_by_filter() {
    let (Some(a), Some(b)) = (
        mrt("ris.rrc06.updates.1427846400.gz"),
        mrt("routeviews.route-views.jinx.updates.1427846400.bz2"),
    ) else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&[
        "write",
        "captures",
        "s",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(count(&d, "s", &[]), 761 + 1756);

    let err = d.fails(&["delete", "captures", "s"]);
    assert!(err.contains("name what to delete"), "{err}");
    assert_eq!(
        d.ok(&["delete", "captures", "s", "--import", "1"]),
        "s: 761 captures deleted\n"
    );
    assert_eq!(count(&d, "s", &[]), 1756);
    assert_eq!(imports(&d, "s").len(), 1);
    let err = d.fails(&["delete", "captures", "s", "--import", "1"]);
    assert!(err.contains("session \"s\" has no import 1"), "{err}");

    let peer = count(&d, "s", &["--peer-as", "37105"]);
    assert!(peer > 0 && peer < 1756);
    assert_eq!(
        d.ok(&["delete", "captures", "s", "--peer-as", "37105"]),
        format!("s: {peer} captures deleted\n")
    );
    assert_eq!(count(&d, "s", &["--peer-as", "37105"]), 0);
    assert_eq!(count(&d, "s", &[]), 1756 - peer);

    // The same file loads again into an emptied import slot, so deleting
    // made room for it.
    d.ok(&["write", "captures", "s", a.to_str().unwrap()]);
    assert_eq!(count(&d, "s", &[]), 1756 - peer + 761);
}

#[test]
fn a_configured_daemon_module_gets_its_session_at_startup() {
    let d = Daemon::start_with(
        &[guests::EXAMPLE_DAEMON],
        "[modules.watch]\ntype = \"example-daemon\"\noptions = { session = \"live\" }\ngrants = { sessions = [\"live\"] }\n",
    );
    let list = d.ok(&["module", "list"]);
    assert!(list.contains("watch"), "{list}");
    assert!(!list.contains("failed"), "{list}");
    let sessions = d.ok(&["session", "list"]);
    assert!(
        sessions.lines().any(|l| l.starts_with("live ")),
        "{sessions}"
    );
}

/// Loads `files` into a fresh daemon, stops it, and returns the store
/// file's size and the files' size.
fn stored_size(files: &[&str]) -> Option<(u64, u64)> {
    let paths: Vec<std::path::PathBuf> = files.iter().map(|f| mrt(f)).collect::<Option<_>>()?;
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let mut args = vec!["write", "captures", "s"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    d.ok(&args);
    let (dir, status) = d.stop();
    assert!(status.success());
    let store = std::fs::metadata(dir.path().join("bgpmon.redb"))
        .unwrap()
        .len();
    let mrt: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    Some((store, mrt))
}

/// The store, indexes included, stays within 3x the compressed MRT it was
/// loaded from, whatever the load order. Sizes are deterministic for a
/// given build, so this is a plain bound, not a timing.
#[test]
fn the_store_stays_within_three_times_its_mrt_in_any_load_order() {
    let three = [
        "ris-rrc00.updates.20190101.0000.gz",
        "routeviews-route-views2.rib.20140523.0600.first1MB.complete.bz2",
        "pch-as3856.bgp4mp-et.fullfeed.20151023.gz",
    ];
    let mut reversed = three;
    reversed.reverse();
    let all = [
        "pch-as3856.bgp4mp-et.fullfeed.20151023.gz",
        "ris-rrc00.updates.20190101.0000.gz",
        "ris-rrc21.updates.20160811.1600.gz",
        "ris.bview.20190417.0800.2peers.gz",
        "ris.rrc06.updates.1427846400.gz",
        "routeviews-route-views2.rib.20140523.0600.first1MB.complete.bz2",
        "routeviews-route-views2.updates.20130101.0013.mrt",
        "routeviews-route-views2.updates.20260222.1530.bz2",
        "routeviews-route-views6.rib.20151101.0600.first1MB.complete.bz2",
        "routeviews.route-views.jinx.updates.1427846400.bz2",
    ];
    for files in [&three[..], &reversed[..], &all[..]] {
        let Some((store, mrt)) = stored_size(files) else {
            return;
        };
        let ratio = store as f64 / mrt as f64;
        eprintln!("{files:?}: store {store} bytes for {mrt} bytes of MRT, {ratio:.2}x");
        assert!(
            ratio <= 3.0,
            "{files:?}: {store} bytes for {mrt}: {ratio:.2}x"
        );
    }
}

mod cursor {
    //! Read cursors through a real gRPC client.

    use bgpmon_proto::v1;
    use bgpmon_proto::v1::bgpmon_client::BgpmonClient;
    use tonic::transport::Channel;

    use crate::util::{Daemon, mrt};

    fn request(follow: bool, cursor: &str) -> v1::ReadCapturesRequest {
        v1::ReadCapturesRequest {
            session_id: "s".into(),
            filter: None,
            follow,
            batch_size: 50,
            cursor: cursor.into(),
        }
    }

    /// Reads responses until `want` captures came, and returns them with
    /// the last cursor.
    async fn take(
        client: &mut BgpmonClient<Channel>,
        request: v1::ReadCapturesRequest,
        want: usize,
    ) -> (Vec<v1::Capture>, String) {
        let mut stream = client.read_captures(request).await.unwrap().into_inner();
        let (mut got, mut cursor) = (Vec::new(), String::new());
        while got.len() < want {
            let Some(response) = stream.message().await.unwrap() else {
                break;
            };
            got.extend(response.captures);
            cursor = response.cursor;
        }
        (got, cursor)
    }

    #[test]
    fn a_read_resumes_from_its_cursor_with_no_gap_and_no_duplicate() {
        let (Some(first), Some(second)) = (
            mrt("ris.rrc06.updates.1427846400.gz"),
            mrt("routeviews.route-views.jinx.updates.1427846400.bz2"),
        ) else {
            return;
        };
        let d = Daemon::start(&[]);
        d.ok(&["session", "open", "local", "--id", "s"]);
        d.ok(&["write", "captures", "s", first.to_str().unwrap()]);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let mut client = BgpmonClient::connect(format!("http://{}", d.addr))
                .await
                .unwrap();
            let (all, _) = take(&mut client, request(false, ""), usize::MAX).await;
            assert_eq!(all.len(), 761);

            // Stop after three responses, then resume from the cursor.
            let (mut got, cursor) = take(&mut client, request(false, ""), 150).await;
            assert_eq!(got.len(), 150);
            let (rest, _) = take(&mut client, request(false, &cursor), usize::MAX).await;
            got.extend(rest);
            assert_eq!(got, all, "resumed without gap or duplicate");

            // A follower that goes away and comes back sees every later
            // capture exactly once.
            let (seen, cursor) = take(&mut client, request(true, ""), 761).await;
            assert_eq!(seen, all);
            d.ok(&["write", "captures", "s", second.to_str().unwrap()]);
            let (later, _) = take(&mut client, request(true, &cursor), 1756).await;
            assert_eq!(later.len(), 1756);
            // As multisets, what the follower saw after its cursor is
            // everything stored minus what it saw before.
            let (both, _) = take(&mut client, request(false, ""), usize::MAX).await;
            let mut balance: std::collections::HashMap<Vec<u8>, i64> = Default::default();
            for c in &both {
                *balance.entry(prost::Message::encode_to_vec(c)).or_default() += 1;
            }
            for c in all.iter().chain(&later) {
                *balance.entry(prost::Message::encode_to_vec(c)).or_default() -= 1;
            }
            assert!(balance.values().all(|n| *n == 0), "no gap and no duplicate");

            let status = client
                .read_captures(request(false, "v2:nonsense"))
                .await
                .unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            assert!(
                status.message().contains("is not a read cursor"),
                "{}",
                status.message()
            );
        });
    }
}
