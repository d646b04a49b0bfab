//! A BMP station: accepts routers, reads their messages, and commits their captures to the
//! station's session.
//!
//! Each connection runs in its own task and sends its captures over a bounded channel to
//! the station's one writer. It commits as soon as no more captures are waiting, and
//! under a steady stream at least every `commit_interval_ms` or `commit_captures`,
//! whichever comes first. A router faster than the commits fills the
//! channel; its task then stops reading, and TCP pushes back on the router.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bgpmon_ingest::bmp::{BmpEvent, BmpFramer, BmpRouter, ViewSet};
use bgpmon_store::{Capture, RouteView};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::status::{PeerEvent, PeerStatus, RouterStatus, StationHandle};
use crate::config::BmpConfig;
use crate::rpc::decode_capture;
use crate::server::Server;

/// Batches of captures in flight between connections and the writer.
const CHANNEL_BATCHES: usize = 64;

/// The most bytes read from a router at once.
const READ_CHUNK: usize = 64 * 1024;

/// How long the station waits before asking its session for a writer again.
const RETRY_WAIT: Duration = Duration::from_secs(1);

/// The station's clock: microseconds since the unix epoch.
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Serves the station `name` of `config` on `listener` until `shutdown`, then commits what
/// it received.
///
/// Returns an error only if accepting connections fails.
pub(crate) async fn serve_station(
    server: Server,
    name: String,
    config: BmpConfig,
    listener: TcpListener,
    status: StationHandle,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<Vec<Capture>>(CHANNEL_BATCHES);
    let writer = tokio::spawn(write_captures(
        server.clone(),
        name.clone(),
        config.clone(),
        rx,
        status.clone(),
        shutdown.clone(),
    ));
    let views = view_set(&config.route_views());
    let nodes: Vec<(IpAddr, String)> = server
        .config()
        .nodes
        .iter()
        .filter_map(|(ip, node)| Some((ip.parse().ok()?, node.name.clone())))
        .collect();
    let mut connections = JoinSet::new();
    let result = loop {
        tokio::select! {
            () = shutdown.cancelled() => break Ok(()),
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let node = nodes.iter().find(|(ip, _)| *ip == peer.ip()).map(|(_, n)| n.clone());
                    let connection = Connection {
                        station: name.clone(),
                        router_address: peer,
                        views,
                        quiet: Duration::from_millis(config.dump_quiet_ms),
                        status: status.clone(),
                        captures: tx.clone(),
                    };
                    connections.spawn(connection.run(socket, node, shutdown.clone()));
                }
                Err(e) => break Err(anyhow::anyhow!("BMP station {name} cannot accept connections: {e}")),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    };
    while connections.join_next().await.is_some() {}
    drop(tx);
    let _ = writer.await;
    result
}

fn view_set(views: &[RouteView]) -> ViewSet {
    ViewSet {
        pre_policy: views.contains(&RouteView::PrePolicy),
        post_policy: views.contains(&RouteView::PostPolicy),
        loc_rib: views.contains(&RouteView::LocRib),
    }
}

