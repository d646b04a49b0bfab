//! The properties bgpmon's fuzz targets check on arbitrary input.
//!
//! Each check takes the fuzzer's bytes and panics when a property fails;
//! the cargo-fuzz targets in `fuzz/` call them under libFuzzer (nightly),
//! and this crate's test replays the committed corpus and every crasher
//! kept in `fuzz/regressions/` on stable Rust, in CI.
//!
//! The properties go beyond "does not panic":
//! - [`capture_wire`]: the daemon's hand-written capture decoder accepts
//!   nothing that prost's generated decoder rejects, refuses with
//!   `InvalidArgument` only, and what it accepts survives a round trip
//!   through the API's encoder;
//! - [`filter`]: a filter is converted or refused with `InvalidArgument`,
//!   and a converted one can be matched;
//! - [`config`]: a config is accepted or refused with an error naming a
//!   key, and an accepted one prints as TOML that parses back to itself;
//! - [`mrt`]: the MRT reader ends on any input, counts what it yields, and
//!   every capture it yields is accepted by the daemon's decoder;
//! - [`bmp`]: BMP framing keeps every byte and offset in order, a router's
//!   errors name their message's offset, and every capture it yields is
//!   accepted by the daemon's decoder.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a check reports a failed property by panicking, as libFuzzer expects"
)]

use std::io::Cursor;

use bgpmon_ingest::bmp::{BmpEvent, BmpFramer, BmpRouter, ViewSet};
use bgpmon_ingest::{CollectorNames, MrtReader};
use bgpmon_proto::v1;
use bgpmon_server::Config;
use bgpmon_server::rpc::untrusted;
use bgpmon_store::{Capture, PathSegment};
use prost::Message;
use tonic::Code;

/// A check: panics when a property fails on the input, and returns whether
/// the input got past the decoder to the deeper checks.
pub type Check = fn(&[u8]) -> bool;

/// The fuzz targets, by the name of their corpus folder.
pub const TARGETS: [(&str, Check); 5] = [
    ("capture_wire", capture_wire),
    ("filter", filter),
    ("config", config),
    ("mrt", mrt),
    ("bmp", bmp),
];

/// Checks the daemon's capture decoder on `data`; returns whether it
/// decoded a capture.
///
/// # Panics
///
/// If the decoder accepts bytes prost rejects, refuses with a code other
/// than `InvalidArgument`, or does not decode its own encoding of what it
/// accepted to the same capture.
pub fn capture_wire(data: &[u8]) -> bool {
    let prost_accepts = v1::Capture::decode(data).is_ok();
    match untrusted::decode_capture(data) {
        Ok(capture) => {
            assert!(
                prost_accepts,
                "the capture decoder accepted bytes that prost rejects"
            );
            let again = untrusted::decode_capture(&untrusted::encode_capture(capture.clone()))
                .expect("the API's encoding of a decoded capture decodes");
            assert_eq!(again, capture, "a capture changed in a round trip");
            true
        }
        Err(status) => {
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            false
        }
    }
}

/// A capture with a path, prefixes and communities for filters to match.
fn sample_capture() -> Capture {
    let net = |s: &str| s.parse().expect("a valid prefix");
    Capture {
        timestamp_us: 1_546_300_800_000_000,
        collector: "rrc00".into(),
        collector_ip: None,
        peer_ip: "192.0.2.1".parse().expect("a valid address"),
        peer_as: 3356,
        as_path: vec![PathSegment::Sequence(vec![3356, 1299, 15169])],
        origin_as: Some(15169),
        next_hop: None,
        advertised: vec![net("8.8.8.0/24"), net("2001:db8::/32")],
        withdrawn: vec![net("10.0.0.0/8")],
        communities: vec![bgpmon_store::Community::Standard(3356, 100)],
        origin: None,
        med: None,
        local_pref: None,
        atomic_aggregate: false,
        aggregator: None,
        is_rib: false,
        mrt_type: Some(16),
        view: Some(bgpmon_store::RouteView::PrePolicy),
    }
}

/// Checks the filter conversion on `data`; returns whether it converted
/// a filter.
///
/// # Panics
///
/// If a filter is refused with a code other than `InvalidArgument`.
pub fn filter(data: &[u8]) -> bool {
    match untrusted::decode_filter(data) {
        Ok(filter) => {
            // Matching runs every term, regular expressions included.
            let _ = filter.matches(&sample_capture());
            true
        }
        Err(status) => {
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            false
        }
    }
}

/// Checks the config parser on `data` (as UTF-8; other bytes are not a
/// config file's text and are skipped); returns whether it accepted a
/// config.
///
/// # Panics
///
/// If an error names no key or says nothing, or an accepted config does
/// not parse back from its TOML to itself.
pub fn config(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    match Config::parse(text) {
        Ok(config) => {
            let printed = config.to_toml();
            let again = Config::parse(&printed)
                .unwrap_or_else(|e| panic!("the printed config does not parse: {e}\n{printed}"));
            assert_eq!(again, config, "a config changed when printed and parsed");
            true
        }
        Err(e) => {
            assert!(!e.key.is_empty(), "an error names no key: {e}");
            assert!(!e.message.is_empty(), "an error says nothing: {e}");
            false
        }
    }
}

/// Checks the MRT reader on `data`; returns whether it yielded a capture.
///
/// # Panics
///
/// If the daemon's decoder refuses a capture the reader yields, or the
/// reader's account disagrees with what it yielded.
pub fn mrt(data: &[u8]) -> bool {
    let Ok(mut reader) =
        MrtReader::from_reader("fuzz", Cursor::new(data.to_vec()), CollectorNames::new())
    else {
        return false;
    };
    let mut yielded = 0u64;
    while let Some(batch) = reader.next_batch(1000) {
        for capture in batch {
            if let Err(status) = untrusted::decode_capture(capture.as_bytes()) {
                panic!("the daemon refuses a capture the reader yields: {status:?}");
            }
            yielded += 1;
        }
    }
    let summary = reader.finish();
    assert_eq!(
        summary.captures, yielded,
        "the account counts other captures"
    );
    yielded > 0
}

/// Checks the BMP framing and router on `data` as one router's stream;
/// returns whether it yielded a capture.
///
/// # Panics
///
/// If a message is framed past the input or at an offset out of order, an
/// error names an offset other than its message's, or a capture the router
/// yields is refused by the daemon's decoder.
pub fn bmp(data: &[u8]) -> bool {
    let mut framer = BmpFramer::new();
    framer.extend_from_slice(data);
    let mut router = BmpRouter::new("fuzz", None, ViewSet::ALL);
    let mut next_offset = 0u64;
    let mut captures = false;
    loop {
        let frame = match framer.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => {
                assert_eq!(
                    next_offset + framer.buffered() as u64,
                    data.len() as u64,
                    "framing lost bytes"
                );
                break;
            }
            Err(e) => {
                assert_eq!(e.offset, next_offset, "a framing error names its message");
                break;
            }
        };
        assert_eq!(frame.offset, next_offset, "messages are framed in order");
        next_offset += frame.bytes.len() as u64;
        assert!(
            next_offset <= data.len() as u64,
            "a message framed past the input"
        );
        match router.handle(&frame, 0) {
            Ok(BmpEvent::RouteMonitoring {
                capture: Some(c), ..
            }) => {
                untrusted::decode_capture(c.as_bytes())
                    .expect("the daemon accepts every capture the router yields");
                captures = true;
            }
            Ok(_) => {}
            Err(e) => assert_eq!(e.offset, frame.offset, "an error names its message"),
        }
    }
    captures
}
