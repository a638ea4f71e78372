//! Help: every binding of the current screen, generated from the keymap (so
//! a user's own keys are what it lists). Keys for the same action share a
//! row; so do the two halves of a pair (up / down, newer / older run), and
//! the screen keys share one: "12345678  Screens: 1 runs, 2 pools…". A
//! description that is too long for the window wraps.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::{truncate, width, word_wrap};
use super::{pane, popup};
use crate::tui::action::Action;
use crate::tui::keymap::Binding;
use crate::tui::{Keymap, Mode, Theme};

/// Actions that share a row when a screen has both (`up k / down j`), if
/// the row stays short enough to read at a glance.
const PAIRS: [(Action, Action); 7] = [
    (Action::Up, Action::Down),
    (Action::Top, Action::Bottom),
    (Action::PrevRun, Action::NextRun),
    (Action::PageUp, Action::PageDown),
    (Action::RunbookUp, Action::RunbookDown),
    (Action::Left, Action::Right),
    (Action::PoolGrow, Action::PoolShrink),
];

/// Widest key column; longer key names are cut.
const KEY_W: usize = 16;
/// Longest description of a pair's row.
const PAIR_DESC_W: usize = 40;

struct Row<'a> {
    /// One group per action, each its keys.
    keys: Vec<Vec<&'a str>>,
    actions: Vec<&'a Action>,
    desc: Desc,
}

enum Desc {
    Text(String),
    /// "1 runs", "2 pools"…: wrapped between items, never inside one.
    Screens(Vec<String>),
}

impl Row<'_> {
    /// The keys as shown: the screen row's digits run together, the halves
    /// of a pair apart.
    fn keys_text(&self) -> String {
        match self.desc {
            Desc::Screens(_) => self.keys.concat().concat(),
            Desc::Text(_) => {
                let groups: Vec<String> = self.keys.iter().map(|g| g.join(" ")).collect();
                groups.join(" / ")
            }
        }
    }

    fn desc_text(&self) -> String {
        match &self.desc {
            Desc::Text(t) => t.clone(),
            Desc::Screens(items) => format!("Screens: {}", items.join(", ")),
        }
    }

    /// The description in lines of at most `room` columns.
    fn lines(&self, room: usize) -> Vec<String> {
        match &self.desc {
            Desc::Text(t) => word_wrap(t, room),
            Desc::Screens(items) => {
                let mut out = vec!["Screens:".to_string()];
                for (i, item) in items.iter().enumerate() {
                    let piece = if i + 1 < items.len() {
                        format!("{item},")
                    } else {
                        item.clone()
                    };
                    let last = out.len() - 1;
                    if width(&out[last]) + 1 + width(&piece) <= room {
                        out[last].push(' ');
                        out[last].push_str(&piece);
                    } else {
                        out.push(piece);
                    }
                }
                out
            }
        }
    }
}

fn rows<'a>(keys: &'a Keymap, mode: Mode) -> Vec<Row<'a>> {
    let global = keys.bindings(Mode::Global);
    let screens: Vec<&Binding> = global
        .iter()
        .copied()
        .filter(|b| matches!(b.action, Action::Screen(_)) && b.on.chars().count() == 1)
        .collect();
    // The screen's own bindings first, one row per action; the screen keys'
    // row where the first of them is.
    let mut rows: Vec<Row> = Vec::new();
    for b in keys.bindings(mode) {
        if screens.contains(&b) {
            if !rows.iter().any(|r| matches!(r.desc, Desc::Screens(_))) {
                rows.push(Row {
                    keys: vec![screens.iter().map(|b| b.on.as_str()).collect()],
                    actions: Vec::new(),
                    desc: Desc::Screens(
                        (screens.iter())
                            .map(|b| format!("{} {}", b.on, super::chrome::short_label(b)))
                            .collect(),
                    ),
                });
            }
            continue;
        }
        match rows.iter_mut().find(|r| r.actions == [&b.action]) {
            Some(r) => r.keys[0].push(&b.on),
            None => rows.push(Row {
                keys: vec![vec![b.on.as_str()]],
                actions: vec![&b.action],
                desc: Desc::Text(b.desc.clone()),
            }),
        }
    }
    for (first, second) in &PAIRS {
        let at = |rows: &[Row], a: &Action| rows.iter().position(|r| r.actions == [a]);
        let (Some(i), Some(j)) = (at(&rows, first), at(&rows, second)) else {
            continue;
        };
        let (Desc::Text(da), Desc::Text(db)) = (&rows[i].desc, &rows[j].desc) else {
            continue;
        };
        let desc = format!("{da} / {}", lower_first(db));
        let mut keys = rows[i].keys.clone();
        keys.extend(rows[j].keys.clone());
        let merged = Row {
            keys,
            actions: vec![first, second],
            desc: Desc::Text(desc),
        };
        if width(&merged.keys_text()) > KEY_W || width(&merged.desc_text()) > PAIR_DESC_W {
            continue;
        }
        rows[i] = merged;
        rows.remove(j);
    }
    rows
}

