//! A task that writes synthetic captures through a write stream, flushes
//! them, and reads back those of one origin through a filtered reader;
//! with `columns`, it also checks the column reads against record reads.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgpmon_guest::{
    Aggregator, Capture, Community, Filter, Module, ModuleInfo, OptionType, Options,
    OriginAttribute, PathSegment, Prefix, RunResult, Session,
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
    let mut as_path = vec![PathSegment::Sequence(vec![64496 + i % 3, 64499, origin])];
    if i.is_multiple_of(3) {
        as_path.insert(0, PathSegment::ConfedSequence(vec![65001, 65002]));
    }
    if i % 5 == 2 {
        as_path.insert(0, PathSegment::ConfedSet(vec![65003]));
    }
    let mut communities = vec![Community::Standard((64496, (i % 4) as u16))];
    if i % 2 == 1 {
        communities.push(Community::Large((64496, i, 7)));
    }
    let peer_ip = if i % 8 == 3 {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0xffff,
            0,
            0,
            0,
            0,
            1 + (i % 3) as u16,
        ))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1 + (i % 3) as u8))
    };
    let origins = [
        OriginAttribute::Igp,
        OriginAttribute::Egp,
        OriginAttribute::Incomplete,
    ];
    Capture {
        timestamp_us: BASE_US + u64::from(i) * 1_000_000,
        collector: if i % 4 == 2 {
            "synthetic-b"
        } else {
            "synthetic"
        }
        .into(),
        collector_ip: (!i.is_multiple_of(5))
            .then(|| IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254)).into()),
        peer_ip: peer_ip.into(),
        peer_as: 64496 + i % 3,
        as_path,
        origin_as: Some(origin),
        next_hop: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)).into()),
        advertised,
        withdrawn,
        communities,
        origin: (i % 4 != 3).then(|| origins[(i % 3) as usize]),
        med: Some(i),
        local_pref: (i % 2 == 1).then_some(100 + i),
        atomic_aggregate: i.is_multiple_of(6),
        aggregator: i.is_multiple_of(4).then(|| Aggregator {
            asn: origin,
            address: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)).into(),
        }),
        is_rib: i.is_multiple_of(9),
    }
}

/// Reads every capture of `session` twice, as records and as columns, in
/// batches of `batch`, and returns how many there were, or where the two
/// first differ.
fn compare_columns(session: &Session, batch: u32) -> Result<usize, String> {
    let mut records = Vec::new();
    let mut reader = session.captures(&Filter::new())?.batch_size(batch);
    while let Some(b) = reader.next_batch()? {
        records.extend(b);
    }
    // A module may hold only so many streams: close each before the next.
    drop(reader);
    let mut columns = Vec::new();
    let mut reader = session.captures(&Filter::new())?.batch_size(batch);
    let mut batches = 0;
    while let Some(b) = reader.next_columns()? {
        batches += 1;
        if b.len() > batch as usize || b.get(b.len()).is_some() {
            return Err(format!("a batch of {} columns for {batch} asked", b.len()));
        }
        columns.extend(b.iter().map(|c| c.to_capture()));
    }
    drop(reader);
    if records.len() > batch as usize && batches < 2 {
        return Err(format!(
            "{} captures came in {batches} batch",
            records.len()
        ));
    }
    // Both shapes mixed on one reader give the same captures again.
    let mut mixed = Vec::new();
    let mut reader = session.captures(&Filter::new())?.batch_size(batch);
    loop {
        let got = if mixed.len() % 2 == 0 {
            reader
                .next_columns()?
                .map(|b| b.iter().map(|c| c.to_capture()).collect())
        } else {
            reader.next_batch()?
        };
        match got {
            Some(b) => mixed.push(b),
            None => break,
        }
    }
    let mixed: Vec<Capture> = mixed.into_iter().flatten().collect();
    for (name, other) in [("columns", &columns), ("mixed reads", &mixed)] {
        if other.len() != records.len() {
            return Err(format!(
                "{name} gave {} captures, records {}",
                other.len(),
                records.len()
            ));
        }
        if let Some(i) =
            (0..records.len()).find(|&i| format!("{:?}", records[i]) != format!("{:?}", other[i]))
        {
            return Err(format!(
                "capture {i} differs: records {:?}, {name} {:?}",
                records[i], other[i]
            ));
        }
    }
    Ok(records.len())
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
        .option(
            "columns",
            "then read every capture as records and as columns, in batches of 7, and compare",
            "false",
        )
        .of_type(OptionType::Boolean)
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
        let mut result = RunResult::message(format!("wrote {written}, read {}", read.len()))
            .finding(
                "round-trip",
                "captures read back equal those written",
                [
                    ("written", written.to_string()),
                    ("read", read.len().to_string()),
                ],
            );
        if options.parse::<bool>("columns")? {
            let compared = compare_columns(&session, 7)?;
            result = result.finding(
                "columns",
                "captures read as columns equal those read as records",
                [("compared", compared.to_string())],
            );
        }
        Ok(result)
    }
}

bgpmon_guest::export_module!(RoundTrip);
