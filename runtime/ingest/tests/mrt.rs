//! Reads the real MRT files of `../shared/data/mrt` and checks the exact counts its
//! `SOURCES.md` gives, then checks skips, stops and RIB mapping on small hand-built streams that
//! need no `../shared`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails on the first unexpected value"
)]

use std::collections::BTreeSet;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use bgpmon_ingest::{
    Capture, CollectorNames, Compression, IngestSummary, MrtReader, SKIP_KEEPALIVE, SKIP_OPEN,
    SKIP_PEER_INDEX_TABLE, SKIP_RIB_WITHOUT_PEER_TABLE, SKIP_STATE_CHANGE, SKIP_UNKNOWN_PEER,
    SkipKind,
};
use bgpmon_proto::v1::{SegmentKind, community};
use bgpmon_proto::{ip_from_bytes, prefix_from_proto};
use bgpmon_test_support::{shared_mrt, skip};

// ---- Real files ----

/// The shared MRT folder, or `None` after recording a [`skip`] when it is
/// absent.
fn data_dir() -> Option<PathBuf> {
    let dir = shared_mrt();
    if dir.is_none() {
        skip("../shared/data/mrt is not here");
    }
    dir
}

/// What a whole file gave: its summary and tallies over its captures.
#[derive(Default)]
struct Tally {
    captures: u64,
    ann_v4: u64,
    ann_v6: u64,
    wd_v4: u64,
    wd_v6: u64,
    prefixes: BTreeSet<(Vec<u8>, u32)>,
    peers: BTreeSet<(Vec<u8>, u32)>,
    collectors: BTreeSet<String>,
    collector_ips: BTreeSet<Vec<u8>>,
    ribs: u64,
    min_time_s: u64,
    max_time_s: u64,
}

/// Reads `file` of the shared folder in batches of 1000, tallying and passing each capture to
/// `inspect`.
fn read(file: &str, mut inspect: impl FnMut(&Capture)) -> Option<(IngestSummary, Tally)> {
    let path = data_dir()?.join(file);
    let mut reader = MrtReader::open(&path, CollectorNames::new()).unwrap();
    let progress = reader.progress();
    assert_eq!(
        progress.total_bytes(),
        Some(std::fs::metadata(&path).unwrap().len())
    );
    let mut tally = Tally {
        min_time_s: u64::MAX,
        ..Tally::default()
    };
    while let Some(batch) = reader.next_batch(1000) {
        assert!(!batch.is_empty() && batch.len() <= 1000);
        for capture in &batch {
            let capture = capture.decode().unwrap();
            tally.add(&capture);
            inspect(&capture);
        }
    }
    // Everything was read, so the input counter reached the end of the file unless the
    // stream stopped inside the file.
    let summary = reader.finish();
    if summary.stopped.is_none() {
        assert_eq!(Some(progress.bytes_read()), progress.total_bytes());
    }
    assert_eq!(summary.captures, tally.captures);
    Some((summary, tally))
}

impl Tally {
    fn add(&mut self, capture: &Capture) {
        self.captures += 1;
        for prefix in &capture.advertised {
            match prefix.address.len() {
                4 => self.ann_v4 += 1,
                16 => self.ann_v6 += 1,
                n => panic!("a prefix address of {n} bytes"),
            }
            self.prefixes
                .insert((prefix.address.clone(), prefix.length));
        }
        for prefix in &capture.withdrawn {
            match prefix.address.len() {
                4 => self.wd_v4 += 1,
                16 => self.wd_v6 += 1,
                n => panic!("a prefix address of {n} bytes"),
            }
            self.prefixes
                .insert((prefix.address.clone(), prefix.length));
        }
        self.peers
            .insert((capture.peer_ip.clone(), capture.peer_as));
        if !self.collectors.contains(&capture.collector) {
            self.collectors.insert(capture.collector.clone());
        }
        if !self.collector_ips.contains(&capture.collector_ip) {
            self.collector_ips.insert(capture.collector_ip.clone());
        }
        self.ribs += u64::from(capture.is_rib);
        let seconds = capture.timestamp_us / 1_000_000;
        self.min_time_s = self.min_time_s.min(seconds);
        self.max_time_s = self.max_time_s.max(seconds);
    }

    fn collectors(&self) -> Vec<&str> {
        self.collectors.iter().map(String::as_str).collect()
    }
}

