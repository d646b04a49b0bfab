//! Fuzzes `bgpmon_fuzz_checks::bmp` (see that crate for the properties).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bgpmon_fuzz_checks::bmp(data);
});
