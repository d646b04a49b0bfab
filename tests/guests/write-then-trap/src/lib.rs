//! A task that flushes some captures, buffers more, then panics: what it
//! flushed must stay, and what it only buffered must roll back.

use bgpmon_guest::{
    Capture, IpAddress, Module, ModuleInfo, Options, PathSegment, RunResult, Session,
};

struct WriteThenTrap;

fn capture(i: u64) -> Capture {
    Capture {
        timestamp_us: 1_700_000_000_000_000 + i,
        collector: "trap-test".into(),
        collector_ip: None,
        peer_ip: IpAddress::Ipv4((192, 0, 2, 9)),
        peer_as: 64496,
        as_path: vec![PathSegment::Sequence(vec![64496, 64511])],
        origin_as: Some(64511),
        next_hop: None,
        advertised: vec![
            "198.51.100.0/24"
                .parse()
                .unwrap_or_else(|e: String| panic!("{e}")),
        ],
        withdrawn: Vec::new(),
        communities: Vec::new(),
        origin: None,
        med: None,
        local_pref: None,
        atomic_aggregate: false,
        aggregator: None,
        is_rib: false,
    }
}

impl Module for WriteThenTrap {
    fn info() -> ModuleInfo {
        ModuleInfo::task(
            "write-then-trap",
            "Flushes some captures, buffers more, then panics",
        )
        .required_option("session", "the session to write to")
        .option(
            "flushed",
            "how many captures to flush before the buffered ones",
            "0",
        )
        .option(
            "buffered",
            "how many captures to buffer before panicking",
            "100",
        )
    }

    fn run(options: Options) -> Result<RunResult, String> {
        let flushed: u64 = options.parse("flushed")?;
        let buffered: u64 = options.parse("buffered")?;
        let session = Session::open(options.require("session")?)?;
        let writer = session.capture_writer()?;
        let first: Vec<Capture> = (0..flushed).map(capture).collect();
        writer.write(&first)?;
        writer.flush()?;
        let second: Vec<Capture> = (flushed..flushed + buffered).map(capture).collect();
        writer.write(&second)?;
        panic!("trapping with {buffered} captures buffered");
    }
}

bgpmon_guest::export_module!(WriteThenTrap);
