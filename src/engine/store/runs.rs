//! Runs and task instances (attempts: `attempts.rs`).

use super::Row as AnyRow;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use sqlx::Row;

use super::{Store, Tx, now_ms};
use crate::engine::state::{RunState, TaskState};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lease {
    pub token: String,
    pub pid: i64,
    pub host: String,
    pub started: Option<i64>,
    pub heartbeat_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub pipeline: String,
    pub run_date: String,
    pub state: RunState,
    pub backfill_id: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub owner: Option<Lease>,
    pub note: Option<String>,
    /// The schedule slot the run is for (None: started by hand).
    pub slot_at: Option<i64>,
    /// When it must have succeeded (the pipeline's `deadline`).
    pub deadline_at: Option<i64>,
}

impl RunRow {
    /// How late the run is (or was) against its deadline, if it is.
    pub fn late_ms(&self, now: i64) -> Option<i64> {
        let deadline = self.deadline_at?;
        let done_at = match self.state {
            RunState::Succeeded => self.finished_at.unwrap_or(now),
            _ => now,
        };
        (done_at > deadline).then_some(done_at - deadline)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceRow {
    pub run_id: i64,
    pub task_id: String,
    pub kind: String,
    pub state: TaskState,
    pub attempt: i64,
    pub retry_base: i64,
    pub pool: Option<String>,
    pub slots: i64,
    pub upstream: Vec<String>,
    pub ord: i64,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    pub total_estimate: Option<i64>,
    pub error: Option<String>,
    pub waiting_on: Option<String>,
    pub next_try_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
    pub cancel_requested: bool,
    /// See `NewInstance::params`.
    pub params: Option<serde_json::Value>,
    /// When it last became `queued` (pool fairness across processes).
    pub queued_at: Option<i64>,
}

/// How a queued instance's `waiting_on` names the pool it waits on; readers
/// add the live count ("pool replica 4/4") when they show it.
const POOL_WAIT: &str = "pool ";

impl InstanceRow {
    /// The `waiting_on` of an instance queued for a slot of `pool`.
    pub fn pool_wait(pool: &str) -> String {
        format!("{POOL_WAIT}{pool}")
    }

    /// The pool this instance waits on for a slot, if it is queued for one.
    pub fn waiting_for_pool(&self) -> Option<&str> {
        if self.state != TaskState::Queued {
            return None;
        }
        self.waiting_on.as_deref()?.strip_prefix(POOL_WAIT)
    }
}

/// One instance of a new run, as planned from the workspace.
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub task_id: String,
    pub kind: crate::config::TaskKind,
    pub pool: Option<String>,
    pub slots: i64,
    pub upstream: Vec<String>,
    /// For instances that are not a workspace task as such: one table of an
    /// `export_all` (`{"parent", "schema", "table"}`), or an ad-hoc export or
    /// load (`{"def": TaskDef}`).
    pub params: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "pipeline `{pipeline}` already has a live run for {run_date} (run {run_id}); wait for it, cancel it, or rerun it"
)]
pub struct LiveRunExists {
    pub pipeline: String,
    pub run_date: String,
    pub run_id: i64,
}

pub(super) fn parse_state<T: std::str::FromStr<Err = String>>(s: String) -> Result<T> {
    s.parse::<T>().map_err(anyhow::Error::msg)
}

pub(super) fn run_from_row(r: &AnyRow) -> Result<RunRow> {
    let owner = match r.try_get::<Option<String>, _>("owner_token")? {
        Some(token) => Some(Lease {
            token,
            pid: r.try_get::<Option<i64>, _>("owner_pid")?.unwrap_or(0),
            host: r
                .try_get::<Option<String>, _>("owner_host")?
                .unwrap_or_default(),
            started: r.try_get("owner_started")?,
            heartbeat_at: r.try_get::<Option<i64>, _>("heartbeat_at")?.unwrap_or(0),
        }),
        None => None,
    };
    Ok(RunRow {
        id: r.try_get("id")?,
        pipeline: r.try_get("pipeline")?,
        run_date: r.try_get("run_date")?,
        state: parse_state(r.try_get("state")?)?,
        backfill_id: r.try_get("backfill_id")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        owner,
        note: r.try_get("note")?,
        slot_at: r.try_get("slot_at")?,
        deadline_at: r.try_get("deadline_at")?,
    })
}

