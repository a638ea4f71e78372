//! Incremental exports in the store: the range each export read in a run
//! (`export_ranges`, written with the attempt's completion, so under the
//! run's lease) and the high-water mark per task (`export_marks`), which
//! moves only when a run succeeds: the mark a run starts from is always the
//! one whose file was loaded, so a failed run's rows are read again.
//!
//! Values are text (`connectors::source::mark`), compared in Rust so both
//! backends order them the same way.

use anyhow::Result;
use serde::Serialize;
use sqlx::Row;

use super::{Store, Tx, now_ms};
use crate::connectors::source::mark::{Mark, MarkKind, later};

/// What one incremental export read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRange {
    pub column: String,
    /// `integer`, `timestamp` or `local_timestamp` (see `MarkKind`).
    pub kind: String,
    /// Rows above this were read; None: from the first row.
    pub above: Option<String>,
    /// The largest value read; None: no row was read.
    pub through: Option<String>,
    pub rows: i64,
    /// False for a range given by hand (`export --since`): it moves no mark.
    pub advances: bool,
}

/// A task's high-water mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportMark {
    pub column: String,
    pub kind: String,
    pub mark: String,
    /// The run that moved it there.
    pub run_id: i64,
}

/// Where an incremental export attempt starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportStart {
    /// This run read the task before (an earlier attempt, a rerun): from the
    /// same lower bound again.
    Again(ExportRange),
    /// The task's mark: the last run that succeeded read up to it.
    Mark(ExportMark),
    /// No run read it yet.
    First,
}

pub async fn record_export_range(
    tx: &mut Tx,
    run_id: i64,
    pipeline: &str,
    task_id: &str,
    r: &ExportRange,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO export_ranges (run_id, task_id, pipeline, column_name, kind, above, through, rows, advances, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (run_id, task_id) DO UPDATE SET column_name = excluded.column_name, kind = excluded.kind, \
         above = excluded.above, through = excluded.through, rows = excluded.rows, \
         advances = excluded.advances, recorded_at = excluded.recorded_at",
    )
    .bind(run_id)
    .bind(task_id.to_string())
    .bind(pipeline.to_string())
    .bind(r.column.clone())
    .bind(r.kind.clone())
    .bind(r.above.clone())
    .bind(r.through.clone())
    .bind(r.rows)
    .bind(i64::from(r.advances))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A run succeeded: each mark its exports read moves up to what they read
/// (never down: an older run rerun late does not undo a newer one's mark).
pub async fn advance_marks(tx: &mut Tx, run_id: i64) -> Result<()> {
    let ranges = sqlx::query(
        "SELECT pipeline, task_id, column_name, kind, through FROM export_ranges \
         WHERE run_id = $1 AND advances = 1 AND through IS NOT NULL",
    )
    .bind(run_id)
    .fetch_all(&mut **tx)
    .await?;
    for r in ranges {
        let (pipeline, task_id): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let (column, kind, through): (String, String, String) =
            (r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
        let Some(new) = parse(&kind, &through) else {
            continue;
        };
        let old = mark_in(tx, &pipeline, &task_id).await?;
        let old_mark = old
            .as_ref()
            .filter(|o| o.column == column)
            .and_then(|o| parse(&o.kind, &o.mark));
        let Some(next) = later(old_mark, Some(new)) else {
            continue;
        };
        if old_mark == Some(next) {
            continue;
        }
        sqlx::query(
            "INSERT INTO export_marks (pipeline, task_id, column_name, kind, mark, run_id, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (pipeline, task_id) DO UPDATE SET column_name = excluded.column_name, \
             kind = excluded.kind, mark = excluded.mark, run_id = excluded.run_id, updated_at = excluded.updated_at",
        )
        .bind(pipeline)
        .bind(task_id)
        .bind(column)
        .bind(next.kind.name().to_string())
        .bind(next.text())
        .bind(run_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn parse(kind: &str, text: &str) -> Option<Mark> {
    Mark::parse(MarkKind::parse_name(kind)?, text).ok()
}

async fn mark_in(tx: &mut Tx, pipeline: &str, task_id: &str) -> Result<Option<ExportMark>> {
    let row = sqlx::query(MARK_OF_TASK)
        .bind(pipeline.to_string())
        .bind(task_id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| mark_from(&r)).transpose()
}

fn mark_from(r: &super::Row) -> Result<ExportMark> {
    Ok(ExportMark {
        column: r.try_get(0)?,
        kind: r.try_get(1)?,
        mark: r.try_get(2)?,
        run_id: r.try_get(3)?,
    })
}

fn range_from(r: &super::Row) -> Result<ExportRange> {
    let advances: i64 = r.try_get(5)?;
    Ok(ExportRange {
        column: r.try_get(0)?,
        kind: r.try_get(1)?,
        above: r.try_get(2)?,
        through: r.try_get(3)?,
        rows: r.try_get(4)?,
        advances: advances != 0,
    })
}

const RANGE_COLUMNS: &str = "column_name, kind, above, through, rows, advances";
/// One task's mark, in the columns `mark_from` reads.
const MARK_OF_TASK: &str =
    "SELECT column_name, kind, mark, run_id FROM export_marks WHERE pipeline = $1 AND task_id = $2";

impl Store {
    /// Where the next attempt of an incremental export starts.
    pub async fn export_start(
        &self,
        run_id: i64,
        pipeline: &str,
        task_id: &str,
    ) -> Result<ExportStart> {
        if let Some(r) = self.export_range(run_id, task_id).await? {
            return Ok(ExportStart::Again(r));
        }
        let row = sqlx::query(MARK_OF_TASK)
            .bind(pipeline.to_string())
            .bind(task_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => ExportStart::Mark(mark_from(&r)?),
            None => ExportStart::First,
        })
    }

    /// The range an export of this run read, if it was incremental.
    pub async fn export_range(&self, run_id: i64, task_id: &str) -> Result<Option<ExportRange>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RANGE_COLUMNS} FROM export_ranges WHERE run_id = $1 AND task_id = $2"
        )))
        .bind(run_id)
        .bind(task_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| range_from(&r)).transpose()
    }

    /// Every range the run's exports read, by task.
    pub async fn export_ranges(&self, run_id: i64) -> Result<Vec<(String, ExportRange)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RANGE_COLUMNS}, task_id FROM export_ranges WHERE run_id = $1 ORDER BY task_id"
        )))
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(6)?, range_from(r)?)))
            .collect()
    }

    /// Every mark of a pipeline's tasks, by task.
    pub async fn export_marks(&self, pipeline: &str) -> Result<Vec<(String, ExportMark)>> {
        let rows = sqlx::query(
            "SELECT column_name, kind, mark, run_id, task_id FROM export_marks WHERE pipeline = $1 ORDER BY task_id",
        )
        .bind(pipeline.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(4)?, mark_from(r)?)))
            .collect()
    }
}
