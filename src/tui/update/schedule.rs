//! The Schedule screen and a run's alerts: what the store sends back, the
//! keys, and when to read them again (a slot came due, a run changed, a
//! delivery moved on).

use super::*;
use crate::engine::schedules::Overview;
use crate::engine::store::Undelivered;
use crate::tui::state::RunAlert;

pub(super) fn on_schedule(s: &mut State, shown: Overview) {
    let sc = &mut s.schedule;
    sc.cursor = sc.cursor.min(shown.pipelines.len().saturating_sub(1));
    sc.shown = shown;
    sc.loaded = true;
    s.dirty = true;
}

/// The clock moved: a countdown that reached its slot reads the schedule
/// again (the slot's run, the next slot).
pub(super) fn on_tick(s: &State, fx: &mut Vec<Effect>) {
    if s.screen == Screen::Schedule
        && (s.schedule.shown.pipelines.iter()).any(|r| r.next_slot.is_some_and(|t| t <= s.now))
    {
        fx.push(Effect::LoadSchedule);
    }
}

/// Runs changed: the last runs on the Schedule screen are reread.
pub(super) fn on_changed(s: &State, any_run: bool, fx: &mut Vec<Effect>) {
    if any_run && s.screen == Screen::Schedule {
        fx.push(Effect::LoadSchedule);
    }
}

pub(super) fn on_undelivered(s: &mut State, u: Undelivered, fx: &mut Vec<Effect>) {
    if s.undelivered == u {
        return;
    }
    s.undelivered = u;
    s.dirty = true;
    // A delivery moved on: the shown run's alerts say so too.
    if let Some(run) = s.alerts_of {
        fx.push(Effect::LoadAlerts(run));
    }
}

pub(super) fn on_alerts(s: &mut State, run_id: i64, alerts: Vec<RunAlert>) {
    if super::super::view::shown_run(s) == Some(run_id) {
        s.alerts = alerts;
        s.alerts_of = Some(run_id);
        s.dirty = true;
    }
}

pub(super) fn move_cursor(s: &mut State, action: &Action) {
    let n = s.schedule.shown.pipelines.len();
    let c = &mut s.schedule.cursor;
    *c = match action {
        Action::Up => c.saturating_sub(1),
        Action::Down => (*c + 1).min(n.saturating_sub(1)),
        Action::Top => 0,
        _ => n.saturating_sub(1),
    };
}

/// Enter: the pipeline's latest run on the runs screen, its tasks in focus.
pub(super) fn open(s: &mut State, fx: &mut Vec<Effect>) {
    let Some(row) = s.schedule.shown.pipelines.get(s.schedule.cursor) else {
        return;
    };
    let Some(run) = row.last_run.as_ref().map(|r| r.id) else {
        let text = format!("{} has not run yet", row.pipeline);
        return flash(s, false, text);
    };
    s.screen = Screen::Runs;
    s.focus = Focus::Tasks;
    match s.runs.iter().position(|r| r.id == run) {
        Some(i) => select_run(s, i, fx),
        None => {
            // Older than the runs list holds: read it with the list.
            s.start_at = Some((run, None));
            s.placed_cursor = false;
            s.run_cursor = usize::MAX;
            fx.push(Effect::LoadRuns);
        }
    }
}
