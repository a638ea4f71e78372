//! The Schedule screen: every scheduled pipeline with its next slot counting
//! down, its last run, its deadline and whether it is late. Times are in the
//! pipeline's own zone, the one its schedule is written in.

use chrono::DateTime;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::cells::run_glyph;
use super::fmt::{duration, truncate};
use super::{highlight, pane};
use crate::engine::schedules::PipelineSchedule;
use crate::tui::{State, Theme};

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let sc = &state.schedule;
    let rows = &sc.shown.pipelines;
    let mut block = pane(
        Line::from(format!(" Schedule ({}) ", rows.len())),
        true,
        theme,
    );
    if sc.loaded && !sc.shown.serving && !rows.is_empty() {
        // The first thing to fix when nothing starts.
        block = block.title_bottom(Line::styled(
            " no `switchyard serve` is running: no slot starts until one does ",
            theme.get("warning"),
        ));
    }
    if rows.is_empty() {
        let text = if sc.loaded {
            "No pipeline has a `schedule`: add `schedule = \"@daily\"` to one and run `switchyard serve`."
        } else {
            "loading…"
        };
        let text = Line::styled(text, theme.get("dim"));
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let dim = theme.get("dim");
    // Narrow terminals keep what on call reads first: who, when, how it went.
    let wide = area.width >= WIDE;
    let name_w = (rows.iter().map(|r| r.pipeline.chars().count()).max())
        .unwrap_or(8)
        .clamp(8, if wide { 24 } else { 18 }) as u16;
    let sched_w = (rows.iter().map(|r| r.schedule.chars().count()).max())
        .unwrap_or(8)
        .clamp(8, 18) as u16;
    let body = rows.iter().map(|p| {
        let c = row(p, state.now, theme, (name_w, sched_w), wide);
        let keep: &[usize] = if wide {
            &[0, 1, 2, 3, 4, 5, 6, 7]
        } else {
            &NARROW
        };
        Row::new(keep.iter().map(|&i| c[i].clone())).style(theme.get("text"))
    });
    let heads = [
        "",
        "pipeline",
        "schedule",
        "next slot",
        "in",
        "last run",
        "deadline",
        "",
    ];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(name_w),
        Constraint::Length(sched_w),
        Constraint::Length(14),
        Constraint::Length(8),
        Constraint::Length(24),
        Constraint::Length(14),
        Constraint::Fill(1),
    ];
    let mut header: Vec<&str> = heads.to_vec();
    if !wide {
        widths = NARROW.iter().map(|&i| widths[i]).collect();
        widths[3] = Constraint::Length(16);
        widths[4] = Constraint::Length(8);
        header = NARROW.iter().map(|&i| heads[i]).collect();
    }
    let header = Row::new(header.into_iter().map(|h| Cell::from(Span::styled(h, dim))));
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(highlight(true, theme));
    let mut ts = TableState::default().with_selected(Some(sc.cursor.min(rows.len() - 1)));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// From this width every column shows; below it, the `NARROW` ones.
const WIDE: u16 = 110;
/// Glyph, pipeline, countdown, last run, deadline, on time.
const NARROW: [usize; 6] = [0, 1, 4, 5, 6, 7];

/// The cells of one pipeline, in the order of the wide table's headings.
fn row(
    p: &PipelineSchedule,
    now: i64,
    theme: &Theme,
    (name_w, sched_w): (u16, u16),
    wide: bool,
) -> Vec<Cell<'static>> {
    let dim = theme.get("dim");
    let at = |ms: i64| {
        DateTime::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&p.timezone)
                    .format("%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let (glyph, style) = match &p.last_run {
        Some(r) => run_glyph(r.state, theme),
        None => (" ", dim),
    };
    let last = match &p.last_run {
        Some(r) => Line::from(vec![
            Span::styled(format!("{} ", r.id), theme.get("text")),
            Span::styled(
                if wide {
                    format!("{} ", r.run_date)
                } else {
                    String::new()
                },
                dim,
            ),
            Span::styled(r.state.as_str(), style),
        ]),
        None => Line::styled("never", dim),
    };
    let next = p.next_slot.map(at).unwrap_or_else(|| "-".into());
    let countdown = match p.next_slot {
        Some(t) if t > now => duration(t - now),
        Some(_) => "due".into(),
        None => String::new(),
    };
    let deadline = p.deadline.clone().unwrap_or_else(|| "-".into());
    let text = p.on_time_text();
    let role = match p.late_ms {
        Some(_) => "error",
        None if text == "-" => "dim",
        None => "ok",
    };
    let on_time = Span::styled(text, theme.get(role));
    vec![
        Cell::from(Span::styled(glyph, style)),
        Cell::from(truncate(&p.pipeline, usize::from(name_w))),
        Cell::from(Span::styled(
            truncate(&p.schedule, usize::from(sched_w)),
            dim,
        )),
        Cell::from(next),
        Cell::from(Line::from(countdown).right_aligned()),
        Cell::from(last),
        Cell::from(deadline),
        Cell::from(on_time),
    ]
}
