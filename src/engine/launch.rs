//! Starting work that goes on without the process that asked for it: the one
//! sequence the CLI's `--detach`, the console, `serve`, backfills and ad-hoc
//! exports all use. A run created here is held by this process's lease until
//! a detached worker adopts it; when no worker starts, the lease is given back
//! and the run ends truthfully instead of sitting "running" with nobody
//! executing it (and blocking its date).
//!
//! Also here: writing a request and, when it left this process holding the
//! run (nobody else executed it), handing the run to a worker; and cancelling
//! running tasks before rerunning them.

use std::time::{Duration, Instant};

use anyhow::Result;

use super::lease::{self, Owner};
use super::request::Request;
use super::{Engine, RequestOutcome, process, store, worker};

/// How long cancelled tasks get to stop before a rerun is given up.
const CANCEL_WAIT: Duration = Duration::from_secs(60);

/// Notes who started what in the journal.
pub async fn journal(engine: &Engine, action: &str, run: Option<i64>, detail: &str) -> Result<()> {
    let mut tx = engine.store.begin().await?;
    store::add_journal(&mut tx, &process::who(), action, run, &[], Some(detail)).await?;
    tx.commit().await?;
    Ok(())
}

/// Hands `runs` (whose lease `owner` holds) to a detached worker, executing
/// at most `max_active` at once; returns its pid. When no worker starts, every
/// lease is given back first.
pub async fn detach(
    engine: &Engine,
    owner: &Owner,
    runs: &[i64],
    max_active: usize,
) -> Result<u32> {
    match worker::hand_over(engine, owner, runs, max_active).await {
        Ok(pid) => Ok(pid),
        Err(e) => {
            give_back(engine, owner, runs).await?;
            Err(e.context("could not start a worker"))
        }
    }
}

/// Releases the leases of `runs` and settles each run's state from its tasks.
async fn give_back(engine: &Engine, owner: &Owner, runs: &[i64]) -> Result<()> {
    for &id in runs {
        let mut tx = engine.store.begin().await?;
        lease::release(&mut tx, id, owner).await?;
        let insts = store::instances_in(&mut tx, id).await?;
        lease::settle_run_state(&mut tx, id, &insts, false).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Writes a request and says what came of it. A live owner applies it;
/// otherwise it is applied here and, for a rerun, a detached worker takes
/// the run: the caller never executes a task itself.
pub async fn request(engine: &Engine, run_id: i64, req: &Request, owner: &Owner) -> Result<String> {
    let who = process::who();
    Ok(match engine.request(run_id, req, &who, owner).await? {
        RequestOutcome::Sent { request_id } => engine.wait_request(request_id).await?.message,
        RequestOutcome::Applied { applied, owned } => {
            if owned {
                detach(engine, owner, &[run_id], 1).await?;
                format!("{}; a worker runs it", applied.message)
            } else {
                applied.message
            }
        }
    })
}

/// Cancels the running tasks in `cancel`, waits until they stopped, then
/// sends `rerun`.
pub async fn cancel_then_rerun(
    engine: &Engine,
    run_id: i64,
    cancel: &[String],
    rerun: &Request,
    owner: &Owner,
) -> Result<String> {
    for t in cancel {
        let req = Request::Cancel {
            task: Some(t.clone()),
        };
        request(engine, run_id, &req, owner).await?;
    }
    let until = Instant::now() + CANCEL_WAIT;
    loop {
        let insts = engine.store.instances(run_id).await?;
        let stopped = (insts.iter())
            .filter(|i| cancel.contains(&i.task_id))
            .all(|i| i.state.is_terminal());
        if stopped {
            break;
        }
        if Instant::now() > until {
            anyhow::bail!("the cancelled tasks did not stop within a minute; rerun not sent");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    request(engine, run_id, rerun, owner).await
}