/// The counts SOURCES.md gives for an updates file.
struct Updates {
    file: &'static str,
    compression: Compression,
    records: u64,
    updates: u64,
    /// Announcements v4, v6; withdrawals v4, v6.
    elems: [u64; 4],
    collector: &'static str,
    /// (reason, count) of every skip.
    skips: &'static [(&'static str, u64)],
    /// Distinct (peer IP, peer AS) of the UPDATEs, where SOURCES.md counts peers that way.
    peers: Option<usize>,
    /// Distinct prefixes, announced or withdrawn.
    prefixes: usize,
    /// The time span, in unix seconds.
    span: (u64, u64),
}

fn check_updates(expected: &Updates) -> Option<Tally> {
    let (summary, tally) = read(expected.file, |capture| {
        assert!(!capture.is_rib);
        // An UPDATE with announcements has an origin attribute and a next hop (its path is
        // empty over iBGP, as in the PCH file).
        if !capture.advertised.is_empty() {
            assert_ne!(capture.origin, 0, "{capture:?}");
            assert!(!capture.next_hop.is_empty(), "{capture:?}");
        }
    })?;
    let file = expected.file;
    assert_eq!(summary.compression, expected.compression, "{file}");
    assert_eq!(summary.records, expected.records, "{file}");
    assert_eq!(summary.captures, expected.updates, "{file}");
    assert_eq!(
        summary.elements,
        expected.elems.iter().sum::<u64>(),
        "{file}"
    );
    assert_eq!(
        [tally.ann_v4, tally.ann_v6, tally.wd_v4, tally.wd_v6],
        expected.elems,
        "{file}"
    );
    let skips: Vec<(&str, u64)> = summary
        .skipped
        .iter()
        .map(|skip| (skip.reason.as_str(), skip.count))
        .collect();
    let mut expected_skips = expected.skips.to_vec();
    expected_skips.sort_unstable();
    let mut sorted_skips = skips.clone();
    sorted_skips.sort_unstable();
    assert_eq!(sorted_skips, expected_skips, "{file}");
    assert_eq!(summary.skipped_total(SkipKind::Malformed), 0, "{file}");
    assert_eq!(
        summary.skipped_total(SkipKind::Informational),
        expected.records - expected.updates,
        "{file}"
    );
    assert!(summary.malformed_samples.is_empty(), "{file}");
    assert_eq!(summary.stopped, None, "{file}");
    assert_eq!(summary.bytes, uncompressed_size(file), "{file}");
    assert_eq!(tally.collectors(), [expected.collector], "{file}");
    if let Some(peers) = expected.peers {
        assert_eq!(tally.peers.len(), peers, "{file}");
    }
    assert_eq!(tally.prefixes.len(), expected.prefixes, "{file}");
    assert!(
        expected.span.0 <= tally.min_time_s && tally.max_time_s <= expected.span.1,
        "{file}: {}..{} outside {:?}",
        tally.min_time_s,
        tally.max_time_s,
        expected.span
    );
    Some(tally)
}

/// The uncompressed sizes SOURCES.md gives.
fn uncompressed_size(file: &str) -> u64 {
    match file {
        "ris-rrc00.updates.20190101.0000.gz" => 7_117_954,
        "routeviews-route-views2.updates.20260222.1530.bz2" => 6_526_793,
        "routeviews-route-views2.updates.20130101.0013.mrt" => 1_923_282,
        "pch-as3856.bgp4mp-et.fullfeed.20151023.gz" => 13_511_326,
        "ris-rrc21.updates.20160811.1600.gz" => 2_433_383,
        "ris.rrc06.updates.1427846400.gz" => 96_101,
        "routeviews.route-views.jinx.updates.1427846400.bz2" => 197_462,
        "ris.bview.20190417.0800.2peers.gz" => 601_291,
        other => panic!("no size for {other}"),
    }
}

#[test]
fn ris_rrc00_updates() {
    let Some(tally) = check_updates(&Updates {
        file: "ris-rrc00.updates.20190101.0000.gz",
        compression: Compression::Gzip,
        records: 54_514,
        updates: 54_107,
        elems: [150_389, 9_559, 2_173, 453],
        collector: "rrc00",
        skips: &[(SKIP_KEEPALIVE, 364), (SKIP_STATE_CHANGE, 43)],
        peers: None,
        prefixes: 18_500,
        span: (1_546_300_800, 1_546_301_099),
    }) else {
        return;
    };
    // IPv6 prefixes, over IPv6 sessions from the collector's IPv6 address.
    assert!(tally.ann_v6 > 0);
    let v6_local: IpAddr = "2001:67c:2e8:2:ffff:0:4:28".parse().unwrap();
    let v4_local: IpAddr = "193.0.4.28".parse().unwrap();
    let ips: BTreeSet<Option<IpAddr>> = tally
        .collector_ips
        .iter()
        .map(|ip| ip_from_bytes(ip).unwrap())
        .collect();
    assert_eq!(ips, BTreeSet::from([Some(v4_local), Some(v6_local)]));
}

