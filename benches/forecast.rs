//! The deadline forecast of a 1,000-task run with 100 runs of history:
//!
//!     cargo bench --bench forecast
//!
//! A DAG like a big `export_all`: 500 exports sharing a replica pool of 4,
//! a load after each, and one check after every load, half of it done.
//! Times the projection alone (estimates ready), the projection with the
//! what-if of one more slot per pool (what the console and the watcher
//! compute), and the whole forecast from a store of 100 runs × 1,000
//! instances, cold (estimates read from the store) and warm (cached).
//! Target: the whole forecast under 50 ms; printed as a ratio to it.

use std::time::Instant;

use anyhow::Result;
use switchyard::engine::forecast::{AtRiskWatch, Plan, project};
use switchyard::engine::history::Estimates;
use switchyard::engine::state::TaskState;
use switchyard::engine::store::{HistoryRow, InstanceRow, Store};

mod support;
use support::percentiles;

const TARGET_MS: f64 = 50.0;
const TABLES: usize = 500;
const RUNS: i64 = 100;

/// The run's instances: `extract.public.t_NNN`, `load.public.t_NNN` after
/// each, `rows_match` after all loads; the first `done` exports succeeded.
fn instances(run_id: i64, done: usize, now: i64) -> Vec<InstanceRow> {
    let base = InstanceRow {
        run_id,
        task_id: String::new(),
        kind: "export".into(),
        state: TaskState::Pending,
        attempt: 0,
        retry_base: 0,
        pool: Some("replica".into()),
        slots: 1,
        upstream: Vec::new(),
        ord: 0,
        rows: None,
        bytes: None,
        total_estimate: None,
        error: None,
        waiting_on: None,
        next_try_at: None,
        started_at: None,
        finished_at: None,
        updated_at: now,
        cancel_requested: false,
        params: None,
        queued_at: None,
    };
    let mut out = Vec::new();
    for i in 0..TABLES {
        let state = if i < done {
            TaskState::Succeeded
        } else if i < done + 4 {
            TaskState::Running
        } else {
            TaskState::Queued
        };
        out.push(InstanceRow {
            task_id: format!("extract.public.t_{i:03}"),
            state,
            started_at: (state != TaskState::Queued).then_some(now - 30_000),
            finished_at: (state == TaskState::Succeeded).then_some(now - 1_000),
            ord: i as i64,
            ..base.clone()
        });
        out.push(InstanceRow {
            task_id: format!("load.public.t_{i:03}"),
            kind: "load".into(),
            pool: None,
            state: if i < done {
                TaskState::Succeeded
            } else {
                TaskState::Pending
            },
            upstream: vec![format!("extract.public.t_{i:03}")],
            ord: (TABLES + i) as i64,
            ..base.clone()
        });
    }
    out.push(InstanceRow {
        task_id: "rows_match".into(),
        kind: "check".into(),
        pool: None,
        upstream: (0..TABLES)
            .map(|i| format!("load.public.t_{i:03}"))
            .collect(),
        ord: (2 * TABLES) as i64,
        ..base
    });
    out
}

/// What 100 past runs took: every instance succeeded, export i in 20–80 s.
fn history_rows() -> Vec<HistoryRow> {
    let mut out = Vec::new();
    for run in 1..=RUNS {
        for (n, inst) in instances(run, 0, 0).into_iter().enumerate() {
            let secs = 20 + ((n as i64 * 7 + run * 13) % 60);
            out.push(HistoryRow {
                run_id: run,
                run_date: format!("2026-{:02}-{:02}", 1 + run / 28, 1 + run % 28),
                task_id: inst.task_id,
                kind: inst.kind,
                state: TaskState::Succeeded,
                attempts: 1,
                rows: Some(1000),
                bytes: Some(10_000),
                started_at: Some(run * 86_400_000),
                finished_at: Some(run * 86_400_000 + secs * 1000),
            });
        }
    }
    out
}

fn time_ms(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f();
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    percentiles(v)
}

