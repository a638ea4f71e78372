//! A run's incident timeline, computed once from the store's rows and
//! rendered by the CLI (`switchyard timeline`) and the console's Timeline
//! screen alike: the slot and the run's creation, every attempt's start and
//! end, failures with the first line of their error, retries, every alert
//! and each of its deliveries, every human action of the journal, the
//! deadline, and the recovery.
//!
//! `build` is pure (rows and `now` in, entries out) so the order and the
//! words are unit-tested without a store; `render` holds the text,
//! Markdown and JSON forms.
//!
//! Alert kinds stay strings here: whatever kind the store holds (a newer
//! binary's `at_risk` too) becomes an entry; only `recovered` means
//! something more (the incident closed).

pub mod render;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::config::duration::human;
use crate::config::redact::redact;
use crate::engine::request::describe_detail;
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{AttemptRow, DeliveryState, TimelineAlert, TimelineRows, rfc3339};

/// The alert kind that closes an incident; every other kind opens or updates one.
const RECOVERED: &str = "recovered";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The schedule slot the run is for.
    Slot,
    RunCreated,
    /// An attempt began (the first, or one after a success or a cancel).
    TaskStarted,
    /// Attempt N+1 after attempt N failed.
    TaskRetry,
    TaskSucceeded,
    /// An attempt that failed or was interrupted, with its first error line.
    TaskFailed,
    /// Any other end of an attempt (cancelled, skipped…).
    TaskEnded,
    Alert,
    Delivery,
    /// A human action: a rerun, cancel, mark, note, pool resize.
    Journal,
    Deadline,
    RunFinished,
}

impl EntryKind {
    /// A short word for the "what" column of the text and table forms.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Slot => "slot",
            EntryKind::RunCreated => "created",
            EntryKind::TaskStarted => "started",
            EntryKind::TaskRetry => "retry",
            EntryKind::TaskSucceeded => "succeeded",
            EntryKind::TaskFailed => "FAILED",
            EntryKind::TaskEnded => "ended",
            EntryKind::Alert => "alert",
            EntryKind::Delivery => "delivery",
            EntryKind::Journal => "journal",
            EntryKind::Deadline => "deadline",
            EntryKind::RunFinished => "finished",
        }
    }
}

/// One line of the timeline. Every field is always present in JSON (null
/// when it does not apply), so scripts can rely on the names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub at: String,
    pub at_ms: i64,
    pub kind: EntryKind,
    pub task: Option<String>,
    /// The entry in words, secrets masked, on one line.
    pub text: String,
    pub attempt: Option<i64>,
    /// How an attempt ended, a delivery's state, the run's final state.
    pub state: Option<String>,
    /// The first line of an attempt's error, a delivery's last error.
    pub error: Option<String>,
    /// The alert's kind, as the store holds it.
    pub alert: Option<String>,
    pub channel: Option<String>,
    /// A delivery's tries so far.
    pub tries: Option<i64>,
    pub who: Option<String>,
    pub action: Option<String>,
    /// The tasks a journal action or an alert covers.
    pub tasks: Vec<String>,
    /// A journal entry's note or detail, in words.
    pub note: Option<String>,
}

impl Entry {
    fn new(at_ms: i64, kind: EntryKind, task: Option<&str>, text: String) -> Entry {
        Entry {
            at: rfc3339(at_ms),
            at_ms,
            kind,
            task: task.map(str::to_string),
            text,
            attempt: None,
            state: None,
            error: None,
            alert: None,
            channel: None,
            tries: None,
            who: None,
            action: None,
            tasks: Vec::new(),
            note: None,
        }
    }
}

/// What a postmortem's first lines say.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Failed (or interrupted) attempts.
    pub failures: usize,
    pub failed_tasks: Vec<String>,
    pub retries: usize,
    pub alerts: usize,
    pub first_alert_at: Option<i64>,
    pub recovered_at: Option<i64>,
    pub alert_to_recovery_ms: Option<i64>,
    pub late_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub run_id: i64,
    pub pipeline: String,
    pub run_date: String,
    pub state: String,
    pub summary: Summary,
    pub entries: Vec<Entry>,
}

/// Text from the store made fit for any output: secrets masked (again: a
/// note is typed by a person), control characters escaped, one line.
fn clean(s: &str) -> String {
    crate::text::one_line(&redact(s)).into_owned()
}

fn first_line(s: &str) -> String {
    clean(
        s.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim(),
    )
}

