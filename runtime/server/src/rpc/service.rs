//! The gRPC service: every server operation, with streaming writes and
//! reads.
//!
//! A read runs in its own task and stops when the client goes away; a write
//! stream that ends in an error or is dropped rolls back what it did not
//! flush.

use std::sync::Arc;
use std::time::Duration;

use bgpmon_host::{OnExisting, RunRequest};
use bgpmon_proto::v1::{self, bgpmon_server::Bgpmon};
use bgpmon_store::{
    CaptureFilter, CaptureSelection, Committable, EntityFilter, FindingFilter, PendingFlush, Writer,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use super::capture_wire::decode_capture;
use super::convert::{
    bmp_station_to_proto, capture_to_proto, entity_from_proto, entity_to_proto, filter_from_proto,
    grants_from_proto, import_spec_from_proto, import_to_proto, limits_from_proto,
    log_line_to_proto, module_info_to_proto, options_from_proto, prefix_event_to_proto,
    status_to_proto, stored_finding_to_proto,
};
use super::metrics::Metrics;
use crate::error::ServerError;
use crate::server::{Server, SessionInfo};

/// Records per streamed response unless the client asks for another size.
pub const DEFAULT_READ_BATCH: usize = 1_000;

/// Responses a read buffers ahead of a slow client.
const READ_AHEAD: usize = 4;

/// How often a followed log is checked for new lines.
const LOG_POLL: Duration = Duration::from_millis(200);

/// The bgpmon gRPC service over a [`Server`].
#[derive(Clone)]
pub struct BgpmonService {
    server: Server,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
}

impl BgpmonService {
    /// A service over `server`, counting into `metrics`; streams end when
    /// `shutdown` is cancelled.
    pub fn new(server: Server, metrics: Arc<Metrics>, shutdown: CancellationToken) -> Self {
        Self {
            server,
            metrics,
            shutdown,
        }
    }
}

fn session_to_proto(s: SessionInfo) -> v1::SessionInfo {
    v1::SessionInfo {
        id: s.id,
        session_type: s.session_type,
        workers: s.workers,
        workers_busy: s.workers_busy,
        open: s.open,
        captures: s.stats.captures,
        stored_bytes: s.stats.stored_bytes(),
        index_bytes: s.stats.index_bytes,
        first_us: s.stats.first_us,
        last_us: s.stats.last_us,
        imports: s.stats.imports,
        created_us: s.created_us,
    }
}

fn batch_size(requested: u32) -> usize {
    match requested {
        0 => DEFAULT_READ_BATCH,
        n => (n as usize).min(bgpmon_store::MAX_READ_BATCH),
    }
}

type ResponseStream<T> = ReceiverStream<Result<T, Status>>;

/// The session named on a write stream's first message.
fn session_of(id: &str) -> Result<&str, Status> {
    if id.is_empty() {
        return Err(Status::invalid_argument(
            "session_id: is empty on the first message; name the session to write to",
        ));
    }
    Ok(id)
}

/// Feeds a client's write stream, starting with `first`, into `writer`:
/// `records` converts a message into its records and its flush flag, and
/// may note what the message says of the stream (such as the end of an
/// import). Commits only when a message asks, and returns how many records
/// were committed. A commit runs while the next messages arrive; each is
/// waited for before the next starts, so commits keep their order.
///
/// Only a flush commits: when the stream ends, fails, or the client
/// cancels the call (which drops this future), the writer is left
/// unflushed, so dropping it rolls back what was not flushed. A flush
/// already started completes either way.
async fn feed<M, T>(
    first: M,
    stream: &mut Streaming<M>,
    writer: &mut Writer<T>,
    tally: &mut WriteTally,
    mut records: impl FnMut(M) -> Result<(Vec<T>, bool), Status>,
) -> Result<u64, Status>
where
    T: Committable,
{
    let mut pending: Option<PendingFlush> = None;
    let fed = async {
        let mut next = Some(first);
        while let Some(message) = next {
            let (batch, flush) = records(message)?;
            let n = batch.len() as u64;
            writer.write(batch).map_err(ServerError::from)?;
            tally.receive(n);
            if flush {
                if let Some(previous) = pending.take() {
                    tally.settle(previous.wait().await)?;
                }
                let flushing = writer.buffered() as u64;
                pending = Some(writer.start_flush().map_err(ServerError::from)?);
                tally.in_flight = flushing;
            }
            next = stream.message().await?;
        }
        Ok::<(), Status>(())
    }
    .await;
    // A flush asked for commits even when the stream then fails: it is
    // waited for, so the reply comes after it and says what is stored.
    let settled = match pending.take() {
        Some(previous) => tally.settle(previous.wait().await),
        None => Ok(()),
    };
    fed?;
    settled?;
    let unflushed = writer.buffered();
    if unflushed > 0 {
        tracing::debug!(
            records = unflushed,
            "a write stream ended with records it did not flush; they roll back"
        );
    }
    Ok(tally.committed)
}

/// What one write stream received and committed. When it drops (the
/// stream ended, failed, or its call was cancelled and the handler
/// dropped), what was received and neither committed nor being committed
/// is counted as rolled back.
#[derive(Debug, Default)]
struct WriteTally {
    /// Where captures are counted; none for entity streams.
    metrics: Option<Arc<Metrics>>,
    received: u64,
    committed: u64,
    /// Records of a flush started and not yet waited for; it completes
    /// even if the stream is dropped.
    in_flight: u64,
}

impl WriteTally {
    fn captures(metrics: &Arc<Metrics>) -> Self {
        Self {
            metrics: Some(metrics.clone()),
            ..Self::default()
        }
    }

    /// Records `n` records received and buffered.
    fn receive(&mut self, n: u64) {
        self.received += n;
        if let Some(metrics) = &self.metrics {
            metrics.captures_received(n);
        }
    }

    /// Records how the in-flight flush ended.
    ///
    /// Returns its error if it failed; then it committed nothing.
    fn settle(&mut self, result: bgpmon_store::Result<u64>) -> Result<(), Status> {
        self.in_flight = 0;
        self.committed += result.map_err(ServerError::from)?;
        Ok(())
    }
}

impl Drop for WriteTally {
    fn drop(&mut self) {
        if let Some(metrics) = &self.metrics {
            metrics.captures_rolled_back(
                self.received
                    .saturating_sub(self.committed + self.in_flight),
            );
        }
    }
}

/// Runs `produce` in a task that feeds a response stream, and cancels the
/// token it gets when the client goes away or the server shuts down.
fn stream_from<T, F, Fut>(shutdown: &CancellationToken, produce: F) -> ResponseStream<T>
where
    T: Send + 'static,
    F: FnOnce(mpsc::Sender<Result<T, Status>>, CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let stop = shutdown.child_token();
    let watcher = {
        let tx = tx.clone();
        let stop = stop.clone();
        async move {
            tokio::select! {
                () = tx.closed() => stop.cancel(),
                () = stop.cancelled() => {}
            }
        }
    };
    tokio::spawn(watcher);
    let task = produce(tx, stop.clone());
    tokio::spawn(async move {
        task.await;
        stop.cancel();
    });
    ReceiverStream::new(rx)
}

#[tonic::async_trait]
impl Bgpmon for BgpmonService {
    async fn list_session_types(
        &self,
        _request: Request<v1::ListSessionTypesRequest>,
    ) -> Result<Response<v1::ListSessionTypesResponse>, Status> {
        let session_types = self
            .server
            .list_session_types()
            .into_iter()
            .map(|t| v1::SessionType {
                name: t.name,
                kind: "redb".into(),
                path: t.path.display().to_string(),
                workers: t.workers,
                timeout_secs: t.worker_wait.as_secs(),
            })
            .collect();
        Ok(Response::new(v1::ListSessionTypesResponse {
            session_types,
        }))
    }

    async fn open_session(
        &self,
        request: Request<v1::OpenSessionRequest>,
    ) -> Result<Response<v1::OpenSessionResponse>, Status> {
        let r = request.into_inner();
        let id = (!r.id.is_empty()).then_some(r.id.as_str());
        let workers = (r.workers != 0).then_some(r.workers);
        let info = self
            .server
            .open_session(&r.session_type, id, workers)
            .await?;
        Ok(Response::new(v1::OpenSessionResponse {
            session: Some(session_to_proto(info)),
        }))
    }

    async fn list_sessions(
        &self,
        _request: Request<v1::ListSessionsRequest>,
    ) -> Result<Response<v1::ListSessionsResponse>, Status> {
        let sessions = self
            .server
            .list_sessions()
            .await?
            .into_iter()
            .map(session_to_proto)
            .collect();
        Ok(Response::new(v1::ListSessionsResponse { sessions }))
    }

    async fn get_session(
        &self,
        request: Request<v1::GetSessionRequest>,
    ) -> Result<Response<v1::GetSessionResponse>, Status> {
        let (info, imports) = self
            .server
            .session_details(&request.into_inner().id)
            .await?;
        Ok(Response::new(v1::GetSessionResponse {
            session: Some(session_to_proto(info)),
            imports: imports.into_iter().map(import_to_proto).collect(),
        }))
    }

    async fn close_session(
        &self,
        request: Request<v1::CloseSessionRequest>,
    ) -> Result<Response<v1::CloseSessionResponse>, Status> {
        self.server.close_session(&request.into_inner().id)?;
        Ok(Response::new(v1::CloseSessionResponse {}))
    }

    async fn delete_session(
        &self,
        request: Request<v1::DeleteSessionRequest>,
    ) -> Result<Response<v1::DeleteSessionResponse>, Status> {
        let captures_deleted = self.server.delete_session(&request.into_inner().id).await?;
        Ok(Response::new(v1::DeleteSessionResponse {
            captures_deleted,
        }))
    }

    async fn delete_captures(
        &self,
        request: Request<v1::DeleteCapturesRequest>,
    ) -> Result<Response<v1::DeleteCapturesResponse>, Status> {
        let r = request.into_inner();
        let selection = match r.selection {
            Some(v1::delete_captures_request::Selection::ImportId(id)) => {
                CaptureSelection::Import(id)
            }
            Some(v1::delete_captures_request::Selection::Filter(filter)) => {
                CaptureSelection::Filter(Box::new(filter_from_proto(Some(filter))?))
            }
            None => {
                return Err(Status::invalid_argument(
                    "selection: is missing; name an import_id or give a filter (an empty filter deletes every capture)",
                ));
            }
        };
        let captures_deleted = self
            .server
            .delete_captures(&r.session_id, selection)
            .await?;
        Ok(Response::new(v1::DeleteCapturesResponse {
            captures_deleted,
        }))
    }

    async fn list_nodes(
        &self,
        _request: Request<v1::ListNodesRequest>,
    ) -> Result<Response<v1::ListNodesResponse>, Status> {
        let nodes = self
            .server
            .config()
            .node_list()
            .into_iter()
            .map(|n| v1::Node {
                ip: bgpmon_proto::ip_to_bytes(n.ip),
                name: n.name,
                collector: n.collector,
                dump_duration_minutes: n.dump_duration_minutes,
                description: n.description,
            })
            .collect();
        Ok(Response::new(v1::ListNodesResponse { nodes }))
    }

    async fn write_captures(
        &self,
        request: Request<Streaming<v1::WriteCapturesRequest>>,
    ) -> Result<Response<v1::WriteCapturesResponse>, Status> {
        let mut stream = request.into_inner();
        let Some(mut first) = stream.message().await? else {
            return Ok(Response::new(v1::WriteCapturesResponse::default()));
        };
        let session = session_of(&first.session_id)?.to_owned();
        let (begun, mut writer) = match first.import.take() {
            Some(spec) => {
                let spec = import_spec_from_proto(spec)?;
                let (begun, writer) = self.server.import_writer(&session, spec).await?;
                if let Some(replaced) = &begun.replaced {
                    tracing::info!(session = %session, replaced = replaced.id, import = begun.import.id, "a partial import of the same file is replaced");
                }
                (Some(begun), writer)
            }
            None => (None, self.server.capture_writer(&session).await?),
        };
        let mut finish = false;
        let mut tally = WriteTally::captures(&self.metrics);
        let written = feed(first, &mut stream, &mut writer, &mut tally, |m| {
            finish |= m.finish_import;
            let captures = m
                .captures
                .iter()
                .enumerate()
                .map(|(i, c)| decode_capture(i, c.as_bytes()))
                .collect::<Result<Vec<_>, _>>()?;
            // The message that completes an import commits, so the
            // import is marked complete only with all its captures.
            Ok((captures, m.flush || m.finish_import))
        })
        .await?;
        self.metrics.captures_written(written);
        let (import, replaced) = match begun {
            Some(begun) => {
                let import = if finish {
                    self.server.finish_import(&session, begun.import.id).await?
                } else {
                    let mut import = begun.import;
                    import.captures = written;
                    import
                };
                (
                    Some(import_to_proto(import)),
                    begun.replaced.map(import_to_proto),
                )
            }
            None => (None, None),
        };
        Ok(Response::new(v1::WriteCapturesResponse {
            captures_written: written,
            import,
            replaced,
        }))
    }

    async fn write_entities(
        &self,
        request: Request<Streaming<v1::WriteEntitiesRequest>>,
    ) -> Result<Response<v1::WriteEntitiesResponse>, Status> {
        let mut stream = request.into_inner();
        let Some(first) = stream.message().await? else {
            return Ok(Response::new(v1::WriteEntitiesResponse::default()));
        };
        let mut writer = self
            .server
            .entity_writer(session_of(&first.session_id)?)
            .await?;
        let mut tally = WriteTally::default();
        let written = feed(first, &mut stream, &mut writer, &mut tally, |m| {
            let entities = m
                .entities
                .into_iter()
                .enumerate()
                .map(|(i, e)| entity_from_proto(i, e))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((entities, m.flush))
        })
        .await?;
        self.metrics.entities_written(written);
        Ok(Response::new(v1::WriteEntitiesResponse {
            entities_written: written,
        }))
    }

    type ReadCapturesStream = ResponseStream<v1::ReadCapturesResponse>;

    async fn read_captures(
        &self,
        request: Request<v1::ReadCapturesRequest>,
    ) -> Result<Response<Self::ReadCapturesStream>, Status> {
        let r = request.into_inner();
        let filter = filter_from_proto(r.filter)?;
        let mut reader = if r.cursor.is_empty() {
            self.server
                .capture_reader(&r.session_id, filter, r.follow)
                .await?
        } else {
            let position =
                bgpmon_store::ScanPosition::from_cursor(&r.cursor).map_err(ServerError::from)?;
            self.server
                .capture_reader_at(&r.session_id, filter, r.follow, position)
                .await?
        };
        let batch = batch_size(r.batch_size);
        let metrics = self.metrics.clone();
        Ok(Response::new(stream_from(
            &self.shutdown,
            |tx, stop| async move {
                loop {
                    let result = tokio::select! {
                        result = reader.read(batch, &stop) => result,
                        () = stop.cancelled() => return,
                    };
                    match result {
                        Ok(captures) if captures.is_empty() => return,
                        Ok(captures) => {
                            metrics.captures_read(captures.len() as u64);
                            let captures = captures.into_iter().map(capture_to_proto).collect();
                            let cursor = reader.position().to_cursor();
                            if tx
                                .send(Ok(v1::ReadCapturesResponse { captures, cursor }))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(ServerError::from(e).into())).await;
                            return;
                        }
                    }
                }
            },
        )))
    }

    type ReadPrefixesStream = ResponseStream<v1::ReadPrefixesResponse>;

    async fn read_prefixes(
        &self,
        request: Request<v1::ReadPrefixesRequest>,
    ) -> Result<Response<Self::ReadPrefixesStream>, Status> {
        let r = request.into_inner();
        let filter = filter_from_proto(r.filter)?;
        let mut reader = self.server.prefix_reader(&r.session_id, filter).await?;
        let batch = batch_size(r.batch_size);
        Ok(Response::new(stream_from(
            &self.shutdown,
            |tx, stop| async move {
                loop {
                    match reader.read(batch, &stop).await {
                        Ok(events) if events.is_empty() => return,
                        Ok(events) => {
                            let prefixes = events.into_iter().map(prefix_event_to_proto).collect();
                            if tx
                                .send(Ok(v1::ReadPrefixesResponse { prefixes }))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(ServerError::from(e).into())).await;
                            return;
                        }
                    }
                }
            },
        )))
    }

    type ReadEntitiesStream = ResponseStream<v1::ReadEntitiesResponse>;

    async fn read_entities(
        &self,
        request: Request<v1::ReadEntitiesRequest>,
    ) -> Result<Response<Self::ReadEntitiesStream>, Status> {
        let r = request.into_inner();
        let mut reader = self
            .server
            .entity_reader(&r.session_id, EntityFilter { names: r.names })
            .await?;
        Ok(Response::new(stream_from(
            &self.shutdown,
            |tx, _stop| async move {
                loop {
                    match reader.read(DEFAULT_READ_BATCH).await {
                        Ok(entities) if entities.is_empty() => return,
                        Ok(entities) => {
                            let entities = entities.into_iter().map(entity_to_proto).collect();
                            if tx
                                .send(Ok(v1::ReadEntitiesResponse { entities }))
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(ServerError::from(e).into())).await;
                            return;
                        }
                    }
                }
            },
        )))
    }

    type ReadFindingsStream = ResponseStream<v1::ReadFindingsResponse>;

    async fn read_findings(
        &self,
        request: Request<v1::ReadFindingsRequest>,
    ) -> Result<Response<Self::ReadFindingsStream>, Status> {
        let r = request.into_inner();
        let term = |s: String| (!s.is_empty()).then_some(s);
        let filter = FindingFilter {
            module_id: term(r.module_id),
            module_type: term(r.module_type),
            kind: term(r.kind),
        };
        let server = self.server.clone();
        let id = r.session_id;
        // Subscribed before the first scan, so no commit falls between a
        // scan that ends and the wait for the next.
        let mut committed = server.findings_committed(&id)?;
        let first = server
            .findings(&id, r.after, filter.clone(), DEFAULT_READ_BATCH)
            .await?;
        let follow = r.follow;
        Ok(Response::new(stream_from(
            &self.shutdown,
            |tx, stop| async move {
                let mut page = first;
                loop {
                    let after = page.last_examined;
                    let exhausted = page.exhausted;
                    if !page.findings.is_empty() {
                        let findings = page
                            .findings
                            .into_iter()
                            .map(stored_finding_to_proto)
                            .collect();
                        if tx
                            .send(Ok(v1::ReadFindingsResponse { findings }))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    if exhausted {
                        if !follow {
                            return;
                        }
                        committed.mark_unchanged();
                        tokio::select! {
                            changed = committed.changed() => if changed.is_err() { return },
                            () = stop.cancelled() => return,
                        }
                    }
                    page = match server
                        .findings(&id, after, filter.clone(), DEFAULT_READ_BATCH)
                        .await
                    {
                        Ok(page) => page,
                        Err(e) => {
                            let _ = tx.send(Err(e.into())).await;
                            return;
                        }
                    };
                }
            },
        )))
    }

    async fn count_captures(
        &self,
        request: Request<v1::CountCapturesRequest>,
    ) -> Result<Response<v1::CountCapturesResponse>, Status> {
        let r = request.into_inner();
        let filter: CaptureFilter = filter_from_proto(r.filter)?;
        let (count, plan) = self
            .server
            .count_captures(&r.session_id, filter, r.explain)
            .await?;
        Ok(Response::new(v1::CountCapturesResponse {
            count,
            plan: plan.unwrap_or_default(),
        }))
    }

    async fn list_module_types(
        &self,
        _request: Request<v1::ListModuleTypesRequest>,
    ) -> Result<Response<v1::ListModuleTypesResponse>, Status> {
        let module_types = self
            .server
            .list_module_types()
            .into_iter()
            .map(module_info_to_proto)
            .collect();
        Ok(Response::new(v1::ListModuleTypesResponse { module_types }))
    }

    async fn run_module(
        &self,
        request: Request<v1::RunModuleRequest>,
    ) -> Result<Response<v1::RunModuleResponse>, Status> {
        let r = request.into_inner();
        let request = RunRequest {
            type_name: r.type_name,
            id: r.id.clone(),
            options: options_from_proto(r.options),
            limits: Some(limits_from_proto(r.limits, self.server.default_limits())),
            grants: grants_from_proto(r.grants),
        };
        let mut status = self.server.run_module(request)?;
        if r.wait {
            status = self
                .server
                .modules()
                .wait(&r.id)
                .await
                .map_err(ServerError::from)?;
        }
        Ok(Response::new(v1::RunModuleResponse {
            status: Some(status_to_proto(status)),
        }))
    }

    async fn list_modules(
        &self,
        _request: Request<v1::ListModulesRequest>,
    ) -> Result<Response<v1::ListModulesResponse>, Status> {
        let modules = self
            .server
            .list_running_modules()
            .into_iter()
            .map(status_to_proto)
            .collect();
        Ok(Response::new(v1::ListModulesResponse { modules }))
    }

    async fn get_module_status(
        &self,
        request: Request<v1::GetModuleStatusRequest>,
    ) -> Result<Response<v1::GetModuleStatusResponse>, Status> {
        let status = self.server.module_status(&request.into_inner().id)?;
        Ok(Response::new(v1::GetModuleStatusResponse {
            status: Some(status_to_proto(status)),
        }))
    }

    async fn close_module(
        &self,
        request: Request<v1::CloseModuleRequest>,
    ) -> Result<Response<v1::CloseModuleResponse>, Status> {
        let status = self.server.close_module(&request.into_inner().id).await?;
        Ok(Response::new(v1::CloseModuleResponse {
            status: Some(status_to_proto(status)),
        }))
    }

    type GetModuleLogsStream = ResponseStream<v1::GetModuleLogsResponse>;

    async fn get_module_logs(
        &self,
        request: Request<v1::GetModuleLogsRequest>,
    ) -> Result<Response<Self::GetModuleLogsStream>, Status> {
        let r = request.into_inner();
        // Fail now, with NotFound, rather than inside the stream.
        self.server.module_status(&r.id)?;
        let server = self.server.clone();
        Ok(Response::new(stream_from(
            &self.shutdown,
            |tx, stop| async move {
                let mut next_seq = 0;
                loop {
                    let ended = server
                        .module_status(&r.id)
                        .map(|s| s.state.is_ended())
                        .unwrap_or(true);
                    let lines: Vec<_> = server
                        .module_logs(&r.id)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|l| l.seq >= next_seq)
                        .collect();
                    if let Some(last) = lines.last() {
                        next_seq = last.seq + 1;
                        let lines = lines.into_iter().map(log_line_to_proto).collect();
                        if tx
                            .send(Ok(v1::GetModuleLogsResponse { lines }))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    if !r.follow || ended {
                        return;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(LOG_POLL) => {}
                        () = stop.cancelled() => return,
                    }
                }
            },
        )))
    }

    async fn get_bmp_status(
        &self,
        _request: Request<v1::GetBmpStatusRequest>,
    ) -> Result<Response<v1::GetBmpStatusResponse>, Status> {
        let stations = self
            .server
            .bmp_stations()
            .iter()
            .map(|(_, handle)| bmp_station_to_proto(handle.snapshot()))
            .collect();
        Ok(Response::new(v1::GetBmpStatusResponse { stations }))
    }

    async fn install_module(
        &self,
        request: Request<v1::InstallModuleRequest>,
    ) -> Result<Response<v1::InstallModuleResponse>, Status> {
        let r = request.into_inner();
        let on_existing = if r.replace {
            OnExisting::Replace
        } else {
            OnExisting::Refuse
        };
        let installed = self.server.install_module(r.wasm, on_existing).await?;
        Ok(Response::new(v1::InstallModuleResponse {
            module_type: Some(module_info_to_proto(installed.loaded)),
            replaced: installed.replaced.map(module_info_to_proto),
        }))
    }

    async fn remove_module(
        &self,
        request: Request<v1::RemoveModuleRequest>,
    ) -> Result<Response<v1::RemoveModuleResponse>, Status> {
        let removed = self
            .server
            .remove_module_type(&request.into_inner().type_name)?;
        Ok(Response::new(v1::RemoveModuleResponse {
            removed: Some(module_info_to_proto(removed.removed)),
            file_deleted: removed.file_deleted,
            still_running: u32::try_from(removed.still_running).unwrap_or(u32::MAX),
        }))
    }
}
