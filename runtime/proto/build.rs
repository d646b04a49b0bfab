//! Generates the Rust code of `proto/bgpmon/v1/bgpmon.proto` with protox,
//! so a clean machine needs no `protoc`, and writes its encoded file
//! descriptor set (for gRPC server reflection) and its method names to
//! `OUT_DIR`.

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(["bgpmon/v1/bgpmon.proto"], ["proto"])?;
    // prost-build writes `file_descriptor_set_path` only when it runs
    // protoc itself, so the set protox made is encoded here.
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("bgpmon_v1_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    // Every method of the API, so the daemon can label metrics by method
    // without taking label values from what a client sends.
    let methods: Vec<String> = descriptors
        .file
        .iter()
        .flat_map(|file| &file.service)
        .flat_map(|service| &service.method)
        .map(|method| format!("{:?}", method.name()))
        .collect();
    std::fs::write(
        out_dir.join("bgpmon_v1_methods.rs"),
        format!("&[{}]", methods.join(", ")),
    )?;
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
