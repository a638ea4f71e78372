//! Requests to a run: rerun, cancel, mark. Whoever is responsible applies
//! them with `apply`: the run's live owner (it reads open requests at every
//! step), or, when the run has no live owner, the process that made the
//! request, in the same transaction that found no owner.

use std::collections::BTreeSet;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::dag::Dag;
use super::lease::{propagate_upstream_failed, settle_run_state};
use super::state::{Cause, RunState, TaskState, transition};
use super::store::{self, EventKind, InstanceRow, NewEvent, Tx, now_ms};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    Rerun(RerunSelection),
    Cancel { task: Option<String> },
    Mark { task: String, state: MarkAs },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkAs {
    Succeeded,
    Skipped,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RerunSelection {
    pub task: Option<String>,
    #[serde(default)]
    pub downstream: bool,
    #[serde(default)]
    pub upstream: bool,
    /// Every failed, upstream_failed, interrupted and cancelled instance and its downstream.
    #[serde(default)]
    pub failed: bool,
}

impl Request {
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Rerun(_) => "rerun",
            Request::Cancel { .. } => "cancel",
            Request::Mark { .. } => "mark",
        }
    }
}

fn dag_of(insts: &[InstanceRow]) -> Result<Dag> {
    Ok(Dag::new(insts.iter().map(|i| {
        (i.task_id.as_str(), i.upstream.iter().map(String::as_str))
    }))?)
}

fn index_of(dag: &Dag, task: &str, run_id: i64) -> Result<usize> {
    dag.get(task)
        .ok_or_else(|| anyhow::anyhow!("run {run_id} has no task `{task}`"))
}

/// The instances a rerun resets ("blast radius"), in run order. Refuses
/// nothing: the caller decides what to do about running ones.
pub fn rerun_selection(
    insts: &[InstanceRow],
    sel: &RerunSelection,
    run_id: i64,
) -> Result<Vec<usize>> {
    let dag = dag_of(insts)?;
    let mut chosen = BTreeSet::new();
    if sel.failed {
        let roots: Vec<usize> = (0..insts.len())
            .filter(|&i| insts[i].state.is_rerunnable_failure())
            .collect();
        chosen.extend(roots.iter().copied());
        chosen.extend(dag.downstream_closure(&roots));
    } else {
        let Some(task) = sel.task.as_deref() else {
            bail!("say which task to rerun, or --failed");
        };
        let root = index_of(&dag, task, run_id)?;
        chosen.insert(root);
        if sel.downstream {
            chosen.extend(dag.downstream_closure(&[root]));
        }
        if sel.upstream {
            chosen.extend(dag.upstream_closure(&[root]));
        }
    }
    Ok(chosen.into_iter().collect())
}

/// What applying a request did, for the journal and the requester.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Applied {
    pub tasks: Vec<String>,
    pub message: String,
}

/// What a live owner writes back for a request (`requests.result`, JSON):
/// applied, with the tasks it touched, or refused and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestResult {
    pub ok: bool,
    #[serde(default)]
    pub tasks: Vec<String>,
    pub message: String,
}

impl RequestResult {
    pub fn of(outcome: &Result<Applied>) -> RequestResult {
        match outcome {
            Ok(a) => RequestResult {
                ok: true,
                tasks: a.tasks.clone(),
                message: a.message.clone(),
            },
            Err(e) => RequestResult {
                ok: false,
                tasks: Vec::new(),
                message: crate::text::error_chain(e),
            },
        }
    }

    /// The requester's view: what was applied, or the owner's refusal.
    pub fn into_applied(self) -> Result<Applied> {
        if !self.ok {
            bail!("{}", self.message);
        }
        Ok(Applied {
            tasks: self.tasks,
            message: self.message,
        })
    }
}

