//! Module types: broken, hostile or mismatched components are refused at
//! load with a clear reason, and runs are checked against the schema.

use bgpmon_host::{HostError, OnExisting, RunRequest};
use bgpmon_server::{ErrorKind, ServerError};
use bgpmon_test_modules as guests;

use crate::util::Harness;

/// A component that exports nothing: not the analysis world.
const WRONG_WORLD: &str = "(component)";

/// A component that imports an interface the host does not provide.
const UNKNOWN_IMPORT: &str = r#"(component
    (import "example:evil/net@1.0.0" (instance (export "connect" (func))))
)"#;

/// A component whose `info` traps.
const TRAPPING_INFO: &str = r#"(component
    (core module $m
        (func (export "info") (result i32) unreachable)
        (func (export "run") (param i32 i32) (result i32) unreachable)
        (memory (export "memory") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0)
    )
    (core instance $i (instantiate $m))
    (type $kind0 (enum "task" "daemon"))
    (export $kind "module-kind" (type $kind0))
    (type $spec0 (record (field "name" string) (field "description" string) (field "required" bool) (field "default-value" (option string))))
    (export $spec "option-spec" (type $spec0))
    (type $info0 (record (field "type-name" string) (field "description" string) (field "kind" $kind) (field "options" (list $spec))))
    (export $info "module-info" (type $info0))
    (type $opt0 (record (field "name" string) (field "value" string)))
    (export $opt "option-value" (type $opt0))
    (type $finding0 (record (field "kind" string) (field "summary" string) (field "fields" (list (tuple string string)))))
    (export $finding "finding" (type $finding0))
    (type $result0 (record (field "message" string) (field "findings" (list $finding))))
    (export $result "run-result" (type $result0))
    (func $info-fn (result $info) (canon lift (core func $i "info") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func $run-fn (param "options" (list $opt)) (result (result $result (error string))) (canon lift (core func $i "run") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (export "info" (func $info-fn))
    (export "run" (func $run-fn))
)"#;

/// Loads `files` (name, WAT) beside `noop` and returns the load failures
/// by file name; checks that `noop` still loads.
async fn load_beside_noop(files: &[(&str, String)]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("modules");
    std::fs::create_dir_all(&modules).unwrap();
    std::fs::copy(guests::NOOP, modules.join("noop.wasm")).unwrap();
    for (name, text) in files {
        std::fs::write(modules.join(name), text).unwrap();
    }
    let config = bgpmon_server::Config::parse(&crate::util::config_text(dir.path(), "")).unwrap();
    let server = bgpmon_server::Server::start(config).await.unwrap();
    let names: Vec<String> = server
        .list_module_types()
        .into_iter()
        .map(|t| t.info.type_name)
        .collect();
    assert_eq!(names, vec!["noop"]);
    let mut failures: Vec<(String, String)> = server
        .load_failures()
        .iter()
        .map(|f| {
            let file = std::path::Path::new(&f.origin).file_name().unwrap();
            (file.to_string_lossy().into_owned(), f.reason.clone())
        })
        .collect();
    failures.sort();
    server.close().await;
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_initial_tables_and_memories_are_refused_at_load() {
    // 10 million table elements (80 MB on the host), over the pool's
    // 262,144 per table, and 4 GiB of memory, over the 64 MiB a type's
    // info read may use: refused before any of it is allocated, and the
    // other types load.
    let table = TRAPPING_INFO.replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 1) (table 10000000 funcref)",
    );
    let memory = TRAPPING_INFO.replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 65536)",
    );
    let failures =
        load_beside_noop(&[("huge-table.wasm", table), ("huge-memory.wasm", memory)]).await;
    assert_eq!(failures.len(), 2, "{failures:#?}");
    let (file, reason) = &failures[0];
    assert_eq!(file, "huge-memory.wasm");
    assert!(
        reason.contains("memory limit of 67108864 bytes exceeded"),
        "{reason}"
    );
    let (file, reason) = &failures[1];
    assert_eq!(file, "huge-table.wasm");
    assert!(
        reason.starts_with("it is over the sandbox's limits on memories and tables"),
        "{reason}"
    );
    assert!(
        reason.contains("minimum element size of 10000000 which exceeds the limit of 262144"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_with_more_memories_or_tables_than_the_pool_allows_are_refused() {
    // Four of each fit; a fifth is over `MAX_MEMORIES_PER_MODULE` and
    // `MAX_TABLES_PER_MODULE`.
    let with = |extra: &str, n: usize| {
        TRAPPING_INFO.replace(
            "(memory (export \"memory\") 1)",
            &format!("(memory (export \"memory\") 1){}", extra.repeat(n)),
        )
    };
    assert_eq!(bgpmon_host::MAX_MEMORIES_PER_MODULE, 4);
    assert_eq!(bgpmon_host::MAX_TABLES_PER_MODULE, 4);
    let failures = load_beside_noop(&[
        ("fits.wasm", with("(memory 1) (table 1 funcref)", 3)),
        ("memories.wasm", with("(memory 1)", 4)),
        ("tables.wasm", with("(table 1 funcref)", 5)),
    ])
    .await;
    let files: Vec<&str> = failures.iter().map(|(f, _)| f.as_str()).collect();
    // `fits` loads as far as its info, which traps: a different refusal.
    assert_eq!(
        files,
        ["fits.wasm", "memories.wasm", "tables.wasm"],
        "{failures:#?}"
    );
    let reason = |i: usize| failures[i].1.as_str();
    assert!(reason(0).contains("unreachable"), "{}", reason(0));
    for i in [1, 2] {
        assert!(
            reason(i).starts_with("it is over the sandbox's limits on memories and tables"),
            "{}",
            reason(i)
        );
    }
    assert!(
        reason(1).contains("defined memories count of 5 exceeds the per-instance limit of 4"),
        "{}",
        reason(1)
    );
    assert!(
        reason(2).contains("defined tables count of 5 exceeds the per-instance limit of 4"),
        "{}",
        reason(2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_modules_are_refused_at_load_and_the_rest_load() {
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("modules");
    std::fs::create_dir_all(&modules).unwrap();
    std::fs::copy(guests::NOOP, modules.join("noop.wasm")).unwrap();
    std::fs::write(modules.join("garbage.wasm"), b"\0asm\x01\0\0\0garbage").unwrap();
    std::fs::write(modules.join("text.wasm"), b"hello, not wasm").unwrap();
    std::fs::write(modules.join("core.wasm"), b"(module)").unwrap();
    std::fs::write(modules.join("wrong-world.wasm"), WRONG_WORLD).unwrap();
    std::fs::write(modules.join("unknown-import.wasm"), UNKNOWN_IMPORT).unwrap();
    let config = bgpmon_server::Config::parse(&crate::util::config_text(dir.path(), "")).unwrap();
    let server = bgpmon_server::Server::start(config).await.unwrap();

    let names: Vec<String> = server
        .list_module_types()
        .into_iter()
        .map(|t| t.info.type_name)
        .collect();
    assert_eq!(names, vec!["noop"]);
    let reasons: Vec<(String, String)> = server
        .load_failures()
        .iter()
        .map(|f| {
            let file = std::path::Path::new(&f.origin)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (file, f.reason.clone())
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:#?}");
    let reason = |file: &str| {
        reasons
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no failure for {file}: {reasons:#?}"))
    };
    for file in ["garbage.wasm", "text.wasm", "core.wasm"] {
        assert!(
            reason(file).starts_with("not a valid WebAssembly component"),
            "{file}: {}",
            reason(file)
        );
    }
    let wrong = reason("wrong-world.wasm");
    assert!(
        wrong.starts_with("it does not implement the world bgpmon:module/analysis"),
        "{wrong}"
    );
    let import = reason("unknown-import.wasm");
    assert!(import.contains("example:evil/net@1.0.0"), "{import}");
    assert!(
        import.starts_with("it imports something the host does not provide"),
        "{import}"
    );
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_checks_before_it_stores() {
    let h = Harness::start(&[]).await;
    let err = h
        .server
        .install_module(WRONG_WORLD.as_bytes().to_vec(), OnExisting::Refuse)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    let err = h
        .server
        .install_module(TRAPPING_INFO.as_bytes().to_vec(), OnExisting::Refuse)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("its info export failed"), "{err}");
    let stored: Vec<_> = std::fs::read_dir(h.dir.path().join("modules"))
        .unwrap()
        .collect();
    assert!(stored.is_empty(), "nothing is written for a refused module");

    let info = h
        .server
        .install_module(std::fs::read(guests::NOOP).unwrap(), OnExisting::Refuse)
        .await
        .unwrap();
    assert_eq!(info.loaded.info.type_name, "noop");
    assert_eq!(info.replaced, None);
    assert!(h.dir.path().join("modules/noop.wasm").exists());
    let err = h
        .server
        .install_module(std::fs::read(guests::NOOP).unwrap(), OnExisting::Refuse)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_that_violate_the_schema_are_rejected_before_start() {
    let h = Harness::start(&[guests::ORIGIN_STATS]).await;
    let err = h
        .server
        .run_module(RunRequest::new("origin-stats", "o").option("colour", "blue"))
        .unwrap_err();
    let ServerError::Host(HostError::InvalidOptions { problems, .. }) = &err else {
        panic!("expected invalid options, got {err}");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("unknown option \"colour\"; known options: session,"));
    assert!(problems[1].starts_with("missing required option \"session\""));
    assert!(
        h.server.list_running_modules().is_empty(),
        "nothing started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_ids_and_types_are_checked() {
    let h = Harness::start(&[guests::NOOP, guests::SPIN_FOREVER]).await;
    let err = h
        .server
        .run_module(RunRequest::new("nope", "x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().starts_with("unknown module type \"nope\""),
        "{err}"
    );

    let err = h
        .server
        .run_module(RunRequest::new("noop", "bad id"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    let err = h.server.module_status("ghost").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = h.server.close_module("ghost").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let limits = bgpmon_host::ModuleLimits {
        stop_grace: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    h.server
        .run_module(RunRequest::new("spin-forever", "dup").limits(limits))
        .unwrap();
    let err = h
        .server
        .run_module(RunRequest::new("noop", "dup"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    h.server.close_module("dup").await.unwrap();
    // An ended module's id can be reused.
    h.run_to_end(RunRequest::new("noop", "dup")).await;
    assert_eq!(h.server.module_status("dup").unwrap().type_name, "noop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_module_starts_with_the_daemon() {
    let h = Harness::start_with(
        &[guests::EXAMPLE_DAEMON],
        "[modules.watch]\ntype = \"example-daemon\"\noptions = { session = \"none\" }\n",
    )
    .await;
    let status = h.server.modules().wait("watch").await.unwrap();
    // It has no grant for the session, so it fails with a clear reason.
    let reason = crate::util::failure(&status).to_string();
    assert!(
        reason.contains("was not granted session \"none\""),
        "{reason}"
    );

    let dir = tempfile::tempdir().unwrap();
    let text = crate::util::config_text(dir.path(), "[modules.bad]\ntype = \"missing-type\"\n");
    let config = bgpmon_server::Config::parse(&text).unwrap();
    let err = bgpmon_server::Server::start(config).await.unwrap_err();
    assert!(err.to_string().contains("modules.bad"), "{err}");
    assert!(
        err.to_string()
            .contains("unknown module type \"missing-type\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_never_writes_over_another_types_file() {
    let dir = tempfile::tempdir().unwrap();
    let modules = dir.path().join("modules");
    std::fs::create_dir_all(&modules).unwrap();
    // The file an install of origin-stats would write holds noop.
    std::fs::copy(guests::NOOP, modules.join("origin-stats.wasm")).unwrap();
    let config = bgpmon_server::Config::parse(&crate::util::config_text(dir.path(), "")).unwrap();
    let server = bgpmon_server::Server::start(config).await.unwrap();
    for on_existing in [OnExisting::Refuse, OnExisting::Replace] {
        let err = server
            .install_module(std::fs::read(guests::ORIGIN_STATS).unwrap(), on_existing)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        assert!(
            err.to_string()
                .contains("holds module type \"noop\", so installing type \"origin-stats\" there would remove it"),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read(modules.join("origin-stats.wasm")).unwrap(),
        std::fs::read(guests::NOOP).unwrap(),
        "noop's file is untouched"
    );
    let names: Vec<String> = server
        .list_module_types()
        .into_iter()
        .map(|t| t.info.type_name)
        .collect();
    assert_eq!(names, ["noop"]);
    let leftovers: Vec<_> = std::fs::read_dir(&modules)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no upload is left behind: {leftovers:?}"
    );
    server.close().await;
}
