//! Read-only commands: status and logs.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::{Cli, open_engine_for_reading};
use crate::engine::lease::{self, lease_is_live};
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{InstanceRow, PoolUsage, RunRow, now_ms};

fn iso(ms: Option<i64>) -> Option<String> {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn local(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| "-".into())
}

/// In read-only mode nothing is reaped, so show what reaping would: a dead
/// owner's in-flight tasks are `interrupted` and its run has `failed`.
fn as_if_reaped(run: &mut RunRow, insts: &mut [InstanceRow]) {
    let dead = run
        .owner
        .as_ref()
        .is_some_and(|l| !lease_is_live(l, now_ms()));
    if !dead {
        return;
    }
    for i in insts.iter_mut() {
        if matches!(i.state, TaskState::Running | TaskState::Retrying) {
            i.state = TaskState::Interrupted;
            i.error = Some("owner process died".into());
        }
    }
    run.state = RunState::Failed;
}

fn waiting_text(
    run: &RunRow,
    i: &InstanceRow,
    pools: &HashMap<String, PoolUsage>,
) -> Option<String> {
    if run.state == RunState::Queued && i.state == TaskState::Pending {
        return Some("run is queued: its backfill runs at most max_active at once".into());
    }
    // A pool wait gets the live count on reading.
    if let Some(name) = i.waiting_for_pool()
        && let Some(p) = pools.get(name)
    {
        return Some(format!("pool {name} {}/{}", p.running, p.size));
    }
    i.waiting_on.clone()
}

