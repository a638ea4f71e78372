//! Hand-made states for the view tests: a nightly export that failed at
//! 03:12 with everything an on-call engineer meets around it.

use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{AttemptRow, InstanceRow, JournalEntry, LogLine, PoolUsage, RunRow};
use crate::tui::state::{Detail, Focus, Rate, Runbook, order_tasks};
use crate::tui::theme::BUNDLED;
use crate::tui::{Keymap, State, Theme};

/// 2024-05-01 03:14:05 UTC.
pub const NOW: i64 = 1_714_533_245_000;
const S: i64 = 1000;

pub fn theme() -> Theme {
    Theme::parse(BUNDLED[0].1, false).expect("bundled theme")
}

pub fn keys() -> Keymap {
    Keymap::builtin()
}

pub fn run(id: i64, pipeline: &str, date: &str, state: RunState) -> RunRow {
    RunRow {
        id,
        pipeline: pipeline.into(),
        run_date: date.into(),
        state,
        backfill_id: None,
        created_at: NOW - 3600 * S,
        started_at: Some(NOW - 3600 * S),
        finished_at: None,
        owner: None,
        note: None,
        slot_at: None,
        deadline_at: None,
    }
}

pub fn task(run_id: i64, id: &str, state: TaskState, ord: i64) -> InstanceRow {
    InstanceRow {
        run_id,
        task_id: id.into(),
        kind: "export".into(),
        state,
        // Only a task that started has an attempt.
        attempt: i64::from(matches!(
            state,
            TaskState::Running | TaskState::Succeeded | TaskState::Failed | TaskState::Retrying
        )),
        retry_base: 0,
        pool: None,
        slots: 1,
        upstream: Vec::new(),
        ord,
        rows: None,
        bytes: None,
        total_estimate: None,
        error: None,
        waiting_on: None,
        next_try_at: None,
        started_at: None,
        finished_at: None,
        updated_at: NOW,
        cancel_requested: false,
        params: None,
        queued_at: None,
    }
}

pub const EXPORT_ERROR: &str = "ERROR: canceling statement due to statement timeout (SQLSTATE 57014) while running COPY (SELECT * FROM users WHERE updated_at >= '2024-04-30') TO STDOUT";

/// Run 42 of `nightly_export`, mid-incident.
pub fn incident() -> State {
    let mut s = State::new("acme-data", false, "default", NOW);
    s.runs = vec![
        run(42, "nightly_export", "2024-05-01", RunState::Running),
        run(41, "nightly_export", "2024-04-30", RunState::Succeeded),
        run(40, "hourly_sync", "2024-04-30", RunState::Failed),
    ];
    let replica = |mut t: InstanceRow| {
        t.pool = Some("replica".into());
        t
    };
    let mut failed = replica(task(42, "export_users", TaskState::Failed, 1));
    failed.attempt = 3;
    failed.error = Some(EXPORT_ERROR.into());
    failed.started_at = Some(NOW - 600 * S);
    failed.finished_at = Some(NOW - 123 * S);
    failed.rows = Some(480_000);
    failed.total_estimate = Some(1_200_000);
    let mut upstream = task(42, "load_users", TaskState::UpstreamFailed, 4);
    upstream.error = Some("upstream `export_users` did not succeed".into());
    upstream.kind = "load".into();
    let mut running = replica(task(42, "export_orders", TaskState::Running, 2));
    running.started_at = Some(NOW - 192 * S);
    running.rows = Some(2_000_000);
    running.total_estimate = Some(4_000_000);
    let mut queued = replica(task(42, "export_events", TaskState::Queued, 3));
    queued.waiting_on = Some("pool replica".into());
    let mut pending = task(42, "load_orders", TaskState::Pending, 5);
    pending.waiting_on = Some("waiting on export_orders".into());
    let mut done = replica(task(42, "export_products", TaskState::Succeeded, 0));
    done.started_at = Some(NOW - 900 * S);
    done.finished_at = Some(NOW - 850 * S);
    done.rows = Some(12_345);
    let mut done2 = task(42, "check_freshness", TaskState::Succeeded, 6);
    done2.kind = "sql".into();
    done2.started_at = Some(NOW - 800 * S);
    done2.finished_at = Some(NOW - 798 * S);
    s.tasks = vec![failed, upstream, running, queued, pending, done, done2];
    order_tasks(&mut s.tasks);
    s.tasks_of = Some(42);
    s.rates.insert(
        (42, "export_orders".into()),
        Rate {
            first_at: NOW - 180 * S,
            first_rows: 0,
            last_at: NOW - S,
            rows: 2_460_000,
            bytes: 300_000_000,
            total: Some(4_000_000),
        },
    );
    s.pools = vec![
        PoolUsage {
            name: "replica".into(),
            size: 2,
            running: 2,
            queued: 3,
        },
        PoolUsage {
            name: "warehouse".into(),
            size: 4,
            running: 1,
            queued: 0,
        },
    ];
    s.focus = Focus::Tasks;
    s.task_cursor = 0;
    s
}

