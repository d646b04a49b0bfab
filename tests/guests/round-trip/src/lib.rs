//! A task that writes synthetic captures through a write stream, flushes
//! them, and reads back those of one origin through a filtered reader.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpmon_guest::{
    Capture, Community, Filter, Module, ModuleInfo, Options, PathSegment, Prefix, RunResult,
    Session,
};

struct RoundTrip;

/// The base timestamp of the synthetic captures: 2020-09-13T12:26:40Z.
const BASE_US: u64 = 1_600_000_000_000_000;

fn prefix(ip: IpAddr, len: u8) -> Prefix {
    Prefix::new(ip, len).unwrap_or_else(|e| panic!("{e}"))
}

/// Capture `i`: origin 64500 + i % 5, one IPv4 /24 and, for even `i`, one
/// IPv6 /48; every seventh withdraws a /16.
fn capture(i: u32) -> Capture {
    let origin = 64500 + i % 5;
    let mut advertised = vec![prefix(
        IpAddr::V4(Ipv4Addr::new(10, (i / 256) as u8, (i % 256) as u8, 0)),
        24,
    )];
    if i.is_multiple_of(2) {
        advertised.push(prefix(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, i as u16, 0, 0, 0, 0, 0)),
            48,
        ));
    }
    let withdrawn = if i.is_multiple_of(7) {
        vec![prefix(IpAddr::V4(Ipv4Addr::new(172, 16, 0, 0)), 16)]
    } else {
        Vec::new()
    };
    Capture {
        timestamp_us: BASE_US + u64::from(i) * 1_000_000,
        collector: "synthetic".into(),
        collector_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254)).into()),
        peer_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + (i % 3) as u8)).into(),
        peer_as: 64496 + i % 3,
        as_path: vec![PathSegment::Sequence(vec![64496 + i % 3, 64499, origin])],
        origin_as: Some(origin),
        next_hop: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)).into()),
        advertised,
        withdrawn,
        communities: vec![Community::Standard((64496, (i % 4) as u16))],
        origin: None,
        med: Some(i),
        local_pref: None,
        atomic_aggregate: false,
        aggregator: None,
        is_rib: false,
    }
}

impl Module for RoundTrip {
    fn info() -> ModuleInfo {
        ModuleInfo::task(
            "round-trip",
            "Writes synthetic captures, then reads one origin's back",
        )
        .required_option("session", "the session to use")
        .option("count", "how many captures to write", "50")
        .option("origin", "the origin AS to read back", "64500")
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let count: u32 = options.parse("count")?;
        let origin: u32 = options.parse("origin")?;
        let session = Session::open(options.require("session")?)?;
        let writer = session.capture_writer()?;
        let captures: Vec<Capture> = (0..count).map(capture).collect();
        for chunk in captures.chunks(100) {
            writer.write(chunk)?;
        }
        let written = writer.flush()?;
        drop(writer);

        let mut reader = session.captures(&Filter::new().origin(origin))?;
        let mut read = Vec::new();
        while let Some(batch) = reader.next_batch()? {
            read.extend(batch);
        }
        let expected: Vec<&Capture> = captures
            .iter()
            .filter(|c| c.origin_as == Some(origin))
            .collect();
        let identical = read.len() == expected.len()
            && read
                .iter()
                .zip(&expected)
                .all(|(a, b)| format!("{a:?}") == format!("{b:?}"));
        if !identical {
            return Err(format!(
                "read back {} captures of AS{origin}, expected {} identical ones",
                read.len(),
                expected.len()
            ));
        }
        Ok(
            RunResult::message(format!("wrote {written}, read {}", read.len())).finding(
                "round-trip",
                "captures read back equal those written",
                [
                    ("written", written.to_string()),
                    ("read", read.len().to_string()),
                ],
            ),
        )
    }
}

bgpmon_guest::export_module!(RoundTrip);
