//! The BMP station against real routers: two gobgpd processes on loopback as
//! `../shared/docs/LIVE-FACTS.md` describes them (A holds a RIB, B peers with A
//! and streams BMP to the station), and hand-made BMP sent over sockets.
//!
//! The expected routes come from gobgpd itself (`gobgp ... -j`), never from
//! bgpmon's own reading of the stream.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bgpmon_test_modules as guests;

use crate::gobgp::{AS_A, Gobgp, LIVE_RIB_IPV4, LIVE_RIB_IPV6, free_port, have_gobgp, live_rib};
use crate::util::Daemon;

/// Held by each test that runs gobgpd (or streams as much): two routers' dumps at once, into
/// debug-built daemons on two cores, back-pressure each other's routers for
/// minutes (the station pushes back on a router through TCP, by design).
static ROUTERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn routers_alone() -> std::sync::MutexGuard<'static, ()> {
    ROUTERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A daemon with a BMP station `lab` on a fixed free port, writing session `live`.
fn daemon_with_station(port: u16, guests: &[&str]) -> Daemon {
    Daemon::start_with(
        guests,
        &format!(
            "[bmp.lab]\naddress = \"127.0.0.1:{port}\"\nsession = \"live\"\ncommit_interval_ms = 50\n"
        ),
    )
}

/// A daemon whose station `lab` listens on a port the kernel picks, and
/// that port: no other test can take it between choosing and binding.
fn daemon_with_any_station_port(guests: &[&str]) -> (Daemon, u16) {
    let d = daemon_with_station(0, guests);
    let port = station_port(&d);
    (d, port)
}

/// The port station `lab` of `d` listens on, from the daemon's log.
fn station_port(d: &Daemon) -> u16 {
    let prefix = "bgpmond: BMP station lab listening on ";
    let mut port = None;
    wait_for(30, "the station to listen", || {
        port = d
            .log()
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .map(|a| a.port());
        port.is_some()
    });
    port.unwrap()
}

