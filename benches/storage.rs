//! bgpmon's store against PostgreSQL on the same captures, then bgpmon alone
//! at 1 M and 10 M captures. Run with `cargo bench --bench storage`.
//!
//! Input: every complete file of `../shared/data/mrt` (all but the two
//! `*.truncated.bz2`), 657,050 captures. A capture is one BGP UPDATE
//! (BGP4MP or BGP4MP_ET MESSAGE) or one TABLE_DUMP_V2 RIB entry, as bgpmon
//! counts them.
//!
//! # Part 1: the same captures, the same questions
//!
//! - bgpmon: a release `bgpmond` (the e2e `Daemon` helper: a free loopback
//!   port, a temporary redb store) and `bgpmon write captures s FILES...`,
//!   all ten files into one session, timed from the CLI's start to its exit,
//!   which is after the daemon's last commit. The CLI decompresses and
//!   parses the MRT inside that time. The size stored is the redb file
//!   after the daemon stopped (it compacts on close).
//! - PostgreSQL (the Debian package, installed with `apt-get install -y
//!   postgresql` if `initdb` is missing; default settings, fsync on) runs in
//!   a temporary directory on a free loopback port. The bench parses the
//!   same files once with bgpkit-parser, not timed, into CSV in memory: one
//!   row per prefix element (every advertised and withdrawn prefix, NLRI and
//!   MP_REACH/MP_UNREACH alike; one row per RIB entry), and one row with a
//!   NULL prefix for an UPDATE without prefixes (such as End-of-RIB), so
//!   every capture has a row. Columns: `capture_id bigint` (one per
//!   capture), `time timestamptz` (the MRT header time, with the
//!   microseconds of BGP4MP_ET), `collector text` (the file name),
//!   `peer_ip inet`, `peer_as bigint`, `origin_as bigint` (the last AS when
//!   the path ends with a sequence, as bgpmon defines it), `prefix cidr`,
//!   `withdrawn bool`, `as_path bigint[]` (AS_PATH merged with AS4_PATH,
//!   every segment flattened), `communities text[]` (`asn:value` and
//!   `global:local1:local2`). Its ingest is `COPY elem FROM STDIN (FORMAT
//!   csv)` over one connection, then four indexes: btree on `origin_as`,
//!   btree on `(peer_ip, time)`, btree on `time`, GiST `inet_ops` on
//!   `prefix`; `ANALYZE` is timed apart. The size stored is
//!   `pg_total_relation_size('elem')`, indexes and TOAST included.
//!
//! Every query counts matching *captures*: bgpmon through a warm tonic
//! client (`CountCaptures`), PostgreSQL through a warm connection running a
//! prepared `SELECT count(DISTINCT capture_id) FROM elem WHERE ...`, both
//! timed client-side over the whole round trip. Each query runs once to
//! warm, then the median of `RUNS` runs is shown. Prefix terms look at
//! advertised prefixes only on both sides (bgpmon's default scope). An AS
//! path regex `_3356_` on bgpmon is `(^| )3356( |$)` on the space-joined
//! array in PostgreSQL: the array has no set braces, so both find the AS as
//! a whole number anywhere in the path.
//!
//! # Part 2: scale
//!
//! The captures are read once with bgpmon's own MRT reader, then sent to a
//! fresh daemon through one `WriteCaptures` stream (batches of 500, a
//! flush every 10,000, as `bgpmon write captures` does), replayed in rounds
//! with every timestamp moved on by `SHIFT_US` per round, until the store
//! holds the target count. Shown per size: ingest captures/s (stream start
//! to the daemon's reply after its last commit; encoding runs in a thread
//! alongside), bytes per capture of the redb file after stop, the daemon's
//! peak RSS (`VmHWM`), and four queries with their answer sizes.
//! `BGPMON_BENCH_SIZES=1000000,3000000` picks other sizes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports failure by panicking"
)]

#[path = "../tests/e2e/util.rs"]
mod util;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bgpkit_parser::BgpkitParser;
use bgpkit_parser::models::{
    AsPath, AsPathSegment, AttributeValue, Attributes, Bgp4MpEnum, BgpMessage, CommonHeader,
    Community, MrtMessage, TableDumpV2Message,
};
use bgpmon_proto::v1::bgpmon_client::BgpmonClient;
use bgpmon_proto::{EncodedCapture, ip_to_bytes, prefix_to_proto, v1};
use ipnet::IpNet;
use tonic::transport::Channel;

