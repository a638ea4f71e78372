//! `command`: `sh -c` in its own process group. The whole group is killed
//! on cancel, on timeout, when the attempt ends (nothing outlives its task),
//! and if this future is dropped.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use super::{BoxFuture, ExecResult, Executor, Failure, Outcome, TaskContext};
use crate::engine::process::kill_group;
use crate::engine::store;

pub struct CommandExecutor;

/// Grace between SIGTERM and SIGKILL on cancel.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Kills the process group when dropped, whatever path leaves the attempt.
struct GroupGuard(i64);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0, libc::SIGKILL);
    }
}

impl Executor for CommandExecutor {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &TaskContext) -> ExecResult {
    let Some(command) = ctx.task.command.as_deref() else {
        return Err(Failure::fatal("task has no `command`"));
    };
    let command = ctx.render(command);
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&command)
        .current_dir(&ctx.workspace.dir)
        .env("SWITCHYARD_RUN_ID", ctx.run_id.to_string())
        .env("SWITCHYARD_RUN_DATE", &ctx.run_date)
        .env("SWITCHYARD_SLOT", ctx.slot())
        .env("SWITCHYARD_TASK_ID", &ctx.task_id)
        .env("SWITCHYARD_ATTEMPT", ctx.attempt.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // If this process dies before the group is recorded (and so before a
    // taker could kill it), the shell dies with it. The group's other members
    // are killed by whoever reaps the dead owner, once recorded.
    let parent = std::process::id();
    // SAFETY: prctl and getppid are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other(
                    "switchyard exited while starting the task",
                ));
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::retryable(format!("cannot start `sh -c`: {e}")))?;
    let Some(pid) = child.id() else {
        return Err(Failure::retryable(
            "command exited before it could be watched",
        ));
    };
    let guard = GroupGuard(i64::from(pid));
    ctx.report.process_started(pid).await;

    let last_line = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let out = child.stdout.take().map(|s| pump(s, ctx, last_line.clone()));
    let err = child.stderr.take().map(|s| pump(s, ctx, last_line.clone()));
    let readers = async {
        if let Some(o) = out {
            o.await;
        }
    };
    let readers_err = async {
        if let Some(e) = err {
            e.await;
        }
    };
    let (status, cancelled) = {
        // When the leader exits, kill its group at once: a background child
        // holding the pipes open would otherwise keep the readers waiting.
        let exit_then_reap = async {
            let s = child.wait().await;
            kill_group(i64::from(pid), libc::SIGKILL);
            s
        };
        let wait = async {
            let (status, _, _) = tokio::join!(exit_then_reap, readers, readers_err);
            status
        };
        tokio::pin!(wait);
        tokio::select! {
            s = &mut wait => (Some(s), false),
            _ = ctx.cancel.cancelled() => {
                kill_group(i64::from(pid), libc::SIGTERM);
                match tokio::time::timeout(KILL_GRACE, &mut wait).await {
                    Ok(s) => (Some(s), true),
                    Err(_) => {
                        kill_group(i64::from(pid), libc::SIGKILL);
                        (tokio::time::timeout(KILL_GRACE, &mut wait).await.ok(), true)
                    }
                }
            }
        }
    };
    drop(guard); // anything the command left in its group goes with it
    if cancelled {
        return Err(Failure::fatal("cancelled"));
    }
    let status = match status {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(Failure::retryable(format!("lost the command: {e}"))),
        None => return Err(Failure::retryable("command did not stop")),
    };
    match status.code() {
        Some(0) => Ok(Outcome::default()),
        Some(code) => {
            ctx.report.exit_code(i64::from(code)).await;
            let last = last_line.lock().map(|l| l.clone()).unwrap_or_default();
            let tail = if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            };
            Err(Failure {
                message: format!("command exited with code {code}{tail}"),
                retryable: true,
                exit_code: Some(i64::from(code)),
            })
        }
        None => {
            use std::os::unix::process::ExitStatusExt;
            let sig = status.signal().unwrap_or(0);
            Err(Failure::retryable(format!(
                "command killed by signal {sig}"
            )))
        }
    }
}

/// Bytes of one output line read into memory; the rest of a longer line is
/// skipped. Twice what the store keeps, so that a secret crossing the store's
/// cut is still whole when the line is redacted (see `store::cap_log_line`).
const LINE_READ_MAX: usize = 2 * store::LOG_LINE_MAX_BYTES;

/// Forwards every line of a pipe to the task log, remembering the last one
/// (usually the error worth showing beside the state). Output is bytes: a line
/// that is not UTF-8 is decoded lossily and reading goes on, since a reader
/// that stops would kill the command with SIGPIPE on its next write.
async fn pump<R: AsyncRead + Unpin>(
    stream: R,
    ctx: &TaskContext,
    last: std::sync::Arc<std::sync::Mutex<String>>,
) {
    let mut reader = BufReader::new(stream);
    let mut bytes = Vec::new();
    loop {
        match read_line_capped(&mut reader, &mut bytes, LINE_READ_MAX).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                ctx.report
                    .log(format!("cannot read the command's output: {e}"));
                // Keep the pipe drained: the command's exit status stays its own.
                let _ = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await;
                return;
            }
        }
        let line = String::from_utf8_lossy(&bytes).into_owned();
        if !line.trim().is_empty()
            && let Ok(mut l) = last.lock()
        {
            l.clone_from(&line);
        }
        ctx.report.log(line);
    }
}

/// Reads one line into `line` without its `\n` (or `\r\n`), keeping at most
/// `max` bytes of it and skipping the rest. False at the end of the stream.
async fn read_line_capped<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<bool> {
    line.clear();
    let mut read_any = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(read_any);
        }
        read_any = true;
        let (chunk, used, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = max.saturating_sub(line.len());
        let whole = chunk.len() <= room;
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        if done {
            if whole && line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_byte_lines_capped_and_without_their_ending() {
        let input: &[u8] = b"caf\xe9\r\n0123456789\r\n\r\nlast";
        let mut reader = BufReader::with_capacity(4, input);
        let mut line = Vec::new();
        let mut got = Vec::new();
        while read_line_capped(&mut reader, &mut line, 6).await.unwrap() {
            got.push(line.clone());
        }
        let want: [&[u8]; 4] = [b"caf\xe9", b"012345", b"", b"last"];
        assert_eq!(got, want);
    }
}
