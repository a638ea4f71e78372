//! Parts the browse screens share: the tree pane (sources and warehouses),
//! the spinner with its seconds, and a loading or failed state drawn in
//! place of the data.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::fmt::{truncate, width};
use super::{highlight, pane};
use crate::tui::Theme;
use crate::tui::browse::{Leaf, Load, Tree, TreeRow};

const SPIN: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// "⠙ 3s": still waiting, and for how long.
pub fn spinner(now: i64, since: i64) -> String {
    let secs = (now - since).max(0) / 1000;
    format!("{} {secs}s", SPIN[(secs % 10) as usize])
}

/// The state of something that is not there (yet): a spinner, the error,
/// or nothing asked. None when it is ready.
pub fn status<T>(
    load: &Load<T>,
    now: i64,
    what: &str,
    theme: &Theme,
) -> Option<Vec<Line<'static>>> {
    match load {
        Load::Ready(_) => None,
        Load::Idle => Some(vec![Line::styled(String::new(), theme.get("dim"))]),
        Load::Loading { since } => Some(vec![Line::styled(
            format!("{} loading {what}…", spinner(now, *since)),
            theme.get("dim"),
        )]),
        Load::Failed(e) => Some(vec![
            Line::styled(format!("✗ cannot load {what}"), theme.get("error")),
            Line::styled(e.clone(), theme.get("error")),
        ]),
    }
}

/// Draws `lines` wrapped in `area` (errors must be read whole).
pub fn wrapped(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// The left pane's width on a screen `w` cells wide.
pub fn tree_width(w: u16) -> u16 {
    (w / 4 + 8).clamp(24, 40).min(w)
}

/// How to label a tree's lines.
pub struct Labels<'a, T> {
    pub title: &'a str,
    /// Right-hand text of a table (its rows).
    pub leaf_right: &'a dyn Fn(&T) -> String,
    /// A mark before a table's name (a view).
    pub leaf_mark: &'a dyn Fn(&T) -> &'static str,
}

/// The tree pane: roots with their kind and state, groups with counts,
/// tables with their rows; the filter line under it while one is set.
pub fn draw_tree<T: Leaf + Clone>(
    frame: &mut Frame,
    area: Rect,
    tree: &Tree<T>,
    now: i64,
    theme: &Theme,
    labels: &Labels<'_, T>,
) {
    let filtering = tree.editing_filter || !tree.filter.is_empty();
    let title = if tree.filter.is_empty() {
        format!(" {} ", labels.title)
    } else {
        format!(" {} matching “{}” ", labels.title, tree.filter)
    };
    let block = pane(Line::from(title), true, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list, filter] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(u16::from(filtering)),
    ])
    .areas(inner);
    let rows = tree.rows();
    let w = usize::from(list.width);
    let h = usize::from(list.height).max(1);
    let cursor = tree.cursor.min(rows.len().saturating_sub(1));
    let start = (cursor + 1).saturating_sub(h);
    let dim = theme.get("dim");
    let mut lines = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(start).take(h) {
        let selected = i == cursor;
        let base = if selected {
            highlight(!tree.editing_filter, theme)
        } else {
            theme.get("text")
        };
        let (left, right, right_style): (String, String, Style) = match row {
            TreeRow::Root(r) => {
                let named = &tree.roots[*r];
                let open = tree.open.contains(&(*r, None)) || !tree.filter.is_empty();
                let arrow = if open { "▾" } else { "▸" };
                let (right, style) = match &tree.tables[*r] {
                    Load::Idle => (named.kind.clone(), dim),
                    Load::Loading { since } => (spinner(now, *since), dim),
                    Load::Failed(_) => ("✗ error".into(), theme.get("error")),
                    Load::Ready(t) => (format!("{} · {}", named.kind, t.len()), dim),
                };
                (format!("{arrow} {}", named.name), right, style)
            }
            TreeRow::Group(r, g) => {
                let open = tree.open.contains(&(*r, Some(g.clone()))) || !tree.filter.is_empty();
                let arrow = if open { "▾" } else { "▸" };
                let n = tree.tables[*r]
                    .ready()
                    .map_or(0, |l| l.iter().filter(|t| t.group() == g).count());
                (format!("  {arrow} {g}"), n.to_string(), dim)
            }
            TreeRow::Leaf(..) => {
                let Some(t) = tree.leaf(row) else { continue };
                let mark = (labels.leaf_mark)(t);
                (
                    format!("    {mark}{}", t.name()),
                    (labels.leaf_right)(t),
                    dim,
                )
            }
        };
        let right_w = width(&right);
        let left_w = w.saturating_sub(right_w + 1).max(1);
        let left = truncate(&left, left_w);
        let pad = w.saturating_sub(width(&left) + right_w);
        let right_style = if selected { base } else { right_style };
        lines.push(Line::from(vec![
            Span::styled(left, base),
            Span::styled(" ".repeat(pad), base),
            Span::styled(right, right_style),
        ]));
    }
    if rows.len() <= 1 && tree.roots.is_empty() {
        lines.push(Line::styled("nothing in the workspace", dim));
    }
    frame.render_widget(Paragraph::new(lines), list);
    if filtering {
        let mut spans = vec![
            Span::styled("/", theme.get("key")),
            Span::styled(tree.filter.clone(), theme.get("text")),
        ];
        if tree.editing_filter {
            spans.push(Span::styled("▏", theme.get("key")));
            spans.push(Span::styled("  ↵ keep · esc clear", dim));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), filter);
    }
}

/// Lines `scroll`ed so the last one still ends at the bottom of `height`.
pub fn scrolled(lines: Vec<Line<'static>>, scroll: usize, height: u16) -> Vec<Line<'static>> {
    let h = usize::from(height);
    let start = scroll.min(lines.len().saturating_sub(h));
    lines.into_iter().skip(start).collect()
}
