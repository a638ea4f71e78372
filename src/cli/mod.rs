//! The headless command line (README, "The command line"; the JSON shapes scripts rely on are
//! pinned by tests/cli_status_json.rs).
//! Thin: parse, open the workspace and store, call the engine, print.
//!
//! Exit codes: 0 everything covered succeeded; 1 a run (or a check task in
//! it) failed; 2 bad usage, bad workspace (`check` too), or a refused
//! command (readonly, live run).

mod alerts;
mod args;
mod data;
mod demo;
mod display;
mod execute;
mod history;
mod inspect;
mod logging;
mod manage;
mod serve;
mod sla;
mod sla_text;
mod state;
mod timeline;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::config::redact::redact;
use crate::text;

pub use args::{Cli, Command, NotifyAction, StateAction, WorkerArgs};

/// Errors that carry their own exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

pub fn exit(code: u8, message: impl Into<String>) -> anyhow::Error {
    Exit {
        code,
        message: message.into(),
    }
    .into()
}

pub fn main() -> ExitCode {
    // `switchyard status | head` should end quietly, as other tools do.
    // SAFETY: setting a signal disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let _guard = logging::init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchyard: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let (code, msg) = match e.downcast_ref::<Exit>() {
                Some(x) => (x.code, x.message.clone()),
                None => (2, crate::text::error_chain(&e)),
            };
            if !msg.is_empty() {
                let msg = redact(&msg);
                tracing::error!("{msg}");
                eprintln!("switchyard: {}", text::lines(&msg));
            }
            ExitCode::from(code)
        }
    }
}

fn refuse_if_readonly(cli: &Cli, what: &str) -> anyhow::Result<()> {
    if cli.readonly {
        return Err(exit(
            2,
            format!("read-only mode (--readonly or SWITCHYARD_READONLY): refusing to {what}"),
        ));
    }
    Ok(())
}

