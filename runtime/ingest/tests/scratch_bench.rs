#![allow(clippy::unwrap_used, missing_docs, reason = "scratch")]
use bgpmon_ingest::*;
use std::io::Read;
#[test]
fn bench() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mrt");
    for f in [
        "pch-as3856.bgp4mp-et.fullfeed.20151023.gz",
        "routeviews-route-views2.rib.20140523.0600.first1MB.complete.bz2",
        "ris-rrc00.updates.20190101.0000.gz",
    ] {
        let path = format!("{dir}/{f}");
        // decompress to memory
        let raw = std::fs::read(&path).unwrap();
        let mut plain = Vec::new();
        if f.ends_with(".gz") {
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut plain)
                .unwrap();
        } else {
            bzip2::read::MultiBzDecoder::new(&raw[..])
                .read_to_end(&mut plain)
                .unwrap();
        }
        for _ in 0..2 {
            let t = std::time::Instant::now();
            let mut cur = &plain[..];
            let mut n = 0;
            while let Ok(r) = bgpkit_parser::parse_mrt_record(&mut cur) {
                std::hint::black_box(&r);
                n += 1;
            }
            let base = t.elapsed();
            let t = std::time::Instant::now();
            let mut cur = &plain[..];
            let mut e = 0;
            let mut el = bgpkit_parser::Elementor::new();
            while let Ok(r) = bgpkit_parser::parse_mrt_record(&mut cur) {
                if let bgpkit_parser::models::MrtMessage::TableDumpV2Message(
                    bgpkit_parser::models::TableDumpV2Message::PeerIndexTable(_),
                ) = &r.message
                {
                    el.set_peer_table(r).unwrap();
                    continue;
                }
                for x in el.record_to_elems_iter(r).unwrap() {
                    std::hint::black_box(&x);
                    e += 1;
                }
            }
            let elems = t.elapsed();
            let t = std::time::Instant::now();
            let mut r = MrtReader::from_reader(
                "x",
                std::io::Cursor::new(plain.clone()),
                CollectorNames::new(),
            )
            .unwrap();
            let mut c = 0;
            while let Some(b) = r.next_batch(1000) {
                c += b.len();
                std::hint::black_box(b);
            }
            let ours = t.elapsed();
            let t = std::time::Instant::now();
            let mut r = MrtReader::open(&path, CollectorNames::new()).unwrap();
            while let Some(b) = r.next_batch(1000) {
                std::hint::black_box(b);
            }
            let ours_file = t.elapsed();
            println!(
                "{f}: records {n} parse-only {base:?} elems({e}) {elems:?} ours-plain({c}) {ours:?} ours-file {ours_file:?}"
            );
        }
    }
}
