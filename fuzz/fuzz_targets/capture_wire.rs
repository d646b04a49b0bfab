//! Fuzzes `bgpmon_fuzz_checks::capture_wire` (see that crate for the properties).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bgpmon_fuzz_checks::capture_wire(data);
});
