//! Keys on the graph screen. The cursor is the task cursor itself, so the
//! node selected here is the task selected on the runs and task screens.

use super::*;
use crate::tui::graph::{self, NodeKind, Step, fan_out_of};

fn built(s: &State) -> graph::Graph {
    graph::build(&s.tasks, &s.graph.expanded)
}

/// Moves to the next node in `action`'s direction.
pub(super) fn step(s: &mut State, action: &Action) {
    let g = built(s);
    let Some(cur) = g.node_of_task(s.task_cursor) else {
        return;
    };
    let to = match action {
        Action::Up => g.step(cur, Step::Up),
        Action::Down => g.step(cur, Step::Down),
        Action::Left => g.step(cur, Step::Left),
        Action::Right => g.step(cur, Step::Right),
        Action::Top | Action::Bottom => {
            // The first or last node of the column.
            let col = g.layout.nodes.get(cur).map(|p| p.layer);
            let col = col.and_then(|l| g.layout.layers.get(l));
            if action == &Action::Top {
                col.and_then(|c| c.first().copied())
            } else {
                col.and_then(|c| c.last().copied())
            }
        }
        _ => None,
    };
    if let Some(n) = to {
        // A folded fan-out stands for its worst instance.
        s.task_cursor = g.nodes[n].members[0];
        s.graph.offset = crate::tui::view::graph_scroll_of(s, &g);
    }
}

/// Unfolds the fan-out under the cursor, or folds the one the selected
/// instance belongs to. The cursor stays on the same task.
pub(super) fn fold(s: &mut State) {
    let g = built(s);
    let Some(cur) = g.node_of_task(s.task_cursor) else {
        return;
    };
    match &g.nodes[cur].kind {
        NodeKind::Group { parent } => {
            s.graph.expanded.insert(parent.clone());
        }
        NodeKind::Task => {
            let parent = s.selected_task().and_then(fan_out_of).map(str::to_string);
            match parent {
                Some(p) if s.graph.expanded.remove(&p) => {}
                _ => return flash(s, false, "not part of a fan-out: nothing to fold"),
            }
        }
    }
    s.graph.offset = crate::tui::view::graph_scroll(s);
}

/// Enter: a folded fan-out unfolds; a task opens (Esc comes back here).
pub(super) fn open(s: &mut State, fx: &mut Vec<Effect>) {
    let g = built(s);
    let Some(cur) = g.node_of_task(s.task_cursor) else {
        return;
    };
    if matches!(g.nodes[cur].kind, NodeKind::Group { .. }) {
        return fold(s);
    }
    s.focus = Focus::Tasks;
    open_task(s, fx);
    if s.screen == Screen::Task {
        s.task_back = Screen::Graph;
    }
}