/// The timeline of one run as of `now` (which judges a deadline still open).
pub fn build(rows: &TimelineRows, now: i64) -> Timeline {
    let run = &rows.run;
    let mut out = Vec::new();
    if let Some(slot) = run.slot_at {
        out.push(Entry::new(
            slot,
            EntryKind::Slot,
            None,
            format!("slot of {} for {}", run.pipeline, run.run_date),
        ));
    }
    out.push(Entry::new(
        run.created_at,
        EntryKind::RunCreated,
        None,
        format!(
            "run {} of {} for {} created",
            run.id, run.pipeline, run.run_date
        ),
    ));
    // Each task's attempts, to tell a retry (after a failed attempt) from a start.
    let mut by_task: HashMap<&str, Vec<&AttemptRow>> = HashMap::new();
    for (task, a) in &rows.attempts {
        by_task.entry(task.as_str()).or_default().push(a);
    }
    for (task, a) in &rows.attempts {
        let prev = by_task
            .get(task.as_str())
            .and_then(|list| {
                list.iter()
                    .filter(|p| p.attempt < a.attempt)
                    .max_by_key(|p| p.attempt)
            })
            .copied();
        attempt_entries(&mut out, task, a, prev);
    }
    for alert in &rows.alerts {
        alert_entries(&mut out, alert);
    }
    for j in &rows.journal {
        let note = j.detail.as_deref().map(|d| clean(&describe_detail(d)));
        let mut text = format!("{} {}", clean(&j.who), clean(&j.action));
        if !j.tasks.is_empty() {
            text.push_str(&format!(" [{}]", clean(&j.tasks.join(", "))));
        }
        if let Some(n) = note.as_deref().filter(|n| !n.is_empty()) {
            text.push_str(&format!(": {n}"));
        }
        let mut e = Entry::new(j.at, EntryKind::Journal, None, text);
        e.who = Some(clean(&j.who));
        e.action = Some(clean(&j.action));
        e.tasks = j.tasks.iter().map(|t| clean(t)).collect();
        e.note = note;
        out.push(e);
    }
    let late_ms = run.late_ms(now);
    if let Some(deadline) = run.deadline_at {
        let text = match (late_ms, run.state) {
            (Some(l), RunState::Succeeded) => {
                format!("deadline missed: succeeded {} late", human(l))
            }
            (Some(l), _) => format!("deadline missed: late by {}", human(l)),
            (None, RunState::Succeeded) => "deadline met".to_string(),
            (None, _) => "deadline (the run is not done yet)".to_string(),
        };
        out.push(Entry::new(deadline, EntryKind::Deadline, None, text));
    }
    let finished = run
        .finished_at
        .filter(|_| matches!(run.state, RunState::Succeeded | RunState::Failed));
    if let Some(at) = finished {
        let mut e = Entry::new(
            at,
            EntryKind::RunFinished,
            None,
            format!("run {}", run.state.as_str()),
        );
        e.state = Some(run.state.as_str().to_string());
        out.push(e);
    }
    // Stable: entries of one millisecond keep the order written above (an
    // attempt's failure before the alert it raised).
    out.sort_by_key(|e| e.at_ms);
    let summary = summarize(rows, &out, finished, late_ms);
    Timeline {
        run_id: run.id,
        pipeline: clean(&run.pipeline),
        run_date: clean(&run.run_date),
        state: run.state.as_str().to_string(),
        summary,
        entries: out,
    }
}

fn attempt_entries(out: &mut Vec<Entry>, task: &str, a: &AttemptRow, prev: Option<&AttemptRow>) {
    let task_c = clean(task);
    let after_failure =
        prev.filter(|p| matches!(p.state, TaskState::Failed | TaskState::Interrupted));
    let (kind, text) = match after_failure {
        Some(p) => (
            EntryKind::TaskRetry,
            format!(
                "{task_c} attempt {} (after attempt {} {})",
                a.attempt,
                p.attempt,
                p.state.as_str()
            ),
        ),
        None => (
            EntryKind::TaskStarted,
            format!("{task_c} attempt {} started", a.attempt),
        ),
    };
    let mut start = Entry::new(a.started_at, kind, Some(&task_c), text);
    start.attempt = Some(a.attempt);
    out.push(start);
    let Some(end) = a.finished_at.filter(|_| a.state != TaskState::Running) else {
        return;
    };
    let error = a.error.as_deref().map(first_line).filter(|e| !e.is_empty());
    let (kind, text) = match a.state {
        TaskState::Succeeded => (
            EntryKind::TaskSucceeded,
            format!("{task_c} attempt {} succeeded", a.attempt),
        ),
        TaskState::Failed | TaskState::Interrupted => (
            EntryKind::TaskFailed,
            match &error {
                Some(err) => format!("{task_c} attempt {} {}: {err}", a.attempt, a.state),
                None => format!("{task_c} attempt {} {}", a.attempt, a.state),
            },
        ),
        other => (
            EntryKind::TaskEnded,
            format!("{task_c} attempt {} {}", a.attempt, other.as_str()),
        ),
    };
    let mut e = Entry::new(end, kind, Some(&task_c), text);
    e.attempt = Some(a.attempt);
    e.state = Some(a.state.as_str().to_string());
    e.error = error;
    out.push(e);
}

