//! Snapshots of what history and the forecast add to the screens: the task
//! view's sparklines, the run's "at risk" line, the pools screen's "one
//! more slot".

use super::fixtures::*;
use super::*;
use crate::engine::forecast::{PoolWhatIf, RunForecast};
use crate::engine::history::{Sample, TaskHistory};
use crate::engine::state::TaskState;

const M: i64 = 60_000;

fn render(state: &State, w: u16, h: u16) -> String {
    render_to_string(state, &theme(), &keys(), w, h)
}

fn both(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), render(state, 160, 48));
}

/// 29 past runs of export_users (8 minutes, creeping up, two failures),
/// then this one (run 42).
fn history() -> TaskHistory {
    let mut samples: Vec<Sample> = (13..42)
        .map(|run| {
            let failed = run % 11 == 0;
            Sample {
                run_id: run,
                run_date: format!("2024-04-{:02}", run - 12),
                state: if failed {
                    TaskState::Failed
                } else {
                    TaskState::Succeeded
                },
                attempts: if failed { 3 } else { 1 },
                duration_ms: Some(if failed {
                    2 * M
                } else {
                    8 * M + (run % 7) * 20_000
                }),
                rows: (!failed).then_some(1_150_000 + run * 1000),
                bytes: None,
            }
        })
        .collect();
    samples.push(Sample {
        run_id: 42,
        run_date: "2024-05-01".into(),
        state: TaskState::Failed,
        attempts: 3,
        duration_ms: Some(477_000),
        rows: Some(480_000),
        bytes: None,
    });
    TaskHistory {
        task_id: "export_users".into(),
        kind: "export".into(),
        samples,
    }
}

fn forecast(at_risk: bool) -> RunForecast {
    RunForecast {
        run_id: Some(42),
        pipeline: "nightly_export".into(),
        slot_at: None,
        deadline_at: Some(NOW + 20 * M),
        projected_at: Some(NOW + if at_risk { 44 * M } else { 12 * M }),
        critical_path: vec![
            "export_orders".into(),
            "load_orders".into(),
            "daily_revenue".into(),
        ],
        blocked_by: Vec::new(),
        guessed: Vec::new(),
        at_risk,
        what_if: vec![PoolWhatIf {
            pool: "replica".into(),
            size: 2,
            projected_at: Some(NOW + 12 * M),
        }],
        tz: chrono_tz::Tz::UTC,
    }
}

#[test]
fn the_task_view_shows_its_history_with_this_run_on_it() {
    let mut s = task_screen(true);
    if let Some(d) = &mut s.detail {
        d.history = Some(history());
    }
    both("task_history", &s);
    let text = render(&s, 160, 48);
    assert!(text.contains("History · 30 run(s)"), "{text}");
    assert!(text.contains("time p50 "), "{text}");
}

#[test]
fn a_running_task_without_a_row_total_gets_its_eta_from_history() {
    let mut s = task_screen(false);
    let t = s
        .tasks
        .iter_mut()
        .find(|t| t.task_id == "export_users")
        .expect("fixture task");
    t.state = TaskState::Running;
    t.error = None;
    t.started_at = Some(NOW - 3 * M);
    t.finished_at = None;
    t.total_estimate = None;
    s.rates.clear();
    if let Some(d) = &mut s.detail {
        d.history = Some(history());
    }
    let text = render(&s, 160, 48);
    // p50 of the successes is 9 minutes (8m plus up to 2m), 3 are gone.
    assert!(text.contains("eta 6m00s (by history)"), "{text}");
}

#[test]
fn a_run_at_risk_says_so_with_its_critical_path() {
    let mut s = incident();
    s.forecast = Some(forecast(true));
    both("runs_at_risk", &s);
    let text = render(&s, 160, 48);
    assert!(
        text.contains("· at risk: projected 03:58, deadline 03:34 "),
        "{text}"
    );
    assert!(
        text.contains(" critical path export_orders → load_orders → daily_revenue "),
        "{text}"
    );
    s.forecast = Some(forecast(false));
    let text = render(&s, 160, 48);
    assert!(text.contains("on time: projected 03:26"), "{text}");
}

#[test]
fn the_pools_screen_says_what_one_more_slot_would_save() {
    let mut s = incident();
    s.screen = Screen::Pools;
    s.forecast = Some(forecast(true));
    both("pools_what_if", &s);
    let text = render(&s, 80, 24);
    assert!(
        text.contains("one more slot, replica 2→3: projected 03:26 (saves 32m), run 42"),
        "{text}"
    );
}
