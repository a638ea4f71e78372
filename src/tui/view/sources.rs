//! The Sources screen: the tree of sources, schemas and tables on the left;
//! on the right the selected table's columns with their type at each step
//! (source → Arrow → warehouse), lossy and refused columns marked, the
//! primary key, the row estimate, and a preview once asked for (`p`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};

use super::fmt::{count, word_wrap};
use super::grid::{Cell, grid};
use super::pane;
use super::tree::{Labels, draw_tree, scrolled, status, tree_width, wrapped};
use crate::connectors::source::{TableDetail, TableKind, TableSummary};
use crate::format::types::Fidelity;
use crate::tui::action::Action;
use crate::tui::browse::{Load, Preview, TreeRow};
use crate::tui::{Keymap, Mode, State, Theme};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keys: &Keymap) {
    let b = &state.browse;
    let [left, right] = Layout::horizontal([
        Constraint::Length(tree_width(area.width)),
        Constraint::Fill(1),
    ])
    .areas(area);
    let rows_of = |t: &TableSummary| t.row_estimate.map(count).unwrap_or_default();
    let mark = |t: &TableSummary| {
        if t.kind == TableKind::View {
            "◇ "
        } else {
            ""
        }
    };
    let labels = Labels {
        title: "Sources",
        leaf_right: &rows_of,
        leaf_mark: &mark,
    };
    draw_tree(frame, left, &b.sources, state.now, theme, &labels);
    let key = |a: Action, d: &'static str| keys.key_for(Mode::Sources, &a).unwrap_or(d).to_string();
    match b.sources.selected() {
        Some(TreeRow::Leaf(r, _)) => {
            if let Some((_, t)) = b.selected_table() {
                let detail = b.details.get(&(r, t.table.clone()));
                let preview = b.previews.get(&(r, t.table.clone()));
                let keys = (key(Action::Preview, "p"), key(Action::Export, "e"));
                table_pane(frame, right, state, theme, t, detail, preview, &keys);
            }
        }
        Some(row) => root_pane(frame, right, state, theme, &row),
        None => {
            let block = pane(Line::from(" Table "), false, theme);
            let inner = block.inner(right);
            frame.render_widget(block, right);
            let text = "No sources: add one under [sources.NAME] in switchyard.toml.";
            wrapped(frame, inner, vec![Line::styled(text, theme.get("dim"))]);
        }
    }
}

/// A source or schema under the cursor: what it holds, or why not.
fn root_pane(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, row: &TreeRow) {
    let b = &state.browse;
    let r = row.root();
    let named = &b.sources.roots[r];
    let title = match row {
        TreeRow::Group(_, g) => format!(" {} · {g} ", named.name),
        _ => format!(" {} ({}) ", named.name, named.kind),
    };
    let block = pane(Line::from(title), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let load = &b.sources.tables[r];
    let mut lines = status(load, state.now, "its tables", theme).unwrap_or_default();
    if let Load::Ready(tables) = load {
        let group = match row {
            TreeRow::Group(_, g) => Some(g.as_str()),
            _ => None,
        };
        let mine: Vec<&TableSummary> = tables
            .iter()
            .filter(|t| group.is_none_or(|g| t.table.schema == g))
            .collect();
        let views = mine.iter().filter(|t| t.kind == TableKind::View).count();
        let rows: i64 = mine.iter().filter_map(|t| t.row_estimate).sum();
        lines.push(Line::styled(
            format!(
                "{} table(s), {views} view(s), about {} rows in all",
                mine.len() - views,
                count(rows)
            ),
            theme.get("text"),
        ));
        lines.push(Line::default());
        lines.push(Line::styled(
            "Enter opens and closes; a table shows its columns here.",
            theme.get("dim"),
        ));
    } else if matches!(load, Load::Idle) {
        lines = vec![Line::styled("Enter lists its tables.", theme.get("dim"))];
    }
    wrapped(frame, inner, lines);
}

#[allow(clippy::too_many_arguments)]
fn table_pane(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    t: &TableSummary,
    detail: Option<&Load<TableDetail>>,
    preview: Option<&Load<Preview>>,
    (p_key, e_key): &(String, String),
) {
    let block = pane(Line::from(format!(" {} ", t.table)), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = usize::from(inner.width);
    let dim = theme.get("dim");
    let text = theme.get("text");
    let rows = match t.row_estimate {
        Some(n) => format!("about {} rows", with_commas(n)),
        None => "rows unknown (never analysed)".into(),
    };
    let kind = crate::tui::browse::Browse::table_kind(t);
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{kind} · "), dim),
        Span::styled(rows, text),
    ])];
    let Some(Load::Ready(d)) = detail else {
        let waiting = detail
            .and_then(|d| status(d, state.now, "its columns", theme))
            .unwrap_or_default();
        lines.extend(waiting);
        return wrapped(frame, inner, lines);
    };
    lines.push(if d.primary_key.is_empty() {
        Line::styled("no primary key", theme.get("warning"))
    } else {
        Line::from(vec![
            Span::styled("primary key ", dim),
            Span::styled(d.primary_key.join(", "), text),
        ])
    });
    lines.push(Line::default());
    lines.extend(columns(d, theme, w));
    lines.push(Line::default());
    let export_hint = Line::from(vec![
        Span::styled(e_key.clone(), theme.get("key")),
        Span::styled(" exports this table to a store", dim),
    ]);
    let asked = preview.is_some();
    let preview = preview_lines(state, theme, preview, w, p_key);
    // Once asked for, the preview gets the lower part of the pane, so `p`
    // shows rows at once whatever the number of columns above.
    let (top, bottom) = if asked {
        lines.push(export_hint);
        let h = (preview.len() as u16 + 1).min(inner.height / 2);
        let [top, bottom] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(h)]).areas(inner);
        let mut below = vec![Line::default()];
        below.extend(preview);
        frame.render_widget(ratatui::widgets::Paragraph::new(below), bottom);
        (top, lines)
    } else {
        lines.extend(preview);
        lines.push(Line::default());
        lines.push(export_hint);
        (inner, lines)
    };
    let shown = scrolled(bottom, state.browse.sources.detail_scroll, top.height);
    frame.render_widget(ratatui::widgets::Paragraph::new(shown), top);
}

