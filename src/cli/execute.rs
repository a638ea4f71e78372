//! Commands that execute work: run, backfill, rerun, and the detached worker.

use std::sync::Arc;

use anyhow::{Result, bail};
use tokio_util::sync::CancellationToken;

use super::display::Display;
use super::{Cli, WorkerArgs, exit, open_engine};
use crate::engine::backfill::RangeError;
use crate::engine::lease::{self, Owner};
use crate::engine::request::{Request, RerunSelection};
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::LiveRunExists;
use crate::engine::{Engine, RequestOutcome, launch, process, worker};
use crate::text::one_line;

fn today() -> String {
    chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// Ctrl-C and SIGTERM cancel what is in flight and end the runs cleanly.
fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("switchyard: stopping: cancelling running tasks…");
        t.cancel();
    });
    token
}

fn map_live_run(e: anyhow::Error) -> anyhow::Error {
    if let Some(l) = e.downcast_ref::<LiveRunExists>() {
        return exit(2, l.to_string());
    }
    match e.downcast_ref::<crate::engine::adhoc::InvalidTask>() {
        Some(invalid) => exit(2, invalid.to_string()),
        None => e,
    }
}

pub async fn run(cli: &Cli, pipeline: &str, date: Option<&str>, detach: bool) -> Result<u8> {
    let engine = open_engine(cli).await?;
    let run_date = match date {
        Some(d) => crate::engine::backfill::parse_date(d)
            .map_err(|e| exit(2, e.to_string()))?
            .format("%Y-%m-%d")
            .to_string(),
        None => today(),
    };
    lease::reap_dead_owners(&engine.store).await?;
    let owner = Arc::new(Owner::this_process(None));
    let id = engine
        .create_run(pipeline, &run_date, &owner, RunState::Running, None)
        .await
        .map_err(map_live_run)?;
    launch::journal(&engine, "run", Some(id), &format!("{pipeline} {run_date}")).await?;
    if detach {
        let pid = launch::detach(&engine, &owner, &[id], 1).await?;
        println!("run {id} ({pipeline} {run_date}) handed to worker pid {pid}");
        println!("follow it: switchyard status --run {id}");
        return Ok(0);
    }
    eprintln!("run {id}: {pipeline} for {run_date}");
    let results = execute_here(&engine, owner, &[id], 1).await?;
    exit_code(&engine, &results, None).await
}

pub async fn backfill(
    cli: &Cli,
    pipeline: &str,
    from: &str,
    to: &str,
    max_active: Option<u32>,
    detach: bool,
) -> Result<u8> {
    let engine = open_engine(cli).await?;
    let dates = crate::engine::backfill::dates(from, to).map_err(|e| match e {
        RangeError::Reversed { .. } => exit(2, "--to is before --from"),
        e => exit(2, e.to_string()),
    })?;
    let max_active = max_active
        .or_else(|| engine.ws.pipeline(pipeline).and_then(|p| p.max_active))
        .unwrap_or(1)
        .max(1);
    lease::reap_dead_owners(&engine.store).await?;
    let owner = Arc::new(Owner::this_process(None));
    let (bf, ids) = engine
        .create_backfill(pipeline, &dates, max_active, &owner)
        .await
        .map_err(map_live_run)?;
    launch::journal(
        &engine,
        "backfill",
        None,
        &format!(
            "{pipeline} {} .. {} (max active {max_active})",
            dates[0],
            dates[dates.len() - 1]
        ),
    )
    .await?;
    if detach {
        let pid = launch::detach(&engine, &owner, &ids, max_active as usize).await?;
        println!(
            "backfill {bf}: {} runs of {pipeline} handed to worker pid {pid}",
            ids.len()
        );
        return Ok(0);
    }
    eprintln!(
        "backfill {bf}: {} runs of {pipeline}, {} at once",
        ids.len(),
        max_active
    );
    let results = execute_here(&engine, owner, &ids, max_active as usize).await?;
    exit_code(&engine, &results, None).await
}

pub async fn rerun(
    cli: &Cli,
    run: &str,
    sel: RerunSelection,
    detach: bool,
    note: Option<&str>,
) -> Result<u8> {
    let engine = open_engine(cli).await?;
    let id = engine.store.resolve_run(run).await?;
    let owner = Arc::new(Owner::this_process(None));
    let who = process::who();
    // The why goes in before the rerun, so the journal reads in that order.
    if let Some(text) = note {
        crate::engine::journal::add_note(&engine.store, id, &who, text)
            .await
            .map_err(|e| exit(2, crate::text::error_chain(&e)))?;
    }
    let outcome = engine
        .request(id, &Request::Rerun(sel), &who, &owner)
        .await
        .map_err(|e| exit(2, crate::text::error_chain(&e)))?;
    match outcome {
        RequestOutcome::Sent { request_id } => {
            let applied = engine
                .wait_request(request_id)
                .await
                .map_err(|e| exit(2, crate::text::error_chain(&e)))?;
            eprintln!(
                "run {id} is executed by another process; it reset {}: {}",
                applied.tasks.len(),
                one_line(&applied.tasks.join(", "))
            );
            if detach {
                return Ok(0);
            }
            let display = Display::start(engine.store.clone(), vec![id]).await?;
            let states = wait_for_tasks(&engine, id, &applied.tasks).await?;
            display.finish().await;
            Ok(if states.iter().all(|s| s.satisfies_downstream()) {
                0
            } else {
                1
            })
        }
        RequestOutcome::Applied { applied, owned } => {
            eprintln!(
                "run {id}: reset {}: {}",
                applied.tasks.len(),
                one_line(&applied.tasks.join(", "))
            );
            if !owned {
                bail!("rerun did not take the run's lease");
            }
            if detach {
                let pid = launch::detach(&engine, &owner, &[id], 1).await?;
                println!("run {id} handed to worker pid {pid}");
                return Ok(0);
            }
            let results = execute_here(&engine, owner, &[id], 1).await?;
            exit_code(&engine, &results, Some(&applied.tasks)).await
        }
    }
}

