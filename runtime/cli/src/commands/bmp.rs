//! `bgpmon bmp status`.

use bgpmon_proto::{ip_from_bytes, v1};
use clap::Subcommand;
use serde_json::json;

use crate::client::{Client, status_error};
use crate::time::format_micros;

/// BMP commands.
#[derive(Debug, Subcommand)]
pub enum BmpCommand {
    /// Show each BMP station with its routers and their peers: connected or
    /// up, messages and prefixes received, the last message's time, errors,
    /// and each peer's latest up and down records.
    Status {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn address(bytes: &[u8]) -> String {
    match ip_from_bytes(bytes) {
        Ok(Some(ip)) => ip.to_string(),
        _ => "-".to_owned(),
    }
}

fn time_or_dash(t: Option<u64>) -> String {
    t.map_or_else(|| "-".to_owned(), format_micros)
}

fn peer_json(p: &v1::BmpPeer) -> serde_json::Value {
    json!({
        "address": address(&p.address),
        "asn": p.asn,
        "distinguisher": p.distinguisher,
        "loc_rib": p.loc_rib,
        "up": p.up,
        "messages": p.messages,
        "prefixes": p.prefixes,
        "last_message_us": p.last_message_us,
        "four_octet_as": p.four_octet_as,
        "add_path": p.add_path,
        "events": p.events.iter().map(|e| json!({
            "timestamp_us": e.timestamp_us,
            "up": e.up,
            "reason": e.reason,
        })).collect::<Vec<_>>(),
    })
}

fn station_json(s: &v1::BmpStation) -> serde_json::Value {
    json!({
        "name": s.name,
        "address": s.address,
        "session": s.session_id,
        "captures_stored": s.captures_stored,
        "captures_lost": s.captures_lost,
        "routers": s.routers.iter().map(|r| json!({
            "name": r.name,
            "address": address(&r.address),
            "connected": r.connected,
            "connections": r.connections,
            "messages": r.messages,
            "prefixes": r.prefixes,
            "last_message_us": r.last_message_us,
            "errors": r.errors,
            "last_error": r.last_error,
            "peers": r.peers.iter().map(peer_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn print_station(s: &v1::BmpStation) {
    println!(
        "station {} on {} -> session {} ({} captures stored, {} lost)",
        s.name, s.address, s.session_id, s.captures_stored, s.captures_lost
    );
    if s.routers.is_empty() {
        println!("  no router has connected");
    }
    for r in &s.routers {
        println!(
            "  router {} ({}): {}, {} connections, {} messages, {} prefixes, last {}, {} errors{}",
            r.name,
            address(&r.address),
            if r.connected {
                "connected"
            } else {
                "disconnected"
            },
            r.connections,
            r.messages,
            r.prefixes,
            time_or_dash(r.last_message_us),
            r.errors,
            if r.last_error.is_empty() {
                String::new()
            } else {
                format!(" (last: {})", r.last_error)
            }
        );
        println!(
            "    {:<40} {:>10} {:<5} {:>10} {:>10} LAST",
            "PEER", "AS", "UP", "MESSAGES", "PREFIXES"
        );
        for p in &r.peers {
            let name = if p.loc_rib {
                "loc-rib".to_owned()
            } else {
                address(&p.address)
            };
            println!(
                "    {:<40} {:>10} {:<5} {:>10} {:>10} {}",
                name,
                p.asn,
                if p.up { "yes" } else { "no" },
                p.messages,
                p.prefixes,
                time_or_dash(p.last_message_us)
            );
        }
    }
}

impl BmpCommand {
    pub(crate) async fn run(self, client: &mut Client) -> anyhow::Result<()> {
        match self {
            Self::Status { json } => {
                let stations = client
                    .get_bmp_status(v1::GetBmpStatusRequest {})
                    .await
                    .map_err(status_error)?
                    .into_inner()
                    .stations;
                if json {
                    let all: Vec<_> = stations.iter().map(station_json).collect();
                    println!("{}", serde_json::to_string_pretty(&all)?);
                } else if stations.is_empty() {
                    println!("no BMP stations are configured (add a [bmp.<name>] table)");
                } else {
                    for s in &stations {
                        print_station(s);
                    }
                }
            }
        }
        Ok(())
    }
}
