//! `switchyard history PIPELINE [TASK]`: what each task took across runs —
//! p50 / p90 / last duration, rows and rate, and the trend — computed in
//! `engine::history`.

use anyhow::Result;
use serde_json::json;

use super::{Cli, exit, open_engine_for_reading};
use crate::engine::history::{self, TaskHistory};
use crate::human::{count, duration_measured as duration, rate};
use crate::text::one_line;

pub async fn history(
    cli: &Cli,
    pipeline: &str,
    task: Option<&str>,
    runs: i64,
    as_json: bool,
) -> Result<u8> {
    let engine = open_engine_for_reading(cli).await?;
    if engine.ws.pipeline(pipeline).is_none()
        && engine.store.latest_run_of(pipeline).await?.is_none()
    {
        return Err(exit(
            2,
            format!(
                "no pipeline `{}` in the workspace or the store",
                one_line(pipeline)
            ),
        ));
    }
    let rows = engine.store.history(pipeline, task, runs.max(1)).await?;
    let tasks = history::by_task(&rows);
    if let Some(t) = task
        && tasks.is_empty()
    {
        return Err(exit(
            2,
            format!(
                "pipeline `{}` has no runs of task `{}` in its last {runs} runs",
                one_line(pipeline),
                one_line(t)
            ),
        ));
    }
    if as_json {
        let out: Vec<_> = tasks.iter().map(task_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "pipeline": pipeline, "runs": runs, "tasks": out })
            )?
        );
        return Ok(0);
    }
    let mut run_ids: Vec<i64> = rows.iter().map(|r| r.run_id).collect();
    run_ids.dedup();
    println!(
        "{} — {} run(s) looked at (of the last {runs})",
        one_line(pipeline),
        run_ids.len()
    );
    if tasks.is_empty() {
        println!("no runs yet");
        return Ok(0);
    }
    let width = tasks
        .iter()
        .map(|t| t.task_id.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 48);
    println!(
        "{:<width$}  {:>4} {:>4} {:>4}  {:>7} {:>7} {:>7}  {:>6} {:>8}  TREND",
        "TASK", "RUNS", "OK", "FAIL", "P50", "P90", "LAST", "ROWS", "RATE"
    );
    let opt = |v: Option<i64>| v.map(duration).unwrap_or_else(|| "–".into());
    for t in &tasks {
        let s = t.summary();
        println!(
            "{:<width$}  {:>4} {:>4} {:>4}  {:>7} {:>7} {:>7}  {:>6} {:>8}  {}",
            one_line(&t.task_id),
            s.runs,
            s.succeeded,
            s.failed,
            opt(s.p50_ms),
            opt(s.p90_ms),
            opt(s.last_ms),
            s.rows_p50.map(count).unwrap_or_else(|| "–".into()),
            s.rows_per_s.map(rate).unwrap_or_else(|| "–".into()),
            s.trend.text()
        );
    }
    Ok(0)
}

fn task_json(t: &TaskHistory) -> serde_json::Value {
    json!({
        "task": t.task_id,
        "kind": t.kind,
        "summary": t.summary(),
        "samples": t.samples,
    })
}
