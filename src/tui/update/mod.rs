//! `update`: the only function that changes the console's state. Pure: no
//! IO, no clock (time arrives in messages), so every key flow is a unit test.
//! Here: messages and keys to actions; `data.rs`: what the store sends
//! back; `modal.rs`: keys while a question or the palette is open.

mod backfill;
mod browse;
mod data;
pub(crate) mod forms;
mod graph;
mod modal;
mod schedule;
mod sla;
mod stores;
mod timeline;

use data::{on_changed, on_detail, on_logs, on_progress, on_run, on_runs};
use modal::modal_key;

use super::action::{Action, Screen};
use super::keymap::Keymap;
use super::state::{
    Confirm, Detail, Effect, Flash, Focus, InputPurpose, Modal, Msg, Rate, State, mark_request,
    order_tasks,
};
use crate::engine::request::{MarkAs, Request, RerunSelection, rerun_selection};
use crate::engine::state::TaskState;
use crate::engine::store::InstanceRow;

/// Log lines kept in memory for the task screen.
const LOG_KEEP: usize = 5000;
/// How long a footer message stays.
const FLASH_MS: i64 = 6000;

use super::view::mode_of;

pub fn update(s: &mut State, msg: Msg, keys: &Keymap) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(key) => {
            s.dirty = true;
            if s.modal.is_some() {
                modal_key(s, &key, &mut fx);
            } else if browse::filter_key(s, &key, &mut fx) {
                // Typed into a filter line.
            } else if let Some(action) = keys.lookup(mode_of(s.screen), &key).cloned() {
                act(s, action, keys, &mut fx);
            }
        }
        Msg::Scroll(d) => {
            s.dirty = true;
            let action = if d > 0 { Action::Down } else { Action::Up };
            for _ in 0..d.unsigned_abs().min(10) {
                act(s, action.clone(), keys, &mut fx);
            }
        }
        Msg::Click { column, row } => {
            s.dirty = true;
            click(s, column, row, &mut fx);
        }
        Msg::Resize(w, h) => {
            s.size = (w, h);
            s.dirty = true;
        }
        Msg::Tick(now) => {
            s.now = now;
            if s.flash.as_ref().is_some_and(|f| f.until <= now) {
                s.flash = None;
            }
            s.dirty |= s.needs_clock();
            schedule::on_tick(s, &mut fx);
        }
        Msg::Schedule(rows) => schedule::on_schedule(s, rows),
        Msg::Sla(report) => sla::on_report(s, report),
        Msg::Undelivered(u) => {
            timeline::on_undelivered(s, &mut fx);
            schedule::on_undelivered(s, u, &mut fx)
        }
        Msg::Alerts { run_id, alerts } => schedule::on_alerts(s, run_id, alerts),
        Msg::Runs(runs) => on_runs(s, runs, &mut fx),
        Msg::Run { run, tasks } => on_run(s, run, tasks, &mut fx),
        Msg::Pools(p) => {
            // A resized pool moves the shown run's projection: reproject.
            if let Some(run) = s.forecast.as_ref().and_then(|f| f.run_id)
                && s.pools
                    .iter()
                    .map(|x| (&x.name, x.size))
                    .ne(p.iter().map(|x| (&x.name, x.size)))
            {
                fx.push(Effect::LoadRun(run));
            }
            s.pools = p;
            s.pool_cursor = s.pool_cursor.min(s.pools.len().saturating_sub(1));
            s.dirty = true;
        }
        Msg::Journal { run_id, entries } => {
            if s.journal_of != Some(run_id) {
                s.journal_cursor = 0;
            }
            s.journal_cursor = s.journal_cursor.min(entries.len().saturating_sub(1));
            s.journal = entries;
            s.journal_of = Some(run_id);
            s.dirty = true;
        }
        Msg::Detail {
            run_id,
            task_id,
            attempts,
            runbook,
            history,
        } => on_detail(s, run_id, &task_id, attempts, runbook, history),
        Msg::Forecast { run_id, forecast } => {
            // Only the shown run's; a late answer for another is dropped.
            if s.tasks_of == Some(run_id) || s.selected_run().map(|r| r.id) == Some(run_id) {
                s.forecast = forecast.filter(|f| f.run_id == Some(run_id));
                s.dirty = true;
            }
        }
        Msg::Logs {
            run_id,
            task_id,
            attempt,
            lines,
        } => on_logs(s, run_id, &task_id, attempt, lines),
        Msg::Changed {
            runs,
            any_run,
            pools,
            journal,
            logs,
        } => {
            browse::on_changed(s, any_run, &mut fx);
            backfill::on_changed(s, any_run, &mut fx);
            schedule::on_changed(s, any_run, &mut fx);
            sla::on_changed(s, any_run, &mut fx);
            timeline::on_changed(s, &runs, &mut fx);
            on_changed(s, runs, any_run, pools, journal, logs, &mut fx)
        }
        Msg::Backfills { list, shown } => backfill::on_backfills(s, list, shown),
        Msg::BackfillStarted(id) => backfill::on_started(s, id, &mut fx),
        Msg::Timeline { run_id, timeline } => timeline::on_timeline(s, run_id, timeline),
        Msg::Progress {
            run_id,
            task_id,
            rows,
            bytes,
            total,
            at,
        } => on_progress(s, run_id, task_id, (rows, bytes, total), at),
        Msg::Browse(m) => browse::on_msg(s, m, &mut fx),
        Msg::Theme(name) => {
            s.theme = name;
            s.dirty = true;
        }
        Msg::Done { ok, text, at } => {
            s.now = s.now.max(at);
            s.flash = Some(Flash {
                ok,
                text,
                until: at + FLASH_MS,
            });
            s.dirty = true;
        }
    }
    fx
}

