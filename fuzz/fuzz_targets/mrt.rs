//! Fuzzes `bgpmon_fuzz_checks::mrt` (see that crate for the properties).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bgpmon_fuzz_checks::mrt(data);
});
