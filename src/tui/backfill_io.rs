//! The runner's side of backfills: reading them, and starting one the way
//! `switchyard backfill --detach` does (runs created here, executed by a
//! detached worker: the console runs no task itself).

use anyhow::{Context, Result};

use super::state::{BackfillRequest, Msg};
use crate::engine::lease::{self, Owner};
use crate::engine::store::now_ms;
use crate::engine::{Engine, launch};

/// How many recent backfills `[` and `]` step through.
const LISTED: i64 = 100;

/// Recent backfills and `id`'s runs (None: the newest backfill's).
pub async fn load(engine: &Engine, id: Option<i64>) -> Result<Vec<Msg>> {
    let list = engine.store.backfills(LISTED).await?;
    let id = id.or(list.first().map(|b| b.id));
    let shown = match id {
        Some(id) => Some((
            engine.store.backfill(id).await?,
            engine.store.backfill_runs(id).await?,
        )),
        None => None,
    };
    Ok(vec![Msg::Backfills { list, shown }])
}

pub async fn start(engine: &Engine, req: BackfillRequest) -> Result<Vec<Msg>> {
    lease::reap_dead_owners(&engine.store).await?;
    // A token of its own: the worker adopts exactly these runs.
    let owner = Owner::this_process(None);
    let (bf, ids) = engine
        .create_backfill(&req.pipeline, &req.dates, req.max_active, &owner)
        .await?;
    let (first, last) = (
        req.dates.first().cloned().unwrap_or_default(),
        req.dates.last().cloned().unwrap_or_default(),
    );
    let detail = format!(
        "{} {first} .. {last} (max active {})",
        req.pipeline, req.max_active
    );
    launch::journal(engine, "backfill", None, &detail).await?;
    match launch::detach(engine, &owner, &ids, req.max_active as usize).await {
        Ok(pid) => Ok(vec![
            Msg::Done {
                ok: true,
                text: format!(
                    "backfill {bf}: {} runs of {}, a worker (pid {pid}) runs them",
                    ids.len(),
                    req.pipeline
                ),
                at: now_ms(),
            },
            Msg::BackfillStarted(bf),
        ]),
        // Nothing ran: the runs were given back, ended.
        Err(e) => Err(e).context("the backfill's runs were not started"),
    }
}
