//! One monitored router's BMP session: its peers' state and its route-monitoring messages
//! as captures.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use bgpkit_parser::models::capabilities::AddPathSendReceive;
use bgpkit_parser::models::{
    AttributeValue, BgpMessage, BgpOpenMessage, BgpUpdateMessage, CapabilityValue, ParamValue,
};
use bgpkit_parser::parser::bgp::messages::parse_bgp_message;
use bgpkit_parser::parser::bmp::messages::{
    BmpMsgType, BmpPeerType, BmpPerPeerHeader, InitiationTlvType, PerPeerFlags,
    parse_bmp_common_header, parse_initiation_message, parse_peer_down_notification,
    parse_peer_up_notification, parse_per_peer_header, parse_termination_message,
};
use bgpmon_proto::EncodedCapture;
use bgpmon_proto::v1::RouteView;
use bytes::Bytes;

use super::BmpError;
use super::framing::Frame;
use super::nlri::plain_prefixes;
use crate::encode::{CaptureWriter, Header, MpPrefixes};

/// The most distinct peers one session may name. A route server has a few thousand; a
/// stream naming more is refused, so a hostile one cannot grow the state without bound.
pub const MAX_PEERS: usize = 65_536;

/// A peer as a router's per-peer header names it, or the router's own Loc-RIB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerKey {
    /// The route distinguisher of an RD instance peer; 0 otherwise.
    pub distinguisher: u64,
    /// The peer's address; for the Loc-RIB, the zero address RFC 9069 gives it.
    pub address: IpAddr,
    /// True for the router's Loc-RIB.
    pub loc_rib: bool,
}

/// The views a station keeps; route-monitoring messages of other views are counted and
/// dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewSet {
    /// Pre-policy Adj-RIB-In.
    pub pre_policy: bool,
    /// Post-policy Adj-RIB-In.
    pub post_policy: bool,
    /// Loc-RIB.
    pub loc_rib: bool,
}

impl ViewSet {
    /// Every view.
    pub const ALL: Self = Self {
        pre_policy: true,
        post_policy: true,
        loc_rib: true,
    };

    /// Whether `view` is kept.
    pub fn keeps(self, view: RouteView) -> bool {
        match view {
            RouteView::PrePolicy => self.pre_policy,
            RouteView::PostPolicy => self.post_policy,
            RouteView::LocRib => self.loc_rib,
            RouteView::Unspecified => false,
        }
    }
}

/// What the station learned from one message.
#[derive(Debug, Clone, PartialEq)]
pub enum BmpEvent {
    /// The router introduced itself (RFC 7854 §4.3).
    Initiation {
        /// Its sysName TLV.
        sys_name: Option<String>,
        /// Its sysDescr TLV.
        sys_descr: Option<String>,
    },
    /// A peer came up (RFC 7854 §4.10).
    PeerUp {
        /// The peer.
        peer: PeerKey,
        /// Its AS.
        asn: u32,
        /// The peer's time for it, microseconds since the unix epoch.
        timestamp_us: u64,
        /// The address families in which the peer sends the router ADD-PATH path ids.
        add_path: Vec<(u16, u8)>,
        /// Whether both OPENs carry the 4-octet AS capability.
        four_octet_as: bool,
    },
    /// A peer went down (RFC 7854 §4.9).
    PeerDown {
        /// The peer.
        peer: PeerKey,
        /// Its AS.
        asn: u32,
        /// The peer's time for it, microseconds since the unix epoch.
        timestamp_us: u64,
        /// Why, in words.
        reason: String,
    },
    /// A route-monitoring message.
    RouteMonitoring {
        /// The peer it is about.
        peer: PeerKey,
        /// Its AS.
        asn: u32,
        /// The view it describes.
        view: RouteView,
        /// Its advertised and withdrawn prefixes.
        prefixes: u64,
        /// Its capture; `None` for an End-of-RIB marker or a view the station does not keep.
        capture: Option<EncodedCapture>,
        /// Whether it is an End-of-RIB marker.
        end_of_rib: bool,
    },
    /// A message the station reads but keeps nothing of (statistics, route mirroring,
    /// Adj-RIB-Out monitoring, message types newer than RFC 7854), with why.
    Ignored {
        /// What it was.
        what: &'static str,
    },
    /// The router ends the session (RFC 7854 §4.5).
    Termination {
        /// Its reason, in words.
        reason: String,
    },
}

