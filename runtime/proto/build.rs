//! Generates the Rust code of `proto/bgpmon/v1/bgpmon.proto` with protox,
//! so a clean machine needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(["bgpmon/v1/bgpmon.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Hand-written in `src/write_captures.rs`: its captures stay encoded.
        .extern_path(
            ".bgpmon.v1.WriteCapturesRequest",
            "crate::write_captures::WriteCapturesRequest",
        )
        .compile_fds(descriptors)?;
    Ok(())
}
