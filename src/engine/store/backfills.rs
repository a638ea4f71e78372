//! Backfills: one row per `switchyard backfill` (or the console's form), its
//! runs tied to it by `runs.backfill_id`.

use super::Row as AnyRow;
use anyhow::{Result, bail};
use serde::Serialize;
use sqlx::Row;

use super::{RunRow, Store, Tx, now_ms};
use crate::engine::state::TaskState;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackfillRow {
    pub id: i64,
    pub pipeline: String,
    pub from_date: String,
    pub to_date: String,
    pub max_active: i64,
    pub created_at: i64,
}

/// One run of a backfill with how many of its tasks are in each state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackfillRun {
    pub run: RunRow,
    pub counts: Vec<(TaskState, i64)>,
}

fn backfill_from_row(r: &AnyRow) -> Result<BackfillRow> {
    Ok(BackfillRow {
        id: r.try_get("id")?,
        pipeline: r.try_get("pipeline")?,
        from_date: r.try_get("from_date")?,
        to_date: r.try_get("to_date")?,
        max_active: r.try_get("max_active")?,
        created_at: r.try_get("created_at")?,
    })
}

const COLS: &str = "id, pipeline, from_date, to_date, max_active, created_at";

impl Store {
    /// Newest first.
    pub async fn backfills(&self, limit: i64) -> Result<Vec<BackfillRow>> {
        let sql = format!("SELECT {COLS} FROM backfills ORDER BY id DESC LIMIT $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(backfill_from_row).collect()
    }

    pub async fn backfill(&self, id: i64) -> Result<BackfillRow> {
        let sql = format!("SELECT {COLS} FROM backfills WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => backfill_from_row(&r),
            None => bail!("no backfill {id}"),
        }
    }

    /// The runs of a backfill by date, each with its task counts per state.
    pub async fn backfill_runs(&self, id: i64) -> Result<Vec<BackfillRun>> {
        let runs = self.runs_of_backfill(id).await?;
        let rows = sqlx::query(
            "SELECT ti.run_id, ti.state, COUNT(*) AS n FROM task_instances ti \
             JOIN runs r ON r.id = ti.run_id WHERE r.backfill_id = $1 \
             GROUP BY ti.run_id, ti.state",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<BackfillRun> = runs
            .into_iter()
            .map(|run| BackfillRun {
                run,
                counts: Vec::new(),
            })
            .collect();
        for r in &rows {
            let run_id: i64 = r.try_get("run_id")?;
            let state: TaskState = r
                .try_get::<String, _>("state")?
                .parse()
                .map_err(anyhow::Error::msg)?;
            let n: i64 = r.try_get("n")?;
            if let Some(b) = out.iter_mut().find(|b| b.run.id == run_id) {
                b.counts.push((state, n));
            }
        }
        Ok(out)
    }
}

/// Records a backfill of `pipeline` over `from ..= to`; returns its id.
pub async fn insert_backfill(
    tx: &mut Tx,
    pipeline: &str,
    (from, to): (&str, &str),
    max_active: u32,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO backfills (pipeline, from_date, to_date, max_active, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(pipeline)
    .bind(from)
    .bind(to)
    .bind(i64::from(max_active))
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?)
}
