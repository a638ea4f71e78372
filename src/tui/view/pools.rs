//! The pools screen: each pool's use as a gauge, how many tasks queue for
//! it, and which tasks of the selected run are among them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::{bar, truncate, width};
use super::{highlight, pane, shown_run};
use crate::engine::state::TaskState;
use crate::tui::{State, Theme};

/// Waiting tasks listed under a pool before "… and N more".
const MAX_WAITING: usize = 5;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = pane(
        Line::from(format!(" Pools ({}) ", state.pools.len())),
        true,
        theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.pools.is_empty() {
        let text = Line::styled(
            "No pools. Add `[pools.replica]` with `size = 4` to switchyard.toml to limit tasks.",
            theme.get("dim"),
        );
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    let dim = theme.get("dim");
    let name_w = state
        .pools
        .iter()
        .map(|p| width(&p.name))
        .max()
        .unwrap_or(0)
        .min(20);
    let gauge_w = usize::from(inner.width)
        .saturating_sub(name_w + 40)
        .clamp(4, 30);
    let run = shown_run(state);
    let cursor = state.pool_cursor.min(state.pools.len().saturating_sub(1));

    // Every row with the pool it belongs to, so the cursor's pool can be kept in view.
    let mut rows: Vec<(usize, Line<'static>)> = Vec::new();
    for (i, p) in state.pools.iter().enumerate() {
        let full = p.size > 0 && p.running >= p.size;
        let role = if full { "gauge_full" } else { "gauge" };
        let (done, left) = bar(p.running, p.size, gauge_w);
        // The cursor highlights the name, so the gauge keeps its colour.
        let (mark, name_style) = if i == cursor {
            ("›", highlight(true, theme))
        } else {
            (" ", theme.get("text"))
        };
        let mut line = Line::from(vec![
            Span::styled(mark, name_style),
            Span::styled(
                format!(" {:<name_w$} ", truncate(&p.name, name_w)),
                name_style,
            ),
            Span::raw(" "),
            Span::styled(done, theme.get(role)),
            Span::styled(left, dim),
            Span::styled(
                format!(" {}/{} running", p.running, p.size),
                theme.get(role),
            ),
            Span::styled(format!(" · {} queued", p.queued), dim),
        ]);
        if full {
            line.spans
                .push(Span::styled(" · full", theme.get("warning")));
        }
        rows.push((i, line));
        // What one more slot would do for the shown run's deadline.
        if let Some(f) = &state.forecast
            && let Some(w) = f.what_if.iter().find(|w| w.pool == p.name)
        {
            let saves = match (f.projected_at, w.projected_at) {
                (Some(now), Some(then)) if then < now => {
                    format!(" (saves {})", crate::config::duration::human(now - then))
                }
                _ => " (saves nothing)".to_string(),
            };
            let run = f.run_id.map(|r| format!(", run {r}")).unwrap_or_default();
            let text = format!("    one more slot, {}{saves}{run}", w.text(f));
            rows.push((i, Line::styled(text, theme.get("text"))));
        }

        let waiting: Vec<&str> = state
            .tasks
            .iter()
            .filter(|t| t.waiting_for_pool() == Some(p.name.as_str()))
            .map(|t| t.task_id.as_str())
            .collect();
        if let (Some(run), false) = (run, waiting.is_empty()) {
            let glyph = TaskState::Queued.glyph();
            let style = theme.task(TaskState::Queued);
            for t in waiting.iter().take(MAX_WAITING) {
                let text = format!("    {glyph} {t}  (run {run})");
                rows.push((i, Line::styled(text, style)));
            }
            if waiting.len() > MAX_WAITING {
                let text = format!("    … and {} more", waiting.len() - MAX_WAITING);
                rows.push((i, Line::styled(text, dim)));
            }
        }
    }

    // Scroll so that the cursor's pool, with its waiting tasks, is visible.
    let h = usize::from(inner.height);
    let first = rows.iter().position(|(i, _)| *i == cursor).unwrap_or(0);
    let last = rows
        .iter()
        .rposition(|(i, _)| *i == cursor)
        .unwrap_or(first);
    let start = if last + 1 > h {
        (last + 1 - h).min(first)
    } else {
        0
    };
    let shown: Vec<Line<'static>> = rows
        .into_iter()
        .skip(start)
        .take(h)
        .map(|(_, l)| l)
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
