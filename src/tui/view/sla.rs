//! The SLA screen: the engine's report of the last 30 days (the one
//! `switchyard sla` prints). Above, a row of headline figures per pipeline;
//! below, for the selected one, its on-time share by ISO week as bars (or
//! its failed runs by week when it has no deadline) and its misses.

use chrono::DateTime;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap,
};

use super::fmt::truncate;
use super::{highlight, pane};
use crate::config::duration::human;
use crate::engine::sla::{PipelineSla, share_text, signed};
use crate::tui::{State, Theme};

/// From this width the table shows every column.
const WIDE: u16 = 110;
/// An on-time share at or above this is green; below it amber, then red.
const GOOD_SHARE: f64 = 0.95;
const POOR_SHARE: f64 = 0.8;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let sla = &state.sla;
    let rows = &sla.shown.pipelines;
    let title = Line::from(format!(" SLA · last 30 days ({}) ", rows.len()));
    if rows.is_empty() {
        let text = if sla.loaded {
            "No pipeline has a schedule, a deadline or a run in the last 30 days."
        } else {
            "computing…"
        };
        let para = Paragraph::new(Line::styled(text, theme.get("dim")));
        frame.render_widget(para.block(pane(title, true, theme)), area);
        return;
    }
    let cursor = sla.cursor.min(rows.len() - 1);
    // The table takes what its rows need, leaving the chart at least half.
    let table_h = (rows.len() as u16 + 3).min(area.height / 2).max(4);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(table_h), Constraint::Fill(1)]).areas(area);
    summary(frame, top, rows, cursor, theme, title);
    if bottom.is_empty() {
        return;
    }
    let p = &rows[cursor];
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(bottom);
    weeks_chart(frame, left, p, theme);
    misses(frame, right, p, theme);
}

