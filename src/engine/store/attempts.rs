//! Attempts: one row per try of a task instance, with the process it
//! started (so a taker can kill what a dead owner left) and how it ended.

use anyhow::Result;
use serde::Serialize;
use sqlx::Row;

use super::Row as AnyRow;
use super::runs::{BATCH_ROWS, parse_state};
use super::{Store, Tx, now_ms};
use crate::engine::state::TaskState;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRow {
    pub attempt: i64,
    pub state: TaskState,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub exit_code: Option<i64>,
    pub host: Option<String>,
    pub pid: Option<i64>,
    pub pgid: Option<i64>,
    pub proc_start: Option<i64>,
}

/// `insert_attempt` for many instances of one run at once.
pub async fn insert_attempts(
    tx: &mut Tx,
    run_id: i64,
    attempts: &[(&str, i64)],
    host: &str,
) -> Result<()> {
    let now = now_ms();
    for chunk in attempts.chunks(BATCH_ROWS) {
        let sql = format!(
            "INSERT INTO attempts (run_id, task_id, attempt, state, started_at, host) VALUES {}",
            super::values_rows(chunk.len(), 6)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (task_id, attempt) in chunk {
            q = q
                .bind(run_id)
                .bind(task_id.to_string())
                .bind(*attempt)
                .bind("running")
                .bind(now)
                .bind(host.to_string());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// How an attempt ended, for `finish_attempts`.
pub struct AttemptEnd<'a> {
    pub task_id: &'a str,
    pub attempt: i64,
    pub state: TaskState,
    pub error: Option<&'a str>,
    pub exit_code: Option<i64>,
}

/// `finish_attempt` for many attempts of one run at once.
pub async fn finish_attempts(tx: &mut Tx, run_id: i64, ends: &[AttemptEnd<'_>]) -> Result<()> {
    let now = now_ms();
    for chunk in ends.chunks(BATCH_ROWS) {
        let sql = format!(
            "UPDATE attempts SET state = v.column1, finished_at = v.column2, error = v.column3, \
             exit_code = COALESCE(v.column4, attempts.exit_code) \
             FROM (VALUES {}) AS v \
             WHERE attempts.run_id = v.column5 AND attempts.task_id = v.column6 AND attempts.attempt = v.column7",
            super::values_rows(chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            q = q
                .bind(e.state.as_str())
                .bind(now)
                .bind(e.error.map(str::to_string))
                .bind(e.exit_code)
                .bind(run_id)
                .bind(e.task_id.to_string())
                .bind(e.attempt);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn insert_attempt(
    tx: &mut Tx,
    run_id: i64,
    task_id: &str,
    attempt: i64,
    host: &str,
) -> Result<()> {
    insert_attempts(tx, run_id, &[(task_id, attempt)], host).await
}

pub async fn finish_attempt(
    tx: &mut Tx,
    run_id: i64,
    task_id: &str,
    attempt: i64,
    state: TaskState,
    error: Option<&str>,
    exit_code: Option<i64>,
) -> Result<()> {
    let end = AttemptEnd {
        task_id,
        attempt,
        state,
        error,
        exit_code,
    };
    finish_attempts(tx, run_id, &[end]).await
}

pub(super) fn attempt_from_row(r: &AnyRow) -> Result<AttemptRow> {
    Ok(AttemptRow {
        attempt: r.try_get("attempt")?,
        state: parse_state(r.try_get("state")?)?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        error: r.try_get("error")?,
        exit_code: r.try_get("exit_code")?,
        host: r.try_get("host")?,
        pid: r.try_get("pid")?,
        pgid: r.try_get("pgid")?,
        proc_start: r.try_get("proc_start")?,
    })
}

/// Attempts still marked running in a run (for the reaper).
pub async fn running_attempts_in(tx: &mut Tx, run_id: i64) -> Result<Vec<(String, AttemptRow)>> {
    let rows = sqlx::query("SELECT * FROM attempts WHERE run_id = $1 AND state = 'running'")
        .bind(run_id)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("task_id")?, attempt_from_row(r)?)))
        .collect()
}

/// Whether the attempt is still running. What an attempt writes by itself
/// (log lines, its process, its exit code) is written only while it is: an
/// owner that lost its run (taken over while it was cut off or frozen, the
/// attempt marked `interrupted`) writes nothing more into it.
pub(super) async fn attempt_running(
    tx: &mut Tx,
    run_id: i64,
    task_id: &str,
    attempt: i64,
) -> Result<bool> {
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM attempts WHERE run_id = $1 AND task_id = $2 AND attempt = $3",
    )
    .bind(run_id)
    .bind(task_id)
    .bind(attempt)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(state.as_deref() == Some("running"))
}

impl Store {
    pub async fn attempts(&self, run_id: i64, task_id: &str) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(
            "SELECT * FROM attempts WHERE run_id = $1 AND task_id = $2 ORDER BY attempt",
        )
        .bind(run_id)
        .bind(task_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    /// Records the process an attempt started, so a process that takes over
    /// after its owner died can kill what it left behind.
    pub async fn record_attempt_process(
        &self,
        run_id: i64,
        task_id: &str,
        attempt: i64,
        pid: i64,
        proc_start: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE attempts SET pid = $1, pgid = $2, proc_start = $3 WHERE run_id = $4 AND task_id = $5 AND attempt = $6 AND state = 'running'",
        )
        .bind(pid)
        .bind(pid)
        .bind(proc_start)
        .bind(run_id)
        .bind(task_id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn record_exit_code(
        &self,
        run_id: i64,
        task_id: &str,
        attempt: i64,
        code: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE attempts SET exit_code = $1 WHERE run_id = $2 AND task_id = $3 AND attempt = $4 AND state = 'running'",
        )
        .bind(code)
        .bind(run_id)
        .bind(task_id)
        .bind(attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
