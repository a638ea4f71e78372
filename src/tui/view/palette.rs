//! The command palette: ":" + what was typed, and the commands it can become.
//! `palette_completions` is also what `update` completes and runs with.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::{truncate, width};
use super::{highlight, pane, popup_at};
use crate::tui::theme::BUNDLED;
use crate::tui::{State, Theme};

/// Rows of completions shown at most.
const MAX_SHOWN: usize = 8;

/// Every command whose text starts with `input` (ignoring case and leading
/// blanks), in a fixed order: screens, pool resizes (with the pool's current
/// size, to edit), themes, quit. An empty input lists them all.
pub fn palette_completions(state: &State, input: &str) -> Vec<String> {
    let typed = input.trim_start().to_lowercase();
    let mut all: Vec<String> = [
        "runs",
        "pools",
        "journal",
        "sources",
        "stores",
        "warehouse",
        "graph",
        "backfills",
        "schedule",
        "sla",
    ]
    .map(String::from)
    .to_vec();
    all.extend(
        state
            .pools
            .iter()
            .map(|p| format!("pool {} {}", p.name, p.size)),
    );
    all.extend(BUNDLED.iter().map(|(name, _)| format!("theme {name}")));
    all.push("q".into());
    all.into_iter()
        .filter(|c| c.to_lowercase().starts_with(&typed))
        .collect()
}

/// What a completion does, shown dimmed beside it.
fn describe(state: &State, cmd: &str) -> String {
    let mut words = cmd.split_whitespace();
    match (words.next(), words.next()) {
        (Some("runs"), _) => "runs and their tasks".into(),
        (Some("pools"), _) => "pool use and waiting tasks".into(),
        (Some("journal"), _) => "who did what on this run".into(),
        (Some("sources"), _) => "tables and column types; export one".into(),
        (Some("stores"), _) => "exported files; load or delete one".into(),
        (Some("warehouse"), _) => "loaded tables, schema and rows".into(),
        (Some("graph"), _) => "the selected run as a graph".into(),
        (Some("backfills"), _) => "a backfill date by date; start one".into(),
        (Some("schedule"), _) => "next slots, deadlines, who is late".into(),
        (Some("sla"), _) => "on time by week, misses, time to recover".into(),
        (Some("pool"), Some(name)) => match state.pools.iter().find(|p| p.name == name) {
            Some(p) => format!("resize ({}/{} running now)", p.running, p.size),
            None => "resize".into(),
        },
        (Some("theme"), Some(name)) if name == state.theme => "colours (current)".into(),
        (Some("theme"), _) => "colours".into(),
        (Some("q"), _) => "quit (runs keep going)".into(),
        _ => String::new(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, input: &str, sel: usize) {
    let list = palette_completions(state, input);
    let shown = list.len().clamp(1, MAX_SHOWN);
    let w = area.width.saturating_sub(4).min(64);
    let h = (shown as u16 + 3).min(area.height);
    // In the upper third, where the eye already is, not over the footer.
    let r = popup_at(frame, area, w, h, 3);
    let mut block = pane(Line::from(" Command "), true, theme);
    let sel = sel.min(list.len().saturating_sub(1));
    // Scroll the completions so the selected one is visible.
    let start = (sel + 1).saturating_sub(MAX_SHOWN);
    let below = list.len().saturating_sub(start + MAX_SHOWN);
    if below > 0 {
        block = block.title_bottom(Line::styled(format!(" {below} more ↓ "), theme.get("dim")));
    }
    let inner = block.inner(r);
    frame.render_widget(block, r);
    if inner.is_empty() {
        return;
    }
    let iw = usize::from(inner.width);
    // The end of a long input is what is being typed.
    let tail = tail(input, iw.saturating_sub(2));
    let mut lines = vec![Line::from(vec![
        Span::styled(":", theme.get("key")),
        Span::styled(tail.clone(), theme.get("text")),
    ])];
    let cursor_x = inner.x + (1 + width(&tail)).min(iw.saturating_sub(1)) as u16;
    frame.set_cursor_position(Position::new(cursor_x, inner.y));

    if list.is_empty() {
        lines.push(Line::styled(
            " no such command: Enter tries it as typed",
            theme.get("dim"),
        ));
    }
    let cmd_w = list.iter().map(|c| width(c)).max().unwrap_or(0).min(iw / 2);
    for (i, cmd) in list.iter().enumerate().skip(start).take(MAX_SHOWN) {
        let desc = truncate(&describe(state, cmd), iw.saturating_sub(cmd_w + 4));
        let mut line = Line::from(vec![
            Span::styled(
                format!(" {:<cmd_w$}  ", truncate(cmd, cmd_w)),
                theme.get("text"),
            ),
            Span::styled(desc, theme.get("dim")),
        ]);
        if i == sel {
            for s in &mut line.spans {
                s.style = s.style.patch(highlight(true, theme));
            }
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The end of `text` that fits in `room` columns.
pub(crate) fn tail(text: &str, room: usize) -> String {
    let mut used = 0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        used += super::fmt::char_width(c);
        if used > room {
            break;
        }
        start = i;
    }
    text.get(start..).unwrap_or("").to_string()
}