/// Commits the captures of every connection until they all end.
async fn write_captures(
    server: Server,
    station: String,
    config: BmpConfig,
    mut rx: mpsc::Receiver<Vec<Capture>>,
    status: StationHandle,
    shutdown: CancellationToken,
) {
    let interval = Duration::from_millis(config.commit_interval_ms);
    let mut writer = None;
    let mut buffered = 0usize;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let batch = match deadline {
            Some(at) => tokio::select! {
                batch = rx.recv() => batch,
                () = tokio::time::sleep_until(at) => Some(Vec::new()),
            },
            None => rx.recv().await,
        };
        let ended = batch.is_none();
        if let Some(batch) = batch
            && !batch.is_empty()
        {
            // Until the session takes a writer (its workers may all be busy), the
            // batch waits here and the channel fills: the routers are pushed back
            // through TCP and nothing they sent is dropped.
            let mut warned = false;
            while writer.is_none() {
                match server.capture_writer(&config.session).await {
                    Ok(w) => writer = Some(w),
                    Err(e) => {
                        if !warned {
                            tracing::warn!(station = %station, session = %config.session, error = %e, "BMP station cannot open its session; holding its routers back until it can");
                            warned = true;
                        }
                        tokio::select! {
                            () = tokio::time::sleep(RETRY_WAIT) => {}
                            () = shutdown.cancelled() => {
                                status.lock().captures_lost += batch.len() as u64;
                                return;
                            }
                        }
                    }
                }
            }
            let count = batch.len();
            if let Some(w) = writer.as_mut()
                && let Err(e) = w.write(batch)
            {
                tracing::warn!(station = %station, error = %e, lost = count, "BMP station cannot buffer captures; captures lost");
                status.lock().captures_lost += count as u64;
            } else {
                buffered += count;
                deadline.get_or_insert_with(|| tokio::time::Instant::now() + interval);
            }
        }
        let due = deadline.is_some_and(|at| at <= tokio::time::Instant::now());
        // Nothing more waiting: commit now rather than at the deadline, so a quiet
        // router's change is readable at once. Under load, batches keep arriving
        // during each commit and the next one takes them all (a group commit).
        let idle = rx.is_empty();
        if buffered > 0
            && (ended || due || idle || buffered >= config.commit_captures)
            && let Some(w) = writer.as_mut()
        {
            match w.flush().await {
                Ok(n) => status.lock().captures_stored += n,
                Err(e) => {
                    tracing::warn!(station = %station, error = %e, lost = buffered, "BMP station commit failed; captures lost");
                    status.lock().captures_lost += buffered as u64;
                    writer = None;
                }
            }
            buffered = 0;
            deadline = None;
        } else if buffered == 0 {
            deadline = None;
        }
        if ended {
            return;
        }
    }
}

/// One router's connection.
struct Connection {
    station: String,
    router_address: SocketAddr,
    views: ViewSet,
    quiet: Duration,
    status: StationHandle,
    captures: mpsc::Sender<Vec<Capture>>,
}

impl Connection {
    async fn run(self, mut socket: TcpStream, node: Option<String>, shutdown: CancellationToken) {
        let ip = self.router_address.ip();
        let router = BmpRouter::new(
            node.clone().unwrap_or_else(|| ip.to_string()),
            Some(ip),
            self.views,
        );
        let mut router = if node.is_some() {
            router.with_fixed_name()
        } else {
            router
        };
        self.connected(&router);
        tracing::info!(station = %self.station, router = %self.router_address, "BMP router connected");
        let mut framer = BmpFramer::new();
        let mut dumping = true;
        let ending = loop {
            framer.buffer_mut().reserve(READ_CHUNK);
            let read = tokio::select! {
                () = shutdown.cancelled() => break "the daemon is stopping".to_owned(),
                read = socket.read_buf(framer.buffer_mut()) => read,
                () = tokio::time::sleep(self.quiet), if dumping => {
                    router.end_table_dumps();
                    dumping = false;
                    continue;
                }
            };
            match read {
                Ok(0) => {
                    let offset = framer.offset();
                    break match framer.finish() {
                        0 => "the router closed the connection".to_owned(),
                        left => self.malformed(&format!(
                            "truncated BMP message at byte {offset}: the router closed the connection {left} bytes into it"
                        )),
                    };
                }
                Ok(_) => {}
                Err(e) => break format!("reading failed: {e}"),
            }
            let (batch, failure) = self.read_frames(&mut framer, &mut router, &mut dumping);
            if !batch.is_empty() && self.captures.send(batch).await.is_err() {
                break "the station is stopping".to_owned();
            }
            if let Some(failure) = failure {
                break failure;
            }
        };
        self.disconnected(&ending);
    }

