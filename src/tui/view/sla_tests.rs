//! Snapshots of the SLA screen, from a report the engine computed over two
//! weeks of known outcomes (the view draws what `engine::sla` says).

use super::fixtures::*;
use super::*;
use crate::engine::sla::{self, DEFAULT_WINDOW_MS, PipelineRows};
use crate::engine::state::RunState;
use crate::engine::store::{AlertFact, RunRow, SlotRow};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn render(state: &State, w: u16, h: u16) -> String {
    render_to_string(state, &theme(), &keys(), w, h)
}

/// NOW is 2024-05-01 03:14Z; Berlin is UTC+2: slots at 03:00 local
/// (01:00Z), deadline 08:00 local (06:00Z). Day `k` is k days before today.
fn nightly() -> PipelineRows {
    let today = NOW - NOW % DAY;
    let mut slots = Vec::new();
    let mut runs = Vec::new();
    for k in 0..14_i64 {
        let slot_at = today - k * DAY + HOUR;
        let deadline = today - k * DAY + 6 * HOUR;
        let id = 100 - k;
        let (slot_state, run) = match k {
            0 => ("started", Some((RunState::Running, None))),
            3 => ("refused", None),
            7 => ("started", Some((RunState::Failed, Some(deadline - HOUR)))),
            k if k % 5 == 0 => (
                "started",
                Some((RunState::Succeeded, Some(deadline + 12 * MIN))),
            ),
            k => (
                "started",
                Some((RunState::Succeeded, Some(deadline - 35 * MIN - k * MIN))),
            ),
        };
        slots.push(SlotRow {
            pipeline: "nightly_export".into(),
            slot_at,
            run_date: String::new(),
            state: slot_state.into(),
            run_id: run.map(|_| id),
            deadline_at: Some(deadline),
            detail: None,
        });
        if let Some((state, finished_at)) = run {
            runs.push(RunRow {
                slot_at: Some(slot_at),
                deadline_at: Some(deadline),
                finished_at,
                ..run_of(id, "nightly_export", state, slot_at)
            });
        }
    }
    let alert = |key: &str, kind: &str, run: i64, at: i64| AlertFact {
        dedup_key: key.into(),
        kind: kind.into(),
        pipeline: "nightly_export".into(),
        run_id: Some(run),
        task_id: None,
        tasks: vec!["export_users".into()],
        created_at: at,
    };
    let day9 = today - 9 * DAY;
    PipelineRows {
        pipeline: "nightly_export".into(),
        timezone: chrono_tz::Europe::Berlin,
        deadline: Some("08:00".into()),
        slots,
        runs,
        alerts: vec![
            alert(
                "sy/run-91.1/export_users/failed#0",
                "failed",
                91,
                day9 + 2 * HOUR,
            ),
            alert(
                "sy/run-91.1/-/recovered#0",
                "recovered",
                91,
                day9 + 2 * HOUR + 40 * MIN,
            ),
            alert(
                "sy/run-93.1/export_users/failed#0",
                "failed",
                93,
                today - 7 * DAY + 4 * HOUR,
            ),
        ],
    }
}

fn run_of(id: i64, pipeline: &str, state: RunState, created_at: i64) -> RunRow {
    RunRow {
        created_at,
        ..run(id, pipeline, "2024-04-30", state)
    }
}

/// Started by hand, no deadline: only its failures count.
fn adhoc() -> PipelineRows {
    let runs = (0..3)
        .map(|k| {
            run_of(
                10 + k,
                "adhoc_sync",
                RunState::Failed,
                NOW - (k + 1) * 2 * DAY,
            )
        })
        .collect();
    PipelineRows {
        pipeline: "adhoc_sync".into(),
        timezone: chrono_tz::UTC,
        deadline: None,
        slots: Vec::new(),
        runs,
        alerts: Vec::new(),
    }
}

fn sla_state(cursor: usize) -> State {
    let mut s = incident();
    s.screen = Screen::Sla;
    let from = NOW - DEFAULT_WINDOW_MS;
    s.sla.loaded = true;
    s.sla.shown = sla::Report {
        from,
        to: NOW,
        pipelines: vec![
            sla::compute(adhoc(), from, NOW),
            sla::compute(nightly(), from, NOW),
        ],
    };
    s.sla.cursor = cursor;
    s
}

#[test]
fn sla_screen() {
    let s = sla_state(1);
    let small = render(&s, 80, 24);
    // The figures the engine computed: 13 decided, 9 on time.
    assert!(small.contains("9/13"), "{small}");
    assert!(small.contains("69.2%"), "{small}");
    assert!(small.contains("on time by week"), "{small}");
    assert!(small.contains("late by 12m"), "{small}");
    assert!(small.contains("refused"), "{small}");
    insta::assert_snapshot!("sla_80x24", small);
    insta::assert_snapshot!("sla_160x48", render(&s, 160, 48));
}

#[test]
fn a_pipeline_without_a_deadline_charts_its_failures() {
    let s = sla_state(0);
    let text = render(&s, 120, 30);
    assert!(text.contains("adhoc_sync · failed runs by week"), "{text}");
    assert!(text.contains("no deadline"), "{text}");
}

#[test]
fn an_empty_report_says_so_and_loading_says_computing() {
    let mut s = incident();
    s.screen = Screen::Sla;
    assert!(render(&s, 80, 24).contains("computing…"));
    s.sla.loaded = true;
    let text = render(&s, 80, 24);
    assert!(text.contains("No pipeline has a schedule"), "{text}");
}

#[test]
fn tiny_sizes_do_not_panic() {
    let s = sla_state(1);
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10), (80, 6)] {
        let _ = render(&s, w, h);
    }
}
