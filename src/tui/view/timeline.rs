//! The Timeline screen: one run's incident in time order, as
//! `engine::timeline` built it (the same entries `switchyard timeline`
//! prints). The summary on top, one row per entry, and the highlighted
//! entry in full at the bottom, since an error or a note rarely fits a row.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::fmt::{hms, truncate, word_wrap};
use super::{highlight, pane};
use crate::engine::timeline::render::summary_lines;
use crate::engine::timeline::{Entry, EntryKind, Timeline};
use crate::tui::{State, Theme};

const WHAT_W: u16 = 9;
/// Rows for the highlighted entry in full, when the screen has room.
const FULL_ROWS: usize = 3;

/// Times in the local zone, as every other screen shows them (UTC under
/// test, so snapshots do not depend on the machine).
fn summary(tl: &Timeline) -> Vec<String> {
    #[cfg(not(test))]
    return summary_lines(tl, &chrono::Local);
    #[cfg(test)]
    return summary_lines(tl, &chrono::Utc);
}

fn style_of(e: &Entry, theme: &Theme) -> Style {
    match e.kind {
        EntryKind::TaskFailed => theme.get("task_failed"),
        EntryKind::TaskSucceeded => theme.get("task_succeeded"),
        EntryKind::TaskRetry => theme.get("task_retrying"),
        EntryKind::Alert if e.alert.as_deref() == Some("recovered") => theme.get("ok"),
        EntryKind::Alert | EntryKind::Deadline => theme.get("warning"),
        EntryKind::Delivery if e.state.as_deref() == Some("delivered") => theme.get("dim"),
        EntryKind::Delivery => theme.get("error"),
        EntryKind::Journal => theme.get("text").add_modifier(Modifier::BOLD),
        EntryKind::RunFinished if e.state.as_deref() == Some("succeeded") => theme.get("ok"),
        EntryKind::RunFinished => theme.get("task_failed"),
        _ => theme.get("text"),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let tls = &state.timeline;
    let dim = theme.get("dim");
    let Some(tl) = tls.shown.as_ref().filter(|t| Some(t.run_id) == tls.run_id) else {
        let title = match tls.run_id {
            Some(r) => format!(" Timeline · run {r} "),
            None => " Timeline ".to_string(),
        };
        let p = Paragraph::new(Line::styled("loading…", dim)).block(pane(
            Line::from(title),
            true,
            theme,
        ));
        frame.render_widget(p, area);
        return;
    };
    let title = format!(
        " Timeline · run {} · {} {} · {} ({}) ",
        tl.run_id,
        tl.pipeline,
        tl.run_date,
        tl.state,
        tl.entries.len()
    );
    let block = pane(Line::from(title), true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let text_w = usize::from(inner.width.saturating_sub(8 + WHAT_W + 5)).max(1);
    let sum = summary(tl);
    let cursor = tls.cursor.min(tl.entries.len().saturating_sub(1));
    let full: Vec<String> = tl
        .entries
        .get(cursor)
        .map(|e| word_wrap(&e.text, usize::from(inner.width).max(1)))
        .unwrap_or_default();
    // The full text only when the row cuts it, and the list keeps room.
    let show_full = tl
        .entries
        .get(cursor)
        .is_some_and(|e| e.text.chars().count() > text_w)
        && usize::from(inner.height) >= sum.len() + FULL_ROWS + 6;
    let full_h = if show_full {
        full.len().min(FULL_ROWS)
    } else {
        0
    };
    let sum_h = if usize::from(inner.height) >= sum.len() + 4 {
        sum.len()
    } else {
        0
    };
    let [top, list, bottom] = Layout::vertical([
        Constraint::Length(sum_h as u16),
        Constraint::Fill(1),
        Constraint::Length(full_h as u16),
    ])
    .areas(inner);
    let sum_lines: Vec<Line> = sum
        .iter()
        .map(|l| Line::styled(truncate(l, usize::from(top.width)), dim))
        .collect();
    frame.render_widget(Paragraph::new(sum_lines), top);

    let rows = tl.entries.iter().map(|e| {
        let st = style_of(e, theme);
        Row::new(vec![
            Cell::from(Span::styled(hms(e.at_ms), dim)),
            Cell::from(Span::styled(e.kind.label(), st)),
            Cell::from(Span::styled(truncate(&e.text, text_w), st)),
        ])
    });
    let widths = [
        Constraint::Length(8),
        Constraint::Length(WHAT_W),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .column_spacing(2)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(highlight(true, theme));
    let mut ts = TableState::default().with_selected(Some(cursor));
    frame.render_stateful_widget(table, list, &mut ts);

    if full_h > 0 {
        let cut = full.len() > full_h;
        let mut lines: Vec<Line> = full
            .into_iter()
            .take(full_h)
            .map(|l| Line::styled(l, theme.get("text")))
            .collect();
        if let Some(last) = lines.last_mut()
            && cut
        {
            last.spans.push(Span::styled(" …", dim));
        }
        frame.render_widget(Paragraph::new(lines), bottom);
    }
}