#[test]
fn route_views2_2026_updates_have_microseconds() {
    let mut with_micros = 0u64;
    let Some(tally) = check_updates(&Updates {
        file: "routeviews-route-views2.updates.20260222.1530.bz2",
        compression: Compression::Bzip2,
        records: 49_220,
        updates: 49_220,
        elems: [111_057, 0, 7_606, 0],
        collector: "route-views2",
        skips: &[],
        peers: Some(20),
        prefixes: 7_839,
        span: (1_771_774_200, 1_771_775_100),
    }) else {
        return;
    };
    read(
        "routeviews-route-views2.updates.20260222.1530.bz2",
        |capture| with_micros += u64::from(capture.timestamp_us % 1_000_000 != 0),
    );
    // BGP4MP_ET: about every record has a non-zero microsecond part.
    assert!(with_micros > tally.captures * 99 / 100, "{with_micros}");
}

#[test]
fn route_views2_2013_updates_mix_as2_and_as4() {
    let mut four_byte_paths = 0u64;
    let mut as_trans = 0u64;
    let mut peer_ases = BTreeSet::new();
    let Some(_) = check_updates(&Updates {
        file: "routeviews-route-views2.updates.20130101.0013.mrt",
        compression: Compression::None,
        records: 18_088,
        updates: 18_088,
        elems: [42_997, 0, 4_465, 0],
        collector: "route-views2",
        skips: &[],
        peers: Some(35),
        prefixes: 3_392,
        span: (1_356_999_224, 1_357_000_125),
    }) else {
        return;
    };
    read(
        "routeviews-route-views2.updates.20130101.0013.mrt",
        |capture| {
            peer_ases.insert(capture.peer_as);
            let asns = || capture.as_path.iter().flat_map(|segment| &segment.asns);
            four_byte_paths += u64::from(asns().any(|asn| *asn > 65_535));
            as_trans += u64::from(asns().any(|asn| *asn == 23_456));
        },
    );
    // The brief expected 4-byte peer ASes here, but all 35 sessions of this file are with
    // peers whose AS fits in 2 bytes (32 distinct, the largest AS39756); the 4-byte ASNs are
    // in the AS paths, from MESSAGE_AS4 paths and from AS4_PATH merged into 2-byte
    // MESSAGE paths, which leaves no AS_TRANS (23456) behind.
    assert_eq!(peer_ases.len(), 32);
    assert_eq!(peer_ases.last(), Some(&39_756));
    assert_eq!(four_byte_paths, 788);
    assert_eq!(as_trans, 0);
}

#[test]
fn pch_full_table_burst() {
    let peer: IpAddr = "206.220.231.55".parse().unwrap();
    let Some(tally) = check_updates(&Updates {
        file: "pch-as3856.bgp4mp-et.fullfeed.20151023.gz",
        compression: Compression::Gzip,
        records: 89_686,
        updates: 89_679,
        elems: [577_737, 0, 3, 0],
        collector: "216.21.3.6",
        skips: &[(SKIP_OPEN, 1), (SKIP_KEEPALIVE, 2), (SKIP_STATE_CHANGE, 4)],
        peers: Some(1),
        prefixes: 577_706,
        span: (1_445_565_678, 1_445_565_715),
    }) else {
        return;
    };
    assert_eq!(
        tally.peers,
        BTreeSet::from([(bgpmon_proto::ip_to_bytes(peer), 3856)])
    );
}

#[test]
fn ris_rrc21_updates() {
    check_updates(&Updates {
        file: "ris-rrc21.updates.20160811.1600.gz",
        compression: Compression::Gzip,
        records: 17_406,
        updates: 17_216,
        elems: [32_710, 6_546, 1_616, 340],
        collector: "rrc21",
        skips: &[(SKIP_KEEPALIVE, 168), (SKIP_STATE_CHANGE, 22)],
        peers: None,
        prefixes: 1_717,
        span: (1_470_931_200, 1_470_931_499),
    });
}

