//! The forecast of live runs, and the `at_risk` alert: for every run with a
//! deadline that is not done (and every slot held back before its run
//! exists), project its finish; when the projection passes the deadline
//! less `at_risk_margin`, while the deadline is still ahead, raise
//! `at_risk` once. Whoever watches deadlines runs this too (`serve`, or a
//! run's own process when no `serve` is alive), so it pages exactly as
//! `deadline_missed` does, through the same outbox and channels.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use serde::Serialize;

use super::{Busy, Plan, Projection, project};
use crate::config::Workspace;
use crate::engine::history::{DEFAULT_RUNS, Estimates};
use crate::engine::store::{self, InstanceRow, RunRow, Store};

/// How many runs back the estimates look.
const HISTORY_RUNS: i64 = DEFAULT_RUNS;

/// One run's forecast, as the console, `status` and the alert show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunForecast {
    pub run_id: Option<i64>,
    pub pipeline: String,
    pub slot_at: Option<i64>,
    pub deadline_at: Option<i64>,
    /// None: some task cannot finish without a person (`blocked_by`).
    pub projected_at: Option<i64>,
    /// Instance ids, first to last.
    pub critical_path: Vec<String>,
    /// Failed (or cancelled, interrupted) instances holding the rest back.
    pub blocked_by: Vec<String>,
    /// Remaining instances estimated without history of their own.
    pub guessed: Vec<String>,
    /// The projection passes the deadline less the margin.
    pub at_risk: bool,
    /// Per pool the run uses: the finish with one more slot.
    pub what_if: Vec<PoolWhatIf>,
    /// The pipeline's zone: times are shown in the deadline's own terms.
    #[serde(skip)]
    pub tz: chrono_tz::Tz,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolWhatIf {
    pub pool: String,
    pub size: i64,
    pub projected_at: Option<i64>,
}

impl RunForecast {
    /// `at risk: projected 10:24, deadline 10:00 — critical path a → b → c`
    /// (or `on time: …`), times in the pipeline's zone.
    pub fn headline(&self) -> String {
        match self.path_text() {
            Some(path) => format!("{} — {path}", self.projection_text()),
            None => self.projection_text(),
        }
    }

    /// `at risk: projected 10:24, deadline 10:00`.
    pub fn projection_text(&self) -> String {
        let hhmm = |ms: i64| hhmm_in(ms, self.tz);
        let Some(projected) = self.projected_at else {
            return format!(
                "cannot finish: {} failed (rerun to project)",
                self.blocked_by.join(", ")
            );
        };
        let mut s = format!(
            "{}: projected {}",
            if self.at_risk { "at risk" } else { "on time" },
            hhmm(projected)
        );
        if let Some(d) = self.deadline_at {
            s.push_str(&format!(", deadline {}", hhmm(d)));
        }
        s
    }

    /// `critical path a → b → c`, and how many tasks are guessed.
    pub fn path_text(&self) -> Option<String> {
        if self.projected_at.is_none() || self.critical_path.is_empty() {
            return None;
        }
        let mut s = format!("critical path {}", self.critical_path.join(" → "));
        if !self.guessed.is_empty() {
            s.push_str(&format!(
                " ({} task(s) without history, counted at their kind's median)",
                self.guessed.len()
            ));
        }
        Some(s)
    }
}

/// The forecast of one run from its rows.
pub fn forecast_run(
    ws: &Workspace,
    run: &RunRow,
    rows: &[InstanceRow],
    est: &Estimates,
    pools: &HashMap<String, i64>,
    busy: Vec<Busy>,
    now: i64,
) -> RunForecast {
    let mut plan = Plan::for_run(rows, est, now);
    plan.pools = pools.clone();
    plan.max_parallel = ws.max_parallel() as i64;
    plan.busy = busy;
    describe(
        ws,
        Some(run.id),
        &run.pipeline,
        run.slot_at,
        run.deadline_at,
        &plan,
        now,
    )
}