/// A peer's state.
#[derive(Debug, Clone, Default)]
struct PeerState {
    /// The address families in which the peer sends path ids.
    add_path: Vec<(u16, u8)>,
    /// Per view (pre-policy, post-policy, Loc-RIB), whether its table dump is still
    /// arriving.
    dumping: [bool; 3],
}

/// One router's BMP session.
///
/// Feed it the router's messages in order with [`BmpRouter::handle`]; it keeps what RFC 7854
/// leaves to the station (bgpkit-parser keeps no session state):
///
/// - the router's name, from its initiation message unless one was configured;
/// - per peer, from its peer-up, the address families with ADD-PATH negotiated towards the
///   router; a route-monitoring message of a pre-policy view is read with path ids only in
///   those, and when bgpkit-parser's ADD-PATH guess finds path ids where none were
///   negotiated, the prefixes are read again without (see `nlri.rs`);
/// - per peer and view, whether its table dump is still arriving: from a peer-up until an
///   End-of-RIB marker or [`BmpRouter::end_table_dumps`]. The Loc-RIB, which has no
///   peer-up, dumps from the session's start, and again while a peer's dump fills it.
///   Captures of a dump are marked as RIB entries.
#[derive(Debug)]
pub struct BmpRouter {
    name: String,
    name_configured: bool,
    address: Option<IpAddr>,
    views: ViewSet,
    peers: HashMap<PeerKey, PeerState>,
    /// Whether the dumps that follow the session's start are over: a peer first seen
    /// after that, without a peer-up (the Loc-RIB has none), sends updates.
    initial_dumps_over: bool,
    /// Every peer the session has named, up or down, at most [`MAX_PEERS`].
    seen: HashSet<PeerKey>,
    writer: CaptureWriter,
}

impl BmpRouter {
    /// A session with the router at `address` (unknown for a saved stream), keeping
    /// `views`. Its captures are named `name` until an initiation message gives a sysName.
    pub fn new(name: impl Into<String>, address: Option<IpAddr>, views: ViewSet) -> Self {
        Self {
            name_configured: false,
            name: name.into(),
            address,
            views,
            peers: HashMap::new(),
            initial_dumps_over: false,
            seen: HashSet::new(),
            writer: CaptureWriter::default(),
        }
    }

    /// Keeps the name given to [`BmpRouter::new`] (a configured node's) whatever sysName
    /// the router sends.
    pub fn with_fixed_name(mut self) -> Self {
        self.name_configured = true;
        self
    }

    /// The router's name: the collector of its captures.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Ends every table dump still arriving: later route-monitoring messages are updates.
    /// A station calls it when the router has been quiet for a while, since some routers
    /// (gobgpd among them) send no End-of-RIB.
    pub fn end_table_dumps(&mut self) {
        self.initial_dumps_over = true;
        for peer in self.peers.values_mut() {
            peer.dumping = [false; 3];
        }
    }

    /// Records `peer` as named by the session; refuses one past [`MAX_PEERS`].
    fn admit(&mut self, peer: PeerKey) -> Result<(), String> {
        if self.seen.len() >= MAX_PEERS && !self.seen.contains(&peer) {
            return Err(format!(
                "the router names more than {MAX_PEERS} peers; a BMP session may monitor at most {MAX_PEERS}"
            ));
        }
        self.seen.insert(peer);
        Ok(())
    }

