//! The alert outbox. An alert row is written in the transaction of the state
//! change that causes it (`raise_from_events`, called by `insert_events`), or
//! by the deadline watcher (`raise_deadline`), so it never depends on the
//! process that failed staying alive. Deliveries (one row per alert and
//! channel) are claimed, tried and recorded by whoever delivers: `serve`, or a
//! run's own process when no `serve` is alive (`engine::notify`): their rows
//! are in `deliveries.rs`.
//!
//! One incident is one row: the `failed` instances of one `export_all`
//! fan-out share their parent's row, and an owner's death is one
//! `interrupted` row for the run. The dedup key is stable per run, task and
//! kind, and counts recoveries, so a run that fails again after it went green
//! opens a new incident instead of merging into the resolved one.

use std::fmt;
use std::str::FromStr;

use super::Row as AnyRow;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{EventKind, NewEvent, Store, Tx, now_ms};
use crate::engine::state::{RunState, TaskState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Failed,
    Interrupted,
    DeadlineMissed,
    /// The projected finish passes the deadline (less `at_risk_margin`).
    AtRisk,
    Recovered,
}

impl AlertKind {
    pub const ALL: [AlertKind; 5] = [
        AlertKind::Failed,
        AlertKind::Interrupted,
        AlertKind::DeadlineMissed,
        AlertKind::AtRisk,
        AlertKind::Recovered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Failed => "failed",
            AlertKind::Interrupted => "interrupted",
            AlertKind::DeadlineMissed => "deadline_missed",
            AlertKind::AtRisk => "at_risk",
            AlertKind::Recovered => "recovered",
        }
    }

    /// Opens (or updates) an incident, as opposed to closing one.
    pub fn is_trigger(self) -> bool {
        self != AlertKind::Recovered
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown alert kind `{s}`"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub dedup_key: String,
    pub kind: AlertKind,
    pub pipeline: String,
    pub run_id: Option<i64>,
    pub slot_at: Option<i64>,
    /// The task (or fan-out parent) the incident is about; `None` for the run.
    pub task_id: Option<String>,
    pub tasks: Vec<String>,
    pub error: Option<String>,
    pub late_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub routed_at: Option<i64>,
}

/// What an incident is about, before it has a row.
pub struct NewAlert<'a> {
    pub kind: AlertKind,
    pub pipeline: &'a str,
    pub run_id: Option<i64>,
    pub slot_at: Option<i64>,
    pub task_id: Option<&'a str>,
    /// The instance this change is about (joins the incident's list).
    pub instance: Option<&'a str>,
    pub error: Option<&'a str>,
    pub late_ms: Option<i64>,
}

/// Raises the alerts that `events` imply: a task `failed` for good, tasks
/// `interrupted` by their owner's death, a run green again (`recovered`).
pub async fn raise_from_events(tx: &mut Tx, events: &[NewEvent]) -> Result<()> {
    for e in events {
        let Some(run_id) = e.run_id else { continue };
        match &e.kind {
            EventKind::TaskState { to, error, .. }
                if matches!(to, TaskState::Failed | TaskState::Interrupted) =>
            {
                let Some(task) = e.task_id.as_deref() else {
                    continue;
                };
                let (pipeline, _) = run_pipeline(tx, run_id).await?;
                let (kind, group) = if *to == TaskState::Failed {
                    (
                        AlertKind::Failed,
                        Some(incident_task(tx, run_id, task).await?),
                    )
                } else {
                    // One owner death interrupts its tasks together: one incident.
                    (AlertKind::Interrupted, None)
                };
                let first_line = error.as_deref().and_then(|m| m.lines().next());
                raise(
                    tx,
                    &NewAlert {
                        kind,
                        pipeline: &pipeline,
                        run_id: Some(run_id),
                        slot_at: None,
                        task_id: group.as_deref(),
                        instance: Some(task),
                        error: first_line,
                        late_ms: None,
                    },
                )
                .await?;
            }
            EventKind::RunState {
                state: RunState::Succeeded,
            } => raise_recovered(tx, run_id).await?,
            _ => {}
        }
    }
    Ok(())
}

