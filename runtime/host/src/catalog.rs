//! Module types: loading a component, checking it against the world, and
//! reading its info.
//!
//! Every check happens here, before a type is listed: the bytes must be a
//! component, its imports must be ones the host provides, it must export
//! `info` and `run`, and `info` must return a valid description within a
//! small budget and at most [`MAX_INFO_BYTES`].

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wasmtime::Store;

use crate::account::Account;
use crate::bindings::{AnalysisPre, AnalysisPreV2, types};
use crate::cache::digest;
use crate::context::{Grants, RunContext, RunIdentity};
use crate::control::NoControl;
use crate::directory::NoSessions;
use crate::engine::HostEngine;
use crate::error::LoadError;
use crate::info::{ModuleInfo, ModuleKind, WitVersion};
use crate::limits::{
    MAX_INFO_BYTES, MAX_INFO_OPTIONS, MAX_MEMORIES_PER_MODULE, MAX_TABLE_ELEMENTS,
    MAX_TABLES_PER_MODULE, ModuleLimits,
};
use crate::state::ModuleState;
use crate::value::canonical_value;

/// The fuel `info` may use when a type is loaded.
const INFO_FUEL: u64 = 1_000_000_000;

/// The memory `info` may use when a type is loaded.
const INFO_MEMORY_BYTES: u64 = 64 << 20;

/// How long `info` may take when a type is loaded.
const INFO_DEADLINE: Duration = Duration::from_secs(10);

/// The longest module type name.
pub const MAX_TYPE_NAME_LEN: usize = 64;

/// A component ready to instantiate, by the WIT world it implements.
pub(crate) enum WorldPre {
    /// `bgpmon:module/analysis@0.1.0`.
    V0_1(AnalysisPre<ModuleState>),
    /// `bgpmon:module/analysis@0.2.0`.
    V0_2(AnalysisPreV2<ModuleState>),
}

impl WorldPre {
    /// The WIT version of the world.
    pub(crate) fn version(&self) -> WitVersion {
        match self {
            Self::V0_1(_) => WitVersion::V0_1,
            Self::V0_2(_) => WitVersion::V0_2,
        }
    }

    /// Instantiates the component in `store` and calls its `info`.
    async fn info(&self, store: &mut Store<ModuleState>) -> wasmtime::Result<ModuleInfo> {
        Ok(match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_info(&mut *store).await?.into()
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_info(&mut *store).await?.into()
            }
        })
    }

    /// Instantiates the component in `store`, calls `started`, then calls
    /// its `run` with `options`.
    pub(crate) async fn run(
        &self,
        store: &mut Store<ModuleState>,
        options: &[types::OptionValue],
        started: impl FnOnce(),
    ) -> wasmtime::Result<Result<types::RunResult, String>> {
        match self {
            Self::V0_1(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                started();
                instance.call_run(&mut *store, options).await
            }
            Self::V0_2(pre) => {
                let instance = pre.instantiate_async(&mut *store).await?;
                started();
                instance.call_run(&mut *store, options).await
            }
        }
    }
}

/// Why a component did not compile: over the instance pool's limits, or
/// not a component at all.
fn compile_failure(e: &wasmtime::Error) -> String {
    let text = format!("{e:#}");
    if text.contains("pooling allocator") {
        format!(
            "it is over the sandbox's limits on memories and tables ({text}); a core module may have at most {MAX_MEMORIES_PER_MODULE} memories and {MAX_TABLES_PER_MODULE} tables of at most {MAX_TABLE_ELEMENTS} elements"
        )
    } else {
        format!(
            "not a valid WebAssembly component ({text}); build it for wasm32-wasip2 or wrap a core module with `wasm-tools component new`"
        )
    }
}

/// A loaded module type, ready to instantiate.
pub(crate) struct ModuleType {
    pub(crate) info: ModuleInfo,
    pub(crate) pre: WorldPre,
    pub(crate) origin: String,
    pub(crate) digest: String,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TYPE_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// The bytes of text in `info`: what listing it costs.
fn info_bytes(info: &ModuleInfo) -> usize {
    info.type_name.len()
        + info.description.len()
        + info
            .options
            .iter()
            .map(|o| {
                o.name.len() + o.description.len() + o.default_value.as_ref().map_or(0, String::len)
            })
            .sum::<usize>()
}

fn check_info(info: &ModuleInfo) -> Result<(), String> {
    if info.options.len() > MAX_INFO_OPTIONS {
        return Err(format!(
            "its info declares {} options, over the cap of {MAX_INFO_OPTIONS} (MAX_INFO_OPTIONS); take fewer options",
            info.options.len()
        ));
    }
    let bytes = info_bytes(info);
    if bytes > MAX_INFO_BYTES {
        return Err(format!(
            "its info takes {bytes} bytes, over the cap of {MAX_INFO_BYTES} (MAX_INFO_BYTES); shorten its descriptions"
        ));
    }
    if !valid_name(&info.type_name) {
        return Err(format!(
            "its info names the type {:?}; a type name is 1 to {MAX_TYPE_NAME_LEN} lowercase letters, digits and dashes",
            info.type_name
        ));
    }
    let mut names: Vec<&str> = info.options.iter().map(|o| o.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("its info declares option {:?} twice", pair[0]));
    }
    if let Some(o) = info.options.iter().find(|o| o.name.is_empty()) {
        return Err(format!(
            "its info declares an option with an empty name ({:?})",
            o.description
        ));
    }
    for o in &info.options {
        if let Some(default) = &o.default_value
            && let Err(problem) = canonical_value(o.value_type, default)
        {
            return Err(format!(
                "its info gives option {:?} of type {} a default that is not of that type: {problem}",
                o.name, o.value_type
            ));
        }
    }
    Ok(())
}