pub(super) fn flash(s: &mut State, ok: bool, text: impl Into<String>) {
    s.flash = Some(Flash {
        ok,
        text: text.into(),
        until: s.now + FLASH_MS,
    });
}

pub(super) fn select_run(s: &mut State, idx: usize, fx: &mut Vec<Effect>) {
    if s.runs.is_empty() {
        return;
    }
    let idx = idx.min(s.runs.len() - 1);
    if idx != s.run_cursor || s.tasks_of != Some(s.runs[idx].id) {
        s.run_cursor = idx;
        s.task_cursor = 0;
        fx.push(Effect::LoadRun(s.runs[idx].id));
        if s.screen == Screen::Journal {
            fx.push(Effect::LoadJournal(s.runs[idx].id));
        }
    }
}

/// The task an action applies to: the open one, or the one under the cursor.
fn target(s: &State) -> Option<(i64, InstanceRow)> {
    let run = s.tasks_of?;
    let id = match (&s.screen, &s.detail) {
        (Screen::Task, Some(d)) => d.task_id.clone(),
        _ => s.selected_task()?.task_id.clone(),
    };
    s.tasks
        .iter()
        .find(|t| t.task_id == id)
        .map(|t| (run, t.clone()))
}

fn act(s: &mut State, action: Action, keys: &Keymap, fx: &mut Vec<Effect>) {
    if s.readonly
        && let Some(what) = action.change()
    {
        flash(s, false, crate::tui::action::read_only_refusal(what));
        return;
    }
    if browse::act(s, &action, fx) {
        return;
    }
    match action {
        Action::Quit => {
            s.quit = true;
            fx.push(Effect::Quit);
        }
        Action::Help => s.modal = Some(Modal::Help),
        Action::Palette => {
            s.modal = Some(Modal::Palette {
                input: String::new(),
                selected: 0,
            })
        }
        Action::Screen(screen) => go(s, screen, fx),
        Action::Back => match s.screen {
            Screen::Runs => {}
            Screen::Timeline => timeline::back(s),
            Screen::Task => {
                s.screen = s.task_back;
                s.detail = None;
            }
            _ => {
                s.screen = Screen::Runs;
                s.detail = None;
            }
        },
        Action::Up | Action::Down | Action::Top | Action::Bottom => move_cursor(s, &action, fx),
        Action::PageUp | Action::PageDown if s.screen == Screen::Timeline => {
            timeline::move_cursor(s, &action)
        }
        Action::PageUp | Action::PageDown => scroll_log(s, &action),
        Action::Open if s.screen == Screen::Graph => graph::open(s, fx),
        Action::Open if s.screen == Screen::Backfill => backfill::open(s, fx),
        Action::Open if s.screen == Screen::Schedule => schedule::open(s, fx),
        Action::Open => {
            if s.focus == Focus::Runs {
                s.focus = Focus::Tasks;
            } else {
                open_task(s, fx);
            }
        }
        Action::Left | Action::Right if s.screen == Screen::Graph => graph::step(s, &action),
        Action::Left | Action::Right => {}
        Action::Fold if s.screen == Screen::Graph => graph::fold(s),
        Action::Fold => {}
        Action::NewBackfill => backfill::new_form(s),
        Action::Timeline => timeline::open(s, fx),
        Action::WriteTimeline => timeline::write(s, fx),
        Action::PrevRun | Action::NextRun if s.screen == Screen::Backfill => {
            backfill::switch(s, action == Action::NextRun, fx)
        }
        Action::Focus => {
            s.focus = match s.focus {
                Focus::Runs => Focus::Tasks,
                Focus::Tasks => Focus::Runs,
            }
        }
        Action::PrevRun => select_run(s, s.run_cursor.saturating_sub(1), fx),
        Action::NextRun => select_run(s, s.run_cursor + 1, fx),
        Action::RerunDownstream | Action::RerunOne => {
            let Some((run_id, t)) = target(s) else {
                return flash(s, false, "no task selected");
            };
            let sel = RerunSelection {
                task: Some(t.task_id.clone()),
                downstream: action == Action::RerunDownstream,
                ..RerunSelection::default()
            };
            let what = if action == Action::RerunDownstream {
                format!("Rerun {} and everything downstream", t.task_id)
            } else {
                format!("Rerun {} only", t.task_id)
            };
            confirm_rerun(s, run_id, sel, what);
        }
        Action::RerunFailed => {
            let Some(run_id) = s.tasks_of else {
                return flash(s, false, "no run selected");
            };
            let sel = RerunSelection {
                failed: true,
                ..RerunSelection::default()
            };
            confirm_rerun(
                s,
                run_id,
                sel,
                "Rerun every failed task and its downstream".into(),
            );
        }
        Action::Cancel => {
            let Some((run_id, t)) = target(s) else {
                return flash(s, false, "no task selected");
            };
            if t.state.is_terminal() {
                return flash(s, false, format!("{} is already {}", t.task_id, t.state));
            }
            s.modal = Some(Modal::Confirm(Confirm {
                title: format!("Cancel {}", t.task_id),
                run_id,
                tasks: vec![(t.task_id.clone(), t.state)],
                cancel_first: Vec::new(),
                effect: Effect::Request {
                    run_id,
                    request: Request::Cancel {
                        task: Some(t.task_id),
                    },
                },
                scroll: 0,
            }));
        }
        Action::Mark => {
            let Some((run_id, t)) = target(s) else {
                return flash(s, false, "no task selected");
            };
            if t.state == TaskState::Running {
                let key = keys
                    .key_for(mode_of(s.screen), &Action::Cancel)
                    .unwrap_or("x");
                return flash(
                    s,
                    false,
                    format!("{} is running: cancel it first ({key})", t.task_id),
                );
            }
            s.modal = Some(Modal::MarkChoice {
                run_id,
                task_id: t.task_id,
            });
        }
        Action::Note => {
            if s.selected_run().is_none() {
                return flash(s, false, "no run selected");
            }
            s.modal = Some(Modal::Input {
                purpose: InputPurpose::Note,
                text: String::new(),
            });
        }
        Action::Search => {
            if s.detail.is_some() {
                s.modal = Some(Modal::Input {
                    purpose: InputPurpose::Search,
                    text: String::new(),
                });
            }
        }
        Action::SearchNext => search_next(s, true),
        Action::Follow => {
            if let Some(d) = s.detail.as_mut() {
                d.follow = !d.follow;
            }
        }
        Action::RunbookUp | Action::RunbookDown => {
            if let Some(d) = s.detail.as_mut() {
                d.runbook_scroll = if action == Action::RunbookUp {
                    d.runbook_scroll.saturating_sub(3)
                } else {
                    d.runbook_scroll + 3
                };
            }
        }
        Action::Refresh if s.screen == Screen::Schedule => fx.push(Effect::LoadSchedule),
        Action::Refresh if s.screen == Screen::Sla => fx.push(Effect::LoadSla),
        // The browse screens' own actions (see `browse::act`): nothing elsewhere.
        Action::Filter
        | Action::Preview
        | Action::Export
        | Action::Load
        | Action::Delete
        | Action::Parent
        | Action::Refresh => {}
        Action::PoolGrow | Action::PoolShrink => {
            let Some(p) = s.pools.get_mut(s.pool_cursor) else {
                return;
            };
            let size = if action == Action::PoolGrow {
                p.size + 1
            } else {
                p.size - 1
            };
            if let Err(e) = crate::config::rules::pool_size(size) {
                let text = format!("pool {}: {e}", p.name);
                return flash(s, false, text);
            }
            if size != p.size {
                // Shown at once; the store confirms within a second.
                p.size = size;
                fx.push(Effect::ResizePool {
                    name: p.name.clone(),
                    size,
                });
            }
        }
    }
}

