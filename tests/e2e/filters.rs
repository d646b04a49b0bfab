//! Filter queries through the CLI, checked against counts this test
//! computes on its own from bgpkit-parser's view of the same file, and
//! against the known answer in `SOURCES.md`.

use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use bgpkit_parser::BgpkitParser;
use bgpkit_parser::models::{AsPathSegment, Asn, Bgp4MpEnum, BgpMessage, ElemType, MrtMessage};
use ipnet::IpNet;

use crate::util::{Daemon, mrt};

/// One UPDATE as bgpkit-parser sees it.
struct Update {
    timestamp_us: u64,
    peer_ip: IpAddr,
    /// The origin of each announcement: the last AS of a final sequence.
    origins: Vec<u32>,
    announced: Vec<IpNet>,
    withdrawn: Vec<IpNet>,
    /// The AS path of the announcements; empty for a withdrawal alone.
    path: Vec<AsPathSegment>,
}

pub(crate) fn open(path: &Path) -> Box<dyn Read + Send> {
    let file = std::fs::File::open(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Some("bz2") => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        _ => Box::new(file),
    }
}

fn updates(path: &Path) -> Vec<Update> {
    let mut elementor = bgpkit_parser::Elementor::new();
    let mut out = Vec::new();
    for record in BgpkitParser::from_reader(open(path)).into_record_iter() {
        let header = &record.common_header;
        let timestamp_us = u64::from(header.timestamp) * 1_000_000
            + u64::from(header.microsecond_timestamp.unwrap_or(0));
        let MrtMessage::Bgp4Mp(Bgp4MpEnum::Message(m)) = &record.message else {
            continue;
        };
        if !matches!(m.bgp_message, BgpMessage::Update(_)) {
            continue;
        }
        let peer_ip = m.peer_ip;
        let mut update = Update {
            timestamp_us,
            peer_ip,
            origins: Vec::new(),
            announced: Vec::new(),
            withdrawn: Vec::new(),
            path: Vec::new(),
        };
        for elem in elementor.record_to_elems(record) {
            if elem.elem_type != ElemType::ANNOUNCE {
                update.withdrawn.push(elem.prefix.prefix);
                continue;
            }
            update.announced.push(elem.prefix.prefix);
            if let Some(path) = &elem.as_path {
                update.path = path.segments.to_vec();
            }
            let origin = elem.as_path.as_ref().and_then(|p| match p.segments.last() {
                Some(AsPathSegment::AsSequence(asns)) => asns.last().map(|a| a.to_u32()),
                _ => None,
            });
            update.origins.extend(origin);
        }
        out.push(update);
    }
    out
}

fn count(d: &Daemon, args: &[&str]) -> usize {
    let mut all = vec!["read", "count", "s"];
    all.extend_from_slice(args);
    d.ok(&all).trim().parse().unwrap()
}

