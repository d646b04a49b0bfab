//! Modules over the API through the CLI: types, install, run, status, list,
//! logs and close.

use bgpmon_test_modules as guests;

use crate::util::{Daemon, mrt};

#[test]
fn modules_run_list_report_and_close() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    let d = Daemon::start(&[guests::ORIGIN_STATS, guests::EXAMPLE_DAEMON]);
    let types = d.ok(&["module", "types"]);
    assert!(types.contains("origin-stats (task): "), "{types}");
    assert!(types.contains("example-daemon (daemon): "), "{types}");
    assert!(types.contains("--opt session=STRING"), "{types}");

    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);

    let out = d.ok(&[
        "module",
        "run",
        "origin-stats",
        "stats",
        "--opt",
        "session=s",
        "--opt",
        "top=3",
        "--grant",
        "s",
        "--wait",
    ]);
    assert!(out.contains("state: finished\n"), "{out}");
    assert!(out.contains("result: 761 captures, "), "{out}");
    assert_eq!(
        out.matches("finding: [origin-prefix-count]").count(),
        3,
        "{out}"
    );
    assert!(out.contains("records_read=761"), "{out}");
    let status = d.ok(&["module", "status", "stats"]);
    assert!(status.contains("state: finished\n"), "{status}");

    let out = d.ok(&[
        "module",
        "run",
        "example-daemon",
        "watch",
        "--opt",
        "session=s",
        "--opt",
        "report-every=100",
        "--grant",
        "s",
    ]);
    assert!(out.contains("type: example-daemon (daemon)"), "{out}");
    let mut logs = String::new();
    for _ in 0..600 {
        logs = d.ok(&["module", "logs", "watch"]);
        if logs.contains("seen 761 captures") || logs.contains("seen 7") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(logs.contains("watching session s"), "{logs}");
    let list = d.ok(&["module", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("watch ") && l.contains(" running ")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("stats ") && l.contains(" finished ")),
        "{list}"
    );
    let closed = d.ok(&["module", "close", "watch"]);
    assert!(closed.contains("state: stopped\n"), "{closed}");
    let logs = d.ok(&["module", "logs", "watch"]);
    assert!(logs.contains("stopping after 761 captures"), "{logs}");
}