fn describe(
    ws: &Workspace,
    run_id: Option<i64>,
    pipeline: &str,
    slot_at: Option<i64>,
    deadline_at: Option<i64>,
    plan: &Plan,
    now: i64,
) -> RunForecast {
    let p: Projection = project(plan, now);
    let margin = ws.at_risk_margin(pipeline).as_millis() as i64;
    let at_risk = match (p.finish_at, deadline_at) {
        (Some(f), Some(d)) => f > d - margin,
        _ => false,
    };
    let mut used: Vec<&str> = plan
        .nodes
        .iter()
        .filter(|n| !matches!(n.work, super::Work::Done { .. }))
        .filter_map(|n| n.pool.as_deref())
        .collect();
    used.sort_unstable();
    used.dedup();
    let what_if = used
        .into_iter()
        .filter_map(|pool| {
            let size = *plan.pools.get(pool)?;
            Some(PoolWhatIf {
                pool: pool.to_string(),
                size,
                projected_at: project(&plan.with_one_more(pool), now).finish_at,
            })
        })
        .collect();
    let ids =
        |v: &[usize]| -> Vec<String> { v.iter().map(|&i| plan.nodes[i].id.clone()).collect() };
    let blocked: Vec<usize> = p
        .unfinished
        .iter()
        .copied()
        .filter(|&i| matches!(plan.nodes[i].work, super::Work::Blocked))
        .collect();
    RunForecast {
        run_id,
        pipeline: pipeline.to_string(),
        slot_at,
        deadline_at,
        projected_at: p.finish_at,
        critical_path: ids(&p.critical_path),
        blocked_by: ids(&blocked),
        guessed: ids(&plan.guessed()),
        at_risk,
        what_if,
        tz: crate::engine::serve::timezone_of(ws, pipeline),
    }
}

impl PoolWhatIf {
    /// "replica 2→3: projected 09:52", in the forecast's zone.
    pub fn text(&self, f: &RunForecast) -> String {
        let at = self.projected_at.map_or_else(
            || "cannot finish".to_string(),
            |t| format!("projected {}", hhmm_in(t, f.tz)),
        );
        format!("{} {}→{}: {at}", self.pool, self.size, self.size + 1)
    }
}

/// `Store::history_version`: finished runs, and the newest of them.
type HistoryVersion = (i64, Option<i64>);

/// Estimates per pipeline, recomputed only when its history changed. Shared
/// by the console's effects (the lock is never held across a query).
#[derive(Default)]
pub struct AtRiskWatch {
    cache: Mutex<HashMap<String, (HistoryVersion, Arc<Estimates>)>>,
}

impl AtRiskWatch {
    pub fn new() -> AtRiskWatch {
        AtRiskWatch::default()
    }

    pub async fn estimates(&self, store: &Store, pipeline: &str) -> Result<Arc<Estimates>> {
        let version = store.history_version(pipeline).await?;
        if let Some((v, e)) = self.cached(pipeline)
            && v == version
        {
            return Ok(e);
        }
        let rows = store.history(pipeline, None, HISTORY_RUNS).await?;
        let e = Arc::new(Estimates::from_rows(&rows));
        if let Ok(mut c) = self.cache.lock() {
            c.insert(pipeline.to_string(), (version, e.clone()));
        }
        Ok(e)
    }

    fn cached(&self, pipeline: &str) -> Option<(HistoryVersion, Arc<Estimates>)> {
        self.cache.lock().ok()?.get(pipeline).cloned()
    }

    /// One run's forecast now (the console's run view and pools screen).
    pub async fn forecast(
        &self,
        ws: &Workspace,
        store: &Store,
        run: &RunRow,
        rows: &[InstanceRow],
        now: i64,
    ) -> Result<RunForecast> {
        let (sizes, busy) = self.pools(store, now).await?;
        let est = self.estimates(store, &run.pipeline).await?;
        let others = busy
            .into_iter()
            .filter(|(r, _)| *r != run.id)
            .map(|(_, b)| b)
            .collect();
        Ok(forecast_run(ws, run, rows, &est, &sizes, others, now))
    }