#[test]
fn filters_match_independent_counts() {
    for file in [
        "routeviews.route-views.jinx.updates.1427846400.bz2",
        "ris.rrc06.updates.1427846400.gz",
    ] {
        let Some(path) = mrt(file) else {
            return;
        };
        let truth = updates(&path);
        let d = Daemon::start(&[]);
        d.ok(&["session", "open", "local", "--id", "s"]);
        d.ok(&["write", "captures", "s", path.to_str().unwrap()]);
        assert_eq!(count(&d, &[]), truth.len(), "{file}: every UPDATE");

        // The busiest origin.
        let mut by_origin: HashMap<u32, usize> = HashMap::new();
        for u in &truth {
            let mut origins = u.origins.clone();
            origins.dedup();
            for o in origins {
                *by_origin.entry(o).or_default() += 1;
            }
        }
        let (&origin, _) = by_origin.iter().max_by_key(|(o, n)| (**n, **o)).unwrap();
        let expected = truth.iter().filter(|u| u.origins.contains(&origin)).count();
        assert_eq!(
            count(&d, &["--origin", &origin.to_string()]),
            expected,
            "{file}: origin"
        );

        // More and less specific of the first announced prefix's /16 and itself.
        let first = truth
            .iter()
            .find_map(|u| u.announced.first().copied())
            .unwrap();
        let cover: IpNet = IpNet::new(first.addr(), first.prefix_len().min(16))
            .unwrap()
            .trunc();
        let more = truth
            .iter()
            .filter(|u| u.announced.iter().any(|p| cover.contains(p)))
            .count();
        assert_eq!(
            count(&d, &["--prefix", &cover.to_string(), "--match", "more"]),
            more,
            "{file}: more specific of {cover}"
        );
        let less = truth
            .iter()
            .filter(|u| u.announced.iter().any(|p| p.contains(&first)))
            .count();
        assert_eq!(
            count(&d, &["--prefix", &first.to_string(), "--match", "less"]),
            less,
            "{file}: less specific of {first}"
        );

        // The first peer, and a window over the middle of the file.
        let peer = truth[0].peer_ip;
        let from_peer = truth.iter().filter(|u| u.peer_ip == peer).count();
        assert_eq!(
            count(&d, &["--peer", &peer.to_string()]),
            from_peer,
            "{file}: peer"
        );
        let start = truth[truth.len() / 3].timestamp_us / 1_000_000;
        let end = truth[2 * truth.len() / 3].timestamp_us / 1_000_000;
        let in_window = truth
            .iter()
            .filter(|u| (start * 1_000_000..end * 1_000_000).contains(&u.timestamp_us))
            .count();
        assert_eq!(
            count(
                &d,
                &["--start", &start.to_string(), "--end", &end.to_string()]
            ),
            in_window,
            "{file}: window"
        );
        // Terms AND.
        let both = truth
            .iter()
            .filter(|u| u.peer_ip == peer && u.origins.contains(&origin))
            .count();
        assert_eq!(
            count(
                &d,
                &["--peer", &peer.to_string(), "--origin", &origin.to_string()]
            ),
            both,
            "{file}: peer and origin"
        );
    }
}

#[test]
fn the_jinx_known_answer() {
    let Some(path) = mrt("routeviews.route-views.jinx.updates.1427846400.bz2") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", path.to_str().unwrap()]);
    let filter = [
        "--start",
        "1427846847",
        "--end",
        "2015-04-01T00:07:55Z",
        "--peer-as",
        "37105",
        "--prefix",
        "154.73.128.0/17",
        "--match",
        "more",
        "--community",
        "37105:300",
    ];
    let mut args = vec!["read", "captures", "s", "--format", "psv"];
    args.extend_from_slice(&filter);
    let psv = d.ok(&args);
    let header = "type|timestamp|peer_ip|peer_asn|prefix|as_path|origin_asns|origin|next_hop|local_pref|med|communities|atomic|aggr_asn|aggr_ip|only_to_customer\n";
    let expected: String = std::iter::once(header.to_owned())
        .chain((136..140).map(|n| {
            format!(
                "A|1427846874|196.223.14.46|37105|154.73.{n}.0/24|37105 37549|37549|IGP|196.223.14.84|||37105:300|false|||\n"
            )
        }))
        .collect();
    crate::eqnice!(expected, psv);

    let mut args = vec!["read", "prefixes", "s", "--format", "psv"];
    args.extend_from_slice(&filter);
    assert_eq!(d.ok(&args).lines().count(), 4);
    let mut args = vec!["read", "count", "s"];
    args.extend_from_slice(&filter);
    assert_eq!(d.ok(&args), "1\n", "one UPDATE carries the four");
}

