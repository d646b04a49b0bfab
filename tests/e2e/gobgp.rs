//! Two gobgpd routers on loopback, as `../shared/docs/LIVE-FACTS.md`
//! describes them: A holds a RIB, B peers with A and streams BMP. Shared by
//! the e2e tests and the BMP benchmark.

#![allow(dead_code, reason = "the tests and the benchmark use different parts")]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::skip;

/// AS numbers outside every real path of the RIB (LIVE-FACTS: B drops paths
/// with its own AS).
pub(crate) const AS_A: u32 = 4_200_000_001;
pub(crate) const AS_B: u32 = 4_200_000_002;

/// The RIB that injects cleanly into gobgpd 3.10, and its prefix counts.
pub(crate) const LIVE_RIB: &str = "ris-rrc00.updates.20190101.0000.replayed-rib.tdv2.mrt.gz";
pub(crate) const LIVE_RIB_IPV4: usize = 18_192;
pub(crate) const LIVE_RIB_IPV6: usize = 243;

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether gobgpd and gobgp are installed; records a skip if not.
pub(crate) fn have_gobgp() -> bool {
    let found = Command::new("gobgpd")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        skip("gobgpd is not installed (scripts/setup.sh installs it)");
    }
    found
}

/// The live RIB, or `None` after recording a skip.
pub(crate) fn live_rib() -> Option<PathBuf> {
    crate::util::shared_file("live", LIVE_RIB)
}

/// One gobgpd process, killed on drop.
pub(crate) struct Gobgp {
    child: Child,
    pub(crate) api: u16,
    _dir: tempfile::TempDir,
}

impl Gobgp {
    pub(crate) fn start(config: &str, api: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gobgpd.toml");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("gobgpd")
            .arg("-f")
            .arg(&path)
            .arg("--api-hosts")
            .arg(format!("127.0.0.1:{api}"))
            .args(["-p", "--pprof-disable"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let gobgp = Self {
            child,
            api,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !gobgp.cli(&["global"]).status.success() {
            assert!(Instant::now() < deadline, "gobgpd did not start its API");
            std::thread::sleep(Duration::from_millis(100));
        }
        gobgp
    }

    /// The "Internet": AS_A on `port`, passive towards B on `b_port`.
    pub(crate) fn a(port: u16, b_port: u16) -> Self {
        let config = format!(
            r#"[global.config]
  as = {AS_A}
  router-id = "127.0.0.1"
  port = {port}
  local-address-list = ["127.0.0.1"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.2"
    peer-as = {AS_B}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "127.0.0.1"
    remote-port = {b_port}
{FAMILIES}"#
        );
        Self::start(&config, free_port())
    }

    /// The monitored router: AS_B on `port`, dialing A on `a_port`, streaming
    /// every view to the station at `station`.
    pub(crate) fn b(port: u16, a_port: u16, station: SocketAddr) -> Self {
        let config = format!(
            r#"[global.config]
  as = {AS_B}
  router-id = "127.0.0.2"
  port = {port}
  local-address-list = ["127.0.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = {AS_A}
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.transport.config]
    local-address = "127.0.0.2"
    remote-port = {a_port}
{FAMILIES}
[[bmp-servers]]
  [bmp-servers.config]
    address = "{ip}"
    port = {station_port}
    route-monitoring-policy = "all"
"#,
            ip = station.ip(),
            station_port = station.port(),
        );
        Self::start(&config, free_port())
    }

    pub(crate) fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new("gobgp")
            .arg("-p")
            .arg(self.api.to_string())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "gobgp {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Injects the live RIB and waits until the global RIB holds each of
    /// its prefixes. The pipe stays open a moment, since gobgp 3.10 drops
    /// the last paths when its input ends at once (LIVE-FACTS); on a loaded
    /// machine it can drop some even so, and the file is injected again
    /// (the same paths replace themselves).
    pub(crate) fn inject(&self, rib: &Path) {
        let expected = LIVE_RIB_IPV4 + LIVE_RIB_IPV6;
        let mut held = 0;
        for _ in 0..3 {
            let script = format!(
                "(gzip -dc {:?}; sleep 3) | gobgp -p {} mrt inject global /dev/stdin",
                rib, self.api
            );
            let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
            assert!(
                out.status.success(),
                "mrt inject: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // gobgpd adds the paths a moment after the client has sent them.
            let settled = Instant::now() + Duration::from_secs(20);
            while Instant::now() < settled {
                held = self.table(&["global", "rib"]).len();
                if held == expected {
                    return;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        panic!("after three injections the global RIB holds {held} of {expected} prefixes");
    }

    /// The prefixes and AS paths of a table as gobgp prints it with `-j`.
    pub(crate) fn table(&self, args: &[&str]) -> BTreeMap<String, Vec<u32>> {
        let mut all = BTreeMap::new();
        for family in ["ipv4", "ipv6"] {
            let mut full: Vec<&str> = args.to_vec();
            full.extend(["-a", family, "-j"]);
            let text = self.ok(&full);
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            for (prefix, paths) in v.as_object().unwrap() {
                let path = paths
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["best"].as_bool().unwrap_or(true))
                    .or_else(|| paths.as_array().unwrap().first())
                    .unwrap();
                let asns = path["attrs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a["type"] == 2)
                    .flat_map(|a| a["as_paths"].as_array().unwrap().clone())
                    .flat_map(|s| s["asns"].as_array().unwrap().clone())
                    .map(|n| n.as_u64().unwrap() as u32)
                    .collect();
                all.insert(prefix.clone(), asns);
            }
        }
        all
    }
}

impl Drop for Gobgp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const FAMILIES: &str = r#"  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
"#;
