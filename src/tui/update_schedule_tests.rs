//! Key flows of the Schedule screen and of alerts, through the real keymap.

use super::keymap::Keymap;
use super::state::{Effect, Focus, Msg, Screen, State};
use super::update::update;
use super::update_tests::run_row;
use crate::engine::schedules::{Overview, PipelineSchedule};
use crate::engine::state::RunState;
use crate::engine::store::Undelivered;

fn press(s: &mut State, k: &Keymap, keys: &[&str]) -> Vec<Effect> {
    let mut fx = Vec::new();
    for key in keys {
        fx.extend(update(s, Msg::Key(key.to_string()), k));
    }
    fx
}

fn pipeline(name: &str, last_run: Option<i64>, next_slot: i64) -> PipelineSchedule {
    PipelineSchedule {
        pipeline: name.into(),
        schedule: "@every 10s".into(),
        timezone: chrono_tz::UTC,
        next_slot: Some(next_slot),
        deadline: None,
        next_deadline_at: None,
        last_run: last_run.map(|id| run_row(id, RunState::Failed)),
        late_ms: None,
        recent: Vec::new(),
    }
}

fn with_runs() -> (State, Keymap) {
    let k = Keymap::builtin();
    let mut s = State::new("acme", false, "default", 1_000);
    update(
        &mut s,
        Msg::Runs(vec![
            run_row(3, RunState::Running),
            run_row(2, RunState::Failed),
            run_row(1, RunState::Succeeded),
        ]),
        &k,
    );
    (s, k)
}

#[test]
fn nine_opens_the_schedule_and_reads_it() {
    let (mut s, k) = with_runs();
    let fx = press(&mut s, &k, &["9"]);
    assert_eq!(s.screen, Screen::Schedule);
    assert_eq!(fx, [Effect::LoadSchedule]);
    assert_eq!(
        press(&mut s, &k, &["r"]),
        [Effect::LoadSchedule],
        "r reads it again"
    );
}

#[test]
fn the_palette_opens_the_schedule_too() {
    let (mut s, k) = with_runs();
    let mut keys: Vec<String> = vec![":".into()];
    keys.extend("schedule".chars().map(String::from));
    keys.push("enter".into());
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let fx = press(&mut s, &k, &keys);
    assert_eq!(s.screen, Screen::Schedule);
    assert!(fx.contains(&Effect::LoadSchedule), "{fx:?}");
}

#[test]
fn enter_opens_the_pipelines_latest_run() {
    let (mut s, k) = with_runs();
    press(&mut s, &k, &["9"]);
    update(
        &mut s,
        Msg::Schedule(Overview {
            serving: true,
            pipelines: vec![
                pipeline("a", Some(3), 50_000),
                pipeline("b", Some(2), 50_000),
            ],
        }),
        &k,
    );
    let fx = press(&mut s, &k, &["j", "enter"]);
    assert_eq!(s.screen, Screen::Runs);
    assert_eq!(s.focus, Focus::Tasks);
    assert_eq!(s.selected_run().map(|r| r.id), Some(2));
    assert_eq!(fx, [Effect::LoadRun(2)]);
}

#[test]
fn enter_on_a_pipeline_that_never_ran_says_so() {
    let (mut s, k) = with_runs();
    press(&mut s, &k, &["9"]);
    let pipelines = vec![pipeline("fresh", None, 50_000)];
    update(
        &mut s,
        Msg::Schedule(Overview {
            serving: true,
            pipelines,
        }),
        &k,
    );
    let fx = press(&mut s, &k, &["enter"]);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(s.screen, Screen::Schedule);
    let flash = s.flash.as_ref().map(|f| f.text.as_str());
    assert_eq!(flash, Some("fresh has not run yet"));
}

#[test]
fn enter_on_a_run_older_than_the_list_reads_the_list_for_it() {
    let (mut s, k) = with_runs();
    press(&mut s, &k, &["9"]);
    let pipelines = vec![pipeline("old", Some(7), 50_000)];
    update(
        &mut s,
        Msg::Schedule(Overview {
            serving: true,
            pipelines,
        }),
        &k,
    );
    let fx = press(&mut s, &k, &["enter"]);
    assert_eq!(fx, [Effect::LoadRuns]);
    let mut runs = vec![run_row(9, RunState::Running), run_row(7, RunState::Failed)];
    runs[1].pipeline = "old".into();
    let fx = update(&mut s, Msg::Runs(runs), &k);
    assert_eq!(s.selected_run().map(|r| r.id), Some(7));
    assert_eq!(fx, [Effect::LoadRun(7)]);
}

#[test]
fn the_schedule_is_read_again_when_a_slot_comes_due_and_when_runs_change() {
    let (mut s, k) = with_runs();
    press(&mut s, &k, &["9"]);
    let pipelines = vec![pipeline("a", Some(3), 5_000)];
    update(
        &mut s,
        Msg::Schedule(Overview {
            serving: true,
            pipelines,
        }),
        &k,
    );
    assert!(s.needs_clock(), "a countdown ticks");
    assert!(
        update(&mut s, Msg::Tick(4_000), &k).is_empty(),
        "not due yet"
    );
    assert_eq!(update(&mut s, Msg::Tick(5_000), &k), [Effect::LoadSchedule]);
    let changed = Msg::Changed {
        runs: vec![],
        any_run: true,
        pools: false,
        journal: false,
        logs: vec![],
    };
    assert!(update(&mut s, changed.clone(), &k).contains(&Effect::LoadSchedule));
    // Elsewhere, the schedule is not read.
    press(&mut s, &k, &["1"]);
    assert!(!update(&mut s, changed, &k).contains(&Effect::LoadSchedule));
    assert!(update(&mut s, Msg::Tick(9_000), &k).is_empty());
}

#[test]
fn a_delivery_moving_on_rereads_the_shown_runs_alerts() {
    let (mut s, k) = with_runs();
    update(
        &mut s,
        Msg::Alerts {
            run_id: 3,
            alerts: Vec::new(),
        },
        &k,
    );
    assert_eq!(s.alerts_of, Some(3), "the shown run's alerts are kept");
    let u = Undelivered {
        pending: 1,
        failing: 1,
    };
    assert_eq!(
        update(&mut s, Msg::Undelivered(u), &k),
        [Effect::LoadAlerts(3)]
    );
    assert_eq!(s.undelivered, u);
    assert!(
        update(&mut s, Msg::Undelivered(u), &k).is_empty(),
        "no change, no reload"
    );
    // Alerts of a run no longer shown are dropped.
    update(
        &mut s,
        Msg::Alerts {
            run_id: 2,
            alerts: Vec::new(),
        },
        &k,
    );
    assert_eq!(s.alerts_of, Some(3));
}

#[test]
fn a_run_with_a_deadline_keeps_the_clock_going_until_it_succeeds() {
    let (mut s, _) = with_runs();
    assert!(!s.needs_clock());
    s.runs[1].deadline_at = Some(500);
    assert!(
        s.needs_clock(),
        "a failed run past its deadline grows later"
    );
    s.runs[1].state = RunState::Succeeded;
    assert!(!s.needs_clock());
}