/// The complete shared files.
const FILES: [&str; 10] = [
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

/// Their captures: the UPDATE and RIB-entry counts of `SOURCES.md`.
const CAPTURES: u64 = 657_050;

/// Timed runs per query, after one warm-up run.
const RUNS: usize = 7;

const SESSION: &str = "s";
const HOUR_US: u64 = 3_600_000_000;

/// How far each replay round moves timestamps (about 15.8 years): more than
/// the files' span (2013 to 2026), so rounds never overlap in time.
const SHIFT_US: u64 = 500_000_000_000_000;

/// Captures per `WriteCaptures` message and between flushes, as the CLI.
const BATCH: usize = 500;
const FLUSH_EVERY: u64 = 10_000;

const DEFAULT_SIZES: [u64; 2] = [1_000_000, 10_000_000];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn timestamp_us(header: &CommonHeader) -> u64 {
    u64::from(header.timestamp) * 1_000_000 + u64::from(header.microsecond_timestamp.unwrap_or(0))
}

/// `us` as a PostgreSQL `timestamptz` literal in UTC.
fn pg_time(us: u64) -> String {
    let time = chrono::DateTime::from_timestamp_micros(i64::try_from(us).unwrap()).unwrap();
    time.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

fn open(path: &Path) -> Box<dyn Read + Send> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Some("bz2") => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        _ => Box::new(file),
    }
}

// ---- The PostgreSQL rows, from bgpkit-parser ----

/// The attributes of one capture that the table keeps.
#[derive(Default)]
struct Attrs {
    path: Option<Vec<u32>>,
    origin: Option<u32>,
    communities: Vec<String>,
    standard: Vec<(u32, u32)>,
    mp_advertised: Vec<IpNet>,
    mp_withdrawn: Vec<IpNet>,
}

fn attrs(attributes: &Attributes) -> Attrs {
    let mut out = Attrs::default();
    let (mut as_path, mut as4_path) = (None, None);
    for value in attributes {
        match value {
            AttributeValue::AsPath(path) => as_path = Some(path),
            AttributeValue::As4Path(path) => as4_path = Some(path),
            AttributeValue::Communities(list) => {
                for community in list {
                    let (asn, value) = match community {
                        Community::NoExport => (0xFFFF, 0xFF01),
                        Community::NoAdvertise => (0xFFFF, 0xFF02),
                        Community::NoExportSubConfed => (0xFFFF, 0xFF03),
                        Community::Custom(asn, value) => (asn.to_u32(), u32::from(*value)),
                    };
                    out.standard.push((asn, value));
                    out.communities.push(format!("{asn}:{value}"));
                }
            }
            AttributeValue::LargeCommunities(list) => {
                for c in list {
                    let [a, b] = c.local_data;
                    out.communities.push(format!("{}:{a}:{b}", c.global_admin));
                }
            }
            AttributeValue::MpReachNlri(nlri) => {
                out.mp_advertised
                    .extend(nlri.prefixes.iter().map(|p| p.prefix));
            }
            AttributeValue::MpUnreachNlri(nlri) => {
                out.mp_withdrawn
                    .extend(nlri.prefixes.iter().map(|p| p.prefix));
            }
            _ => {}
        }
    }
    let merged;
    let path: Option<&AsPath> = match (as_path, as4_path) {
        (Some(path), Some(as4)) => {
            merged = AsPath::merge_aspath_as4path(path, as4);
            Some(&merged)
        }
        (path, as4) => path.or(as4),
    };
    if let Some(path) = path {
        let mut asns = Vec::new();
        for segment in path.iter_segments() {
            let list = match segment {
                AsPathSegment::AsSequence(a)
                | AsPathSegment::AsSet(a)
                | AsPathSegment::ConfedSequence(a)
                | AsPathSegment::ConfedSet(a) => a,
            };
            asns.extend(list.iter().map(|a| a.to_u32()));
        }
        out.origin = match path.segments.last() {
            Some(AsPathSegment::AsSequence(a)) => a.last().map(|a| a.to_u32()),
            _ => None,
        };
        out.path = Some(asns);
    }
    out
}

