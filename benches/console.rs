//! Console speed: the render time of a 1,000-task run, and key-to-frame
//! latency while 100 tasks report progress at once (all of `update` plus a
//! full draw into an in-memory terminal). Prints p50 and p99.
//!
//!     cargo bench --bench console
//!
//! Target: under 5 ms a frame for the 1,000-task run, and for the task
//! view with its history strip and the SLA screen of 40 pipelines. Also the graph
//! screen of a 1,000-task export_all run (500 tables, a load per table, a
//! check after all), folded and unfolded: build, layout and draw per frame.

use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchyard::engine::history::{Sample, TaskHistory};
use switchyard::engine::sla;
use switchyard::engine::state::{RunState, TaskState};
use switchyard::engine::store::{InstanceRow, RunRow, SlotRow};
use switchyard::tui::update::update;
use switchyard::tui::{Keymap, Msg, State, Theme, view};

mod support;
use support::percentiles;

fn run_row(id: i64) -> RunRow {
    RunRow {
        id,
        pipeline: "nightly".into(),
        run_date: "2026-11-22".into(),
        state: RunState::Running,
        backfill_id: None,
        created_at: 0,
        started_at: Some(0),
        finished_at: None,
        owner: None,
        note: None,
        slot_at: None,
        deadline_at: None,
    }
}

fn tasks(n: usize) -> Vec<InstanceRow> {
    let states = [
        TaskState::Succeeded,
        TaskState::Running,
        TaskState::Queued,
        TaskState::Pending,
        TaskState::Failed,
        TaskState::UpstreamFailed,
    ];
    (0..n)
        .map(|i| InstanceRow {
            run_id: 50,
            task_id: format!("extract.public.table_{i:04}"),
            kind: "export".into(),
            state: states[i % states.len()],
            attempt: 1,
            retry_base: 0,
            pool: Some("replica".into()),
            slots: 1,
            upstream: Vec::new(),
            ord: i as i64,
            rows: Some(1000 * i as i64),
            bytes: Some(100_000 * i as i64),
            total_estimate: Some(2_000_000),
            error: (i % 6 == 4).then(|| "connection reset by peer".into()),
            waiting_on: (i % 6 == 2).then(|| "pool replica".into()),
            next_try_at: None,
            started_at: Some(0),
            finished_at: None,
            updated_at: 0,
            cancel_requested: false,
            params: None,
            queued_at: None,
        })
        .collect()
}

/// `extract.public.t_NNN` (an export_all of `n` tables), `load_raw.public.t_NNN`
/// after each, and `rows_match` after every load.
fn fan_out(n: usize) -> Vec<InstanceRow> {
    let mut out = Vec::new();
    let base = tasks(1).remove(0);
    for i in 0..n {
        let x = format!("extract.public.t_{i:03}");
        out.push(InstanceRow {
            task_id: x.clone(),
            state: if i == 7 {
                TaskState::Failed
            } else {
                TaskState::Succeeded
            },
            ord: i as i64,
            ..base.clone()
        });
        out.push(InstanceRow {
            task_id: format!("load_raw.public.t_{i:03}"),
            state: TaskState::Pending,
            upstream: vec![x],
            ord: (n + i) as i64,
            ..base.clone()
        });
    }
    out.push(InstanceRow {
        task_id: "rows_match".into(),
        state: TaskState::Pending,
        upstream: (0..n)
            .map(|i| format!("load_raw.public.t_{i:03}"))
            .collect(),
        ord: (2 * n) as i64,
        ..base
    });
    out
}

/// 30 runs of one task: what the task view's history strip draws.
fn task_history() -> TaskHistory {
    TaskHistory {
        task_id: "extract.public.table_0001".into(),
        kind: "export".into(),
        samples: (0..30)
            .map(|k| Sample {
                run_id: 20 + k,
                run_date: format!("2026-11-{:02}", 1 + k % 28),
                state: if k % 9 == 4 {
                    TaskState::Failed
                } else {
                    TaskState::Succeeded
                },
                attempts: 1,
                duration_ms: Some(60_000 + (k * 7919 % 40) * 1000),
                rows: Some(1_000_000 + k * 10_000),
                bytes: None,
            })
            .collect(),
    }
}

/// 40 scheduled pipelines, a month of daily slots each, a few late or failed.
fn sla_report(now: i64) -> sla::Report {
    const DAY: i64 = 86_400_000;
    let from = now - sla::DEFAULT_WINDOW_MS;
    let pipelines = (0..40)
        .map(|p| {
            let name = format!("pipeline_{p:02}");
            let mut slots = Vec::new();
            let mut runs = Vec::new();
            for k in 0..30 {
                let slot_at = now - (k + 1) * DAY;
                let deadline = slot_at + 5 * 3_600_000;
                let id = p * 100 + k;
                let late = (p + k) % 11 == 0;
                slots.push(SlotRow {
                    pipeline: name.clone(),
                    slot_at,
                    run_date: String::new(),
                    state: "started".into(),
                    run_id: Some(id),
                    deadline_at: Some(deadline),
                    detail: None,
                });
                runs.push(RunRow {
                    id,
                    pipeline: name.clone(),
                    state: RunState::Succeeded,
                    created_at: slot_at,
                    slot_at: Some(slot_at),
                    deadline_at: Some(deadline),
                    finished_at: Some(deadline + if late { 600_000 } else { -1_800_000 }),
                    ..run_row(id)
                });
            }
            sla::compute(
                sla::PipelineRows {
                    pipeline: name,
                    timezone: chrono_tz::Tz::UTC,
                    deadline: Some("+5h".into()),
                    slots,
                    runs,
                    alerts: Vec::new(),
                },
                from,
                now,
            )
        })
        .collect();
    sla::Report {
        from,
        to: now,
        pipelines,
    }
}