#[test]
fn the_jinx_known_answer_with_a_community_wildcard() {
    // SOURCES.md's filter, as libbgpstream's test writes it: the closed
    // window [1427846847, 1427846874] is [1427846847, 1427846874.000001)
    // here, since --end is exclusive.
    let Some(path) = mrt("routeviews.route-views.jinx.updates.1427846400.bz2") else {
        return;
    };
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    d.ok(&["write", "captures", "s", path.to_str().unwrap()]);
    let filter = [
        "--start",
        "1427846847",
        "--end",
        "1427846874.000001",
        "--peer-as",
        "37105",
        "--prefix",
        "154.73.128.0/17",
        "--match",
        "more",
        "--community",
        "*:300",
    ];
    let read = |format: &str| {
        let mut args = vec!["read", "captures", "s", "--format", format];
        args.extend_from_slice(&filter);
        d.ok(&args)
    };
    let expected: String = (136..140)
        .map(|n| {
            format!(
                "BGP4MP|1427846874|A|196.223.14.46|37105|154.73.{n}.0/24|37105 37549|IGP|196.223.14.84|0|0|37105:300|NAG||\n"
            )
        })
        .collect();
    crate::eqnice!(expected, read("bgpdump"));
    assert_eq!(
        read("psv").lines().count(),
        1 + 4,
        "the header and the four"
    );
    let mut args = vec!["read", "count", "s"];
    args.extend_from_slice(&filter);
    assert_eq!(d.ok(&args), "1\n", "one UPDATE carries the four");
    // The window's end is exclusive: ending at 1427846874 leaves them out.
    let mut args = vec!["read", "count", "s"];
    args.extend_from_slice(&filter);
    args[6] = "1427846874";
    assert_eq!(d.ok(&args), "0\n");
    // Other wildcards find the same UPDATE; a different value does not.
    for (community, n) in [("37105:*", "1\n"), ("*:*", "1\n"), ("*:301", "0\n")] {
        let mut args = vec!["read", "count", "s"];
        args.extend_from_slice(&filter);
        *args.last_mut().unwrap() = community;
        assert_eq!(d.ok(&args), n, "{community}");
    }
}

/// The text `bgpmon` matches a path pattern against, built here from
/// bgpkit-parser's segments: only the predicates below use it.
fn first_as(path: &[AsPathSegment]) -> Option<u32> {
    match path.iter().find(|s| !segment_asns(s).is_empty())? {
        AsPathSegment::AsSequence(asns) => asns.first().map(Asn::to_u32),
        _ => None,
    }
}

fn segment_asns(segment: &AsPathSegment) -> &[Asn] {
    match segment {
        AsPathSegment::AsSequence(a)
        | AsPathSegment::AsSet(a)
        | AsPathSegment::ConfedSequence(a)
        | AsPathSegment::ConfedSet(a) => a,
    }
}

fn on_path(path: &[AsPathSegment], asn: u32) -> bool {
    path.iter()
        .any(|s| segment_asns(s).iter().any(|a| a.to_u32() == asn))
}

fn last_as_of_sequence(path: &[AsPathSegment]) -> Option<u32> {
    match path.iter().rev().find(|s| !segment_asns(s).is_empty())? {
        AsPathSegment::AsSequence(asns) => asns.last().map(Asn::to_u32),
        _ => None,
    }
}

/// The most common value of `key` over `updates`, ties to the larger value.
fn most_common(updates: &[Update], key: impl Fn(&Update) -> Vec<u32>) -> u32 {
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for u in updates {
        let mut keys = key(u);
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            *counts.entry(k).or_default() += 1;
        }
    }
    let (&value, _) = counts.iter().max_by_key(|(v, n)| (**n, **v)).unwrap();
    value
}

