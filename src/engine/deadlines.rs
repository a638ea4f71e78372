//! Resolving `deadline` keys into times: the pipeline's for the run, and
//! each task's for its instances (a fan-out's instances take their parent's).
//! The reference is the slot, or the creation time of a run without one.

use chrono::DateTime;

use super::store::NewInstance;
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
