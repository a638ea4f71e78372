//! Building an alert's message from the store as it is now: the run, the
//! tasks of the incident with their state and attempt, the first error line,
//! the log tail (redacted), the runbook, how late, and the two commands the
//! engineer on call types next.

use anyhow::Result;

use crate::config::Workspace;
use crate::config::redact::redact;
use crate::connectors::notify::{MESSAGE_VERSION, Message, Runbook, TaskLine};
use crate::engine::runbook;
use crate::engine::state::TaskState;
use crate::engine::store::{AlertKind, AlertRow, InstanceRow, Store, now_ms, rfc3339};

/// Log lines a message carries.
const LOG_TAIL_LINES: i64 = 5;
/// Tasks listed by name; the rest are counted.
const TASKS_LISTED: usize = 40;

pub async fn message_for(ws: &Workspace, store: &Store, a: &AlertRow) -> Result<Message> {
    let mut m = base(ws, &a.pipeline, a.kind.as_str(), &a.dedup_key);
    m.task = a.task_id.clone();
    m.error = a.error.as_deref().map(redact);
    m.late_ms = a.late_ms;
    m.slot = a.slot_at.map(rfc3339);
    m.created_at = rfc3339(a.created_at);
    let Some(run_id) = a.run_id else {
        return Ok(m);
    };
    let run = store.run(run_id).await?;
    let insts = store.instances(run_id).await?;
    m.run_id = Some(run_id);
    m.run_date = Some(run.run_date.clone());
    m.slot = run.slot_at.or(a.slot_at).map(rfc3339);
    m.deadline_at = run.deadline_at.map(rfc3339);

    let listed: Vec<&InstanceRow> = match a.kind {
        AlertKind::DeadlineMissed if a.task_id.is_none() => insts
            .iter()
            .filter(|i| !i.state.satisfies_downstream())
            .collect(),
        AlertKind::Recovered => Vec::new(),
        _ => a
            .tasks
            .iter()
            .filter_map(|t| insts.iter().find(|i| &i.task_id == t))
            .collect(),
    };
    m.tasks = listed
        .iter()
        .take(TASKS_LISTED)
        .map(|i| TaskLine {
            id: i.task_id.clone(),
            state: i.state.as_str().to_string(),
            attempt: i.attempt,
            error: i
                .error
                .as_deref()
                .and_then(|e| e.lines().next())
                .map(redact),
        })
        .collect();
    if let Some(first) = listed.first() {
        if m.error.is_none() {
            m.error = first
                .error
                .as_deref()
                .and_then(|e| e.lines().next())
                .map(redact);
        }
        if first.attempt > 0 && first.state != TaskState::Succeeded {
            let lines = store
                .log_tail(run_id, &first.task_id, first.attempt, LOG_TAIL_LINES)
                .await?;
            m.log_tail = lines.into_iter().map(|l| redact(&l.line)).collect();
        }
        let def = ws
            .pipeline(&run.pipeline)
            .and_then(|p| p.tasks.iter().find(|t| Some(&t.id) == a.task_id.as_ref()));
        let explicit = def.and_then(|d| d.runbook.as_deref());
        let task = a.task_id.as_deref().unwrap_or(&first.task_id);
        if let Some(found) = runbook::find(ws, task, explicit, first.error.as_deref()) {
            m.runbook = Some(Runbook {
                title: runbook_title(&found.text, &found.path),
                path: found
                    .path
                    .strip_prefix(&ws.dir)
                    .unwrap_or(&found.path)
                    .display()
                    .to_string(),
            });
        }
    }
    if let Some(t) = &a.task_id
        && let Some(at) = store.task_deadline(run_id, t).await?
    {
        m.deadline_at = Some(rfc3339(at));
    }
    let one_task = (m.tasks.len() == 1).then(|| m.tasks[0].id.clone());
    m.rerun = match a.kind {
        AlertKind::Failed => Some(match &one_task {
            Some(t) => format!("switchyard rerun {run_id} {t} --downstream"),
            None => format!("switchyard rerun {run_id} --failed"),
        }),
        AlertKind::Interrupted => Some(format!("switchyard rerun {run_id} --failed")),
        _ => None,
    };
    m.console = Some(match one_task.or_else(|| a.task_id.clone()) {
        Some(t) if a.kind != AlertKind::Recovered => {
            format!("switchyard --run {run_id} --task {t}")
        }
        _ => format!("switchyard --run {run_id}"),
    });
    if a.kind == AlertKind::Recovered {
        m.resolves = store
            .incident_triggers(run_id, &a.dedup_key)
            .await?
            .into_iter()
            .map(|t| t.dedup_key)
            .collect();
    }
    Ok(m)
}

/// `notify test CHANNEL`.
pub fn test_message(ws: &Workspace, channel: &str) -> Message {
    let mut m = base(ws, "-", "test", &format!("sy/test/{channel}/{}", now_ms()));
    m.error = Some(format!(
        "a test message from `switchyard notify test {channel}`: this channel works"
    ));
    m
}

fn base(ws: &Workspace, pipeline: &str, kind: &str, key: &str) -> Message {
    Message {
        version: MESSAGE_VERSION,
        kind: kind.to_string(),
        dedup_key: key.to_string(),
        workspace: ws.name().to_string(),
        pipeline: pipeline.to_string(),
        run_id: None,
        run_date: None,
        slot: None,
        task: None,
        tasks: Vec::new(),
        error: None,
        log_tail: Vec::new(),
        runbook: None,
        deadline_at: None,
        late_ms: None,
        rerun: None,
        console: None,
        resolves: Vec::new(),
        created_at: rfc3339(now_ms()),
    }
}

/// The first `# ` heading after the front matter, else the file name.
fn runbook_title(text: &str, path: &std::path::Path) -> String {
    runbook::front_matter::body(text)
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_string())
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_not_a_comment_in_the_front_matter() {
        let p = std::path::Path::new("runbooks/load.md");
        let t = "---\n# owner: data team\ntask: load_*\n---\n# Loading orders\n";
        assert_eq!(runbook_title(t, p), "Loading orders");
        assert_eq!(runbook_title("no heading", p), "load");
    }
}
