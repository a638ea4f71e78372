//! The owner of one run: starts each task as soon as its upstreams succeeded
//! and its pool has a slot, retries with backoff, enforces timeouts, applies
//! requests (rerun, cancel, mark) and heartbeats its lease.
//!
//! All state changes of a step are written in one `BEGIN IMMEDIATE`
//! transaction (that is what makes 10,000 tasks cheap); the pool count is
//! read inside it, so processes sharing a pool never exceed its size.
//!
//! Here: the owner's loop, its step transaction, requests and shutdown.
//! `lifecycle.rs`: how instances move (completions, readiness, slots,
//! progress); `attempt.rs`: running one attempt.

mod attempt;
mod lifecycle;

pub use lifecycle::waiting_on_text;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::dag::Dag;
use super::executor::{ExecResult, Failure, Progress};
use super::lease::{HEARTBEAT, Owner, release};
use super::request::{Request, RequestResult, apply};
use super::state::{Cause, RunState, TaskState};
use super::store::{self, EventKind, InstanceRow, NewEvent, Store, Tx, now_ms};
use crate::config::{TaskDef, Workspace};

/// How often the loop yields after a completion before it steps (see
/// `execute`): microseconds of latency for far fewer transactions.
const COALESCE_YIELDS: usize = 4;

/// How long a cancelled or timed-out attempt gets to stop before it is dropped.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Requested,
    Shutdown,
}

struct Inst {
    row: InstanceRow,
    /// Upstreams not yet succeeded or skipped.
    unmet: usize,
    cancel: Option<CancellationToken>,
    stop: Option<StopReason>,
    progress: Arc<Mutex<Option<Progress>>>,
    progress_written_at: i64,
}

/// An attempt that ended this step: (instance, attempt, state, error, exit code).
type EndedAttempt = (usize, i64, TaskState, Option<String>, Option<i64>);

struct Completion {
    idx: usize,
    attempt: i64,
    result: ExecResult,
}

pub struct RunOwner {
    store: Store,
    ws: Arc<Workspace>,
    owner: Arc<Owner>,
    run_id: i64,
    pipeline: String,
    run_date: String,
    /// The slot, or the run's creation (see `TaskContext::reference`).
    reference: chrono::DateTime<chrono::Utc>,
    tz: chrono_tz::Tz,
    defs: HashMap<String, TaskDef>,
    dag: Dag,
    insts: Vec<Inst>,
    /// Queued instance indices, in run order.
    queued: BTreeSet<usize>,
    running_local_unpooled: usize,
    tasks: JoinSet<Completion>,
    task_ids: HashMap<tokio::task::Id, (usize, i64)>,
    done: Vec<Completion>,
    finished_attempts: Vec<EndedAttempt>,
    /// Ranges incremental exports read this step: (instance, range).
    ranges: Vec<(usize, store::ExportRange)>,
    events: Vec<NewEvent>,
    shutting_down: bool,
    /// Set by `rebuild`: the next step looks for pending instances whose
    /// upstreams are all met (otherwise only finished upstreams make ready).
    scan_ready: bool,
    /// Instances in `retrying` (see `set_state`).
    retrying: usize,
    /// Changed by a step whose transaction did not commit (the store
    /// unreachable mid-step): written first by the next step.
    unsaved: BTreeSet<usize>,
    /// Granted a slot by a step whose transaction did not commit: their
    /// attempts are recorded and started by the next step that commits.
    unstarted: Vec<usize>,
    /// Wakes the loop when a request for this run is written (PostgreSQL);
    /// otherwise requests are seen at the next heartbeat.
    requests: store::Changes,
}

impl RunOwner {
    /// Loads a run whose lease `owner` already holds.
    pub async fn load(
        store: Store,
        ws: Arc<Workspace>,
        owner: Arc<Owner>,
        run_id: i64,
    ) -> Result<RunOwner> {
        let run = store.run(run_id).await?;
        let defs = ws
            .pipeline(&run.pipeline)
            .map(|p| p.tasks.iter().map(|t| (t.id.clone(), t.clone())).collect())
            .unwrap_or_default();
        let tz = crate::engine::serve::timezone_of(&ws, &run.pipeline);
        let requests = store.requests_for(run_id);
        let mut me = RunOwner {
            store,
            ws,
            owner,
            run_id,
            pipeline: run.pipeline.clone(),
            run_date: run.run_date,
            reference: chrono::DateTime::from_timestamp_millis(
                run.slot_at.unwrap_or(run.created_at),
            )
            .unwrap_or_default(),
            tz,
            defs,
            dag: Dag::default(),
            insts: Vec::new(),
            queued: BTreeSet::new(),
            running_local_unpooled: 0,
            tasks: JoinSet::new(),
            task_ids: HashMap::new(),
            done: Vec::new(),
            finished_attempts: Vec::new(),
            ranges: Vec::new(),
            events: Vec::new(),
            shutting_down: false,
            scan_ready: true,
            retrying: 0,
            unsaved: BTreeSet::new(),
            unstarted: Vec::new(),
            requests,
        };
        me.refresh_pools_from_workspace().await?;
        let rows = me.store.instances(run_id).await?;
        me.rebuild(rows)?;
        Ok(me)
    }