    /// Reads one message; `now_us` stands in for a per-peer timestamp of 0 ("unavailable").
    ///
    /// Returns an error naming the message's offset if it is malformed.
    pub fn handle(&mut self, frame: &Frame, now_us: u64) -> Result<BmpEvent, BmpError> {
        let fail = |detail: String| BmpError::new(frame.offset, detail);
        let mut data = frame.bytes.clone();
        let header =
            parse_bmp_common_header(&mut data).map_err(|e| fail(format!("common header: {e}")))?;
        let body_len =
            (header.msg_len as usize).saturating_sub(super::framing::COMMON_HEADER_BYTES);
        if data.len() != body_len {
            return Err(fail(format!(
                "message length {} does not match its {} bytes",
                header.msg_len,
                data.len() + super::framing::COMMON_HEADER_BYTES
            )));
        }
        match header.msg_type {
            BmpMsgType::InitiationMessage => {
                let message = parse_initiation_message(&mut data)
                    .map_err(|e| fail(format!("initiation: {e}")))?;
                let tlv = |kind: InitiationTlvType| {
                    message
                        .tlvs
                        .iter()
                        .find(|t| t.info_type == kind)
                        .map(|t| t.info.clone())
                };
                let (sys_name, sys_descr) = (
                    tlv(InitiationTlvType::SysName),
                    tlv(InitiationTlvType::SysDescr),
                );
                if !self.name_configured
                    && let Some(name) = sys_name.as_ref().filter(|n| !n.trim().is_empty())
                {
                    self.name = name.trim().to_owned();
                }
                Ok(BmpEvent::Initiation {
                    sys_name,
                    sys_descr,
                })
            }
            BmpMsgType::TerminationMessage => {
                let message = parse_termination_message(&mut data)
                    .map_err(|e| fail(format!("termination: {e}")))?;
                let reason = message
                    .tlvs
                    .iter()
                    .map(|t| format!("{:?}", t.info_value))
                    .collect::<Vec<_>>()
                    .join(", ");
                Ok(BmpEvent::Termination { reason })
            }
            BmpMsgType::PeerUpNotification => {
                let peer_header = parse_per_peer_header(&mut data)
                    .map_err(|e| fail(format!("per-peer header: {e}")))?;
                let up = parse_peer_up_notification(
                    &mut data,
                    &peer_header.afi(),
                    &peer_header.asn_length(),
                    Some(&peer_header.peer_type),
                )
                .map_err(|e| fail(format!("peer up: {e}")))?;
                let (BgpMessage::Open(sent), BgpMessage::Open(received)) =
                    (&up.sent_open, &up.received_open)
                else {
                    return Err(fail("peer up: its BGP messages are not OPENs".into()));
                };
                let add_path = add_path_towards_router(sent, received);
                let four_octet_as = has_four_octet_as(sent) && has_four_octet_as(received);
                let peer = key(&peer_header);
                self.admit(peer).map_err(fail)?;
                self.peers.insert(
                    peer,
                    PeerState {
                        add_path: add_path.clone(),
                        dumping: [true; 3],
                    },
                );
                // The routes of the peer's dump go into the Loc-RIB too: its changes are
                // part of the dump while that lasts.
                for (key, state) in &mut self.peers {
                    if key.loc_rib {
                        state.dumping[view_slot(RouteView::LocRib)] = true;
                    }
                }
                Ok(BmpEvent::PeerUp {
                    peer,
                    asn: peer_header.peer_asn.to_u32(),
                    timestamp_us: timestamp_us(&peer_header, now_us),
                    add_path,
                    four_octet_as,
                })
            }
            BmpMsgType::PeerDownNotification => {
                let peer_header = parse_per_peer_header(&mut data)
                    .map_err(|e| fail(format!("per-peer header: {e}")))?;
                let down = parse_peer_down_notification(&mut data)
                    .map_err(|e| fail(format!("peer down: {e}")))?;
                let peer = key(&peer_header);
                self.admit(peer).map_err(fail)?;
                self.peers.remove(&peer);
                Ok(BmpEvent::PeerDown {
                    peer,
                    asn: peer_header.peer_asn.to_u32(),
                    timestamp_us: timestamp_us(&peer_header, now_us),
                    reason: format!("{:?}", down.reason),
                })
            }
            BmpMsgType::RouteMonitoring => {
                let peer_header = parse_per_peer_header(&mut data)
                    .map_err(|e| fail(format!("per-peer header: {e}")))?;
                self.route_monitoring(&peer_header, &data, now_us)
                    .map_err(fail)
            }
            BmpMsgType::StatisticsReport => Ok(BmpEvent::Ignored {
                what: "statistics report",
            }),
            BmpMsgType::RouteMirroringMessage => Ok(BmpEvent::Ignored {
                what: "route mirroring",
            }),
        }
    }