fn alert_entries(out: &mut Vec<Entry>, alert: &TimelineAlert) {
    let kind = clean(&alert.kind);
    let task = alert.task_id.as_deref().map(clean);
    let about = match (&task, alert.tasks.len()) {
        (Some(t), 0 | 1) => t.clone(),
        (Some(t), n) => format!("{t} ({n} tasks)"),
        (None, 0) => "the run".to_string(),
        (None, n) => format!("{n} tasks"),
    };
    let error = alert
        .error
        .as_deref()
        .map(first_line)
        .filter(|e| !e.is_empty());
    let mut text = format!("alert {kind}: {about}");
    if let Some(err) = &error {
        text.push_str(&format!(": {err}"));
    }
    if let Some(l) = alert.late_ms {
        text.push_str(&format!(" (late by {})", human(l)));
    }
    let mut e = Entry::new(alert.created_at, EntryKind::Alert, task.as_deref(), text);
    e.alert = Some(kind.clone());
    e.error = error;
    e.tasks = alert.tasks.iter().map(|t| clean(t)).collect();
    out.push(e);
    for d in &alert.deliveries {
        let channel = clean(&d.channel);
        let tries = match d.attempts {
            1 => "1 try".to_string(),
            n => format!("{n} tries"),
        };
        let last_error = d.last_error.as_deref().map(first_line);
        let (at, text) = match (d.state, d.delivered_at) {
            (DeliveryState::Delivered, Some(at)) => {
                (at, format!("{kind} alert → {channel}: delivered ({tries})"))
            }
            (state, _) => {
                let why = last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default();
                // Not (yet) delivered: shown with the alert it belongs to.
                (
                    alert.created_at,
                    format!(
                        "{kind} alert → {channel}: {} ({tries}){why}",
                        state.as_str()
                    ),
                )
            }
        };
        let mut e = Entry::new(at, EntryKind::Delivery, task.as_deref(), text);
        e.alert = Some(kind.clone());
        e.channel = Some(channel);
        e.state = Some(d.state.as_str().to_string());
        e.tries = Some(d.attempts);
        e.error = last_error;
        out.push(e);
    }
}

fn summarize(
    rows: &TimelineRows,
    entries: &[Entry],
    finished: Option<i64>,
    late_ms: Option<i64>,
) -> Summary {
    let run = &rows.run;
    let started_at = run.started_at.unwrap_or(run.created_at);
    let failed: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::TaskFailed)
        .collect();
    let failed_tasks: BTreeSet<String> = failed.iter().filter_map(|e| e.task.clone()).collect();
    let first_alert_at = rows
        .alerts
        .iter()
        .filter(|a| a.kind != RECOVERED)
        .map(|a| a.created_at)
        .min();
    // The incident closed: a `recovered` alert, else the run ending green
    // after something went wrong.
    let recovered_at = rows
        .alerts
        .iter()
        .filter(|a| a.kind == RECOVERED && first_alert_at.is_none_or(|f| a.created_at >= f))
        .map(|a| a.created_at)
        .min()
        .or_else(|| {
            let troubled = !failed.is_empty() || first_alert_at.is_some();
            finished.filter(|_| troubled && run.state == RunState::Succeeded)
        });
    Summary {
        started_at,
        finished_at: finished,
        duration_ms: finished.map(|f| f - started_at),
        failures: failed.len(),
        failed_tasks: failed_tasks.into_iter().collect(),
        retries: entries
            .iter()
            .filter(|e| e.kind == EntryKind::TaskRetry)
            .count(),
        alerts: rows.alerts.len(),
        first_alert_at,
        recovered_at,
        alert_to_recovery_ms: first_alert_at.zip(recovered_at).map(|(f, r)| r - f),
        late_ms,
    }
}
