//! The `hijack` modules on real data through the built binaries: RPKI and
//! ASPA counts on a shared updates file against counts this test computes
//! on its own (bgpkit-parser's view of the file, the rpki-client export
//! read with serde_json, and its own validation), and a live detector's
//! events followed with `bgpmon findings --follow`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bgpkit_parser::BgpkitParser;
use bgpkit_parser::models::{AsPathSegment, ElemType};
use bgpmon_test_modules as guests;
use ipnet::IpNet;

use crate::filters::open;
use crate::util::{BGPMON, Daemon, entity_file, mrt};

/// One announced prefix: the prefix, its origin (the last AS of a final
/// sequence) and its AS path from the collector's peer down to the origin,
/// prepends removed, with whether it held an AS_SET.
struct Announcement {
    prefix: IpNet,
    origin: Option<u32>,
    path: Vec<u32>,
    has_set: bool,
}

fn announcements(file: &Path) -> Vec<Announcement> {
    let mut out = Vec::new();
    for elem in BgpkitParser::from_reader(open(file)) {
        if elem.elem_type != ElemType::ANNOUNCE {
            continue;
        }
        let segments = elem.as_path.map(|p| p.segments).unwrap_or_default();
        let origin = match segments.last() {
            Some(AsPathSegment::AsSequence(asns)) => asns.last().map(|a| a.to_u32()),
            _ => None,
        };
        let mut path: Vec<u32> = Vec::new();
        let mut has_set = false;
        for segment in &segments {
            match segment {
                AsPathSegment::AsSequence(asns) => {
                    for asn in asns.iter().map(|a| a.to_u32()) {
                        if path.last() != Some(&asn) {
                            path.push(asn);
                        }
                    }
                }
                AsPathSegment::AsSet(_) => has_set = true,
                _ => {}
            }
        }
        out.push(Announcement {
            prefix: elem.prefix.prefix,
            origin,
            path,
            has_set,
        });
    }
    out
}

/// VRPs by prefix: (origin AS, max length) each.
type Vrps = HashMap<IpNet, Vec<(u32, u8)>>;
/// ASPA provider sets by customer AS.
type Aspas = HashMap<u32, HashSet<u32>>;

/// The VRPs and ASPAs of the export.
fn rpki(file: &Path) -> (Vrps, Aspas) {
    let export: serde_json::Value = serde_json::from_reader(open(file)).unwrap();
    let mut vrps = Vrps::new();
    for roa in export["roas"].as_array().unwrap() {
        let prefix: IpNet = roa["prefix"].as_str().unwrap().parse().unwrap();
        let asn = u32::try_from(roa["asn"].as_u64().unwrap()).unwrap();
        let max = u8::try_from(roa["maxLength"].as_u64().unwrap()).unwrap();
        let list = vrps.entry(prefix).or_default();
        if !list.contains(&(asn, max)) {
            list.push((asn, max));
        }
    }
    let mut aspas = Aspas::new();
    for aspa in export["aspas"].as_array().unwrap() {
        let customer = u32::try_from(aspa["customer_asid"].as_u64().unwrap()).unwrap();
        let providers = aspa["providers"].as_array().unwrap();
        aspas.entry(customer).or_default().extend(
            providers
                .iter()
                .map(|p| u32::try_from(p.as_u64().unwrap()).unwrap()),
        );
    }
    (vrps, aspas)
}

/// RFC 6811 by walking every shorter prefix of the announcement.
fn rov(vrps: &Vrps, a: &Announcement) -> &'static str {
    let mut covering = Vec::new();
    for len in 0..=a.prefix.prefix_len() {
        let net = IpNet::new(a.prefix.addr(), len).unwrap().trunc();
        covering.extend(vrps.get(&net).into_iter().flatten().copied());
    }
    if covering.is_empty() {
        return "not-found";
    }
    let len = a.prefix.prefix_len();
    let named: Vec<u8> = covering
        .iter()
        .filter(|(asn, _)| *asn != 0 && Some(*asn) == a.origin)
        .map(|(_, max)| *max)
        .collect();
    if named.iter().any(|max| len <= *max) {
        "valid"
    } else if named.is_empty() {
        "invalid-origin"
    } else {
        "invalid-length"
    }
}

/// Upstream ASPA verification: walking from the origin towards the peer,
/// each AS's attestation must list the next AS up.
fn aspa(aspas: &Aspas, a: &Announcement) -> &'static str {
    if a.has_set || a.path.is_empty() {
        return "invalid";
    }
    let up: Vec<u32> = a.path.iter().rev().copied().collect();
    let mut unattested = false;
    for i in 0..up.len() - 1 {
        match aspas.get(&up[i]) {
            Some(providers) if !providers.contains(&up[i + 1]) => return "invalid",
            Some(_) => {}
            None => unattested = true,
        }
    }
    if unattested { "unknown" } else { "valid" }
}

