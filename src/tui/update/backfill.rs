//! The backfill screen: what the store sends back, the keys, and opening
//! the form that starts a backfill (`forms.rs` checks and submits it).

use super::forms::open_backfill;
use super::*;
use crate::engine::store::{BackfillRow, BackfillRun};

/// Which backfill the screen opens on: the selected run's, else the one
/// already shown, else the newest.
pub(super) fn wanted(s: &State) -> Option<i64> {
    s.selected_run()
        .and_then(|r| r.backfill_id)
        .or(s.backfill.shown.as_ref().map(|b| b.id))
}

pub(super) fn on_backfills(
    s: &mut State,
    list: Vec<BackfillRow>,
    shown: Option<(BackfillRow, Vec<BackfillRun>)>,
) {
    let b = &mut s.backfill;
    b.list = list;
    b.loaded = true;
    match shown {
        Some((row, runs)) => {
            if b.shown.as_ref().map(|x| x.id) != Some(row.id) {
                b.cursor = 0;
            }
            b.shown = Some(row);
            b.runs = runs;
            b.cursor = b.cursor.min(b.runs.len().saturating_sub(1));
        }
        None => {
            b.shown = None;
            b.runs.clear();
            b.cursor = 0;
        }
    }
    s.dirty = true;
}

pub(super) fn on_started(s: &mut State, id: i64, fx: &mut Vec<Effect>) {
    s.screen = Screen::Backfill;
    s.modal = None;
    s.backfill.cursor = 0;
    fx.push(Effect::LoadBackfill(Some(id)));
    s.dirty = true;
}

/// Runs changed: the backfill on screen is reread.
pub(super) fn on_changed(s: &State, any_run: bool, fx: &mut Vec<Effect>) {
    if any_run && s.screen == Screen::Backfill {
        fx.push(Effect::LoadBackfill(
            s.backfill.shown.as_ref().map(|b| b.id),
        ));
    }
}

pub(super) fn move_cursor(s: &mut State, action: &Action) {
    let n = s.backfill.runs.len();
    let c = &mut s.backfill.cursor;
    *c = match action {
        Action::Up => c.saturating_sub(1),
        Action::Down => (*c + 1).min(n.saturating_sub(1)),
        Action::Top => 0,
        _ => n.saturating_sub(1),
    };
}

/// `[` and `]`: the newer or older backfill.
pub(super) fn switch(s: &mut State, older: bool, fx: &mut Vec<Effect>) {
    let list = &s.backfill.list;
    let at = s
        .backfill
        .shown
        .as_ref()
        .and_then(|b| list.iter().position(|x| x.id == b.id))
        .unwrap_or(0);
    let to = if older {
        (at + 1).min(list.len().saturating_sub(1))
    } else {
        at.saturating_sub(1)
    };
    if let Some(b) = list.get(to)
        && Some(b.id) != s.backfill.shown.as_ref().map(|x| x.id)
    {
        fx.push(Effect::LoadBackfill(Some(b.id)));
    }
}

/// Enter: the date's run, selected on the runs screen.
pub(super) fn open(s: &mut State, fx: &mut Vec<Effect>) {
    let Some(run) = s.backfill.runs.get(s.backfill.cursor).map(|r| r.run.id) else {
        return;
    };
    match s.runs.iter().position(|r| r.id == run) {
        Some(i) => {
            s.screen = Screen::Runs;
            s.focus = Focus::Tasks;
            select_run(s, i, fx);
        }
        None => flash(
            s,
            false,
            format!("run {run} is older than the runs listed: `switchyard status --run {run}`"),
        ),
    }
}

/// The form, prefilled from what is on screen.
pub(super) fn new_form(s: &mut State) {
    if s.backfill.pipelines.is_empty() {
        return flash(s, false, "this workspace has no pipeline to backfill");
    }
    let preferred = s.selected_run().map(|r| r.pipeline.clone()).or(s
        .backfill
        .shown
        .as_ref()
        .map(|b| b.pipeline.clone()));
    let today = chrono::DateTime::from_timestamp_millis(s.now)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let form = open_backfill(&s.backfill.pipelines, preferred.as_deref(), today);
    s.modal = Some(Modal::Form(form));
}
