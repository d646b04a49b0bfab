//! Builds the example and test guests for `wasm32-wasip2` with a nested
//! cargo, and writes a `guests.rs` with one path constant per guest and a
//! `foreach_guest!` macro over them.
//!
//! The nested build uses its own target folder inside `OUT_DIR`, so it
//! never waits on the outer cargo's lock.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a build script reports failure by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Each guest: package name, and the folder it lives in.
const GUESTS: &[(&str, &str)] = &[
    ("origin-stats", "example-modules/origin-stats"),
    ("example-daemon", "example-modules/example-daemon"),
    ("churn", "example-modules/churn"),
    ("periodic", "example-modules/periodic"),
    ("hijack", "example-modules/hijack"),
    ("hijack-live", "example-modules/hijack-live"),
    ("noop", "tests/guests/noop"),
    ("busy", "tests/guests/busy"),
    ("spin-forever", "tests/guests/spin-forever"),
    ("spin-daemon", "tests/guests/spin-daemon"),
    ("memory-hog", "tests/guests/memory-hog"),
    ("panic", "tests/guests/panic"),
    ("write-then-trap", "tests/guests/write-then-trap"),
    ("round-trip", "tests/guests/round-trip"),
    ("spawner", "tests/guests/spawner"),
    ("call-free-spinner", "tests/guests/call-free-spinner"),
    ("fork-bomb", "tests/guests/fork-bomb"),
    ("huge-info", "tests/guests/huge-info"),
    ("huge-result", "tests/guests/huge-result"),
    ("huge-log", "tests/guests/huge-log"),
    ("log-inject", "tests/guests/log-inject"),
    ("filter-bomb", "tests/guests/filter-bomb"),
    ("huge-memory", "tests/guests/huge-memory"),
    ("deep-recursion", "tests/guests/deep-recursion"),
    ("wasi-escape", "tests/guests/wasi-escape"),
    ("host-call-flood", "tests/guests/host-call-flood"),
    ("trap", "tests/guests/trap"),
    ("stream-hog", "tests/guests/stream-hog"),
    ("origins-v010", "tests/guests/origins-v010"),
    ("finding-reporter", "tests/guests/finding-reporter"),
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..").canonicalize().unwrap();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let target_dir = out_dir.join("guests");

    for dir in ["wit", "guest-sdk", "example-modules", "tests/guests"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .arg("build")
        .arg("--release")
        .arg("--locked")
        .arg("--target=wasm32-wasip2")
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .env("RUSTFLAGS", "-D warnings")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("CARGO_BUILD_JOBS");
    for (package, _) in GUESTS {
        cmd.arg("-p").arg(package);
    }
    let status = cmd.status().expect("cannot run cargo for the guests");
    assert!(
        status.success(),
        "building the guests for wasm32-wasip2 failed (see the errors above); if the target is missing, run `rustup target add wasm32-wasip2`"
    );

    let mut generated = String::new();
    let mut names = Vec::new();
    for (package, _) in GUESTS {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let path = target_dir.join("wasm32-wasip2/release").join(&file);
        assert!(Path::new(&path).exists(), "guest {package} built no {file}");
        let konst = package.to_uppercase().replace('-', "_");
        generated.push_str(&format!(
            "/// The `{package}` guest component.\npub const {konst}: &str = {:?};\n",
            path.display().to_string()
        ));
        names.push(konst);
    }
    generated.push_str(&format!(
        "/// Every guest, by package name and path.\npub const ALL: &[(&str, &str)] = &[{}];\n",
        GUESTS
            .iter()
            .zip(&names)
            .map(|((package, _), konst)| format!("({package:?}, {konst})"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let calls: String = GUESTS
        .iter()
        .map(|(package, _)| format!("        $mac!({});\n", package.replace('-', "_")))
        .collect();
    generated.push_str(&format!(
        "/// Calls `$mac!(name)` once per guest, `name` being the guest's package name in\n\
         /// snake case. A test suite passes a macro that names a test per guest, so a guest\n\
         /// added without a test fails to compile.\n\
         #[macro_export]\n\
         macro_rules! foreach_guest {{\n    ($mac:ident) => {{\n{calls}    }};\n}}\n"
    ));
    for guest in FOREIGN_GUESTS {
        generated.push_str(&guest.build(&root, &target_dir));
    }
    generated.push_str(&c_guest(&root, &out_dir, &target_dir));
    std::fs::write(out_dir.join("guests.rs"), generated).unwrap();
}

/// A guest in a language other than Rust, built where its toolchain (which
/// `scripts/setup.sh` installs) is present.
struct ForeignGuest {
    /// The constant naming the component.
    konst: &'static str,
    /// Its folder, from the workspace root.
    dir: &'static str,
    /// The toolchain's name, for messages.
    toolchain: &'static str,
    /// The build command: program (a path from `dir`, or a name on PATH)
    /// and arguments; the output path is appended.
    command: &'static [&'static str],
}

const FOREIGN_GUESTS: &[ForeignGuest] = &[
    ForeignGuest {
        konst: "PREFIX_LENGTHS_JS",
        dir: "example-modules/prefix-lengths-js",
        toolchain: "componentize-qjs",
        command: &[
            "node_modules/.bin/componentize-qjs",
            "--wit",
            "../../wit/deps/module-0.1.0",
            "--world",
            "analysis",
            "--js",
            "prefix-lengths.js",
            "--sync",
            "--stub-wasi",
            "-o",
        ],
    },
    ForeignGuest {
        konst: "COMMUNITY_STATS_PY",
        dir: "example-modules/community-stats-py",
        toolchain: "componentize-py",
        command: &[
            "componentize-py",
            "-d",
            "../../wit/deps/module-0.1.0",
            "-w",
            "analysis",
            "componentize",
            "app",
            "--stub-wasi",
            "-o",
        ],
    },
];

impl ForeignGuest {
    /// Builds the guest and returns the constant naming it: `Some(path)`,
    /// or `None` where the toolchain is missing, so the tests that need it
    /// skip and say why.
    fn build(&self, root: &Path, target_dir: &Path) -> String {
        let dir = root.join(self.dir);
        let (program, args) = self.command.split_first().unwrap();
        let doc = format!(
            "/// The guest component in `{}`, or `None` where {} is not installed\n\
             /// (`scripts/setup.sh` installs it).\n",
            self.dir, self.toolchain
        );
        let local = dir.join(program);
        let program = if program.contains('/') {
            local.into_os_string()
        } else {
            program.into()
        };
        let out = target_dir.join(format!("{}.wasm", self.konst.to_lowercase()));
        let status = Command::new(&program)
            .current_dir(&dir)
            .args(args)
            .arg(&out)
            .status();
        match status {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                println!(
                    "cargo:warning={} is not installed; run scripts/setup.sh to build the guest in {}",
                    self.toolchain, self.dir
                );
                format!("{doc}pub const {}: Option<&str> = None;\n", self.konst)
            }
            Err(e) => panic!("cannot run {} for {}: {e}", self.toolchain, self.dir),
            Ok(status) => {
                assert!(
                    status.success(),
                    "building the guest in {} with {} failed (see the errors above)",
                    self.dir,
                    self.toolchain
                );
                format!(
                    "{doc}pub const {}: Option<&str> = Some({:?});\n",
                    self.konst,
                    out.display().to_string()
                )
            }
        }
    }
}

/// The C example, and the clang that builds it (Debian's `clang-19`, with
/// `lld-19`, `libclang-rt-19-dev-wasm32` and `wasi-libc`, which
/// `scripts/setup.sh` installs).
const C_GUEST: &str = "example-modules/path-lengths-c";
const C_COMPILERS: &[&str] = &["clang-19", "clang"];

/// Builds the C example: generates the world's C bindings, compiles them
/// and the module with clang for `wasm32-wasi` as a reactor, and makes the
/// core module a component with the WASI preview1 reactor adapter. Returns
/// the constant naming it, `None` where no clang for wasm32-wasi is here.
fn c_guest(root: &Path, out_dir: &Path, target_dir: &Path) -> String {
    let doc = format!(
        "/// The guest component in `{C_GUEST}`, or `None` where clang for wasm32-wasi is not\n\
         /// installed (`scripts/setup.sh` installs it).\n"
    );
    let none = || format!("{doc}pub const PATH_LENGTHS_C: Option<&str> = None;\n");
    let Some(clang) = C_COMPILERS.iter().find(|cc| {
        Command::new(cc)
            .args(["--target=wasm32-wasi", "--print-libgcc-file-name"])
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        println!(
            "cargo:warning=clang for wasm32-wasi is not installed; run scripts/setup.sh to build the guest in {C_GUEST}"
        );
        return none();
    };

    let bindings = out_dir.join("c-bindings");
    std::fs::create_dir_all(&bindings).unwrap();
    let mut resolve = wit_bindgen_core::wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_path(root.join("wit/deps/module-0.1.0"))
        .unwrap();
    let world = resolve.select_world(&[package], Some("analysis")).unwrap();
    let mut files = wit_bindgen_core::Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)
        .unwrap();
    for (name, bytes) in files.iter() {
        std::fs::write(bindings.join(name), bytes).unwrap();
    }

    let core = out_dir.join("path_lengths_c.core.wasm");
    let status = Command::new(clang)
        .current_dir(root.join(C_GUEST))
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
        .args(["-Wall", "-Wextra", "-Werror", "-I"])
        .arg(&bindings)
        .arg("path_lengths.c")
        .arg(bindings.join("analysis.c"))
        .arg(bindings.join("analysis_component_type.o"))
        .arg("-o")
        .arg(&core)
        .status()
        .expect("cannot run clang");
    assert!(
        status.success(),
        "compiling the C guest in {C_GUEST} failed (see the errors above)"
    );
    let component = wit_component::ComponentEncoder::default()
        .module(&std::fs::read(&core).unwrap())
        .unwrap()
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .unwrap()
        .validate(true)
        .encode()
        .unwrap();
    let out = target_dir.join("path_lengths_c.wasm");
    std::fs::write(&out, component).unwrap();
    format!(
        "{doc}pub const PATH_LENGTHS_C: Option<&str> = Some({:?});\n",
        out.display().to_string()
    )
}
