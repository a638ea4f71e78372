//! Console speed: the render time of a 1,000-task run, and key-to-frame
//! latency while 100 tasks report progress at once (all of `update` plus a
//! full draw into an in-memory terminal). Prints p50 and p99.
//!
//!     cargo bench --bench console
//!
//! Target: under 5 ms a frame for the 1,000-task run. Also the graph
//! screen of a 1,000-task export_all run (500 tables, a load per table, a
//! check after all), folded and unfolded: build, layout and draw per frame.

use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchyard::engine::state::{RunState, TaskState};
use switchyard::engine::store::{InstanceRow, RunRow};
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
