//! The MRT reader: frames records with bgpkit-parser, turns them into captures in batches, and
//! keeps the summary of what it read, skipped and where it stopped.

use std::fs::File;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use bgpkit_parser::models::{
    Asn, Bgp4MpEnum, BgpMessage, CommonHeader, LegacyBgp, MrtMessage, MrtRecord, NetworkPrefix,
    PeerIndexTable, RibEntry, TableDumpMessage, TableDumpV2Message,
};
use bgpkit_parser::{ParserError, ParserErrorWithBytes, RawMrtRecord, chunk_mrt_record};
use bgpmon_proto::EncodedCapture;

use crate::bmp::{BMP_VERSION, BmpEvent, BmpFramer, BmpRouter, COMMON_HEADER_BYTES, ViewSet};
use crate::encode::{CaptureWriter, Header, MpPrefixes};
use crate::source::{Progress, Source};
use crate::summary::{
    MAX_SAMPLE_BYTES, SKIP_BMP_END_OF_RIB, SKIP_BMP_INITIATION, SKIP_BMP_PEER_DOWN,
    SKIP_BMP_PEER_UP, SKIP_BMP_TERMINATION, SKIP_GEO_PEER_TABLE, SKIP_KEEPALIVE, SKIP_NOTIFICATION,
    SKIP_OPEN, SKIP_PEER_INDEX_TABLE, SKIP_RIB_WITHOUT_PEER_TABLE, SKIP_ROUTE_REFRESH,
    SKIP_STATE_CHANGE, SKIP_UNKNOWN_PEER, SkipKind,
};
use crate::{CollectorNames, Compression, IngestError, IngestSummary, Stop};

/// The most captures [`MrtReader::next_batch`] reserves room for up front, whatever its `max`.
const MAX_BATCH_RESERVE: usize = 16 * 1024;

/// Reads an MRT file or stream into bgpmon captures.
///
/// Captures come out in their wire form, each an encoded `bgpmon.v1.Capture` ready to send;
/// [`EncodedCapture::decode`] gives the generated type.
///
/// - Each BGP4MP or BGP4MP_ET UPDATE (all MESSAGE subtypes, AS4 and LOCAL) becomes one capture;
///   other BGP messages and state changes are skipped as informational.
/// - Each TABLE_DUMP_V2 RIB entry (and each legacy TABLE_DUMP entry) becomes one capture with
///   `is_rib` set, its peer taken from the PEER_INDEX_TABLE.
/// - A malformed record is skipped and counted; a truncated or corrupt stream ends the reading
///   after every whole record before the damage, and [`IngestSummary::stopped`] says where.
///
/// # Example
///
/// ```no_run
/// use bgpmon_ingest::{CollectorNames, MrtReader};
///
/// let mut reader = MrtReader::open("updates.20190101.0000.gz", CollectorNames::new())?;
/// while let Some(batch) = reader.next_batch(1000) {
///     println!("{} captures", batch.len());
/// }
/// let summary = reader.finish();
/// if let Some(stop) = &summary.stopped {
///     eprintln!("{stop}");
/// }
/// # Ok::<(), bgpmon_ingest::IngestError>(())
/// ```
pub struct MrtReader {
    name: String,
    source: Source,
    names: CollectorNames,
    peers: Option<PeerTable>,
    /// The captures read but not yet returned; those before `cursor` were already taken one
    /// by one by [`Iterator::next`]. Batches are cut from it without copying.
    pending: Vec<EncodedCapture>,
    writer: CaptureWriter,
    cursor: usize,
    /// The last collector address of an update and its name, since formatting an address
    /// for every capture of a file without a path name is slow.
    last_name: Option<(IpAddr, String)>,
    summary: IngestSummary,
    done: bool,
    /// For a raw BMP stream instead of MRT: its framing and its router's session.
    bmp: Option<BmpInput>,
}

/// A saved BMP stream being read.
struct BmpInput {
    framer: BmpFramer,
    router: BmpRouter,
}

