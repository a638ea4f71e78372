//! The task screen: the error on top, the log tail beside the runbook (the
//! fix is usually written down there), and the attempts at the bottom.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::cells::{self, first_line};
use super::fmt::{self, hard_wrap, highlight, width};
use super::{pane, task_history};
use crate::engine::store::InstanceRow;
use crate::text::clean_log;
use crate::tui::action::Action;
use crate::tui::markdown;
use crate::tui::state::Detail;
use crate::tui::{Keymap, Mode, State, Theme};

/// Where the task screen puts its parts.
struct Parts {
    top: Rect,
    /// The task's history (durations and rows of recent runs), when known.
    history: Option<Rect>,
    /// The log and the runbook, when there is room for them.
    log: Option<Rect>,
    book: Option<Rect>,
    bottom: Rect,
}

/// The current error of the open task: the instance's (an attempt's may be
/// from before a rerun), else the latest attempt's.
fn current_error(state: &State, d: &Detail) -> Option<String> {
    match state
        .tasks
        .iter()
        .find(|t| t.run_id == d.run_id && t.task_id == d.task_id)
    {
        Some(t) => t.error.clone(),
        None => d
            .attempts
            .iter()
            .max_by_key(|a| a.attempt)
            .and_then(|a| a.error.clone()),
    }
}

fn parts(area: Rect, error: Option<&str>, attempts: usize, history: bool) -> Parts {
    let inner_w = usize::from(area.width.saturating_sub(2)).max(1);
    let err_rows = error.map_or(1, |e| {
        e.lines()
            .map(|l| width(l).div_ceil(inner_w).max(1))
            .sum::<usize>()
    });
    let cap = usize::from(area.height / 4).clamp(1, 6);
    let top_h = err_rows.clamp(1, cap) as u16 + 2;
    let att_h = if area.height >= 16 {
        attempts.clamp(1, 3) as u16 + 3
    } else {
        0
    };
    let hist_h = if history && area.height >= 20 {
        task_history::HEIGHT
    } else {
        0
    };
    let [top, hist, mid, bottom] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Length(hist_h),
        Constraint::Fill(1),
        Constraint::Length(att_h),
    ])
    .areas(area);
    let (log, book) = if mid.height >= 3 {
        let [log, book] = if mid.width < 50 {
            Layout::vertical([Constraint::Percentage(50), Constraint::Fill(1)]).areas(mid)
        } else if mid.width < 140 {
            Layout::horizontal([Constraint::Percentage(45), Constraint::Fill(1)]).areas(mid)
        } else {
            Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(mid)
        };
        (Some(log), Some(book))
    } else {
        (None, None)
    };
    Parts {
        top,
        history: (hist_h > 0).then_some(hist),
        log,
        book,
        bottom,
    }
}

/// The log pane of the open task on a terminal of `state.size`, as `draw`
/// lays it out (for `update`, which scrolls what is on screen).
pub fn log_area(state: &State) -> Option<Rect> {
    let d = state.detail.as_ref()?;
    let (w, h) = state.size;
    let body = Rect::new(0, 1, w, h.saturating_sub(2));
    parts(
        body,
        current_error(state, d).as_deref(),
        d.attempts.len(),
        d.history.is_some(),
    )
    .log
}

/// Rows a log line takes in a pane `w` columns wide.
fn line_rows(d: &Detail, i: usize, w: usize) -> usize {
    d.log.get(i).map_or(0, |l| {
        hard_wrap(vec![Span::raw(clean_log(&l.line))], w).len()
    })
}

