//! Which row a mouse click lands on, from the same layout the views draw, so
//! `update` need not know where anything is.

use ratatui::layout::{Position, Rect};

use super::runs;
use crate::tui::State;
use crate::tui::state::Screen;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// An index into `state.runs`.
    Run(usize),
    /// An index into `state.tasks`.
    Task(usize),
    /// A date (run) of the backfill on screen.
    BackfillRun(usize),
}

/// The list row under (`column`, `row`) on a terminal of `state.size`, as
/// drawn from `state` (runs screen only; no hit under an overlay).
pub fn hit_test(state: &State, column: u16, row: u16) -> Option<Hit> {
    if state.modal.is_some() {
        return None;
    }
    match state.screen {
        Screen::Runs => {}
        Screen::Graph => return super::graph::hit(state, column, row).map(Hit::Task),
        Screen::Backfill => return super::backfill::hit(state, column, row).map(Hit::BackfillRun),
        _ => return None,
    }
    let (w, h) = state.size;
    // The body between the header and footer rows, as `draw` lays it out.
    let body = Rect::new(0, 1, w, h.saturating_sub(2));
    let at = Position::new(column, row);
    let (runs, tasks) = runs::panes(body, state);
    if let Some(area) = runs.filter(|a| a.contains(at)) {
        let cursor = state.run_cursor.min(state.runs.len().saturating_sub(1));
        let i = list_row(area, 0, cursor, row)?;
        return (i < state.runs.len()).then_some(Hit::Run(i));
    }
    if let Some(area) = tasks.filter(|a| a.contains(at)) {
        let head = u16::from(runs::table_has_header(area));
        let cursor = state.task_cursor.min(state.tasks.len().saturating_sub(1));
        let i = list_row(area, head, cursor, row)?;
        return (i < state.tasks.len()).then_some(Hit::Task(i));
    }
    None
}

/// The index under screen row `row` of a bordered one-line-per-item list
/// whose cursor is `cursor`: ratatui scrolls just enough to show the cursor.
fn list_row(area: Rect, head: u16, cursor: usize, row: u16) -> Option<usize> {
    let top = area.y + 1 + head;
    let visible = area.height.saturating_sub(2 + head);
    if row < top || row >= top + visible {
        return None;
    }
    let offset = (cursor + 1).saturating_sub(usize::from(visible));
    Some(offset + usize::from(row - top))
}
