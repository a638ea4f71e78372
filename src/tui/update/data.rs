//! What the store sends back: runs, a run's tasks, and change notices.

use super::*;

pub(super) fn on_runs(
    s: &mut State,
    runs: Vec<crate::engine::store::RunRow>,
    fx: &mut Vec<Effect>,
) {
    let selected = s
        .selected_run()
        .map(|r| r.id)
        .or(s.start_at.as_ref().map(|(run, _)| *run));
    s.runs = runs;
    s.dirty = true;
    let idx = selected
        .and_then(|id| s.runs.iter().position(|r| r.id == id))
        .unwrap_or(0);
    s.run_cursor = idx.min(s.runs.len().saturating_sub(1));
    if let Some(r) = s.runs.get(s.run_cursor)
        && s.tasks_of != Some(r.id)
    {
        fx.push(Effect::LoadRun(r.id));
    }
}

pub(super) fn on_run(
    s: &mut State,
    run: crate::engine::store::RunRow,
    mut tasks: Vec<InstanceRow>,
    fx: &mut Vec<Effect>,
) {
    let id = run.id;
    match s.runs.iter_mut().find(|r| r.id == id) {
        Some(r) => *r = run,
        None => return,
    }
    if s.selected_run().map(|r| r.id) != Some(id) {
        return;
    }
    // The open task as it was: its attempts and runbook are reread only
    // when it changed, not on every change of its run.
    let open_before = s.detail.as_ref().filter(|d| d.run_id == id).and_then(|d| {
        s.tasks
            .iter()
            .find(|t| s.tasks_of == Some(id) && t.task_id == d.task_id)
            .map(|t| (t.state, t.attempt, t.error.clone()))
    });
    // A rate belongs to one attempt: forget it once the task stops running.
    s.rates.retain(|(run, task), _| {
        *run != id
            || tasks
                .iter()
                .any(|t| &t.task_id == task && t.state == TaskState::Running)
    });
    order_tasks(&mut tasks);
    let keep = s
        .selected_task()
        .filter(|_| s.tasks_of == Some(id))
        .map(|t| t.task_id.clone());
    s.tasks = tasks;
    s.tasks_of = Some(id);
    s.task_cursor = keep
        .and_then(|k| s.tasks.iter().position(|t| t.task_id == k))
        .unwrap_or_default();
    if !s.placed_cursor {
        // On start: the newest run (or the one asked for), the cursor on its
        // first failed task (or the one asked for, opened).
        s.placed_cursor = true;
        s.focus = Focus::Tasks;
        s.task_cursor = s
            .tasks
            .iter()
            .position(|t| matches!(t.state, TaskState::Failed | TaskState::Interrupted))
            .unwrap_or(0);
        if let Some((_, Some(task))) = s.start_at.take()
            && let Some(i) = s.tasks.iter().position(|t| t.task_id == task)
        {
            s.task_cursor = i;
            super::open_task(s, fx);
        }
    }
    s.task_cursor = s.task_cursor.min(s.tasks.len().saturating_sub(1));
    // A new attempt of the open task: show its log from the start.
    if let Some(d) = s.detail.as_mut().filter(|d| d.run_id == id)
        && let Some(t) = s.tasks.iter().find(|t| t.task_id == d.task_id)
    {
        if t.attempt != d.attempt {
            d.attempt = t.attempt;
            d.log.clear();
            d.scroll = 0;
            d.follow = true;
            fx.push(Effect::LoadLogs {
                run_id: id,
                task_id: d.task_id.clone(),
                attempt: t.attempt,
                after: 0,
            });
        }
        if open_before != Some((t.state, t.attempt, t.error.clone())) {
            fx.push(Effect::LoadDetail {
                run_id: id,
                task_id: d.task_id.clone(),
            });
        }
    }
    s.dirty = true;
}

pub(super) fn on_changed(
    s: &mut State,
    runs: Vec<i64>,
    any_run: bool,
    pools: bool,
    journal: bool,
    logs: Vec<(i64, String)>,
    fx: &mut Vec<Effect>,
) {
    if any_run {
        fx.push(Effect::LoadRuns);
    }
    if let Some(sel) = s.selected_run().map(|r| r.id)
        && runs.contains(&sel)
    {
        fx.push(Effect::LoadRun(sel));
    }
    if pools || (s.screen == Screen::Pools && !runs.is_empty()) {
        fx.push(Effect::LoadPools);
    }
    if journal
        && s.screen == Screen::Journal
        && let Some(r) = s.selected_run()
    {
        fx.push(Effect::LoadJournal(r.id));
    }
    if let Some(d) = &s.detail
        && logs.iter().any(|(r, t)| *r == d.run_id && *t == d.task_id)
    {
        fx.push(Effect::LoadLogs {
            run_id: d.run_id,
            task_id: d.task_id.clone(),
            attempt: d.attempt,
            after: d.log.last().map_or(0, |l| l.line_no),
        });
    }
}

pub(super) fn on_detail(
    s: &mut State,
    run_id: i64,
    task_id: &str,
    attempts: Vec<crate::engine::store::AttemptRow>,
    runbook: Option<super::super::state::Runbook>,
    history: Option<crate::engine::history::TaskHistory>,
) {
    if let Some(d) = s
        .detail
        .as_mut()
        .filter(|d| d.run_id == run_id && d.task_id == task_id)
    {
        d.attempts = attempts;
        d.runbook = runbook;
        d.history = history;
        d.loaded = true;
        s.dirty = true;
    }
}

pub(super) fn on_logs(
    s: &mut State,
    run_id: i64,
    task_id: &str,
    attempt: i64,
    lines: Vec<crate::engine::store::LogLine>,
) {
    if let Some(d) = s
        .detail
        .as_mut()
        .filter(|d| d.run_id == run_id && d.task_id == task_id && d.attempt == attempt)
    {
        let last = d.log.last().map_or(0, |l| l.line_no);
        d.log.extend(lines.into_iter().filter(|l| l.line_no > last));
        if d.log.len() > LOG_KEEP {
            let cut = d.log.len() - LOG_KEEP;
            d.log.drain(..cut);
            d.scroll = d.scroll.saturating_sub(cut);
        }
        s.dirty = true;
    }
}

/// A progress sample: `(rows, bytes, total estimate)` at `at`.
pub(super) fn on_progress(
    s: &mut State,
    run_id: i64,
    task_id: String,
    (rows, bytes, total): (i64, i64, Option<i64>),
    at: i64,
) {
    let key = (run_id, task_id.clone());
    let fresh = Rate {
        first_at: at,
        first_rows: rows,
        last_at: at,
        rows,
        bytes,
        total,
    };
    let r = s.rates.entry(key).or_insert(fresh);
    if rows < r.rows {
        // Fewer rows than before: a new attempt counts from zero.
        *r = fresh;
    }
    r.last_at = at;
    r.rows = rows;
    r.bytes = bytes;
    r.total = total.or(r.total);
    s.now = s.now.max(at);
    if s.tasks_of == Some(run_id) {
        if let Some(t) = s.tasks.iter_mut().find(|t| t.task_id == task_id) {
            t.rows = Some(rows);
            t.bytes = Some(bytes);
            t.total_estimate = total.or(t.total_estimate);
        }
        s.dirty = true;
    }
}
