#![allow(clippy::unwrap_used, missing_docs, reason = "scratch")]
use bgpmon_ingest::*;
use std::io::Read;
#[test]
fn prof() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mrt");
    let f = std::env::var("PROF_FILE")
        .unwrap_or("routeviews-route-views2.rib.20140523.0600.first1MB.complete.bz2".into());
    let raw = std::fs::read(format!("{dir}/{f}")).unwrap();
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
    let plain: &'static [u8] = Box::leak(plain.into_boxed_slice());
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let mut r = MrtReader::from_reader("x", plain, CollectorNames::new()).unwrap();
        let mut c = 0;
        while let Some(b) = r.next_batch(1000) {
            c += b.len();
            std::hint::black_box(b);
        }
        println!("{c} {:?}", t.elapsed());
    }
}
