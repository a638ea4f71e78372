use super::*;

fn row(run: i64, task: &str, state: TaskState, secs: Option<i64>, rows: Option<i64>) -> HistoryRow {
    HistoryRow {
        run_id: run,
        run_date: format!("2026-12-{run:02}"),
        task_id: task.into(),
        kind: "export".into(),
        state,
        attempts: if state == TaskState::Failed { 2 } else { 1 },
        rows,
        bytes: rows.map(|r| r * 10),
        started_at: secs.map(|_| 1_000),
        finished_at: secs.map(|s| 1_000 + s * 1000),
    }
}

#[test]
fn figures_of_a_task_across_runs() {
    // Ten runs of one export: 10 s … 100 s, run 4 failed after 1 s.
    let mut rows = Vec::new();
    for run in 1..=10 {
        let state = if run == 4 {
            TaskState::Failed
        } else {
            TaskState::Succeeded
        };
        let secs = if run == 4 { 1 } else { run * 10 };
        rows.push(row(
            run,
            "export_orders",
            state,
            Some(secs),
            Some(run * 1000),
        ));
        rows.push(row(run, "load_orders", TaskState::Succeeded, Some(5), None));
    }
    let tasks = by_task(&rows);
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].task_id, "export_orders");
    let s = tasks[0].summary();
    assert_eq!((s.runs, s.succeeded, s.failed), (10, 9, 1));
    // Successes: 10 20 30 50 60 70 80 90 100 s.
    assert_eq!(s.p50_ms, Some(60_000));
    // Nearest rank of nine: the ninth.
    assert_eq!(s.p90_ms, Some(100_000));
    assert_eq!(s.last_ms, Some(100_000));
    assert_eq!(s.rows_p50, Some(6000));
    assert_eq!(s.rows_per_s, Some(100.0));
    assert!((s.retries_per_run - 0.1).abs() < 1e-9);
    // Last five (60…100, median 80) against the four before (10…50, median 20).
    assert_eq!(s.trend, Trend::Slower { pct: 300 });
    let flat = tasks[1].summary();
    assert_eq!(flat.trend, Trend::Steady);
    assert_eq!(flat.rows_per_s, None);
    assert_eq!(tasks[0].durations().len(), 9);
}

#[test]
fn a_running_instance_has_no_duration_and_few_runs_no_trend() {
    let mut rows = vec![row(1, "t", TaskState::Succeeded, Some(10), None)];
    let mut running = row(2, "t", TaskState::Running, Some(3), None);
    running.finished_at = None;
    rows.push(running);
    let t = &by_task(&rows)[0];
    assert_eq!(t.samples[1].duration_ms, None);
    assert_eq!(t.summary().trend, Trend::Unknown);
    assert_eq!(t.summary().last_ms, Some(10_000));
}

#[test]
fn estimates_take_the_p90_of_successes_and_the_kind_median() {
    let mut rows = Vec::new();
    for run in 1..=10 {
        rows.push(row(run, "a", TaskState::Succeeded, Some(run), None));
    }
    rows.push(row(11, "a", TaskState::Failed, Some(500), None));
    rows.push(row(1, "b", TaskState::Succeeded, Some(100), None));
    let e = Estimates::from_rows(&rows);
    assert_eq!(e.for_task("a", "export").ms, 9_000);
    assert_eq!(e.for_task("a", "export").basis, Basis::History);
    // Kind median over all 11 successes (1…10 and 100 s): 6 s.
    let guess = e.for_task("new_table", "export");
    assert_eq!((guess.ms, guess.basis), (6_000, Basis::KindMedian));
}
