//! The home screen: recent runs, and the selected run's tasks with what each
//! is doing or why it is not running. Failed tasks come first (the order of
//! `state.tasks`), so the red row is the first thing seen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::cells::{self, run_glyph, state_counts};
use super::fmt::{truncate, width};
use super::{highlight, pane, shown_run};
use crate::engine::state::TaskState;
use crate::tui::state::Focus;
use crate::tui::{State, Theme};

/// Columns at which the two panes go side by side.
const SIDE_BY_SIDE: u16 = 140;
/// Inner width from which the task table gets a column per number.
const WIDE_TABLE: u16 = 130;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let (runs, tasks) = panes(area, state);
    if let Some(r) = runs {
        runs_list(frame, r, state, theme);
    }
    if let Some(t) = tasks {
        tasks_table(frame, t, state, theme);
    }
}

/// Where the runs list and the task table go (either may be left out when
/// the body is too short for both: then the pane the keys go to stays).
pub fn panes(area: Rect, state: &State) -> (Option<Rect>, Option<Rect>) {
    let runs_h = (state.runs.len() as u16).saturating_add(2).clamp(3, 6);
    if area.width >= SIDE_BY_SIDE {
        let [l, r] = Layout::horizontal([Constraint::Length(62), Constraint::Fill(1)]).areas(area);
        (Some(l), Some(r))
    } else if area.height >= runs_h + 5 {
        let [t, b] =
            Layout::vertical([Constraint::Length(runs_h), Constraint::Fill(1)]).areas(area);
        (Some(t), Some(b))
    } else if state.focus == Focus::Runs {
        (Some(area), None)
    } else {
        (None, Some(area))
    }
}

/// Whether the task table in `area` has a heading row.
pub fn table_has_header(area: Rect) -> bool {
    // Very short panes spend their rows on tasks, not headings.
    area.height >= 5
}

