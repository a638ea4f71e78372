//! The engine: DAG, states, scheduler, executors, state store, leases and
//! events. No terminal or UI types here; the CLI and the console are thin
//! clients of `Engine`.

pub mod adhoc;
pub mod backfill;
mod collisions;
pub mod dag;
mod deadlines;
pub mod executor;
pub mod forecast;
pub mod history;
pub mod journal;
pub mod launch;
pub mod lease;
pub mod notify;
pub mod plan;
pub mod process;
pub mod request;
pub mod runbook;
pub mod scheduler;
pub mod schedules;
pub mod serve;
pub mod sla;
pub mod state;
pub mod stats;
pub mod store;
pub mod template;
pub mod timeline;
pub mod worker;

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio_util::sync::CancellationToken;

use crate::config::Workspace;
use lease::Owner;
use request::{Applied, Request};
use state::RunState;
use store::{EventKind, NewEvent, NewInstance, Store};

const EVENTS_KEPT_MS: i64 = 14 * 24 * 3600 * 1000;

/// An owner's background tasks (heartbeat, own watch): aborted when dropped.
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

pub struct Engine {
    pub store: Store,
    pub ws: Arc<Workspace>,
}

/// Inserts a run with its instances, takes its lease for `owner` and
/// announces it, inside the caller's transaction.
async fn owned_run(
    tx: &mut store::Tx,
    pipeline: &str,
    run_date: &str,
    state: RunState,
    backfill_id: Option<i64>,
    instances: &[NewInstance],
    owner: &Owner,
) -> Result<i64> {
    let id = store::create_run(tx, pipeline, run_date, state, backfill_id, instances).await?;
    lease::acquire(tx, id, owner).await?;
    let created = EventKind::RunCreated {
        pipeline: pipeline.into(),
        run_date: run_date.into(),
    };
    store::insert_events(tx, &[NewEvent::run(id, created)]).await?;
    Ok(id)
}

/// What became of a request.
#[derive(Debug)]
pub enum RequestOutcome {
    /// A live owner executes the run; it applies the request within a second.
    Sent { request_id: i64 },
    /// No live owner: applied here. For a rerun, `owned` says this process
    /// now holds the lease and must execute the run.
    Applied { applied: Applied, owned: bool },
}

impl Engine {
    /// For read-only commands: opens an existing store and writes nothing
    /// (not even the pool sizes of the workspace file).
    pub async fn open_readonly(ws: Workspace) -> Result<Engine> {
        lease::use_times(ws.lease_times());
        let store = Store::open_readonly(ws.state_location()).await?;
        Ok(Engine {
            store,
            ws: Arc::new(ws),
        })
    }

    /// Opens the workspace's state store and brings pool sizes in line with it.
    pub async fn open(ws: Workspace) -> Result<Engine> {
        lease::use_times(ws.lease_times());
        let store = Store::open(ws.state_location()).await?;
        Self::with_writable_store(ws, store).await
    }

    /// For commands that only read (status, logs, the console): a store this
    /// user cannot write is opened read-only (`store.is_readonly()`) instead
    /// of refused.
    pub async fn open_for_reading(ws: Workspace) -> Result<Engine> {
        lease::use_times(ws.lease_times());
        let store = Store::open_for_reading(ws.state_location()).await?;
        if store.is_readonly() {
            return Ok(Engine {
                store,
                ws: Arc::new(ws),
            });
        }
        Self::with_writable_store(ws, store).await
    }

    async fn with_writable_store(ws: Workspace, store: Store) -> Result<Engine> {
        let pools: Vec<(String, i64)> = ws
            .def
            .pools
            .iter()
            .map(|(n, p)| (n.clone(), p.size))
            .collect();
        let mut tx = store.begin().await?;
        store::sync_pools(&mut tx, &pools).await?;
        // Events are notifications for followers: keep two weeks of them.
        store::prune_events(&mut tx, store::now_ms() - EVENTS_KEPT_MS).await?;
        tx.commit().await?;
        Ok(Engine {
            store,
            ws: Arc::new(ws),
        })
    }