/// Applies a request to the store. `has_owner`: a live owner executes the run
/// (and will act on `cancel_requested` of its running instances).
pub async fn apply(
    tx: &mut Tx,
    run_id: i64,
    req: &Request,
    who: &str,
    has_owner: bool,
) -> Result<Applied> {
    let mut insts = store::instances_in(tx, run_id).await?;
    let original = insts.clone();
    let mut events = Vec::new();
    let now = now_ms();
    let applied = match req {
        Request::Rerun(sel) => {
            let chosen = rerun_selection(&insts, sel, run_id)?;
            if chosen.is_empty() {
                bail!("nothing to rerun in run {run_id}: no failed, interrupted or cancelled task");
            }
            let running: Vec<&str> = chosen
                .iter()
                .filter(|&&i| insts[i].state == TaskState::Running)
                .map(|&i| insts[i].task_id.as_str())
                .collect();
            if !running.is_empty() {
                bail!(
                    "{} running; cancel first (switchyard cancel {run_id} {})",
                    if running.len() == 1 {
                        format!("`{}` is", running[0])
                    } else {
                        format!("{} tasks are", running.len())
                    },
                    running[0]
                );
            }
            for &i in &chosen {
                let inst = &mut insts[i];
                let to = transition(inst.state, Cause::Reset)?;
                events.push(state_event(run_id, inst, to, None));
                inst.state = to;
                inst.retry_base = inst.attempt;
                inst.error = None;
                inst.next_try_at = None;
                inst.finished_at = None;
                inst.rows = None;
                inst.bytes = None;
                inst.cancel_requested = false;
                inst.waiting_on = None;
                inst.updated_at = now;
            }
            // Say at once why each reset task waits (its owner refines it).
            let unmet: std::collections::HashSet<String> = insts
                .iter()
                .filter(|o| !o.state.satisfies_downstream())
                .map(|o| o.task_id.clone())
                .collect();
            for &i in &chosen {
                let waiting: Vec<&str> = insts[i]
                    .upstream
                    .iter()
                    .filter(|u| unmet.contains(*u))
                    .map(String::as_str)
                    .collect();
                if !waiting.is_empty() {
                    insts[i].waiting_on = Some(super::scheduler::waiting_on_text(&waiting));
                }
            }
            Applied {
                tasks: chosen.iter().map(|&i| insts[i].task_id.clone()).collect(),
                message: format!("reset {} task(s) to pending", chosen.len()),
            }
        }
        Request::Cancel { task } => {
            let dag = dag_of(&insts)?;
            let targets: Vec<usize> = match task {
                Some(t) => vec![index_of(&dag, t, run_id)?],
                None => (0..insts.len())
                    .filter(|&i| !insts[i].state.is_terminal())
                    .collect(),
            };
            let mut names = Vec::new();
            for i in targets {
                let inst = &mut insts[i];
                if inst.state.is_terminal() {
                    if task.is_some() {
                        bail!("`{}` is already {}", inst.task_id, inst.state);
                    }
                    continue;
                }
                names.push(inst.task_id.clone());
                if inst.state == TaskState::Running && has_owner {
                    // Its owner stops the attempt, then records `cancelled`.
                    inst.cancel_requested = true;
                } else {
                    let to = transition(inst.state, Cause::Cancel)?;
                    events.push(state_event(run_id, inst, to, Some("cancelled".into())));
                    inst.state = to;
                    inst.error = Some(format!("cancelled by {who}"));
                    inst.finished_at = Some(now);
                    inst.waiting_on = None;
                }
                inst.updated_at = now;
            }
            Applied {
                message: format!("cancelled {} task(s)", names.len()),
                tasks: names,
            }
        }
        Request::Mark { task, state } => {
            let dag = dag_of(&insts)?;
            let i = index_of(&dag, task, run_id)?;
            let inst = &mut insts[i];
            if inst.state == TaskState::Running {
                bail!("`{task}` is running; cancel it first (switchyard cancel {run_id} {task})");
            }
            let cause = match state {
                MarkAs::Succeeded => Cause::MarkSucceeded,
                MarkAs::Skipped => Cause::MarkSkipped,
            };
            let to = transition(inst.state, cause)?;
            events.push(state_event(run_id, inst, to, None));
            inst.state = to;
            inst.error = None;
            inst.waiting_on = None;
            inst.next_try_at = None;
            inst.finished_at = Some(now);
            inst.updated_at = now;
            Applied {
                tasks: vec![task.clone()],
                message: format!("marked `{task}` {to}"),
            }
        }
    };
    events.extend(propagate_upstream_failed(&mut insts, run_id)?);
    for (i, before) in insts.iter().zip(&original) {
        if i != before {
            store::save_instance(tx, i).await?;
        }
    }
    store::insert_events(tx, &events).await?;
    if !has_owner || matches!(req, Request::Rerun(_)) {
        // A rerun brings a finished run back to life; its executor settles it.
        if matches!(req, Request::Rerun(_)) {
            let run = store::run_in(tx, run_id).await?;
            if run.state != RunState::Running {
                store::set_run_state(tx, run_id, RunState::Running).await?;
                store::insert_events(
                    tx,
                    &[NewEvent::run(
                        run_id,
                        EventKind::RunState {
                            state: RunState::Running,
                        },
                    )],
                )
                .await?;
            }
        } else {
            settle_run_state(tx, run_id, &insts, false).await?;
        }
    }
    let detail = serde_json::to_string(req)?;
    store::add_journal(
        tx,
        who,
        req.kind(),
        Some(run_id),
        &applied.tasks,
        Some(&detail),
    )
    .await?;
    Ok(applied)
}