/// "Move down" → "move down" (but "SQL…" stays as it is).
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => a
            .to_lowercase()
            .chain(std::iter::once(b))
            .chain(chars)
            .collect(),
        _ => s.to_string(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, keys: &Keymap, mode: Mode) {
    let rows = rows(keys, mode);
    let key_w = rows
        .iter()
        .map(|r| width(&r.keys_text()))
        .max()
        .unwrap_or(0)
        .min(KEY_W);
    let desc_w = rows
        .iter()
        .map(|r| width(&r.desc_text()))
        .max()
        .unwrap_or(0);
    // One column, as wide as the longest row or the window.
    let one_w = (key_w + 2 + desc_w + 4).min(usize::from(area.width));
    let one_room = one_w.saturating_sub(key_w + 5).max(1);
    let wrapped: Vec<Vec<String>> = rows.iter().map(|r| r.lines(one_room)).collect();
    let n_lines: usize = wrapped.iter().map(Vec::len).sum();
    // Two columns (each row on one line) when one column is taller than the
    // window and there is room for two.
    let two = n_lines + 2 > usize::from(area.height) && usize::from(area.width) >= 2 * 40 + 4;
    let per_col = if two { rows.len().div_ceil(2) } else { n_lines };
    let w = if two { area.width } else { one_w as u16 };
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
    let room = usize::from(r.height.saturating_sub(2));
    // Rows that do not fit are named, not silently dropped.
    let hidden = if two {
        rows.chunks(per_col.max(1))
            .map(|c| c.len().saturating_sub(room))
            .sum()
    } else {
        let mut used = 0;
        wrapped
            .iter()
            .filter(|l| {
                used += l.len();
                used > room
            })
            .count()
    };
    if hidden > 0 {
        block = block.title_bottom(Line::styled(
            format!(" {hidden} more: a taller window shows them "),
            theme.get("dim"),
        ));
    }
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let key_style = theme.get("key");
    let text_style = theme.get("text");
    let line = |k: &str, desc: String| {
        Line::from(vec![
            Span::styled(format!(" {k:<key_w$}  "), key_style),
            Span::styled(desc, text_style),
        ])
    };
    if two {
        let cols: [Rect; 2] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(inner);
        for (c, chunk) in cols.iter().zip(rows.chunks(per_col.max(1))) {
            let room = usize::from(c.width).saturating_sub(key_w + 3);
            let lines: Vec<Line> = chunk
                .iter()
                .map(|row| {
                    let k = truncate(&row.keys_text(), key_w);
                    line(&k, truncate(&row.desc_text(), room))
                })
                .collect();
            frame.render_widget(Paragraph::new(lines), *c);
        }
    } else {
        let room = usize::from(inner.width).saturating_sub(key_w + 3);
        let mut lines = Vec::new();
        for (row, descs) in rows.iter().zip(&wrapped) {
            let k = truncate(&row.keys_text(), key_w);
            for (i, d) in descs.iter().enumerate() {
                let k = if i == 0 { k.as_str() } else { "" };
                lines.push(line(k, truncate(d, room)));
            }
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
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
        Mode::Schedule => "schedule",
        Mode::Sla => "sla",
        Mode::Timeline => "timeline",
    }
}