#[test]
fn ris_rrc06_updates() {
    check_updates(&Updates {
        file: "ris.rrc06.updates.1427846400.gz",
        compression: Compression::Gzip,
        records: 795,
        updates: 761,
        elems: [1_160, 275, 106, 16],
        collector: "rrc06",
        skips: &[(SKIP_KEEPALIVE, 30), (SKIP_STATE_CHANGE, 4)],
        peers: None,
        prefixes: 500,
        span: (1_427_846_401, 1_427_846_699),
    });
}

#[test]
fn route_views_jinx_known_answer() {
    let wanted: Vec<String> = (136..140).map(|n| format!("154.73.{n}.0/24")).collect();
    let mut matches = Vec::new();
    let Some(_) = check_updates(&Updates {
        file: "routeviews.route-views.jinx.updates.1427846400.bz2",
        compression: Compression::Bzip2,
        records: 1_756,
        updates: 1_756,
        elems: [8_149, 11, 440, 11],
        collector: "route-views.jinx",
        skips: &[],
        peers: Some(4),
        prefixes: 6_220,
        span: (1_427_846_430, 1_427_847_270),
    }) else {
        return;
    };
    read(
        "routeviews.route-views.jinx.updates.1427846400.bz2",
        |capture| {
            let advertised: Vec<String> = capture
                .advertised
                .iter()
                .map(|prefix| prefix_from_proto(prefix).unwrap().to_string())
                .collect();
            if wanted.iter().any(|prefix| advertised.contains(prefix)) {
                matches.push((capture.clone(), advertised));
            }
        },
    );
    // SOURCES.md: 4 announcements, all in one UPDATE at t=1427846874, which also carries
    // 197.231.196.0/22 and four /24s inside it.
    assert_eq!(matches.len(), 1, "{matches:?}");
    let (capture, advertised) = &matches[0];
    for prefix in &wanted {
        assert!(advertised.contains(prefix), "{prefix} in {advertised:?}");
    }
    assert!(advertised.contains(&"197.231.196.0/22".to_owned()));
    assert_eq!(capture.timestamp_us, 1_427_846_874_000_000);
    assert_eq!(capture.peer_as, 37105);
    assert_eq!(
        ip_from_bytes(&capture.peer_ip).unwrap(),
        Some("196.223.14.46".parse().unwrap())
    );
    assert_eq!(capture.as_path.len(), 1);
    assert_eq!(capture.as_path[0].kind, SegmentKind::Sequence as i32);
    assert_eq!(capture.as_path[0].asns, [37105, 37549]);
    assert_eq!(capture.origin_as, Some(37549));
    assert!(capture.communities.iter().any(|c| c.value
        == Some(community::Value::Standard(
            bgpmon_proto::v1::StandardCommunity {
                asn: 37105,
                value: 300
            }
        ))));
    assert_eq!(
        ip_from_bytes(&capture.next_hop).unwrap(),
        Some("196.223.14.84".parse().unwrap())
    );
    assert_eq!(capture.collector, "route-views.jinx");
    assert!(!capture.is_rib);
}

/// The counts SOURCES.md gives for a RIB file.
struct Rib {
    file: &'static str,
    records: u64,
    /// IPv4 and IPv6 entries.
    entries: [u64; 2],
    prefixes: usize,
    peers: usize,
    collector: &'static str,
    collector_ip: &'static str,
    dump_time_s: u64,
}

fn check_rib(expected: &Rib) -> Option<IngestSummary> {
    let (summary, tally) = read(expected.file, |capture| {
        assert!(capture.is_rib);
        assert_eq!(capture.advertised.len(), 1);
        assert!(capture.withdrawn.is_empty());
        assert_eq!(capture.timestamp_us, expected.dump_time_s * 1_000_000);
    })?;
    let file = expected.file;
    let entries: u64 = expected.entries.iter().sum();
    assert_eq!(summary.records, expected.records, "{file}");
    assert_eq!(summary.captures, entries, "{file}");
    assert_eq!(summary.elements, entries, "{file}");
    assert_eq!(tally.ribs, entries, "{file}");
    assert_eq!([tally.ann_v4, tally.ann_v6], expected.entries, "{file}");
    assert_eq!(tally.prefixes.len(), expected.prefixes, "{file}");
    assert_eq!(tally.peers.len(), expected.peers, "{file}");
    assert_eq!(tally.collectors(), [expected.collector], "{file}");
    let ip: IpAddr = expected.collector_ip.parse().unwrap();
    assert_eq!(
        tally.collector_ips,
        BTreeSet::from([bgpmon_proto::ip_to_bytes(ip)]),
        "{file}"
    );
    assert_eq!(summary.skip_count(SKIP_PEER_INDEX_TABLE), 1, "{file}");
    assert_eq!(summary.skipped_total(SkipKind::Malformed), 0, "{file}");
    Some(summary)
}

