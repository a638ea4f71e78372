//! Commands that change a run or a pool, and `check`.

use anyhow::Result;
use serde_json::json;

use super::{Cli, exit, open_engine};
use crate::engine::lease::Owner;
use crate::engine::request::{MarkAs, Request};
use crate::engine::{RequestOutcome, process};
use crate::text::one_line;

pub fn check(cli: &Cli, as_json: bool) -> Result<u8> {
    let file = crate::config::find_workspace(cli.config.as_deref())?;
    let (ok, problems, warnings) = match crate::config::load(&file) {
        Ok(ws) => {
            if !as_json {
                let tasks: usize = ws.def.pipelines.values().map(|p| p.tasks.len()).sum();
                println!(
                    "{}: ok ({} pipelines, {tasks} tasks, {} sources, {} stores, {} warehouses, {} pools)",
                    file.display(),
                    ws.def.pipelines.len(),
                    ws.def.sources.len(),
                    ws.def.stores.len(),
                    ws.def.warehouses.len(),
                    ws.def.pools.len()
                );
            }
            (true, Vec::new(), ws.warnings)
        }
        Err(e) => (false, e.problems, Vec::new()),
    };
    let mut warnings = warnings;
    if ok {
        warnings.extend(crate::config::warnings(&file));
    }
    if as_json {
        let list = |ps: &[crate::config::Problem]| -> Vec<_> {
            ps.iter()
                .map(
                    |p| json!({"file": p.file, "line": p.line, "col": p.col, "message": p.message}),
                )
                .collect()
        };
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"ok": ok, "problems": list(&problems), "warnings": list(&warnings)})
            )?
        );
    } else {
        for w in &warnings {
            println!(
                "{}:{}:{}: warning: {}",
                w.file.display(),
                w.line,
                w.col,
                w.message
            );
        }
        for p in &problems {
            println!("{}", one_line(&p.to_string()));
        }
        if !ok {
            eprintln!("{} problem(s) found", problems.len());
        }
    }
    // A bad workspace is exit 2, as for every other command.
    Ok(if ok { 0 } else { 2 })
}

async fn send(cli: &Cli, run: &str, req: Request) -> Result<u8> {
    let engine = open_engine(cli).await?;
    let id = engine.store.resolve_run(run).await?;
    let owner = Owner::this_process(None);
    let outcome = engine
        .request(id, &req, &process::who(), &owner)
        .await
        .map_err(|e| exit(2, crate::text::error_chain(&e)))?;
    let applied = match outcome {
        RequestOutcome::Sent { request_id } => engine
            .wait_request(request_id)
            .await
            .map_err(|e| exit(2, crate::text::error_chain(&e)))?,
        RequestOutcome::Applied { applied, .. } => applied,
    };
    println!("run {id}: {}", one_line(&applied.message));
    Ok(0)
}

pub async fn cancel(cli: &Cli, run: &str, task: Option<&str>) -> Result<u8> {
    send(
        cli,
        run,
        Request::Cancel {
            task: task.map(String::from),
        },
    )
    .await
}

pub async fn mark(cli: &Cli, run: &str, task: &str, state: &str) -> Result<u8> {
    let state = match state {
        "succeeded" => MarkAs::Succeeded,
        _ => MarkAs::Skipped,
    };
    send(
        cli,
        run,
        Request::Mark {
            task: task.to_string(),
            state,
        },
    )
    .await
}

pub async fn pool(cli: &Cli, name: &str, size: i64) -> Result<u8> {
    let engine = open_engine(cli).await?;
    engine
        .set_pool_size(name, size, &process::who())
        .await
        .map_err(|e| exit(2, crate::text::error_chain(&e)))?;
    println!("pool {}: size {size}", one_line(name));
    Ok(0)
}