/// The CSV of the table, and what the queries' parameters are picked from.
#[derive(Default)]
struct Rows {
    csv: Vec<u8>,
    captures: u64,
    rows: u64,
    origins: HashMap<u32, u64>,
    /// Captures and the first timestamp per peer.
    peers: HashMap<IpAddr, (u64, u64)>,
    slash8: HashMap<u8, u64>,
    slash24: HashMap<IpNet, u64>,
    communities: HashMap<(u32, u32), u64>,
}

impl Rows {
    #[allow(
        clippy::too_many_arguments,
        reason = "one capture's columns, written in one place"
    )]
    fn capture(
        &mut self,
        ts_us: u64,
        collector: &str,
        peer_ip: IpAddr,
        peer_as: u32,
        advertised: &[IpNet],
        withdrawn: &[IpNet],
        a: &Attrs,
    ) {
        self.captures += 1;
        let id = self.captures;
        let peer = self.peers.entry(peer_ip).or_insert((0, ts_us));
        peer.0 += 1;
        peer.1 = peer.1.min(ts_us);
        if let Some(origin) = a.origin {
            *self.origins.entry(origin).or_default() += 1;
        }
        let mut seen = a.standard.clone();
        seen.sort_unstable();
        seen.dedup();
        for c in seen {
            *self.communities.entry(c).or_default() += 1;
        }
        for p in advertised {
            if let IpNet::V4(v4) = p
                && v4.prefix_len() >= 8
            {
                *self.slash8.entry(v4.addr().octets()[0]).or_default() += 1;
            }
            if p.prefix_len() == 24 && p.addr().is_ipv4() {
                *self.slash24.entry(*p).or_default() += 1;
            }
        }

        let mut head = String::new();
        let origin = a.origin.map(|o| o.to_string()).unwrap_or_default();
        write!(
            head,
            "{id},{},{collector},{peer_ip},{peer_as},{origin},",
            pg_time(ts_us)
        )
        .unwrap();
        let mut tail = String::from(",");
        if let Some(path) = &a.path {
            tail.push_str("\"{");
            for (i, asn) in path.iter().enumerate() {
                if i > 0 {
                    tail.push(',');
                }
                write!(tail, "{asn}").unwrap();
            }
            tail.push_str("}\"");
        }
        tail.push_str(",\"{");
        tail.push_str(&a.communities.join(","));
        tail.push_str("}\"\n");
        let mut row = |prefix: Option<&IpNet>, withdrawn: bool| {
            self.rows += 1;
            self.csv.extend_from_slice(head.as_bytes());
            if let Some(p) = prefix {
                write!(self.csv, "{p}").unwrap();
            }
            self.csv
                .extend_from_slice(if withdrawn { b",t" } else { b",f" });
            self.csv.extend_from_slice(tail.as_bytes());
        };
        for p in advertised {
            row(Some(p), false);
        }
        for p in withdrawn {
            row(Some(p), true);
        }
        if advertised.is_empty() && withdrawn.is_empty() {
            row(None, false);
        }
    }
}

fn parse_rows(paths: &[PathBuf]) -> Rows {
    let mut rows = Rows::default();
    for path in paths {
        let collector = path.file_name().unwrap().to_str().unwrap();
        let mut peers: HashMap<u16, (IpAddr, u32)> = HashMap::new();
        for record in BgpkitParser::from_reader(open(path)).into_record_iter() {
            let ts = timestamp_us(&record.common_header);
            match record.message {
                MrtMessage::Bgp4Mp(Bgp4MpEnum::Message(m)) => {
                    let BgpMessage::Update(update) = m.bgp_message else {
                        continue;
                    };
                    let a = attrs(&update.attributes);
                    let mut advertised: Vec<IpNet> =
                        update.announced_prefixes.iter().map(|p| p.prefix).collect();
                    advertised.extend(&a.mp_advertised);
                    let mut withdrawn: Vec<IpNet> =
                        update.withdrawn_prefixes.iter().map(|p| p.prefix).collect();
                    withdrawn.extend(&a.mp_withdrawn);
                    rows.capture(
                        ts,
                        collector,
                        m.peer_ip,
                        m.peer_asn.to_u32(),
                        &advertised,
                        &withdrawn,
                        &a,
                    );
                }
                MrtMessage::TableDumpV2Message(TableDumpV2Message::PeerIndexTable(table)) => {
                    peers = table
                        .id_peer_map
                        .iter()
                        .map(|(id, p)| (*id, (p.peer_ip, p.peer_asn.to_u32())))
                        .collect();
                }
                MrtMessage::TableDumpV2Message(TableDumpV2Message::RibAfi(rib)) => {
                    for entry in &rib.rib_entries {
                        let (ip, asn) = peers[&entry.peer_index];
                        // A RIB entry's MP_REACH repeats its own prefix.
                        let a = attrs(&entry.attributes);
                        rows.capture(ts, collector, ip, asn, &[rib.prefix.prefix], &[], &a);
                    }
                }
                _ => {}
            }
        }
    }
    rows
}

