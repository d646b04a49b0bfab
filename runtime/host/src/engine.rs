//! The shared engine: one wasmtime `Engine` with fuel and epoch
//! interruption, the linker with every host interface, and the compiled
//! component cache.

use std::path::PathBuf;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{columns, findings, modules, runtime, schema, sessions, streams, types};
use crate::cache::ComponentCache;
use crate::epoch::EpochTicker;
use crate::error::HostError;
use crate::limits::{
    MAX_LIVE_INSTANCES, MAX_MEMORIES_PER_MODULE, MAX_MEMORY_BYTES, MAX_TABLE_ELEMENTS,
    MAX_TABLES_PER_MODULE,
};
use crate::state::ModuleState;

/// The most native stack a guest may use; deeper recursion traps.
pub const MAX_WASM_STACK_BYTES: usize = 1 << 20;

/// How the engine is built.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Where compiled components are cached; `None` disables the cache.
    ///
    /// By default `None`.
    pub cache_dir: Option<PathBuf>,
    /// Whether guests are metered with fuel.
    ///
    /// By default true. Turning it off removes every fuel budget and rate,
    /// and exists only to measure metering's cost.
    pub fuel_metering: bool,
    /// The most component instances alive at once: running modules and
    /// reads of module info. An instantiation past it fails with an error
    /// that names the limit.
    ///
    /// By default [`MAX_LIVE_INSTANCES`].
    pub max_live_instances: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            cache_dir: None,
            fuel_metering: true,
            max_live_instances: MAX_LIVE_INSTANCES,
        }
    }
}

/// The engine, linker and cache every module shares.
pub(crate) struct HostEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<ModuleState>,
    pub(crate) fuel_metering: bool,
    cache: Option<ComponentCache>,
    _ticker: EpochTicker,
}

impl HostEngine {
    pub(crate) fn new(options: &EngineOptions) -> Result<Self, HostError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .consume_fuel(options.fuel_metering)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_WASM_STACK_BYTES)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(
                options.max_live_instances,
            )));
        let engine = Engine::new(&config).map_err(|e| HostError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| HostError::Engine(e.to_string()))?;
        // Each interface of the world, linked one by one so logging can be
        // linked by hand (see `wit::logging`).
        let link = |e: wasmtime::Error| HostError::Engine(e.to_string());
        types::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        runtime::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        streams::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        sessions::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        modules::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        crate::wit::logging::add_to_linker(&mut linker).map_err(link)?;
        // 0.2.0 adds these to the 0.1.0 interfaces above.
        schema::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        findings::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        columns::add_to_linker::<ModuleState, HasSelf<ModuleState>>(&mut linker, |s| s)
            .map_err(link)?;
        let cache = match &options.cache_dir {
            Some(dir) => {
                Some(
                    ComponentCache::new(dir.clone()).map_err(|source| HostError::Io {
                        path: dir.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let ticker = EpochTicker::start(engine.clone())
            .map_err(|e| HostError::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(Self {
            engine,
            linker,
            fuel_metering: options.fuel_metering,
            cache,
            _ticker: ticker,
        })
    }

    /// Compiles `bytes`, through the cache when there is one.
    pub(crate) fn compile(&self, digest: &str, bytes: &[u8]) -> wasmtime::Result<Component> {
        match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, digest, bytes),
            None => Component::new(&self.engine, bytes),
        }
    }
}

/// How much of a pool slot's memory, and of its tables, stays mapped
/// between runs.
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// How many slots last used by other module types are kept warm before
/// they are reused; bounds the memory kept resident by idle slots.
const MAX_UNUSED_WARM_SLOTS: u32 = 16;

/// The instance pool: memories, tables and stacks are reserved once and
/// reused from run to run, which saves the mappings each instantiation
/// would otherwise make and unmake. A slot's memory is reset to the
/// module's initial image (or zero) before it is reused, so no run sees
/// another's data.
///
/// The pool's sizes are sandbox limits too: at most `live_instances`
/// component instances at once, each core module with at most
/// [`MAX_MEMORIES_PER_MODULE`] memories and [`MAX_TABLES_PER_MODULE`]
/// tables of [`MAX_TABLE_ELEMENTS`] elements. An instance over them fails
/// to start with an error that names the limit.
fn pooling(live_instances: u32) -> PoolingAllocationConfig {
    // Components built from C or by componentize-py hold several core
    // instances and memories each.
    let core_instances = live_instances.saturating_mul(16);
    let memories = live_instances.saturating_mul(2);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(live_instances)
        .total_core_instances(core_instances)
        .total_memories(memories)
        .total_tables(core_instances)
        .total_stacks(live_instances)
        .max_memories_per_module(MAX_MEMORIES_PER_MODULE)
        .max_tables_per_module(MAX_TABLES_PER_MODULE)
        .table_elements(MAX_TABLE_ELEMENTS)
        .max_memory_size(MAX_MEMORY_BYTES as usize)
        // A slot keeps up to this much of its memory and tables mapped and
        // resets it in place, rather than unmapping it and taking a fault
        // per page on the next run; with PAGEMAP_SCAN (Linux 6.7 and
        // later) only the pages the run wrote are reset.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .pagemap_scan(Enabled::Auto)
        .max_unused_warm_slots(MAX_UNUSED_WARM_SLOTS);
    pool
}