/// A store holding the 100 runs of history and the live run (id 101).
async fn filled_store(
    path: &std::path::Path,
    rows: &[HistoryRow],
    live: &[InstanceRow],
) -> Result<Store> {
    let store = Store::open(path).await?;
    let pool = store.pool();
    let mut tx = pool.begin().await?;
    for run in 1..=RUNS + 1 {
        let state = if run > RUNS { "running" } else { "succeeded" };
        let finished = if run > RUNS {
            "NULL".to_string()
        } else {
            (run * 86_400_000 + 90_000).to_string()
        };
        let sql = format!(
            "INSERT INTO runs (id, pipeline, run_date, state, created_at, started_at, finished_at, deadline_at) VALUES ({run}, 'nightly', 'd{run}', '{state}', {c}, {c}, {finished}, {d})",
            c = run * 86_400_000,
            d = run * 86_400_000 + 3_600_000,
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    let values = |r: &HistoryRow, ord: usize| {
        format!(
            "({}, '{}', '{}', '{}', 1, '[]', {ord}, 1000, 10000, {}, {}, 0)",
            r.run_id,
            r.task_id,
            r.kind,
            r.state.as_str(),
            r.started_at.unwrap_or(0),
            r.finished_at.unwrap_or(0)
        )
    };
    let mut batch = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        batch.push(values(r, i % 1001));
        if batch.len() == 500 {
            insert(&mut tx, &batch).await?;
            batch.clear();
        }
    }
    insert(&mut tx, &batch).await?;
    for i in live {
        let sql = format!(
            "INSERT INTO task_instances (run_id, task_id, kind, state, attempt, pool, upstream, ord, started_at, finished_at, updated_at) VALUES ({}, '{}', '{}', '{}', 1, {}, '{}', {}, {}, {}, 0)",
            i.run_id,
            i.task_id,
            i.kind,
            i.state.as_str(),
            i.pool.as_ref().map_or("NULL".into(), |p| format!("'{p}'")),
            serde_json::to_string(&i.upstream)?,
            i.ord,
            i.started_at.map_or("NULL".into(), |t| t.to_string()),
            i.finished_at.map_or("NULL".into(), |t| t.to_string()),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO pools (name, size, updated_at) VALUES ('replica', 4, 0)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(store)
}

async fn insert(tx: &mut sqlx::Transaction<'_, sqlx::Any>, batch: &[String]) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO task_instances (run_id, task_id, kind, state, attempt, upstream, ord, rows_done, bytes_done, started_at, finished_at, updated_at) VALUES {}",
        batch.join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn main() -> Result<()> {
    let now = (RUNS + 1) * 86_400_000 + 600_000;
    let live = instances(RUNS + 1, TABLES / 2, now);
    let rows = history_rows();
    let est = Estimates::from_rows(&rows);
    let mut plan = Plan::for_run(&live, &est, now);
    plan.pools.insert("replica".into(), 4);

    println!(
        "forecast of a {}-task run, {RUNS} runs of history ({} rows)",
        live.len(),
        rows.len()
    );
    let (p50, p99) = time_ms(200, || {
        std::hint::black_box(project(&plan, now));
    });
    println!("  projection alone               p50 {p50:7.3} ms  p99 {p99:7.3} ms");
    let (p50, p99) = time_ms(200, || {
        std::hint::black_box(project(&plan, now));
        std::hint::black_box(project(&plan.with_one_more("replica"), now));
    });
    println!("  projection + one more slot     p50 {p50:7.3} ms  p99 {p99:7.3} ms");
    let (p50, p99) = time_ms(20, || {
        std::hint::black_box(Estimates::from_rows(&rows));
    });
    println!("  estimates from 100k rows       p50 {p50:7.3} ms  p99 {p99:7.3} ms");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ws_dir = tempfile::tempdir()?;
    let ws_file = ws_dir.path().join("switchyard.toml");
    std::fs::write(
        &ws_file,
        "[pools.replica]\nsize = 4\n\n[pipelines.nightly]\ndeadline = \"+1h\"\n\n[[pipelines.nightly.tasks]]\nid = \"t\"\nkind = \"command\"\ncommand = \"true\"\n",
    )?;
    let ws = switchyard::config::load(&ws_file)?;
    rt.block_on(async {
        let store = filled_store(&ws_dir.path().join("state.db"), &rows, &live).await?;
        let run = store.run(RUNS + 1).await?;
        let inst = store.instances(RUNS + 1).await?;
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        for _ in 0..10 {
            let watch = AtRiskWatch::new();
            let t = Instant::now();
            let f = watch.forecast(&ws, &store, &run, &inst, now).await?;
            cold.push(t.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(f);
            for _ in 0..10 {
                let t = Instant::now();
                std::hint::black_box(watch.forecast(&ws, &store, &run, &inst, now).await?);
                warm.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        let (c50, c99) = percentiles(cold);
        let (w50, w99) = percentiles(warm);
        println!("  whole forecast, cold (SQLite)  p50 {c50:7.3} ms  p99 {c99:7.3} ms");
        println!("  whole forecast, warm (SQLite)  p50 {w50:7.3} ms  p99 {w99:7.3} ms");
        println!(
            "  warm p99 / target {TARGET_MS} ms = {:.3} ({}); cold p50 / target = {:.2}",
            w99 / TARGET_MS,
            if w99 < TARGET_MS { "met" } else { "NOT met" },
            c50 / TARGET_MS
        );
        anyhow::Ok(())
    })
}
