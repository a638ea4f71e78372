//! What a task row says, shared by the task table, the task screen and the
//! pools screen: progress, rate, elapsed time, ETA and why it is not running.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::fmt;
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::InstanceRow;
use crate::tui::state::Rate;
use crate::tui::{State, Theme};

/// Live progress of a running task (from progress messages), else the row's
/// last stored numbers. A rate left over from a finished attempt is ignored.
pub struct Progress<'a> {
    pub rows: Option<i64>,
    pub total: Option<i64>,
    pub rate: Option<&'a Rate>,
}

pub fn progress<'a>(state: &'a State, t: &InstanceRow) -> Progress<'a> {
    let rate = (t.state == TaskState::Running)
        .then(|| state.rates.get(&(t.run_id, t.task_id.clone())))
        .flatten();
    Progress {
        rows: rate.map(|r| r.rows).or(t.rows),
        total: rate.and_then(|r| r.total).or(t.total_estimate),
        rate,
    }
}

impl Progress<'_> {
    /// "█████░░░ 62%", or "1.20M rows" without a total.
    pub fn bar(&self, width: usize, theme: &Theme) -> Line<'static> {
        match (self.rows, self.total) {
            (Some(rows), Some(total)) if total > 0 => {
                let (done, left) = fmt::bar(rows, total, width);
                let pct = (rows.max(0) as f64 * 100.0 / total as f64).min(100.0);
                Line::from(vec![
                    Span::styled(done, theme.get("gauge")),
                    Span::styled(left, theme.get("dim")),
                    Span::styled(format!(" {pct:>3.0}%"), theme.get("text")),
                ])
            }
            (Some(rows), _) => {
                Line::styled(format!("{} rows", fmt::count(rows)), theme.get("text"))
            }
            _ => Line::default(),
        }
    }

    pub fn rate(&self) -> String {
        self.rate
            .and_then(Rate::rows_per_s)
            .map(fmt::rate)
            .unwrap_or_default()
    }

    pub fn eta(&self) -> String {
        self.rate
            .and_then(Rate::eta_s)
            .map(fmt::seconds)
            .unwrap_or_default()
    }
}

/// Running: time since start; finished: how long it took; else nothing.
pub fn elapsed(state: &State, t: &InstanceRow) -> String {
    match (t.state, t.started_at, t.finished_at) {
        (TaskState::Running, Some(s), _) => fmt::duration(state.now - s),
        (s, Some(a), Some(b)) if s.is_terminal() => fmt::duration(b - a),
        _ => String::new(),
    }
}

/// The first non-empty line of an error, for one-row displays.
pub fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// Why a task is not running (or what a running one waits for), styled.
pub fn reason(state: &State, t: &InstanceRow, theme: &Theme) -> Option<Span<'static>> {
    let error = t.error.as_deref().map(first_line).filter(|e| !e.is_empty());
    let waiting = t.waiting_on.as_deref().filter(|w| !w.is_empty());
    let (text, style): (String, Style) = match t.state {
        TaskState::Running if t.cancel_requested => ("cancelling…".into(), theme.get("warning")),
        TaskState::Running => return None,
        TaskState::Failed | TaskState::Interrupted => {
            (error.or(waiting)?.to_string(), theme.get("error"))
        }
        TaskState::UpstreamFailed => (
            error
                .or(waiting)
                .unwrap_or("an upstream task failed")
                .to_string(),
            theme.task(t.state),
        ),
        TaskState::Queued => match t.waiting_for_pool() {
            Some(pool) => (pool_text(state, pool), theme.get("warning")),
            None => (waiting?.to_string(), theme.get("dim")),
        },
        TaskState::Retrying => match (waiting, error) {
            (Some(w), Some(e)) => (format!("{w}: {e}"), theme.get("warning")),
            (w, e) => (w.or(e)?.to_string(), theme.get("warning")),
        },
        TaskState::Pending if waiting.is_none() => (upstream_wait(state, t)?, theme.get("dim")),
        _ => (waiting.or(error)?.to_string(), theme.get("dim")),
    };
    Some(Span::styled(text, style))
}

/// "waiting on a, b" for a pending task whose row does not say (a rerun
/// resets the reason, and a new owner may not have written it yet): its
/// upstream tasks that have not succeeded, as the scheduler words it.
fn upstream_wait(state: &State, t: &InstanceRow) -> Option<String> {
    let open: Vec<&str> = t
        .upstream
        .iter()
        .filter(|u| {
            !state.tasks.iter().any(|x| {
                x.run_id == t.run_id
                    && &x.task_id == *u
                    && matches!(x.state, TaskState::Succeeded | TaskState::Skipped)
            })
        })
        .map(String::as_str)
        .collect();
    (!open.is_empty()).then(|| crate::engine::scheduler::waiting_on_text(&open))
}

/// "pool replica 4/4": the wait, with the pool's live use.
pub fn pool_text(state: &State, pool: &str) -> String {
    match state.pools.iter().find(|p| p.name == pool) {
        Some(p) => format!("pool {pool} {}/{}", p.running, p.size),
        None => format!("pool {pool}"),
    }
}

/// A run state's glyph and style (runs have no glyph of their own).
pub fn run_glyph(s: RunState, theme: &Theme) -> (&'static str, Style) {
    let t = match s {
        RunState::Queued => TaskState::Queued,
        RunState::Running => TaskState::Running,
        RunState::Succeeded => TaskState::Succeeded,
        RunState::Failed => TaskState::Failed,
    };
    (t.glyph(), theme.task(t))
}

/// Task states worst first, the order every count of tasks per state uses.
pub const WORST_FIRST: [TaskState; 10] = [
    TaskState::Failed,
    TaskState::Interrupted,
    TaskState::UpstreamFailed,
    TaskState::Cancelled,
    TaskState::Running,
    TaskState::Retrying,
    TaskState::Queued,
    TaskState::Pending,
    TaskState::Succeeded,
    TaskState::Skipped,
];

/// "✗1 ▶2 ✓5": tasks per state, worst first.
pub fn state_counts(tasks: &[InstanceRow], theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for s in WORST_FIRST {
        let n = tasks.iter().filter(|t| t.state == s).count();
        if n > 0 {
            if !spans.is_empty() {
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled(format!("{}{n}", s.glyph()), theme.task(s)));
        }
    }
    Line::from(spans)
}
