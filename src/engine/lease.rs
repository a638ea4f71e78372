//! Leases: which process executes a run (ARCHITECTURE.md, "The shape in one paragraph").
//!
//! One token per process; every run it executes carries it. The process
//! heartbeats all of them once a second. A lease whose heartbeat is stale, or
//! whose pid is dead on this host, may be taken over: the taker marks what the
//! dead owner had in flight `interrupted` and kills the process groups it left.

use std::time::Duration;

use anyhow::Result;

use super::dag::Dag;
use super::process;
use super::state::{Cause, RunState, TaskState, run_state_of, transition};
use super::store::{self, EventKind, Lease, NewEvent, Store, Tx, now_ms};
use crate::config::LeaseTimes;

pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// This process's `lease_stale_after` and `lease_give_up_after`, set once
/// from the workspace when its engine opens. One value per process, not a
/// parameter of every judge of a lease: every process of a workspace reads
/// it from the same file, and lease checks happen deep in the store's
/// transactions and in background tasks that have no workspace at hand.
static TIMES: std::sync::OnceLock<LeaseTimes> = std::sync::OnceLock::new();

/// Sets the lease times of this process (the first call wins).
pub fn use_times(t: LeaseTimes) {
    let _ = TIMES.set(t);
}

pub fn times() -> LeaseTimes {
    TIMES.get().copied().unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct Owner {
    pub token: String,
    pub pid: i64,
    pub host: String,
    pub started: Option<i64>,
}

impl Owner {
    fn holder(&self) -> store::Holder<'_> {
        store::Holder {
            token: &self.token,
            pid: self.pid,
            host: &self.host,
            started: self.started,
        }
    }

    /// This process, with a fresh token, or the token handed over by the
    /// process that spawned this detached worker.
    pub fn this_process(token: Option<String>) -> Owner {
        let pid = i64::from(std::process::id());
        Owner {
            token: token.unwrap_or_else(process::random_token),
            pid,
            host: process::hostname().to_string(),
            started: process::proc_start_time(pid),
        }
    }
}

/// Is the lease held by a live process?
/// On this host the pid decides (a live but slow owner is never overtaken,
/// so no task runs twice); elsewhere, the heartbeat's age, with `now` and
/// the heartbeat both by the store's clock (`Store::clock`).
pub fn lease_is_live(lease: &Lease, now: i64) -> bool {
    if lease.host == process::hostname() {
        return process::pid_alive(lease.pid, lease.started);
    }
    now - lease.heartbeat_at <= times().stale_after.as_millis() as i64
}

/// Takes the lease of `run_id` for `owner` if it is free or its holder is dead
/// (reaping what the dead holder left). Returns false if a live process holds it.
pub async fn acquire(tx: &mut Tx, run_id: i64, owner: &Owner) -> Result<bool> {
    let run = store::run_in(tx, run_id).await?;
    if let Some(lease) = &run.owner {
        if lease.token == owner.token {
            return Ok(true);
        }
        if lease_is_live(lease, store::clock_in(tx).await?) {
            return Ok(false);
        }
        reap_run(tx, run_id, lease).await?;
    }
    store::take_lease(tx, run_id, &owner.holder()).await?;
    Ok(true)
}

/// A detached worker adopts the lease its parent took, under the same token.
pub async fn adopt(store: &Store, run_id: i64, owner: &Owner) -> Result<bool> {
    store::adopt_lease(store, run_id, &owner.holder()).await
}

/// Heartbeats every run this process owns. Runs for the life of the process.
pub fn spawn_heartbeat(store: Store, token: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT);
        let mut n = 0u64;
        loop {
            tick.tick().await;
            n += 1;
            // Now and then, free what dead owners hold (pool slots above all).
            if n.is_multiple_of(5)
                && let Err(e) = reap_dead_owners(&store).await
            {
                tracing::warn!(
                    "reaping dead owners failed: {}",
                    crate::text::error_chain(&e)
                );
            }
            if let Err(e) = store::heartbeat_all(&store, &token).await {
                tracing::warn!("heartbeat failed: {}", crate::text::error_sources(&e));
            }
        }
    })
}

/// Releases the lease of a run (clean exit).
pub async fn release(tx: &mut Tx, run_id: i64, owner: &Owner) -> Result<()> {
    store::clear_lease(tx, run_id, Some(&owner.token)).await
}

