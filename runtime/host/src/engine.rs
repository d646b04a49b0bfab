//! The shared engine: one wasmtime `Engine` with fuel and epoch
//! interruption, the linker with every host interface, and the compiled
//! component cache.

use std::path::PathBuf;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use crate::bindings::{findings, modules, runtime, schema, sessions, streams, types};
use crate::cache::ComponentCache;
use crate::epoch::EpochTicker;
use crate::error::HostError;
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
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            cache_dir: None,
            fuel_metering: true,
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
            .max_wasm_stack(MAX_WASM_STACK_BYTES);
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
