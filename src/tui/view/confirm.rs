//! Questions on top of the screen: the confirm box with its exact blast
//! radius, the mark choice, and a one-line text box (a note, a log search).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::{truncate, width};
use super::palette::tail;
use super::{pane, popup, shown_run};
use crate::engine::request::Request;
use crate::engine::state::TaskState;
use crate::tui::state::{Ask, Confirm, Effect, InputPurpose};
use crate::tui::{State, Theme};

pub fn draw_confirm(frame: &mut Frame, area: Rect, theme: &Theme, c: &Confirm) {
    let dim = theme.get("dim");
    let n = c.tasks.len();

    let what = match &c.effect {
        Effect::Request {
            request: Request::Cancel { .. },
            ..
        } => "is cancelled",
        Effect::Request {
            request: Request::Mark { .. },
            ..
        } => "is marked",
        _ => "goes back to pending and runs again",
    };
    let intro = if n == 1 {
        format!("This task of run {} {what}:", c.run_id)
    } else {
        format!("Each of these {n} tasks of run {} {what}:", c.run_id)
    };
    let task_w = c
        .tasks
        .iter()
        .map(|(t, _)| width(t))
        .max()
        .unwrap_or(0)
        .min(40);

    let mut rows: Vec<Line<'static>> = Vec::new();
    for (task, st) in &c.tasks {
        let mut spans = vec![
            Span::styled(format!("  {} ", st.glyph()), theme.task(*st)),
            Span::styled(
                format!("{:<task_w$} ", truncate(task, task_w)),
                theme.get("text"),
            ),
            Span::styled(st.as_str().to_string(), theme.task(*st)),
        ];
        if c.cancel_first.contains(task) {
            spans.push(Span::styled("  ← cancelled first", theme.get("warning")));
        }
        rows.push(Line::from(spans));
    }
    let mut tail_lines = Vec::new();
    if !c.cancel_first.is_empty() {
        let k = c.cancel_first.len();
        let it = if k == 1 { "It is" } else { "They are" };
        tail_lines.push(Line::styled(
            format!(
                "⚠ {k} running now: {}. {it} cancelled and waited for first.",
                c.cancel_first.join(", ")
            ),
            theme.get("warning"),
        ));
        tail_lines.push(Line::default());
    }
    tail_lines.push(Line::from(vec![
        Span::styled("Enter", theme.get("key")),
        Span::styled(" confirm · ", dim),
        Span::styled("Esc", theme.get("key")),
        Span::styled(" cancel", dim),
    ]));

    let content_w = rows
        .iter()
        .chain(tail_lines.iter())
        .map(Line::width)
        .chain([width(&intro), width(&c.title) + 4])
        .max()
        .unwrap_or(0);
    let w = (content_w + 4).clamp(30, 90).min(usize::from(area.width)) as u16;
    // intro, blank, tasks, blank, tail; tasks scroll when they do not fit.
    let fixed = 2 + 1 + 1 + tail_lines.len() as u16 + 1;
    let h = fixed.saturating_add(n.min(usize::from(u16::MAX)) as u16);
    let r = popup(frame, area, w, h);
    let block = pane(Line::from(format!(" {} ", c.title)), true, theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let [top, list, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(tail_lines.len() as u16 + 1),
    ])
    .areas(inner);
    let wrap = ratatui::widgets::Wrap { trim: true };
    frame.render_widget(
        Paragraph::new(Line::styled(intro, theme.get("text"))).wrap(wrap),
        top,
    );
    let room = usize::from(list.height);
    let start = c.scroll.min(n.saturating_sub(room));
    let mut shown: Vec<Line<'static>> = rows.into_iter().skip(start).take(room).collect();
    if start + room < n
        && let Some(last) = shown.last_mut()
    {
        *last = Line::styled(format!("  … {} more (↓)", n - start - room + 1), dim);
    }
    frame.render_widget(Paragraph::new(shown), list);
    let mut bottom_lines = vec![Line::default()];
    bottom_lines.extend(tail_lines);
    frame.render_widget(Paragraph::new(bottom_lines).wrap(wrap), bottom);
}

/// A plain yes-or-no question, in the confirm box's look.
pub fn draw_ask(frame: &mut Frame, area: Rect, theme: &Theme, a: &Ask) {
    let dim = theme.get("dim");
    let mut lines: Vec<Line<'static>> = vec![Line::default()];
    lines.extend(
        a.lines
            .iter()
            .map(|l| Line::styled(format!(" {l}"), theme.get("text"))),
    );
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled(" Enter", theme.get("key")),
        Span::styled(" confirm · ", dim),
        Span::styled("Esc", theme.get("key")),
        Span::styled(" cancel", dim),
    ]));
    let content_w = lines
        .iter()
        .map(Line::width)
        .chain([width(&a.title) + 4])
        .max()
        .unwrap_or(0);
    let w = (content_w + 4).clamp(30, 90).min(usize::from(area.width)) as u16;
    let r = popup(frame, area, w, lines.len() as u16 + 2);
    let block = pane(Line::from(format!(" {} ", a.title)), true, theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let wrap = ratatui::widgets::Wrap { trim: false };
    frame.render_widget(Paragraph::new(lines).wrap(wrap), inner);
}

pub fn draw_mark(frame: &mut Frame, area: Rect, theme: &Theme, run_id: i64, task: &str) {
    let title = format!(" Mark {task} (run {run_id}) as ");
    let key = theme.get("key");
    let line = Line::from(vec![
        Span::styled(" s ", key),
        Span::styled(
            TaskState::Succeeded.glyph(),
            theme.task(TaskState::Succeeded),
        ),
        Span::styled(" succeeded  · ", theme.get("text")),
        Span::styled(" k ", key),
        Span::styled(TaskState::Skipped.glyph(), theme.task(TaskState::Skipped)),
        Span::styled(" skipped  · ", theme.get("text")),
        Span::styled(" Esc ", key),
    ]);
    let w = (width(&title).max(line.width()) + 4).min(90) as u16;
    let r = popup(frame, area, w, 3);
    let block = pane(Line::from(title), true, theme);
    let inner = block.inner(r);
    frame.render_widget(block, r);
    frame.render_widget(Paragraph::new(line).centered(), inner);
}

pub fn draw_input(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    purpose: InputPurpose,
    text: &str,
) {
    let title = match (purpose, shown_run(state)) {
        (InputPurpose::Note, Some(run)) => format!(" Note for run {run} "),
        (InputPurpose::Note, None) => " Note ".to_string(),
        (InputPurpose::Search, _) => " Search log ".to_string(),
    };
    let w = area.width.saturating_sub(4).min(70);
    let r = popup(frame, area, w, 3);
    let block = pane(Line::from(title), true, theme)
        .title_bottom(Line::styled(" Enter ok · Esc cancel ", theme.get("dim")));
    let inner = block.inner(r);
    frame.render_widget(block, r);
    if inner.is_empty() {
        return;
    }
    let shown = tail(text, usize::from(inner.width).saturating_sub(1));
    let x = inner.x + (width(&shown) as u16).min(inner.width.saturating_sub(1));
    frame.render_widget(
        Paragraph::new(Span::styled(shown, theme.get("text"))),
        inner,
    );
    frame.set_cursor_position(Position::new(x, inner.y));
}