fn instance_from_row(r: &AnyRow) -> Result<InstanceRow> {
    let upstream: String = r.try_get("upstream")?;
    Ok(InstanceRow {
        run_id: r.try_get("run_id")?,
        task_id: r.try_get("task_id")?,
        kind: r.try_get("kind")?,
        state: parse_state(r.try_get("state")?)?,
        attempt: r.try_get("attempt")?,
        retry_base: r.try_get("retry_base")?,
        pool: r.try_get("pool")?,
        slots: r.try_get("slots")?,
        upstream: serde_json::from_str(&upstream).context("corrupt upstream list")?,
        ord: r.try_get("ord")?,
        rows: r.try_get("rows_done")?,
        bytes: r.try_get("bytes_done")?,
        total_estimate: r.try_get("total_estimate")?,
        error: r.try_get("error")?,
        waiting_on: r.try_get("waiting_on")?,
        next_try_at: r.try_get("next_try_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        updated_at: r.try_get("updated_at")?,
        cancel_requested: r.try_get::<i64, _>("cancel_requested")? != 0,
        params: r
            .try_get::<Option<String>, _>("params")?
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .context("corrupt instance params")?,
        queued_at: r.try_get("queued_at")?,
    })
}

pub(super) const RUN_COLS: &str = "id, pipeline, run_date, state, backfill_id, created_at, started_at, finished_at, owner_token, owner_pid, owner_host, owner_started, heartbeat_at, note, slot_at, deadline_at";

/// Creates a run with its instances, all `pending`. Refuses a second live run
/// of the same pipeline and date (the store's unique index is the last word).
pub async fn create_run(
    tx: &mut Tx,
    pipeline: &str,
    run_date: &str,
    state: RunState,
    backfill_id: Option<i64>,
    instances: &[NewInstance],
) -> Result<i64> {
    if let Some(existing) = live_run_for(tx, pipeline, run_date).await? {
        return Err(LiveRunExists {
            pipeline: pipeline.into(),
            run_date: run_date.into(),
            run_id: existing,
        }
        .into());
    }
    let now = now_ms();
    let started = (state == RunState::Running).then_some(now);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO runs (pipeline, run_date, state, backfill_id, created_at, started_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(pipeline)
    .bind(run_date)
    .bind(state.as_str())
    .bind(backfill_id)
    .bind(now)
    .bind(started)
    .fetch_one(&mut **tx)
    .await?;
    // One statement per 100 instances: a run of 10,000 tasks is created in
    // a hundred round trips, not ten thousand.
    let rows: Vec<(usize, &NewInstance)> = instances.iter().enumerate().collect();
    for chunk in rows.chunks(BATCH_ROWS) {
        let sql = format!(
            "INSERT INTO task_instances (run_id, task_id, kind, state, pool, slots, upstream, ord, waiting_on, updated_at, params) VALUES {}",
            super::values_rows(chunk.len(), 11)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (ord, inst) in chunk {
            let waiting = if inst.upstream.is_empty() {
                None
            } else {
                Some(format!("waiting on {}", inst.upstream.join(", ")))
            };
            q = q
                .bind(id)
                .bind(inst.task_id.clone())
                .bind(inst.kind.name())
                .bind("pending")
                .bind(inst.pool.clone())
                .bind(inst.slots)
                .bind(serde_json::to_string(&inst.upstream)?)
                .bind(*ord as i64)
                .bind(waiting)
                .bind(now)
                .bind(inst.params.as_ref().map(|p| p.to_string()));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(id)
}

pub async fn live_run_for(tx: &mut Tx, pipeline: &str, run_date: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM runs WHERE pipeline = $1 AND run_date = $2 AND state IN ('queued', 'running')",
    )
    .bind(pipeline)
    .bind(run_date)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn run_in(tx: &mut Tx, id: i64) -> Result<RunRow> {
    let sql = format!("SELECT {RUN_COLS} FROM runs WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(r) => run_from_row(&r),
        None => bail!("no run {id}"),
    }
}

pub async fn instances_in(tx: &mut Tx, run_id: i64) -> Result<Vec<InstanceRow>> {
    let rows = sqlx::query("SELECT * FROM task_instances WHERE run_id = $1 ORDER BY ord")
        .bind(run_id)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(instance_from_row).collect()
}

/// Writes every mutable column of an instance.
pub async fn save_instance(tx: &mut Tx, i: &InstanceRow) -> Result<()> {
    save_instances(tx, &[i]).await
}

/// Rows per batched statement: 17 values each, well under PostgreSQL's
/// 65,535 bound values and SQLite's 32,766.
pub(super) const BATCH_ROWS: usize = 100;

/// `save_instance` for many instances at once: one UPDATE per 100 rows,
/// joined with the new values as a `VALUES` list (both backends name its
/// columns `column1`, `column2`, …). A scheduler step writes every instance
/// it changed with one statement.
pub async fn save_instances(tx: &mut Tx, rows: &[&InstanceRow]) -> Result<()> {
    for chunk in rows.chunks(BATCH_ROWS) {
        let sql = format!(
            "UPDATE task_instances SET state = v.column1, attempt = v.column2, retry_base = v.column3, \
             rows_done = v.column4, bytes_done = v.column5, total_estimate = v.column6, \
             error = v.column7, waiting_on = v.column8, next_try_at = v.column9, \
             started_at = v.column10, finished_at = v.column11, updated_at = v.column12, \
             cancel_requested = v.column13, queued_at = v.column14, slots = v.column15 \
             FROM (VALUES {}) AS v \
             WHERE task_instances.run_id = v.column16 AND task_instances.task_id = v.column17",
            super::values_rows(chunk.len(), 17)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in chunk {
            q = q
                .bind(i.state.as_str())
                .bind(i.attempt)
                .bind(i.retry_base)
                .bind(i.rows)
                .bind(i.bytes)
                .bind(i.total_estimate)
                .bind(i.error.clone())
                .bind(i.waiting_on.clone())
                .bind(i.next_try_at)
                .bind(i.started_at)
                .bind(i.finished_at)
                .bind(i.updated_at)
                .bind(i64::from(i.cancel_requested))
                .bind(i.queued_at)
                .bind(i.slots)
                .bind(i.run_id)
                .bind(i.task_id.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn set_run_state(tx: &mut Tx, id: i64, state: RunState) -> Result<()> {
    let now = now_ms();
    let finished = (!state.is_live()).then_some(now);
    sqlx::query(
        "UPDATE runs SET state = $1, finished_at = $2, started_at = CASE WHEN $3 = 'running' THEN COALESCE(started_at, $4) ELSE started_at END WHERE id = $5",
    )
    .bind(state.as_str())
    .bind(finished)
    .bind(state.as_str())
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    // In the same transaction: a mark moves exactly when its run succeeds.
    if state == RunState::Succeeded {
        super::advance_marks(tx, id).await?;
    }
    Ok(())
}

impl Store {
    pub async fn run(&self, id: i64) -> Result<RunRow> {
        let sql = format!("SELECT {RUN_COLS} FROM runs WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => run_from_row(&r),
            None => bail!("no run {id} (see `switchyard status`)"),
        }
    }

    /// Resolves `latest` or a number to a run id.
    pub async fn resolve_run(&self, spec: &str) -> Result<i64> {
        if spec == "latest" {
            let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM runs")
                .fetch_one(&self.pool)
                .await?;
            return id.ok_or_else(|| anyhow::anyhow!("there are no runs yet"));
        }
        let id: i64 = spec
            .parse()
            .map_err(|_| anyhow::anyhow!("`{spec}` is not a run id (a number, or `latest`)"))?;
        self.run(id).await?;
        Ok(id)
    }

    /// Newest first.
    pub async fn runs(&self, limit: i64) -> Result<Vec<RunRow>> {
        let sql = format!("SELECT {RUN_COLS} FROM runs ORDER BY id DESC LIMIT $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    pub async fn runs_of_backfill(&self, backfill_id: i64) -> Result<Vec<RunRow>> {
        let sql = format!("SELECT {RUN_COLS} FROM runs WHERE backfill_id = $1 ORDER BY run_date");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(backfill_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Runs whose lease is held (live or not): the reaper's candidates.
    /// The newest run of a pipeline.
    pub async fn latest_run_of(&self, pipeline: &str) -> Result<Option<RunRow>> {
        let sql =
            format!("SELECT {RUN_COLS} FROM runs WHERE pipeline = $1 ORDER BY id DESC LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pipeline)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    pub async fn owned_runs(&self) -> Result<Vec<RunRow>> {
        let sql = format!("SELECT {RUN_COLS} FROM runs WHERE owner_token IS NOT NULL");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    pub async fn instances(&self, run_id: i64) -> Result<Vec<InstanceRow>> {
        let rows = sqlx::query("SELECT * FROM task_instances WHERE run_id = $1 ORDER BY ord")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(instance_from_row).collect()
    }

    /// Live runs with a deadline: what the forecast watches.
    pub async fn live_runs_with_deadline(&self) -> Result<Vec<RunRow>> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM runs WHERE state IN ('queued', 'running') AND deadline_at IS NOT NULL ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Attempts running in a pool, with their run's pipeline: the slots
    /// other runs hold while the forecast simulates one.
    pub async fn running_in_pools(&self) -> Result<Vec<(String, InstanceRow)>> {
        let rows = sqlx::query(
            "SELECT i.*, r.pipeline AS run_pipeline FROM task_instances i JOIN runs r ON r.id = i.run_id WHERE i.state = 'running' AND i.pool IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("run_pipeline")?, instance_from_row(r)?)))
            .collect()
    }

    pub async fn instance(&self, run_id: i64, task_id: &str) -> Result<InstanceRow> {
        let row = sqlx::query("SELECT * FROM task_instances WHERE run_id = $1 AND task_id = $2")
            .bind(run_id)
            .bind(task_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => instance_from_row(&r),
            None => bail!("run {run_id} has no task `{task_id}`"),
        }
    }
}

/// Moves a task that is not running to `pool` with `slots` (a rerun counts
/// it where the workspace file says now).
pub async fn repool_instance(
    tx: &mut Tx,
    run_id: i64,
    task_id: &str,
    pool: Option<&str>,
    slots: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE task_instances SET pool = $1, slots = $2 WHERE run_id = $3 AND task_id = $4 AND state <> 'running' AND (pool IS DISTINCT FROM $5 OR slots <> $6)",
    )
    .bind(pool)
    .bind(slots)
    .bind(run_id)
    .bind(task_id)
    .bind(pool)
    .bind(slots)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