/// The first log line on screen while following: the last lines that fill
/// the pane `area`.
pub fn tail_start(d: &Detail, area: Rect) -> usize {
    let w = usize::from(area.width.saturating_sub(2)).max(1);
    let h = usize::from(area.height.saturating_sub(2));
    let mut rows = 0;
    let mut i = d.log.len();
    while i > 0 && rows < h {
        i -= 1;
        rows += line_rows(d, i, w);
    }
    i
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, keys: &Keymap) {
    let Some(d) = &state.detail else {
        let text = Line::styled("No task open: press esc for the runs.", theme.get("dim"));
        frame.render_widget(Paragraph::new(text), area);
        return;
    };
    let inst = state
        .tasks
        .iter()
        .find(|t| t.run_id == d.run_id && t.task_id == d.task_id);
    let latest = d.attempts.iter().max_by_key(|a| a.attempt);
    let error = current_error(state, d);
    let Parts {
        top,
        history,
        log,
        book,
        bottom,
    } = parts(
        area,
        error.as_deref(),
        d.attempts.len(),
        d.history.is_some(),
    );

    // Title: what the task is and where it stands.
    let st = inst.map(|t| t.state).or(latest.map(|a| a.state));
    let mut title = vec![Span::raw(" ")];
    if let Some(s) = st {
        title.push(Span::styled(format!("{} ", s.glyph()), theme.task(s)));
    }
    title.push(Span::raw(format!("{} ", d.task_id)));
    if let Some(s) = st {
        title.push(Span::styled(format!("· {s} "), theme.task(s)));
    }
    title.push(Span::raw(format!(
        "· run {} · attempt {} ",
        d.run_id, d.attempt
    )));
    let body = match error.as_deref() {
        Some(e) => Paragraph::new(e.to_string()).style(theme.get("error")),
        None => Paragraph::new(status(state, inst, theme)),
    };
    let mut block = pane(Line::from(title), false, theme);
    let room = usize::from(top.width.saturating_sub(4));
    if let Some(line) = super::alerts::line(state, d.run_id, Some(&d.task_id), theme, room) {
        block = block.title_bottom(line);
    }
    frame.render_widget(body.wrap(Wrap { trim: false }).block(block), top);
    if let (Some(area), Some(h)) = (history, &d.history) {
        task_history::draw(frame, area, state, h, inst, theme);
    }

    if let (Some(log), Some(book)) = (log, book) {
        log_pane(frame, log, d, theme);
        runbook_pane(frame, book, d, theme, keys);
    }
    if !bottom.is_empty() {
        attempts(frame, bottom, state, d, theme);
    }
}

/// One line for a task without an error: how far it is, or why it waits.
fn status(state: &State, inst: Option<&InstanceRow>, theme: &Theme) -> Line<'static> {
    let Some(t) = inst else {
        return Line::default();
    };
    let p = cells::progress(state, t);
    let mut spans = Vec::new();
    let elapsed = cells::elapsed(state, t);
    if !elapsed.is_empty() {
        let verb = if t.state.is_terminal() { "took" } else { "for" };
        spans.push(Span::styled(
            format!("{verb} {elapsed}  "),
            theme.get("text"),
        ));
    }
    spans.extend(p.bar(20, theme).spans);
    let eta = match p.eta() {
        e if e.is_empty() => task_history::eta(state, t).unwrap_or_default(),
        e => e,
    };
    for (text, pre) in [(p.rate(), "  "), (eta, "  eta ")] {
        if !text.is_empty() {
            spans.push(Span::styled(format!("{pre}{text}"), theme.get("text")));
        }
    }
    if let Some(r) = cells::reason(state, t, theme) {
        spans.push(Span::raw("  "));
        spans.push(r);
    }
    Line::from(spans)
}

/// The log tail: following shows the last rows; otherwise from `scroll`.
/// Lines are hard-wrapped so a long stack trace line is read, not cut.
fn log_pane(frame: &mut Frame, area: Rect, d: &Detail, theme: &Theme) {
    let w = usize::from(area.width.saturating_sub(2)).max(1);
    let h = usize::from(area.height.saturating_sub(2));
    let search = d.search.as_deref().filter(|s| !s.is_empty());
    let wrap = |i: usize| -> Vec<Line<'static>> {
        d.log.get(i).map_or_else(Vec::new, |l| {
            let text = clean_log(&l.line);
            hard_wrap(
                highlight(&text, search, theme.get("text"), theme.get("selection")),
                w,
            )
        })
    };
    let n = d.log.len();
    let mut rows: Vec<Line<'static>> = Vec::new();
    let first = if d.follow {
        let mut i = n;
        while i > 0 && rows.len() < h {
            i -= 1;
            let mut r = wrap(i);
            r.append(&mut rows);
            rows = r;
        }
        rows.drain(..rows.len().saturating_sub(h));
        i
    } else {
        let start = d.scroll.min(n.saturating_sub(1));
        let mut i = start;
        while i < n && rows.len() < h {
            rows.extend(wrap(i));
            i += 1;
        }
        rows.truncate(h);
        start
    };
    let mut title = format!(" Log · attempt {} ", d.attempt);
    if d.follow {
        title.push_str("· following ");
    } else if n > 0 {
        title.push_str(&format!("· line {}/{n} ", first + 1));
    }
    if rows.is_empty() {
        let text = if d.loaded {
            "(no output)"
        } else {
            "loading…"
        };
        rows.push(Line::styled(text, theme.get("dim")));
    }
    let mut block = pane(Line::from(title), true, theme);
    if let Some(s) = search {
        let needle = s.to_lowercase();
        let hits = d
            .log
            .iter()
            .filter(|l| l.line.to_lowercase().contains(&needle))
            .count();
        let plural = if hits == 1 { "" } else { "es" };
        block = block.title_bottom(Line::styled(
            format!(" /{s} · {hits} match{plural} "),
            theme.get("dim"),
        ));
    }
    frame.render_widget(Paragraph::new(rows).block(block), area);
}