pub async fn status(cli: &Cli, as_json: bool, run: Option<&str>, limit: i64) -> Result<u8> {
    let engine = open_engine_for_reading(cli).await?;
    // A store that cannot be written is shown as `--readonly` shows it.
    let readonly = cli.readonly || engine.store.is_readonly();
    if !readonly {
        lease::reap_dead_owners(&engine.store).await?;
    }
    let runs = match run {
        Some(spec) => vec![
            engine
                .store
                .run(engine.store.resolve_run(spec).await?)
                .await?,
        ],
        None => engine.store.runs(limit.max(1)).await?,
    };
    let pools: HashMap<String, PoolUsage> = engine
        .store
        .pools_usage()
        .await?
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
    let mut loaded = Vec::new();
    for mut r in runs {
        let mut insts = engine.store.instances(r.id).await?;
        if readonly {
            as_if_reaped(&mut r, &mut insts);
        }
        loaded.push((r, insts));
    }
    if as_json {
        let runs: Vec<_> = loaded
            .iter()
            .map(|(r, insts)| {
                json!({
                    "id": r.id,
                    "pipeline": r.pipeline,
                    "run_date": r.run_date,
                    "state": r.state,
                    "backfill_id": r.backfill_id,
                    "created_at": iso(Some(r.created_at)),
                    "started_at": iso(r.started_at),
                    "finished_at": iso(r.finished_at),
                    "owner": r.owner.as_ref().map(|l| json!({"pid": l.pid, "host": l.host, "live": lease_is_live(l, now_ms())})),
                    "tasks": insts.iter().map(|i| json!({
                        "id": i.task_id,
                        "kind": i.kind,
                        "state": i.state,
                        "attempt": i.attempt,
                        "rows": i.rows,
                        "bytes": i.bytes,
                        "total_estimate": i.total_estimate,
                        "error": i.error,
                        "waiting_on": waiting_text(r, i, &pools),
                        "pool": i.pool,
                        "started_at": iso(i.started_at),
                        "finished_at": iso(i.finished_at),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "runs": runs }))?
        );
        return Ok(0);
    }
    if loaded.is_empty() {
        println!("no runs yet: start one with `switchyard run PIPELINE`");
        return Ok(0);
    }
    if run.is_some() {
        for (r, insts) in &loaded {
            print_run_detail(r, insts, &pools);
        }
    } else {
        println!(
            "{:>5}  {:<18} {:<10}  {:<9}  {:<14}  TASKS",
            "RUN", "PIPELINE", "DATE", "STATE", "STARTED"
        );
        for (r, insts) in &loaded {
            println!(
                "{:>5}  {:<18} {:<10}  {:<9}  {:<14}  {}",
                r.id,
                r.pipeline,
                r.run_date,
                r.state.as_str(),
                local(r.started_at),
                counts(insts)
            );
        }
    }
    Ok(0)
}

fn counts(insts: &[InstanceRow]) -> String {
    let mut c: BTreeMap<TaskState, usize> = BTreeMap::new();
    for i in insts {
        *c.entry(i.state).or_default() += 1;
    }
    c.iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_run_detail(r: &RunRow, insts: &[InstanceRow], pools: &HashMap<String, PoolUsage>) {
    println!(
        "run {}  {} {}  {}  started {}  finished {}",
        r.id,
        r.pipeline,
        r.run_date,
        r.state.as_str(),
        local(r.started_at),
        local(r.finished_at)
    );
    if let Some(l) = &r.owner {
        let live = if lease_is_live(l, now_ms()) {
            "live"
        } else {
            "dead"
        };
        println!("owner pid {} on {} ({live})", l.pid, l.host);
    }
    println!("{}", counts(insts));
    let now = now_ms();
    for i in insts {
        let elapsed = match (i.started_at, i.finished_at) {
            (Some(s), Some(f)) if i.state.is_terminal() => {
                format!("{:.1}s", (f - s) as f64 / 1000.0)
            }
            (Some(s), _) if i.state == TaskState::Running => {
                format!("{:.0}s", (now - s) as f64 / 1000.0)
            }
            _ => String::new(),
        };
        let note = if i.state.is_bad_end() || i.state == TaskState::Retrying {
            let mut n = i.error.clone().unwrap_or_default();
            if let Some(w) = waiting_text(r, i, pools).filter(|_| i.state == TaskState::Retrying) {
                n = format!("{n} ({w})");
            }
            n
        } else {
            waiting_text(r, i, pools).unwrap_or_default()
        };
        println!(
            "  {} {:<30} {:<15} #{:<2} {:>7}  {}",
            i.state.glyph(),
            i.task_id,
            i.state.as_str(),
            i.attempt,
            elapsed,
            note
        );
    }
}

pub async fn logs(
    cli: &Cli,
    run: &str,
    task: &str,
    follow: bool,
    attempt: Option<i64>,
    as_json: bool,
) -> Result<u8> {
    let engine = open_engine_for_reading(cli).await?;
    let id = engine.store.resolve_run(run).await?;
    let inst = engine.store.instance(id, task).await?;
    let attempt = attempt.unwrap_or(inst.attempt);
    if attempt == 0 {
        eprintln!("`{task}` has not started yet ({})", inst.state);
        if !follow {
            return Ok(0);
        }
    }
    let mut after = 0;
    let mut attempt = attempt.max(1);
    loop {
        let lines = engine.store.logs(id, task, attempt, after, 1000).await?;
        for l in &lines {
            if as_json {
                println!(
                    "{}",
                    json!({"attempt": l.attempt, "line": l.line_no, "at": iso(Some(l.at)), "text": l.line})
                );
            } else {
                println!("{}", l.line);
            }
            after = l.line_no;
        }
        if !lines.is_empty() {
            continue;
        }
        if !follow {
            return Ok(0);
        }
        let now = engine.store.instance(id, task).await?;
        if now.attempt > attempt {
            // A retry started: go on with the new attempt's log.
            attempt = now.attempt;
            after = 0;
            eprintln!("--- attempt {attempt} ---");
            continue;
        }
        if now.state.is_terminal() {
            // One last read: the writer flushes just before the state changes.
            let tail = engine.store.logs(id, task, attempt, after, 1000).await?;
            for l in &tail {
                println!("{}", l.line);
            }
            return Ok(0);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