    fn route_monitoring(
        &mut self,
        peer_header: &BmpPerPeerHeader,
        message: &Bytes,
        now_us: u64,
    ) -> Result<BmpEvent, String> {
        let view = match (peer_header.peer_type, peer_header.peer_flags) {
            (BmpPeerType::LocalRib, _) => RouteView::LocRib,
            (_, PerPeerFlags::PeerFlags(flags)) if flags.is_adj_rib_out() => {
                return Ok(BmpEvent::Ignored {
                    what: "Adj-RIB-Out route monitoring",
                });
            }
            (_, PerPeerFlags::PeerFlags(flags)) if flags.is_post_policy() => RouteView::PostPolicy,
            _ => RouteView::PrePolicy,
        };
        let peer = key(peer_header);
        self.admit(peer)?;
        let asn_len = peer_header.asn_length();
        let dumping =
            !self.initial_dumps_over || self.peers.values().any(|p| p.dumping.contains(&true));
        let state = self.peers.entry(peer).or_insert_with(|| PeerState {
            // A peer seen without a peer-up (the Loc-RIB never has one, and a station may
            // start mid-session) is in the session's first dump while that lasts.
            add_path: Vec::new(),
            dumping: [dumping; 3],
        });
        let family_of_update = |update: &BgpUpdateMessage| -> (u16, u8) {
            for value in &update.attributes {
                if let AttributeValue::MpReachNlri(n) | AttributeValue::MpUnreachNlri(n) = value {
                    return (n.afi as u16, n.safi as u8);
                }
            }
            (1, 1)
        };
        // ADD-PATH is only known for what the peer sent: the pre-policy view. gobgp writes
        // no path ids in post-policy and Loc-RIB messages.
        let negotiated =
            |family: (u16, u8)| view == RouteView::PrePolicy && state.add_path.contains(&family);
        // Parsed once without ADD-PATH: the family decides whether to read it again with.
        let mut raw = message.clone();
        let update = match parse_bgp_message(&mut raw, false, &asn_len) {
            Ok(BgpMessage::Update(update)) => update,
            Ok(_) => {
                return Err("route monitoring carries a BGP message that is not an UPDATE".into());
            }
            Err(e) => {
                // It may only parse with path ids, if the peer negotiated them.
                let mut raw = message.clone();
                match parse_bgp_message(&mut raw, true, &asn_len) {
                    Ok(BgpMessage::Update(update)) if negotiated(family_of_update(&update)) => {
                        update
                    }
                    _ => return Err(format!("route monitoring UPDATE: {e}")),
                }
            }
        };
        let family = family_of_update(&update);
        let update = if negotiated(family) && !has_path_ids(&update) {
            let mut raw = message.clone();
            match parse_bgp_message(&mut raw, true, &asn_len) {
                Ok(BgpMessage::Update(with_ids)) => with_ids,
                _ => update,
            }
        } else {
            update
        };
        let replaced = if !negotiated(family) && has_path_ids(&update) {
            // bgpkit-parser guessed ADD-PATH; read the prefixes as they are on the wire.
            plain_prefixes(message)
        } else {
            None
        };
        let slot = view_slot(view);
        let end_of_rib = update.is_end_of_rib();
        let is_rib = state.dumping[slot];
        if end_of_rib {
            state.dumping[slot] = false;
        }
        let prefixes = match &replaced {
            Some(p) => (p.advertised.len() + p.withdrawn.len()) as u64,
            None => count_prefixes(&update),
        };
        if end_of_rib || !self.views.keeps(view) {
            return Ok(BmpEvent::RouteMonitoring {
                peer,
                asn: peer_header.peer_asn.to_u32(),
                view,
                prefixes,
                capture: None,
                end_of_rib,
            });
        }
        let writer = self.writer.start(&Header {
            timestamp_us: timestamp_us(peer_header, now_us),
            collector: &self.name,
            collector_ip: self.address,
            peer_ip: peer.address,
            peer_as: peer_header.peer_asn.to_u32(),
            is_rib,
            mrt_type: None,
            view: Some(view),
        });
        match &replaced {
            Some(plain) => {
                for prefix in &plain.advertised {
                    writer.advertised(prefix);
                }
                for prefix in &plain.withdrawn {
                    writer.withdrawn(prefix);
                }
                writer.attributes(&update.attributes, MpPrefixes::Ignore);
            }
            None => {
                for prefix in &update.announced_prefixes {
                    writer.advertised(&prefix.prefix);
                }
                for prefix in &update.withdrawn_prefixes {
                    writer.withdrawn(&prefix.prefix);
                }
                writer.attributes(&update.attributes, MpPrefixes::Append);
            }
        }
        Ok(BmpEvent::RouteMonitoring {
            peer,
            asn: peer_header.peer_asn.to_u32(),
            view,
            prefixes,
            capture: Some(self.writer.finish()),
            end_of_rib: false,
        })
    }
}

fn view_slot(view: RouteView) -> usize {
    match view {
        RouteView::PrePolicy | RouteView::Unspecified => 0,
        RouteView::PostPolicy => 1,
        RouteView::LocRib => 2,
    }
}