fn runbook_pane(frame: &mut Frame, area: Rect, d: &Detail, theme: &Theme, keys: &Keymap) {
    let w = area.width.saturating_sub(2);
    let h = usize::from(area.height.saturating_sub(2));
    let (title, lines) = match &d.runbook {
        Some(rb) => (
            format!(" Runbook · {} ", rb.path),
            markdown::render(&rb.text, theme, w),
        ),
        None => {
            // Runbooks are found by their front matter, not by file name.
            let id = &d.task_id;
            let how = format!(
                "No runbook for this task yet. Save one as `runbooks/{id}.md`:\n\n\
                 ```\n---\ntask: {id}\n---\n# {id} failed: what to do\n```\n\n\
                 `task:` takes a glob; `error: <regex>` matches the error instead; \
                 or set `runbook = \"…\"` on the task."
            );
            (" Runbook ".to_string(), markdown::render(&how, theme, w))
        }
    };
    let start = d.runbook_scroll.min(lines.len().saturating_sub(1));
    let more = lines.len().saturating_sub(start + h);
    let mut block = pane(Line::from(title), false, theme);
    if more > 0 {
        // Say how to read on, with the user's own key.
        let key = keys
            .key_for(Mode::Task, &Action::RunbookDown)
            .unwrap_or("J");
        block = block.title_bottom(Line::styled(
            format!(" {more} more · {key} ↓ "),
            theme.get("dim"),
        ));
    }
    let shown: Vec<Line<'static>> = lines.into_iter().skip(start).take(h).collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
}

fn attempts(frame: &mut Frame, area: Rect, state: &State, d: &Detail, theme: &Theme) {
    let dim = theme.get("dim");
    let mut list: Vec<_> = d.attempts.iter().collect();
    list.sort_by_key(|a| std::cmp::Reverse(a.attempt));
    let rows = list.into_iter().map(|a| {
        let took = match a.finished_at {
            Some(f) => fmt::duration(f - a.started_at),
            None if !a.state.is_terminal() => {
                format!("{}…", fmt::duration(state.now - a.started_at))
            }
            None => String::new(),
        };
        Row::new(vec![
            Cell::from(a.attempt.to_string()),
            Cell::from(Span::styled(
                format!("{} {}", a.state.glyph(), a.state),
                theme.task(a.state),
            )),
            Cell::from(fmt::hms(a.started_at)),
            Cell::from(took),
            Cell::from(a.exit_code.map(|c| c.to_string()).unwrap_or_default()),
            Cell::from(Span::styled(
                a.error.as_deref().map(first_line).unwrap_or("").to_string(),
                theme.get("error"),
            )),
        ])
        .style(theme.get("text"))
    });
    let header = Row::new(
        ["#", "state", "started", "took", "exit", "error"]
            .map(|h| Cell::from(Span::styled(h, dim))),
    );
    let widths = [
        Constraint::Length(2),
        Constraint::Length(17),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Fill(1),
    ];
    let block = pane(
        Line::from(format!(" Attempts ({}) ", d.attempts.len())),
        false,
        theme,
    );
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
}