const V4_RIB: Rib = Rib {
    file: "routeviews-route-views2.rib.20140523.0600.first1MB.complete.bz2",
    records: 9_073,
    entries: [270_005, 0],
    prefixes: 9_072,
    peers: 35,
    collector: "route-views2",
    collector_ip: "128.223.51.102",
    dump_time_s: 1_400_824_800,
};

const V6_RIB: Rib = Rib {
    file: "routeviews-route-views6.rib.20151101.0600.first1MB.complete.bz2",
    records: 6_871,
    entries: [0, 149_578],
    prefixes: 6_870,
    peers: 27,
    collector: "route-views6",
    collector_ip: "128.223.51.112",
    dump_time_s: 1_446_357_600,
};

#[test]
fn route_views2_rib_complete() {
    if let Some(summary) = check_rib(&V4_RIB) {
        assert_eq!(summary.stopped, None);
        assert_eq!(summary.bytes, 15_273_283);
    }
}

#[test]
fn route_views6_rib_complete() {
    if let Some(summary) = check_rib(&V6_RIB) {
        assert_eq!(summary.stopped, None);
        assert_eq!(summary.bytes, 12_131_168);
    }
}

#[test]
fn route_views2_rib_truncated_yields_every_whole_record() {
    let Some(summary) = check_rib(&Rib {
        file: "routeviews-route-views2.rib.20140523.0600.first1MB.truncated.bz2",
        ..V4_RIB
    }) else {
        return;
    };
    // The Rust bzip2 decoder gives all 9,073 complete records and then 1,267 bytes of the
    // next one (15,274,550 bytes in all, as Python's decoder), then fails.
    let stop = summary.stopped.expect("a stop");
    assert_eq!(stop.offset, 15_273_283);
    assert_eq!(stop.trailing_bytes, 1_267);
    assert!(
        stop.reason.contains("decompression not finished"),
        "{}",
        stop.reason
    );
    assert_eq!(summary.bytes, stop.offset);
}

#[test]
fn route_views6_rib_truncated_yields_every_whole_record() {
    let Some(summary) = check_rib(&Rib {
        file: "routeviews-route-views6.rib.20151101.0600.first1MB.truncated.bz2",
        ..V6_RIB
    }) else {
        return;
    };
    // As for IPv4: every complete record (the same 149,578 entries as the complete file),
    // then 1,829 bytes of a partial record (12,132,997 bytes decoded, as Python's decoder).
    let stop = summary.stopped.expect("a stop");
    assert_eq!(stop.offset, 12_131_168);
    assert_eq!(stop.trailing_bytes, 1_829);
    assert!(
        stop.reason.contains("decompression not finished"),
        "{}",
        stop.reason
    );
}

#[test]
fn ris_bview_two_peers() {
    let Some(summary) = check_rib(&Rib {
        file: "ris.bview.20190417.0800.2peers.gz",
        records: 6_641,
        entries: [6_123, 517],
        prefixes: 6_640,
        peers: 2,
        // No collector in the file name: the collector BGP id names it.
        collector: "179.0.156.33",
        collector_ip: "179.0.156.33",
        dump_time_s: 1_555_488_000,
    }) else {
        return;
    };
    assert_eq!(summary.stopped, None);
    assert_eq!(
        summary.bytes,
        uncompressed_size("ris.bview.20190417.0800.2peers.gz")
    );
}

#[test]
fn collector_override_and_nodes_apply_to_real_files() {
    let Some(dir) = data_dir() else {
        return;
    };
    let path = dir.join("ris.rrc06.updates.1427846400.gz");
    let forced = MrtReader::open(&path, CollectorNames::new().with_override("lab"))
        .unwrap()
        .all(|capture| capture.decode().unwrap().collector == "lab");
    assert!(forced);
    let path = dir.join("pch-as3856.bgp4mp-et.fullfeed.20151023.gz");
    let names = CollectorNames::new().with_node("216.21.3.6".parse().unwrap(), "pch-sea");
    let mut reader = MrtReader::open(&path, names).unwrap();
    assert_eq!(
        reader.next().unwrap().decode().unwrap().collector,
        "pch-sea"
    );
}

// ---- Hand-built streams ----