/// The fields of the findings of `kind` in session `s`, printed as JSON.
fn findings(d: &Daemon, s: &str, kind: &str) -> Vec<BTreeMap<String, String>> {
    d.ok(&["findings", s, "--kind", kind, "--format", "json"])
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .collect()
}

#[test]
fn hijack_rpki_and_aspa_counts_on_a_real_file_match_a_separate_count() {
    let Some(file) = mrt("routeviews-route-views2.updates.20260222.1530.bz2") else {
        return;
    };
    let Some(export) = entity_file("rpkiclient_summary_20250720T093135Z.json.bz2") else {
        return;
    };
    let d = Daemon::start(&[guests::HIJACK]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&[
        "write",
        "entities",
        "s",
        export.to_str().unwrap(),
        "--format",
        "roa",
    ]);
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    let out = d.ok(&[
        "module",
        "run",
        "hijack",
        "h",
        "--opt",
        "session=s",
        "--grant",
        "s",
        "--wait",
    ]);
    assert!(out.contains("state: finished\n"), "{out}");

    let (vrps, aspas) = rpki(&export);
    let announced = announcements(&file);
    let mut want_rov: BTreeMap<String, u64> = BTreeMap::new();
    let mut want_aspa: BTreeMap<String, u64> = BTreeMap::new();
    for a in &announced {
        *want_rov.entry(rov(&vrps, a).into()).or_default() += 1;
        *want_aspa.entry(aspa(&aspas, a).into()).or_default() += 1;
    }
    let count = |fields: &BTreeMap<String, String>, names: &[&str]| -> BTreeMap<String, u64> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), fields[*n].parse().unwrap()))
            .filter(|(_, v)| *v > 0)
            .collect()
    };
    let rpki = &findings(&d, "s", "rpki-summary")[0];
    assert_eq!(rpki["announcements"], announced.len().to_string());
    assert_eq!(
        rpki["vrps"],
        vrps.values().map(Vec::len).sum::<usize>().to_string()
    );
    assert_eq!(
        count(
            rpki,
            &["valid", "invalid-origin", "invalid-length", "not-found"]
        ),
        want_rov
    );
    let aspa_found = &findings(&d, "s", "aspa-summary")[0];
    assert_eq!(aspa_found["aspas"], aspas.len().to_string());
    assert_eq!(
        count(aspa_found, &["valid", "invalid", "unknown"]),
        want_aspa
    );
    // A real file has every ROV state but the rarest.
    assert!(
        want_rov["valid"] > 0 && want_rov["not-found"] > 0,
        "{want_rov:?}"
    );
    assert!(want_rov.contains_key("invalid-origin"), "{want_rov:?}");
}

#[test]
fn findings_follow_prints_a_live_detectors_events_as_they_come() {
    let Some(file) = mrt("ris.rrc06.updates.1427846400.gz") else {
        return;
    };
    // Claim the file's first announced prefix for AS1, so that its real
    // origin is an exact-prefix hijacker.
    let all = announcements(&file);
    let first = all
        .iter()
        .find(|a| a.origin.is_some() && !a.has_set)
        .unwrap();
    let origins: HashSet<String> = all
        .iter()
        .filter(|a| a.prefix == first.prefix)
        .filter_map(|a| a.origin.map(|o| o.to_string()))
        .collect();
    let d = Daemon::start(&[guests::HIJACK_LIVE]);
    d.ok(&["session", "open", "local", "--id", "s"]);

    let mut follower = Command::new(BGPMON)
        .args([
            "findings", "s", "--follow", "--kind", "hijack", "--format", "json",
        ])
        .env("BGPMON_ADDR", &d.addr)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });

    let rules = format!(r#"[{{"prefixes": ["{}"], "origins": [1]}}]"#, first.prefix);
    d.ok(&[
        "module",
        "run",
        "hijack-live",
        "live",
        "--opt",
        "session=s",
        "--opt",
        &format!("rules={rules}"),
        "--opt",
        "rpki=false",
        "--opt",
        "aspa=false",
        "--grant",
        "s",
    ]);
    // The captures arrive after the detector and the follower started.
    d.ok(&["write", "captures", "s", file.to_str().unwrap()]);
    let line = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("no hijack finding was printed within 120 s");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["module_id"], "live", "{line}");
    assert_eq!(v["kind"], "hijack", "{line}");
    assert_eq!(v["fields"]["type"], "E|0|-|-", "{line}");
    assert_eq!(v["fields"]["prefix"], first.prefix.to_string(), "{line}");
    let hijacker = v["fields"]["hijacker"].as_str().unwrap();
    assert!(
        origins.contains(hijacker),
        "{line} names none of {origins:?}"
    );
    let state = v["fields"]["state"].as_str().unwrap();
    assert!(["ongoing", "withdrawn"].contains(&state), "{line}");
    let closed = d.ok(&["module", "close", "live"]);
    assert!(closed.contains("state: stopped\n"), "{closed}");
    follower.kill().unwrap();
    follower.wait().unwrap();
}