async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let Some(command) = &cli.command else {
        if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            return Err(exit(
                2,
                "the console needs a terminal; for scripts use `switchyard status --json`",
            ));
        }
        let engine = open_engine_for_reading(&cli).await?;
        let readonly = cli.readonly || engine.store.is_readonly();
        let start_at = match &cli.open_run {
            Some(spec) => Some((
                engine
                    .store
                    .resolve_run(spec)
                    .await
                    .map_err(|e| exit(2, e.to_string()))?,
                cli.open_task.clone(),
            )),
            None => None,
        };
        crate::tui::run(engine, readonly, cli.theme.as_deref(), start_at).await?;
        return Ok(0);
    };
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "switchyard",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Check { json } => manage::check(&cli, *json),
        Command::Export {
            source,
            table,
            store,
            path,
            format,
            partitions,
            lossy,
            incremental,
            since,
            detach,
        } => {
            refuse_if_readonly(&cli, "start an export")?;
            data::export(
                &cli,
                data::ExportArgs {
                    source,
                    table,
                    store,
                    path: path.as_deref(),
                    format: format.as_deref(),
                    partitions: *partitions,
                    lossy: *lossy,
                    since: incremental.as_deref().zip(since.as_deref()),
                    detach: *detach,
                },
            )
            .await
        }
        Command::Load {
            store,
            path,
            warehouse,
            table,
            mode,
            key,
            detach,
        } => {
            refuse_if_readonly(&cli, "start a load")?;
            data::load(
                &cli,
                data::LoadArgs {
                    store,
                    path,
                    warehouse,
                    table,
                    mode: mode.as_deref(),
                    key,
                    detach: *detach,
                },
            )
            .await
        }
        Command::Sources {
            source,
            table,
            json,
        } => data::sources(&cli, source.as_deref(), table.as_deref(), *json).await,
        Command::Demo { dir, run } => demo::demo(&cli, dir.as_deref(), *run).await,
        Command::Run {
            pipeline,
            date,
            detach,
        } => {
            refuse_if_readonly(&cli, "start a run")?;
            execute::run(&cli, pipeline, date.as_deref(), *detach).await
        }
        Command::Backfill {
            pipeline,
            from,
            to,
            max_active,
            detach,
        } => {
            refuse_if_readonly(&cli, "start a backfill")?;
            execute::backfill(&cli, pipeline, from, to, *max_active, *detach).await
        }
        Command::Rerun {
            run,
            task,
            downstream,
            upstream,
            failed,
            detach,
            note,
        } => {
            refuse_if_readonly(&cli, "rerun tasks")?;
            let sel = crate::engine::request::RerunSelection {
                task: task.clone(),
                downstream: *downstream,
                upstream: *upstream,
                failed: *failed,
            };
            execute::rerun(&cli, run, sel, *detach, note.as_deref()).await
        }
        Command::Worker(args) => execute::worker(&cli, args).await,
        Command::Status { json, run, limit } => {
            inspect::status(&cli, *json, run.as_deref(), *limit).await
        }
        Command::Logs {
            run,
            task,
            follow,
            attempt,
            json,
        } => inspect::logs(&cli, run, task, *follow, *attempt, *json).await,
        Command::Cancel { run, task } => {
            refuse_if_readonly(&cli, "cancel")?;
            manage::cancel(&cli, run, task.as_deref()).await
        }
        Command::Mark { run, task, state } => {
            refuse_if_readonly(&cli, "mark a task")?;
            manage::mark(&cli, run, task, state).await
        }
        Command::Serve => {
            refuse_if_readonly(&cli, "serve")?;
            serve::serve(&cli).await
        }
        Command::Schedule { json } => serve::schedule(&cli, *json).await,
        Command::History {
            pipeline,
            task,
            runs,
            json,
        } => history::history(&cli, pipeline, task.as_deref(), *runs, *json).await,
        Command::Alerts { json, run, limit } => {
            alerts::alerts(&cli, *json, run.as_deref(), *limit).await
        }
        Command::Sla {
            since,
            pipeline,
            json,
            md,
        } => {
            let format = match (json, md) {
                (true, _) => sla::Format::Json,
                (_, true) => sla::Format::Markdown,
                _ => sla::Format::Text,
            };
            sla::sla(&cli, since, pipeline.as_deref(), format).await
        }
        Command::Timeline { run, md, json } => {
            timeline::timeline(&cli, run, timeline::Form::of(*md, *json)).await
        }
        Command::Journal { since, run, json } => {
            timeline::journal(&cli, since.as_deref(), run.as_deref(), *json).await
        }
        Command::Notify {
            action: NotifyAction::Test { channel },
        } => {
            refuse_if_readonly(&cli, "send a test notification")?;
            alerts::notify_test(&cli, channel).await
        }
        Command::Pool { name, size } => {
            refuse_if_readonly(&cli, "resize a pool")?;
            manage::pool(&cli, name, *size).await
        }
        Command::State {
            action: StateAction::Copy { to },
        } => {
            refuse_if_readonly(&cli, "copy the state store")?;
            state::copy(&cli, to).await
        }
    }
}

/// Loads the workspace named by `-c` (or found here) and opens its engine.
pub async fn open_engine(cli: &Cli) -> anyhow::Result<crate::engine::Engine> {
    let file = crate::config::find_workspace(cli.config.as_deref())?;
    let ws = crate::config::load(&file).map_err(|e| exit(2, e.to_string()))?;
    if cli.readonly {
        return crate::engine::Engine::open_readonly(ws).await;
    }
    crate::engine::Engine::open(ws).await
}

/// Like `open_engine`, for commands that only read: a state store this user
/// cannot write is read as with `--readonly` (see `Store::is_readonly`).
pub async fn open_engine_for_reading(cli: &Cli) -> anyhow::Result<crate::engine::Engine> {
    let file = crate::config::find_workspace(cli.config.as_deref())?;
    let ws = crate::config::load(&file).map_err(|e| exit(2, e.to_string()))?;
    if cli.readonly {
        return crate::engine::Engine::open_readonly(ws).await;
    }
    crate::engine::Engine::open_for_reading(ws).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn rerun_needs_a_task_or_failed() {
        assert!(Cli::try_parse_from(["switchyard", "rerun", "latest"]).is_err());
        assert!(Cli::try_parse_from(["switchyard", "rerun", "latest", "--failed"]).is_ok());
        assert!(
            Cli::try_parse_from(["switchyard", "rerun", "1", "t", "--failed"]).is_err(),
            "--failed takes no task"
        );
        assert!(Cli::try_parse_from(["switchyard", "rerun", "1", "t", "--downstream"]).is_ok());
    }
}