fn key(header: &BmpPerPeerHeader) -> PeerKey {
    PeerKey {
        distinguisher: header.peer_distinguisher,
        address: header.peer_ip,
        loc_rib: header.peer_type == BmpPeerType::LocalRib,
    }
}

/// The per-peer header's time, or `now_us` when it is 0 (RFC 7854: unavailable).
fn timestamp_us(header: &BmpPerPeerHeader, now_us: u64) -> u64 {
    if header.timestamp > 0.0 && header.timestamp.is_finite() {
        (header.timestamp * 1e6).round() as u64
    } else {
        now_us
    }
}

fn count_prefixes(update: &BgpUpdateMessage) -> u64 {
    let mut n = update.announced_prefixes.len() + update.withdrawn_prefixes.len();
    for value in &update.attributes {
        if let AttributeValue::MpReachNlri(nlri) | AttributeValue::MpUnreachNlri(nlri) = value {
            n += nlri.prefixes.len();
        }
    }
    n as u64
}

fn has_path_ids(update: &BgpUpdateMessage) -> bool {
    let listed = update
        .announced_prefixes
        .iter()
        .chain(&update.withdrawn_prefixes)
        .any(|p| p.path_id.is_some());
    listed
        || update.attributes.iter().any(|value| match value {
            AttributeValue::MpReachNlri(nlri) | AttributeValue::MpUnreachNlri(nlri) => {
                nlri.prefixes.iter().any(|p| p.path_id.is_some())
            }
            _ => false,
        })
}

fn capabilities(open: &BgpOpenMessage) -> impl Iterator<Item = &CapabilityValue> {
    open.opt_params.iter().flat_map(|p| match &p.param_value {
        ParamValue::Capacities(list) => list.iter().map(|c| &c.value).collect::<Vec<_>>(),
        ParamValue::Raw(_) => Vec::new(),
    })
}

fn has_four_octet_as(open: &BgpOpenMessage) -> bool {
    capabilities(open).any(|c| matches!(c, CapabilityValue::FourOctetAs(_)))
}