#[test]
fn module_errors_are_clear_and_exit_1() {
    let d = Daemon::start(&[guests::ORIGIN_STATS]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let err = d.fails(&["module", "run", "origin-stats", "x", "--wait"]);
    assert!(err.contains("missing required option \"session\""), "{err}");
    let err = d.fails(&[
        "module",
        "run",
        "origin-stats",
        "y",
        "--opt",
        "session=s",
        "--wait",
    ]);
    assert!(
        err.contains("module y failed: error returned: denied: "),
        "{err}"
    );
    let err = d.fails(&["module", "run", "nope", "z"]);
    assert!(err.contains("unknown module type \"nope\""), "{err}");
    let err = d.fails(&["module", "status", "ghost"]);
    assert!(err.contains("unknown module \"ghost\""), "{err}");

    let junk = d.dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").unwrap();
    let err = d.fails(&["module", "install", junk.to_str().unwrap()]);
    assert!(err.contains("not a valid WebAssembly component"), "{err}");
    let out = d.ok(&["module", "install", guests::NOOP]);
    assert!(
        out.starts_with("installed noop (task), build ") && out.ends_with(": Returns at once\n"),
        "{out}"
    );
    let err = d.fails(&["module", "install", guests::NOOP]);
    assert!(
        err.contains("module type \"noop\" is already loaded")
            && err.contains("bgpmon module install --replace"),
        "{err}"
    );
    assert!(d.ok(&["module", "types"]).contains("noop (task)"));
}

#[test]
fn entities_load_from_json_roa_and_pfx2as() {
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let json = d.dir.path().join("entities.json");
    std::fs::write(
        &json,
        r#"[{"name": "example", "contact": "noc@example.net", "origin_ases": [64500], "prefixes": ["192.0.2.0/24", {"prefix": "2001:db8::/32", "max_length": 48}]}]"#,
    )
    .unwrap();
    d.ok(&["write", "entities", "s", json.to_str().unwrap()]);
    let out = d.ok(&["read", "entities", "s", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["prefixes"][1]["prefix"], "2001:db8::/32",
        "IPv6 prefixes are kept"
    );
    assert_eq!(v["prefixes"][1]["max_length"], 48);

    if let Some(roa) = crate::util::entity_file("rpkiclient_summary_20250720T093135Z.json.bz2") {
        let out = d.ok(&[
            "write",
            "entities",
            "s",
            roa.to_str().unwrap(),
            "--format",
            "roa",
        ]);
        assert!(out.contains(" entities stored"), "{out}");
        let cloudflare = d.ok(&[
            "read", "entities", "s", "--name", "AS13335", "--format", "psv",
        ]);
        assert!(
            cloudflare
                .lines()
                .any(|l| l.starts_with("AS13335|1.0.0.0/24|24|13335")),
            "{cloudflare}"
        );
    }
    if let Some(pfx2as) = crate::util::entity_file("ipasn6_20151101.dat.gz") {
        d.ok(&[
            "write",
            "entities",
            "s",
            pfx2as.to_str().unwrap(),
            "--format",
            "pfx2as",
        ]);
        let out = d.ok(&[
            "read", "entities", "s", "--name", "AS3356", "--format", "psv",
        ]);
        assert!(out.lines().count() > 100, "AS3356 originates many prefixes");
    }
}

/// `component` with a custom section appended: a new build of the same
/// module (its bytes, so its digest, differ; its code does not), as a
/// rebuild of changed source gives.
fn rebuilt(component: &[u8], note: &str) -> Vec<u8> {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = "bgpmon-test-build";
    let mut payload = Vec::new();
    leb128(name.len(), &mut payload);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(note.as_bytes());
    let mut out = component.to_vec();
    out.push(0); // custom section
    leb128(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// The build (short digest) `module types` lists for `type_name`, if it is loaded.
fn listed_build(d: &Daemon, type_name: &str) -> Option<String> {
    let types = d.ok(&["module", "types"]);
    let mut lines = types.lines();
    lines.find(|l| l.starts_with(&format!("{type_name} (")))?;
    let build = lines.next()?.trim().strip_prefix("build ")?;
    Some(build.split(' ').next()?.to_owned())
}

fn run_build(d: &Daemon, id: &str) -> (String, String) {
    let status = d.ok(&["module", "status", id]);
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name:?} in {status}"))
            .to_owned()
    };
    (field("build: "), field("state: "))
}

fn wasm_files(d: &Daemon) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(d.dir.path().join("modules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wasm"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_type_is_replaced_for_new_runs_and_removed_without_a_restart() {
    let d = Daemon::start(&[guests::EXAMPLE_DAEMON]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let run = |d: &Daemon, id: &str| {
        d.ok(&[
            "module",
            "run",
            "example-daemon",
            id,
            "--opt",
            "session=s",
            "--grant",
            "s",
        ])
    };
    let first = listed_build(&d, "example-daemon").unwrap();
    run(&d, "old");

    let next = d.dir.path().join("next.wasm");
    let bytes = std::fs::read(guests::EXAMPLE_DAEMON).unwrap();
    std::fs::write(&next, rebuilt(&bytes, "2")).unwrap();
    let next = next.to_str().unwrap();
    let err = d.fails(&["module", "install", next]);
    assert!(err.contains("--replace"), "{err}");
    assert_eq!(listed_build(&d, "example-daemon").as_ref(), Some(&first));

    let out = d.ok(&["module", "install", "--replace", next]);
    let second = listed_build(&d, "example-daemon").unwrap();
    assert_ne!(first, second, "the new build is listed");
    assert!(out.contains(&format!("build {second}")), "{out}");
    assert!(out.contains(&format!("replaced build {first}")), "{out}");
    run(&d, "new");
    assert_eq!(
        run_build(&d, "old"),
        (first, "running".into()),
        "a run keeps the build it started with"
    );
    assert_eq!(run_build(&d, "new").0, second, "new runs get the new build");
    assert_eq!(
        wasm_files(&d),
        ["example-daemon.wasm"],
        "the replaced build's file is gone, so a restart loads one build"
    );

    // The replacement survives a restart.
    let (dir, status) = d.stop();
    assert!(status.success());
    let d = Daemon::start_in(dir);
    assert_eq!(listed_build(&d, "example-daemon"), Some(second.clone()));
    assert!(!d.log().contains("not loaded"), "{}", d.log());

    // Removed while one of its runs goes on: the run keeps going, new runs fail.
    run(&d, "last");
    let out = d.ok(&["module", "remove", "example-daemon"]);
    assert!(
        out.starts_with(&format!(
            "removed example-daemon (build {second}) and deleted "
        )),
        "{out}"
    );
    assert!(
        out.contains("1 running module(s) of this type keep going"),
        "{out}"
    );
    assert_eq!(listed_build(&d, "example-daemon"), None);
    assert!(wasm_files(&d).is_empty());
    assert_eq!(run_build(&d, "last"), (second, "running".into()));
    let err = d.fails(&[
        "module",
        "run",
        "example-daemon",
        "again",
        "--opt",
        "session=s",
    ]);
    assert!(
        err.contains("unknown module type \"example-daemon\""),
        "{err}"
    );
    let err = d.fails(&["module", "remove", "example-daemon"]);
    assert!(
        err.contains("unknown module type \"example-daemon\""),
        "{err}"
    );
    d.ok(&["module", "close", "last"]);

    let (dir, _) = d.stop();
    let d = Daemon::start_in(dir);
    assert_eq!(listed_build(&d, "example-daemon"), None, "removed for good");
}