impl std::fmt::Debug for MrtReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MrtReader")
            .field("name", &self.name)
            .field("offset", &self.offset())
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl MrtReader {
    /// Opens the MRT file at `path`, plain, gzip or bzip2 as its first bytes show.
    ///
    /// The collector name found in `path` replaces any path name `names` had (see
    /// [`CollectorNames::with_path`]).
    ///
    /// Returns an error if the file cannot be opened or its first bytes cannot be read.
    pub fn open(path: impl AsRef<Path>, names: CollectorNames) -> Result<Self, IngestError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| IngestError::Open {
            path: path.to_owned(),
            source,
        })?;
        let size = file.metadata().ok().map(|metadata| metadata.len());
        let name = path.display().to_string();
        let names = names.with_path(path);
        Self::new(name, file, size, names)
    }

    /// Reads MRT from `input`, plain, gzip or bzip2 as its first bytes show; `name` names it
    /// in errors and logs.
    ///
    /// Returns an error if the first bytes cannot be read.
    pub fn from_reader<R: Read + Send + 'static>(
        name: impl Into<String>,
        input: R,
        names: CollectorNames,
    ) -> Result<Self, IngestError> {
        Self::new(name.into(), input, None, names)
    }

    fn new<R: Read + Send + 'static>(
        name: String,
        input: R,
        size: Option<u64>,
        names: CollectorNames,
    ) -> Result<Self, IngestError> {
        let mut source = match Source::new(input, size) {
            Ok(source) => source,
            Err(source) => return Err(IngestError::Read { name, source }),
        };
        let bmp = match source.stream.peek() {
            Ok(head) => looks_like_bmp(head),
            Err(source) => return Err(IngestError::Read { name, source }),
        };
        let bmp = bmp.then(|| {
            let router = BmpRouter::new(names.name(None), None, ViewSet::ALL);
            BmpInput {
                framer: BmpFramer::new(),
                router: match names.override_name() {
                    Some(_) => router.with_fixed_name(),
                    None => router,
                },
            }
        });
        let format = if bmp.is_some() { "BMP" } else { "MRT" };
        tracing::debug!(input = %name, compression = %source.compression, format, "reading");
        Ok(Self {
            bmp,
            summary: IngestSummary::new(source.compression),
            name,
            source,
            names,
            peers: None,
            pending: Vec::new(),
            writer: CaptureWriter::default(),
            cursor: 0,
            last_name: None,
            done: false,
        })
    }

    /// The file path or the name given for the input.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The compression of the input.
    pub fn compression(&self) -> Compression {
        self.source.compression
    }

    /// The progress counter of the input, to poll from a progress bar.
    pub fn progress(&self) -> Progress {
        self.source.progress.clone()
    }

    /// The decompressed bytes consumed so far: the offset of the next record.
    pub fn offset(&self) -> u64 {
        self.source.stream.offset()
    }

    /// The next captures, at least one and at most `max` (a `max` of 0 counts as 1); `None`
    /// once the input is exhausted or has stopped.
    pub fn next_batch(&mut self, max: usize) -> Option<Vec<EncodedCapture>> {
        let max = max.max(1);
        if self.cursor > 0 {
            self.pending.drain(..self.cursor);
            self.cursor = 0;
        }
        let room = max.min(MAX_BATCH_RESERVE);
        if self.pending.len() < room {
            self.pending.reserve(room - self.pending.len());
        }
        while self.pending.len() < max && self.read_record() {}
        if self.pending.is_empty() {
            return None;
        }
        // A record's captures may overflow the batch; only the overflow is copied.
        let batch = if self.pending.len() > max {
            let overflow = self.pending.split_off(max);
            std::mem::replace(&mut self.pending, overflow)
        } else {
            std::mem::take(&mut self.pending)
        };
        Some(batch)
    }

    /// The account so far; final once [`next_batch`](Self::next_batch) has returned `None`.
    pub fn summary(&self) -> &IngestSummary {
        &self.summary
    }

    /// Ends the reading and returns its account; records not yet read are not counted.
    pub fn finish(self) -> IngestSummary {
        self.summary
    }

    /// Reads one record and queues its captures; returns `false`, reading nothing, once the
    /// input is exhausted or has stopped.
    fn read_record(&mut self) -> bool {
        if self.done {
            return false;
        }
        if self.bmp.is_some() {
            return self.read_bmp_message();
        }
        let start = self.offset();
        let raw = match chunk_mrt_record(&mut self.source.stream) {
            Ok(raw) => raw,
            Err(error) => {
                self.on_frame_error(start, &error);
                return !self.done;
            }
        };
        let length = self.offset() - start;
        self.summary.records += 1;
        self.summary.bytes += length;
        let mut head = [0u8; MAX_SAMPLE_BYTES];
        let head_len = copy_head(&raw, &mut head);
        match raw.parse() {
            Ok(record) => self.on_record(record),
            Err(error) => self.skip_malformed(start, length, &error, &head[..head_len]),
        }
        true
    }

    /// Reads one message of a BMP stream and queues its capture; returns `false`, reading
    /// nothing, once the stream is exhausted or has stopped.
    fn read_bmp_message(&mut self) -> bool {
        let Some(bmp) = self.bmp.as_mut() else {
            return false;
        };
        let frame = loop {
            match bmp.framer.next_frame() {
                Ok(Some(frame)) => break frame,
                Ok(None) => {}
                Err(error) => {
                    let trailing_bytes = bmp.framer.finish() as u64;
                    self.stop(error.offset, trailing_bytes, error.detail);
                    return false;
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.source.stream.read(&mut chunk) {
                Ok(0) => {
                    let (offset, trailing_bytes) = (bmp.framer.offset(), bmp.framer.finish());
                    if trailing_bytes > 0 {
                        let reason = format!(
                            "the input ends inside a BMP message ({trailing_bytes} bytes of it present)"
                        );
                        self.stop(offset, trailing_bytes as u64, reason);
                    }
                    self.done = true;
                    return false;
                }
                Ok(n) => bmp.framer.extend_from_slice(&chunk[..n]),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => {
                    let (offset, trailing_bytes) = (bmp.framer.offset(), bmp.framer.finish());
                    let reason = format!("cannot decompress or read the input: {error}");
                    self.stop(offset, trailing_bytes as u64, reason);
                    return false;
                }
            }
        };
        let length = frame.bytes.len() as u64;
        self.summary.records += 1;
        self.summary.bytes += length;
        match bmp.router.handle(&frame, 0) {
            Ok(BmpEvent::RouteMonitoring {
                capture: Some(capture),
                prefixes,
                ..
            }) => {
                self.summary.captures += 1;
                self.summary.elements += prefixes;
                self.pending.push(capture);
            }
            Ok(event) => {
                let reason = match event {
                    BmpEvent::Initiation { .. } => SKIP_BMP_INITIATION,
                    BmpEvent::PeerUp { .. } => SKIP_BMP_PEER_UP,
                    BmpEvent::PeerDown { .. } => SKIP_BMP_PEER_DOWN,
                    BmpEvent::Termination { .. } => SKIP_BMP_TERMINATION,
                    BmpEvent::RouteMonitoring { .. } => SKIP_BMP_END_OF_RIB,
                    BmpEvent::Ignored { what } => what,
                };
                self.summary.skip(SkipKind::Informational, reason);
            }
            Err(error) => {
                let head = &frame.bytes[..frame.bytes.len().min(MAX_SAMPLE_BYTES)];
                if self
                    .summary
                    .skip_malformed(frame.offset, length, &error.detail, head)
                {
                    tracing::warn!(input = %self.name, offset = frame.offset, error = %error.detail, "skipped a malformed BMP message");
                }
            }
        }
        true
    }

    /// Ends the reading early at `offset`, for `reason`.
    fn stop(&mut self, offset: u64, trailing_bytes: u64, reason: String) {
        tracing::warn!(input = %self.name, offset, %reason, "input stopped early");
        self.summary.stopped = Some(Stop {
            offset,
            trailing_bytes,
            reason,
        });
        self.done = true;
    }

    /// Handles a record that could not be framed: skips it when its length was still usable,
    /// else stops.
    fn on_frame_error(&mut self, start: u64, error: &ParserErrorWithBytes) {
        let trailing_bytes = self.offset() - start;
        let reason = match (&error.error, self.source.stream.error()) {
            (ParserError::EofExpected, None) => {
                self.done = true;
                return;
            }
            (ParserError::OversizedRecord { length }, _) => format!(
                "the record declares a body of {length} bytes, over bgpkit-parser's limit, so \
                 the records after it cannot be found"
            ),
            (
                ParserError::EofExpected | ParserError::IoError(_) | ParserError::EofError(_),
                Some(read_error),
            ) => format!("cannot decompress or read the input: {read_error}"),
            (ParserError::IoError(_) | ParserError::EofError(_), None) => format!(
                "the input ends inside a record ({trailing_bytes} bytes of it present): {}",
                parser_message(&error.error)
            ),
            (other, _) => {
                // The header was rejected after its declared body was read, so the next
                // record starts where this one ends.
                let bytes = error.bytes.as_deref().unwrap_or_default();
                self.summary.records += 1;
                self.summary.bytes += trailing_bytes;
                self.skip_malformed(start, trailing_bytes, other, bytes);
                return;
            }
        };
        tracing::warn!(input = %self.name, offset = start, %reason, "MRT input stopped early");
        self.summary.stopped = Some(Stop {
            offset: start,
            trailing_bytes,
            reason,
        });
        self.done = true;
    }

    /// Counts a malformed record and logs the first few.
    fn skip_malformed(&mut self, offset: u64, length: u64, error: &ParserError, head: &[u8]) {
        let message = parser_message(error);
        if self.summary.skip_malformed(offset, length, &message, head) {
            tracing::warn!(input = %self.name, offset, error = %message, "skipped a malformed MRT record");
        } else {
            tracing::debug!(input = %self.name, offset, error = %message, "skipped a malformed MRT record");
        }
    }

    /// Turns a parsed record into captures or counts it as skipped.
    fn on_record(&mut self, record: MrtRecord) {
        let header = record.common_header;
        match record.message {
            MrtMessage::Bgp4Mp(Bgp4MpEnum::Message(message)) => self.on_bgp_message(
                &header,
                message.peer_ip,
                message.peer_asn,
                message.local_ip,
                message.bgp_message,
            ),
            MrtMessage::LegacyBgp(LegacyBgp::Message(message)) => self.on_bgp_message(
                &header,
                message.peer_ip,
                message.peer_asn,
                message.local_ip,
                message.bgp_message,
            ),
            MrtMessage::Bgp4Mp(Bgp4MpEnum::StateChange(_))
            | MrtMessage::LegacyBgp(LegacyBgp::StateChange(_)) => {
                self.summary
                    .skip(SkipKind::Informational, SKIP_STATE_CHANGE);
            }
            MrtMessage::TableDumpV2Message(message) => match message {
                TableDumpV2Message::PeerIndexTable(table) => {
                    self.peers = Some(PeerTable::new(table, &self.names));
                    self.summary
                        .skip(SkipKind::Informational, SKIP_PEER_INDEX_TABLE);
                }
                TableDumpV2Message::RibAfi(rib) => {
                    self.on_rib(&header, &rib.prefix, rib.rib_entries);
                }
                TableDumpV2Message::RibGeneric(rib) => {
                    self.on_rib(&header, &rib.nlri, rib.rib_entries);
                }
                TableDumpV2Message::GeoPeerTable(_) => {
                    self.summary
                        .skip(SkipKind::Informational, SKIP_GEO_PEER_TABLE);
                }
            },
            MrtMessage::TableDumpMessage(entry) => self.on_table_dump(&header, &entry),
            MrtMessage::TableDumpMessageBatch(entries) => {
                for entry in entries {
                    self.on_table_dump(&header, &entry);
                }
            }
        }
    }

    /// One capture for an UPDATE; a count of the skip for any other message.
    fn on_bgp_message(
        &mut self,
        header: &CommonHeader,
        peer_ip: IpAddr,
        peer_asn: Asn,
        local_ip: IpAddr,
        message: BgpMessage,
    ) {
        let update = match message {
            BgpMessage::Update(update) => update,
            other => {
                let reason = match other {
                    BgpMessage::Open(_) => SKIP_OPEN,
                    BgpMessage::Notification(_) => SKIP_NOTIFICATION,
                    BgpMessage::RouteRefresh(_) => SKIP_ROUTE_REFRESH,
                    BgpMessage::KeepAlive | BgpMessage::Update(_) => SKIP_KEEPALIVE,
                };
                self.summary.skip(SkipKind::Informational, reason);
                return;
            }
        };
        let collector = collector_name(&mut self.last_name, &self.names, local_ip);
        let writer = self.writer.start(&Header {
            timestamp_us: timestamp_us(header),
            collector,
            collector_ip: Some(local_ip),
            peer_ip,
            peer_as: peer_asn.to_u32(),
            is_rib: false,
            mrt_type: Some(mrt_type(header)),
            view: None,
        });
        for prefix in &update.announced_prefixes {
            writer.advertised(&prefix.prefix);
        }
        for prefix in &update.withdrawn_prefixes {
            writer.withdrawn(&prefix.prefix);
        }
        writer.attributes(&update.attributes, MpPrefixes::Append);
        Self::emit(&mut self.summary, &mut self.writer, &mut self.pending);
    }

    /// Counts the capture `writer` is writing, ends it and queues it. It
    /// takes the reader's fields, not the reader, so that callers can hold
    /// the peer table or collector names meanwhile.
    fn emit(
        summary: &mut IngestSummary,
        writer: &mut CaptureWriter,
        pending: &mut Vec<EncodedCapture>,
    ) {
        summary.captures += 1;
        summary.elements = writer.elements();
        pending.push(writer.finish());
    }

    /// One capture per entry of a TABLE_DUMP_V2 RIB record.
    fn on_rib(
        &mut self,
        header: &CommonHeader,
        rib_prefix: &NetworkPrefix,
        entries: Vec<RibEntry>,
    ) {
        let Some(table) = &self.peers else {
            self.summary
                .skip(SkipKind::Malformed, SKIP_RIB_WITHOUT_PEER_TABLE);
            return;
        };
        let timestamp_us = timestamp_us(header);
        self.pending.reserve(entries.len());
        for entry in entries {
            let Some(peer) = table.peer(entry.peer_index) else {
                self.summary.skip(SkipKind::Malformed, SKIP_UNKNOWN_PEER);
                continue;
            };
            self.writer
                .start(&Header {
                    timestamp_us,
                    collector: &table.collector,
                    collector_ip: Some(table.collector_ip),
                    peer_ip: peer.ip,
                    peer_as: peer.asn,
                    is_rib: true,
                    mrt_type: Some(mrt_type(header)),
                    view: None,
                })
                .advertised(&rib_prefix.prefix)
                .attributes(&entry.attributes, MpPrefixes::Ignore);
            Self::emit(&mut self.summary, &mut self.writer, &mut self.pending);
        }
    }

    /// One capture for an entry of a legacy TABLE_DUMP record, which has no collector address.
    fn on_table_dump(&mut self, header: &CommonHeader, entry: &TableDumpMessage) {
        let collector = self.names.name(None);
        self.writer
            .start(&Header {
                timestamp_us: timestamp_us(header),
                collector: &collector,
                collector_ip: None,
                peer_ip: entry.peer_ip,
                peer_as: entry.peer_asn.to_u32(),
                is_rib: true,
                mrt_type: Some(mrt_type(header)),
                view: None,
            })
            .advertised(&entry.prefix.prefix)
            .attributes(&entry.attributes, MpPrefixes::Ignore);
        Self::emit(&mut self.summary, &mut self.writer, &mut self.pending);
    }
}

impl Iterator for MrtReader {
    type Item = EncodedCapture;

    /// The next capture, one at a time; [`MrtReader::next_batch`] is the faster way.
    fn next(&mut self) -> Option<EncodedCapture> {
        loop {
            if let Some(slot) = self.pending.get_mut(self.cursor) {
                self.cursor += 1;
                return Some(std::mem::take(slot));
            }
            self.pending.clear();
            self.cursor = 0;
            if !self.read_record() {
                return None;
            }
        }
    }
}

/// The name of the collector at `ip`, remembered in `last` for the records that follow.
fn collector_name<'a>(
    last: &'a mut Option<(IpAddr, String)>,
    names: &CollectorNames,
    ip: IpAddr,
) -> &'a str {
    if last.as_ref().is_none_or(|(last_ip, _)| *last_ip != ip) {
        *last = Some((ip, names.name(Some(ip)).into_owned()));
    }
    last.as_ref().map_or("", |(_, name)| name)
}

