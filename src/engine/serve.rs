//! `switchyard serve`: starts every due slot of every scheduled pipeline as a
//! run executed by a detached worker (serve itself executes no task, so
//! restarting it never stops work), watches deadlines, delivers alerts, and
//! reaps dead owners. Any number of `serve` processes may share a store: a
//! slot is claimed once (the `slots` primary key) and a delivery is claimed
//! by one deliverer at a time.
//!
//! Catchup: slots that came due while this process was serving always run.
//! Slots that came due before it started (nobody served, or serve was down)
//! follow the pipeline's `catchup`: `latest` runs the newest of them, `all`
//! runs every one (at most `max_active` at once), `none` runs none. A pipeline
//! never served before starts with the first slot after this process started.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use super::forecast::AtRiskWatch;
use super::lease::{self, Owner};
use super::notify::Deliverer;
use super::store::{self, SlotState, now_ms, rfc3339};
use super::{Engine, launch};
use crate::config::Workspace;
use crate::config::schedule::{Catchup, Schedule, parse_timezone};

/// How often serve looks for due slots and deliveries.
const TICK: Duration = Duration::from_millis(200);
/// Heartbeat, deadlines, and reaping dead owners run on these periods.
const HEARTBEAT_MS: i64 = 1_000;
const REAP_MS: i64 = 5_000;
const DELIVERY_MS: i64 = 1_000;
/// Forecasts of runs with a deadline are recomputed on this period.
const AT_RISK_MS: i64 = 2_000;

/// One scheduled pipeline, as the workspace says.
struct Scheduled {
    pipeline: String,
    schedule: Schedule,
    tz: Tz,
    catchup: Catchup,
    max_active: usize,
}

/// What a serve loop is told at start.
pub struct ServeOptions {
    /// Print a line per started slot (stderr); details go to the tracing file.
    pub verbose: bool,
}