/// An MRT record: header then body.
fn mrt(timestamp: u32, kind: u16, subtype: u16, body: &[u8]) -> Vec<u8> {
    let mut record = Vec::new();
    record.extend(timestamp.to_be_bytes());
    record.extend(kind.to_be_bytes());
    record.extend(subtype.to_be_bytes());
    record.extend(u32::try_from(body.len()).unwrap().to_be_bytes());
    record.extend(body);
    record
}

/// A BGP message of type `kind`.
fn bgp(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut message = vec![0xff; 16];
    message.extend(u16::try_from(19 + body.len()).unwrap().to_be_bytes());
    message.push(kind);
    message.extend(body);
    message
}

/// A path attribute.
fn attribute(flags: u8, kind: u8, value: &[u8]) -> Vec<u8> {
    let mut attribute = vec![flags, kind, u8::try_from(value.len()).unwrap()];
    attribute.extend(value);
    attribute
}

/// The attributes of a route: ORIGIN IGP, a 4-byte AS_SEQUENCE, NEXT_HOP and a community.
fn route_attributes(path: &[u32], next_hop: [u8; 4], community: (u16, u16)) -> Vec<u8> {
    let mut as_path = vec![2, u8::try_from(path.len()).unwrap()];
    as_path.extend(path.iter().flat_map(|asn| asn.to_be_bytes()));
    let mut communities = community.0.to_be_bytes().to_vec();
    communities.extend(community.1.to_be_bytes());
    [
        attribute(0x40, 1, &[0]),
        attribute(0x40, 2, &as_path),
        attribute(0x40, 3, &next_hop),
        attribute(0xc0, 8, &communities),
    ]
    .concat()
}

/// A BGP UPDATE announcing 10.`n`.0.0/16 (as the only NLRI) from AS path 65001 4200000000.
fn update(n: u8) -> Vec<u8> {
    let attributes = route_attributes(&[65001, 4_200_000_000], [192, 0, 2, 1], (65001, 7));
    let mut body = 0u16.to_be_bytes().to_vec();
    body.extend(u16::try_from(attributes.len()).unwrap().to_be_bytes());
    body.extend(attributes);
    body.extend([16, 10, n]);
    bgp(2, &body)
}

/// A BGP4MP_MESSAGE_AS4 record from peer AS65001 at 192.0.2.1 to collector 192.0.2.254.
fn bgp4mp(timestamp: u32, message: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(65001u32.to_be_bytes());
    body.extend(65000u32.to_be_bytes());
    body.extend(0u16.to_be_bytes());
    body.extend(1u16.to_be_bytes());
    body.extend([192, 0, 2, 1]);
    body.extend([192, 0, 2, 254]);
    body.extend(message);
    mrt(timestamp, 16, 4, &body)
}

fn reader(bytes: Vec<u8>) -> MrtReader {
    MrtReader::from_reader(
        "hand-built",
        std::io::Cursor::new(bytes),
        CollectorNames::new(),
    )
    .unwrap()
}

fn read_all(bytes: Vec<u8>) -> (Vec<Capture>, IngestSummary) {
    let mut reader = reader(bytes);
    let captures: Vec<Capture> = reader.by_ref().map(|c| c.decode().unwrap()).collect();
    (captures, reader.finish())
}

#[test]
fn hand_built_update_maps_every_field() {
    let (captures, summary) = read_all(bgp4mp(1_700_000_000, &update(1)));
    assert_eq!(captures.len(), 1);
    let capture = &captures[0];
    assert_eq!(capture.timestamp_us, 1_700_000_000_000_000);
    assert_eq!(capture.collector, "192.0.2.254");
    assert_eq!(capture.collector_ip, [192, 0, 2, 254]);
    assert_eq!(capture.peer_ip, [192, 0, 2, 1]);
    assert_eq!(capture.peer_as, 65001);
    assert_eq!(capture.as_path[0].asns, [65001, 4_200_000_000]);
    assert_eq!(capture.origin_as, Some(4_200_000_000));
    assert_eq!(capture.next_hop, [192, 0, 2, 1]);
    assert_eq!(
        prefix_from_proto(&capture.advertised[0])
            .unwrap()
            .to_string(),
        "10.1.0.0/16"
    );
    assert_eq!(capture.communities.len(), 1);
    assert_eq!(
        capture.origin,
        bgpmon_proto::v1::OriginAttribute::Igp as i32
    );
    assert_eq!(
        (summary.records, summary.captures, summary.elements),
        (1, 1, 1)
    );
    assert_eq!(summary.compression, Compression::None);
    assert_eq!(summary.stopped, None);
}