/// The task an instance's failure is filed under: its fan-out parent
/// (`export_all`, and loads `from` one), else itself.
async fn incident_task(tx: &mut Tx, run_id: i64, task: &str) -> Result<String> {
    let params: Option<String> =
        sqlx::query_scalar("SELECT params FROM task_instances WHERE run_id = $1 AND task_id = $2")
            .bind(run_id)
            .bind(task)
            .fetch_optional(&mut **tx)
            .await?
            .flatten();
    let parent = params
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|v| v["parent"].as_str().map(String::from));
    Ok(parent.unwrap_or_else(|| task.to_string()))
}

async fn run_pipeline(tx: &mut Tx, run_id: i64) -> Result<(String, i64)> {
    let row = sqlx::query("SELECT pipeline, created_at FROM runs WHERE id = $1")
        .bind(run_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok((row.try_get("pipeline")?, row.try_get("created_at")?))
}

/// `recovered` for a run that had raised a trigger alert in this incident.
async fn raise_recovered(tx: &mut Tx, run_id: i64) -> Result<()> {
    let (pipeline, _) = run_pipeline(tx, run_id).await?;
    let epoch = recoveries(tx, run_id).await?;
    let triggers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alerts WHERE run_id = $1 AND kind <> 'recovered' AND dedup_key LIKE $2",
    )
    .bind(run_id)
    .bind(format!("%#{epoch}"))
    .fetch_one(&mut **tx)
    .await?;
    if triggers == 0 {
        return Ok(());
    }
    raise(
        tx,
        &NewAlert {
            kind: AlertKind::Recovered,
            pipeline: &pipeline,
            run_id: Some(run_id),
            slot_at: None,
            task_id: None,
            instance: None,
            error: None,
            late_ms: None,
        },
    )
    .await?;
    Ok(())
}

/// How many times the run went green after an alert: the incident number.
async fn recoveries(tx: &mut Tx, run_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE run_id = $1 AND kind = 'recovered'")
            .bind(run_id)
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// A deadline passed: for a run (`task_id` None: the pipeline's deadline, or
/// a task's), or for a slot whose run never started (`run_id` None).
pub async fn raise_deadline(
    tx: &mut Tx,
    pipeline: &str,
    run_id: Option<i64>,
    slot_at: Option<i64>,
    task_id: Option<&str>,
    late_ms: i64,
) -> Result<bool> {
    raise(
        tx,
        &NewAlert {
            kind: AlertKind::DeadlineMissed,
            pipeline,
            run_id,
            slot_at,
            task_id,
            instance: task_id,
            error: None,
            late_ms: Some(late_ms),
        },
    )
    .await
}

/// The projection passes the deadline: once per run (or per slot whose run
/// is not created yet), with the projection and its critical path.
pub async fn raise_at_risk(
    tx: &mut Tx,
    pipeline: &str,
    run_id: Option<i64>,
    slot_at: Option<i64>,
    text: &str,
    late_ms: i64,
) -> Result<bool> {
    raise(
        tx,
        &NewAlert {
            kind: AlertKind::AtRisk,
            pipeline,
            run_id,
            slot_at,
            task_id: None,
            instance: None,
            error: Some(text),
            late_ms: Some(late_ms),
        },
    )
    .await
}

impl Store {
    /// Whether `at_risk` was raised for this run, or for its slot before
    /// the run existed (one page per slot, not two).
    pub async fn at_risk_raised(
        &self,
        pipeline: &str,
        run_id: Option<i64>,
        slot_at: Option<i64>,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM alerts WHERE kind = 'at_risk' AND ((run_id IS NOT NULL AND run_id = $1) OR (pipeline = $2 AND slot_at IS NOT NULL AND slot_at = $3))",
        )
        .bind(run_id.unwrap_or(-1))
        .bind(pipeline)
        .bind(slot_at.unwrap_or(i64::MIN))
        .fetch_one(self.pool())
        .await?;
        Ok(n > 0)
    }
}

