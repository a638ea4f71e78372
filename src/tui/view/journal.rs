//! The journal of the selected run: who did what, when, to which tasks.
//! Newest first, because the last thing done is what the next person asks.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fmt::hms;
use super::{pane, shown_run};
use crate::tui::action::Action;
use crate::tui::{Keymap, Mode, State, Theme};

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
    let mut entries: Vec<_> = state.journal.iter().collect();
    // Stable: entries of the same millisecond keep the order they came in.
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    let who_w = entries
        .iter()
        .map(|e| e.who.chars().count())
        .max()
        .unwrap_or(3);
    let act_w = entries
        .iter()
        .map(|e| e.action.chars().count())
        .max()
        .unwrap_or(6);
    let rows = entries.into_iter().map(|e| {
        let action_style = match e.action.as_str() {
            "note" => theme.get("text"),
            _ => theme.get("warning"),
        };
        Row::new(vec![
            Cell::from(Span::styled(hms(e.at), dim)),
            Cell::from(e.who.clone()),
            Cell::from(Span::styled(e.action.clone(), action_style)),
            Cell::from(e.tasks.join(", ")),
            Cell::from(e.detail.clone().unwrap_or_default()),
        ])
        .style(theme.get("text"))
    });
    let header = Row::new(
        ["time", "who", "action", "tasks", "detail"].map(|h| Cell::from(Span::styled(h, dim))),
    );
    let widths = [
        Constraint::Length(8),
        Constraint::Length(who_w.clamp(3, 16) as u16),
        Constraint::Length(act_w.clamp(6, 12) as u16),
        Constraint::Percentage(30),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(2);
    frame.render_widget(table, area);
}
