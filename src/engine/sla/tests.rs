//! A week of known outcomes for `nightly` (daily at 03:00 Europe/Berlin,
//! deadline 08:00 = 07:00Z in winter), and the exact figures they must give.

use super::*;
use crate::engine::state::RunState;

const MIN: i64 = 60_000;

fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
}

/// 2026-12-07 05:00Z: a Monday, before that day's 07:00Z deadline.
fn now() -> i64 {
    at("2026-12-07T05:00:00Z")
}

fn from() -> i64 {
    now() - DEFAULT_WINDOW_MS
}

fn slot(day: &str, state: &str, run_id: Option<i64>) -> SlotRow {
    SlotRow {
        pipeline: "nightly".into(),
        slot_at: at(&format!("{day}T02:00:00Z")),
        run_date: day.into(),
        state: state.into(),
        run_id,
        deadline_at: Some(at(&format!("{day}T07:00:00Z"))),
        detail: None,
    }
}

fn run(id: i64, day: &str, state: RunState, finished: Option<&str>) -> RunRow {
    RunRow {
        id,
        pipeline: "nightly".into(),
        run_date: day.into(),
        state,
        backfill_id: None,
        created_at: at(&format!("{day}T02:00:01Z")),
        started_at: Some(at(&format!("{day}T02:00:02Z"))),
        finished_at: finished.map(at),
        owner: None,
        note: None,
        slot_at: Some(at(&format!("{day}T02:00:00Z"))),
        deadline_at: Some(at(&format!("{day}T07:00:00Z"))),
    }
}

fn alert(key: &str, kind: &str, run_id: Option<i64>, tasks: &[&str], when: &str) -> AlertFact {
    AlertFact {
        dedup_key: key.into(),
        kind: kind.into(),
        pipeline: "nightly".into(),
        run_id,
        task_id: None,
        tasks: tasks.iter().map(|t| t.to_string()).collect(),
        created_at: at(when),
    }
}

fn week_of_outcomes() -> PipelineRows {
    let mut runs = vec![
        // On time, 35 minutes early.
        run(
            1,
            "2026-11-30",
            RunState::Succeeded,
            Some("2026-12-01T06:25:00Z"),
        ),
        // Late by 12 minutes.
        run(
            2,
            "2026-12-01",
            RunState::Succeeded,
            Some("2026-12-01T07:12:00Z"),
        ),
        // Failed at 04:00, rerun, green at 04:40: on time after all.
        run(
            3,
            "2026-12-02",
            RunState::Succeeded,
            Some("2026-12-02T04:40:00Z"),
        ),
        // Failed for good; its deadline passed.
        run(
            6,
            "2026-12-05",
            RunState::Failed,
            Some("2026-12-05T05:00:00Z"),
        ),
        // Still running a day past its deadline.
        run(7, "2026-12-06", RunState::Running, None),
        // Today's: running, deadline still ahead.
        run(8, "2026-12-07", RunState::Running, None),
    ];
    // Run 1 finished on the 30th, not the 1st.
    runs[0].finished_at = Some(at("2026-11-30T06:25:00Z"));
    // By hand, 00:30 Berlin on Monday the 30th (still Sunday in UTC), with a
    // deadline of its own: on time, 10 minutes early.
    runs.push(RunRow {
        id: 9,
        slot_at: None,
        created_at: at("2026-11-29T23:30:00Z"),
        deadline_at: Some(at("2026-11-30T01:00:00Z")),
        finished_at: Some(at("2026-11-30T00:50:00Z")),
        ..run(9, "2026-11-30", RunState::Succeeded, None)
    });
    // By hand without a deadline, and a backfill with one: never due.
    runs.push(RunRow {
        id: 10,
        slot_at: None,
        deadline_at: None,
        ..run(
            10,
            "2026-12-02",
            RunState::Succeeded,
            Some("2026-12-02T09:00:00Z"),
        )
    });
    runs.push(RunRow {
        id: 11,
        slot_at: None,
        backfill_id: Some(1),
        created_at: at("2026-12-02T10:00:00Z"),
        deadline_at: Some(at("2026-12-02T11:00:00Z")),
        ..run(
            11,
            "2026-11-01",
            RunState::Failed,
            Some("2026-12-02T10:30:00Z"),
        )
    });
    PipelineRows {
        pipeline: "nightly".into(),
        timezone: chrono_tz::Europe::Berlin,
        deadline: Some("08:00".into()),
        slots: vec![
            slot("2026-11-30", "started", Some(1)),
            slot("2026-12-01", "started", Some(2)),
            slot("2026-12-02", "started", Some(3)),
            slot("2026-12-03", "refused", None),
            slot("2026-12-04", "skipped", None),
            slot("2026-12-05", "started", Some(6)),
            slot("2026-12-06", "started", Some(7)),
            slot("2026-12-07", "started", Some(8)),
        ],
        runs,
        alerts: vec![
            alert(
                "sy/run-3.1/load/failed#0",
                "failed",
                Some(3),
                &["load"],
                "2026-12-02T04:00:00Z",
            ),
            alert(
                "sy/run-3.1/-/recovered#0",
                "recovered",
                Some(3),
                &[],
                "2026-12-02T04:40:00Z",
            ),
            alert(
                "sy/slot-nightly.1/-/deadline_missed#0",
                "deadline_missed",
                None,
                &[],
                "2026-12-03T07:00:00Z",
            ),
            alert(
                "sy/run-6.1/dump/failed#0",
                "failed",
                Some(6),
                &["dump.public.a", "dump.public.b"],
                "2026-12-05T05:00:00Z",
            ),
            alert(
                "sy/run-6.1/-/deadline_missed#0",
                "deadline_missed",
                Some(6),
                &[],
                "2026-12-05T07:00:00Z",
            ),
            // A kind this binary does not know yet opens run 7's incident.
            alert(
                "sy/run-7.1/-/at_risk#0",
                "at_risk",
                Some(7),
                &[],
                "2026-12-06T06:00:00Z",
            ),
            alert(
                "sy/run-7.1/-/interrupted#0",
                "interrupted",
                Some(7),
                &["x"],
                "2026-12-06T06:30:00Z",
            ),
            // The recovery of an incident opened before the window: not counted.
            alert(
                "sy/run-99.1/-/recovered#0",
                "recovered",
                Some(99),
                &[],
                "2026-11-10T00:00:00Z",
            ),
        ],
    }
}