/// The (AFI, SAFI) pairs in which the peer may send path ids to the router (RFC 7911 §4):
/// the peer's OPEN (received by the router) says it can send, the router's says it can
/// receive.
fn add_path_towards_router(sent: &BgpOpenMessage, received: &BgpOpenMessage) -> Vec<(u16, u8)> {
    let modes = |open: &BgpOpenMessage| {
        capabilities(open)
            .filter_map(|c| match c {
                CapabilityValue::AddPath(a) => Some(a.address_families.clone()),
                _ => None,
            })
            .flatten()
            .map(|f| ((f.afi as u16, f.safi as u8), f.send_receive))
            .collect::<Vec<_>>()
    };
    let can = |mode: AddPathSendReceive, send: bool| match mode {
        AddPathSendReceive::SendReceive => true,
        AddPathSendReceive::Send => send,
        AddPathSendReceive::Receive => !send,
    };
    let router = modes(sent);
    let mut families: Vec<(u16, u8)> = modes(received)
        .into_iter()
        .filter(|(family, mode)| {
            can(*mode, true) && router.iter().any(|(f, m)| f == family && can(*m, false))
        })
        .map(|(family, _)| family)
        .collect();
    families.sort_unstable();
    families.dedup();
    families
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use bgpmon_proto::v1;

    use super::*;
    use crate::bmp::BmpFramer;

    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const ROUTER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    const PEER_AS: u32 = 4_200_000_001;
    /// 2019-01-01T00:00:00.25Z.
    const SECONDS: u32 = 1_546_300_800;

    fn bmp(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![3];
        m.extend_from_slice(&((6 + body.len()) as u32).to_be_bytes());
        m.push(kind);
        m.extend_from_slice(body);
        m
    }

    /// A per-peer header for PEER with `peer_type` and `flags`.
    fn per_peer(peer_type: u8, flags: u8) -> Vec<u8> {
        let mut h = vec![peer_type, flags];
        h.extend_from_slice(&0u64.to_be_bytes());
        h.extend_from_slice(&[0; 12]);
        h.extend_from_slice(&PEER.octets());
        h.extend_from_slice(&PEER_AS.to_be_bytes());
        h.extend_from_slice(&PEER.octets());
        h.extend_from_slice(&SECONDS.to_be_bytes());
        h.extend_from_slice(&250_000u32.to_be_bytes());
        h
    }

    fn bgp(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        m.push(kind);
        m.extend_from_slice(body);
        m
    }

    /// An OPEN with the 4-octet AS capability and, if `add_path` is given, ADD-PATH for
    /// IPv4 unicast in that mode (1 receive, 2 send, 3 both).
    fn open(asn: u32, add_path: Option<u8>) -> Vec<u8> {
        let mut caps = vec![65, 4];
        caps.extend_from_slice(&asn.to_be_bytes());
        if let Some(mode) = add_path {
            caps.extend_from_slice(&[69, 4, 0, 1, 1, mode]);
        }
        let mut body = vec![4];
        body.extend_from_slice(&23456u16.to_be_bytes());
        body.extend_from_slice(&90u16.to_be_bytes());
        body.extend_from_slice(&[10, 0, 0, 1]);
        body.push((caps.len() + 2) as u8);
        body.extend_from_slice(&[2, caps.len() as u8]);
        body.extend_from_slice(&caps);
        bgp(1, &body)
    }

    fn peer_up(router_add_path: Option<u8>, peer_add_path: Option<u8>) -> Vec<u8> {
        let mut body = per_peer(0, 0);
        body.extend_from_slice(&[0; 12]);
        body.extend_from_slice(&[192, 0, 2, 254]);
        body.extend_from_slice(&179u16.to_be_bytes());
        body.extend_from_slice(&50_000u16.to_be_bytes());
        body.extend_from_slice(&open(4_200_000_002, router_add_path));
        body.extend_from_slice(&open(PEER_AS, peer_add_path));
        bmp(3, &body)
    }

    /// An UPDATE with ORIGIN, a 4-byte AS_PATH of `path`, NEXT_HOP, and the raw `nlri`.
    fn update(path: &[u32], nlri: &[u8]) -> Vec<u8> {
        let mut attributes = vec![0x40, 1, 1, 0];
        attributes.extend_from_slice(&[0x40, 2, (2 + 4 * path.len()) as u8, 2, path.len() as u8]);
        for asn in path {
            attributes.extend_from_slice(&asn.to_be_bytes());
        }
        attributes.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
        let mut body = vec![0, 0];
        body.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
        body.extend_from_slice(&attributes);
        body.extend_from_slice(nlri);
        bgp(2, &body)
    }

    fn end_of_rib() -> Vec<u8> {
        bgp(2, &[0, 0, 0, 0])
    }

    fn monitoring(peer_type: u8, flags: u8, bgp_message: &[u8]) -> Vec<u8> {
        let mut body = per_peer(peer_type, flags);
        body.extend_from_slice(bgp_message);
        bmp(0, &body)
    }

    /// Feeds `stream` to a fresh router keeping every view and returns its events.
    fn run(stream: &[Vec<u8>]) -> Vec<BmpEvent> {
        let mut router = BmpRouter::new("127.0.0.2", Some(ROUTER), ViewSet::ALL);
        let mut framer = BmpFramer::new();
        framer.extend_from_slice(&stream.concat());
        let mut events = Vec::new();
        while let Some(frame) = framer.next_frame().unwrap() {
            events.push(router.handle(&frame, 7).unwrap());
        }
        events
    }

    fn captures(events: &[BmpEvent]) -> Vec<v1::Capture> {
        events
            .iter()
            .filter_map(|e| match e {
                BmpEvent::RouteMonitoring {
                    capture: Some(c), ..
                } => Some(c.decode().unwrap()),
                _ => None,
            })
            .collect()
    }

    fn advertised(capture: &v1::Capture) -> Vec<String> {
        capture
            .advertised
            .iter()
            .map(|p| {
                let ip = bgpmon_proto::ip_from_bytes(&p.address).unwrap().unwrap();
                format!("{ip}/{}", p.length)
            })
            .collect()
    }

    #[test]
    fn a_default_route_then_a_prefix_without_add_path_stays_two_prefixes() {
        // The case of LIVE-FACTS: bgpkit-parser alone reads 0.0.0.0/0 with a path id and
        // loses 10.0.0.0/24.
        let events = run(&[
            peer_up(None, None),
            monitoring(0, 0, &update(&[PEER_AS, 64_500], &[0, 24, 10, 0, 0])),
        ]);
        let c = captures(&events);
        assert_eq!(c.len(), 1);
        assert_eq!(advertised(&c[0]), ["0.0.0.0/0", "10.0.0.0/24"]);
        assert!(matches!(
            events[1],
            BmpEvent::RouteMonitoring { prefixes: 2, .. }
        ));
    }

    #[test]
    fn negotiated_add_path_reads_path_ids_in_the_pre_policy_view() {
        // Path id 1, then 10.0.0.0/24; path id 2, then 0.0.0.0/0.
        let nlri = [0, 0, 0, 1, 24, 10, 0, 0, 0, 0, 0, 2, 0];
        let events = run(&[
            peer_up(Some(1), Some(2)),
            monitoring(0, 0, &update(&[PEER_AS], &nlri)),
        ]);
        match &events[0] {
            BmpEvent::PeerUp {
                add_path,
                four_octet_as,
                asn,
                ..
            } => {
                assert_eq!(add_path, &[(1, 1)]);
                assert!(*four_octet_as);
                assert_eq!(*asn, PEER_AS);
            }
            other => panic!("not a peer up: {other:?}"),
        }
        assert_eq!(
            advertised(&captures(&events)[0]),
            ["10.0.0.0/24", "0.0.0.0/0"]
        );
    }

    #[test]
    fn add_path_offered_one_way_only_is_not_negotiated() {
        // The peer can send path ids but the router cannot receive them.
        let events = run(&[
            peer_up(Some(2), Some(2)),
            monitoring(0, 0, &update(&[PEER_AS], &[0, 24, 10, 0, 0])),
        ]);
        assert!(matches!(&events[0], BmpEvent::PeerUp { add_path, .. } if add_path.is_empty()));
        assert_eq!(
            advertised(&captures(&events)[0]),
            ["0.0.0.0/0", "10.0.0.0/24"]
        );
    }

    #[test]
    fn views_timestamps_and_peers_are_kept_in_each_capture() {
        let events = run(&[
            peer_up(None, None),
            monitoring(0, 0, &update(&[PEER_AS], &[24, 192, 0, 2])),
            monitoring(0, 0x40, &update(&[PEER_AS], &[24, 192, 0, 2])),
            monitoring(3, 0, &update(&[PEER_AS], &[24, 192, 0, 2])),
        ]);
        let c = captures(&events);
        let views: Vec<_> = c.iter().map(|c| c.view()).collect();
        assert_eq!(
            views,
            [
                v1::RouteView::PrePolicy,
                v1::RouteView::PostPolicy,
                v1::RouteView::LocRib
            ]
        );
        for capture in &c {
            assert_eq!(
                capture.timestamp_us,
                u64::from(SECONDS) * 1_000_000 + 250_000
            );
            assert_eq!(capture.peer_as, PEER_AS);
            assert_eq!(capture.collector, "127.0.0.2");
            assert_eq!(capture.origin_as, Some(PEER_AS));
            assert_eq!(capture.mrt_type, None);
        }
    }

    #[test]
    fn a_table_dump_lasts_until_end_of_rib_and_again_after_the_next_peer_up() {
        let prefix = update(&[PEER_AS], &[24, 192, 0, 2]);
        let events = run(&[
            peer_up(None, None),
            monitoring(0, 0, &prefix),
            monitoring(0, 0, &end_of_rib()),
            monitoring(0, 0, &prefix),
            peer_up(None, None),
            monitoring(0, 0, &prefix),
        ]);
        let rib: Vec<bool> = captures(&events).iter().map(|c| c.is_rib).collect();
        assert_eq!(rib, [true, false, true]);
        assert!(matches!(
            events[2],
            BmpEvent::RouteMonitoring {
                end_of_rib: true,
                capture: None,
                ..
            }
        ));
    }

    #[test]
    fn ending_the_dumps_makes_later_messages_updates() {
        let mut router = BmpRouter::new("127.0.0.2", Some(ROUTER), ViewSet::ALL);
        let mut framer = BmpFramer::new();
        let prefix = update(&[PEER_AS], &[24, 192, 0, 2]);
        framer.extend_from_slice(&[monitoring(3, 0, &prefix), monitoring(3, 0, &prefix)].concat());
        let first = framer.next_frame().unwrap().unwrap();
        let second = framer.next_frame().unwrap().unwrap();
        let rib = |event: BmpEvent| match event {
            BmpEvent::RouteMonitoring {
                capture: Some(c), ..
            } => c.decode().unwrap().is_rib,
            other => panic!("{other:?}"),
        };
        assert!(
            rib(router.handle(&first, 0).unwrap()),
            "the Loc-RIB dumps from the start"
        );
        router.end_table_dumps();
        assert!(!rib(router.handle(&second, 0).unwrap()));

        // A Loc-RIB first seen after the first dumps is live from its first message.
        let mut router = BmpRouter::new("127.0.0.2", Some(ROUTER), ViewSet::ALL);
        router.end_table_dumps();
        framer.extend_from_slice(&monitoring(3, 0, &prefix));
        let late = framer.next_frame().unwrap().unwrap();
        assert!(!rib(router.handle(&late, 0).unwrap()));
    }

    #[test]
    fn the_initiation_names_the_router_unless_a_name_was_configured() {
        let mut tlvs = vec![0, 2, 0, 4];
        tlvs.extend_from_slice(b"edge");
        let initiation = bmp(4, &tlvs);
        let prefix = monitoring(0, 0, &update(&[PEER_AS], &[24, 192, 0, 2]));
        assert_eq!(
            captures(&run(&[initiation.clone(), prefix]))[0].collector,
            "edge"
        );

        let mut router = BmpRouter::new("configured", Some(ROUTER), ViewSet::ALL).with_fixed_name();
        let mut framer = BmpFramer::new();
        framer.extend_from_slice(&initiation);
        let frame = framer.next_frame().unwrap().unwrap();
        router.handle(&frame, 0).unwrap();
        assert_eq!(router.name(), "configured");
    }

    #[test]
    fn views_not_kept_give_no_capture_but_are_counted() {
        let views = ViewSet {
            pre_policy: false,
            post_policy: true,
            loc_rib: false,
        };
        let mut router = BmpRouter::new("127.0.0.2", Some(ROUTER), views);
        let mut framer = BmpFramer::new();
        framer.extend_from_slice(&monitoring(0, 0, &update(&[PEER_AS], &[24, 192, 0, 2])));
        let frame = framer.next_frame().unwrap().unwrap();
        assert!(matches!(
            router.handle(&frame, 0).unwrap(),
            BmpEvent::RouteMonitoring {
                capture: None,
                prefixes: 1,
                ..
            }
        ));
    }

    #[test]
    fn a_malformed_message_is_an_error_with_its_offset() {
        let good = bmp(4, &[]);
        // A route-monitoring message whose UPDATE is cut short.
        let mut cut = update(&[PEER_AS], &[24, 192, 0, 2]);
        cut.truncate(25);
        let bad = monitoring(0, 0, &cut);
        let mut router = BmpRouter::new("127.0.0.2", Some(ROUTER), ViewSet::ALL);
        let mut framer = BmpFramer::new();
        framer.extend_from_slice(&[good.clone(), bad].concat());
        router
            .handle(&framer.next_frame().unwrap().unwrap(), 0)
            .unwrap();
        let error = router
            .handle(&framer.next_frame().unwrap().unwrap(), 0)
            .unwrap_err();
        assert_eq!(error.offset, good.len() as u64);
        assert!(
            error
                .to_string()
                .starts_with("malformed BMP message at byte 6: "),
            "{error}"
        );
    }

    #[test]
    fn a_session_naming_too_many_peers_is_refused_at_the_first_past_the_limit() {
        let mut router = BmpRouter::new("127.0.0.2", Some(ROUTER), ViewSet::ALL);
        let prefix = update(&[PEER_AS], &[24, 192, 0, 2]);
        let message = |n: u32| {
            let mut m = monitoring(0, 0, &prefix);
            // The peer address is the last 4 of the per-peer header's 16 address bytes.
            m[6 + 22..6 + 26].copy_from_slice(&n.to_be_bytes());
            m
        };
        let mut framer = BmpFramer::new();
        for n in 0..=MAX_PEERS as u32 {
            framer.extend_from_slice(&message(n));
            let frame = framer.next_frame().unwrap().unwrap();
            let handled = router.handle(&frame, 0);
            if (n as usize) < MAX_PEERS {
                assert!(handled.is_ok(), "peer {n}: {handled:?}");
            } else {
                let error = handled.unwrap_err();
                assert!(error.detail.contains("more than 65536 peers"), "{error}");
            }
        }
        // A peer already named still passes.
        framer.extend_from_slice(&message(7));
        let frame = framer.next_frame().unwrap().unwrap();
        assert!(router.handle(&frame, 0).is_ok());
    }

    #[test]
    fn peer_down_forgets_the_peer() {
        let mut body = per_peer(0, 0);
        body.push(5);
        let events = run(&[peer_up(None, None), bmp(2, &body)]);
        assert!(matches!(
            &events[1],
            BmpEvent::PeerDown { asn: PEER_AS, reason, .. } if reason == "PeerDeConfigured"
        ));
    }
}