// ---- PostgreSQL ----

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// The folder of `initdb` and `pg_ctl`, installing PostgreSQL if needed.
fn pg_bin() -> PathBuf {
    let find = || {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists())
            .collect();
        found.sort();
        found.pop()
    };
    if let Some(bin) = find() {
        return bin;
    }
    eprintln!("initdb is missing: apt-get install -y postgresql");
    let status = Command::new("apt-get")
        .args(["install", "-y", "postgresql"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .unwrap();
    assert!(status.success(), "apt-get install -y postgresql: {status}");
    find().expect("PostgreSQL installed, yet no /usr/lib/postgresql/*/bin/initdb")
}

/// Runs `command` with `sh`, as user postgres when we are root.
fn as_postgres(root: bool, command: &str) {
    let status = if root {
        Command::new("su")
            .args(["postgres", "-c", command])
            .status()
    } else {
        Command::new("sh").args(["-c", command]).status()
    }
    .unwrap();
    assert!(status.success(), "{command}: {status}");
}

/// A PostgreSQL server in a temporary directory, stopped on drop.
struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    root: bool,
}

impl Postgres {
    fn start() -> Self {
        let bin = pg_bin();
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("bgpmon-bench-pg")
            .tempdir()
            .unwrap();
        if root {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let d = dir.path().display();
        let b = bin.display();
        as_postgres(
            root,
            &format!(
                "{b}/initdb -D {d}/data -A trust -U postgres -E UTF8 --locale=C --no-sync >{d}/initdb.log 2>&1"
            ),
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        as_postgres(
            root,
            &format!(
                "{b}/pg_ctl -D {d}/data -l {d}/server.log -w -o \"-p {port} -k {d} -c listen_addresses=127.0.0.1\" start >/dev/null"
            ),
        );
        Self {
            dir,
            bin,
            port,
            root,
        }
    }

    fn connect(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=postgres dbname=postgres",
                self.port
            ),
            postgres::NoTls,
        )
        .unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let command = format!(
            "{}/pg_ctl -D {}/data -m fast -w stop >/dev/null",
            self.bin.display(),
            self.dir.path().display()
        );
        as_postgres(self.root, &command);
    }
}

const SCHEMA: &str = "CREATE TABLE elem (
    capture_id bigint NOT NULL,
    time timestamptz NOT NULL,
    collector text NOT NULL,
    peer_ip inet NOT NULL,
    peer_as bigint NOT NULL,
    origin_as bigint,
    prefix cidr,
    withdrawn bool NOT NULL,
    as_path bigint[],
    communities text[]
)";

const INDEXES: [&str; 4] = [
    "CREATE INDEX elem_origin ON elem (origin_as)",
    "CREATE INDEX elem_peer_time ON elem (peer_ip, time)",
    "CREATE INDEX elem_time ON elem (time)",
    "CREATE INDEX elem_prefix ON elem USING gist (prefix inet_ops)",
];

struct PgLoad {
    copy: Duration,
    indexes: Vec<Duration>,
    analyze: Duration,
    bytes: u64,
}

fn pg_load(client: &mut postgres::Client, rows: &Rows) -> PgLoad {
    client.batch_execute(SCHEMA).unwrap();
    let start = Instant::now();
    let mut writer = client.copy_in("COPY elem FROM STDIN (FORMAT csv)").unwrap();
    writer.write_all(&rows.csv).unwrap();
    let copied = writer.finish().unwrap();
    let copy = start.elapsed();
    assert_eq!(copied, rows.rows);
    let indexes = INDEXES
        .iter()
        .map(|sql| {
            let start = Instant::now();
            client.batch_execute(sql).unwrap();
            start.elapsed()
        })
        .collect();
    let start = Instant::now();
    client.batch_execute("ANALYZE elem").unwrap();
    let analyze = start.elapsed();
    let bytes: i64 = client
        .query_one("SELECT pg_total_relation_size('elem')", &[])
        .unwrap()
        .get(0);
    PgLoad {
        copy,
        indexes,
        analyze,
        bytes: u64::try_from(bytes).unwrap(),
    }
}

