//! The builder on hand-made rows: a nightly run whose load failed at 02:31,
//! paged, was noted and rerun by a person, and went green at 02:40.

use super::render::{json, markdown, text};
use super::*;
use crate::engine::store::{DeliveryRow, JournalEntry, RunRow};

/// 2026-12-07 02:30:00 UTC.
pub(crate) const T0: i64 = 1_796_610_600_000;
const S: i64 = 1000;
pub(crate) const M: i64 = 60 * S;

fn attempt(
    n: i64,
    state: TaskState,
    start: i64,
    end: Option<i64>,
    error: Option<&str>,
) -> AttemptRow {
    AttemptRow {
        attempt: n,
        state,
        started_at: start,
        finished_at: end,
        error: error.map(str::to_string),
        exit_code: None,
        host: None,
        pid: None,
        pgid: None,
        proc_start: None,
    }
}

fn delivered(alert_id: i64, channel: &str, tries: i64, at: i64) -> DeliveryRow {
    DeliveryRow {
        alert_id,
        channel: channel.into(),
        state: DeliveryState::Delivered,
        attempts: tries,
        next_at: at,
        last_error: None,
        answer: Some("ok".into()),
        delivered_at: Some(at),
    }
}

fn alert(id: i64, kind: &str, task: Option<&str>, at: i64, ds: Vec<DeliveryRow>) -> TimelineAlert {
    TimelineAlert {
        id,
        kind: kind.into(),
        task_id: task.map(str::to_string),
        tasks: task.map(|t| vec![t.to_string()]).unwrap_or_default(),
        error: (kind == "failed").then(|| "exit status 3\nrelation raw_orders is locked".into()),
        late_ms: None,
        created_at: at,
        deliveries: ds,
    }
}

