//! Validation time against the number of tasks: workspaces of 25,000 to
//! 100,000 chained tasks (each after the one before), loaded and validated
//! as `switchyard check` does, then built into the engine's DAG. Prints the
//! time per size and per task; a linear validation keeps the time per task
//! flat as the size doubles.
//!
//!     cargo bench --bench validate
//!
//! On the 2-core machine, release build, load and validate: 25,000 tasks
//! 0.20 s, 50,000 0.39 s, 100,000 0.71 s (7-8 µs a task at every size).
//! Before cycles were searched per knot: 2.2 s, 8.8 s and 35.5 s.

use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

use switchyard::engine::dag::Dag;

fn chain(tasks: usize) -> String {
    let mut t = String::from("[pipelines.chain]\n");
    for i in 0..tasks {
        let _ = write!(
            t,
            "[[pipelines.chain.tasks]]\nid = \"t{i}\"\nkind = \"command\"\ncommand = \"true\"\n"
        );
        if i > 0 {
            let _ = writeln!(t, "after = [\"t{}\"]", i - 1);
        }
    }
    t
}

fn main() -> anyhow::Result<()> {
    println!(
        "{:>8}  {:>10}  {:>12}  {:>9}",
        "tasks", "load (ms)", "per task µs", "dag (ms)"
    );
    for tasks in [25_000, 50_000, 100_000] {
        let text = chain(tasks);
        let started = Instant::now();
        let ws = switchyard::config::load_str(Path::new("switchyard.toml"), &text)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let load = started.elapsed();
        let p = &ws.def.pipelines["chain"];
        let started = Instant::now();
        let dag = Dag::new(
            p.tasks
                .iter()
                .map(|t| (t.id.as_str(), t.after.iter().map(String::as_str))),
        )?;
        let dag_time = started.elapsed();
        assert_eq!(dag.len(), tasks);
        println!(
            "{tasks:>8}  {:>10.0}  {:>12.1}  {:>9.0}",
            load.as_secs_f64() * 1e3,
            load.as_secs_f64() * 1e6 / tasks as f64,
            dag_time.as_secs_f64() * 1e3
        );
    }
    Ok(())
}