/// The count of `where_` and its median time, warm.
fn time_pg(client: &mut postgres::Client, where_: &str) -> (u64, Duration) {
    let statement = client
        .prepare(&format!(
            "SELECT count(DISTINCT capture_id) FROM elem WHERE {where_}"
        ))
        .unwrap();
    let mut count = || -> u64 {
        let n: i64 = client.query_one(&statement, &[]).unwrap().get(0);
        u64::try_from(n).unwrap()
    };
    let first = count();
    let runs = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let n = count();
            let took = start.elapsed();
            assert_eq!(n, first);
            took
        })
        .collect();
    (first, median(runs))
}

// ---- bgpmon ----

async fn connect(addr: &str) -> BgpmonClient<Channel> {
    BgpmonClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20)
}

async fn bgpmon_count(client: &mut BgpmonClient<Channel>, filter: &v1::CaptureFilter) -> u64 {
    client
        .count_captures(v1::CountCapturesRequest {
            session_id: SESSION.into(),
            filter: Some(filter.clone()),
            explain: false,
        })
        .await
        .unwrap()
        .into_inner()
        .count
}

/// The count of `filter` and its median time, warm.
async fn time_bgpmon(
    client: &mut BgpmonClient<Channel>,
    filter: &v1::CaptureFilter,
) -> (u64, Duration) {
    let first = bgpmon_count(client, filter).await;
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let n = bgpmon_count(client, filter).await;
        runs.push(start.elapsed());
        assert_eq!(n, first);
    }
    (first, median(runs))
}

/// The daemon's peak resident set, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/PID/status");
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

// ---- The queries ----

struct Query {
    name: String,
    filter: v1::CaptureFilter,
    sql: String,
}

/// The parameters picked from the data.
struct Picks {
    origin: u32,
    slash8: IpNet,
    slash24: IpNet,
    peer: IpAddr,
    window: u64,
    community: (u32, u32),
}

fn most<K: Copy + Ord>(counts: &HashMap<K, u64>) -> K {
    // The highest count; ties go to the smallest key, so runs agree.
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| *k)
        .unwrap()
}

fn picks(rows: &Rows) -> Picks {
    let peer = rows
        .peers
        .iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(a.0)))
        .map(|(ip, _)| *ip)
        .unwrap();
    let first = rows.peers[&peer].1;
    Picks {
        origin: most(&rows.origins),
        slash8: format!("{}.0.0.0/8", most(&rows.slash8)).parse().unwrap(),
        slash24: most(&rows.slash24),
        peer,
        window: first - first % HOUR_US,
        community: most(&rows.communities),
    }
}

fn prefix_term(net: IpNet, m: v1::PrefixMatch) -> v1::PrefixTerm {
    v1::PrefixTerm {
        prefix: Some(prefix_to_proto(&net)),
        r#match: m as i32,
    }
}

