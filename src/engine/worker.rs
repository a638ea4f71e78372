//! Detached workers: a `switchyard worker` process in its own session and
//! process group, output to a log file, so closing a terminal (or the
//! console) never stops work. The parent hands its lease over by token and
//! waits until the worker has adopted it.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::store::Store;

pub const TOKEN_ENV: &str = "SWITCHYARD_LEASE_TOKEN";

/// The first act of a detached worker: a session (and process group) of its
/// own, so a closed terminal or SSH session of whoever started it does not
/// reach it, nor a signal to its parent's group. It has adopted nothing yet:
/// the parent waits for the adoption, which comes after this.
pub fn leave_session() {
    // SAFETY: a plain syscall. It fails only when this process already leads
    // a process group (started by hand in a group of its own): then it is
    // already detached from its starter's group, and that is fine.
    unsafe {
        libc::setsid();
    }
}

/// Spawns `switchyard -c FILE worker ARGS…` detached and waits until it owns
/// every run in `runs`. Returns the worker's pid.
pub async fn spawn_detached(
    store: &Store,
    workspace_file: &Path,
    worker_args: &[String],
    token: &str,
    runs: &[i64],
    log_path: &Path,
) -> Result<u32> {
    let exe = std::env::current_exe().context("cannot find the switchyard executable")?;
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .with_context(|| format!("cannot open worker log {}", log_path.display()))?;
    // tokio's Command: a worker that outlives the wait below is reaped by
    // tokio's SIGCHLD handling, not by a thread per worker.
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("-c")
        .arg(workspace_file)
        .arg("worker")
        .args(worker_args)
        .env(TOKEN_ENV, token)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // No `pre_exec`: the worker leaves our session itself (`leave_session`,
    // before it adopts anything), so the standard library can start it with
    // posix_spawn instead of fork. Under `serve` starting hundreds of runs,
    // fork's copy of a large parent was most of serve's CPU.
    let mut child = cmd.spawn().context("cannot start a worker")?;
    let pid = child
        .id()
        .context("the worker exited before it could be followed")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    // A worker usually takes over within tens of milliseconds, but many
    // starting at once (a burst of schedule slots under `serve`) take longer:
    // back off, so the waiting costs a few queries instead of one per 50 ms.
    let mut pause = Duration::from_millis(20);
    loop {
        let mut adopted = true;
        for &id in runs {
            let run = store.run(id).await?;
            adopted &=
                run.owner.as_ref().is_some_and(|l| l.pid == i64::from(pid)) || !run.state.is_live();
        }
        if adopted {
            // The worker lives on; dropped, it is reaped when it exits.
            drop(child);
            return Ok(pid);
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "the worker exited at once ({status}); see {}",
                log_path.display()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "the worker did not take over within 20 s; see {}",
                log_path.display()
            );
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(400));
    }
}

/// Spawns a detached worker and hands it the lease of `runs` (which `owner`,
/// this process, holds). Its log goes to `.switchyard/logs/worker-RUN.log`.
pub async fn hand_over(
    engine: &super::Engine,
    owner: &super::lease::Owner,
    runs: &[i64],
    max_active: usize,
) -> Result<u32> {
    let mut args = Vec::new();
    for id in runs {
        args.push("--run".to_string());
        args.push(id.to_string());
    }
    args.push("--max-active".into());
    args.push(max_active.to_string());
    let log = engine
        .ws
        .local_dir()
        .join("logs")
        .join(format!("worker-{}.log", runs.first().copied().unwrap_or(0)));
    spawn_detached(
        &engine.store,
        &engine.ws.file,
        &args,
        &owner.token,
        runs,
        &log,
    )
    .await
}
