//! The backfill screen: one row per date, its run, state, task counts and
//! progress (the form that starts a backfill is a `tui::form`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::cells::run_glyph;
use super::fmt;
use super::{highlight, pane};
use crate::engine::state::{RunState, TaskState};
use crate::tui::action::Action;
use crate::tui::{Keymap, Mode, State, Theme};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keys: &Keymap) {
    let b = &state.backfill;
    let new_key = keys
        .key_for(Mode::Backfill, &Action::NewBackfill)
        .unwrap_or("n");
    let Some(bf) = &b.shown else {
        let text = if !b.loaded {
            "Loading backfills…".to_string()
        } else if state.readonly {
            "No backfills yet.".to_string()
        } else {
            format!("No backfills yet: press {new_key} to start one.")
        };
        let p = Paragraph::new(Line::styled(text, theme.get("dim"))).block(pane(
            Line::from(" Backfills "),
            true,
            theme,
        ));
        frame.render_widget(p, area);
        return;
    };
    let at = b
        .list
        .iter()
        .position(|x| x.id == bf.id)
        .map_or(0, |i| i + 1);
    let title = format!(
        " Backfill {} · {} · {} → {} · {} at once ",
        bf.id, bf.pipeline, bf.from_date, bf.to_date, bf.max_active
    );
    let mut block = pane(Line::from(title), true, theme);
    if b.list.len() > 1 {
        block = block.title_bottom(
            Line::styled(
                format!(" {at} of {} · [ newer · ] older ", b.list.len()),
                theme.get("dim"),
            )
            .right_aligned(),
        );
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let [summary, table] =
        Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(summary_line(state, theme)), summary);

    let bar_w = if inner.width >= 100 { 20 } else { 10 };
    let dim = theme.get("dim");
    let text = theme.get("text");
    let rows = b.runs.iter().map(|r| {
        let total: i64 = r.counts.iter().map(|(_, n)| n).sum();
        let done: i64 = r
            .counts
            .iter()
            .filter(|(s, _)| s.is_terminal())
            .map(|(_, n)| n)
            .sum();
        let (glyph, style) = run_glyph(r.run.state, theme);
        let (full, empty) = fmt::bar(done, total, bar_w);
        let progress = Line::from(vec![
            Span::styled(full, theme.get("gauge")),
            Span::styled(empty, dim),
            Span::styled(format!(" {done}/{total}"), text),
        ]);
        let elapsed = match (r.run.started_at, r.run.finished_at) {
            (Some(a), Some(b)) => fmt::duration(b - a),
            (Some(a), None) if r.run.state == RunState::Running => fmt::duration(state.now - a),
            _ => String::new(),
        };
        Row::new(vec![
            Cell::from(Span::styled(glyph, style)),
            Cell::from(Span::styled(r.run.run_date.clone(), text)),
            Cell::from(Line::styled(r.run.id.to_string(), dim).right_aligned()),
            Cell::from(Span::styled(r.run.state.as_str(), style)),
            Cell::from(progress),
            Cell::from(Span::styled(elapsed, dim)),
            Cell::from(counts(&r.counts, theme)),
        ])
    });
    let widths = [
        Constraint::Length(2),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(bar_w as u16 + 10),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    let heads = ["", "date", "run", "state", "tasks done", "took", "tasks"];
    let t = Table::new(rows, widths)
        .header(Row::new(heads.map(|h| Cell::from(Span::styled(h, dim)))))
        .column_spacing(1)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(highlight(true, theme));
    let mut ts = TableState::default().with_selected(Some(b.cursor));
    frame.render_stateful_widget(t, table, &mut ts);
}

/// The row of the backfill table at (`column`, `row`), as `draw` lays it out.
pub fn hit(state: &State, column: u16, row: u16) -> Option<usize> {
    let (w, h) = state.size;
    let body = Rect::new(0, 1, w, h.saturating_sub(2));
    // Inside the pane's border, as `pane` draws it.
    let inner = ratatui::widgets::Block::bordered().inner(body);
    if !inner.contains(Position::new(column, row)) || state.backfill.shown.is_none() {
        return None;
    }
    // Two summary lines and the heading above the rows.
    let top = inner.y + 3;
    let visible = usize::from(inner.height.saturating_sub(3));
    if row < top || visible == 0 {
        return None;
    }
    let offset = (state.backfill.cursor + 1).saturating_sub(visible);
    let i = offset + usize::from(row - top);
    (i < state.backfill.runs.len()).then_some(i)
}

/// "3 dates: ✓ 2 succeeded · ▶ 1 running": where the backfill stands.
fn summary_line(state: &State, theme: &Theme) -> Line<'static> {
    let runs = &state.backfill.runs;
    let mut spans = vec![Span::styled(
        format!(
            "{} date{}: ",
            runs.len(),
            if runs.len() == 1 { "" } else { "s" }
        ),
        theme.get("text"),
    )];
    for (rs, label) in [
        (RunState::Failed, "failed"),
        (RunState::Running, "running"),
        (RunState::Queued, "queued"),
        (RunState::Succeeded, "succeeded"),
    ] {
        let n = runs.iter().filter(|r| r.run.state == rs).count();
        if n > 0 {
            let (g, style) = run_glyph(rs, theme);
            spans.push(Span::styled(format!("{g} {n} {label}  "), style));
        }
    }
    Line::from(spans)
}

fn counts(counts: &[(TaskState, i64)], theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for s in super::cells::WORST_FIRST {
        let n: i64 = counts.iter().filter(|(c, _)| *c == s).map(|(_, n)| n).sum();
        if n > 0 {
            if !spans.is_empty() {
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(format!("{}{n}", s.glyph()), theme.task(s)));
        }
    }
    Line::from(spans)
}

#[cfg(test)]
#[path = "backfill_tests.rs"]
mod tests;