fn queries(p: &Picks) -> Vec<Query> {
    let f = v1::CaptureFilter::default;
    let (asn, value) = p.community;
    vec![
        Query {
            name: format!("origin AS{}", p.origin),
            filter: v1::CaptureFilter {
                origin_ases: vec![p.origin],
                ..f()
            },
            sql: format!("origin_as = {}", p.origin),
        },
        Query {
            name: format!("more-specific of {}", p.slash8),
            filter: v1::CaptureFilter {
                prefixes: vec![prefix_term(p.slash8, v1::PrefixMatch::More)],
                ..f()
            },
            sql: format!("prefix <<= '{}' AND NOT withdrawn", p.slash8),
        },
        Query {
            name: format!("less-specific of {}", p.slash24),
            filter: v1::CaptureFilter {
                prefixes: vec![prefix_term(p.slash24, v1::PrefixMatch::Less)],
                ..f()
            },
            sql: format!("prefix >>= '{}' AND NOT withdrawn", p.slash24),
        },
        Query {
            name: format!("peer {} + 1 h", p.peer),
            filter: v1::CaptureFilter {
                peer_ips: vec![ip_to_bytes(p.peer)],
                start_us: Some(p.window),
                end_us: Some(p.window + HOUR_US),
                ..f()
            },
            sql: format!(
                "peer_ip = '{}' AND time >= '{}' AND time < '{}'",
                p.peer,
                pg_time(p.window),
                pg_time(p.window + HOUR_US)
            ),
        },
        Query {
            name: "path contains 3356".into(),
            filter: v1::CaptureFilter {
                path_contains: vec![3356],
                ..f()
            },
            sql: "3356 = ANY(as_path)".into(),
        },
        Query {
            name: "path regex _3356_".into(),
            filter: v1::CaptureFilter {
                path_regex: vec!["_3356_".into()],
                ..f()
            },
            sql: "array_to_string(as_path, ' ') ~ '(^| )3356( |$)'".into(),
        },
        Query {
            name: format!("community {asn}:{value}"),
            filter: v1::CaptureFilter {
                communities: vec![v1::Community {
                    value: Some(v1::community::Value::Standard(v1::StandardCommunity {
                        asn,
                        value,
                    })),
                }],
                ..f()
            },
            sql: format!("communities @> ARRAY['{asn}:{value}']"),
        },
        Query {
            name: "community *:300".into(),
            filter: v1::CaptureFilter {
                community_patterns: vec![v1::CommunityPattern {
                    pattern: Some(v1::community_pattern::Pattern::Standard(
                        v1::StandardCommunityPattern {
                            asn: None,
                            value: Some(300),
                        },
                    )),
                }],
                ..f()
            },
            sql: "EXISTS (SELECT 1 FROM unnest(communities) c WHERE c ~ '^[0-9]+:300$')".into(),
        },
    ]
}

// ---- Part 1 ----

struct BgpmonRun {
    ingest: Duration,
    total: u64,
    bytes: u64,
    rss: u64,
    results: Vec<(u64, Duration)>,
}

fn bgpmon_part1(paths: &[PathBuf], queries: &[Query]) -> BgpmonRun {
    let d = util::Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", SESSION]);
    let mut args = vec!["write", "captures", SESSION];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let start = Instant::now();
    d.ok(&args);
    let ingest = start.elapsed();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (total, results) = runtime.block_on(async {
        let mut client = connect(&d.addr).await;
        let total = bgpmon_count(&mut client, &v1::CaptureFilter::default()).await;
        let mut results = Vec::new();
        for q in queries {
            results.push(time_bgpmon(&mut client, &q.filter).await);
        }
        (total, results)
    });
    let rss = peak_rss(d.pid());
    let (dir, status) = d.stop();
    assert!(status.success(), "bgpmond exited with {status}");
    let bytes = std::fs::metadata(dir.path().join("bgpmon.redb"))
        .unwrap()
        .len();
    BgpmonRun {
        ingest,
        total,
        bytes,
        rss,
        results,
    }
}

