//! The task view's history strip: the pipeline's recent runs of this task
//! as sparklines (ratatui's `Sparkline`) of durations and rows, with this
//! run's attempt placed on them (still growing while it runs), p50 and p90
//! beside; and the ETA of a running task that counts no rows against a
//! total (a command, an sql task), from its history's median.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline, SparklineBar};

use super::fmt;
use super::pane;
use crate::engine::history::TaskHistory;
use crate::engine::state::TaskState;
use crate::engine::store::InstanceRow;
use crate::human::duration_measured;
use crate::tui::{State, Theme};

/// Rows the strip takes: its border and one row of bars.
pub const HEIGHT: u16 = 3;

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    h: &TaskHistory,
    inst: Option<&InstanceRow>,
    theme: &Theme,
) {
    let s = h.summary();
    let title = format!(" History · {} run(s) · {} ", s.runs, s.trend.text());
    let block = pane(Line::from(title), false, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let opt = |v: Option<i64>| v.map(duration_measured).unwrap_or_else(|| "–".into());
    let time_label = format!("time p50 {} p90 {} ", opt(s.p50_ms), opt(s.p90_ms));
    let rows_label = s.rows_p50.map(|r| format!("  rows p50 {} ", fmt::count(r)));
    let current = inst.map(|i| i.run_id);
    let (durations, rows) = bars(state, h, inst, current, theme);
    let n = durations.len() as u16;
    let want = |label: &str| fmt::width(label) as u16 + n;
    let show_rows = rows_label
        .as_deref()
        .is_some_and(|l| want(&time_label) + want(l) <= inner.width);
    let mut cols = vec![
        Constraint::Length(fmt::width(&time_label) as u16),
        Constraint::Length(n),
    ];
    if show_rows {
        cols.push(Constraint::Length(
            fmt::width(rows_label.as_deref().unwrap_or_default()) as u16,
        ));
        cols.push(Constraint::Length(n));
    }
    cols.push(Constraint::Fill(1));
    let areas = Layout::horizontal(cols).split(inner);
    let label = |text: &str| Paragraph::new(Line::styled(text.to_string(), theme.get("dim")));
    frame.render_widget(label(&time_label), areas[0]);
    frame.render_widget(sparkline(durations, theme), areas[1]);
    if show_rows && let Some(l) = &rows_label {
        frame.render_widget(label(l), areas[2]);
        frame.render_widget(sparkline(rows, theme), areas[3]);
    }
}

fn sparkline(data: Vec<SparklineBar>, theme: &Theme) -> Sparkline<'static> {
    Sparkline::default()
        .data(data)
        .style(theme.get("gauge"))
        .absent_value_symbol(" ")
}

/// One bar per run, oldest first: a failure in the error colour, this
/// run's in the running colour (its elapsed time while it runs).
fn bars(
    state: &State,
    h: &TaskHistory,
    inst: Option<&InstanceRow>,
    current: Option<i64>,
    theme: &Theme,
) -> (Vec<SparklineBar>, Vec<SparklineBar>) {
    let mut durations = Vec::new();
    let mut rows = Vec::new();
    for s in &h.samples {
        let here = Some(s.run_id) == current;
        let (ms, rows_now) = match inst.filter(|_| here) {
            Some(i) if i.state == TaskState::Running => {
                (i.started_at.map(|t| state.now - t), i.rows.or(s.rows))
            }
            _ => (s.duration_ms, s.rows),
        };
        let style: Option<Style> = if here {
            Some(theme.get("task_running"))
        } else if s.state == TaskState::Failed {
            Some(theme.get("error"))
        } else {
            None
        };
        let bar = |v: Option<i64>| {
            let b = SparklineBar::from(v.map(|v| v.max(0) as u64));
            match style {
                Some(st) => b.style(Some(st)),
                None => b,
            }
        };
        durations.push(bar(ms));
        rows.push(bar(rows_now));
    }
    (durations, rows)
}

/// "1m20s (history)": what a running task without a row total has left by
/// its median, once it has a history; "past p50" when it already took longer.
pub fn eta(state: &State, t: &InstanceRow) -> Option<String> {
    if t.state != TaskState::Running {
        return None;
    }
    let d = state
        .detail
        .as_ref()
        .filter(|d| d.run_id == t.run_id && d.task_id == t.task_id)?;
    let p50 = d.history.as_ref()?.summary().p50_ms?;
    let elapsed = state.now - t.started_at?;
    Some(if elapsed < p50 {
        format!("{} (by history)", fmt::duration(p50 - elapsed))
    } else {
        "past its p50".to_string()
    })
}