/// Opens the selected task on the task screen (Esc comes back to the runs).
pub(super) fn open_task(s: &mut State, fx: &mut Vec<Effect>) {
    let Some((run_id, t)) = target(s) else {
        return;
    };
    s.screen = Screen::Task;
    s.task_back = Screen::Runs;
    s.detail = Some(Detail {
        run_id,
        task_id: t.task_id.clone(),
        attempt: t.attempt,
        follow: true,
        ..Detail::default()
    });
    fx.push(Effect::LoadDetail {
        run_id,
        task_id: t.task_id.clone(),
    });
    fx.push(Effect::LoadLogs {
        run_id,
        task_id: t.task_id,
        attempt: t.attempt,
        after: 0,
    });
}

pub(super) fn go(s: &mut State, screen: Screen, fx: &mut Vec<Effect>) {
    s.screen = screen;
    match screen {
        Screen::Pools => fx.push(Effect::LoadPools),
        Screen::Journal => {
            if let Some(r) = s.selected_run() {
                fx.push(Effect::LoadJournal(r.id));
            }
        }
        Screen::Sources | Screen::Stores | Screen::Warehouse => browse::entered(s, fx),
        Screen::Backfill => fx.push(Effect::LoadBackfill(backfill::wanted(s))),
        Screen::Schedule => fx.push(Effect::LoadSchedule),
        Screen::Sla => fx.push(Effect::LoadSla),
        Screen::Timeline => timeline::open(s, fx),
        Screen::Runs | Screen::Task | Screen::Graph => {}
    }
}