pub async fn worker(cli: &Cli, args: &WorkerArgs) -> Result<u8> {
    worker::leave_session();
    let engine = open_engine(cli).await?;
    let token = std::env::var(worker::TOKEN_ENV).ok();
    if token.is_none() {
        return Err(exit(
            2,
            "`worker` is started by switchyard itself (use --detach)",
        ));
    }
    let owner = Arc::new(Owner::this_process(token));
    for &id in &args.runs {
        if !lease::adopt(&engine.store, id, &owner).await? {
            return Err(exit(
                2,
                format!("run {id}: the lease was not handed to this worker"),
            ));
        }
    }
    tracing::info!("worker {} executes runs {:?}", owner.pid, args.runs);
    let results = engine
        .execute(owner, &args.runs, args.max_active, shutdown_on_signals())
        .await?;
    for (id, state) in &results {
        tracing::info!("run {id} ended {state}");
    }
    exit_code(&engine, &results, None).await
}

/// Executes runs in this process, showing them live.
async fn execute_here(
    engine: &Engine,
    owner: Arc<Owner>,
    runs: &[i64],
    max_active: usize,
) -> Result<Vec<(i64, RunState)>> {
    let display = Display::start(engine.store.clone(), runs.to_vec()).await?;
    let shutdown = shutdown_on_signals();
    let result = engine
        .execute(owner, runs, max_active, shutdown.clone())
        .await;
    display.finish().await;
    if shutdown.is_cancelled() {
        return Err(exit(130, "stopped; running tasks were cancelled"));
    }
    result
}

/// 0 iff every run (or, for a rerun, every task it reset) succeeded.
async fn exit_code(
    engine: &Engine,
    results: &[(i64, RunState)],
    tasks: Option<&[String]>,
) -> Result<u8> {
    let mut ok = true;
    for (id, state) in results {
        let insts = engine.store.instances(*id).await?;
        let failed: Vec<String> = insts
            .iter()
            .filter(|i| tasks.is_none_or(|t| t.contains(&i.task_id)))
            .filter(|i| !i.state.satisfies_downstream())
            .map(|i| format!("{} {}", one_line(&i.task_id), i.state))
            .collect();
        let covered_ok = failed.is_empty();
        ok &= covered_ok && (tasks.is_some() || *state == RunState::Succeeded);
        if covered_ok {
            eprintln!("run {id}: {state}");
        } else {
            eprintln!("run {id}: {state} ({})", failed.join(", "));
        }
    }
    Ok(if ok { 0 } else { 1 })
}

/// Follows a run owned elsewhere until `tasks` are all terminal.
async fn wait_for_tasks(engine: &Engine, run_id: i64, tasks: &[String]) -> Result<Vec<TaskState>> {
    loop {
        let insts = engine.store.instances(run_id).await?;
        let states: Vec<TaskState> = insts
            .iter()
            .filter(|i| tasks.contains(&i.task_id))
            .map(|i| i.state)
            .collect();
        if states.iter().all(|s| s.is_terminal()) {
            return Ok(states);
        }
        let run = engine.store.run(run_id).await?;
        if !run.state.is_live() {
            return Ok(states);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Runs one ad-hoc task (export, load) as a run of its own in the store.
pub async fn adhoc(
    cli: &Cli,
    label: &str,
    def: crate::config::TaskDef,
    detach: bool,
) -> Result<u8> {
    let engine = open_engine(cli).await?;
    lease::reap_dead_owners(&engine.store).await?;
    let owner = Arc::new(Owner::this_process(None));
    let run_date = today();
    let id = engine
        .create_adhoc_run(label, &run_date, &def, &owner)
        .await
        .map_err(map_live_run)?;
    launch::journal(&engine, def.kind.name(), Some(id), label).await?;
    if detach {
        let pid = launch::detach(&engine, &owner, &[id], 1).await?;
        println!("run {id} ({}) handed to worker pid {pid}", one_line(label));
        return Ok(0);
    }
    eprintln!("run {id}: {}", one_line(label));
    let results = execute_here(&engine, owner, &[id], 1).await?;
    exit_code(&engine, &results, None).await
}
