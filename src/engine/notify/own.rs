//! A run's own process standing in for `serve` when none is alive: while its
//! runs execute it raises their passed deadlines (and `at_risk` when their
//! projection passes one) and delivers their alerts
//! (so a cron-started run that is still working at 08:00 still pages), and
//! before it exits it drains what is left for a while. With a `serve` alive
//! it does nothing: serve watches and delivers for everyone.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::Deliverer;
use crate::config::Workspace;
use crate::engine::deadlines::raise_overdue;
use crate::engine::forecast::AtRiskWatch;
use crate::engine::store::{Store, now_ms};

/// How often the owner looks at its deadlines and alerts while it works.
const WATCH_EVERY: Duration = Duration::from_secs(3);
/// How long a run's own process tries to deliver its alerts before exiting.
const DRAIN_BUDGET: Duration = Duration::from_secs(15);

/// Watches `runs` until aborted (the caller aborts it when they end).
pub fn spawn_watch(
    ws: Arc<Workspace>,
    store: Store,
    token: String,
    runs: Vec<i64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let at_risk = AtRiskWatch::new();
        let mut tick = tokio::time::interval(WATCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = watch_once(&ws, &store, &token, &runs, &at_risk).await {
                tracing::warn!(
                    "watching deadlines and alerts: {}",
                    crate::text::error_chain(&e)
                );
            }
        }
    })
}

async fn watch_once(
    ws: &Arc<Workspace>,
    store: &Store,
    token: &str,
    runs: &[i64],
    at_risk: &AtRiskWatch,
) -> Result<()> {
    if store.serve_alive().await? {
        return Ok(());
    }
    for f in at_risk.raise(ws, store, Some(runs), now_ms()).await? {
        tracing::warn!(
            "{} run {:?}: at risk: {:?}",
            f.pipeline,
            f.run_id,
            f.projected_at
        );
    }
    for (o, late) in raise_overdue(store, Some(runs)).await? {
        tracing::warn!(
            "{} run {:?} task {:?}: deadline missed, late by {late} ms",
            o.pipeline,
            o.run_id,
            o.task_id
        );
    }
    // Also without channels: alerts are routed to none, so nothing shows
    // as waiting to be sent.
    let d = Deliverer::new(ws.clone(), store.clone(), token);
    for &id in runs {
        d.pass(Some(id)).await?;
    }
    Ok(())
}

/// Before the process exits: deliver what its runs raised, for a while;
/// what is left stays in the outbox for the next `serve`.
pub async fn drain(ws: &Arc<Workspace>, store: &Store, token: &str, runs: &[i64]) {
    let result: Result<()> = async {
        if store.serve_alive().await? {
            return Ok(());
        }
        let d = Deliverer::new(ws.clone(), store.clone(), token);
        for &id in runs {
            d.drain_run(id, DRAIN_BUDGET).await?;
            let left = store.undelivered_of_run(id).await?;
            if left > 0 {
                tracing::warn!(
                    "run {id}: {left} alert delivery(ies) not accepted yet; they stay in the outbox for `switchyard serve`"
                );
                eprintln!(
                    "switchyard: run {id}: {left} alert delivery(ies) not accepted yet (see `switchyard alerts --run {id}`); `switchyard serve` goes on trying"
                );
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!("delivering alerts failed: {e:#}");
    }
}
