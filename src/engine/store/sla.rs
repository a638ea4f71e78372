//! The rows the SLA report is computed from (`engine::sla`): slots, runs and
//! alerts of a window. Plain reads; the figures are computed elsewhere, in
//! one pure function.

use anyhow::Result;
use sqlx::Row;

use super::runs::{RUN_COLS, run_from_row};
use super::slots::slot_from_row;
use super::{RunRow, SlotRow, Store};

/// An alert as the report needs it. The kind stays a string: kinds are
/// added over time (`at_risk`), and a report over old rows must not refuse
/// a kind this binary does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFact {
    pub dedup_key: String,
    pub kind: String,
    pub pipeline: String,
    pub run_id: Option<i64>,
    pub task_id: Option<String>,
    /// The instances the incident covers.
    pub tasks: Vec<String>,
    pub created_at: i64,
}

impl Store {
    /// Slots of every pipeline whose time falls in `[from, to]`, oldest first.
    pub async fn slots_between(&self, from: i64, to: i64) -> Result<Vec<SlotRow>> {
        let rows = sqlx::query(
            "SELECT pipeline, slot_at, run_date, state, run_id, deadline_at, detail FROM slots \
             WHERE slot_at >= $1 AND slot_at <= $2 ORDER BY pipeline, slot_at",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(slot_from_row).collect()
    }

    /// Runs whose reference (their slot, else their creation) falls in
    /// `[from, to]`, oldest first.
    pub async fn runs_between(&self, from: i64, to: i64) -> Result<Vec<RunRow>> {
        let sql = format!(
            "SELECT {RUN_COLS} FROM runs WHERE COALESCE(slot_at, created_at) >= $1 \
             AND COALESCE(slot_at, created_at) <= $2 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Alerts raised in `[from, to]`, oldest first.
    pub async fn alert_facts_between(&self, from: i64, to: i64) -> Result<Vec<AlertFact>> {
        let rows = sqlx::query(
            "SELECT dedup_key, kind, pipeline, run_id, task_id, tasks, created_at FROM alerts \
             WHERE created_at >= $1 AND created_at <= $2 ORDER BY created_at, id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let tasks: String = r.try_get("tasks")?;
                Ok(AlertFact {
                    dedup_key: r.try_get("dedup_key")?,
                    kind: r.try_get("kind")?,
                    pipeline: r.try_get("pipeline")?,
                    run_id: r.try_get("run_id")?,
                    task_id: r.try_get("task_id")?,
                    tasks: serde_json::from_str(&tasks).unwrap_or_default(),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}
