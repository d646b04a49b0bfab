//! The BMP stations' Prometheus families, read from their status at each scrape.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;

use super::station::now_us;
use super::status::{StationHandle, StationStatus};

/// Encodes every station's figures: per station, per router and per peer.
///
/// Routers and peers are the ones that connected since the daemon started,
/// so their series are bounded by the network, not by time.
#[derive(Debug)]
pub struct BmpCollector {
    stations: Vec<StationHandle>,
}

impl BmpCollector {
    /// A collector over `stations`.
    pub fn new(stations: Vec<StationHandle>) -> Self {
        Self { stations }
    }
}

type Labels = Vec<(&'static str, String)>;

fn family<V>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: &[(Labels, V)],
    mut write: impl FnMut(prometheus_client::encoding::MetricEncoder<'_>, &V) -> std::fmt::Result,
) -> std::fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in samples {
        write(family.encode_family(labels)?, value)?;
    }
    Ok(())
}

fn counter(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    s: &[(Labels, u64)],
) -> std::fmt::Result {
    family(e, name, help, MetricType::Counter, s, |mut m, v| {
        m.encode_counter::<NoLabelSet, _, f64>(v, None)
    })
}

fn gauge(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    s: &[(Labels, i64)],
) -> std::fmt::Result {
    family(e, name, help, MetricType::Gauge, s, |mut m, v| {
        m.encode_gauge(v)
    })
}

fn gauge_f64(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    s: &[(Labels, f64)],
) -> std::fmt::Result {
    family(e, name, help, MetricType::Gauge, s, |mut m, v| {
        m.encode_gauge(v)
    })
}

fn age_seconds(now: u64, last: Option<u64>) -> Option<f64> {
    last.map(|t| now.saturating_sub(t) as f64 / 1e6)
}

impl Collector for BmpCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let now = now_us();
        let statuses: Vec<StationStatus> =
            self.stations.iter().map(StationHandle::snapshot).collect();
        let station = |s: &StationStatus| -> Labels { vec![("station", s.name.clone())] };
        let mut stored = Vec::new();
        let mut lost = Vec::new();
        let (mut connected, mut messages, mut prefixes, mut errors, mut age) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut up, mut peer_messages, mut peer_prefixes, mut peer_age) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for s in &statuses {
            stored.push((station(s), s.captures_stored));
            lost.push((station(s), s.captures_lost));
            for r in s.routers.values() {
                let router = || -> Labels {
                    vec![
                        ("station", s.name.clone()),
                        ("router", r.address.to_string()),
                        ("name", r.name.clone()),
                    ]
                };
                connected.push((router(), i64::from(r.connected)));
                messages.push((router(), r.messages));
                prefixes.push((router(), r.prefixes));
                errors.push((router(), r.errors));
                if let Some(a) = age_seconds(now, r.last_message_us) {
                    age.push((router(), a));
                }
                for (key, p) in &r.peers {
                    let peer = || -> Labels {
                        let mut l = router();
                        l.push((
                            "peer",
                            if key.loc_rib {
                                "loc-rib".to_owned()
                            } else {
                                key.address.to_string()
                            },
                        ));
                        l.push(("peer_as", p.asn.to_string()));
                        l.push(("distinguisher", key.distinguisher.to_string()));
                        l
                    };
                    up.push((peer(), i64::from(p.up)));
                    peer_messages.push((peer(), p.messages));
                    peer_prefixes.push((peer(), p.prefixes));
                    if let Some(a) = age_seconds(now, p.last_message_us) {
                        peer_age.push((peer(), a));
                    }
                }
            }
        }
        let e = &mut encoder;
        counter(
            e,
            "bgpmon_bmp_captures_stored",
            "Captures each BMP station committed.",
            &stored,
        )?;
        counter(
            e,
            "bgpmon_bmp_captures_lost",
            "Captures a BMP station received but could not commit.",
            &lost,
        )?;
        gauge(
            e,
            "bgpmon_bmp_router_connected",
            "Whether the router is connected (1) or not (0).",
            &connected,
        )?;
        counter(
            e,
            "bgpmon_bmp_router_messages",
            "BMP messages received from the router.",
            &messages,
        )?;
        counter(
            e,
            "bgpmon_bmp_router_prefixes",
            "Prefixes of the router's route-monitoring messages.",
            &prefixes,
        )?;
        counter(
            e,
            "bgpmon_bmp_router_errors",
            "Malformed messages from the router, each of which ended its connection.",
            &errors,
        )?;
        gauge_f64(
            e,
            "bgpmon_bmp_router_last_message_age_seconds",
            "Seconds since the router's last message.",
            &age,
        )?;
        gauge(
            e,
            "bgpmon_bmp_peer_up",
            "Whether the monitored peer is up (1) or down (0).",
            &up,
        )?;
        counter(
            e,
            "bgpmon_bmp_peer_messages",
            "Route-monitoring messages about the peer.",
            &peer_messages,
        )?;
        counter(
            e,
            "bgpmon_bmp_peer_prefixes",
            "Prefixes of the route-monitoring messages about the peer.",
            &peer_prefixes,
        )?;
        gauge_f64(
            e,
            "bgpmon_bmp_peer_last_message_age_seconds",
            "Seconds since the last route-monitoring message about the peer.",
            &peer_age,
        )?;
        Ok(())
    }
}
