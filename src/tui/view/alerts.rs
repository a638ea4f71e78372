//! Alerts where on call looks: the header's badge when some are still on
//! their way, and one line per run or task saying what was sent and whether
//! each channel took it ("failed → oncall ✓ · pager ⟳ 3 tries: HTTP 500").

use ratatui::text::{Line, Span};

use super::fmt::truncate;
use crate::engine::store::{DeliveryState, Undelivered};
use crate::tui::state::RunAlert;
use crate::tui::{State, Theme};

/// The header's badge: " 2 alerts pending " (warning), or failing (error).
pub fn badge(u: Undelivered, theme: &Theme) -> Option<Span<'static>> {
    let plural = |n: i64| if n == 1 { "" } else { "s" };
    if u.failing > 0 {
        let text = format!(" {} alert{} failing ", u.failing, plural(u.failing));
        Some(Span::styled(text, theme.get("error")))
    } else if u.pending > 0 {
        let text = format!(" {} alert{} pending ", u.pending, plural(u.pending));
        Some(Span::styled(text, theme.get("warning")))
    } else {
        None
    }
}

/// The shown run's alerts about `task` (None: every alert of the run).
fn of<'a>(state: &'a State, run: i64, task: Option<&'a str>) -> impl Iterator<Item = &'a RunAlert> {
    let loaded = state.alerts_of == Some(run);
    state.alerts.iter().filter(move |(a, _)| {
        loaded
            && task
                .is_none_or(|t| a.task_id.as_deref() == Some(t) || a.tasks.iter().any(|x| x == t))
    })
}

/// One line, newest alert first, cut to `max` columns; None when no alert
/// was raised.
pub fn line(
    state: &State,
    run: i64,
    task: Option<&str>,
    theme: &Theme,
    max: usize,
) -> Option<Line<'static>> {
    let dim = theme.get("dim");
    let mut spans = vec![Span::styled(" alerts: ", dim)];
    let mut any = false;
    for (a, ds) in of(state, run, task) {
        if any {
            spans.push(Span::styled(" │ ", dim));
        }
        any = true;
        let about = match (task, a.task_id.as_deref()) {
            (None, Some(t)) => format!("{} {t}", a.kind),
            _ => a.kind.to_string(),
        };
        spans.push(Span::styled(about, theme.get("text")));
        if ds.is_empty() {
            let routed = a.routed_at.is_some();
            let why = if routed {
                " (no channel)"
            } else {
                " ⟳ not sent yet"
            };
            spans.push(Span::styled(
                why,
                if routed { dim } else { theme.get("warning") },
            ));
        }
        for d in ds {
            let (mark, role) = match d.state {
                DeliveryState::Delivered => ("✓", "ok"),
                DeliveryState::Pending => ("⟳", "warning"),
                DeliveryState::Failed => ("✗", "error"),
            };
            spans.push(Span::styled(
                format!(" → {} {mark}", d.channel),
                theme.get(role),
            ));
            if d.state != DeliveryState::Delivered && d.attempts > 0 {
                let err = d.last_error.as_deref().unwrap_or("");
                let err = crate::text::clean_log(err.lines().next().unwrap_or(""));
                let text = format!(" {} tries: {}", d.attempts, truncate(&err, 40));
                spans.push(Span::styled(text, dim));
            }
        }
    }
    if !any {
        return None;
    }
    spans.push(Span::raw(" "));
    // Cut the line as a whole, span by span, so colours stay.
    let mut used = 0;
    let mut out = Vec::new();
    for s in spans {
        let w = s.width();
        if used + w > max {
            let room = max.saturating_sub(used);
            if room > 1 {
                out.push(Span::styled(truncate(&s.content, room), s.style));
            }
            break;
        }
        used += w;
        out.push(s);
    }
    Some(Line::from(out))
}