#[test]
fn outcomes_of_each_due() {
    let r = compute(week_of_outcomes(), from(), now());
    let got: Vec<(Option<i64>, Outcome, Option<i64>)> = (r.dues.iter())
        .map(|d| (d.run_id, d.outcome, d.vs_deadline_ms))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(9), Outcome::OnTime, Some(-10 * MIN)),
            (Some(1), Outcome::OnTime, Some(-35 * MIN)),
            (Some(2), Outcome::Late, Some(12 * MIN)),
            (Some(3), Outcome::OnTime, Some(-140 * MIN)),
            (None, Outcome::Refused, None),
            (None, Outcome::Skipped, None),
            (Some(6), Outcome::Failed, None),
            (Some(7), Outcome::NotFinished, None),
            (Some(8), Outcome::Pending, None),
        ]
    );
    let misses: Vec<Outcome> = r.misses().map(|d| d.outcome).collect();
    assert_eq!(
        misses,
        vec![
            Outcome::Late,
            Outcome::Refused,
            Outcome::Skipped,
            Outcome::Failed,
            Outcome::NotFinished
        ]
    );
}

#[test]
fn headline_figures() {
    let r = compute(week_of_outcomes(), from(), now());
    assert_eq!(
        r.slots,
        SlotCounts {
            total: 8,
            started: 6,
            refused: 1,
            skipped: 1
        }
    );
    let t = r
        .on_time
        .expect("a pipeline with a deadline has on-time figures");
    assert_eq!((t.on_time, t.missed, t.pending, t.decided), (3, 5, 1, 8));
    assert_eq!(t.share, Some(0.375));
    // Finishes −140m, −35m, −10m, +12m: nearest rank.
    assert_eq!(t.p50_ms, Some(-35 * MIN));
    assert_eq!(t.p90_ms, Some(12 * MIN));
}

#[test]
fn failures_and_recovery() {
    let r = compute(week_of_outcomes(), from(), now());
    assert_eq!(r.failures.failed_runs, 2, "run 6 and the backfill's run 11");
    assert_eq!(r.failures.failed_tasks, 3);
    assert_eq!(r.failures.interrupted_tasks, 1);
    let kinds: Vec<(&str, u32)> = (r.failures.alerts.iter())
        .map(|(k, n)| (k.as_str(), *n))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("at_risk", 1),
            ("deadline_missed", 2),
            ("failed", 2),
            ("interrupted", 1),
            ("recovered", 2)
        ]
    );
    let rec = &r.recovery;
    assert_eq!((rec.recovered, rec.open), (1, 3));
    assert_eq!(rec.p50_ms, Some(40 * MIN));
    assert_eq!(rec.max_ms, Some(40 * MIN));
    let keys: Vec<(&str, Option<i64>, Vec<&str>)> = (rec.incidents.iter())
        .map(|i| {
            (
                i.key.as_str(),
                i.recovery_ms,
                i.kinds.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("run-3.1#0", Some(40 * MIN), vec!["failed"]),
            ("slot-nightly.1#0", None, vec!["deadline_missed"]),
            ("run-6.1#0", None, vec!["deadline_missed", "failed"]),
            ("run-7.1#0", None, vec!["at_risk", "interrupted"]),
        ]
    );
}

