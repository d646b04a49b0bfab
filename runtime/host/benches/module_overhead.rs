//! The module host's overheads, each measured against its baseline in the
//! same run:
//!
//! 1. start and finish a no-op task through `ModuleHost` (store, limits,
//!    WASI context, supervision, status), against a bare wasmtime
//!    instantiate-and-call of the same component;
//! 2. a CPU-bound task with fuel metering, against the same task on an
//!    engine without fuel.
//!
//! Both sides of each pair run one after the other in one task on the
//! runtime's worker threads, where the daemon's request handlers start
//! runs. The host's engine uses its instance pool; the bare baseline
//! uses wasmtime's default allocator, as an embedder that sets nothing
//! would.
//!
//! Run with `cargo bench -p bgpmon-host --bench module_overhead`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark reports failure by panicking"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bgpmon_host::{
    EngineOptions, HostConfig, ModuleHost, ModuleLimits, NoSessions, RunRequest, RunState,
};
use wasmtime::component::{Component, Linker, ResourceTable, Val};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

const NOOP_RUNS: usize = 1_000;
const BUSY_RUNS: usize = 7;
const BUSY_ITERATIONS: &str = "200000000";

struct BareState {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for BareState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn host(fuel_metering: bool) -> ModuleHost {
    let config = HostConfig {
        engine: EngineOptions {
            fuel_metering,
            ..EngineOptions::default()
        },
        ..HostConfig::default()
    };
    let host = ModuleHost::new(config, Arc::new(NoSessions)).unwrap();
    host.load_file(bgpmon_test_modules::NOOP.as_ref())
        .await
        .unwrap();
    host.load_file(bgpmon_test_modules::BUSY.as_ref())
        .await
        .unwrap();
    host
}

async fn run_once(host: &ModuleHost, request: RunRequest) -> Duration {
    let id = request.id.clone();
    let start = Instant::now();
    host.run(request).unwrap();
    let status = host.wait(&id).await.unwrap();
    let elapsed = start.elapsed();
    assert!(
        matches!(status.state, RunState::Finished(_)),
        "{:?}",
        status.state
    );
    elapsed
}

async fn noop_through_host(host: &ModuleHost) -> Duration {
    let mut samples = Vec::with_capacity(NOOP_RUNS);
    for i in 0..NOOP_RUNS {
        samples.push(run_once(host, RunRequest::new("noop", format!("noop-{i}"))).await);
    }
    median(samples)
}

async fn noop_bare() -> Duration {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::from_file(&engine, bgpmon_test_modules::NOOP).unwrap();
    let mut linker = Linker::<BareState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    let mut samples = Vec::with_capacity(NOOP_RUNS);
    for _ in 0..NOOP_RUNS {
        let start = Instant::now();
        let mut store = Store::new(
            &engine,
            BareState {
                wasi: WasiCtxBuilder::new().build(),
                table: ResourceTable::new(),
            },
        );
        let instance = pre.instantiate_async(&mut store).await.unwrap();
        let run = instance.get_func(&mut store, "run").unwrap();
        let mut results = [Val::Bool(false)];
        run.call_async(&mut store, &[Val::List(Vec::new())], &mut results)
            .await
            .unwrap();
        samples.push(start.elapsed());
        assert!(matches!(results[0], Val::Result(Ok(_))));
    }
    median(samples)
}

async fn busy(host: &ModuleHost, tag: &str) -> Duration {
    let limits = ModuleLimits {
        fuel: u64::MAX / 2,
        deadline: Duration::from_secs(600),
        ..ModuleLimits::default()
    };
    let mut samples = Vec::with_capacity(BUSY_RUNS);
    for i in 0..BUSY_RUNS {
        let request = RunRequest::new("busy", format!("busy-{tag}-{i}"))
            .option("iterations", BUSY_ITERATIONS)
            .limits(limits.clone());
        samples.push(run_once(host, request).await);
    }
    median(samples)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The daemon starts runs from request handlers on the runtime's
    // workers; both sides run there too, not on the thread that blocks on
    // the runtime.
    let body = async {
        let metered = host(true).await;
        let unmetered = host(false).await;

        let bare = noop_bare().await;
        let ours = noop_through_host(&metered).await;
        let with_fuel = busy(&metered, "fuel").await;
        let without_fuel = busy(&unmetered, "nofuel").await;

        println!(
            "bgpmon-host module overhead ({NOOP_RUNS} no-op runs, {BUSY_RUNS} CPU-bound runs of {BUSY_ITERATIONS} steps; medians)"
        );
        println!(
            "{:<48} {:>14} {:>14} {:>8}",
            "measure", "bgpmon", "baseline", "ratio"
        );
        println!(
            "{:<48} {:>11.1} µs {:>11.1} µs {:>8.2}",
            "no-op task start to finish vs bare call",
            ours.as_secs_f64() * 1e6,
            bare.as_secs_f64() * 1e6,
            ours.as_secs_f64() / bare.as_secs_f64()
        );
        println!(
            "{:<48} {:>11.1} ms {:>11.1} ms {:>8.2}",
            "CPU-bound task, fuel metering on vs off",
            with_fuel.as_secs_f64() * 1e3,
            without_fuel.as_secs_f64() * 1e3,
            with_fuel.as_secs_f64() / without_fuel.as_secs_f64()
        );
    };
    runtime.block_on(runtime.spawn(body)).unwrap();
}