/// An owner that stopped its tasks after losing the store (`fence`), once
/// the store answers again: if it still holds the lease, it records what it
/// had in flight as `interrupted` and lets the lease go, as a taker would;
/// false when another process holds the run now (nothing is written).
pub async fn give_up_if_held(store: &Store, run_id: i64, owner: &Owner) -> Result<bool> {
    let mut tx = store.begin().await?;
    let run = store::run_in(&mut tx, run_id).await?;
    let Some(lease) = run.owner.filter(|l| l.token == owner.token) else {
        return Ok(false);
    };
    reap_run(&mut tx, run_id, &lease).await?;
    store::clear_lease(&mut tx, run_id, Some(&owner.token)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Finds every run whose owner died and reaps it. Returns the reaped run ids.
pub async fn reap_dead_owners(store: &Store) -> Result<Vec<i64>> {
    let now = store.clock().await?;
    let dead: Vec<i64> = store
        .owned_runs()
        .await?
        .into_iter()
        .filter(|r| r.owner.as_ref().is_some_and(|l| !lease_is_live(l, now)))
        .map(|r| r.id)
        .collect();
    let mut reaped = Vec::new();
    for id in dead {
        let mut tx = store.begin().await?;
        // Re-check inside the write transaction: someone may have taken it.
        let run = store::run_in(&mut tx, id).await?;
        let now = store::clock_in(&mut tx).await?;
        if let Some(lease) = run.owner.as_ref().filter(|l| !lease_is_live(l, now)) {
            reap_run(&mut tx, id, lease).await?;
            store::clear_lease(&mut tx, id, None).await?;
            tx.commit().await?;
            reaped.push(id);
        }
    }
    Ok(reaped)
}

/// Marks what a dead owner had in flight `interrupted`, puts queued work back
/// to pending, kills process groups it left on this host, and settles the
/// run's state. The caller clears or replaces the lease.
async fn reap_run(tx: &mut Tx, run_id: i64, lease: &Lease) -> Result<()> {
    let why = format!(
        "owner process {} on {} died (no heartbeat since {})",
        lease.pid,
        lease.host,
        store::local_hms(lease.heartbeat_at)
    );
    // First the processes: no task may run twice at once.
    if lease.host == process::hostname() {
        for (_, attempt) in store::running_attempts_in(tx, run_id).await? {
            if let Some(pgid) = attempt.pgid {
                process::kill_orphaned_group(pgid, attempt.proc_start);
            }
        }
    }
    let mut insts = store::instances_in(tx, run_id).await?;
    let mut events = Vec::new();
    let now = now_ms();
    for i in insts.iter_mut() {
        let Ok(to) = transition(i.state, Cause::OwnerDied) else {
            continue;
        };
        if i.state == TaskState::Running {
            store::finish_attempt(
                tx,
                run_id,
                &i.task_id,
                i.attempt,
                TaskState::Interrupted,
                Some(&why),
                None,
            )
            .await?;
        }
        events.push(NewEvent::task(
            run_id,
            &i.task_id,
            EventKind::TaskState {
                from: i.state,
                to,
                attempt: i.attempt,
                error: (to == TaskState::Interrupted).then(|| why.clone()),
            },
        ));
        if to == TaskState::Interrupted {
            i.error = Some(why.clone());
            i.finished_at = Some(now);
        }
        i.state = to;
        i.next_try_at = None;
        i.updated_at = now;
        store::save_instance(tx, i).await?;
    }
    events.extend(propagate_upstream_failed(&mut insts, run_id)?);
    for i in insts.iter().filter(|i| i.state == TaskState::Pending) {
        let mut i = i.clone();
        i.waiting_on = Some(format!(
            "run has no owner: `switchyard rerun {run_id} --failed` carries it on"
        ));
        store::save_instance(tx, &i).await?;
    }
    for i in insts
        .iter()
        .filter(|i| i.state == TaskState::UpstreamFailed)
    {
        store::save_instance(tx, i).await?;
    }
    store::insert_events(tx, &events).await?;
    settle_run_state(tx, run_id, &insts, false).await?;
    Ok(())
}

/// Every pending instance with an upstream that ended badly becomes
/// `upstream_failed` (transitively). Returns the events; caller saves rows.
pub fn propagate_upstream_failed(
    insts: &mut [store::InstanceRow],
    run_id: i64,
) -> Result<Vec<NewEvent>> {
    let dag = Dag::new(
        insts
            .iter()
            .map(|i| (i.task_id.as_str(), i.upstream.iter().map(String::as_str))),
    )?;
    let mut events = Vec::new();
    for idx in dag.topo_order() {
        if insts[idx].state != TaskState::Pending {
            continue;
        }
        let bad = dag
            .upstream(idx)
            .iter()
            .find(|&&u| insts[u].state.is_bad_end())
            .map(|&u| insts[u].task_id.clone());
        if let Some(up) = bad {
            let i = &mut insts[idx];
            let to = transition(i.state, Cause::UpstreamFailed)?;
            events.push(NewEvent::task(
                run_id,
                &i.task_id,
                EventKind::TaskState {
                    from: i.state,
                    to,
                    attempt: i.attempt,
                    error: None,
                },
            ));
            i.state = to;
            i.waiting_on = None;
            i.error = Some(format!("upstream `{up}` did not succeed"));
            i.updated_at = now_ms();
        }
    }
    Ok(events)
}

/// Writes the run state its instances imply. Without an owner, a run with
/// work left cannot make progress, so it is `failed` until someone reruns it.
pub async fn settle_run_state(
    tx: &mut Tx,
    run_id: i64,
    insts: &[store::InstanceRow],
    has_owner: bool,
) -> Result<RunState> {
    let mut state = run_state_of(insts.iter().map(|i| i.state));
    if state == RunState::Running && !has_owner {
        state = RunState::Failed;
    }
    let run = store::run_in(tx, run_id).await?;
    if run.state != state {
        store::set_run_state(tx, run_id, state).await?;
        store::insert_events(tx, &[NewEvent::run(run_id, EventKind::RunState { state })]).await?;
    }
    Ok(state)
}