fn move_cursor(s: &mut State, action: &Action, fx: &mut Vec<Effect>) {
    let step = |cur: usize, len: usize| -> usize {
        match action {
            Action::Up => cur.saturating_sub(1),
            Action::Down => (cur + 1).min(len.saturating_sub(1)),
            Action::Top => 0,
            _ => len.saturating_sub(1),
        }
    };
    match s.screen {
        Screen::Runs if s.focus == Focus::Runs => {
            let i = step(s.run_cursor, s.runs.len());
            select_run(s, i, fx);
        }
        Screen::Runs => s.task_cursor = step(s.task_cursor, s.tasks.len()),
        Screen::Pools => s.pool_cursor = step(s.pool_cursor, s.pools.len()),
        Screen::Task => scroll_log(s, action),
        Screen::Graph => graph::step(s, action),
        Screen::Backfill => backfill::move_cursor(s, action),
        Screen::Schedule => schedule::move_cursor(s, action),
        Screen::Sla => sla::move_cursor(s, action),
        Screen::Journal => s.journal_cursor = step(s.journal_cursor, s.journal.len()),
        Screen::Timeline => timeline::move_cursor(s, action),
        // `browse::act` moves these screens' cursors.
        Screen::Sources | Screen::Stores | Screen::Warehouse => {}
    }
}