pub async fn serve(
    engine: Arc<Engine>,
    shutdown: CancellationToken,
    opts: ServeOptions,
) -> Result<()> {
    let me = Owner::this_process(None);
    let started = now_ms();
    let scheduled = scheduled_pipelines(&engine)?;
    let deliverer = Deliverer::new(engine.ws.clone(), engine.store.clone(), &me.token);
    engine
        .store
        .serve_heartbeat(&me.token, &me.host, me.pid, started)
        .await?;
    eprintln!(
        "switchyard serve: {} scheduled pipeline(s), {} channel(s); pid {}",
        scheduled.len(),
        engine.ws.def.notify.len(),
        me.pid
    );
    let mut handovers = tokio::task::JoinSet::new();
    let (mut last_beat, mut last_reap, mut last_delivery) = (0i64, 0i64, 0i64);
    let mut last_forecast = 0i64;
    let at_risk = AtRiskWatch::new();
    // Per pipeline: when its next slot is due (ms), once known.
    let mut next_due: std::collections::HashMap<String, i64> = Default::default();
    loop {
        let now = now_ms();
        if now - last_beat >= HEARTBEAT_MS {
            last_beat = now;
            if let Err(e) = engine
                .store
                .serve_heartbeat(&me.token, &me.host, me.pid, started)
                .await
            {
                tracing::warn!("serve heartbeat failed: {e:#}");
            }
            if let Err(e) = watch_deadlines(&engine).await {
                tracing::warn!("watching deadlines failed: {e:#}");
            }
        }
        if now - last_forecast >= AT_RISK_MS {
            last_forecast = now;
            match at_risk.raise(&engine.ws, &engine.store, None, now).await {
                Ok(raised) => {
                    for f in raised {
                        eprintln!(
                            "switchyard serve: {} {}: {}",
                            f.pipeline,
                            f.run_id.map_or_else(
                                || format!("slot {}", rfc3339(f.slot_at.unwrap_or_default())),
                                |r| format!("run {r}")
                            ),
                            f.headline()
                        );
                    }
                }
                Err(e) => tracing::warn!("forecasting deadlines failed: {e:#}"),
            }
        }
        if now - last_reap >= REAP_MS {
            last_reap = now;
            match lease::reap_dead_owners(&engine.store).await {
                Ok(reaped) => {
                    for id in reaped {
                        eprintln!(
                            "switchyard serve: run {id}: its owner died; tasks marked interrupted"
                        );
                    }
                }
                Err(e) => tracing::warn!("reaping dead owners failed: {e:#}"),
            }
        }
        // Every due run is created before any is handed over: forking workers
        // (and their first writes to the store) would slow the creation of the
        // rest, and a slot's delay is the time to its run's creation.
        let mut created = Vec::new();
        for s in &scheduled {
            // Nothing is due before the next slot: no query until then.
            if next_due.get(&s.pipeline).is_some_and(|&n| n > now) {
                continue;
            }
            let result = start_due(&engine, s, started).await;
            // The next slot after the newest recorded one (a slot held back
            // by `max_active` is then already due, and retried next tick).
            let cursor = match &result {
                Ok(due) => due.cursor,
                Err(_) => engine.store.last_slot(&s.pipeline).await.ok().flatten(),
            };
            let next = s
                .schedule
                .next_after(s.tz, at(cursor.unwrap_or(started)))
                .map_or(i64::MAX, |t| t.timestamp_millis());
            next_due.insert(s.pipeline.clone(), next);
            match result {
                Ok(due) => {
                    for (slot, id, owner) in due.runs {
                        if opts.verbose {
                            eprintln!(
                                "switchyard serve: {} slot {} → run {id}",
                                s.pipeline,
                                rfc3339(slot)
                            );
                        }
                        created.push((id, owner));
                    }
                }
                Err(e) => tracing::warn!("pipeline `{}`: starting slots failed: {e:#}", s.pipeline),
            }
        }
        for (id, owner) in created {
            let engine = engine.clone();
            handovers.spawn(async move { hand_over(&engine, &owner, id).await });
        }
        while let Some(done) = handovers.try_join_next() {
            if let Ok(Err(e)) = done {
                eprintln!("switchyard serve: {}", crate::text::error_chain(&e));
            }
        }
        if now - last_delivery < DELIVERY_MS {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.cancelled() => break,
            }
            continue;
        }
        last_delivery = now;
        match deliverer.pass(None).await {
            Ok(p) if p.delivered + p.failed > 0 => tracing::info!(
                "alerts: {} delivered, {} failed (retried later)",
                p.delivered,
                p.failed
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("delivering alerts failed: {e:#}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    // Runs already started keep going in their workers.
    while let Some(done) = handovers.join_next().await {
        if let Ok(Err(e)) = done {
            eprintln!("switchyard serve: {}", crate::text::error_chain(&e));
        }
    }
    engine.store.serve_gone(&me.token).await?;
    eprintln!("switchyard serve: stopped (runs go on in their workers)");
    Ok(())
}

fn scheduled_pipelines(engine: &Engine) -> Result<Vec<Scheduled>> {
    let mut out = Vec::new();
    for (name, p) in &engine.ws.def.pipelines {
        let Some(expr) = p.schedule.as_deref() else {
            continue;
        };
        // `check` validated these when the workspace was loaded.
        let schedule = Schedule::parse(expr).map_err(anyhow::Error::msg)?;
        out.push(Scheduled {
            pipeline: name.clone(),
            schedule,
            tz: timezone_of(&engine.ws, name),
            catchup: p
                .catchup
                .as_deref()
                .and_then(|c| Catchup::parse(c).ok())
                .unwrap_or(Catchup::Latest),
            max_active: p.max_active.unwrap_or(1).max(1) as usize,
        });
    }
    Ok(out)
}

/// What `start_due` did for one pipeline.
struct Due {
    /// (slot, run, owner) for each run this process must hand over.
    runs: Vec<(i64, i64, Arc<Owner>)>,
    /// The newest slot now recorded for the pipeline (by any `serve`), as
    /// far as this pass knows: where its schedule resumes.
    cursor: Option<i64>,
}

/// Claims and creates the runs of the slots of `s` that are due now.
async fn start_due(engine: &Engine, s: &Scheduled, serve_started: i64) -> Result<Due> {
    let now = Utc::now();
    let last = engine.store.last_slot(&s.pipeline).await?;
    let after = at(last.unwrap_or(serve_started));
    let due = s.schedule.slots_between(s.tz, after, now, 10_000);
    let mut cursor = last;
    let mut recorded = |t: DateTime<Utc>| {
        cursor = cursor.max(Some(t.timestamp_millis()));
    };
    if due.is_empty() {
        return Ok(Due {
            runs: Vec::new(),
            cursor,
        });
    }
    let (missed, on_time): (Vec<DateTime<Utc>>, Vec<DateTime<Utc>>) = due
        .into_iter()
        .partition(|t| t.timestamp_millis() < serve_started);
    let mut to_run = Vec::new();
    let mut to_skip = Vec::new();
    match s.catchup {
        Catchup::All => to_run.extend(missed),
        Catchup::Latest => {
            let n = missed.len();
            for (i, t) in missed.into_iter().enumerate() {
                if i + 1 == n {
                    to_run.push(t);
                } else {
                    to_skip.push(t);
                }
            }
        }
        Catchup::None => to_skip.extend(missed),
    }
    to_run.extend(on_time);
    let mut started = Vec::new();
    for t in to_skip {
        let mut tx = engine.store.begin().await?;
        store::claim_slot(
            &mut tx,
            &s.pipeline,
            t.timestamp_millis(),
            &crate::config::schedule::slot_date(t, s.tz),
            SlotState::Skipped,
            None,
            Some(&format!("skipped: catchup = \"{}\"", s.catchup.as_str())),
        )
        .await?;
        tx.commit().await?;
        recorded(t);
    }
    // Only `catchup = "all"` holds slots back for `max_active`.
    let mut live = match s.catchup {
        Catchup::All => engine.store.live_slot_runs(&s.pipeline).await?,
        _ => 0,
    };
    for t in to_run {
        if s.catchup == Catchup::All {
            // The rest wait for a place, in order. Slots of one date share a
            // run date, and a date has one live run at a time.
            let date = crate::config::schedule::slot_date(t, s.tz);
            if live >= s.max_active as i64 || engine.store.live_run_of(&s.pipeline, &date).await? {
                break;
            }
        }
        let owner = Arc::new(Owner::this_process(None));
        // Started here, claimed by another serve, or refused: recorded.
        let run = engine.create_slot_run(&s.pipeline, t, s.tz, &owner).await?;
        recorded(t);
        if let Some(id) = run {
            live += 1;
            started.push((t.timestamp_millis(), id, owner));
        }
    }
    Ok(Due {
        runs: started,
        cursor,
    })
}

/// Hands a run this process created to a detached worker (or gives its lease
/// back: the run then ends `failed` and says why).
async fn hand_over(engine: &Engine, owner: &Owner, run_id: i64) -> Result<()> {
    let pid = launch::detach(engine, owner, &[run_id], 1)
        .await
        .map_err(|e| e.context(format!("run {run_id}")))?;
    tracing::info!("run {run_id} handed to worker pid {pid}");
    Ok(())
}

/// Raises `deadline_missed` for every deadline passed without success.
async fn watch_deadlines(engine: &Engine) -> Result<()> {
    for (o, late) in super::deadlines::raise_overdue(&engine.store, None).await? {
        let what = match (&o.task_id, o.run_id) {
            (Some(t), Some(r)) => format!("run {r} task {t}"),
            (None, Some(r)) => format!("run {r}"),
            _ => format!("slot {}", rfc3339(o.slot_at.unwrap_or_default())),
        };
        eprintln!(
            "switchyard serve: {} {what}: deadline missed{}",
            o.pipeline,
            crate::connectors::notify::late_text(late)
        );
    }
    Ok(())
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The pipeline's `timezone`, else the workspace's, else UTC.
pub fn timezone_of(ws: &Workspace, pipeline: &str) -> Tz {
    ws.pipeline(pipeline)
        .and_then(|p| p.timezone.as_deref())
        .or(ws.def.workspace.timezone.as_deref())
        .and_then(|t| parse_timezone(t).ok())
        .unwrap_or(Tz::UTC)
}