/// Waits until `done` holds, polling every 200 ms, for at most `secs`.
fn wait_for(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until `check` gives `Ok`, polling every 200 ms, for at most
/// `secs`; on timeout the panic shows the state `check` last described.
fn wait_for_state(secs: u64, what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        match check() {
            Ok(()) => return,
            Err(state) => assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {state}"
            ),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Seconds since the unix epoch, rounded down.
fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The distinct prefixes advertised in `view` captures stamped at or after
/// unix second `from`.
fn prefixes_since(d: &Daemon, view: &str, from: u64) -> BTreeSet<String> {
    let out = d.ok(&[
        "read",
        "captures",
        "live",
        "--view",
        view,
        "--start",
        &from.to_string(),
        "--format",
        "json",
    ]);
    out.lines()
        .flat_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["advertised"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Stored captures of `view` as prefix -> AS path, with the count of
/// captures and whether each was a table-dump (RIB) entry.
fn stored(d: &Daemon, view: &str) -> (BTreeMap<String, Vec<u32>>, usize, usize) {
    let out = d.ok(&[
        "read", "captures", "live", "--view", view, "--format", "json",
    ]);
    let mut table = BTreeMap::new();
    let (mut captures, mut rib) = (0, 0);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["view"], view);
        captures += 1;
        rib += usize::from(v["rib"].as_bool().unwrap());
        let path: Vec<u32> = v["as_path"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["asns"].as_array().unwrap().clone())
            .map(|n| n.as_u64().unwrap() as u32)
            .collect();
        for prefix in v["advertised"].as_array().unwrap() {
            table.insert(prefix.as_str().unwrap().to_owned(), path.clone());
        }
    }
    (table, captures, rib)
}

fn count(d: &Daemon, args: &[&str]) -> usize {
    let mut full = vec!["read", "count", "live"];
    full.extend(args);
    d.ok(&full).trim().parse().unwrap()
}

#[test]
fn a_routers_table_is_stored_peer_by_peer_for_each_view() {
    let Some(rib) = live_rib() else { return };
    if !have_gobgp() {
        return;
    }
    let _alone = routers_alone();
    let (d, station) = daemon_with_any_station_port(&[]);
    let (a_port, b_port) = (free_port(), free_port());
    let a = Gobgp::a(a_port, b_port);
    a.inject(&rib);
    let b = Gobgp::b(b_port, a_port, SocketAddr::from(([127, 0, 0, 1], station)));
    let total = LIVE_RIB_IPV4 + LIVE_RIB_IPV6;
    wait_for_state(180, "B's Loc-RIB to fill", || {
        let held = b.table(&["global", "rib"]).len();
        if held == total {
            Ok(())
        } else {
            Err(format!("B holds {held} of {total} prefixes"))
        }
    });
    let adj_in = b.table(&["neighbor", "127.0.0.1", "adj-in"]);
    let loc_rib = b.table(&["global", "rib"]);
    assert_eq!(adj_in.len(), total, "A sent B every prefix");
    wait_for(60, "every view to be stored", || {
        count(&d, &["--view", "loc-rib"]) == total && count(&d, &["--view", "post-policy"]) == total
    });
    // Pre-policy messages carry several prefixes each: wait for the prefixes.
    wait_for(60, "the pre-policy view to be stored", || {
        stored(&d, "pre-policy").0.len() == total
    });

    for (view, expected) in [
        ("pre-policy", &adj_in),
        ("post-policy", &adj_in),
        ("loc-rib", &loc_rib),
    ] {
        let (table, captures, rib_entries) = stored(&d, view);
        assert_eq!(&table, expected, "the {view} view holds B's table");
        assert_eq!(rib_entries, captures, "the {view} view is all table dump");
        for path in table.values() {
            assert_eq!(path.first(), Some(&AS_A), "{view}: paths come through A");
        }
    }
    // Peer by peer: A is the only peer, and the Loc-RIB is B's own.
    let status: serde_json::Value =
        serde_json::from_str(&d.ok(&["bmp", "status", "--json"])).unwrap();
    let router = &status[0]["routers"][0];
    assert_eq!(router["name"], "GoBGP", "named by its initiation's sysName");
    assert_eq!(router["connected"], true);
    assert_eq!(router["errors"], 0);
    let peers = router["peers"].as_array().unwrap();
    let peer = peers.iter().find(|p| p["loc_rib"] == false).unwrap();
    assert_eq!(peer["address"], "127.0.0.1");
    assert_eq!(peer["asn"], AS_A);
    assert_eq!(peer["up"], true);
    assert_eq!(peer["prefixes"], 2 * total, "pre- and post-policy prefixes");
    assert_eq!(peer["events"][0]["up"], true, "its peer-up is recorded");
    assert_eq!(
        peer["four_octet_as"], true,
        "both gobgpd OPENs offer 4-octet ASes"
    );
    assert_eq!(
        peer["add_path"],
        serde_json::json!([]),
        "no ADD-PATH configured"
    );
    let loc = peers.iter().find(|p| p["loc_rib"] == true).unwrap();
    assert_eq!(loc["prefixes"], total);
    assert_eq!(
        count(&d, &["--peer", "127.0.0.1", "--view", "post-policy"]),
        total
    );
    drop(b);
    drop(a);
}

#[test]
fn announcements_and_withdrawals_reach_a_follower_and_a_daemon_module_in_order() {
    if !have_gobgp() {
        return;
    }
    let _alone = routers_alone();
    let (d, station) = daemon_with_any_station_port(&[guests::EXAMPLE_DAEMON]);
    d.ok(&[
        "module",
        "run",
        "example-daemon",
        "watch",
        "--opt",
        "session=live",
        "--opt",
        "report-every=1",
        "--grant",
        "live",
    ]);
    let mut follower = Command::new(crate::util::BGPMON)
        .args(["read", "captures", "live", "--follow", "--format", "json"])
        .env("BGPMON_ADDR", &d.addr)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    let (a_port, b_port) = (free_port(), free_port());
    let a = Gobgp::a(a_port, b_port);
    let b = Gobgp::b(b_port, a_port, SocketAddr::from(([127, 0, 0, 1], station)));
    wait_for(60, "B to peer with A", || {
        b.ok(&["neighbor"]).contains("Establ")
    });
    wait_for(30, "B to connect to the station", || {
        d.ok(&["bmp", "status"]).contains(" connected,")
    });
    // Past the quiet time that ends the (empty) table dumps.
    std::thread::sleep(Duration::from_millis(1500));
    a.ok(&[
        "global",
        "rib",
        "add",
        "203.0.113.1/32",
        "nexthop",
        "192.0.2.1",
    ]);
    wait_for(30, "the announcement in every view", || {
        count(&d, &["--prefix", "203.0.113.1/32"]) == 3
    });
    a.ok(&["global", "rib", "del", "203.0.113.1/32"]);

    let mut seen = Vec::new();
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        seen.push(v);
        if seen.len() == 6 {
            break;
        }
    }
    let _ = follower.kill();
    let _ = follower.wait();
    for (i, v) in seen.iter().enumerate() {
        let announcement = i < 3;
        let (list, other) = if announcement {
            ("advertised", "withdrawn")
        } else {
            ("withdrawn", "advertised")
        };
        assert_eq!(v[list], serde_json::json!(["203.0.113.1/32"]), "{v}");
        assert_eq!(v[other], serde_json::json!([]), "{v}");
        assert_eq!(v["rib"], false, "a live change is an update: {v}");
        assert_eq!(v["collector"], "GoBGP");
        if announcement {
            assert_eq!(v["origin_as"], AS_A, "{v}");
        }
    }
    let views: BTreeSet<&str> = seen[..3]
        .iter()
        .map(|v| v["view"].as_str().unwrap())
        .collect();
    assert_eq!(
        views,
        BTreeSet::from(["loc-rib", "post-policy", "pre-policy"])
    );
    let views: BTreeSet<&str> = seen[3..]
        .iter()
        .map(|v| v["view"].as_str().unwrap())
        .collect();
    assert_eq!(
        views,
        BTreeSet::from(["loc-rib", "post-policy", "pre-policy"])
    );

    let mut logs = String::new();
    wait_for(30, "the daemon module to see all six", || {
        logs = d.ok(&["module", "logs", "watch"]);
        logs.contains("seen 6 captures")
    });
    assert!(logs.contains("watching session live"), "{logs}");
}

#[test]
fn a_router_killed_mid_table_and_a_restarted_daemon_are_both_recovered() {
    let Some(rib) = live_rib() else { return };
    if !have_gobgp() {
        return;
    }
    let _alone = routers_alone();
    let station = free_port();
    let d = daemon_with_station(station, &[]);
    let (a_port, b_port) = (free_port(), free_port());
    let a = Gobgp::a(a_port, b_port);
    a.inject(&rib);
    let total = LIVE_RIB_IPV4 + LIVE_RIB_IPV6;
    let station_addr = SocketAddr::from(([127, 0, 0, 1], station));
    let router = |d: &Daemon| -> serde_json::Value {
        let s: serde_json::Value =
            serde_json::from_str(&d.ok(&["bmp", "status", "--json"])).unwrap();
        s[0]["routers"][0].clone()
    };

    // B goes down mid-table (gobgpd sends no peer-down when killed).
    let b = Gobgp::b(b_port, a_port, station_addr);
    wait_for(60, "part of the table", || count(&d, &[]) > 0);
    drop(b);
    wait_for(30, "the station to see B go", || {
        router(&d)["connected"] == false
    });
    // Every Loc-RIB message received is committed.
    let loc_rib_messages = |d: &Daemon| -> usize {
        let r = router(d);
        let loc = r["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["loc_rib"] == true)
            .cloned();
        loc.map_or(0, |p| p["messages"].as_u64().unwrap() as usize)
    };
    let first = loc_rib_messages(&d);
    wait_for(30, "the first dump's commits", || {
        count(&d, &["--view", "loc-rib"]) == first
    });

    // B comes back and sends its whole table again. gobgpd may send a route
    // twice when it arrives from A while B dumps its Loc-RIB to the station,
    // so the second dump is checked by its prefixes, not its message count.
    let restarted = unix_secs();
    let b = Gobgp::b(b_port, a_port, station_addr);
    wait_for_state(240, "the whole second dump", || {
        let (received, committed) = (loc_rib_messages(&d), count(&d, &["--view", "loc-rib"]));
        let cheap =
            format!("{received} Loc-RIB messages received, {committed} stored, first dump {first}");
        if received < first + total || committed != received {
            return Err(cheap);
        }
        let since = prefixes_since(&d, "loc-rib", restarted);
        if since.len() == total {
            Ok(())
        } else {
            Err(format!(
                "{cheap}, {} prefixes since the restart",
                since.len()
            ))
        }
    });
    assert_eq!(
        prefixes_since(&d, "loc-rib", restarted),
        b.table(&["global", "rib"]).into_keys().collect(),
        "the second dump holds B's table"
    );
    let r = router(&d);
    assert_eq!(r["connections"], 2);
    let peer = r["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["loc_rib"] == false)
        .unwrap()
        .clone();
    let events: Vec<(bool, String)> = peer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["up"].as_bool().unwrap(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(events[0].0 && !events[1].0 && events[2].0, "{events:?}");
    assert!(events[1].1.starts_with("connection ended"), "{events:?}");
    assert_eq!(
        count(&d, &["--view", "loc-rib", "--rib"]),
        count(&d, &["--view", "loc-rib"]),
        "both dumps are marked as table dumps"
    );

    // The daemon is killed mid-stream of live announcements. gobgpd notices
    // the dead station when it next writes, reconnects to the restarted
    // daemon and sends its table again; everything committed before the
    // kill is still stored.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let announcer = {
        let (stop, api) = (stop.clone(), a.api);
        std::thread::spawn(move || {
            for n in 0..250u32 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let prefix = format!("198.51.{}.{}/32", 100 + n / 250, n % 250);
                let _ = Command::new("gobgp")
                    .args(["-p", &api.to_string(), "global", "rib", "add", &prefix])
                    .args(["nexthop", "192.0.2.1"])
                    .output();
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let live = [
        "--prefix",
        "198.51.100.0/24",
        "--match",
        "more",
        "--view",
        "loc-rib",
    ];
    wait_for(60, "live announcements", || count(&d, &live) >= 5);
    let dir = d.kill();
    let d = Daemon::start_in(dir);
    let committed = count(&d, &["--view", "loc-rib"]);
    assert!(
        committed >= first + total + 5,
        "every committed capture survives"
    );
    wait_for(120, "B to reconnect and send its table again", || {
        router(&d)["connected"] == true
            && loc_rib_messages(&d) >= total
            && count(&d, &["--view", "loc-rib"]) >= committed + total
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    announcer.join().unwrap();
    drop(b);
    drop(a);
}

/// Hand-made BMP messages.
mod wire {
    pub(super) fn bmp(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![3];
        m.extend_from_slice(&((6 + body.len()) as u32).to_be_bytes());
        m.push(kind);
        m.extend_from_slice(body);
        m
    }

    pub(super) fn initiation(name: &str) -> Vec<u8> {
        let mut tlv = vec![0, 2];
        tlv.extend_from_slice(&(name.len() as u16).to_be_bytes());
        tlv.extend_from_slice(name.as_bytes());
        bmp(4, &tlv)
    }

    /// A pre-policy route-monitoring message from peer 192.0.2.1 (AS 64500)
    /// announcing 10.`n / 256`.`n % 256`.0/24 with path 64500 64501.
    pub(super) fn announcement(n: u32) -> Vec<u8> {
        let mut body = vec![0, 0];
        body.extend_from_slice(&[0; 8]);
        body.extend_from_slice(&[0; 12]);
        body.extend_from_slice(&[192, 0, 2, 1]);
        body.extend_from_slice(&64_500u32.to_be_bytes());
        body.extend_from_slice(&[192, 0, 2, 1]);
        body.extend_from_slice(&1_546_300_800u32.to_be_bytes());
        body.extend_from_slice(&n.to_be_bytes());
        let mut attributes = vec![0x40, 1, 1, 0, 0x40, 2, 10, 2, 2];
        attributes.extend_from_slice(&64_500u32.to_be_bytes());
        attributes.extend_from_slice(&64_501u32.to_be_bytes());
        attributes.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
        let mut update = vec![0, 0];
        update.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
        update.extend_from_slice(&attributes);
        update.extend_from_slice(&[24, 10, (n / 256) as u8, (n % 256) as u8]);
        let mut bgp = vec![0xff; 16];
        bgp.extend_from_slice(&((19 + update.len()) as u16).to_be_bytes());
        bgp.push(2);
        bgp.extend_from_slice(&update);
        body.extend_from_slice(&bgp);
        bmp(0, &body)
    }
}

/// Connects to `station` from `source`, a loopback address of its own, so
/// that the station sees a router of its own.
fn router_socket(source: [u8; 4], station: u16) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from((source, 0)).into()).unwrap();
    socket
        .connect(&SocketAddr::from(([127, 0, 0, 1], station)).into())
        .unwrap();
    socket.into()
}

/// Reads until the station closes the connection; fails after 30 s.
fn closed_by_station(mut socket: TcpStream) -> bool {
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 64];
    matches!(socket.read(&mut buf), Ok(0))
}

#[test]
fn malformed_and_truncated_bmp_drop_only_their_router() {
    let (d, station) = daemon_with_any_station_port(&[]);
    // A good router streams 2,000 announcements in small writes throughout.
    let good = std::thread::spawn(move || {
        let mut s = router_socket([127, 0, 0, 20], station);
        s.write_all(&wire::initiation("good")).unwrap();
        for chunk in (0..2_000).collect::<Vec<u32>>().chunks(100) {
            let bytes: Vec<u8> = chunk.iter().flat_map(|n| wire::announcement(*n)).collect();
            s.write_all(&bytes).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    });
    // A router whose third message has a BGP UPDATE cut short inside it.
    let mut bad = router_socket([127, 0, 0, 21], station);
    let mut cut = wire::announcement(7);
    cut.truncate(cut.len() - 6);
    let declared = (cut.len() as u32).to_be_bytes();
    cut[1..5].copy_from_slice(&declared);
    let head = [wire::initiation("bad"), wire::announcement(1)].concat();
    let offset = head.len();
    bad.write_all(&[head, cut, wire::announcement(2)].concat())
        .unwrap();
    assert!(closed_by_station(bad), "the station drops the bad router");
    // A router that stops inside a message, and one that is not BMP at all.
    let mut truncated = router_socket([127, 0, 0, 22], station);
    let mut half = wire::announcement(3);
    half.truncate(40);
    truncated
        .write_all(&[wire::initiation("half"), half].concat())
        .unwrap();
    drop(truncated);
    let mut garbage = router_socket([127, 0, 0, 23], station);
    garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert!(closed_by_station(garbage));

    let good = good.join().unwrap();
    wait_for(30, "the good router's captures", || {
        count(&d, &["--collector", "good"]) == 2_000
    });
    assert_eq!(
        count(&d, &["--collector", "bad"]),
        1,
        "stored before the damage"
    );
    drop(good);

    let s: serde_json::Value = serde_json::from_str(&d.ok(&["bmp", "status", "--json"])).unwrap();
    let routers: BTreeMap<String, serde_json::Value> = s[0]["routers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["address"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    assert_eq!(routers["127.0.0.20"]["errors"], 0);
    assert_eq!(routers["127.0.0.20"]["messages"], 2_001);
    let bad = &routers["127.0.0.21"];
    assert_eq!(bad["errors"], 1);
    let error = bad["last_error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("malformed BMP message at byte {offset}: ")),
        "{error}"
    );
    let half = routers["127.0.0.22"]["last_error"].as_str().unwrap();
    assert!(half.starts_with("truncated BMP message at byte "), "{half}");
    let garbage = routers["127.0.0.23"]["last_error"].as_str().unwrap();
    assert!(garbage.contains("is not BMP version 3"), "{garbage}");
    let metrics = d.scrape();
    for expected in [
        "bgpmon_bmp_router_errors_total{station=\"lab\",router=\"127.0.0.21\",name=\"bad\"} 1",
        "bgpmon_bmp_router_messages_total{station=\"lab\",router=\"127.0.0.20\",name=\"good\"} 2001",
        "bgpmon_bmp_router_connected{station=\"lab\",router=\"127.0.0.21\",name=\"bad\"} 0",
        "bgpmon_bmp_peer_prefixes_total{station=\"lab\",router=\"127.0.0.20\",name=\"good\",peer=\"192.0.2.1\",peer_as=\"64500\",distinguisher=\"0\"} 2000",
    ] {
        assert!(metrics.contains(expected), "{expected} in\n{metrics}");
    }
    assert!(metrics.contains("bgpmon_bmp_router_last_message_age_seconds{"));
    let log = d.log();
    assert_eq!(
        log.matches("dropping a BMP router's connection").count(),
        3,
        "one warning per router: {log}"
    );
}

#[test]
fn a_saved_bmp_stream_loads_like_an_mrt_file() {
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "live"]);
    let path = d.dir.path().join("saved.bmp");
    let mut stream = wire::initiation("saved");
    for n in 0..300 {
        stream.extend(wire::announcement(n));
    }
    std::fs::write(&path, &stream).unwrap();
    let out = d.ok(&["write", "captures", "live", path.to_str().unwrap()]);
    assert!(
        out.contains("300 captures stored from 301 records"),
        "{out}"
    );
    assert_eq!(
        count(&d, &["--view", "pre-policy", "--collector", "saved"]),
        300
    );
    // Cut inside the last message: the whole ones are stored and the cut said.
    let cut = d.dir.path().join("cut.bmp");
    std::fs::write(&cut, &stream[..stream.len() - 10]).unwrap();
    d.ok(&["session", "open", "local", "--id", "cut"]);
    let out = d.cli(&["write", "captures", "cut", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        format!("{stdout}{stderr}").contains("the input ends inside a BMP message"),
        "{stdout}{stderr}"
    );
    assert_eq!(d.ok(&["read", "count", "cut"]).trim(), "299");
}

/// The daemon's peak resident memory, from `/proc`.
fn peak_rss_kib(d: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_station_whose_session_is_busy_pushes_its_router_back_and_loses_nothing() {
    // Heavy as a router's table: not beside one.
    let _alone = routers_alone();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bgpmond.toml"),
        format!(
            "rpc_address = \"127.0.0.1:0\"\nmetrics_address = \"127.0.0.1:0\"\n\n\
             [sessions.local]\ntype = \"redb\"\npath = {:?}\nworkers = 1\ntimeout_secs = 1\n\n\
             [bmp.lab]\naddress = \"127.0.0.1:0\"\nsession = \"live\"\n",
            dir.path().join("bgpmon.redb")
        ),
    )
    .unwrap();
    let d = Daemon::start_in(dir);
    let station = station_port(&d);
    // A following reader holds the session's only worker.
    let mut follower = Command::new(crate::util::BGPMON)
        .args(["read", "captures", "live", "--follow"])
        .env("BGPMON_ADDR", &d.addr)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(30, "the follower to hold the worker", || {
        d.scrape()
            .contains("bgpmon_session_workers_busy{session=\"live\",session_type=\"local\"} 1")
    });
    // Far more than the socket buffers and the station's channel hold.
    const MESSAGES: u32 = 300_000;
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let sender = std::thread::spawn(move || {
        let mut socket = router_socket([127, 0, 0, 30], station);
        socket.write_all(&wire::initiation("busy")).unwrap();
        let mut chunk = Vec::new();
        for n in 0..MESSAGES {
            chunk.extend(wire::announcement(n));
            if chunk.len() > 1 << 20 {
                socket.write_all(&chunk).unwrap();
                chunk.clear();
            }
        }
        socket.write_all(&chunk).unwrap();
        done_tx.send(()).unwrap();
        socket
    });
    assert!(
        done_rx.recv_timeout(Duration::from_secs(8)).is_err(),
        "the router sent everything while the station could not write"
    );
    let status: serde_json::Value =
        serde_json::from_str(&d.ok(&["bmp", "status", "--json"])).unwrap();
    assert_eq!(status[0]["captures_stored"], 0);
    let held_back = status[0]["routers"][0]["messages"].as_u64().unwrap();
    assert!(
        held_back < u64::from(MESSAGES) / 2,
        "the station read {held_back} messages with nowhere to put them"
    );

    let _ = follower.kill();
    let _ = follower.wait();
    done_rx
        .recv_timeout(Duration::from_secs(300))
        .expect("the router's send completes once the session is free");
    let socket = sender.join().unwrap();
    wait_for(300, "every capture", || count(&d, &[]) == MESSAGES as usize);
    drop(socket);
    let status: serde_json::Value =
        serde_json::from_str(&d.ok(&["bmp", "status", "--json"])).unwrap();
    assert_eq!(status[0]["captures_lost"], 0);
    assert_eq!(status[0]["captures_stored"], MESSAGES);
    let kib = peak_rss_kib(&d);
    assert!(kib < 256 * 1024, "peak RSS {kib} KiB");
}