    /// Handles every whole message buffered; returns their captures, and why the connection
    /// must end if a message was malformed.
    fn read_frames(
        &self,
        framer: &mut BmpFramer,
        router: &mut BmpRouter,
        dumping: &mut bool,
    ) -> (Vec<Capture>, Option<String>) {
        let mut batch = Vec::new();
        loop {
            let frame = match framer.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return (batch, None),
                Err(e) => return (batch, Some(self.malformed(&e.to_string()))),
            };
            let now = now_us();
            // A parser panic on a hostile message ends this router's connection, as a
            // malformed message does, instead of leaving its status connected.
            let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                router.handle(&frame, now)
            }));
            let event = match handled {
                Ok(Ok(event)) => event,
                Ok(Err(e)) => return (batch, Some(self.malformed(&e.to_string()))),
                Err(_) => {
                    let error = format!(
                        "malformed BMP message at byte {}: the parser panicked on it",
                        frame.offset
                    );
                    return (batch, Some(self.malformed(&error)));
                }
            };
            let mut status = self.status.lock();
            let Some(r) = status.routers.get_mut(&self.router_address.ip()) else {
                continue;
            };
            r.messages += 1;
            r.last_message_us = Some(now);
            if r.name != router.name() {
                r.name = router.name().to_owned();
            }
            match event {
                BmpEvent::PeerUp {
                    peer,
                    asn,
                    timestamp_us,
                    add_path,
                    four_octet_as,
                } => {
                    *dumping = true;
                    let p = r.peers.entry(peer).or_default();
                    p.asn = asn;
                    p.add_path = add_path;
                    p.four_octet_as = four_octet_as;
                    p.record(PeerEvent {
                        timestamp_us,
                        up: true,
                        reason: String::new(),
                    });
                }
                BmpEvent::PeerDown {
                    peer,
                    asn,
                    timestamp_us,
                    reason,
                } => {
                    let p = r.peers.entry(peer).or_default();
                    p.asn = asn;
                    p.record(PeerEvent {
                        timestamp_us,
                        up: false,
                        reason,
                    });
                }
                BmpEvent::RouteMonitoring {
                    peer,
                    asn,
                    prefixes,
                    capture,
                    ..
                } => {
                    r.prefixes += prefixes;
                    let p = r.peers.entry(peer).or_insert_with(|| PeerStatus {
                        asn,
                        up: true,
                        ..PeerStatus::default()
                    });
                    p.messages += 1;
                    p.prefixes += prefixes;
                    p.last_message_us = Some(now);
                    drop(status);
                    if let Some(capture) = capture {
                        match decode_capture(batch.len(), capture.as_bytes()) {
                            Ok(c) => batch.push(c),
                            Err(e) => {
                                return (
                                    batch,
                                    Some(self.malformed(&format!(
                                        "message at byte {} gives a capture the store refuses: {}",
                                        frame.offset,
                                        e.message()
                                    ))),
                                );
                            }
                        }
                    }
                }
                BmpEvent::Initiation { .. }
                | BmpEvent::Ignored { .. }
                | BmpEvent::Termination { .. } => {}
            }
        }
    }

    fn connected(&self, router: &BmpRouter) {
        let ip = self.router_address.ip();
        let mut status = self.status.lock();
        let r = status.routers.entry(ip).or_insert_with(|| RouterStatus {
            name: router.name().to_owned(),
            address: ip,
            connected: false,
            connections: 0,
            messages: 0,
            prefixes: 0,
            last_message_us: None,
            errors: 0,
            last_error: String::new(),
            peers: Default::default(),
        });
        r.connected = true;
        r.connections += 1;
    }

    /// Counts a malformed message; the first of a router is logged as a warning.
    fn malformed(&self, error: &str) -> String {
        let mut status = self.status.lock();
        if let Some(r) = status.routers.get_mut(&self.router_address.ip()) {
            r.errors += 1;
            r.last_error = error.to_owned();
            if r.errors == 1 {
                tracing::warn!(station = %self.station, router = %self.router_address, %error, "dropping a BMP router's connection");
            } else {
                tracing::debug!(station = %self.station, router = %self.router_address, %error, "dropping a BMP router's connection");
            }
        }
        error.to_owned()
    }

    fn disconnected(&self, why: &str) {
        tracing::info!(station = %self.station, router = %self.router_address, reason = why, "BMP router disconnected");
        let now = now_us();
        let mut status = self.status.lock();
        if let Some(r) = status.routers.get_mut(&self.router_address.ip()) {
            r.connected = false;
            for peer in r.peers.values_mut().filter(|p| p.up) {
                peer.record(PeerEvent {
                    timestamp_us: now,
                    up: false,
                    reason: format!("connection ended: {why}"),
                });
            }
        }
    }
}
