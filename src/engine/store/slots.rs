//! Schedule slots, deadlines to watch, and the heartbeat of `serve`
//! processes. A slot's primary key (pipeline, slot time) is what lets any
//! number of `serve` processes share a store and start each slot once.

use anyhow::Result;
use serde::Serialize;
use sqlx::Row;

use super::{Store, Tx, now_ms};

/// A `serve` whose heartbeat is older than this is gone.
pub const SERVER_STALE_MS: i64 = 10_000;
/// Deadlines older than this are no longer watched (nor alerted late).
const WATCH_WINDOW_MS: i64 = 3 * 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    /// Its run was created.
    Started,
    /// Its run could not be created (a live run of that date, a bad plan).
    Refused,
    /// Passed over by the catchup rule.
    Skipped,
}

impl SlotState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlotState::Started => "started",
            SlotState::Refused => "refused",
            SlotState::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotRow {
    pub pipeline: String,
    pub slot_at: i64,
    pub run_date: String,
    pub state: String,
    pub run_id: Option<i64>,
    pub deadline_at: Option<i64>,
    pub detail: Option<String>,
}

/// Claims a slot. False when another `serve` already did (nothing written).
pub async fn claim_slot(
    tx: &mut Tx,
    pipeline: &str,
    slot_at: i64,
    run_date: &str,
    state: SlotState,
    deadline_at: Option<i64>,
    detail: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO slots (pipeline, slot_at, run_date, state, deadline_at, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (pipeline, slot_at) DO NOTHING",
    )
    .bind(pipeline)
    .bind(slot_at)
    .bind(run_date)
    .bind(state.as_str())
    .bind(deadline_at)
    .bind(detail)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ties a started slot to its run, and gives the run its slot and deadline.
pub async fn attach_slot_run(tx: &mut Tx, pipeline: &str, slot_at: i64, run_id: i64) -> Result<()> {
    sqlx::query("UPDATE slots SET run_id = $1 WHERE pipeline = $2 AND slot_at = $3")
        .bind(run_id)
        .bind(pipeline)
        .bind(slot_at)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE runs SET slot_at = $1 WHERE id = $2")
        .bind(slot_at)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a run's deadline and its tasks' own (`(task, at)` pairs).
pub async fn set_deadlines(
    tx: &mut Tx,
    run_id: i64,
    run_deadline: Option<i64>,
    tasks: &[(String, i64)],
) -> Result<()> {
    sqlx::query("UPDATE runs SET deadline_at = $1 WHERE id = $2")
        .bind(run_deadline)
        .bind(run_id)
        .execute(&mut **tx)
        .await?;
    for (task, at) in tasks {
        sqlx::query(
            "UPDATE task_instances SET deadline_at = $1 WHERE run_id = $2 AND task_id = $3",
        )
        .bind(at)
        .bind(run_id)
        .bind(task)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Something with a deadline that has passed and has not succeeded by then.
#[derive(Debug, Clone, PartialEq)]
pub struct Overdue {
    pub pipeline: String,
    pub run_id: Option<i64>,
    pub slot_at: Option<i64>,
    /// A task's own deadline; None for the run's (or the slot's).
    pub task_id: Option<String>,
    pub deadline_at: i64,
}

impl Store {
    /// The newest slot recorded for a pipeline: where its schedule resumes.
    pub async fn last_slot(&self, pipeline: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(slot_at) FROM slots WHERE pipeline = $1")
                .bind(pipeline)
                .fetch_one(self.pool())
                .await?,
        )
    }

    pub async fn slots(&self, pipeline: &str, limit: i64) -> Result<Vec<SlotRow>> {
        let rows = sqlx::query(
            "SELECT pipeline, slot_at, run_date, state, run_id, deadline_at, detail FROM slots WHERE pipeline = $1 ORDER BY slot_at DESC LIMIT $2",
        )
        .bind(pipeline)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(slot_from_row).collect()
    }

    /// Deadlines passed by `now` without success by then, and not yet alerted:
    /// runs, tasks with their own deadline, and slots whose run never started.
    pub async fn overdue(&self, now: i64) -> Result<Vec<Overdue>> {
        let mut out = Vec::new();
        let runs = sqlx::query(
            "SELECT r.id, r.pipeline, r.slot_at, r.deadline_at FROM runs r \
             WHERE r.deadline_at IS NOT NULL AND r.deadline_at <= $1 AND r.deadline_at > $2 \
             AND NOT (r.state = 'succeeded' AND r.finished_at <= r.deadline_at) \
             AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.run_id = r.id AND a.kind = 'deadline_missed' AND a.task_id IS NULL)",
        )
        .bind(now)
        .bind(now - WATCH_WINDOW_MS)
        .fetch_all(self.pool())
        .await?;
        for r in runs {
            out.push(Overdue {
                pipeline: r.try_get("pipeline")?,
                run_id: Some(r.try_get("id")?),
                slot_at: r.try_get("slot_at")?,
                task_id: None,
                deadline_at: r.try_get("deadline_at")?,
            });
        }
        let tasks = sqlx::query(
            "SELECT t.run_id, t.task_id, t.deadline_at, r.pipeline, r.slot_at FROM task_instances t JOIN runs r ON r.id = t.run_id \
             WHERE t.deadline_at IS NOT NULL AND t.deadline_at <= $1 AND t.deadline_at > $2 \
             AND NOT (t.state IN ('succeeded', 'skipped') AND t.finished_at <= t.deadline_at) \
             AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.run_id = t.run_id AND a.kind = 'deadline_missed' AND a.task_id = t.task_id)",
        )
        .bind(now)
        .bind(now - WATCH_WINDOW_MS)
        .fetch_all(self.pool())
        .await?;
        for r in tasks {
            out.push(Overdue {
                pipeline: r.try_get("pipeline")?,
                run_id: Some(r.try_get("run_id")?),
                slot_at: r.try_get("slot_at")?,
                task_id: Some(r.try_get("task_id")?),
                deadline_at: r.try_get("deadline_at")?,
            });
        }
        let slots = sqlx::query(
            "SELECT s.pipeline, s.slot_at, s.deadline_at FROM slots s \
             WHERE s.run_id IS NULL AND s.state = 'refused' AND s.deadline_at IS NOT NULL AND s.deadline_at <= $1 AND s.deadline_at > $2 \
             AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.run_id IS NULL AND a.pipeline = s.pipeline AND a.slot_at = s.slot_at AND a.kind = 'deadline_missed')",
        )
        .bind(now)
        .bind(now - WATCH_WINDOW_MS)
        .fetch_all(self.pool())
        .await?;
        for r in slots {
            out.push(Overdue {
                pipeline: r.try_get("pipeline")?,
                run_id: None,
                slot_at: Some(r.try_get("slot_at")?),
                task_id: None,
                deadline_at: r.try_get("deadline_at")?,
            });
        }
        Ok(out)
    }

    /// Slots held back (refused) whose deadline has not passed: work not
    /// started that the forecast also watches.
    pub async fn waiting_slots_with_deadline(&self, now: i64) -> Result<Vec<SlotRow>> {
        let rows = sqlx::query(
            "SELECT pipeline, slot_at, run_date, state, run_id, deadline_at, detail FROM slots WHERE run_id IS NULL AND state = 'refused' AND deadline_at IS NOT NULL AND deadline_at > $1 ORDER BY slot_at",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(slot_from_row).collect()
    }

    /// Runs of a pipeline's slots still live (catchup = "all" keeps to max_active).
    pub async fn live_slot_runs(&self, pipeline: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM runs WHERE pipeline = $1 AND slot_at IS NOT NULL AND state IN ('queued', 'running')",
        )
        .bind(pipeline)
        .fetch_one(self.pool())
        .await?)
    }

    /// Does the pipeline have a live run for `run_date`?
    pub async fn live_run_of(&self, pipeline: &str, run_date: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM runs WHERE pipeline = $1 AND run_date = $2 AND state IN ('queued', 'running')",
        )
        .bind(pipeline)
        .bind(run_date)
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }

    /// Records that a `serve` process is alive.
    pub async fn serve_heartbeat(
        &self,
        token: &str,
        host: &str,
        pid: i64,
        started: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO servers (token, host, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (token) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(token)
        .bind(host)
        .bind(pid)
        .bind(started)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A `serve` stopping cleanly says so at once.
    pub async fn serve_gone(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM servers WHERE token = $1")
            .bind(token)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Is any `serve` alive (by heartbeat)?
    pub async fn serve_alive(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM servers WHERE heartbeat_at >= $1")
            .bind(now_ms() - SERVER_STALE_MS)
            .fetch_one(self.pool())
            .await?;
        Ok(n > 0)
    }

    /// A task's own deadline in a run.
    pub async fn task_deadline(&self, run_id: i64, task_id: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT deadline_at FROM task_instances WHERE run_id = $1 AND task_id = $2",
        )
        .bind(run_id)
        .bind(task_id)
        .fetch_optional(self.pool())
        .await?
        .flatten())
    }
}

pub(super) fn slot_from_row(r: &super::Row) -> Result<SlotRow> {
    Ok(SlotRow {
        pipeline: r.try_get("pipeline")?,
        slot_at: r.try_get("slot_at")?,
        run_date: r.try_get("run_date")?,
        state: r.try_get("state")?,
        run_id: r.try_get("run_id")?,
        deadline_at: r.try_get("deadline_at")?,
        detail: r.try_get("detail")?,
    })
}