#[test]
fn weeks_are_iso_weeks_in_the_pipelines_zone() {
    let r = compute(week_of_outcomes(), from(), now());
    let labels: Vec<&str> = r.weeks.iter().map(|w| w.week.as_str()).collect();
    assert_eq!(
        labels,
        vec![
            "2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49", "2026-W50"
        ]
    );
    let w48 = &r.weeks[3];
    assert_eq!(
        w48.dues, 0,
        "the hand run at 23:30Z Sunday is Monday in Berlin"
    );
    let w49 = &r.weeks[4];
    assert_eq!(w49.starts, "2026-11-30");
    assert_eq!(
        (w49.dues, w49.on_time, w49.missed, w49.pending),
        (8, 3, 5, 0)
    );
    assert_eq!(w49.share, Some(0.375));
    assert_eq!(w49.failed_runs, 2);
    let w50 = &r.weeks[5];
    assert_eq!((w50.dues, w50.pending, w50.share), (1, 1, None));
    // In UTC the same hand run falls in the week before.
    let mut utc = week_of_outcomes();
    utc.timezone = chrono_tz::UTC;
    let r = compute(utc, from(), now());
    assert_eq!((r.weeks[3].dues, r.weeks[3].on_time), (1, 1));
}

#[test]
fn a_failed_run_before_its_deadline_is_pending_not_missed() {
    let mut rows = week_of_outcomes();
    rows.slots.retain(|s| s.run_id == Some(8));
    rows.runs.retain(|r| r.id == 8);
    rows.runs[0].state = RunState::Failed;
    let r = compute(rows, from(), now());
    assert_eq!(r.dues[0].outcome, Outcome::Pending);
    let t = r.on_time.expect("deadline");
    assert_eq!((t.decided, t.pending, t.share), (0, 1, None));
}

#[test]
fn an_empty_window() {
    let rows = PipelineRows {
        slots: Vec::new(),
        runs: Vec::new(),
        alerts: Vec::new(),
        ..week_of_outcomes()
    };
    let r = compute(rows.clone(), from(), now());
    assert_eq!(r.slots, SlotCounts::default());
    assert!(r.dues.is_empty());
    let t = r.on_time.expect("the configured deadline still counts");
    assert_eq!(
        (t.decided, t.share, t.p50_ms, t.p90_ms),
        (0, None, None, None)
    );
    assert_eq!(r.failures, Failures::default());
    assert_eq!(r.recovery, Recovery::default());
    assert_eq!(r.weeks.len(), 6);
    assert!(r.weeks.iter().all(|w| w.dues == 0 && w.share.is_none()));
    let none = compute(
        PipelineRows {
            deadline: None,
            ..rows
        },
        from(),
        now(),
    );
    assert_eq!(none.on_time, None);
}

#[test]
fn without_a_deadline_slots_and_failures_count_but_no_on_time() {
    let mut rows = week_of_outcomes();
    rows.deadline = None;
    for s in &mut rows.slots {
        s.deadline_at = None;
    }
    for r in &mut rows.runs {
        r.deadline_at = None;
    }
    let r = compute(rows, from(), now());
    assert_eq!(r.on_time, None);
    assert_eq!(r.slots.total, 8);
    assert!(r.dues.iter().all(|d| d.outcome == Outcome::NoDeadline));
    assert_eq!(r.misses().count(), 0);
    assert_eq!(r.failures.failed_runs, 2);
    assert_eq!(r.recovery.recovered, 1);
}

#[test]
fn a_run_failing_again_after_it_recovered_opens_a_new_incident() {
    let mut rows = week_of_outcomes();
    rows.alerts.retain(|a| a.run_id == Some(3));
    rows.alerts.push(alert(
        "sy/run-3.1/load/failed#1",
        "failed",
        Some(3),
        &["load"],
        "2026-12-02T05:00:00Z",
    ));
    let r = compute(rows, from(), now());
    let rec = &r.recovery;
    let keys: Vec<(&str, Option<i64>)> = (rec.incidents.iter())
        .map(|i| (i.key.as_str(), i.recovery_ms))
        .collect();
    assert_eq!(
        keys,
        vec![("run-3.1#0", Some(40 * MIN)), ("run-3.1#1", None)]
    );
    assert_eq!((rec.recovered, rec.open), (1, 1));
    // One instance failed twice: one failed task of the run.
    assert_eq!(r.failures.failed_tasks, 1);
}