/// The peers of a PEER_INDEX_TABLE in wire form, by index, with the collector's name and
/// address, so each RIB entry only clones them.
struct PeerTable {
    collector: String,
    collector_ip: IpAddr,
    peers: Vec<Option<TablePeer>>,
}

/// One peer of a [`PeerTable`].
struct TablePeer {
    ip: IpAddr,
    asn: u32,
}

impl PeerTable {
    fn new(table: PeerIndexTable, names: &CollectorNames) -> Self {
        let collector_ip = IpAddr::V4(table.collector_bgp_id);
        let len = table
            .id_peer_map
            .keys()
            .max()
            .map_or(0, |max| usize::from(*max) + 1);
        let mut peers: Vec<Option<TablePeer>> = std::iter::repeat_with(|| None).take(len).collect();
        for (index, peer) in table.id_peer_map {
            if let Some(slot) = peers.get_mut(usize::from(index)) {
                *slot = Some(TablePeer {
                    ip: peer.peer_ip,
                    asn: peer.peer_asn.to_u32(),
                });
            }
        }
        tracing::debug!(collector = %collector_ip, peers = peers.len(), "read a peer index table");
        Self {
            collector: names.name(Some(collector_ip)).into_owned(),
            collector_ip,
            peers,
        }
    }

    fn peer(&self, index: u16) -> Option<&TablePeer> {
        self.peers.get(usize::from(index))?.as_ref()
    }
}

