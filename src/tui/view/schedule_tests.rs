//! Snapshots of what on-call operations add to the console: the Schedule
//! screen, late runs, a run's alerts and the header's badge.

use super::fixtures::*;
use super::*;
use crate::engine::schedules::{Overview, PipelineSchedule};
use crate::engine::state::RunState;
use crate::engine::store::{AlertKind, AlertRow, DeliveryRow, DeliveryState, Undelivered};

const MIN: i64 = 60_000;

fn render(state: &State, w: u16, h: u16) -> String {
    render_to_string(state, &theme(), &keys(), w, h)
}

fn scheduled(
    name: &str,
    schedule: &str,
    last: Option<RunState>,
    late_ms: Option<i64>,
) -> PipelineSchedule {
    PipelineSchedule {
        pipeline: name.into(),
        schedule: schedule.into(),
        timezone: chrono_tz::Europe::Berlin,
        next_slot: Some(NOW + 4 * MIN + 12_000),
        deadline: Some("08:00".into()),
        next_deadline_at: Some(NOW + 5 * 3600 * 1000),
        last_run: last.map(|st| run(42, name, "2024-05-01", st)),
        late_ms,
        recent: Vec::new(),
    }
}

fn schedule_state(serving: bool) -> State {
    let mut s = incident();
    s.screen = Screen::Schedule;
    s.schedule.loaded = true;
    s.schedule.shown = Overview {
        serving,
        pipelines: vec![
            scheduled(
                "nightly_export",
                "0 3 * * *",
                Some(RunState::Failed),
                Some(12 * MIN),
            ),
            scheduled("hourly_sync", "@hourly", Some(RunState::Succeeded), None),
            PipelineSchedule {
                deadline: None,
                next_deadline_at: None,
                ..scheduled("new_pipeline", "@every 30s", None, None)
            },
        ],
    };
    s.schedule.cursor = 1;
    s
}

#[test]
fn schedule_screen() {
    let s = schedule_state(true);
    insta::assert_snapshot!("schedule_80x24", render(&s, 80, 24));
    insta::assert_snapshot!("schedule_160x48", render(&s, 160, 48));
}

#[test]
fn schedule_screen_says_when_no_serve_runs_and_counts_down() {
    let mut s = schedule_state(false);
    let text = render(&s, 120, 24);
    assert!(text.contains("no `switchyard serve` is running"), "{text}");
    assert!(text.contains("4m12s"), "{text}");
    assert!(text.contains("late by 12m"), "{text}");
    s.now += 12_000;
    let later = render(&s, 120, 24);
    assert!(
        later.contains("4m00s"),
        "the countdown moves with the clock: {later}"
    );
}

#[test]
fn an_empty_schedule_says_how_to_add_one() {
    let mut s = incident();
    s.screen = Screen::Schedule;
    s.schedule.loaded = true;
    let text = render(&s, 120, 24);
    assert!(text.contains("No pipeline has a `schedule`"), "{text}");
}

fn alert(id: i64, kind: AlertKind, task: &str) -> AlertRow {
    AlertRow {
        id,
        dedup_key: format!("acme-data/42/{task}/{kind}"),
        kind,
        pipeline: "nightly_export".into(),
        run_id: Some(42),
        slot_at: None,
        task_id: Some(task.into()),
        tasks: vec![task.into()],
        error: Some(EXPORT_ERROR.into()),
        late_ms: None,
        created_at: NOW - MIN,
        updated_at: NOW - MIN,
        routed_at: Some(NOW - MIN),
    }
}

fn delivery(channel: &str, state: DeliveryState, attempts: i64, err: Option<&str>) -> DeliveryRow {
    DeliveryRow {
        alert_id: 1,
        channel: channel.into(),
        state,
        attempts,
        next_at: NOW,
        last_error: err.map(String::from),
        answer: None,
        delivered_at: None,
    }
}

/// The incident of run 42, paged: Slack took it, PagerDuty answers 500; the
/// run is past its 03:00 deadline.
fn paged() -> State {
    let mut s = incident();
    s.runs[0].deadline_at = Some(NOW - 14 * MIN);
    s.alerts_of = Some(42);
    s.alerts = vec![(
        alert(1, AlertKind::Failed, "export_users"),
        vec![
            delivery("oncall", DeliveryState::Delivered, 1, None),
            delivery(
                "pager",
                DeliveryState::Failed,
                3,
                Some("HTTP 500: upstream unavailable"),
            ),
        ],
    )];
    s.undelivered = Undelivered {
        pending: 1,
        failing: 1,
    };
    s
}

#[test]
fn runs_screen_paged_and_late() {
    let s = paged();
    let text = render(&s, 160, 48);
    let header = text.lines().next().unwrap_or("");
    assert!(header.ends_with("1 alert failing"), "{header}");
    assert!(
        text.contains("late 14m"),
        "late mark in the runs list: {text}"
    );
    assert!(
        text.contains("late by 14m"),
        "late in the run's title: {text}"
    );
    assert!(
        text.contains("failed export_users → oncall ✓ → pager ✗ 3 tries: HTTP 500"),
        "{text}"
    );
    insta::assert_snapshot!("runs_paged_160x48", text);
    insta::assert_snapshot!("runs_paged_80x24", render(&s, 80, 24));
}

#[test]
fn alerts_of_another_run_are_not_shown_as_this_runs() {
    let mut s = paged();
    s.alerts_of = Some(41);
    let text = render(&s, 160, 48);
    assert!(!text.contains("→ oncall"), "{text}");
}

#[test]
fn the_badge_says_pending_until_a_delivery_fails() {
    let mut s = incident();
    s.undelivered = Undelivered {
        pending: 2,
        failing: 0,
    };
    let text = render(&s, 120, 24);
    assert!(
        text.lines()
            .next()
            .unwrap_or("")
            .ends_with("2 alerts pending"),
        "{text}"
    );
    s.undelivered = Undelivered::default();
    let text = render(&s, 120, 24);
    assert!(
        !text.contains("alert"),
        "no badge once all are delivered: {text}"
    );
    // Beside READ-ONLY, both fit.
    s.readonly = true;
    s.undelivered.pending = 1;
    let first = render(&s, 120, 24).lines().next().unwrap_or("").to_string();
    assert!(first.ends_with("1 alert pending  READ-ONLY"), "{first}");
}

#[test]
fn task_screen_shows_the_tasks_alert() {
    let mut s = task_screen(true);
    s.alerts_of = Some(42);
    s.alerts = paged().alerts;
    let id = s
        .detail
        .as_ref()
        .map(|d| d.task_id.clone())
        .unwrap_or_default();
    s.alerts[0].0.task_id = Some(id.clone());
    s.alerts[0].0.tasks = vec![id];
    let text = render(&s, 160, 48);
    assert!(
        text.contains("alerts: failed → oncall ✓ → pager ✗"),
        "{text}"
    );
    insta::assert_snapshot!("task_paged_160x48", text);
}