/// Opens the incident, or adds the instance to the open one with its key.
/// True when it opened a new one.
pub async fn raise(tx: &mut Tx, a: &NewAlert<'_>) -> Result<bool> {
    let key = dedup_key(tx, a).await?;
    let now = now_ms();
    let existing: Option<(i64, String)> =
        sqlx::query_as("SELECT id, tasks FROM alerts WHERE dedup_key = $1")
            .bind(&key)
            .fetch_optional(&mut **tx)
            .await?;
    match existing {
        Some((id, tasks)) => {
            let mut list: Vec<String> = serde_json::from_str(&tasks).unwrap_or_default();
            if let Some(i) = a.instance
                && !list.iter().any(|t| t == i)
            {
                list.push(i.to_string());
                sqlx::query("UPDATE alerts SET tasks = $1, updated_at = $2 WHERE id = $3")
                    .bind(serde_json::to_string(&list)?)
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(false)
        }
        None => {
            let tasks: Vec<&str> = a.instance.into_iter().collect();
            sqlx::query(
                "INSERT INTO alerts (dedup_key, kind, pipeline, run_id, slot_at, task_id, tasks, error, late_ms, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&key)
            .bind(a.kind.as_str())
            .bind(a.pipeline)
            .bind(a.run_id)
            .bind(a.slot_at)
            .bind(a.task_id)
            .bind(serde_json::to_string(&tasks)?)
            .bind(a.error)
            .bind(a.late_ms)
            .bind(now)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            Ok(true)
        }
    }
}

/// `sy/run-42.1733540000000/load_orders/failed#0`: run id with its creation
/// time (a new store numbers runs from 1 again), the task (`-` for the whole
/// run), the kind, and the incident number. A slot that never got a run is
/// keyed by pipeline and slot time.
async fn dedup_key(tx: &mut Tx, a: &NewAlert<'_>) -> Result<String> {
    let task = a.task_id.unwrap_or("-");
    Ok(match a.run_id {
        Some(run) => {
            let (_, created) = run_pipeline(tx, run).await?;
            let epoch = recoveries(tx, run).await?;
            format!("sy/run-{run}.{created}/{task}/{}#{epoch}", a.kind)
        }
        None => format!(
            "sy/slot-{}.{}/{task}/{}#0",
            a.pipeline,
            a.slot_at.unwrap_or_default(),
            a.kind
        ),
    })
}

pub(super) fn alert_from_row(r: &AnyRow) -> Result<AlertRow> {
    let kind: String = r.try_get("kind")?;
    let tasks: String = r.try_get("tasks")?;
    Ok(AlertRow {
        id: r.try_get("id")?,
        dedup_key: r.try_get("dedup_key")?,
        kind: kind.parse().map_err(anyhow::Error::msg)?,
        pipeline: r.try_get("pipeline")?,
        run_id: r.try_get("run_id")?,
        slot_at: r.try_get("slot_at")?,
        task_id: r.try_get("task_id")?,
        tasks: serde_json::from_str(&tasks).unwrap_or_default(),
        error: r.try_get("error")?,
        late_ms: r.try_get("late_ms")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        routed_at: r.try_get("routed_at")?,
    })
}

impl Store {
    /// Alerts not yet routed to channels, oldest first.
    pub async fn unrouted_alerts(&self) -> Result<Vec<AlertRow>> {
        let rows = sqlx::query("SELECT * FROM alerts WHERE routed_at IS NULL ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Trigger alerts of a run's current incident (what a `recovered` resolves).
    pub async fn incident_triggers(&self, run_id: i64, epoch_key: &str) -> Result<Vec<AlertRow>> {
        let suffix = epoch_key.rsplit_once('#').map_or("0", |(_, e)| e);
        let rows = sqlx::query(
            "SELECT * FROM alerts WHERE run_id = $1 AND kind <> 'recovered' AND dedup_key LIKE $2 ORDER BY id",
        )
        .bind(run_id)
        .bind(format!("%#{suffix}"))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert_from_row).collect()
    }
}