/// Also the console's Timeline snapshots' run.
pub(crate) fn incident() -> TimelineRows {
    let run = RunRow {
        id: 7,
        pipeline: "nightly".into(),
        run_date: "2026-12-07".into(),
        state: RunState::Succeeded,
        backfill_id: None,
        created_at: T0 + S,
        started_at: Some(T0 + S),
        finished_at: Some(T0 + 10 * M),
        owner: None,
        note: None,
        slot_at: Some(T0),
        deadline_at: Some(T0 + 60 * M),
    };
    let locked = "relation raw_orders is locked\n  at line 3";
    TimelineRows {
        run,
        attempts: vec![
            ("extract".into(), attempt(1, TaskState::Succeeded, T0 + 2 * S, Some(T0 + M), None)),
            ("load_orders".into(), attempt(1, TaskState::Failed, T0 + M, Some(T0 + M + 5 * S), Some(locked))),
            ("load_orders".into(), attempt(2, TaskState::Succeeded, T0 + 8 * M, Some(T0 + 9 * M), None)),
            ("report".into(), attempt(1, TaskState::Succeeded, T0 + 9 * M, Some(T0 + 10 * M), None)),
        ],
        alerts: vec![
            alert(1, "failed", Some("load_orders"), T0 + M + 5 * S, vec![delivered(1, "hook", 2, T0 + M + 9 * S)]),
            alert(2, "recovered", None, T0 + 10 * M, vec![delivered(2, "hook", 1, T0 + 10 * M + S)]),
        ],
        journal: vec![
            JournalEntry {
                at: T0 + 7 * M,
                who: "ana@laptop".into(),
                action: "note".into(),
                run_id: Some(7),
                tasks: Vec::new(),
                detail: Some("vacuum held the lock; stopped it".into()),
            },
            JournalEntry {
                at: T0 + 8 * M - S,
                who: "ana@laptop".into(),
                action: "rerun".into(),
                run_id: Some(7),
                tasks: vec!["load_orders".into(), "report".into()],
                detail: Some(r#"{"kind":"rerun","task":"load_orders","downstream":true,"upstream":false,"failed":false}"#.into()),
            },
        ],
    }
}

fn kinds(tl: &Timeline) -> Vec<(EntryKind, Option<&str>)> {
    tl.entries
        .iter()
        .map(|e| (e.kind, e.task.as_deref()))
        .collect()
}

#[test]
fn entries_come_in_time_order_with_the_retry_the_page_the_note_and_the_recovery() {
    let tl = build(&incident(), T0 + 20 * M);
    use EntryKind::*;
    assert_eq!(
        kinds(&tl),
        [
            (Slot, None),
            (RunCreated, None),
            (TaskStarted, Some("extract")),
            // Same millisecond: the end of one attempt is written before the next start.
            (TaskSucceeded, Some("extract")),
            (TaskStarted, Some("load_orders")),
            (TaskFailed, Some("load_orders")),
            (Alert, Some("load_orders")),
            (Delivery, Some("load_orders")),
            (Journal, None),
            (Journal, None),
            (TaskRetry, Some("load_orders")),
            (TaskSucceeded, Some("load_orders")),
            (TaskStarted, Some("report")),
            (TaskSucceeded, Some("report")),
            (Alert, None),
            (RunFinished, None),
            (Delivery, None),
            (Deadline, None),
        ]
    );
    let sorted = tl.entries.windows(2).all(|w| w[0].at_ms <= w[1].at_ms);
    assert!(sorted, "{:#?}", tl.entries);

    let failed = &tl.entries[5];
    assert_eq!(
        failed.error.as_deref(),
        Some("relation raw_orders is locked")
    );
    assert_eq!(
        failed.text,
        "load_orders attempt 1 failed: relation raw_orders is locked"
    );
    let page = &tl.entries[6];
    assert_eq!(page.alert.as_deref(), Some("failed"));
    assert!(page.text.contains("exit status 3"), "{}", page.text);
    let d = &tl.entries[7];
    assert_eq!(
        (d.channel.as_deref(), d.state.as_deref(), d.tries),
        (Some("hook"), Some("delivered"), Some(2))
    );
    assert_eq!(
        d.at_ms,
        T0 + M + 9 * S,
        "a delivery is shown when the channel took it"
    );
    let note = &tl.entries[8];
    assert_eq!(note.who.as_deref(), Some("ana@laptop"));
    assert_eq!(
        note.note.as_deref(),
        Some("vacuum held the lock; stopped it")
    );
    assert!(note.text.contains("vacuum held the lock"), "{}", note.text);
    let rerun = &tl.entries[9];
    assert_eq!(rerun.tasks, ["load_orders", "report"]);
    assert_eq!(
        rerun.note.as_deref(),
        Some("load_orders with everything downstream")
    );
    assert_eq!(
        tl.entries[10].text,
        "load_orders attempt 2 (after attempt 1 failed)"
    );
    assert_eq!(tl.entries[14].alert.as_deref(), Some("recovered"));
    assert_eq!(tl.entries[17].text, "deadline met");
}

#[test]
fn the_summary_counts_failures_retries_and_time_from_first_alert_to_recovery() {
    let s = build(&incident(), T0 + 20 * M).summary;
    assert_eq!(s.failures, 1);
    assert_eq!(s.failed_tasks, ["load_orders"]);
    assert_eq!(s.retries, 1);
    assert_eq!(s.alerts, 2);
    assert_eq!(s.first_alert_at, Some(T0 + M + 5 * S));
    assert_eq!(s.recovered_at, Some(T0 + 10 * M));
    assert_eq!(s.alert_to_recovery_ms, Some(10 * M - M - 5 * S));
    assert_eq!(s.duration_ms, Some(10 * M - S));
    assert_eq!(s.late_ms, None);
}

#[test]
fn an_alert_kind_this_binary_does_not_know_is_shown_not_dropped() {
    let mut rows = incident();
    let mut at_risk = alert(3, "at_risk", None, T0 + 3 * M, Vec::new());
    at_risk.deliveries.push(DeliveryRow {
        state: DeliveryState::Failed,
        last_error: Some("HTTP 500\nbody".into()),
        delivered_at: None,
        answer: None,
        ..delivered(3, "pager", 3, 0)
    });
    rows.alerts.push(at_risk);
    let tl = build(&rows, T0 + 20 * M);
    let risk: Vec<&Entry> = tl
        .entries
        .iter()
        .filter(|e| e.alert.as_deref() == Some("at_risk"))
        .collect();
    assert_eq!(risk.len(), 2, "{:#?}", tl.entries);
    assert_eq!(risk[0].text, "alert at_risk: the run");
    assert_eq!(
        risk[1].text,
        "at_risk alert → pager: failed (3 tries): HTTP 500"
    );
    assert_eq!(
        risk[1].at_ms,
        T0 + 3 * M,
        "an undelivered one sits with its alert"
    );
    // A trigger of its own kind still opens the incident.
    assert_eq!(build(&rows, 0).summary.alerts, 3);
}

#[test]
fn a_run_still_failing_past_its_deadline_says_how_late_and_is_not_recovered() {
    let mut rows = incident();
    rows.run.state = RunState::Failed;
    rows.run.finished_at = Some(T0 + 2 * M);
    rows.attempts.truncate(2);
    rows.alerts.truncate(1);
    rows.journal.clear();
    let tl = build(&rows, T0 + 75 * M);
    assert_eq!(tl.summary.recovered_at, None);
    assert_eq!(tl.summary.late_ms, Some(15 * M));
    let last = tl.entries.last().expect("entries");
    assert_eq!(
        (last.kind, last.text.as_str()),
        (EntryKind::Deadline, "deadline missed: late by 15m")
    );
}

#[test]
fn secrets_and_control_characters_never_reach_the_entries() {
    crate::config::redact::register_secret("hunter2-canary-secret");
    let mut rows = incident();
    rows.journal[0].detail = Some("pasted hunter2-canary-secret \u{1b}[2J by mistake".into());
    let tl = build(&rows, T0);
    let all = serde_json::to_string(&json(&tl)).expect("json");
    assert!(!all.contains("hunter2-canary-secret"), "{all}");
    assert!(!all.contains('\u{1b}'), "{all}");
}

#[test]
fn the_three_forms_say_the_same_story() {
    let tl = build(&incident(), T0 + 20 * M);
    let plain = text(&tl, &chrono::Utc);
    assert_eq!(plain.lines().count(), tl.entries.len() + 1);
    assert!(
        plain.contains("12-07 02:31:05  FAILED     load_orders attempt 1 failed"),
        "{plain}"
    );

    let md = markdown(&tl, &chrono::Utc);
    assert!(
        md.starts_with("# Incident timeline: nightly run 7 (2026-12-07)\n"),
        "{md}"
    );
    for want in [
        "- Duration: 9m59s (12-07 02:30:01 → 12-07 02:40:00), succeeded",
        "- Failures: 1 failed attempt (load_orders), 1 retry",
        "recovered 12-07 02:40:00: 8m55s from first alert to recovery",
        "- Times are local (UTC+00:00).",
        "| 12-07 02:37:00 | journal |  | ana@laptop note: vacuum held the lock; stopped it |",
        "| 12-07 02:40:00 | alert |  | alert recovered: the run |",
    ] {
        assert!(md.contains(want), "missing {want:?} in\n{md}");
    }

    let v = json(&tl);
    let first = &v[0];
    for field in [
        "at", "at_ms", "kind", "task", "text", "attempt", "state", "error", "alert", "channel",
        "tries", "who", "action", "tasks", "note",
    ] {
        assert!(first.get(field).is_some(), "{field} missing from {first}");
    }
    assert_eq!(first["kind"], "slot");
    assert_eq!(first["at"], "2026-12-07T02:30:00Z");
    assert_eq!(v[5]["kind"], "task_failed");
}

#[test]
fn a_pipe_in_a_note_does_not_break_the_markdown_table() {
    let mut rows = incident();
    rows.journal[0].detail = Some("a | b".into());
    let md = markdown(&build(&rows, T0), &chrono::Utc);
    assert!(md.contains("note: a \\| b |"), "{md}");
}
