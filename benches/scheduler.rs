//! Scheduler overhead: 10,000 no-op tasks (layers of fan-out and fan-in, one
//! pool of size 8) through the real state store. Prints wall time and tasks/s.
//!
//!     cargo bench --bench scheduler
//!
//! The same run twice: on an SQLite file, then on a fresh PostgreSQL
//! database of the machine's server (`SWITCHYARD_BENCH_PG` to choose
//! another). Targets on a 2-core machine: under 5 s on SQLite, under 8 s on
//! PostgreSQL.

use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

use switchyard::engine::Engine;
use switchyard::engine::lease::Owner;
use switchyard::engine::state::RunState;
use tokio_util::sync::CancellationToken;

mod support;

const TASKS: usize = 10_000;

/// `SCHEDULER_BENCH_TASKS=N` runs N tasks on SQLite only: small enough for
/// `scripts/bench-instructions`, which counts the instructions under
/// callgrind (an exact, repeatable figure; wall time on a shared machine
/// is not).
fn sqlite_only() -> Option<usize> {
    std::env::var("SCHEDULER_BENCH_TASKS").ok()?.parse().ok()
}
const FAN: usize = 99;

fn workspace(tasks: usize) -> String {
    let mut t = String::from("[pools.p]\nsize = 8\n\n[pipelines.bench]\n");
    let mut n = 0;
    let mut hub = 0;
    let task = |t: &mut String, id: &str, after: &[String]| {
        let after: Vec<String> = after.iter().map(|a| format!("\"{a}\"")).collect();
        let _ = write!(
            t,
            "[[pipelines.bench.tasks]]\nid = \"{id}\"\nkind = \"wait\"\nduration = \"0s\"\npool = \"p\"\nafter = [{}]\n\n",
            after.join(", ")
        );
    };
    task(&mut t, "hub0", &[]);
    n += 1;
    while n < tasks {
        // Fan out from the hub, then fan back in to the next hub.
        let width = FAN.min(tasks - n - 1).max(1);
        let mut layer = Vec::new();
        for k in 0..width {
            let id = format!("t{hub}_{k}");
            task(&mut t, &id, &[format!("hub{hub}")]);
            layer.push(id);
        }
        n += width;
        hub += 1;
        if n < tasks {
            task(&mut t, &format!("hub{hub}"), &layer);
            n += 1;
        }
    }
    t
}

/// Wall times of one pass: load, create, execute, total.
struct Pass {
    load: f64,
    create: f64,
    exec: f64,
    total: f64,
}

/// The whole benchmark on the store `state` names.
async fn pass(dir: &std::path::Path, state: &str, tasks: usize) -> anyhow::Result<Pass> {
    let file = dir.join("switchyard.toml");
    std::fs::write(
        &file,
        format!("[workspace]\nstate = \"{state}\"\n\n{}", workspace(tasks)),
    )?;
    let t0 = Instant::now();
    let ws = switchyard::config::load(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let load = t0.elapsed();
    let engine = Engine::open(ws).await?;
    let owner = Arc::new(Owner::this_process(None));
    let t1 = Instant::now();
    let id = engine
        .create_run("bench", "2026-01-01", &owner, RunState::Running, None)
        .await?;
    let create = t1.elapsed();
    let t2 = Instant::now();
    let res = engine
        .execute(owner, &[id], 1, CancellationToken::new())
        .await?;
    let exec = t2.elapsed();
    let total = t0.elapsed();
    let insts = engine.store.instances(id).await?;
    let done = insts
        .iter()
        .filter(|i| i.state == switchyard::engine::state::TaskState::Succeeded)
        .count();
    anyhow::ensure!(
        res == vec![(id, RunState::Succeeded)],
        "run did not succeed: {res:?}"
    );
    anyhow::ensure!(done == tasks, "{done} of {tasks} tasks succeeded");
    Ok(Pass {
        load: load.as_secs_f64(),
        create: create.as_secs_f64(),
        exec: exec.as_secs_f64(),
        total: total.as_secs_f64(),
    })
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = tempfile::tempdir()?;
        if let Some(n) = sqlite_only() {
            let p = pass(dir.path(), ".switchyard/state.db", n).await?;
            println!(
                "scheduler overhead: {n} no-op tasks on SQLite: execute {:.2} s, total {:.2} s",
                p.exec, p.total
            );
            return anyhow::Ok(());
        }
        let sqlite = pass(dir.path(), ".switchyard/state.db", TASKS).await?;
        let url =
            support::fresh_pg_database(&support::pg_server(), "switchyard_bench_scheduler").await?;
        let pg_dir = tempfile::tempdir()?;
        let pg = pass(pg_dir.path(), &url, TASKS).await?;
        println!("scheduler overhead: {TASKS} no-op tasks, pool of 8, real state store");
        println!("                     sqlite    postgres");
        let row = |name: &str, a: f64, b: f64| println!("  {name:<16} {a:>7.2} s  {b:>7.2} s");
        row("load workspace", sqlite.load, pg.load);
        row("create run", sqlite.create, pg.create);
        row("execute", sqlite.exec, pg.exec);
        row("total wall time", sqlite.total, pg.total);
        println!(
            "  tasks/s          {:>7.0}    {:>7.0}",
            TASKS as f64 / sqlite.total,
            TASKS as f64 / pg.total
        );
        println!(
            "  postgres / sqlite = {:.2}   targets: sqlite < 5 s, postgres < 8 s",
            pg.total / sqlite.total
        );
        anyhow::Ok(())
    })
}