/// The record time in microseconds since the epoch, with the BGP4MP_ET microseconds.
fn timestamp_us(header: &CommonHeader) -> u64 {
    u64::from(header.timestamp) * 1_000_000 + u64::from(header.microsecond_timestamp.unwrap_or(0))
}

/// The record's MRT type number (RFC 6396 section 4).
/// Whether a stream starting with `head` is BMP rather than MRT: a BMP version 3 common
/// header of a known message type. An MRT record starts with a timestamp, whose first byte
/// is 3 only in 1971.
fn looks_like_bmp(head: &[u8]) -> bool {
    head.len() >= COMMON_HEADER_BYTES
        && head[0] == BMP_VERSION
        && head[5] <= 6
        && u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize >= COMMON_HEADER_BYTES
}

fn mrt_type(header: &CommonHeader) -> u16 {
    header.entry_type as u16
}

/// Copies the first bytes of `raw` (header, then body) into `head`; returns how many.
fn copy_head(raw: &RawMrtRecord, head: &mut [u8; MAX_SAMPLE_BYTES]) -> usize {
    let mut len = 0;
    for part in [&raw.header_bytes[..], &raw.message_bytes[..]] {
        let n = part.len().min(head.len() - len);
        head[len..len + n].copy_from_slice(&part[..n]);
        len += n;
    }
    len
}

