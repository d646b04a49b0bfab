//! `bgpmon:module/streams`: batch writes and reads.

use std::sync::atomic::Ordering;

use wasmtime::component::Resource;

use super::HostCallError;
use super::convert::{
    capture_from_wit, capture_to_wit, entity_from_wit, entity_to_wit, prefix_event_to_wit,
};
use crate::bindings::streams::{
    CaptureReader, CaptureWriter, EntityReader, EntityWriter, Host, HostCaptureReader,
    HostCaptureWriter, HostEntityReader, HostEntityWriter, HostPrefixReader, PrefixReader,
};
use crate::bindings::types;
use crate::limits::RECORD_FUEL;
use crate::state::ModuleState;

impl ModuleState {
    /// Counts a host call that moves `records` records, charging each.
    fn records_call(&self, records: usize) -> Result<(), HostCallError> {
        self.ctx
            .host_call(RECORD_FUEL.saturating_mul(records as u64))?;
        Ok(())
    }

    fn check_batch(&self, len: usize) -> Result<(), HostCallError> {
        let max = self.ctx.limits.max_batch as usize;
        if len > max {
            return Err(HostCallError::limit(format!(
                "batch of {len} records is over the limit of {max} per call; write smaller batches"
            )));
        }
        Ok(())
    }

    fn count_read(&self, n: usize) {
        self.ctx.records_read.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The next batch of `reader`, counted and charged as read: what
    /// `read` and `read-columns` both return.
    pub(crate) async fn read_capture_batch(
        &mut self,
        reader: &Resource<CaptureReader>,
        max: u32,
    ) -> Result<Vec<bgpmon_store::Capture>, HostCallError> {
        let max = self.batch(max);
        let stop = self.ctx.stop.clone();
        let batch = self.table.get_mut(reader)?.read(max, &stop).await?;
        self.count_read(batch.len());
        self.records_call(batch.len())?;
        Ok(batch)
    }

    fn count_written(&self, n: u64) {
        self.ctx.records_written.fetch_add(n, Ordering::Relaxed);
    }
}

impl Host for ModuleState {}

impl HostCaptureWriter for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.streams.capture_writer.write", skip_all)]
    async fn write(
        &mut self,
        handle: Resource<CaptureWriter>,
        batch: Vec<types::Capture>,
    ) -> Result<(), HostCallError> {
        self.check_batch(batch.len())?;
        self.records_call(batch.len())?;
        let captures = batch
            .into_iter()
            .map(capture_from_wit)
            .collect::<Result<Vec<_>, _>>()?;
        self.table.get_mut(&handle)?.write(captures)?;
        Ok(())
    }

    #[tracing::instrument(name = "bgpmon_host.streams.capture_writer.flush", skip_all)]
    async fn flush(&mut self, handle: Resource<CaptureWriter>) -> Result<u64, HostCallError> {
        self.ctx.host_call(0)?;
        let n = self.table.get_mut(&handle)?.flush().await?;
        self.count_written(n);
        Ok(n)
    }

    async fn cancel(&mut self, handle: Resource<CaptureWriter>) -> wasmtime::Result<()> {
        self.ctx.host_call(0)?;
        self.table.get_mut(&handle)?.cancel();
        Ok(())
    }

    async fn drop(&mut self, handle: Resource<CaptureWriter>) -> wasmtime::Result<()> {
        self.delete(handle)
    }
}

impl HostEntityWriter for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.streams.entity_writer.write", skip_all)]
    async fn write(
        &mut self,
        handle: Resource<EntityWriter>,
        batch: Vec<types::Entity>,
    ) -> Result<(), HostCallError> {
        self.check_batch(batch.len())?;
        self.records_call(batch.len())?;
        let entities = batch
            .into_iter()
            .map(entity_from_wit)
            .collect::<Result<Vec<_>, _>>()?;
        self.table.get_mut(&handle)?.write(entities)?;
        Ok(())
    }

    #[tracing::instrument(name = "bgpmon_host.streams.entity_writer.flush", skip_all)]
    async fn flush(&mut self, handle: Resource<EntityWriter>) -> Result<u64, HostCallError> {
        self.ctx.host_call(0)?;
        let n = self.table.get_mut(&handle)?.flush().await?;
        self.count_written(n);
        Ok(n)
    }

    async fn cancel(&mut self, handle: Resource<EntityWriter>) -> wasmtime::Result<()> {
        self.ctx.host_call(0)?;
        self.table.get_mut(&handle)?.cancel();
        Ok(())
    }

    async fn drop(&mut self, handle: Resource<EntityWriter>) -> wasmtime::Result<()> {
        self.delete(handle)
    }
}

impl HostCaptureReader for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.streams.capture_reader.read", skip_all)]
    async fn read(
        &mut self,
        handle: Resource<CaptureReader>,
        max: u32,
    ) -> Result<Vec<types::Capture>, HostCallError> {
        let batch = self.read_capture_batch(&handle, max).await?;
        Ok(batch.into_iter().map(capture_to_wit).collect())
    }

    async fn drop(&mut self, handle: Resource<CaptureReader>) -> wasmtime::Result<()> {
        self.delete(handle)
    }
}

impl HostPrefixReader for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.streams.prefix_reader.read", skip_all)]
    async fn read(
        &mut self,
        handle: Resource<PrefixReader>,
        max: u32,
    ) -> Result<Vec<types::PrefixEvent>, HostCallError> {
        let max = self.batch(max);
        let stop = self.ctx.stop.clone();
        let batch = self.table.get_mut(&handle)?.read(max, &stop).await?;
        self.count_read(batch.len());
        self.records_call(batch.len())?;
        Ok(batch.into_iter().map(prefix_event_to_wit).collect())
    }

    async fn drop(&mut self, handle: Resource<PrefixReader>) -> wasmtime::Result<()> {
        self.delete(handle)
    }
}

impl HostEntityReader for ModuleState {
    #[tracing::instrument(name = "bgpmon_host.streams.entity_reader.read", skip_all)]
    async fn read(
        &mut self,
        handle: Resource<EntityReader>,
        max: u32,
    ) -> Result<Vec<types::Entity>, HostCallError> {
        let max = self.batch(max);
        let batch = self.table.get_mut(&handle)?.read(max).await?;
        self.count_read(batch.len());
        self.records_call(batch.len())?;
        Ok(batch.into_iter().map(entity_to_wit).collect())
    }

    async fn drop(&mut self, handle: Resource<EntityReader>) -> wasmtime::Result<()> {
        self.delete(handle)
    }
}