/// Scrolls the open task's log from what is on screen: leaving the tail
/// goes up from the last lines, not from the top of the log; the end is
/// where the last line sits at the bottom of the pane, and `bottom` follows
/// the log again.
fn scroll_log(s: &mut State, action: &Action) {
    let area = super::view::log_area(s);
    let Some(d) = s.detail.as_mut() else {
        return;
    };
    let (tail, page) = match area {
        Some(a) => (
            super::view::tail_start(d, a),
            usize::from(a.height.saturating_sub(3)).max(1),
        ),
        None => (d.log.len().saturating_sub(1), 1),
    };
    let at = if d.follow { tail } else { d.scroll };
    // Down stops at the end (a search may have left the view past it).
    let end = tail.max(at);
    let to = match action {
        Action::Up => at.saturating_sub(1),
        Action::PageUp => at.saturating_sub(page),
        Action::Down => (at + 1).min(end),
        Action::PageDown => (at + page).min(end),
        Action::Top => 0,
        _ => {
            d.follow = true;
            return;
        }
    };
    if d.follow && to >= tail {
        // Already at the end: keep following.
        return;
    }
    d.follow = false;
    d.scroll = to;
}

fn click(s: &mut State, column: u16, row: u16, fx: &mut Vec<Effect>) {
    // The same layout the views draw: a click selects the row under it.
    match super::view::hit_test(s, column, row) {
        Some(super::view::Hit::Run(i)) => {
            s.focus = Focus::Runs;
            select_run(s, i, fx);
        }
        Some(super::view::Hit::Task(i)) => {
            s.focus = Focus::Tasks;
            s.task_cursor = i.min(s.tasks.len().saturating_sub(1));
        }
        Some(super::view::Hit::BackfillRun(i)) => {
            s.backfill.cursor = i.min(s.backfill.runs.len().saturating_sub(1));
        }
        None => {}
    }
}

fn confirm_rerun(s: &mut State, run_id: i64, sel: RerunSelection, title: String) {
    let chosen = match rerun_selection(&s.tasks, &sel, run_id) {
        Ok(c) => c,
        Err(e) => return flash(s, false, crate::text::error_chain(&e)),
    };
    if chosen.is_empty() {
        return flash(
            s,
            false,
            "nothing to rerun: no failed, interrupted or cancelled task",
        );
    }
    let tasks: Vec<(String, TaskState)> = chosen
        .iter()
        .map(|&i| (s.tasks[i].task_id.clone(), s.tasks[i].state))
        .collect();
    let cancel_first: Vec<String> = tasks
        .iter()
        .filter(|(_, st)| *st == TaskState::Running)
        .map(|(id, _)| id.clone())
        .collect();
    let request = Request::Rerun(sel);
    let effect = if cancel_first.is_empty() {
        Effect::Request { run_id, request }
    } else {
        Effect::CancelThenRerun {
            run_id,
            cancel: cancel_first.clone(),
            request,
        }
    };
    s.modal = Some(Modal::Confirm(Confirm {
        title,
        run_id,
        tasks,
        cancel_first,
        effect,
        scroll: 0,
    }));
}

pub(super) fn search_next(s: &mut State, skip_current: bool) {
    let Some(d) = s.detail.as_mut() else {
        return;
    };
    let Some(q) = d.search.clone().filter(|q| !q.is_empty()) else {
        return;
    };
    let q = q.to_lowercase();
    let start = d.scroll + usize::from(skip_current);
    let n = d.log.len();
    let hit = (0..n)
        .map(|k| (start + k) % n.max(1))
        .find(|&i| d.log[i].line.to_lowercase().contains(&q));
    match hit {
        Some(i) => {
            d.follow = false;
            d.scroll = i;
        }
        None => flash(s, false, format!("no line matches `{q}`")),
    }
}
