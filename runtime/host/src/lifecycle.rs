//! The run lifecycle: starting runs (the operator's and modules'
//! children), listing them, stopping them, and retiring ended ones.
//!
//! Each run is a tokio task that owns its store. A close first asks the
//! module to stop (its `stop-requested` turns true, sleeps and following
//! reads end), waits the grace period, then ends it, which rolls back
//! every stream it left open. Locks guard only the map and are never held
//! across an await.
//!
//! The containment rules for modules that start modules live here, in
//! [`Lifecycle::start_child`]:
//! - a child needs `may_run_modules`, and `may_run_daemons` to be a daemon;
//! - its id lives in its parent's namespace (`parent/child`), which no
//!   operator id can enter, so it can replace nothing but its own family's
//!   ended records;
//! - it draws on its parent's fuel, memory and live-descendant caps (see
//!   `account`), gets no longer a deadline than its parent has left, and
//!   stops when its parent is asked to stop;
//! - it never outlives its parent: when a run ends, its descendants are
//!   asked to stop, and ended after their grace;
//! - through [`RunControl`], a module lists and closes only its own
//!   descendants.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::account::Account;
use crate::catalog::ModuleType;
use crate::context::{LogLine, RunContext, RunIdentity};
use crate::control::{ChildSummary, ControlFuture, ModuleControl};
use crate::directory::SessionDirectory;
use crate::engine::HostEngine;
use crate::epoch::EPOCH_TICK;
use crate::error::HostError;
use crate::info::{ModuleInfo, ModuleKind};
use crate::limits::{MAX_RETAINED_RUNS, ModuleLimits};
use crate::options::resolve_options;
use crate::registry::TypeRegistry;
use crate::run::{Outcome, RunParts, execute};
use crate::status::{ModuleStatus, RunState, TypeActivity};
use crate::supervisor::{RunRequest, check_id};

/// What separates a parent's id from its child's. Operator ids cannot
/// contain it, so a child's id never equals an operator's.
pub(crate) const NAMESPACE_SEPARATOR: char = '/';

struct Running {
    ctx: Arc<RunContext>,
    type_digest: String,
    state: Mutex<RunState>,
    ended_at: Mutex<Option<(Instant, SystemTime)>>,
    done: watch::Sender<bool>,
}

impl Running {
    fn status(&self) -> ModuleStatus {
        let state = self
            .state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(RunState::Starting);
        let ended = self.ended();
        let mut counters = self.ctx.counters();
        if let Some((at, _)) = ended {
            counters.uptime = at.duration_since(self.ctx.started);
        }
        ModuleStatus {
            id: self.ctx.id.clone(),
            type_name: self.ctx.type_name.clone(),
            type_digest: self.type_digest.clone(),
            kind: self.ctx.kind,
            state,
            counters,
            started_at: self.ctx.started_at,
            ended_at: ended.map(|(_, t)| t),
        }
    }

    fn ended(&self) -> Option<(Instant, SystemTime)> {
        self.ended_at.lock().ok().and_then(|e| *e)
    }

    fn set_state(&self, state: RunState) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
    }

    fn state_name(&self) -> &'static str {
        self.state.lock().map(|s| s.name()).unwrap_or("stopped")
    }

    fn is_ended(&self) -> bool {
        self.state.lock().map(|s| s.is_ended()).unwrap_or(true)
    }

    async fn wait(&self) {
        let mut done = self.done.subscribe();
        let _ = done.wait_for(|d| *d).await;
    }
}

/// A run about to start.
struct Launch {
    who: RunIdentity,
    module_type: Arc<ModuleType>,
    options: Vec<(String, String)>,
    account: Arc<Account>,
    stop: CancellationToken,
    force: CancellationToken,
    fuel: u64,
}

/// Every run, running or retained.
pub(crate) struct Lifecycle {
    engine: Arc<HostEngine>,
    sessions: Arc<dyn SessionDirectory>,
    registry: Arc<TypeRegistry>,
    retention: Duration,
    runs: Mutex<HashMap<String, Arc<Running>>>,
    /// The counters of runs dropped from `runs`, summed per type, so
    /// per-type totals never go down when a run is retired. Locked only
    /// while `runs` is, so a run is counted in exactly one of the two.
    retired: Mutex<BTreeMap<String, TypeActivity>>,
    /// Every run's stop token is a child of this one.
    stop_all: CancellationToken,
    /// Every run's force token is a child of this one.
    force_all: CancellationToken,
    tasks: TaskTracker,
}