    /// A rerun uses the workspace as it is now: a task moved to another pool
    /// (or given more partitions) is counted there from its next attempt.
    async fn refresh_pools_from_workspace(&self) -> Result<()> {
        let mut tx = self.store.begin().await?;
        for (id, def) in &self.defs {
            let slots = def.wanted_slots();
            store::repool_instance(&mut tx, self.run_id, id, def.pool.as_deref(), slots).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// (Re)builds the in-memory mirror from rows; keeps handles of attempts in flight.
    fn rebuild(&mut self, rows: Vec<InstanceRow>) -> Result<()> {
        self.dag = Dag::new(
            rows.iter()
                .map(|i| (i.task_id.as_str(), i.upstream.iter().map(String::as_str))),
        )?;
        let mut old: HashMap<String, Inst> = self
            .insts
            .drain(..)
            .map(|i| (i.row.task_id.clone(), i))
            .collect();
        for row in rows {
            let (cancel, stop, progress, written) = match old.remove(&row.task_id) {
                Some(o) => (o.cancel, o.stop, o.progress, o.progress_written_at),
                None => (None, None, Arc::new(Mutex::new(None)), 0),
            };
            self.insts.push(Inst {
                row,
                unmet: 0,
                cancel,
                stop,
                progress,
                progress_written_at: written,
            });
        }
        self.queued.clear();
        self.scan_ready = true;
        self.retrying = self
            .insts
            .iter()
            .filter(|i| i.row.state == TaskState::Retrying)
            .count();
        for i in 0..self.insts.len() {
            self.insts[i].unmet = self
                .dag
                .upstream(i)
                .iter()
                .filter(|&&u| !self.insts[u].row.state.satisfies_downstream())
                .count();
            if self.insts[i].row.state == TaskState::Queued {
                self.queued.insert(i);
            }
        }
        Ok(())
    }

    /// Executes until every instance is terminal. `shutdown` (Ctrl-C, SIGTERM)
    /// cancels what is in flight and ends the run cleanly.
    ///
    /// A store that stops answering (a restart, a dropped connection) is
    /// waited for while the tasks go on; cut off for `lease_give_up_after`,
    /// the owner stops them (`fence`) before another host may take over.
    pub async fn execute(mut self, shutdown: CancellationToken) -> Result<RunState> {
        let give_up = super::lease::times().give_up_after;
        let mut last_commit = Instant::now();
        loop {
            match self.step().await {
                Ok(Some(state)) => return Ok(state),
                Ok(None) => last_commit = Instant::now(),
                Err(e) if store::is_unreachable(&e) => {
                    if last_commit.elapsed() >= give_up {
                        return Err(self.fence(e, last_commit).await);
                    }
                    tracing::warn!(
                        "run {}: the state store does not answer ({}); its tasks go on, and stop if it \
                         still does not answer {}s after the last step",
                        self.run_id,
                        crate::text::error_chain(&e),
                        give_up.as_secs()
                    );
                }
                Err(e) => return Err(e),
            }
            let next_retry = (self.retrying > 0)
                .then(|| self.insts.iter())
                .into_iter()
                .flatten()
                .filter(|i| i.row.state == TaskState::Retrying)
                .filter_map(|i| i.row.next_try_at)
                .min();
            let mut wait = HEARTBEAT;
            if let Some(t) = next_retry {
                wait = wait.min(Duration::from_millis((t - now_ms()).max(0) as u64));
            }
            tokio::select! {
                Some(joined) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    self.collect(joined);
                    // Attempts started together tend to end together: let
                    // the others that are about to end land too, so that one
                    // step (one transaction) records them all.
                    for _ in 0..COALESCE_YIELDS {
                        tokio::task::yield_now().await;
                        while let Some(j) = self.tasks.try_join_next_with_id() {
                            self.collect(j);
                        }
                    }
                }
                _ = self.requests.wait(wait) => {}
                _ = shutdown.cancelled(), if !self.shutting_down => {
                    self.shutting_down = true;
                }
            }
        }
    }

    fn collect(&mut self, joined: Result<(tokio::task::Id, Completion), tokio::task::JoinError>) {
        match joined {
            Ok((id, c)) => {
                self.task_ids.remove(&id);
                self.done.push(c);
            }
            Err(e) => {
                // A panicking executor: fail that attempt, keep the run going.
                if let Some((idx, attempt)) = self.task_ids.remove(&e.id()) {
                    self.done.push(Completion {
                        idx,
                        attempt,
                        result: Err(Failure::retryable(format!("executor crashed: {e}"))),
                    });
                }
            }
        }
    }

    /// One scheduling step in one transaction. Returns the final run state
    /// when the run is over.
    async fn step(&mut self) -> Result<Option<RunState>> {
        let mut dirty = std::mem::take(&mut self.unsaved);
        let mut started = std::mem::take(&mut self.unstarted);
        let stepped = self.step_in_one_transaction(&mut dirty, &mut started).await;
        if stepped.is_err() {
            // Nothing of this step was committed: the next one writes it.
            self.unsaved = dirty;
            self.unstarted = started;
        }
        stepped
    }

    async fn step_in_one_transaction(
        &mut self,
        dirty: &mut BTreeSet<usize>,
        started: &mut Vec<usize>,
    ) -> Result<Option<RunState>> {
        let now = now_ms();
        // Deleted or replaced, the store no longer records this run, and
        // another process may start it again: stop its tasks here.
        if let Err(gone) = self.store.check_identity() {
            self.abandon().await;
            bail!("{gone}; stopped run {}'s tasks here", self.run_id);
        }
        let mut tx = self.store.begin().await?;
        // Heartbeat and lease check in one statement: all writes below depend on it.
        let held = store::heartbeat_run(&mut tx, self.run_id, &self.owner.token).await?;
        if !held {
            drop(tx);
            // Another process may be running them already: no grace.
            self.kill_all_now().await;
            bail!(
                "lost the lease of run {} to another process; stopped its tasks here",
                self.run_id
            );
        }
        // What a failed step changed goes in first: the pool count below
        // must see the slots it granted.
        if !dirty.is_empty() {
            let carried: Vec<&InstanceRow> = dirty.iter().map(|&i| &self.insts[i].row).collect();
            store::save_instances(&mut tx, &carried).await?;
        }

        self.apply_requests(&mut tx, dirty).await?;
        if self.shutting_down {
            self.shut_down(dirty)?;
        }
        self.record_completions(now, dirty)?;
        self.release_due_retries(now, dirty)?;
        let granted = self.grant_slots(&mut tx, now, dirty).await?;
        started.extend(granted);
        self.write_progress(now, dirty);

        // A bounded number of statements per step, however many instances
        // changed: one batch each for instances, new attempts, ended ones.
        for &i in dirty.iter() {
            self.insts[i].row.updated_at = now;
        }
        let changed: Vec<&InstanceRow> = dirty.iter().map(|&i| &self.insts[i].row).collect();
        store::save_instances(&mut tx, &changed).await?;
        let new_attempts: Vec<(&str, i64)> = started
            .iter()
            .map(|&i| {
                (
                    self.insts[i].row.task_id.as_str(),
                    self.insts[i].row.attempt,
                )
            })
            .collect();
        store::insert_attempts(&mut tx, self.run_id, &new_attempts, &self.owner.host).await?;
        let ends: Vec<store::AttemptEnd<'_>> = self
            .finished_attempts
            .iter()
            .map(|(idx, attempt, state, error, exit)| store::AttemptEnd {
                task_id: &self.insts[*idx].row.task_id,
                attempt: *attempt,
                state: *state,
                error: error.as_deref(),
                exit_code: *exit,
            })
            .collect();
        store::finish_attempts(&mut tx, self.run_id, &ends).await?;
        for (i, range) in &self.ranges {
            let task_id = &self.insts[*i].row.task_id;
            store::record_export_range(&mut tx, self.run_id, &self.pipeline, task_id, range)
                .await?;
        }
        store::insert_events(&mut tx, &self.events).await?;

        let over = self.tasks.is_empty()
            && started.is_empty()
            && self.insts.iter().all(|i| i.row.state.is_terminal());
        let result = if over {
            let state = super::state::run_state_of(self.insts.iter().map(|i| i.row.state));
            store::set_run_state(&mut tx, self.run_id, state).await?;
            store::insert_events(
                &mut tx,
                &[NewEvent::run(self.run_id, EventKind::RunState { state })],
            )
            .await?;
            release(&mut tx, self.run_id, &self.owner).await?;
            Some(state)
        } else {
            None
        };
        tx.commit().await?;
        self.finished_attempts.clear();
        self.ranges.clear();
        self.events.clear();
        dirty.clear();
        for i in std::mem::take(started) {
            self.spawn_attempt(i);
        }
        Ok(result)
    }

    async fn apply_requests(&mut self, tx: &mut Tx, dirty: &mut BTreeSet<usize>) -> Result<()> {
        let reqs = store::open_requests(tx, self.run_id).await?;
        if reqs.is_empty() {
            return Ok(());
        }
        // Everything changed so far must be in the store before a request reads it.
        for &i in dirty.iter() {
            store::save_instance(tx, &self.insts[i].row).await?;
        }
        dirty.clear();
        for req in reqs {
            let parsed: Result<Request> = serde_json::from_str(&req.payload).map_err(Into::into);
            let outcome = match parsed {
                Ok(r) => apply(tx, self.run_id, &r, &req.created_by, true).await,
                Err(e) => Err(e),
            };
            let result = serde_json::to_string(&RequestResult::of(&outcome))?;
            store::finish_request(tx, req.id, &result).await?;
        }
        let rows = store::instances_in(tx, self.run_id).await?;
        self.rebuild(rows)?;
        // Running attempts whose cancel was requested: stop them now.
        for inst in &mut self.insts {
            if inst.row.cancel_requested
                && inst.row.state == TaskState::Running
                && inst.stop.is_none()
                && let Some(tok) = &inst.cancel
            {
                inst.stop = Some(StopReason::Requested);
                tok.cancel();
            }
        }
        Ok(())
    }

    fn shut_down(&mut self, dirty: &mut BTreeSet<usize>) -> Result<()> {
        for i in 0..self.insts.len() {
            let state = self.insts[i].row.state;
            if state == TaskState::Running {
                if self.insts[i].stop.is_none()
                    && let Some(tok) = self.insts[i].cancel.clone()
                {
                    self.insts[i].stop = Some(StopReason::Shutdown);
                    tok.cancel();
                }
            } else if !state.is_terminal() {
                self.set_state(
                    i,
                    Cause::Cancel,
                    Some("cancelled: switchyard was stopped".into()),
                )?;
                self.queued.remove(&i);
                dirty.insert(i);
            }
        }
        Ok(())
    }

    /// The lease is gone: stop everything here without writing.
    /// Cut off from the store since `since`, longer than
    /// `lease_give_up_after`: kills every attempt here at once (dropping an
    /// attempt kills its process group), before the lease can be taken over
    /// on another host, then waits for the store to say whether it was.
    /// Writes nothing to a run another process took over.
    async fn fence(&mut self, cause: anyhow::Error, since: Instant) -> anyhow::Error {
        let cause = crate::text::error_chain(&cause);
        tracing::error!(
            "run {}: the state store has not answered for {}s ({cause}): stopping its tasks here",
            self.run_id,
            since.elapsed().as_secs()
        );
        self.kill_all_now().await;
        let cut_off = since.elapsed().as_secs();
        loop {
            match super::lease::give_up_if_held(&self.store, self.run_id, &self.owner).await {
                Ok(true) => {
                    return anyhow::anyhow!(
                        "cut off from the state store for {cut_off}s ({cause}): stopped run {}'s \
                         tasks here and marked them interrupted; `switchyard rerun {} --failed` \
                         carries it on",
                        self.run_id,
                        self.run_id
                    );
                }
                Ok(false) => {
                    return anyhow::anyhow!(
                        "cut off from the state store for {cut_off}s ({cause}): stopped run {}'s \
                         tasks here; another process took the run over meanwhile, so this one \
                         leaves it alone",
                        self.run_id
                    );
                }
                Err(_) => tokio::time::sleep(HEARTBEAT).await,
            }
        }
    }

    /// Drops every attempt in flight; dropping one kills its process group
    /// with SIGKILL (`executor::command`), so nothing of it runs on.
    async fn kill_all_now(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }

    async fn abandon(&mut self) {
        for inst in &self.insts {
            if let Some(t) = &inst.cancel {
                t.cancel();
            }
        }
        let _ = tokio::time::timeout(STOP_GRACE, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
    }
}
