//! The Warehouse screen: each warehouse's datasets and tables with their
//! row counts, and the selected table's schema. SQLite has one dataset
//! (`main`); BigQuery lists its datasets the same way.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::count;
use super::grid::{Cell, grid};
use super::pane;
use super::tree::{Labels, draw_tree, scrolled, status, tree_width, wrapped};
use crate::connectors::warehouse::WarehouseTable;
use crate::tui::browse::{Load, TreeRow};
use crate::tui::{State, Theme};

use super::stores::plural;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let t = &state.browse.warehouses;
    let [left, right] = Layout::horizontal([
        Constraint::Length(tree_width(area.width)),
        Constraint::Fill(1),
    ])
    .areas(area);
    let rows_of = |t: &WarehouseTable| t.rows.map(count).unwrap_or_default();
    let mark = |_: &WarehouseTable| "";
    let labels = Labels {
        title: "Warehouses",
        leaf_right: &rows_of,
        leaf_mark: &mark,
    };
    draw_tree(frame, left, t, state.now, theme, &labels);
    let dim = theme.get("dim");
    let row = t.selected();
    let Some(row) = row else {
        let block = pane(Line::from(" Table "), false, theme);
        let inner = block.inner(right);
        frame.render_widget(block, right);
        let text = "No warehouses: add one under [warehouses.NAME] in switchyard.toml.";
        return wrapped(frame, inner, vec![Line::styled(text, dim)]);
    };
    if let Some(table) = t.leaf(&row) {
        let block = pane(
            Line::from(format!(" {}.{} ", table.dataset, table.name)),
            false,
            theme,
        );
        let inner = block.inner(right);
        frame.render_widget(block, right);
        let rows = match table.rows {
            Some(n) => format!("{} rows", super::sources::with_commas(n)),
            None => "rows unknown".into(),
        };
        let mut lines = vec![
            Line::from(vec![
                Span::styled(rows, theme.get("text")),
                Span::styled(format!(" · {} columns", table.columns.len()), dim),
            ]),
            Line::default(),
        ];
        let header: Vec<Cell> = ["COLUMN", "TYPE", "DECLARED", "NULL"]
            .iter()
            .map(|h| (h.to_string(), theme.get("title")))
            .collect();
        let cells: Vec<Vec<Cell>> = table
            .columns
            .iter()
            .map(|c| {
                vec![
                    (c.name.clone(), theme.get("text")),
                    (c.ty.warehouse.to_string(), theme.get("text")),
                    (
                        if c.ty.db_type.is_empty() {
                            "—".to_string()
                        } else {
                            c.ty.db_type.clone()
                        },
                        dim,
                    ),
                    ((if c.nullable { "yes" } else { "no" }).to_string(), dim),
                ]
            })
            .collect();
        lines.extend(grid(&header, &cells, &[], usize::from(inner.width)).0);
        let shown = scrolled(lines, t.detail_scroll, inner.height);
        frame.render_widget(Paragraph::new(shown), inner);
        return;
    }
    let r = row.root();
    let named = &t.roots[r];
    let title = match &row {
        TreeRow::Group(_, g) => format!(" {} · {g} ", named.name),
        _ => format!(" {} ({}) ", named.name, named.kind),
    };
    let block = pane(Line::from(title), false, theme);
    let inner = block.inner(right);
    frame.render_widget(block, right);
    let mut lines = status(&t.tables[r], state.now, "its tables", theme).unwrap_or_default();
    match &t.tables[r] {
        Load::Ready(tables) if tables.is_empty() => lines.push(Line::styled(
            "No tables yet: nothing was loaded into this warehouse.",
            dim,
        )),
        Load::Ready(tables) => {
            let group = match &row {
                TreeRow::Group(_, g) => Some(g.as_str()),
                _ => None,
            };
            let mine: Vec<&WarehouseTable> = tables
                .iter()
                .filter(|x| group.is_none_or(|g| x.dataset == g))
                .collect();
            let rows: i64 = mine.iter().filter_map(|x| x.rows).sum();
            lines.push(Line::styled(
                format!(
                    "{}, {} rows in all",
                    plural(mine.len(), "table"),
                    count(rows)
                ),
                theme.get("text"),
            ));
        }
        Load::Idle => lines.push(Line::styled("Enter lists its tables.", dim)),
        _ => {}
    }
    wrapped(frame, inner, lines);
}