fn part1(paths: &[PathBuf]) -> Vec<v1::CaptureFilter> {
    let start = Instant::now();
    let rows = parse_rows(paths);
    let parse = start.elapsed();
    assert_eq!(rows.captures, CAPTURES, "captures parsed for PostgreSQL");
    let picks = picks(&rows);
    let queries = queries(&picks);

    let bgpmon = bgpmon_part1(paths, &queries);

    let pg = Postgres::start();
    let mut client = pg.connect();
    let version: String = client.query_one("SHOW server_version", &[]).unwrap().get(0);
    let load = pg_load(&mut client, &rows);
    let (pg_total, _) = time_pg(&mut client, "true");
    let pg_results: Vec<(u64, Duration)> = queries
        .iter()
        .map(|q| time_pg(&mut client, &q.sql))
        .collect();
    drop(client);
    drop(pg);

    println!(
        "== Part 1: {} files, {CAPTURES} captures, {} PostgreSQL rows (one per prefix element); PostgreSQL {version} ==",
        paths.len(),
        rows.rows
    );
    println!(
        "(bgpkit-parser to CSV for PostgreSQL, not timed in its ingest: {:.0} ms, {:.1} MB of CSV)",
        ms(parse),
        mb(rows.csv.len() as u64)
    );
    println!(
        "captures stored: bgpmon {}, PostgreSQL {pg_total}{}",
        bgpmon.total,
        if bgpmon.total == pg_total {
            ""
        } else {
            "  DIFFERENT"
        }
    );
    println!();
    println!("ingest");
    let pg_ingest = load.copy + load.indexes.iter().sum::<Duration>();
    println!(
        "  bgpmon write captures (parse + store, to the daemon's commit): {:>9.0} ms  {:>9.0} captures/s",
        ms(bgpmon.ingest),
        CAPTURES as f64 / bgpmon.ingest.as_secs_f64()
    );
    let idx: Vec<String> = load
        .indexes
        .iter()
        .map(|d| format!("{:.0}", ms(*d)))
        .collect();
    println!(
        "  PostgreSQL COPY {:.0} ms + indexes [{}] ms = {:.0} ms  {:.0} captures/s  (ANALYZE {:.0} ms more, not counted)",
        ms(load.copy),
        idx.join(", "),
        ms(pg_ingest),
        CAPTURES as f64 / pg_ingest.as_secs_f64(),
        ms(load.analyze)
    );
    println!(
        "  ratio PostgreSQL / bgpmon: {:.2} (>1: bgpmon faster)",
        pg_ingest.as_secs_f64() / bgpmon.ingest.as_secs_f64()
    );
    println!();
    println!("bytes stored");
    println!(
        "  bgpmon redb file after stop: {:>12} ({:.1} B/capture)",
        bgpmon.bytes,
        bgpmon.bytes as f64 / CAPTURES as f64
    );
    println!(
        "  PostgreSQL pg_total_relation_size('elem'): {:>12} ({:.1} B/capture)",
        load.bytes,
        load.bytes as f64 / CAPTURES as f64
    );
    println!(
        "  ratio PostgreSQL / bgpmon: {:.2}",
        load.bytes as f64 / bgpmon.bytes as f64
    );
    println!("  bgpmond peak RSS: {:.0} MB", mb(bgpmon.rss));
    println!();
    println!("queries: count of matching captures, warm, median of {RUNS} runs");
    println!(
        "{:<36} {:>9} {:>9} {:>11} {:>11} {:>8}",
        "query", "bgpmon n", "PG n", "bgpmon ms", "PG ms", "PG/bgpmon"
    );
    let mut differ = Vec::new();
    for ((q, (bn, bt)), (pn, pt)) in queries.iter().zip(&bgpmon.results).zip(&pg_results) {
        println!(
            "{:<36} {:>9} {:>9} {:>11.3} {:>11.3} {:>8.1}{}",
            q.name,
            bn,
            pn,
            ms(*bt),
            ms(*pt),
            pt.as_secs_f64() / bt.as_secs_f64(),
            if bn == pn { "" } else { "  COUNTS DIFFER" }
        );
        if bn != pn {
            differ.push(q.name.clone());
        }
    }
    for name in differ {
        println!(
            "note: {name}: the two sides count differently; see the doc comment of benches/storage.rs"
        );
    }
    println!("PostgreSQL WHERE clauses:");
    for q in &queries {
        println!("  {:<36} {}", q.name, q.sql);
    }
    println!();
    let keep = [0, 1, 3, 4];
    keep.iter().map(|i| queries[*i].filter.clone()).collect()
}

// ---- Part 2 ----

fn decoded_captures(paths: &[PathBuf]) -> Vec<v1::Capture> {
    let mut out = Vec::with_capacity(CAPTURES as usize);
    for path in paths {
        let reader =
            bgpmon_ingest::MrtReader::open(path, bgpmon_ingest::CollectorNames::new()).unwrap();
        out.extend(reader.map(|c| c.decode().unwrap()));
    }
    assert_eq!(out.len() as u64, CAPTURES);
    out
}

struct ScaleRun {
    size: u64,
    ingest: Duration,
    bytes: u64,
    rss: u64,
    results: Vec<(u64, Duration)>,
}

