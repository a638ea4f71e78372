//! What past runs took: the rows duration history, the forecast and the
//! console's sparklines are computed from (`engine::history`).

use anyhow::Result;
use sqlx::Row;

use super::{Store, runs::parse_state};
use crate::engine::state::TaskState;

/// One instance of one past (or current) run, as far as it got.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub run_id: i64,
    pub run_date: String,
    pub task_id: String,
    pub kind: String,
    pub state: TaskState,
    /// Attempts made in that run (retries included).
    pub attempts: i64,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    /// The last attempt's start and end.
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl Store {
    /// Every instance of the last `runs` runs of `pipeline` (oldest run
    /// first), optionally of one task (an `export_all` parent also brings
    /// its tables, `TASK.schema.table`).
    pub async fn history(
        &self,
        pipeline: &str,
        task: Option<&str>,
        runs: i64,
    ) -> Result<Vec<HistoryRow>> {
        let rows = sqlx::query(
            "SELECT i.run_id, r.run_date, i.task_id, i.kind, i.state, i.attempt, i.rows_done, i.bytes_done, i.started_at, i.finished_at \
             FROM task_instances i JOIN runs r ON r.id = i.run_id \
             WHERE i.run_id IN (SELECT id FROM runs WHERE pipeline = $1 ORDER BY id DESC LIMIT $2) \
             AND ($3 = '' OR i.task_id = $4 OR i.task_id LIKE $5) \
             ORDER BY i.run_id, i.ord",
        )
        .bind(pipeline)
        .bind(runs.max(0))
        .bind(task.unwrap_or(""))
        .bind(task.unwrap_or(""))
        .bind(format!("{}.%", task.unwrap_or("")))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryRow {
                    run_id: r.try_get("run_id")?,
                    run_date: r.try_get("run_date")?,
                    task_id: r.try_get("task_id")?,
                    kind: r.try_get("kind")?,
                    state: parse_state(r.try_get("state")?)?,
                    attempts: r.try_get("attempt")?,
                    rows: r.try_get("rows_done")?,
                    bytes: r.try_get("bytes_done")?,
                    started_at: r.try_get("started_at")?,
                    finished_at: r.try_get("finished_at")?,
                })
            })
            .collect()
    }

    /// A cheap fingerprint of a pipeline's finished history (how many runs
    /// finished, and the newest): estimates are recomputed when it changes.
    pub async fn history_version(&self, pipeline: &str) -> Result<(i64, Option<i64>)> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(id) AS newest FROM runs WHERE pipeline = $1 AND finished_at IS NOT NULL",
        )
        .bind(pipeline)
        .fetch_one(self.pool())
        .await?;
        Ok((r.try_get("n")?, r.try_get("newest")?))
    }
}
