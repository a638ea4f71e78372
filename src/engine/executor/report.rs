//! How an executor reports: log lines (batched into the store by a writer
//! task, secrets redacted), progress (latest value wins; the scheduler writes
//! it at most once a second) and the process it started.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::redact::redact;
use crate::engine::process;
use crate::engine::store::{self, Store, now_ms};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub rows: i64,
    pub bytes: i64,
    pub total_estimate: Option<i64>,
}

#[derive(Clone)]
pub struct Reporter {
    store: Store,
    run_id: i64,
    task_id: String,
    attempt: i64,
    lines: mpsc::UnboundedSender<(i64, String)>,
    progress: Arc<Mutex<Option<Progress>>>,
}

/// The writer side of a reporter: flushes log lines until every sender is gone.
pub struct LogWriter {
    handle: JoinHandle<()>,
}

impl LogWriter {
    /// Waits until every line reported so far is in the store.
    pub async fn flush(self) {
        let _ = self.handle.await;
    }
}

impl Reporter {
    pub fn new(
        store: Store,
        run_id: i64,
        task_id: &str,
        attempt: i64,
        progress: Arc<Mutex<Option<Progress>>>,
    ) -> (Reporter, LogWriter) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = tokio::spawn(write_logs(
            store.clone(),
            run_id,
            task_id.to_string(),
            attempt,
            rx,
        ));
        (
            Reporter {
                store,
                run_id,
                task_id: task_id.to_string(),
                attempt,
                lines: tx,
                progress,
            },
            LogWriter { handle },
        )
    }

    pub fn log(&self, line: impl Into<String>) {
        let _ = self.lines.send((now_ms(), line.into()));
    }

    pub fn progress(&self, rows: i64, bytes: i64, total_estimate: Option<i64>) {
        if let Ok(mut p) = self.progress.lock() {
            *p = Some(Progress {
                rows,
                bytes,
                total_estimate,
            });
        }
    }

    /// When this run was created (ms since the epoch). With the run id it
    /// names the run uniquely even across state stores, whose ids restart at 1.
    pub async fn run_created_at(&self) -> anyhow::Result<i64> {
        Ok(self.store.run(self.run_id).await?.created_at)
    }

    /// Records a started process group, so it can be killed if this process dies.
    pub async fn process_started(&self, pid: u32) {
        let pid = i64::from(pid);
        let start = process::proc_start_time(pid);
        if let Err(e) = self
            .store
            .record_attempt_process(self.run_id, &self.task_id, self.attempt, pid, start)
            .await
        {
            tracing::warn!(
                "cannot record process {pid}: {}",
                crate::text::error_chain(&e)
            );
        }
    }

    pub async fn exit_code(&self, code: i64) {
        let _ = self
            .store
            .record_exit_code(self.run_id, &self.task_id, self.attempt, code)
            .await;
    }
}

async fn write_logs(
    store: Store,
    run_id: i64,
    task_id: String,
    attempt: i64,
    mut rx: mpsc::UnboundedReceiver<(i64, String)>,
) {
    let mut next_line = 1i64;
    let mut buf: Vec<(i64, String)> = Vec::new();
    loop {
        // Take what is there; then wait a little to batch a burst.
        let more = match rx.recv().await {
            Some(first) => {
                buf.push(first);
                let deadline = tokio::time::sleep(Duration::from_millis(200));
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        l = rx.recv() => match l {
                            Some(l) => { buf.push(l); if buf.len() >= 1000 { break true; } }
                            None => break false,
                        },
                        _ = &mut deadline => break true,
                    }
                }
            }
            None => false,
        };
        if !buf.is_empty() {
            let lines: Vec<(i64, String)> = buf.drain(..).map(|(at, l)| (at, redact(&l))).collect();
            let n = lines.len() as i64;
            if let Err(e) =
                store::append_logs(&store, run_id, &task_id, attempt, next_line, &lines).await
            {
                tracing::warn!(
                    "cannot write log lines of {task_id}: {}",
                    crate::text::error_chain(&e)
                );
            }
            next_line += n;
        }
        if !more {
            break;
        }
    }
}
