//! Read-only commands: status and logs.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::{Cli, exit, open_engine_for_reading};
use crate::engine::lease::{self, lease_is_live};
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::{self, InstanceRow, LogLine, PoolUsage, RunRow, now_ms};
use crate::text::{clean_log, one_line};

pub(super) fn iso(ms: Option<i64>) -> Option<String> {
    ms.map(crate::engine::store::rfc3339)
}

pub(super) fn local(ms: Option<i64>) -> String {
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
    // Pool counts and instance states from one moment: a task seen running
    // is counted in its pool.
    let mut snapshot = engine.store.snapshot().await?;
    let pools: HashMap<String, PoolUsage> = store::pools_usage_in(&mut snapshot)
        .await?
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
    let mut loaded = Vec::new();
    for mut r in runs {
        let mut insts = store::instances_in(&mut snapshot, r.id).await?;
        if readonly {
            as_if_reaped(&mut r, &mut insts);
        }
        loaded.push((r, insts));
    }
    snapshot.rollback().await?;
    // Live runs with a deadline: their projected finish.
    let watch = crate::engine::forecast::AtRiskWatch::new();
    let mut forecasts = HashMap::new();
    for (r, insts) in &loaded {
        if r.deadline_at.is_some() && r.state.is_live() {
            let f = watch
                .forecast(&engine.ws, &engine.store, r, insts, now_ms())
                .await?;
            forecasts.insert(r.id, f);
        }
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
                    "slot": iso(r.slot_at),
                    "deadline_at": iso(r.deadline_at),
                    "late_ms": r.late_ms(now_ms()),
                    "forecast": forecasts.get(&r.id).map(|f| json!({
                        "projected_at": iso(f.projected_at),
                        "at_risk": f.at_risk,
                        "critical_path": f.critical_path,
                        "blocked_by": f.blocked_by,
                        "without_history": f.guessed,
                        "what_if": f.what_if.iter().map(|w| json!({
                            "pool": w.pool,
                            "size": w.size + 1,
                            "projected_at": iso(w.projected_at),
                        })).collect::<Vec<_>>(),
                    })),
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
            if let Some(f) = forecasts.get(&r.id) {
                println!("forecast: {}", f.headline());
                for w in &f.what_if {
                    println!("  one more slot: {}", w.text(f));
                }
            }
        }
    } else {
        println!(
            "{:>5}  {:<18} {:<10}  {:<9}  {:<14}  TASKS",
            "RUN", "PIPELINE", "DATE", "STATE", "STARTED"
        );
        for (r, insts) in &loaded {
            println!(
                "{:>5}  {:<18} {:<10}  {:<9}  {:<14}  {}{}{}",
                r.id,
                one_line(&r.pipeline),
                r.run_date,
                r.state.as_str(),
                local(r.started_at),
                counts(insts),
                late_note(r),
                forecasts
                    .get(&r.id)
                    .map(|f| format!("  ({})", f.projection_text()))
                    .unwrap_or_default()
            );
        }
    }
    Ok(0)
}

/// "  (late by 12m)" for a run past its deadline.
fn late_note(r: &RunRow) -> String {
    r.late_ms(now_ms())
        .map(|ms| format!("  (late by {})", crate::config::duration::human(ms)))
        .unwrap_or_default()
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
        "run {}  {} {}  {}  started {}  finished {}{}",
        r.id,
        one_line(&r.pipeline),
        r.run_date,
        r.state.as_str(),
        local(r.started_at),
        local(r.finished_at),
        late_note(r)
    );
    if let Some(l) = &r.owner {
        let live = if lease_is_live(l, now_ms()) {
            "live"
        } else {
            "dead"
        };
        println!("owner pid {} on {} ({live})", l.pid, one_line(&l.host));
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
            one_line(&i.task_id),
            i.state.as_str(),
            i.attempt,
            elapsed,
            one_line(&note)
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
    if let Some(n) = attempt
        && n > inst.attempt
    {
        let has = match inst.attempt {
            0 => "has not started yet".to_string(),
            1 => "has had one attempt".to_string(),
            m => format!("has had attempts 1 to {m}"),
        };
        return Err(exit(
            2,
            format!("no attempt {n}: `{}` of run {id} {has}", one_line(task)),
        ));
    }
    let attempt = attempt.unwrap_or(inst.attempt);
    if attempt == 0 {
        eprintln!("`{}` has not started yet ({})", one_line(task), inst.state);
        if !follow {
            return Ok(0);
        }
    }
    // A log is the task's own output: kept byte for byte in a file or a
    // pipe, shown as the console shows it on a terminal (its escapes could
    // otherwise clear the screen or move the cursor).
    let on_terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let show = |l: &LogLine| {
        if as_json {
            println!(
                "{}",
                json!({"attempt": l.attempt, "line": l.line_no, "at": iso(Some(l.at)), "text": l.line})
            );
        } else if on_terminal {
            println!("{}", clean_log(&l.line));
        } else {
            println!("{}", l.line);
        }
    };
    let mut after = 0;
    let mut attempt = attempt.max(1);
    // Woken at once by a change on PostgreSQL; rereads every 200 ms anyway.
    let changes = follow.then(|| engine.store.changes());
    loop {
        let lines = engine.store.logs(id, task, attempt, after, 1000).await?;
        for l in &lines {
            show(l);
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
            tail.iter().for_each(show);
            return Ok(0);
        }
        match &changes {
            Some(c) => c.wait(Duration::from_millis(200)).await,
            None => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