/// The parser's message without its `Error: ` prefix.
fn parser_message(error: &ParserError) -> String {
    let message = error.to_string();
    match message.strip_prefix("Error: ") {
        Some(rest) => rest.to_owned(),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<MrtReader>();
    }

    #[test]
    fn empty_input_yields_nothing_and_no_stop() {
        let mut reader =
            MrtReader::from_reader("empty", std::io::empty(), CollectorNames::new()).unwrap();
        assert_eq!(reader.next_batch(10), None);
        let summary = reader.finish();
        assert_eq!(summary.records, 0);
        assert_eq!(summary.stopped, None);
    }

    #[test]
    fn a_partial_header_stops_at_zero() {
        let mut reader =
            MrtReader::from_reader("short", &b"\0\0\0\x01\0\x10"[..], CollectorNames::new())
                .unwrap();
        assert_eq!(reader.next(), None);
        let stop = reader.finish().stopped.unwrap();
        assert_eq!((stop.offset, stop.trailing_bytes), (0, 6));
    }

    #[test]
    fn open_names_the_missing_file() {
        let error = MrtReader::open("/no/such/file.mrt", CollectorNames::new()).unwrap_err();
        assert!(matches!(error, IngestError::Open { .. }));
        assert!(error.to_string().contains("/no/such/file.mrt"));
    }

    #[test]
    fn timestamps_include_microseconds() {
        let header = CommonHeader {
            timestamp: 1_427_846_874,
            microsecond_timestamp: Some(123_456),
            entry_type: bgpkit_parser::models::EntryType::BGP4MP_ET,
            entry_subtype: 4,
            length: 0,
        };
        assert_eq!(timestamp_us(&header), 1_427_846_874_123_456);
    }
}