fn scale(
    size: u64,
    mut captures: Vec<v1::Capture>,
    times: &[u64],
    filters: &[v1::CaptureFilter],
) -> (ScaleRun, Vec<v1::Capture>) {
    let d = util::Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", SESSION]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let times = times.to_vec();
    let (captures, ingest, results) = runtime.block_on(async {
        let mut client = connect(&d.addr).await;
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let producer = std::thread::spawn(move || {
            let mut sent = 0u64;
            let mut since_flush = 0u64;
            let mut first = true;
            let mut round = 0u64;
            'rounds: loop {
                let shift = round * SHIFT_US;
                for (chunk, chunk_times) in captures.chunks_mut(BATCH).zip(times.chunks(BATCH)) {
                    let room = usize::try_from(size - sent).unwrap().min(chunk.len());
                    let batch: Vec<EncodedCapture> = chunk[..room]
                        .iter_mut()
                        .zip(chunk_times)
                        .map(|(c, t)| {
                            c.timestamp_us = t + shift;
                            EncodedCapture::new(c)
                        })
                        .collect();
                    sent += room as u64;
                    since_flush += room as u64;
                    // Only a flush commits, so the last message flushes.
                    let flush = since_flush >= FLUSH_EVERY || sent == size;
                    if flush {
                        since_flush = 0;
                    }
                    let message = v1::WriteCapturesRequest {
                        session_id: if first { SESSION.into() } else { String::new() },
                        captures: batch,
                        flush,
                        ..v1::WriteCapturesRequest::default()
                    };
                    first = false;
                    if tx.blocking_send(message).is_err() || sent == size {
                        break 'rounds;
                    }
                }
                round += 1;
            }
            for (c, t) in captures.iter_mut().zip(&times) {
                c.timestamp_us = *t;
            }
            captures
        });
        let start = Instant::now();
        let response = client
            .write_captures(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        let ingest = start.elapsed();
        assert_eq!(response.captures_written, size);
        let captures = producer.join().unwrap();
        let total = bgpmon_count(&mut client, &v1::CaptureFilter::default()).await;
        assert_eq!(total, size);
        let mut results = Vec::new();
        for f in filters {
            results.push(time_bgpmon(&mut client, f).await);
        }
        (captures, ingest, results)
    });
    let rss = peak_rss(d.pid());
    let (dir, status) = d.stop();
    assert!(status.success(), "bgpmond exited with {status}");
    let bytes = std::fs::metadata(dir.path().join("bgpmon.redb"))
        .unwrap()
        .len();
    (
        ScaleRun {
            size,
            ingest,
            bytes,
            rss,
            results,
        },
        captures,
    )
}

fn part2(paths: &[PathBuf], filters: &[v1::CaptureFilter], names: &[&str]) {
    let sizes: Vec<u64> = match std::env::var("BGPMON_BENCH_SIZES") {
        Ok(s) => s.split(',').map(|n| n.trim().parse().unwrap()).collect(),
        Err(_) => DEFAULT_SIZES.to_vec(),
    };
    let mut captures = decoded_captures(paths);
    let times: Vec<u64> = captures.iter().map(|c| c.timestamp_us).collect();
    let mut runs = Vec::new();
    for size in sizes {
        let (run, back) = scale(size, captures, &times, filters);
        captures = back;
        eprintln!("scale {size}: ingest {:.1} s", run.ingest.as_secs_f64());
        runs.push(run);
    }
    println!(
        "== Part 2: bgpmon at scale (the {CAPTURES} captures replayed, +{SHIFT_US} us per round) =="
    );
    println!(
        "{:>11} {:>12} {:>10} {:>10} {:>10}",
        "captures", "ingest c/s", "ingest s", "B/capture", "peak RSS"
    );
    for r in &runs {
        println!(
            "{:>11} {:>12.0} {:>10.1} {:>10.1} {:>7.0} MB",
            r.size,
            r.size as f64 / r.ingest.as_secs_f64(),
            r.ingest.as_secs_f64(),
            r.bytes as f64 / r.size as f64,
            mb(r.rss)
        );
    }
    println!("queries (answer captures / median ms of {RUNS} warm runs)");
    let mut header = format!("{:<36}", "query");
    for r in &runs {
        write!(header, " {:>24}", format!("{} captures", r.size)).unwrap();
    }
    println!("{header}");
    for (i, name) in names.iter().enumerate() {
        let mut line = format!("{name:<36}");
        for r in &runs {
            let (n, t) = r.results[i];
            write!(line, " {:>24}", format!("{n} / {:.3} ms", ms(t))).unwrap();
        }
        println!("{line}");
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown CPU")
        .trim()
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn main() {
    let Some(dir) = util::shared_mrt() else {
        eprintln!("SKIPPED: ../shared/data/mrt is not here, so the storage bench did not run");
        return;
    };
    let paths: Vec<PathBuf> = FILES.iter().map(|f| dir.join(f)).collect();
    println!("machine: {}", machine());
    let filters = part1(&paths);
    let names = [
        "origin (as above)",
        "more-specific /8 (as above)",
        "peer + 1 h (as above; round 0 only)",
        "path contains 3356",
    ];
    part2(&paths, &filters, &names);
}