/// The column table, then a note per lossy or refused column.
fn columns(d: &TableDetail, theme: &Theme, w: usize) -> Vec<Line<'static>> {
    let dim = theme.get("dim");
    let text = theme.get("text");
    let header: Vec<Cell> = ["  COLUMN", "SOURCE", "→ ARROW", "→ WAREHOUSE"]
        .iter()
        .map(|h| (h.to_string(), theme.get("title")))
        .collect();
    let mut notes = Vec::new();
    let rows: Vec<Vec<Cell>> = d
        .columns
        .iter()
        .map(|c| {
            let (mark, style) = match &c.ty.fidelity {
                Fidelity::Exact => (" ", text),
                Fidelity::Fallback { note } => {
                    notes.push(Line::styled(
                        format!("⚠ {}: lossy, {note}", c.name),
                        theme.get("warning"),
                    ));
                    ("⚠", theme.get("warning"))
                }
                Fidelity::Refused { reason } => {
                    notes.push(Line::styled(
                        format!("✗ {}: refused, {reason}", c.name),
                        theme.get("error"),
                    ));
                    ("✗", theme.get("error"))
                }
            };
            let pk = if d.primary_key.contains(&c.name) {
                " (pk)"
            } else {
                ""
            };
            // At 80 columns the types matter more than nullability.
            let null = if c.nullable || w < 70 {
                ""
            } else {
                " not null"
            };
            let (arrow, wh) = match c.ty.fidelity {
                Fidelity::Refused { .. } => ("—".to_string(), "—".to_string()),
                _ => (c.ty.arrow.to_string(), c.ty.warehouse.to_string()),
            };
            vec![
                (format!("{mark} {}{pk}", c.name), style),
                (format!("{}{null}", c.ty.db_type), dim),
                (arrow, text),
                (wh, text),
            ]
        })
        .collect();
    let (mut out, hidden) = grid(&header, &rows, &[], w);
    if hidden > 0 {
        out.push(Line::styled(
            format!("(wider terminal for {hidden} more column(s) of this table)"),
            dim,
        ));
    }
    if d.columns.is_empty() {
        out.push(Line::styled("no columns", dim));
    }
    for n in notes {
        // A note is read whole: wrapped, not cut.
        let style = n.style;
        let text: String = n.spans.iter().map(|s| s.content.as_ref()).collect();
        out.extend(
            word_wrap(&text, w.max(10))
                .into_iter()
                .map(|l| Line::styled(l, style)),
        );
    }
    out
}

fn preview_lines(
    state: &State,
    theme: &Theme,
    preview: Option<&Load<Preview>>,
    w: usize,
    p_key: &str,
) -> Vec<Line<'static>> {
    let dim = theme.get("dim");
    let Some(p) = preview else {
        return vec![Line::from(vec![
            Span::styled(p_key.to_string(), theme.get("key")),
            Span::styled(" previews its first rows", dim),
        ])];
    };
    if let Some(s) = status(p, state.now, "a preview", theme) {
        return s;
    }
    let Load::Ready(p) = p else {
        return Vec::new();
    };
    let mut out = vec![Line::styled(
        format!("Preview: first {} rows", p.rows.len()),
        theme.get("title"),
    )];
    let header: Vec<Cell> = p.columns.iter().map(|c| (c.clone(), dim)).collect();
    let rows: Vec<Vec<Cell>> = p
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Some(v) => (one_line(v), theme.get("text")),
                    None => ("∅".to_string(), dim),
                })
                .collect()
        })
        .collect();
    let (lines, hidden) = grid(&header, &rows, &[], w);
    out.extend(lines);
    if hidden > 0 {
        out.push(Line::styled(
            format!("… {hidden} more column(s) to the right"),
            dim,
        ));
    }
    if p.rows.is_empty() {
        out.push(Line::styled("the table is empty", dim));
    }
    out
}

/// A value on one line: newlines and tabs shown as spaces.
fn one_line(v: &str) -> String {
    v.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(super) fn with_commas(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_get_commas() {
        assert_eq!(super::with_commas(1234567), "1,234,567");
        assert_eq!(super::with_commas(999), "999");
    }
}
