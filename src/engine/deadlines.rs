//! Resolving `deadline` keys into times: the pipeline's for the run, and
//! each task's for its instances (a fan-out's instances take their parent's).
//! The reference is the slot, or the creation time of a run without one.
//! And raising `deadline_missed` once they pass: `serve` for every run and
//! slot, a run's own process for its runs when no `serve` is alive.

use chrono::DateTime;

use anyhow::Result;

use super::store::{self, NewInstance, Overdue, Store, now_ms};
use crate::config::Workspace;
use crate::config::schedule::Deadline;

/// (the run's deadline, (instance, deadline) for every instance with one).
pub fn of_pipeline(
    ws: &Workspace,
    pipeline: &str,
    reference_ms: i64,
    plan: &[NewInstance],
) -> (Option<i64>, Vec<(String, i64)>) {
    let Some(p) = ws.pipeline(pipeline) else {
        return (None, Vec::new());
    };
    let tz = super::serve::timezone_of(ws, pipeline);
    let reference = DateTime::from_timestamp_millis(reference_ms).unwrap_or_default();
    let due = |text: Option<&str>| {
        text.and_then(|t| Deadline::parse(t).ok())
            .map(|d| d.due(reference, tz).timestamp_millis())
    };
    let run = due(p.deadline.as_deref());
    let mut tasks = Vec::new();
    for inst in plan {
        let parent = inst
            .params
            .as_ref()
            .and_then(|v| v["parent"].as_str())
            .unwrap_or(&inst.task_id);
        let def = p.tasks.iter().find(|t| t.id == parent);
        if let Some(at) = due(def.and_then(|d| d.deadline.as_deref())) {
            tasks.push((inst.task_id.clone(), at));
        }
    }
    (run, tasks)
}

/// Raises `deadline_missed` for every deadline passed without success (of
/// `runs` only, when given) and returns those newly raised, with how late.
pub async fn raise_overdue(st: &Store, runs: Option<&[i64]>) -> Result<Vec<(Overdue, i64)>> {
    let now = now_ms();
    let mut raised = Vec::new();
    for o in st.overdue(now).await? {
        if runs.is_some_and(|ids| o.run_id.is_none_or(|r| !ids.contains(&r))) {
            continue;
        }
        let late = now - o.deadline_at;
        let mut tx = st.begin().await?;
        let slot = o.slot_at;
        let new = store::raise_deadline(
            &mut tx,
            &o.pipeline,
            o.run_id,
            slot,
            o.task_id.as_deref(),
            late,
        )
        .await?;
        tx.commit().await?;
        if new {
            raised.push((o, late));
        }
    }
    Ok(raised)
}