#[test]
fn garbage_after_a_record_stops_after_it() {
    let record = bgp4mp(1, &update(1));
    let mut bytes = record.clone();
    bytes.extend(b"junk!");
    let (captures, summary) = read_all(bytes);
    assert_eq!(captures.len(), 1);
    assert_eq!(summary.records, 1);
    let stop = summary.stopped.unwrap();
    assert_eq!(stop.offset, record.len() as u64);
    assert_eq!(stop.trailing_bytes, 5);
    assert!(!stop.reason.is_empty());
}

#[test]
fn a_record_cut_short_stops_at_its_start() {
    let first = bgp4mp(1, &update(1));
    let second = bgp4mp(2, &update(2));
    let mut bytes = [first.clone(), second.clone()].concat();
    bytes.truncate(first.len() + second.len() / 2);
    let (captures, summary) = read_all(bytes);
    assert_eq!(captures.len(), 1);
    let stop = summary.stopped.unwrap();
    assert_eq!(stop.offset, first.len() as u64);
    assert_eq!(stop.trailing_bytes, (second.len() / 2) as u64);
    assert!(
        stop.reason.contains("ends inside a record"),
        "{}",
        stop.reason
    );
}

#[test]
fn malformed_and_unknown_records_are_skipped_and_counted() {
    let first = bgp4mp(1, &update(1));
    // A BGP message of unknown type 9 inside a well-framed record.
    let bad_message = bgp4mp(2, &bgp(9, &[1, 2, 3]));
    // An MRT type no parser knows.
    let unknown_type = mrt(3, 99, 0, &[0; 10]);
    let last = bgp4mp(4, &update(4));
    let bytes = [
        first.clone(),
        bad_message.clone(),
        unknown_type.clone(),
        last,
    ]
    .concat();
    let (captures, summary) = read_all(bytes);
    assert_eq!(captures.len(), 2);
    assert_eq!(captures[1].timestamp_us, 4_000_000);
    assert_eq!(summary.records, 4);
    assert_eq!(summary.skipped_total(SkipKind::Malformed), 2);
    assert_eq!(summary.stopped, None);
    let samples = &summary.malformed_samples;
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0].offset, first.len() as u64);
    assert_eq!(samples[0].length, bad_message.len() as u64);
    assert_eq!(samples[0].bytes, bad_message[..bad_message.len().min(64)]);
    assert_eq!(samples[1].offset, (first.len() + bad_message.len()) as u64);
    assert_eq!(samples[1].bytes, unknown_type);
    for skip in &summary.skipped {
        assert!(skip.reason.starts_with("malformed record: "), "{skip:?}");
    }
}

#[test]
fn keepalives_and_state_changes_are_informational() {
    let mut state_change = Vec::new();
    state_change.extend(65001u32.to_be_bytes());
    state_change.extend(65000u32.to_be_bytes());
    state_change.extend(0u16.to_be_bytes());
    state_change.extend(1u16.to_be_bytes());
    state_change.extend([192, 0, 2, 1, 192, 0, 2, 254]);
    state_change.extend(1u16.to_be_bytes());
    state_change.extend(2u16.to_be_bytes());
    let bytes = [
        bgp4mp(1, &bgp(4, &[])),
        mrt(2, 16, 5, &state_change),
        bgp4mp(3, &update(3)),
    ]
    .concat();
    let (captures, summary) = read_all(bytes);
    assert_eq!(captures.len(), 1);
    assert_eq!(summary.skip_count(SKIP_KEEPALIVE), 1);
    assert_eq!(summary.skip_count(SKIP_STATE_CHANGE), 1);
    assert_eq!(summary.skipped_total(SkipKind::Malformed), 0);
}

#[test]
fn a_truncated_gzip_stream_yields_every_whole_record() {
    let record_len = bgp4mp(0, &update(0)).len();
    let plain: Vec<u8> = (0..3000u32)
        .flat_map(|i| bgp4mp(i, &update((i % 200) as u8)))
        .collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&plain).unwrap();
    let mut compressed = encoder.finish().unwrap();
    compressed.truncate(compressed.len() * 2 / 3);
    let (captures, summary) = read_all(compressed);
    assert_eq!(summary.compression, Compression::Gzip);
    let stop = summary.stopped.unwrap();
    let whole = captures.len() as u64;
    assert!(whole > 0 && whole < 3000, "{whole}");
    assert_eq!(summary.records, whole);
    assert_eq!(stop.offset, whole * record_len as u64);
    for (i, capture) in captures.iter().enumerate() {
        assert_eq!(capture.timestamp_us, i as u64 * 1_000_000);
    }
}

