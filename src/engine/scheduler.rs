//! The owner of one run: starts each task as soon as its upstreams succeeded
//! and its pool has a slot, retries with backoff, enforces timeouts, applies
//! requests (rerun, cancel, mark) and heartbeats its lease.
//!
//! All state changes of a step are written in one `BEGIN IMMEDIATE`
//! transaction (that is what makes 10,000 tasks cheap); the pool count is
//! read inside it, so processes sharing a pool never exceed its size.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::dag::Dag;
use super::executor::{ExecResult, Failure, Progress, Reporter, TaskContext, executor_for};
use super::lease::{HEARTBEAT, Owner, release};
use super::request::{Request, apply};
use super::state::{Cause, RunState, TaskState, transition};
use super::store::{self, EventKind, InstanceRow, NewEvent, Store, Tx, now_ms};
use crate::config::duration::{format_duration, parse_duration};
use crate::config::{TaskDef, Workspace};

const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(30);
const DEFAULT_MAX_RETRY_DELAY: Duration = Duration::from_secs(600);
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
    run_date: String,
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
    events: Vec<NewEvent>,
    shutting_down: bool,
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
        let mut me = RunOwner {
            store,
            ws,
            owner,
            run_id,
            run_date: run.run_date,
            defs,
            dag: Dag::default(),
            insts: Vec::new(),
            queued: BTreeSet::new(),
            running_local_unpooled: 0,
            tasks: JoinSet::new(),
            task_ids: HashMap::new(),
            done: Vec::new(),
            finished_attempts: Vec::new(),
            events: Vec::new(),
            shutting_down: false,
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
            let slots = i64::from(def.partitions.unwrap_or(1).max(1));
            sqlx::query(
                "UPDATE task_instances SET pool = ?, slots = ? WHERE run_id = ? AND task_id = ? AND state <> 'running' AND (pool IS DISTINCT FROM ? OR slots <> ?)",
            )
            .bind(&def.pool)
            .bind(slots)
            .bind(self.run_id)
            .bind(id)
            .bind(&def.pool)
            .bind(slots)
            .execute(&mut *tx)
            .await?;
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
    pub async fn execute(mut self, shutdown: CancellationToken) -> Result<RunState> {
        loop {
            if let Some(state) = self.step().await? {
                return Ok(state);
            }
            let next_retry = self
                .insts
                .iter()
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
                    while let Some(j) = self.tasks.try_join_next_with_id() {
                        self.collect(j);
                    }
                }
                _ = tokio::time::sleep(wait) => {}
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
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        // Heartbeat and lease check in one statement: all writes below depend on it.
        let held = sqlx::query("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_token = ?")
            .bind(now)
            .bind(self.run_id)
            .bind(&self.owner.token)
            .execute(&mut *tx)
            .await?;
        if held.rows_affected() == 0 {
            drop(tx);
            self.abandon().await;
            bail!(
                "lost the lease of run {} to another process; stopped its tasks here",
                self.run_id
            );
        }

        let mut dirty: BTreeSet<usize> = BTreeSet::new();
        self.apply_requests(&mut tx, &mut dirty).await?;
        if self.shutting_down {
            self.shut_down(&mut dirty)?;
        }
        self.record_completions(now, &mut dirty)?;
        self.release_due_retries(now, &mut dirty)?;
        let started = self.grant_slots(&mut tx, now, &mut dirty).await?;
        self.write_progress(now, &mut dirty);

        for &i in &dirty {
            self.insts[i].row.updated_at = now;
            store::save_instance(&mut tx, &self.insts[i].row).await?;
        }
        for &i in &started {
            let r = &self.insts[i].row;
            store::insert_attempt(
                &mut tx,
                self.run_id,
                &r.task_id,
                r.attempt,
                &self.owner.host,
            )
            .await?;
        }
        for (idx, attempt, state, error, exit) in self.finished_attempts.drain(..) {
            let task_id = self.insts[idx].row.task_id.clone();
            store::finish_attempt(
                &mut tx,
                self.run_id,
                &task_id,
                attempt,
                state,
                error.as_deref(),
                exit,
            )
            .await?;
        }
        store::insert_events(&mut tx, &self.events).await?;
        self.events.clear();

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
        for i in started {
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
            let result = match outcome {
                Ok(a) => serde_json::json!({"ok": true, "tasks": a.tasks, "message": a.message}),
                Err(e) => serde_json::json!({"ok": false, "message": format!("{e:#}")}),
            };
            store::finish_request(tx, req.id, &result.to_string()).await?;
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
        // Pending instances whose upstreams are now met start this step.
        for i in 0..self.insts.len() {
            if self.insts[i].row.state == TaskState::Pending && self.insts[i].unmet == 0 {
                self.make_ready(i, dirty)?;
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

    fn set_state(&mut self, i: usize, cause: Cause, error: Option<String>) -> Result<TaskState> {
        let inst = &mut self.insts[i];
        let to = transition(inst.row.state, cause)?;
        self.events.push(NewEvent::task(
            self.run_id,
            &inst.row.task_id,
            EventKind::TaskState {
                from: inst.row.state,
                to,
                attempt: inst.row.attempt,
                error: error.clone(),
            },
        ));
        inst.row.state = to;
        if error.is_some() || to == TaskState::Succeeded {
            inst.row.error = error;
        }
        if to.is_terminal() {
            inst.row.finished_at = Some(now_ms());
            inst.row.waiting_on = None;
        }
        Ok(to)
    }

    fn make_ready(&mut self, i: usize, dirty: &mut BTreeSet<usize>) -> Result<()> {
        self.set_state(i, Cause::Ready, None)?;
        self.insts[i].row.queued_at = Some(now_ms());
        self.queued.insert(i);
        dirty.insert(i);
        Ok(())
    }

    fn record_completions(&mut self, now: i64, dirty: &mut BTreeSet<usize>) -> Result<()> {
        let done: Vec<Completion> = self.done.drain(..).collect();
        for c in done {
            let i = c.idx;
            if self.insts[i].row.state != TaskState::Running
                || self.insts[i].row.attempt != c.attempt
            {
                continue; // reset under our feet; the result is stale
            }
            if self.insts[i].row.pool.is_none() {
                self.running_local_unpooled = self.running_local_unpooled.saturating_sub(1);
            }
            let stop = self.insts[i].stop.take();
            self.insts[i].cancel = None;
            dirty.insert(i);
            let (cause, error, exit) = match (&c.result, stop) {
                (Ok(out), _) => {
                    let r = &mut self.insts[i].row;
                    r.rows = out.rows.or(r.rows);
                    r.bytes = out.bytes.or(r.bytes);
                    (Cause::AttemptSucceeded, None, None)
                }
                (Err(_), Some(StopReason::Requested)) => (
                    Cause::Cancel,
                    Some("cancelled on request".to_string()),
                    None,
                ),
                (Err(_), Some(StopReason::Shutdown)) => (
                    Cause::Cancel,
                    Some("cancelled: switchyard was stopped".to_string()),
                    None,
                ),
                (Err(f), None) => {
                    let def = super::plan::resolve_def(&self.defs, &self.insts[i].row).ok();
                    let def = def.as_ref();
                    let retries = def.and_then(|d| d.retries).unwrap_or(0) as i64;
                    let used = self.insts[i].row.attempt - self.insts[i].row.retry_base;
                    if f.retryable && used <= retries && !self.shutting_down {
                        let delay = backoff(def, used);
                        let at = now + delay.as_millis() as i64;
                        let r = &mut self.insts[i].row;
                        r.next_try_at = Some(at);
                        r.waiting_on = Some(format!(
                            "retry {}/{} at {}",
                            used + 1,
                            retries + 1,
                            local_hms(at)
                        ));
                        (
                            Cause::AttemptFailedWillRetry,
                            Some(f.message.clone()),
                            f.exit_code,
                        )
                    } else {
                        (
                            Cause::AttemptFailedFinal,
                            Some(f.message.clone()),
                            f.exit_code,
                        )
                    }
                }
            };
            let to = self.set_state(i, cause, error.clone())?;
            self.finished_attempts
                .push((i, c.attempt, to_attempt_state(to), error, exit));
            if to == TaskState::Succeeded {
                self.upstream_done(i, dirty)?;
            } else if to.is_bad_end() {
                self.fail_downstream(i, dirty)?;
            }
        }
        Ok(())
    }

    /// `i` succeeded: its direct downstream may become ready.
    fn upstream_done(&mut self, i: usize, dirty: &mut BTreeSet<usize>) -> Result<()> {
        let down: Vec<usize> = self.dag.downstream(i).to_vec();
        for d in down {
            self.insts[d].unmet = self.insts[d].unmet.saturating_sub(1);
            if self.insts[d].row.state != TaskState::Pending {
                continue;
            }
            if self.insts[d].unmet == 0 {
                self.make_ready(d, dirty)?;
            } else {
                let waiting: Vec<&str> = self
                    .dag
                    .upstream(d)
                    .iter()
                    .filter(|&&u| !self.insts[u].row.state.satisfies_downstream())
                    .map(|&u| self.dag.name(u))
                    .collect();
                self.insts[d].row.waiting_on = Some(waiting_on_text(&waiting));
                dirty.insert(d);
            }
        }
        Ok(())
    }

    /// `i` ended badly: everything pending downstream of it can never run.
    fn fail_downstream(&mut self, i: usize, dirty: &mut BTreeSet<usize>) -> Result<()> {
        let name = self.dag.name(i).to_string();
        for d in self.dag.downstream_closure(&[i]) {
            if self.insts[d].row.state == TaskState::Pending {
                self.set_state(
                    d,
                    Cause::UpstreamFailed,
                    Some(format!("upstream `{name}` did not succeed")),
                )?;
                dirty.insert(d);
            }
        }
        Ok(())
    }

    fn release_due_retries(&mut self, now: i64, dirty: &mut BTreeSet<usize>) -> Result<()> {
        for i in 0..self.insts.len() {
            let r = &self.insts[i].row;
            if r.state == TaskState::Retrying && r.next_try_at.is_none_or(|t| t <= now) {
                self.set_state(i, Cause::RetryDue, None)?;
                self.insts[i].row.queued_at = Some(now);
                self.insts[i].row.next_try_at = None;
                self.queued.insert(i);
                dirty.insert(i);
            }
        }
        // First step of a fresh or reset run: start what is ready.
        for i in 0..self.insts.len() {
            if self.insts[i].row.state == TaskState::Pending && self.insts[i].unmet == 0 {
                self.make_ready(i, dirty)?;
            }
        }
        Ok(())
    }

    /// Grants pool slots (counted in the store) and the run's parallel limit
    /// to queued instances, in run order. Returns the instances to start.
    async fn grant_slots(
        &mut self,
        tx: &mut Tx,
        now: i64,
        dirty: &mut BTreeSet<usize>,
    ) -> Result<Vec<usize>> {
        let mut started = Vec::new();
        if self.shutting_down || self.queued.is_empty() {
            return Ok(started);
        }
        // Per pool: slots still free for this run in this step.
        let mut pools: HashMap<String, (i64, i64)> = HashMap::new();
        let max_unpooled = self.ws.max_parallel();
        let queued: Vec<usize> = self.queued.iter().copied().collect();
        for i in queued {
            let slots = self.insts[i].row.slots.max(1);
            let waiting = match self.insts[i].row.pool.clone() {
                Some(pool) => {
                    if !pools.contains_key(&pool) {
                        let oldest = self
                            .queued
                            .iter()
                            .filter(|&&q| self.insts[q].row.pool.as_deref() == Some(pool.as_str()))
                            .filter_map(|&q| self.insts[q].row.queued_at)
                            .min()
                            .unwrap_or(now);
                        let p = store::pool_slots(tx, &pool, self.run_id, oldest).await?;
                        pools.insert(pool.clone(), (p.size - p.used - p.owed, p.size));
                    }
                    let Some((free, size)) = pools.get_mut(&pool) else {
                        continue;
                    };
                    // A task wanting more slots than the pool has takes them all.
                    let want = slots.min((*size).max(1));
                    if want <= *free {
                        *free -= want;
                        None
                    } else {
                        Some(format!("pool {pool}"))
                    }
                }
                None => {
                    if self.running_local_unpooled < max_unpooled {
                        self.running_local_unpooled += 1;
                        None
                    } else {
                        Some(format!("parallel limit {max_unpooled}"))
                    }
                }
            };
            match waiting {
                None => {
                    self.insts[i].row.attempt += 1;
                    self.set_state(i, Cause::SlotGranted, None)?;
                    self.queued.remove(&i);
                    let r = &mut self.insts[i].row;
                    r.started_at = Some(now);
                    r.finished_at = None;
                    r.waiting_on = None;
                    r.error = None;
                    r.rows = None;
                    r.bytes = None;
                    r.total_estimate = None;
                    dirty.insert(i);
                    started.push(i);
                }
                Some(w) => {
                    if self.insts[i].row.waiting_on.as_deref() != Some(&w) {
                        self.insts[i].row.waiting_on = Some(w);
                        dirty.insert(i);
                    }
                }
            }
        }
        Ok(started)
    }

    /// Progress is written at most once a second per task (latest wins).
    fn write_progress(&mut self, now: i64, dirty: &mut BTreeSet<usize>) {
        for i in 0..self.insts.len() {
            let inst = &mut self.insts[i];
            if inst.row.state != TaskState::Running || now - inst.progress_written_at < 1000 {
                continue;
            }
            let Some(p) = inst.progress.lock().ok().and_then(|mut p| p.take()) else {
                continue;
            };
            inst.row.rows = Some(p.rows);
            inst.row.bytes = Some(p.bytes);
            inst.row.total_estimate = p.total_estimate;
            inst.progress_written_at = now;
            dirty.insert(i);
            self.events.push(NewEvent::task(
                self.run_id,
                &inst.row.task_id,
                EventKind::Progress {
                    rows: p.rows,
                    bytes: p.bytes,
                    total_estimate: p.total_estimate,
                },
            ));
        }
    }

    fn spawn_attempt(&mut self, i: usize) {
        let row = &self.insts[i].row;
        let token = CancellationToken::new();
        let def = super::plan::resolve_def(&self.defs, row);
        let (report, writer) = Reporter::new(
            self.store.clone(),
            self.run_id,
            &row.task_id,
            row.attempt,
            self.insts[i].progress.clone(),
        );
        let attempt = row.attempt;
        let kind = row.kind.clone();
        let task_id = row.task_id.clone();
        let run_id = self.run_id;
        let run_date = self.run_date.clone();
        let ws = self.ws.clone();
        let cancel = token.clone();
        self.insts[i].cancel = Some(token);
        let handle = self.tasks.spawn(async move {
            let task = match def {
                Ok(d) => d,
                Err(e) => {
                    drop(report);
                    writer.flush().await;
                    return Completion {
                        idx: i,
                        attempt,
                        result: Err(Failure::fatal(format!("{e:#}"))),
                    };
                }
            };
            let timeout = task.timeout.as_deref().and_then(|t| parse_duration(t).ok());
            let ctx = TaskContext {
                run_id,
                run_date,
                task_id,
                attempt,
                task,
                workspace: ws,
                cancel: cancel.clone(),
                report,
            };
            let exec = executor_for(&kind);
            let result = {
                let fut = exec.execute(&ctx);
                tokio::pin!(fut);
                match timeout {
                    None => fut.await,
                    Some(limit) => tokio::select! {
                        r = &mut fut => r,
                        _ = tokio::time::sleep(limit) => {
                            cancel.cancel();
                            let _ = tokio::time::timeout(STOP_GRACE, &mut fut).await;
                            Err(Failure::retryable(format!("timed out after {}", format_duration(limit))))
                        }
                    },
                }
            };
            // The error is stored, shown and sent in events: never with a secret
            // (a command's last output line may echo one).
            let result = result.map_err(|mut f| {
                f.message = crate::config::redact::redact(&f.message);
                f
            });
            if let Err(f) = &result {
                ctx.report.log(format!("error: {}", f.message));
            }
            drop(ctx);
            writer.flush().await;
            Completion {
                idx: i,
                attempt,
                result,
            }
        });
        self.task_ids.insert(handle.id(), (i, attempt));
    }

    /// The lease is gone: stop everything here without writing.
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

fn to_attempt_state(task: TaskState) -> TaskState {
    match task {
        TaskState::Retrying => TaskState::Failed,
        s => s,
    }
}

/// Exponential backoff: `retry_delay × 2^(n-1)`, capped by `max_retry_delay`.
fn backoff(def: Option<&TaskDef>, failed_attempts: i64) -> Duration {
    let base = def
        .and_then(|d| d.retry_delay.as_deref())
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(DEFAULT_RETRY_DELAY);
    let cap = def
        .and_then(|d| d.max_retry_delay.as_deref())
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(DEFAULT_MAX_RETRY_DELAY);
    let exp = (failed_attempts - 1).clamp(0, 20) as u32;
    base.saturating_mul(2u32.saturating_pow(exp))
        .min(cap.max(base))
}

fn local_hms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

pub fn waiting_on_text(names: &[&str]) -> String {
    match names.len() {
        0 => String::new(),
        1..=3 => format!("waiting on {}", names.join(", ")),
        n => format!("waiting on {}, {} and {} more", names[0], names[1], n - 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let def = TaskDef {
            retry_delay: Some("1s".into()),
            max_retry_delay: Some("5s".into()),
            ..TaskDef::default()
        };
        let d: Vec<u64> = (1..=5).map(|n| backoff(Some(&def), n).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 5, 5]);
        assert_eq!(backoff(None, 1), DEFAULT_RETRY_DELAY);
    }

    #[test]
    fn waiting_text_is_short() {
        assert_eq!(waiting_on_text(&["a"]), "waiting on a");
        assert_eq!(
            waiting_on_text(&["a", "b", "c", "d", "e"]),
            "waiting on a, b and 3 more"
        );
    }
}
