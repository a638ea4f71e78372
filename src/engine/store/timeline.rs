//! What an incident timeline is made of, read in one go: a run, every
//! attempt of its tasks, its alerts with their deliveries, and its journal.
//! `engine::timeline` turns these rows into entries.
//!
//! Alert kinds are read as the strings the store holds, not parsed into
//! `AlertKind`: a newer binary may write a kind this one does not know
//! (`at_risk`), and a timeline must show it rather than fail or drop it.

use anyhow::Result;
use sqlx::Row;

use super::attempts::attempt_from_row;
use super::deliveries::delivery_from_row;
use super::{AttemptRow, DeliveryRow, JournalEntry, RunRow, Store};

/// An alert as a timeline shows it, kind as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineAlert {
    pub id: i64,
    pub kind: String,
    pub task_id: Option<String>,
    pub tasks: Vec<String>,
    pub error: Option<String>,
    pub late_ms: Option<i64>,
    pub created_at: i64,
    pub deliveries: Vec<DeliveryRow>,
}

/// Everything `engine::timeline::build` needs about one run.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRows {
    pub run: RunRow,
    /// (task, attempt), oldest first.
    pub attempts: Vec<(String, AttemptRow)>,
    pub alerts: Vec<TimelineAlert>,
    /// Oldest first.
    pub journal: Vec<JournalEntry>,
}

impl Store {
    pub async fn timeline_rows(&self, run_id: i64) -> Result<TimelineRows> {
        let run = self.run(run_id).await?;
        let rows = sqlx::query(
            r#"SELECT * FROM "attempts" WHERE "run_id" = $1 ORDER BY "started_at", "task_id", "attempt""#,
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        let attempts = rows
            .iter()
            .map(|r| Ok((r.try_get("task_id")?, attempt_from_row(r)?)))
            .collect::<Result<_>>()?;
        let rows = sqlx::query(
            r#"SELECT "id", "kind", "task_id", "tasks", "error", "late_ms", "created_at" FROM "alerts" WHERE "run_id" = $1 ORDER BY "created_at", "id""#,
        )
        .bind(run_id)
        .fetch_all(self.pool())
        .await?;
        let mut alerts = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let tasks: String = r.try_get("tasks")?;
            let ds = sqlx::query(
                r#"SELECT * FROM "deliveries" WHERE "alert_id" = $1 ORDER BY "channel""#,
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?;
            alerts.push(TimelineAlert {
                id,
                kind: r.try_get("kind")?,
                task_id: r.try_get("task_id")?,
                tasks: serde_json::from_str(&tasks).unwrap_or_default(),
                error: r.try_get("error")?,
                late_ms: r.try_get("late_ms")?,
                created_at: r.try_get("created_at")?,
                deliveries: ds.iter().map(delivery_from_row).collect::<Result<_>>()?,
            });
        }
        let journal = self.journal_entries(Some(run_id), None).await?;
        Ok(TimelineRows {
            run,
            attempts,
            alerts,
            journal,
        })
    }
}