#[test]
fn a_bzip2_stream_reads_like_plain() {
    let plain: Vec<u8> = (0..50u32).flat_map(|i| bgp4mp(i, &update(1))).collect();
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    encoder.write_all(&plain).unwrap();
    let (captures, summary) = read_all(encoder.finish().unwrap());
    assert_eq!(summary.compression, Compression::Bzip2);
    assert_eq!((captures.len(), summary.stopped), (50, None));
    assert_eq!(summary.bytes, plain.len() as u64);
}

/// A PEER_INDEX_TABLE of collector 198.51.100.1 with peers 0 (192.0.2.1, AS65001) and 1
/// (2001:db8::1, AS4200000000).
fn peer_index_table() -> Vec<u8> {
    let mut body = vec![198, 51, 100, 1];
    body.extend(4u16.to_be_bytes());
    body.extend(b"view");
    body.extend(2u16.to_be_bytes());
    // IPv4, 2-byte AS.
    body.push(0);
    body.extend([192, 0, 2, 1, 192, 0, 2, 1]);
    body.extend(65001u16.to_be_bytes());
    // IPv6, 4-byte AS.
    body.push(3);
    body.extend([192, 0, 2, 2]);
    body.extend(
        "2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    body.extend(4_200_000_000u32.to_be_bytes());
    mrt(1_600_000_000, 13, 1, &body)
}

/// A RIB_IPV4_UNICAST record for 203.0.113.0/24 with an entry per peer index.
fn rib(peer_indexes: &[u16]) -> Vec<u8> {
    let mut body = 7u32.to_be_bytes().to_vec();
    body.extend([24, 203, 0, 113]);
    body.extend(u16::try_from(peer_indexes.len()).unwrap().to_be_bytes());
    for index in peer_indexes {
        let attributes = route_attributes(&[64500, 64501], [192, 0, 2, 9], (64500, 1));
        body.extend(index.to_be_bytes());
        body.extend(1_500_000_000u32.to_be_bytes());
        body.extend(u16::try_from(attributes.len()).unwrap().to_be_bytes());
        body.extend(attributes);
    }
    mrt(1_600_000_000, 13, 2, &body)
}

#[test]
fn hand_built_rib_maps_peers_and_skips_unknown_ones() {
    let bytes = [rib(&[0]), peer_index_table(), rib(&[0, 1, 5])].concat();
    let (captures, summary) = read_all(bytes);
    assert_eq!(summary.skip_count(SKIP_RIB_WITHOUT_PEER_TABLE), 1);
    assert_eq!(summary.skip_count(SKIP_PEER_INDEX_TABLE), 1);
    assert_eq!(summary.skip_count(SKIP_UNKNOWN_PEER), 1);
    assert_eq!(
        (summary.records, summary.captures, summary.elements),
        (3, 2, 2)
    );
    let [first, second] = &captures[..] else {
        panic!("{captures:?}");
    };
    for capture in [first, second] {
        assert!(capture.is_rib);
        assert_eq!(capture.timestamp_us, 1_600_000_000_000_000);
        assert_eq!(capture.collector, "198.51.100.1");
        assert_eq!(capture.collector_ip, [198, 51, 100, 1]);
        assert_eq!(
            prefix_from_proto(&capture.advertised[0])
                .unwrap()
                .to_string(),
            "203.0.113.0/24"
        );
        assert_eq!(capture.origin_as, Some(64501));
        assert_eq!(capture.next_hop, [192, 0, 2, 9]);
    }
    assert_eq!(
        (first.peer_ip.as_slice(), first.peer_as),
        (&[192, 0, 2, 1][..], 65001)
    );
    assert_eq!(second.peer_ip.len(), 16);
    assert_eq!(second.peer_as, 4_200_000_000);
}

#[test]
fn batches_respect_their_maximum_across_records() {
    let bytes = [peer_index_table(), rib(&[0; 7]), rib(&[1; 5])].concat();
    let mut reader = reader(bytes);
    let sizes: Vec<usize> = std::iter::from_fn(|| reader.next_batch(3))
        .map(|batch| batch.len())
        .collect();
    assert_eq!(sizes, [3, 3, 3, 3]);
    assert_eq!(reader.next_batch(0), None);
    assert_eq!(reader.summary().captures, 12);
}