fn runs_list(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Focus::Runs;
    let block = pane(
        Line::from(format!(" Runs ({}) ", state.runs.len())),
        focused,
        theme,
    );
    if state.runs.is_empty() {
        let text = Line::styled(
            "No runs yet: start one with `switchyard run PIPELINE`.",
            theme.get("dim"),
        );
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let inner_w = area.width.saturating_sub(3);
    let show_state = inner_w >= 70;
    let pipe_w = max_width(state.runs.iter().map(|r| r.pipeline.as_str())).clamp(8, 22);
    let id_w = state
        .runs
        .iter()
        .map(|r| r.id.to_string().len())
        .max()
        .unwrap_or(0)
        .max(2) as u16;
    let rows = state.runs.iter().map(|r| {
        let (glyph, style) = run_glyph(r.state, theme);
        // Counts are known only for the run whose tasks are loaded.
        let mut counts = if Some(r.id) == state.tasks_of {
            state_counts(&state.tasks, theme)
        } else {
            Line::default()
        };
        if let Some(late) = r.late_ms(state.now) {
            let text = format!("late {} ", crate::config::duration::human(late));
            counts
                .spans
                .insert(0, Span::styled(text, theme.get("error")));
        }
        let mut cells = vec![
            Cell::from(Span::styled(glyph, style)),
            Cell::from(Line::from(r.id.to_string()).right_aligned()),
            Cell::from(truncate(&r.pipeline, usize::from(pipe_w))),
            Cell::from(r.run_date.clone()),
        ];
        if show_state {
            cells.push(Cell::from(Span::styled(r.state.as_str(), style)));
        }
        cells.push(Cell::from(counts));
        Row::new(cells).style(theme.get("text"))
    });
    let mut widths = vec![
        Constraint::Length(2),
        Constraint::Length(id_w),
        Constraint::Length(pipe_w),
        Constraint::Length(10),
    ];
    if show_state {
        widths.push(Constraint::Length(9));
    }
    widths.push(Constraint::Fill(1));
    let table = Table::new(rows, widths)
        .block(block)
        .column_spacing(1)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(highlight(focused, theme));
    let selected = state.run_cursor.min(state.runs.len().saturating_sub(1));
    let mut ts = TableState::default().with_selected(Some(selected));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// How the task table spends its width.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cols {
    /// State, task and why: for very narrow panes.
    Compact,
    /// Progress, rate and ETA share the last column with the reason (a
    /// running task has no reason, a waiting one no progress).
    Narrow,
    /// A column for each number.
    Wide,
}

fn tasks_table(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Focus::Tasks;
    let run = shown_run(state);
    let shown = state.runs.iter().find(|r| Some(r.id) == run);
    let mut title = vec![Span::raw(match shown {
        Some(r) => format!(" Run {} · {} · {} ", r.id, r.pipeline, r.run_date),
        None => " Tasks ".to_string(),
    })];
    if let Some(late) = shown.and_then(|r| r.late_ms(state.now)) {
        let text = format!("· late by {} ", crate::config::duration::human(late));
        title.push(Span::styled(text, theme.get("error")));
    }
    // Not late (yet): whether it will be, and which chain decides it.
    let forecast = state
        .forecast
        .as_ref()
        .filter(|f| f.run_id == run && shown.is_some_and(|r| r.late_ms(state.now).is_none()));
    if let Some(f) = forecast {
        let role = if f.at_risk || f.projected_at.is_none() {
            "warning"
        } else {
            "dim"
        };
        let text = format!("· {} ", f.projection_text());
        title.push(Span::styled(text, theme.get(role)));
    }
    let mut block = pane(Line::from(title), focused, theme);
    let mut room = usize::from(area.width.saturating_sub(4));
    if let Some(line) = run.and_then(|r| super::alerts::line(state, r, None, theme, room)) {
        room = room.saturating_sub(line.width() + 2);
        block = block.title_bottom(line);
    }
    if let Some(path) = forecast.and_then(|f| f.path_text()) {
        let text = format!(" {} ", truncate(&path, room.saturating_sub(2)));
        if room > 12 {
            block = block.title_bottom(Line::styled(text, theme.get("dim")).right_aligned());
        }
    }
    if state.tasks.is_empty() {
        let text = if run.is_some() {
            "Loading tasks…"
        } else {
            ""
        };
        let p = Paragraph::new(Line::styled(text, theme.get("dim"))).block(block);
        frame.render_widget(p, area);
        return;
    }
    // Borders and the cursor column.
    let inner_w = area.width.saturating_sub(3);
    let cols = match inner_w {
        w if w >= WIDE_TABLE => Cols::Wide,
        w if w >= 50 => Cols::Narrow,
        _ => Cols::Compact,
    };
    let task_cap = if cols == Cols::Wide {
        32
    } else {
        (inner_w / 3).max(8)
    };
    let task_w = max_width(state.tasks.iter().map(|t| t.task_id.as_str())).clamp(8, task_cap);
    let pool_w = match cols {
        Cols::Compact => 0,
        _ => max_width(state.tasks.iter().filter_map(|t| t.pool.as_deref())).min(12),
    };
    let bar_w: usize = if cols == Cols::Wide { 12 } else { 8 };

    // Every fixed column as (heading, width); the last one takes the rest.
    let mut fixed: Vec<(&str, u16)> = vec![("", 2), ("task", task_w)];
    match cols {
        Cols::Wide => fixed.extend([
            ("try", 3),
            ("progress", bar_w as u16 + 5),
            ("rate", 8),
            ("elapsed", 7),
            ("eta", 7),
        ]),
        Cols::Narrow => fixed.extend([("try", 3), ("elapsed", 7)]),
        Cols::Compact => {}
    }
    if pool_w > 0 {
        fixed.push(("pool", pool_w.max(4)));
    }
    let last_head = match cols {
        Cols::Wide => "why not running",
        _ => "progress · why not running",
    };
    let spent: u16 = fixed.iter().map(|(_, w)| w + 1).sum();
    let last_w = usize::from(inner_w.saturating_sub(spent));
    let dim = theme.get("dim");
    let text = theme.get("text");

    // Only the rows that fit are built: a 1,000-task run draws as fast as a
    // small one. The window follows the cursor the way ratatui's own
    // scrolling does from a fresh state (just enough to show it).
    let visible = usize::from(area.height.saturating_sub(2))
        .saturating_sub(usize::from(table_has_header(area)))
        .max(1);
    let selected = state.task_cursor.min(state.tasks.len().saturating_sub(1));
    let offset = (selected + 1).saturating_sub(visible);
    let rows = state.tasks.iter().skip(offset).take(visible).map(|t| {
        let p = cells::progress(state, t);
        let running = t.state == TaskState::Running;
        let progress = if running || t.state.is_terminal() {
            p.bar(bar_w, theme)
        } else {
            Line::default()
        };
        // Cut with "…": the whole error is one Enter away.
        let reason = cells::reason(state, t, theme)
            .map(|r| Span::styled(truncate(&r.content, last_w), r.style));
        let attempt = if t.attempt > 0 {
            t.attempt.to_string()
        } else {
            String::new()
        };
        let mut row = vec![
            Cell::from(Span::styled(t.state.glyph(), theme.task(t.state))),
            Cell::from(Span::styled(
                truncate(&t.task_id, usize::from(task_w)),
                text,
            )),
        ];
        match cols {
            Cols::Wide => row.extend([
                Cell::from(Span::styled(attempt, dim)),
                Cell::from(progress.clone()),
                Cell::from(Line::styled(p.rate(), text).right_aligned()),
                Cell::from(Span::styled(cells::elapsed(state, t), dim)),
                Cell::from(Span::styled(p.eta(), dim)),
            ]),
            Cols::Narrow => row.extend([
                Cell::from(Span::styled(attempt, dim)),
                Cell::from(Span::styled(cells::elapsed(state, t), dim)),
            ]),
            Cols::Compact => {}
        }
        if pool_w > 0 {
            row.push(Cell::from(Span::styled(
                t.pool.clone().unwrap_or_default(),
                dim,
            )));
        }
        let last = match (cols, running, reason) {
            (Cols::Wide, _, r) => Line::from(r.into_iter().collect::<Vec<_>>()),
            (_, true, r) => {
                // Rates right-aligned so running rows line up.
                let mut l = progress;
                let rate = p.rate();
                if !rate.is_empty() {
                    l.spans.push(Span::styled(format!(" {rate:>7}"), text));
                }
                let eta = p.eta();
                if !eta.is_empty() {
                    l.spans.push(Span::styled(format!(" eta {eta}"), dim));
                }
                l.spans
                    .extend(r.into_iter().flat_map(|r| [Span::raw(" "), r]));
                l
            }
            (_, false, Some(r)) => Line::from(r),
            // A finished task without a story: how many rows it moved.
            (_, false, None) => progress,
        };
        row.push(Cell::from(last));
        Row::new(row)
    });

    let mut widths: Vec<Constraint> = fixed.iter().map(|(_, w)| Constraint::Length(*w)).collect();
    widths.push(Constraint::Fill(1));
    let mut table = Table::new(rows, widths)
        .block(block)
        .column_spacing(1)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(highlight(focused, theme));
    if table_has_header(area) {
        let heads = fixed.iter().map(|(h, _)| *h).chain([last_head]);
        table = table.header(Row::new(heads.map(|h| Cell::from(Span::styled(h, dim)))));
    }
    let mut ts = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(table, area, &mut ts);
}

fn max_width<'a>(items: impl Iterator<Item = &'a str>) -> u16 {
    items.map(width).max().unwrap_or(0).min(u16::MAX as usize) as u16
}