fn summary(
    frame: &mut Frame,
    area: Rect,
    rows: &[PipelineSla],
    cursor: usize,
    theme: &Theme,
    title: Line<'static>,
) {
    let wide = area.width >= WIDE;
    let dim = theme.get("dim");
    let name_w = (rows.iter().map(|r| r.pipeline.chars().count()).max())
        .unwrap_or(8)
        .clamp(8, if wide { 24 } else { 16 }) as u16;
    let mut heads = vec![
        "pipeline", "on time", "share", "p50", "p90", "missed", "failed",
    ];
    let mut widths = vec![
        Constraint::Length(name_w),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    if wide {
        heads.extend(["slots", "incidents", "recovery p50", "zone"]);
        widths.extend([
            Constraint::Length(5),
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Fill(1),
        ]);
    } else {
        heads.push("recovery");
        widths.push(Constraint::Fill(1));
    }
    let body = rows.iter().map(|p| {
        let t = p.on_time;
        let share_style = share_style(t.and_then(|t| t.share), theme);
        let r = &p.recovery;
        let mut cells = vec![
            Cell::from(truncate(&p.pipeline, usize::from(name_w))),
            Cell::from(t.map_or("-".into(), |t| format!("{}/{}", t.on_time, t.decided))),
            Cell::from(Span::styled(
                share_text(t.and_then(|t| t.share)),
                share_style,
            )),
            Cell::from(dash(t.and_then(|t| t.p50_ms).map(signed))),
            Cell::from(dash(t.and_then(|t| t.p90_ms).map(signed))),
            Cell::from(count(t.map(|t| t.missed), theme)),
            Cell::from(count(Some(p.failures.failed_runs), theme)),
        ];
        if wide {
            cells.extend([
                Cell::from(p.slots.total.to_string()),
                Cell::from(format!("{} ({} open)", r.incidents.len(), r.open)),
                Cell::from(dash(r.p50_ms.map(human))),
                Cell::from(Span::styled(p.timezone.name().to_string(), dim)),
            ]);
        } else {
            cells.push(Cell::from(dash(r.p50_ms.map(human))));
        }
        Row::new(cells).style(theme.get("text"))
    });
    let header = Row::new(heads.into_iter().map(|h| Cell::from(Span::styled(h, dim))));
    let table = Table::new(body, widths)
        .header(header)
        .block(pane(title, true, theme))
        .column_spacing(1)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(highlight(true, theme));
    let mut ts = TableState::default().with_selected(Some(cursor));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// One bar per ISO week: the on-time share in percent, or, without a
/// deadline, the failed runs.
fn weeks_chart(frame: &mut Frame, area: Rect, p: &PipelineSla, theme: &Theme) {
    let by_share = p.on_time.is_some();
    let what = if by_share {
        "on time by week"
    } else {
        "failed runs by week"
    };
    let block = pane(
        Line::from(format!(" {} · {what} ", p.pipeline)),
        false,
        theme,
    );
    let bars: Vec<Bar> = p
        .weeks
        .iter()
        .map(|w| {
            // `2026-W49` → `W49`: the year is in the window's title.
            let label = w.week.rsplit('-').next().unwrap_or(&w.week).to_string();
            let (value, text, style) = if by_share {
                let pct = w.share.map_or(0, |s| (s * 100.0).round() as u64);
                let text = w.share.map_or("-".into(), |_| format!("{pct}%"));
                (pct, text, share_style(w.share, theme))
            } else {
                let n = u64::from(w.failed_runs);
                (n, n.to_string(), theme.get("error"))
            };
            Bar::with_label(label, value)
                .text_value(text)
                .style(style)
                .value_style(theme.get("selection"))
        })
        .collect();
    let mut chart = BarChart::new(bars)
        .block(block)
        .bar_width(4)
        .bar_gap(1)
        .label_style(theme.get("dim"));
    if by_share {
        chart = chart.max(100);
    }
    frame.render_widget(chart, area);
}

/// The headline of the selected pipeline, then its misses, newest first.
fn misses(frame: &mut Frame, area: Rect, p: &PipelineSla, theme: &Theme) {
    let dim = theme.get("dim");
    let total = p.misses().count();
    let block = pane(Line::from(format!(" misses ({total}) ")), false, theme);
    let inner_w = usize::from(area.width.saturating_sub(2));
    let s = &p.slots;
    let r = &p.recovery;
    let f = &p.failures;
    let mut lines = vec![
        Line::styled(
            format!(
                "slots {} · started {} · refused {} · skipped {}",
                s.total, s.started, s.refused, s.skipped
            ),
            dim,
        ),
        Line::styled(
            format!(
                "failed runs {} · tasks {} · interrupted {}",
                f.failed_runs, f.failed_tasks, f.interrupted_tasks
            ),
            dim,
        ),
        Line::styled(
            format!(
                "incidents {} · recovered {} (p50 {}, max {}) · open {}",
                r.incidents.len(),
                r.recovered,
                dash(r.p50_ms.map(human)),
                dash(r.max_ms.map(human)),
                r.open
            ),
            dim,
        ),
    ];
    if p.on_time.is_none() {
        lines.push(Line::styled("no deadline: nothing to be late for", dim));
    } else if total == 0 {
        lines.push(Line::styled("no misses", theme.get("ok")));
    }
    let when = |ms: i64| {
        DateTime::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&p.timezone)
                    .format("%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut list: Vec<_> = p.misses().collect();
    list.reverse();
    for d in list {
        let run = d.run_id.map_or("-".into(), |r| format!("run {r}"));
        let text = format!("{}  {:<8} {}", when(d.reference_at), run, d.miss_text());
        lines.push(Line::from(Span::styled(
            truncate(&text, inner_w),
            theme.get("error"),
        )));
    }
    // The headline wraps on a narrow pane; the misses are cut to one line each.
    let para = Paragraph::new(lines).wrap(Wrap { trim: false });
    frame.render_widget(para.block(block), area);
}

fn share_style(share: Option<f64>, theme: &Theme) -> Style {
    match share {
        None => theme.get("dim"),
        Some(s) if s >= GOOD_SHARE => theme.get("ok"),
        Some(s) if s >= POOR_SHARE => theme.get("warning"),
        Some(_) => theme.get("error"),
    }
}

/// A count that is red when it is not zero.
fn count(n: Option<u32>, theme: &Theme) -> Span<'static> {
    match n {
        None => Span::styled("-", theme.get("dim")),
        Some(0) => Span::styled("0", theme.get("text")),
        Some(n) => Span::styled(n.to_string(), theme.get("error")),
    }
}

fn dash(s: Option<String>) -> String {
    s.unwrap_or_else(|| "-".into())
}
