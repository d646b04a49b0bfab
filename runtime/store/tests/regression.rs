//! Regressions found by checking the redb backend against the in-memory
//! model (`model_ops.rs`).
//!
//! - Nodes were listed in the order of their address text, not by address:
//!   `RedbBackend::nodes` returned the rows of the `nodes` table, keyed by
//!   `IpAddr::to_string()`, as stored, so "10.0.0.1" came before "9.0.0.1"
//!   and "2001:db8::1" before "::1", though `Backend::nodes` promises them
//!   "by IP address". It now sorts them by address.

use std::net::IpAddr;

use bgpmon_store::{Backend, Node, RedbBackend};

#[test]
fn nodes_are_listed_by_address_not_by_address_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bgp.redb");
    let node = |ip: &str| Node {
        ip: ip.parse().unwrap(),
        name: format!("node {ip}"),
        collector: false,
        dump_duration_minutes: None,
        description: String::new(),
    };
    let stored = ["2001:db8::1", "10.0.0.1", "::1", "192.0.2.1", "9.0.0.1"];
    let by_address = ["9.0.0.1", "10.0.0.1", "192.0.2.1", "::1", "2001:db8::1"];
    let want: Vec<IpAddr> = by_address.iter().map(|ip| ip.parse().unwrap()).collect();
    {
        let backend = RedbBackend::open(&path).unwrap();
        backend.put_nodes(&stored.map(node)).unwrap();
        let got: Vec<IpAddr> = backend.nodes().unwrap().iter().map(|n| n.ip).collect();
        assert_eq!(got, want);
    }
    let backend = RedbBackend::open(&path).unwrap();
    let got: Vec<IpAddr> = backend.nodes().unwrap().iter().map(|n| n.ip).collect();
    assert_eq!(got, want, "after a reopen");
}
