//! The journal of the selected run: who did what, when, to which tasks.
//! Newest first, because the last thing done is what the next person asks.
//! Notes and long task lists wrap, so what was written is read in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::fmt::{hms, truncate, width, word_wrap};
use super::{highlight, pane, shown_run};
use crate::engine::request::describe_detail;
use crate::tui::action::Action;
use crate::tui::{Keymap, Mode, State, Theme};

/// Rows one entry may take before it is cut with "…".
const MAX_ROWS: usize = 6;
const SPACING: u16 = 2;

/// Entries in the order they are shown (newest first; entries of the same
/// millisecond keep the order they came in): what the cursor indexes.
fn ordered(state: &State) -> Vec<&crate::engine::store::JournalEntry> {
    let mut entries: Vec<_> = state.journal.iter().collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    entries
}

/// Wrapped to `w` columns, at most MAX_ROWS rows (the last one cut with "…").
fn rows_of(text: &str, w: usize) -> Vec<String> {
    let mut rows = word_wrap(text, w);
    if rows.len() > MAX_ROWS {
        rows.truncate(MAX_ROWS);
        if let Some(last) = rows.last_mut() {
            *last = truncate(&format!("{last} …"), w);
        }
    }
    rows
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keys: &Keymap) {
    let run = state.journal_of.or(shown_run(state));
    let title = match run {
        Some(r) => format!(" Journal · run {r} ({}) ", state.journal.len()),
        None => " Journal ".to_string(),
    };
    let block = pane(Line::from(title), true, theme);
    let dim = theme.get("dim");
    if state.journal.is_empty() {
        let key = keys.key_for(Mode::Journal, &Action::Note).unwrap_or("n");
        let text = if state.readonly {
            "Nothing recorded for this run yet.".to_string()
        } else {
            format!("Nothing recorded for this run yet. Press {key} to add a note.")
        };
        frame.render_widget(Paragraph::new(Line::styled(text, dim)).block(block), area);
        return;
    }
    let entries = ordered(state);
    let who_w = entries
        .iter()
        .map(|e| width(&e.who))
        .max()
        .unwrap_or(3)
        .clamp(3, 16);
    let act_w = entries
        .iter()
        .map(|e| width(&e.action))
        .max()
        .unwrap_or(6)
        .clamp(6, 12);
    // The cursor column, borders, and the fixed columns with their spacing.
    let inner = usize::from(area.width.saturating_sub(3));
    let fixed = 8 + who_w + act_w + 3 * usize::from(SPACING);
    let rest = inner.saturating_sub(fixed + usize::from(SPACING));
    // Tasks take what they need up to a third; the detail (notes) the rest.
    let tasks_w = entries
        .iter()
        .map(|e| width(&e.tasks.join(", ")))
        .max()
        .unwrap_or(0)
        .clamp(5, (rest / 3).max(5));
    let detail_w = rest.saturating_sub(tasks_w).max(1);

    let rows = entries.iter().map(|e| {
        let action_style = match e.action.as_str() {
            "note" => theme.get("text"),
            _ => theme.get("warning"),
        };
        let tasks = rows_of(&e.tasks.join(", "), tasks_w);
        let detail = rows_of(
            &describe_detail(e.detail.as_deref().unwrap_or("")),
            detail_w,
        );
        let height = tasks.len().max(detail.len()).max(1) as u16;
        let text =
            |rows: Vec<String>| Text::from(rows.into_iter().map(Line::from).collect::<Vec<_>>());
        Row::new(vec![
            Cell::from(Span::styled(hms(e.at), dim)),
            Cell::from(truncate(&e.who, who_w)),
            Cell::from(Span::styled(e.action.clone(), action_style)),
            Cell::from(text(tasks)),
            Cell::from(text(detail)),
        ])
        .height(height)
        .style(theme.get("text"))
    });
    let header = Row::new(
        ["time", "who", "action", "tasks", "detail"].map(|h| Cell::from(Span::styled(h, dim))),
    );
    let widths = [
        Constraint::Length(8),
        Constraint::Length(who_w as u16),
        Constraint::Length(act_w as u16),
        Constraint::Length(tasks_w as u16),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(SPACING)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(highlight(true, theme));
    let selected = state.journal_cursor.min(entries.len().saturating_sub(1));
    let mut ts = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut ts);
}