impl Lifecycle {
    pub(crate) fn new(
        engine: Arc<HostEngine>,
        sessions: Arc<dyn SessionDirectory>,
        registry: Arc<TypeRegistry>,
        retention: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            engine,
            sessions,
            registry,
            retention,
            runs: Mutex::new(HashMap::new()),
            retired: Mutex::new(BTreeMap::new()),
            stop_all: CancellationToken::new(),
            force_all: CancellationToken::new(),
            tasks: TaskTracker::new(),
        })
    }

    /// Starts a run the operator asked for; see `ModuleHost::run`.
    pub(crate) fn start(
        self: &Arc<Self>,
        request: RunRequest,
        default_limits: &ModuleLimits,
    ) -> Result<ModuleStatus, HostError> {
        if self.stop_all.is_cancelled() {
            return Err(HostError::ShuttingDown);
        }
        check_id(&request.id)?;
        let module_type = self.registry.get(&request.type_name)?;
        let options = resolve_options(&module_type.info, &request.options)?;
        let limits = request
            .limits
            .unwrap_or_else(|| default_limits.clone())
            .clamped();
        let kind = module_type.info.kind;
        let account = match kind {
            ModuleKind::Task => Account::root(Some(limits.fuel), None, limits.memory_bytes),
            ModuleKind::Daemon => {
                Account::root(None, Some(limits.fuel_per_second), limits.memory_bytes)
            }
        };
        let fuel = limits.fuel;
        self.launch(Launch {
            who: RunIdentity {
                id: request.id,
                type_name: module_type.info.type_name.clone(),
                kind,
                grants: request.grants,
                limits,
            },
            module_type,
            options,
            account,
            stop: self.stop_all.child_token(),
            force: self.force_all.child_token(),
            fuel,
        })
    }

    /// Starts a child of `parent`, within the containment rules in this
    /// module's doc.
    fn start_child(
        self: &Arc<Self>,
        parent: &Arc<RunContext>,
        type_name: &str,
        local_id: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<(), HostError> {
        let not_granted = |grant| HostError::NotGranted {
            id: parent.id.clone(),
            grant,
        };
        if !parent.grants.may_run_modules {
            return Err(not_granted("may_run_modules"));
        }
        check_id(local_id)?;
        if parent.stop.is_cancelled() || self.stop_all.is_cancelled() {
            return Err(HostError::ShuttingDown);
        }
        let module_type = self.registry.get(type_name)?;
        let kind = module_type.info.kind;
        if kind == ModuleKind::Daemon && !parent.grants.may_run_daemons {
            return Err(not_granted("may_run_daemons"));
        }
        let options = resolve_options(&module_type.info, options)?;
        let family = |reason: String| HostError::FamilyLimit {
            id: parent.id.clone(),
            child: local_id.to_owned(),
            reason,
        };
        let mut limits = parent.limits.clone();
        if let Some(left) = parent.account.fuel_left() {
            if left == 0 {
                return Err(family(
                    "the family has no fuel left to give; finish with the fuel it has".into(),
                ));
            }
            limits.fuel = left;
        }
        if parent.kind == ModuleKind::Task {
            limits.deadline = parent
                .limits
                .deadline
                .saturating_sub(parent.started.elapsed());
        }
        let account = Account::adopt(
            &parent.account,
            (kind == ModuleKind::Task).then_some(limits.fuel),
            (kind == ModuleKind::Daemon).then_some(limits.fuel_per_second),
            limits.memory_bytes,
        )
        .map_err(|e| family(e.to_string()))?;
        let fuel = limits.fuel;
        let launched = self.launch(Launch {
            who: RunIdentity {
                id: format!("{}{NAMESPACE_SEPARATOR}{local_id}", parent.id),
                type_name: module_type.info.type_name.clone(),
                kind,
                grants: parent.grants.clone(),
                limits,
            },
            module_type,
            options,
            account: account.clone(),
            stop: parent.stop.child_token(),
            force: parent.force.child_token(),
            fuel,
        });
        if launched.is_err() {
            account.release();
        }
        launched.map(|_| ())
    }

    /// Lists the run and spawns its task.
    fn launch(self: &Arc<Self>, launch: Launch) -> Result<ModuleStatus, HostError> {
        let ctx = RunContext::new(launch.who, launch.account, launch.stop, launch.force);
        let (done, _) = watch::channel(false);
        let running = Arc::new(Running {
            ctx: ctx.clone(),
            type_digest: launch.module_type.digest.clone(),
            state: Mutex::new(RunState::Starting),
            ended_at: Mutex::new(None),
            done,
        });
        {
            let mut runs = self.runs.lock().map_err(|_| HostError::ShuttingDown)?;
            self.retire(&mut runs);
            if runs.get(&ctx.id).is_some_and(|m| !m.is_ended()) {
                return Err(HostError::DuplicateModule { id: ctx.id.clone() });
            }
            if let Some(replaced) = runs.insert(ctx.id.clone(), running.clone()) {
                self.bank([replaced]);
            }
        }
        let status = running.status();
        tracing::info!(module = %ctx.id, module_type = %ctx.type_name, kind = %ctx.kind, "module starting");
        let lifecycle = self.clone();
        let parts = RunParts {
            sessions: self.sessions.clone(),
            control: Arc::new(RunControl {
                lifecycle: self.clone(),
                caller: ctx.clone(),
            }),
            options: launch.options,
            fuel: launch.fuel,
        };
        let module_type = launch.module_type;
        self.tasks.spawn(async move {
            let on_start = {
                let running = running.clone();
                move || running.set_state(RunState::Running)
            };
            let outcome =
                execute(&lifecycle.engine, module_type, ctx.clone(), parts, on_start).await;
            let state = match outcome {
                Outcome::Finished(result) => RunState::Finished(result),
                Outcome::Failed(reason) => RunState::Failed(reason),
                Outcome::Stopped => RunState::Stopped,
            };
            match &state {
                RunState::Failed(reason) => {
                    // The reason can carry the module's own text: escaped.
                    tracing::warn!(module = %ctx.id, reason = ?reason.to_string(), "module failed");
                }
                other => tracing::info!(module = %ctx.id, state = other.name(), "module ended"),
            }
            if let Ok(mut ended) = running.ended_at.lock() {
                *ended = Some((Instant::now(), SystemTime::now()));
            }
            running.set_state(state);
            ctx.account.release();
            running.done.send_replace(true);
            lifecycle.end_descendants(&ctx);
        });
        Ok(status)
    }

    /// A run has ended: its descendants may not outlive it. Asks them to
    /// stop, and ends them once their grace has passed.
    fn end_descendants(&self, ctx: &Arc<RunContext>) {
        ctx.stop.cancel();
        if ctx.account.live_descendants() == 0 {
            return;
        }
        let ctx = ctx.clone();
        self.tasks.spawn(async move {
            let grace = tokio::time::sleep(ctx.limits.stop_grace);
            tokio::pin!(grace);
            while ctx.account.live_descendants() > 0 {
                tokio::select! {
                    () = &mut grace => break,
                    () = tokio::time::sleep(EPOCH_TICK) => {}
                }
            }
            ctx.force.cancel();
        });
    }

    /// Drops ended runs past their retention, and the oldest ended ones
    /// past [`MAX_RETAINED_RUNS`].
    fn retire(&self, runs: &mut HashMap<String, Arc<Running>>) {
        let mut gone = Vec::new();
        runs.retain(|_, m| {
            let keep = m
                .ended()
                .is_none_or(|(at, _)| at.elapsed() < self.retention);
            if !keep {
                gone.push(m.clone());
            }
            keep
        });
        let mut ended: Vec<(Instant, String)> = runs
            .iter()
            .filter_map(|(id, m)| Some((m.ended()?.0, id.clone())))
            .collect();
        if ended.len() > MAX_RETAINED_RUNS {
            ended.sort();
            for (_, id) in &ended[..ended.len() - MAX_RETAINED_RUNS] {
                gone.extend(runs.remove(id));
            }
        }
        self.bank(gone);
    }

    /// Adds the counters of runs dropped from the map to the per-type
    /// totals of retired runs. Called with the `runs` lock held.
    fn bank(&self, gone: impl IntoIterator<Item = Arc<Running>>) {
        let Ok(mut retired) = self.retired.lock() else {
            return;
        };
        for m in gone {
            retired
                .entry(m.ctx.type_name.clone())
                .or_insert_with(|| TypeActivity::new(&m.ctx.type_name))
                .add(&m.ctx.counters());
        }
    }

    /// What the runs of each module type have done, by type name: the
    /// retired runs' totals plus the listed runs' live counters, read
    /// under one lock, so no total ever goes down.
    pub(crate) fn activity(&self) -> Vec<TypeActivity> {
        let Ok(mut runs) = self.runs.lock() else {
            return Vec::new();
        };
        self.retire(&mut runs);
        let mut by_type = self.retired.lock().map(|r| r.clone()).unwrap_or_default();
        for m in runs.values() {
            let activity = by_type
                .entry(m.ctx.type_name.clone())
                .or_insert_with(|| TypeActivity::new(&m.ctx.type_name));
            let counters = m.ctx.counters();
            activity.add(&counters);
            if !m.is_ended() {
                activity.memory_bytes += counters.memory_bytes;
            }
            *activity.runs.entry(m.state_name()).or_default() += 1;
        }
        by_type.into_values().collect()
    }

    fn running(&self, id: &str) -> Result<Arc<Running>, HostError> {
        self.runs
            .lock()
            .ok()
            .and_then(|m| m.get(id).cloned())
            .ok_or_else(|| HostError::UnknownModule { id: id.to_owned() })
    }

    /// Every run, running or retained, by id.
    pub(crate) fn list(&self) -> Vec<ModuleStatus> {
        let Ok(mut runs) = self.runs.lock() else {
            return Vec::new();
        };
        self.retire(&mut runs);
        let mut list: Vec<ModuleStatus> = runs.values().map(|m| m.status()).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// The descendants of `parent`, with ids relative to it.
    fn descendants(&self, parent: &RunContext) -> Vec<ChildSummary> {
        let prefix = format!("{}{NAMESPACE_SEPARATOR}", parent.id);
        let Ok(runs) = self.runs.lock() else {
            return Vec::new();
        };
        let mut list: Vec<ChildSummary> = runs
            .iter()
            .filter_map(|(id, m)| {
                Some(ChildSummary {
                    id: id.strip_prefix(&prefix)?.to_owned(),
                    type_name: m.ctx.type_name.clone(),
                    state: m.state_name(),
                })
            })
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// The status of run `id`.
    pub(crate) fn status(&self, id: &str) -> Result<ModuleStatus, HostError> {
        Ok(self.running(id)?.status())
    }

    /// The recent log lines of run `id`.
    pub(crate) fn logs(&self, id: &str) -> Result<Vec<LogLine>, HostError> {
        Ok(self.running(id)?.ctx.logs())
    }

    /// Waits for run `id` to end.
    pub(crate) async fn wait(&self, id: &str) -> Result<ModuleStatus, HostError> {
        let running = self.running(id)?;
        running.wait().await;
        Ok(running.status())
    }

    /// Stops run `id`; see `ModuleHost::close`.
    pub(crate) async fn close(&self, id: &str) -> Result<ModuleStatus, HostError> {
        let running = self.running(id)?;
        Self::stop(&running).await;
        Ok(running.status())
    }

    async fn stop(running: &Running) {
        if running.is_ended() {
            return;
        }
        running.ctx.stop.cancel();
        let grace = running.ctx.limits.stop_grace;
        if tokio::time::timeout(grace, running.wait()).await.is_err() {
            tracing::info!(module = %running.ctx.id, ?grace, "module ignored the stop request; ending it");
            running.ctx.force.cancel();
            running.wait().await;
        }
    }

    /// Stops every run (each with its grace period, all at once), then
    /// refuses new runs and waits for every run's task.
    pub(crate) async fn close_all(&self) {
        self.stop_all.cancel();
        let all: Vec<Arc<Running>> = self
            .runs
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        let mut stops = tokio::task::JoinSet::new();
        for running in all {
            stops.spawn(async move { Self::stop(&running).await });
        }
        while stops.join_next().await.is_some() {}
        self.force_all.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// The control a run's instance holds: the module types, and the run's own
/// descendants.
struct RunControl {
    lifecycle: Arc<Lifecycle>,
    caller: Arc<RunContext>,
}

impl ModuleControl for RunControl {
    fn types(&self) -> Vec<ModuleInfo> {
        self.lifecycle.registry.infos()
    }

    fn run(
        &self,
        type_name: &str,
        id: &str,
        options: BTreeMap<String, String>,
    ) -> Result<(), HostError> {
        self.lifecycle
            .start_child(&self.caller, type_name, id, &options)
    }

    fn list(&self) -> Vec<ChildSummary> {
        self.lifecycle.descendants(&self.caller)
    }

    fn close<'a>(&'a self, id: &'a str) -> ControlFuture<'a, Result<(), HostError>> {
        Box::pin(async move {
            if !self.caller.grants.may_run_modules {
                return Err(HostError::NotGranted {
                    id: self.caller.id.clone(),
                    grant: "may_run_modules",
                });
            }
            let full = format!("{}{NAMESPACE_SEPARATOR}{id}", self.caller.id);
            let running = self
                .lifecycle
                .running(&full)
                .map_err(|_| HostError::UnknownModule { id: id.to_owned() })?;
            Lifecycle::stop(&running).await;
            Ok(())
        })
    }
}