/// Compiles and checks `bytes`, and reads the type's info.
pub(crate) async fn load(
    engine: &Arc<HostEngine>,
    bytes: Vec<u8>,
    origin: String,
) -> Result<ModuleType, LoadError> {
    let fail = |reason: String| LoadError {
        origin: origin.clone(),
        reason,
    };
    let digest = digest(&bytes);
    let component = {
        let engine = engine.clone();
        let digest = digest.clone();
        tokio::task::spawn_blocking(move || engine.compile(&digest, &bytes))
            .await
            .map_err(|e| fail(format!("compilation task failed: {e}")))?
            .map_err(|e| fail(compile_failure(&e)))?
    };
    let pre = engine.linker.instantiate_pre(&component).map_err(|e| {
        fail(format!(
            "it imports something the host does not provide ({e:#}); modules may import only bgpmon:module@0.1.0 or @0.2.0 and WASI 0.2"
        ))
    })?;
    // The worlds differ in `info`'s type, so at most one type-checks.
    let pre = match AnalysisPreV2::new(pre.clone()) {
        Ok(v2) => WorldPre::V0_2(v2),
        Err(v2_error) => AnalysisPre::new(pre).map(WorldPre::V0_1).map_err(|v1_error| {
            fail(format!(
                "it does not implement the world bgpmon:module/analysis, at 0.2.0 ({v2_error:#}) or 0.1.0 ({v1_error:#}); export `info` and `run` as the WIT in `wit/` defines them"
            ))
        })?,
    };
    let info = read_info(engine, &pre)
        .await
        .map_err(|e| fail(format!("its info export failed: {e}")))?;
    check_info(&info).map_err(fail)?;
    Ok(ModuleType {
        info,
        pre,
        origin,
        digest,
    })
}

async fn read_info(engine: &HostEngine, pre: &WorldPre) -> Result<ModuleInfo, String> {
    let limits = ModuleLimits {
        fuel: INFO_FUEL,
        memory_bytes: INFO_MEMORY_BYTES,
        deadline: INFO_DEADLINE,
        ..ModuleLimits::default()
    };
    let who = RunIdentity {
        id: "(loading)".into(),
        type_name: "(loading)".into(),
        kind: ModuleKind::Task,
        grants: Grants::default(),
        limits,
    };
    let account = Account::root(Some(INFO_FUEL), None, INFO_MEMORY_BYTES);
    let ctx = RunContext::new(
        who,
        account,
        CancellationToken::new(),
        CancellationToken::new(),
    );
    let state = ModuleState::new(ctx, Arc::new(NoSessions), Arc::new(NoControl));
    let mut store = Store::new(&engine.engine, state);
    store.limiter(|s| &mut s.limiter);
    // Lifting the info may allocate no more than the info may hold.
    store.set_hostcall_fuel(MAX_INFO_BYTES);
    if engine.fuel_metering {
        store.set_fuel(INFO_FUEL).map_err(|e| e.to_string())?;
    }
    store.epoch_deadline_async_yield_and_update(1);
    match tokio::time::timeout(INFO_DEADLINE, pre.info(&mut store)).await {
        Ok(Ok(info)) => Ok(info),
        Ok(Err(e)) if crate::run::is_hostcall_fuel(&e) => Err(format!(
            "it returned more than {MAX_INFO_BYTES} bytes (MAX_INFO_BYTES); shorten its descriptions"
        )),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err(format!("it did not return within {INFO_DEADLINE:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_lowercase_words() {
        assert!(valid_name("origin-stats"));
        assert!(valid_name("hijack2"));
        assert!(!valid_name(""));
        assert!(!valid_name("Origin"));
        assert!(!valid_name("-lead"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"a".repeat(MAX_TYPE_NAME_LEN + 1)));
    }

    #[test]
    fn oversized_info_is_refused() {
        let mut info = ModuleInfo {
            type_name: "big".into(),
            description: "x".repeat(MAX_INFO_BYTES),
            kind: ModuleKind::Task,
            options: Vec::new(),
        };
        let err = check_info(&info).unwrap_err();
        assert!(
            err.contains("over the cap of 65536 (MAX_INFO_BYTES)"),
            "{err}"
        );
        info.description = "fits".into();
        assert_eq!(check_info(&info), Ok(()));
    }
}