#[test]
fn path_regexes_and_families_match_independent_counts() {
    for file in [
        "ris.rrc06.updates.1427846400.gz",
        "routeviews.route-views.jinx.updates.1427846400.bz2",
    ] {
        let Some(path) = mrt(file) else {
            return;
        };
        let truth = updates(&path);
        let d = Daemon::start(&[]);
        d.ok(&["session", "open", "local", "--id", "s"]);
        d.ok(&["write", "captures", "s", path.to_str().unwrap()]);
        let expect = |pred: &dyn Fn(&Update) -> bool| truth.iter().filter(|u| pred(u)).count();

        let first = most_common(&truth, |u| first_as(&u.path).into_iter().collect());
        let transit = most_common(&truth, |u| {
            u.path
                .iter()
                .flat_map(segment_asns)
                .map(Asn::to_u32)
                .filter(|a| Some(*a) != first_as(&u.path))
                .collect()
        });
        let origin = most_common(&truth, |u| {
            last_as_of_sequence(&u.path).into_iter().collect()
        });

        let cases: Vec<(Vec<String>, usize)> = vec![
            (
                vec![format!("^{first}_")],
                expect(&|u| first_as(&u.path) == Some(first)),
            ),
            (
                vec![format!("_{transit}_")],
                expect(&|u| on_path(&u.path, transit)),
            ),
            (
                vec![format!("_{origin}$")],
                expect(&|u| last_as_of_sequence(&u.path) == Some(origin)),
            ),
            (
                vec!["^$".into()],
                expect(&|u| u.path.iter().all(|s| segment_asns(s).is_empty())),
            ),
            (
                vec![format!("^{first}_"), format!("_{origin}$")],
                expect(&|u| {
                    first_as(&u.path) == Some(first) || last_as_of_sequence(&u.path) == Some(origin)
                }),
            ),
        ];
        for (patterns, expected) in cases {
            assert!(
                0 < expected && expected < truth.len(),
                "{file}: {patterns:?} selects {expected} of {}, so it tests nothing",
                truth.len()
            );
            let mut args = vec![];
            for p in &patterns {
                args.extend(["--path-regex", p.as_str()]);
            }
            assert_eq!(count(&d, &args), expected, "{file}: {patterns:?}");
        }
        // AND with another term.
        let peer = truth[0].peer_ip;
        assert_eq!(
            count(
                &d,
                &[
                    "--path-regex",
                    &format!("_{transit}_"),
                    "--peer",
                    &peer.to_string()
                ]
            ),
            expect(&|u| u.peer_ip == peer && on_path(&u.path, transit)),
            "{file}: path and peer"
        );

        // Families, on announced or withdrawn prefixes.
        let has = |u: &Update, v6: bool| {
            u.announced
                .iter()
                .chain(&u.withdrawn)
                .any(|p| matches!(p, IpNet::V6(_)) == v6)
        };
        let v4 = expect(&|u| has(u, false));
        let v6 = expect(&|u| has(u, true));
        assert_eq!(count(&d, &["-4"]), v4, "{file}: -4");
        assert_eq!(count(&d, &["-6"]), v6, "{file}: -6");
        assert!(v6 > 0, "{file} has IPv6 updates");
        // -6 prints IPv6 elements only.
        let psv = d.ok(&["read", "captures", "s", "--format", "psv", "-6"]);
        let elements: usize = truth
            .iter()
            .map(|u| {
                u.announced
                    .iter()
                    .chain(&u.withdrawn)
                    .filter(|p| matches!(p, IpNet::V6(_)))
                    .count()
            })
            .sum();
        assert_eq!(psv.lines().count(), 1 + elements, "{file}: -6 elements");
        let err = d.cli(&["read", "count", "s", "-4", "-6"]);
        assert_eq!(err.status.code(), Some(2), "-4 and -6 conflict");
    }
}

#[test]
fn a_bad_path_regex_is_refused_naming_the_flag_value() {
    let d = Daemon::start(&[]);
    d.ok(&["session", "open", "local", "--id", "s"]);
    let err = d.fails(&[
        "read",
        "count",
        "s",
        "--path-regex",
        "_174_",
        "--path-regex",
        "(3356",
    ]);
    assert!(
        err.contains(
            "filter.path_regex[1]: AS path pattern \"(3356\" is not a valid regular expression"
        ),
        "{err}"
    );
}
