//! Scheduler overhead: 10,000 no-op tasks (layers of fan-out and fan-in, one
//! pool of size 8) through the real state store. Prints wall time and tasks/s.
//!
//!     cargo bench --bench scheduler
//!
//! Target on a 2-core machine: all 10,000 in under 5 s.

use std::fmt::Write;
use std::sync::Arc;
use std::time::Instant;

use switchyard::engine::Engine;
use switchyard::engine::lease::Owner;
use switchyard::engine::state::RunState;
use tokio_util::sync::CancellationToken;

const TASKS: usize = 10_000;
const FAN: usize = 99;

fn workspace() -> String {
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
    while n < TASKS {
        // Fan out from the hub, then fan back in to the next hub.
        let width = FAN.min(TASKS - n - 1).max(1);
        let mut layer = Vec::new();
        for k in 0..width {
            let id = format!("t{hub}_{k}");
            task(&mut t, &id, &[format!("hub{hub}")]);
            layer.push(id);
        }
        n += width;
        hub += 1;
        if n < TASKS {
            task(&mut t, &format!("hub{hub}"), &layer);
            n += 1;
        }
    }
    t
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("switchyard.toml");
    std::fs::write(&file, workspace())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
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
        anyhow::ensure!(done == TASKS, "{done} of {TASKS} tasks succeeded");
        println!("scheduler overhead: {TASKS} no-op tasks, pool of 8, real state store");
        println!("  load workspace   {:>8.2} s", load.as_secs_f64());
        println!("  create run       {:>8.2} s", create.as_secs_f64());
        println!(
            "  execute          {:>8.2} s  ({:.0} tasks/s)",
            exec.as_secs_f64(),
            TASKS as f64 / exec.as_secs_f64()
        );
        println!(
            "  total wall time  {:>8.2} s  ({:.0} tasks/s)  target < 5 s",
            total.as_secs_f64(),
            TASKS as f64 / total.as_secs_f64()
        );
        anyhow::Ok(())
    })
}