    /// Pool sizes, and the slots other runs hold with when they free them.
    async fn pools(
        &self,
        store: &Store,
        now: i64,
    ) -> Result<(HashMap<String, i64>, Vec<(i64, Busy)>)> {
        let sizes = store
            .pools_usage()
            .await?
            .into_iter()
            .map(|p| (p.name, p.size))
            .collect();
        let mut busy = Vec::new();
        for (pipeline, i) in store.running_in_pools().await? {
            let est = self.estimates(store, &pipeline).await?;
            let e = est.for_task(&i.task_id, &i.kind);
            let until = (i.started_at.unwrap_or(now) + e.ms).max(now);
            if let Some(pool) = i.pool.clone() {
                let size = store_size_hint(&sizes, &pool);
                busy.push((
                    i.run_id,
                    Busy {
                        pool,
                        slots: i.slots.max(1).min(size.max(1)),
                        until,
                    },
                ));
            }
        }
        Ok((sizes, busy))
    }

    /// Forecasts every live run with a deadline (or only `runs`), and every
    /// held-back slot with one.
    pub async fn forecasts(
        &self,
        ws: &Workspace,
        store: &Store,
        runs: Option<&[i64]>,
        now: i64,
    ) -> Result<Vec<RunForecast>> {
        let live: Vec<RunRow> = store
            .live_runs_with_deadline()
            .await?
            .into_iter()
            .filter(|r| runs.is_none_or(|only| only.contains(&r.id)))
            .collect();
        let waiting = match runs {
            Some(_) => Vec::new(),
            None => store.waiting_slots_with_deadline(now).await?,
        };
        if live.is_empty() && waiting.is_empty() {
            return Ok(Vec::new());
        }
        let (sizes, busy) = self.pools(store, now).await?;
        let mut out = Vec::new();
        for run in &live {
            let est = self.estimates(store, &run.pipeline).await?;
            let rows = store.instances(run.id).await?;
            let others = busy
                .iter()
                .filter(|(r, _)| *r != run.id)
                .map(|(_, b)| b.clone())
                .collect();
            out.push(forecast_run(ws, run, &rows, &est, &sizes, others, now));
        }
        for slot in &waiting {
            // The run is not created yet: its newest run's tasks stand in.
            let Some(latest) = store.latest_run_of(&slot.pipeline).await? else {
                continue;
            };
            let est = self.estimates(store, &slot.pipeline).await?;
            let mut rows = store.instances(latest.id).await?;
            for r in &mut rows {
                r.state = crate::engine::state::TaskState::Pending;
            }
            let mut plan = Plan::for_run(&rows, &est, now);
            plan.pools = sizes.clone();
            plan.max_parallel = ws.max_parallel() as i64;
            plan.busy = busy.iter().map(|(_, b)| b.clone()).collect();
            plan.not_before = slot.slot_at.max(now);
            out.push(describe(
                ws,
                None,
                &slot.pipeline,
                Some(slot.slot_at),
                slot.deadline_at,
                &plan,
                now,
            ));
        }
        Ok(out)
    }

    /// One watch pass: raises `at_risk` for what newly is. Returns the
    /// forecasts it raised for.
    pub async fn raise(
        &self,
        ws: &Workspace,
        store: &Store,
        runs: Option<&[i64]>,
        now: i64,
    ) -> Result<Vec<RunForecast>> {
        let mut raised = Vec::new();
        for f in self.forecasts(ws, store, runs, now).await? {
            let (Some(projected), Some(deadline)) = (f.projected_at, f.deadline_at) else {
                continue;
            };
            // A passed deadline is `deadline_missed`'s to page.
            if !f.at_risk || deadline <= now {
                continue;
            }
            if store
                .at_risk_raised(&f.pipeline, f.run_id, f.slot_at)
                .await?
            {
                continue;
            }
            let mut tx = store.begin().await?;
            store::raise_at_risk(
                &mut tx,
                &f.pipeline,
                f.run_id,
                f.slot_at,
                &f.headline(),
                projected - deadline,
            )
            .await?;
            tx.commit().await?;
            raised.push(f);
        }
        Ok(raised)
    }
}

fn store_size_hint(sizes: &HashMap<String, i64>, pool: &str) -> i64 {
    sizes.get(pool).copied().unwrap_or(1)
}

/// A time as HH:MM in the pipeline's zone (the deadline's own terms).
fn hhmm_in(ms: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%H:%M").to_string())
        .unwrap_or_default()
}