/// A journal detail in words: requests are journaled as JSON; anything else
/// (a note, "nightly 2026-11-22") is shown as it is. The console's journal
/// and every timeline say them alike.
pub fn describe_detail(detail: &str) -> String {
    let Ok(req) = serde_json::from_str::<Request>(detail) else {
        return detail.to_string();
    };
    match req {
        Request::Rerun(sel) if sel.failed => "every failure and its downstream".into(),
        Request::Rerun(sel) => {
            let what = match (sel.upstream, sel.downstream) {
                (true, true) => "with its upstream and downstream",
                (true, false) => "with its upstream",
                (false, true) => "with everything downstream",
                (false, false) => "only",
            };
            match sel.task {
                Some(t) => format!("{t} {what}"),
                None => what.to_string(),
            }
        }
        Request::Cancel { task: Some(t) } => format!("cancel {t}"),
        Request::Cancel { task: None } => "cancel the whole run".into(),
        Request::Mark { task, state } => {
            let as_ = match state {
                MarkAs::Succeeded => "succeeded",
                MarkAs::Skipped => "skipped",
            };
            format!("{task} as {as_}")
        }
    }
}

fn state_event(run_id: i64, i: &InstanceRow, to: TaskState, error: Option<String>) -> NewEvent {
    NewEvent::task(
        run_id,
        &i.task_id,
        EventKind::TaskState {
            from: i.state,
            to,
            attempt: i.attempt,
            error,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_result_reads_what_owners_wrote_and_says_a_refusal() {
        // The shape owners have always written (`tasks` absent on a refusal).
        let refused: RequestResult =
            serde_json::from_str(r#"{"ok":false,"message":"load is running"}"#).unwrap();
        let err = refused.into_applied().expect_err("a refusal is an error");
        assert_eq!(err.to_string(), "load is running");
        let applied = RequestResult::of(&Ok(Applied {
            tasks: vec!["load".into()],
            message: "reset 1".into(),
        }));
        let text = serde_json::to_string(&applied).unwrap();
        assert_eq!(text, r#"{"ok":true,"tasks":["load"],"message":"reset 1"}"#);
        let back: RequestResult = serde_json::from_str(&text).unwrap();
        assert_eq!(back.into_applied().unwrap().tasks, ["load"]);
    }
}
