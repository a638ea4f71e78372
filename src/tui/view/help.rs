//! Help: every binding of the current screen, generated from the keymap (so
//! a user's own keys are what it lists). Keys for the same action share a row.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::{truncate, width};
use super::{pane, popup};
use crate::tui::action::Action;
use crate::tui::keymap::Binding;
use crate::tui::{Keymap, Mode, Theme};

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, keys: &Keymap, mode: Mode) {
    // (keys, desc) per action, the screen's own bindings first.
    let mut rows: Vec<(Vec<&str>, String, Option<&Action>)> = Vec::new();
    let global = keys.bindings(Mode::Global);
    // The global screen keys share one row: "12378  Screens: 1 runs, 2 pools…".
    let screens: Vec<&Binding> = global
        .iter()
        .copied()
        .filter(|b| matches!(b.action, Action::Screen(_)) && b.on.chars().count() == 1)
        .collect();
    let mut screens_at = None;
    for b in keys.bindings(mode) {
        if screens.contains(&b) {
            screens_at.get_or_insert(rows.len());
            continue;
        }
        match rows.iter_mut().find(|r| r.2 == Some(&b.action)) {
            Some(r) => r.0.push(&b.on),
            None => rows.push((vec![b.on.as_str()], b.desc.clone(), Some(&b.action))),
        }
    }
    if let Some(at) = screens_at {
        let names: Vec<String> = screens
            .iter()
            .map(|b| format!("{} {}", b.on, super::chrome::short_label(b)))
            .collect();
        let desc = format!("Screens: {}", names.join(", "));
        let joined: Vec<&str> = screens.iter().map(|b| b.on.as_str()).collect();
        // One key name of all the digits: `12378`.
        rows.insert(at, (joined, desc, None));
    }
    let key_w = rows
        .iter()
        .map(|r| width(&keys_text(r)))
        .max()
        .unwrap_or(0)
        .min(14);
    let desc_w = rows.iter().map(|r| width(&r.1)).max().unwrap_or(0);
    let col_w = key_w + 2 + desc_w;
    let n = rows.len();
    // Two columns when the list is taller than the screen and there is room.
    let two = n + 2 > usize::from(area.height) && usize::from(area.width) >= 2 * 40 + 4;
    let per_col = if two { n.div_ceil(2) } else { n };
    let w = if two {
        area.width
    } else {
        (col_w + 4).min(usize::from(u16::MAX)) as u16
    };
    let h = (per_col + 2).min(usize::from(u16::MAX)) as u16;
    // Keep the header and footer in sight when the list leaves room for them.
    let within = if h.saturating_add(2) <= area.height {
        Rect::new(area.x, area.y + 1, area.width, area.height - 2)
    } else {
        area
    };
    let r = popup(frame, within, w, h);
    let title = Line::from(format!(" Help · {} · esc closes ", mode_name(mode)));
    let mut block = pane(title, true, theme);
    // Rows that do not fit are named, not silently dropped.
    let room = usize::from(r.height.saturating_sub(2));
    let cols_n = if two { 2 } else { 1 };
    let hidden: usize = rows
        .chunks(per_col.max(1))
        .take(cols_n)
        .map(|c| c.len().saturating_sub(room))
        .sum();
    if hidden > 0 {
        block = block.title_bottom(Line::styled(
            format!(" {hidden} more: a taller window shows them "),
            theme.get("dim"),
        ));
    }
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let cols: Vec<Rect> = if two {
        let [a, b] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(inner);
        vec![a, b]
    } else {
        vec![inner]
    };
    for (c, chunk) in cols.iter().zip(rows.chunks(per_col.max(1))) {
        let room = usize::from(c.width).saturating_sub(key_w + 3);
        let lines: Vec<Line> = chunk
            .iter()
            .map(|row| {
                let (_, desc, _) = row;
                let k = truncate(&keys_text(row), key_w);
                Line::from(vec![
                    Span::styled(format!(" {k:<key_w$}  "), theme.get("key")),
                    Span::styled(truncate(desc, room), theme.get("text")),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), *c);
    }
}

/// A row's keys as shown: the screen row's digits run together.
fn keys_text(row: &(Vec<&str>, String, Option<&Action>)) -> String {
    let sep = if row.2.is_none() { "" } else { " " };
    row.0.join(sep)
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Global => "everywhere",
        Mode::Runs => "runs",
        Mode::Task => "task",
        Mode::Pools => "pools",
        Mode::Journal => "journal",
        Mode::Sources => "sources",
        Mode::Stores => "stores",
        Mode::Warehouse => "warehouse",
        Mode::Graph => "graph",
        Mode::Backfill => "backfills",
    }
}
