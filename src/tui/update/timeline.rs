//! The Timeline screen's flow: `t` opens the run on screen, the store's
//! changes to that run reload it, the cursor scrolls it, `w` asks the
//! runner to write it as Markdown, Esc goes back where `t` was pressed.

use super::flash;
use crate::engine::timeline::Timeline;
use crate::tui::action::{Action, Screen};
use crate::tui::state::{Effect, State};

/// Rows the header, footer, borders and summary take from a page.
const CHROME_ROWS: u16 = 8;

/// The run `t` is about: the open task's, else the one on screen.
fn run_on_screen(s: &State) -> Option<i64> {
    match (&s.screen, &s.detail) {
        (Screen::Task, Some(d)) => Some(d.run_id),
        _ => s.tasks_of.or(s.selected_run().map(|r| r.id)),
    }
}

pub(super) fn open(s: &mut State, fx: &mut Vec<Effect>) {
    let Some(run_id) = run_on_screen(s) else {
        return flash(s, false, "no run selected");
    };
    if s.timeline.run_id != Some(run_id) {
        s.timeline.shown = None;
        s.timeline.cursor = 0;
    }
    if s.screen != Screen::Timeline {
        s.timeline.back = s.screen;
    }
    s.timeline.run_id = Some(run_id);
    s.screen = Screen::Timeline;
    fx.push(Effect::LoadTimeline(run_id));
}

pub(super) fn back(s: &mut State) {
    s.screen = s.timeline.back;
}

pub(super) fn on_timeline(s: &mut State, run_id: i64, timeline: Timeline) {
    // A late answer for a run no longer asked for is dropped.
    if s.timeline.run_id != Some(run_id) {
        return;
    }
    s.timeline.cursor = s
        .timeline
        .cursor
        .min(timeline.entries.len().saturating_sub(1));
    s.timeline.shown = Some(timeline);
    s.dirty = true;
}

/// Something happened to a run: reload the timeline on screen if it is its.
pub(super) fn on_changed(s: &State, runs: &[i64], fx: &mut Vec<Effect>) {
    if s.screen == Screen::Timeline
        && let Some(id) = s.timeline.run_id.filter(|id| runs.contains(id))
    {
        fx.push(Effect::LoadTimeline(id));
    }
}

/// Deliveries move without events: a changed count may be this run's.
pub(super) fn on_undelivered(s: &State, fx: &mut Vec<Effect>) {
    if s.screen == Screen::Timeline
        && let Some(id) = s.timeline.run_id
    {
        fx.push(Effect::LoadTimeline(id));
    }
}

pub(super) fn move_cursor(s: &mut State, action: &Action) {
    let len = s.timeline.shown.as_ref().map_or(0, |t| t.entries.len());
    let last = len.saturating_sub(1);
    let page = usize::from(s.size.1.saturating_sub(CHROME_ROWS)).max(1);
    let cur = s.timeline.cursor;
    s.timeline.cursor = match action {
        Action::Up => cur.saturating_sub(1),
        Action::Down => (cur + 1).min(last),
        Action::PageUp => cur.saturating_sub(page),
        Action::PageDown => (cur + page).min(last),
        Action::Top => 0,
        _ => last,
    };
}

pub(super) fn write(s: &mut State, fx: &mut Vec<Effect>) {
    match s.timeline.run_id {
        Some(id) => fx.push(Effect::WriteTimeline(id)),
        None => flash(s, false, "no timeline on screen"),
    }
}