    /// The instances a new run of `pipeline` gets (see `plan`).
    pub async fn plan(&self, pipeline: &str) -> Result<Vec<NewInstance>> {
        plan::plan(&self.ws, pipeline).await
    }

    /// Creates a run (or, for a backfill, a queued run) owned by `owner`.
    pub async fn create_run(
        &self,
        pipeline: &str,
        run_date: &str,
        owner: &Owner,
        state: RunState,
        backfill_id: Option<i64>,
    ) -> Result<i64> {
        let plan = self.plan(pipeline).await?;
        let mut tx = self.store.begin().await?;
        let id = owned_run(
            &mut tx,
            pipeline,
            run_date,
            state,
            backfill_id,
            &plan,
            owner,
        )
        .await?;
        // A run without a slot: its deadlines count from its creation.
        let (run_deadline, tasks) =
            deadlines::of_pipeline(&self.ws, pipeline, store::now_ms(), &plan);
        if run_deadline.is_some() || !tasks.is_empty() {
            store::set_deadlines(&mut tx, id, run_deadline, &tasks).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Creates the run of a schedule slot and claims the slot, in one
    /// transaction. None when another `serve` claimed the slot first, or when
    /// the run cannot be created (a live run of that date, a plan that fails):
    /// then the slot is recorded `refused`, with why, and its deadline still
    /// counts.
    pub async fn create_slot_run(
        &self,
        pipeline: &str,
        slot: chrono::DateTime<chrono::Utc>,
        tz: chrono_tz::Tz,
        owner: &Owner,
    ) -> Result<Option<i64>> {
        let run_date = crate::config::schedule::slot_date(slot, tz);
        let run_date = run_date.as_str();
        let slot_ms = slot.timestamp_millis();
        let (deadline_at, _) = deadlines::of_pipeline(&self.ws, pipeline, slot_ms, &[]);
        let refuse = |why: String| async move {
            let mut tx = self.store.begin().await?;
            store::claim_slot(
                &mut tx,
                pipeline,
                slot_ms,
                run_date,
                store::SlotState::Refused,
                deadline_at,
                Some(&why),
            )
            .await?;
            tx.commit().await?;
            tracing::warn!("{pipeline} slot {slot}: refused: {why}");
            anyhow::Ok(None)
        };
        let plan = match self.plan(pipeline).await {
            Ok(p) => p,
            Err(e) => return refuse(crate::text::error_chain(&e)).await,
        };
        let (_, task_deadlines) = deadlines::of_pipeline(&self.ws, pipeline, slot_ms, &plan);
        let mut tx = self.store.begin().await?;
        if !store::claim_slot(
            &mut tx,
            pipeline,
            slot_ms,
            run_date,
            store::SlotState::Started,
            deadline_at,
            None,
        )
        .await?
        {
            return Ok(None);
        }
        let id = match owned_run(
            &mut tx,
            pipeline,
            run_date,
            RunState::Running,
            None,
            &plan,
            owner,
        )
        .await
        {
            Ok(id) => id,
            Err(e) if e.downcast_ref::<store::LiveRunExists>().is_some() => {
                drop(tx);
                return refuse(e.to_string()).await;
            }
            Err(e) => return Err(e),
        };
        store::attach_slot_run(&mut tx, pipeline, slot_ms, id).await?;
        store::set_deadlines(&mut tx, id, deadline_at, &task_deadlines).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// A run of one task that is not in the workspace file (`switchyard
    /// export`, `switchyard load`, the console's forms). The task definition
    /// travels with the instance, so the run reruns like any other.
    pub async fn create_adhoc_run(
        &self,
        label: &str,
        run_date: &str,
        def: &crate::config::TaskDef,
        owner: &Owner,
    ) -> Result<i64> {
        adhoc::check(&self.ws, def)?;
        let inst = NewInstance {
            task_id: def.id.clone(),
            kind: def.kind,
            pool: def.pool.clone(),
            slots: def.wanted_slots(),
            upstream: Vec::new(),
            params: Some(serde_json::json!({ "def": def })),
        };
        let mut tx = self.store.begin().await?;
        let id = owned_run(
            &mut tx,
            label,
            run_date,
            RunState::Running,
            None,
            &[inst],
            owner,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn create_backfill(
        &self,
        pipeline: &str,
        dates: &[String],
        max_active: u32,
        owner: &Owner,
    ) -> Result<(i64, Vec<i64>)> {
        let plan = self.plan(pipeline).await?;
        let (Some(first), Some(last)) = (dates.first(), dates.last()) else {
            bail!("a backfill needs at least one date");
        };
        let mut tx = self.store.begin().await?;
        let bf = store::insert_backfill(&mut tx, pipeline, (first, last), max_active).await?;
        let mut ids = Vec::new();
        for d in dates {
            let id = owned_run(
                &mut tx,
                pipeline,
                d,
                RunState::Queued,
                Some(bf),
                &plan,
                owner,
            )
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok((bf, ids))
    }

    /// Executes runs this process owns, at most `max_active` at once; a queued
    /// run turns `running` when it gets its place. Returns each run's end state.
    pub async fn execute(
        &self,
        owner: Arc<Owner>,
        run_ids: &[i64],
        max_active: usize,
        shutdown: CancellationToken,
    ) -> Result<Vec<(i64, RunState)>> {
        self.execute_owned(owner, run_ids, max_active, shutdown)
            .await
            .map_err(|e| self.store.explain(e, None))
    }

    async fn execute_owned(
        &self,
        owner: Arc<Owner>,
        run_ids: &[i64],
        max_active: usize,
        shutdown: CancellationToken,
    ) -> Result<Vec<(i64, RunState)>> {
        // Stopped however this ends, an early error included.
        let background = Background(vec![
            lease::spawn_heartbeat(self.store.clone(), owner.token.clone()),
            notify::own::spawn_watch(
                self.ws.clone(),
                self.store.clone(),
                owner.token.clone(),
                run_ids.to_vec(),
            ),
        ]);
        let mut waiting: std::collections::VecDeque<i64> = run_ids.iter().copied().collect();
        let mut active = tokio::task::JoinSet::new();
        let mut results = Vec::new();
        let mut first_error = None;
        loop {
            while active.len() < max_active.max(1) && !shutdown.is_cancelled() {
                let Some(id) = waiting.pop_front() else { break };
                let run = self.store.run(id).await?;
                if run.state == RunState::Queued {
                    let mut tx = self.store.begin().await?;
                    store::set_run_state(&mut tx, id, RunState::Running).await?;
                    store::insert_events(
                        &mut tx,
                        &[NewEvent::run(
                            id,
                            EventKind::RunState {
                                state: RunState::Running,
                            },
                        )],
                    )
                    .await?;
                    tx.commit().await?;
                }
                let runner = scheduler::RunOwner::load(
                    self.store.clone(),
                    self.ws.clone(),
                    owner.clone(),
                    id,
                )
                .await?;
                let sd = shutdown.clone();
                active.spawn(async move { (id, runner.execute(sd).await) });
            }
            let Some(joined) = active.join_next().await else {
                break;
            };
            match joined {
                Ok((id, Ok(state))) => results.push((id, state)),
                Ok((id, Err(e))) => {
                    first_error.get_or_insert(self.store.explain(e, Some(id)));
                }
                Err(e) => {
                    first_error.get_or_insert(anyhow::anyhow!("a run executor crashed: {e}"));
                }
            }
        }
        // Backfill runs never started because of a shutdown: end them truthfully.
        for id in waiting {
            let mut tx = self.store.begin().await?;
            let insts = store::instances_in(&mut tx, id).await?;
            let mut changed = insts.clone();
            for i in changed.iter_mut() {
                if let Ok(to) = state::transition(i.state, state::Cause::Cancel) {
                    i.state = to;
                    i.error = Some("cancelled: switchyard was stopped".into());
                    i.updated_at = store::now_ms();
                    store::save_instance(&mut tx, i).await?;
                }
            }
            let st = lease::settle_run_state(&mut tx, id, &changed, false).await?;
            lease::release(&mut tx, id, &owner).await?;
            tx.commit().await?;
            results.push((id, st));
        }
        drop(background);
        notify::own::drain(&self.ws, &self.store, &owner.token, run_ids).await;
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(results)
    }

    /// Sends `req` to the run's live owner, or applies it here when there is
    /// none (taking the lease for a rerun, so this process executes it).
    pub async fn request(
        &self,
        run_id: i64,
        req: &Request,
        who: &str,
        owner: &Owner,
    ) -> Result<RequestOutcome> {
        let mut tx = self.store.begin().await?;
        let run = store::run_in(&mut tx, run_id).await?;
        let now = store::clock_in(&mut tx).await?;
        let live = run
            .owner
            .as_ref()
            .is_some_and(|l| lease::lease_is_live(l, now));
        if live {
            if let Request::Rerun(sel) = req {
                // Refuse at once what the owner would refuse: the caller sees why.
                let insts = store::instances_in(&mut tx, run_id).await?;
                let chosen = request::rerun_selection(&insts, sel, run_id)?;
                if let Some(&i) = chosen
                    .iter()
                    .find(|&&i| insts[i].state == state::TaskState::Running)
                {
                    bail!(
                        "`{}` is running; cancel it first (switchyard cancel {run_id} {})",
                        insts[i].task_id,
                        insts[i].task_id
                    );
                }
                if chosen.is_empty() {
                    bail!("nothing to rerun in run {run_id}");
                }
            }
            let payload = serde_json::to_string(req)?;
            let id = store::insert_request(&mut tx, run_id, req.kind(), &payload, who).await?;
            tx.commit().await?;
            return Ok(RequestOutcome::Sent { request_id: id });
        }
        let owned = if matches!(req, Request::Rerun(_)) {
            // Takes the lease (reaping a dead owner first) before resetting anything.
            if !lease::acquire(&mut tx, run_id, owner).await? {
                bail!("run {run_id} was just taken by another process; try again");
            }
            true
        } else {
            if run.owner.is_some() {
                // A dead owner: reap it so the store tells the truth first.
                lease::acquire(&mut tx, run_id, owner).await?;
                lease::release(&mut tx, run_id, owner).await?;
            }
            false
        };
        let applied = request::apply(&mut tx, run_id, req, who, false).await?;
        tx.commit().await?;
        Ok(RequestOutcome::Applied { applied, owned })
    }

    /// Waits until a live owner has applied request `id`; returns its result.
    pub async fn wait_request(&self, id: i64) -> Result<Applied> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(result) = self.store.request_result(id).await? {
                let result: request::RequestResult =
                    serde_json::from_str(&result).context("corrupt request result")?;
                return result.into_applied();
            }
            if std::time::Instant::now() > deadline {
                bail!("the run's owner did not answer request {id} within 30 s");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    pub async fn set_pool_size(&self, name: &str, size: i64, who: &str) -> Result<()> {
        if let Err(e) = crate::config::rules::pool_size(size) {
            bail!("pool `{name}`: {e}");
        }
        let mut tx = self.store.begin().await?;
        if !store::set_pool_size(&mut tx, name, size).await? {
            let known: Vec<String> = self.ws.def.pools.keys().cloned().collect();
            bail!(
                "no pool `{name}` (pools: {})",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            );
        }
        store::add_journal(
            &mut tx,
            who,
            "pool",
            None,
            &[],
            Some(&format!("{name} = {size}")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
