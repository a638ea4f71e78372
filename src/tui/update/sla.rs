//! The SLA screen: the report the runner computed, the cursor over its
//! pipelines, and when to compute it again (a run changed while it shows).

use super::*;
use crate::engine::sla::Report;

pub(super) fn on_report(s: &mut State, report: Report) {
    let sla = &mut s.sla;
    sla.cursor = sla.cursor.min(report.pipelines.len().saturating_sub(1));
    sla.shown = report;
    sla.loaded = true;
    s.dirty = true;
}

/// A run changed: a slot's outcome may have too. Only while the screen
/// shows, so a console elsewhere never pays for the report.
pub(super) fn on_changed(s: &State, any_run: bool, fx: &mut Vec<Effect>) {
    if any_run && s.screen == Screen::Sla {
        fx.push(Effect::LoadSla);
    }
}

pub(super) fn move_cursor(s: &mut State, action: &Action) {
    let n = s.sla.shown.pipelines.len();
    let c = &mut s.sla.cursor;
    *c = match action {
        Action::Up => c.saturating_sub(1),
        Action::Down => (*c + 1).min(n.saturating_sub(1)),
        Action::Top => 0,
        _ => n.saturating_sub(1),
    };
}