pub const RUNBOOK: &str = "---
task: export_*
error: statement timeout
---
# Export hit the statement timeout

The replica cancels queries that run longer than **30 minutes**. It happens when
the replica *lags* behind the primary after a big migration.

1. Check the lag: `select now() - pg_last_xact_replay_timestamp();`
2. If it is above 10 minutes, wait for it to catch up.
3. Then rerun with `R` (this task and everything downstream).

```sh
switchyard rerun 42 export_users --downstream
```

See [the replica dashboard](https://grafana.acme.internal/d/replica) and
escalate to #data-platform.
";

pub fn attempt(n: i64, state: TaskState, start: i64, secs: i64, err: Option<&str>) -> AttemptRow {
    AttemptRow {
        attempt: n,
        state,
        started_at: start,
        finished_at: Some(start + secs * S),
        error: err.map(String::from),
        exit_code: err.map(|_| 1),
        host: Some("etl-1".into()),
        pid: Some(4242),
        pgid: None,
        proc_start: None,
    }
}

/// The task screen of the failed export.
pub fn task_screen(with_runbook: bool) -> State {
    let mut s = incident();
    s.screen = crate::tui::action::Screen::Task;
    let mut log: Vec<LogLine> = (0..40)
        .map(|i| LogLine {
            attempt: 3,
            line_no: i,
            at: NOW - 600 * S + i * S,
            line: format!("copy users: {} rows, 3.1 MB/s", (i + 1) * 12_000),
        })
        .collect();
    log.push(LogLine {
        attempt: 3,
        line_no: 40,
        at: NOW - 123 * S,
        line: EXPORT_ERROR.into(),
    });
    s.detail = Some(Detail {
        run_id: 42,
        task_id: "export_users".into(),
        attempts: vec![
            attempt(
                1,
                TaskState::Failed,
                NOW - 2400 * S,
                1795,
                Some("statement timeout"),
            ),
            attempt(
                2,
                TaskState::Failed,
                NOW - 1500 * S,
                1801,
                Some("statement timeout"),
            ),
            attempt(3, TaskState::Failed, NOW - 600 * S, 477, Some(EXPORT_ERROR)),
        ],
        attempt: 3,
        log,
        scroll: 0,
        follow: true,
        search: Some("timeout".into()),
        runbook: with_runbook.then(|| Runbook {
            path: "runbooks/export-timeout.md".into(),
            text: RUNBOOK.into(),
        }),
        runbook_scroll: 0,
        loaded: true,
        history: None,
    });
    s
}

pub fn journal() -> Vec<JournalEntry> {
    let entry =
        |at: i64, who: &str, action: &str, tasks: &[&str], detail: Option<&str>| JournalEntry {
            at,
            who: who.into(),
            action: action.into(),
            run_id: Some(42),
            tasks: tasks.iter().map(|t| t.to_string()).collect(),
            detail: detail.map(String::from),
        };
    vec![
        entry(
            NOW - 1500 * S,
            "cron",
            "run",
            &[],
            Some("scheduled nightly"),
        ),
        entry(
            NOW - 400 * S,
            "alice",
            "rerun",
            &["export_users", "load_users"],
            Some("--downstream"),
        ),
        entry(
            NOW - 60 * S,
            "alice",
            "note",
            &[],
            Some("replica lag 25 min after the users migration; waiting"),
        ),
        entry(
            NOW - 30 * S,
            "alice",
            "pool_resize",
            &[],
            Some("replica 4 → 2"),
        ),
    ]
}