/// Frame time of the screen `state` shows, at both sizes, moving the cursor.
fn frames(state: &mut State, keys: &Keymap, theme: &Theme, what: &str) -> anyhow::Result<()> {
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut term = Terminal::new(TestBackend::new(w, h))?;
        state.size = (w, h);
        let mut times = Vec::new();
        for i in 0..300 {
            let key = if i % 2 == 0 { "down" } else { "up" };
            let t = Instant::now();
            update(state, Msg::Key(key.into()), keys);
            term.draw(|f| view::draw(f, state, theme, keys))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (p50, p99) = percentiles(times);
        println!(
            "{what} at {w}x{h}, key to frame: p50 {p50:.3} ms, p99 {p99:.3} ms (target < 5 ms)"
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let keys = Keymap::builtin();
    let theme = Theme::load("default", None, false)?;
    let mut state = State::new("bench", false, "default", 0);
    update(
        &mut state,
        Msg::Runs((1..=50).rev().map(run_row).collect()),
        &keys,
    );
    update(
        &mut state,
        Msg::Run {
            run: run_row(50),
            tasks: tasks(1000),
        },
        &keys,
    );

    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut term = Terminal::new(TestBackend::new(w, h))?;
        state.size = (w, h);
        let mut times = Vec::new();
        for i in 0..300 {
            state.task_cursor = i % 1000;
            let t = Instant::now();
            term.draw(|f| view::draw(f, &state, &theme, &keys))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (p50, p99) = percentiles(times);
        println!(
            "render, 1,000-task run at {w}x{h}: p50 {p50:.3} ms, p99 {p99:.3} ms (target < 5 ms)"
        );
    }

    // The task view of one of the 1,000 tasks, with 30 runs of history.
    state.task_cursor = 1;
    update(&mut state, Msg::Key("enter".into()), &keys);
    update(
        &mut state,
        Msg::Detail {
            run_id: 50,
            task_id: "extract.public.table_0001".into(),
            attempts: Vec::new(),
            runbook: None,
            history: Some(task_history()),
        },
        &keys,
    );
    frames(
        &mut state,
        &keys,
        &theme,
        "task view with 30 runs of history",
    )?;
    update(&mut state, Msg::Key("esc".into()), &keys);
    update(&mut state, Msg::Key("S".into()), &keys);
    update(&mut state, Msg::Sla(sla_report(40 * 86_400_000)), &keys);
    frames(
        &mut state,
        &keys,
        &theme,
        "SLA screen, 40 pipelines × 30 days",
    )?;
    update(&mut state, Msg::Key("1".into()), &keys);

    let mut term = Terminal::new(TestBackend::new(160, 48))?;
    state.size = (160, 48);
    let mut lat = Vec::new();
    let mut now = 1_000;
    for round in 0..500 {
        now += 100;
        let t = Instant::now();
        for k in 0..100 {
            let task = format!("extract.public.table_{:04}", (k * 6 + 1) % 1000);
            update(
                &mut state,
                Msg::Progress {
                    run_id: 50,
                    task_id: task,
                    rows: round * 1000,
                    bytes: round * 100_000,
                    total: Some(2_000_000),
                    at: now,
                },
                &keys,
            );
        }
        update(
            &mut state,
            Msg::Key(if round % 2 == 0 {
                "down".into()
            } else {
                "up".into()
            }),
            &keys,
        );
        term.draw(|f| view::draw(f, &state, &theme, &keys))?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = percentiles(lat);
    println!("key to frame, with 100 tasks reporting progress: p50 {p50:.3} ms, p99 {p99:.3} ms");

    update(
        &mut state,
        Msg::Run {
            run: run_row(50),
            tasks: fan_out(500),
        },
        &keys,
    );
    update(&mut state, Msg::Key("7".into()), &keys);
    for unfold in [false, true] {
        if unfold {
            // Space on the folded exports, then on the folded loads.
            update(&mut state, Msg::Key("space".into()), &keys);
            update(&mut state, Msg::Key("l".into()), &keys);
            update(&mut state, Msg::Key("space".into()), &keys);
        }
        let mut times = Vec::new();
        for i in 0..100 {
            let key = if i % 2 == 0 { "down" } else { "up" };
            let t = Instant::now();
            update(&mut state, Msg::Key(key.into()), &keys);
            term.draw(|f| view::draw(f, &state, &theme, &keys))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let (p50, p99) = percentiles(times);
        let how = if unfold { "unfolded" } else { "folded" };
        println!(
            "graph of a 1,001-task export_all run, {how}, key to frame at 160x48: p50 {p50:.3} ms, p99 {p99:.3} ms"
        );
    }
    Ok(())
}
