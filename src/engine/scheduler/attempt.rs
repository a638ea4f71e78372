//! Running one attempt: the executor for its kind, with its timeout, its
//! reporter and its cancellation token, reported back as a `Completion`.

use tokio_util::sync::CancellationToken;

use super::{Completion, RunOwner, STOP_GRACE};
use crate::config::duration::{format_duration, parse_duration};
use crate::config::{TaskDef, TaskKind};
use crate::engine::executor::{Failure, Reporter, TaskContext, executor_for};
use crate::engine::plan::{fan_out_table, resolve_def};
use crate::engine::store::{ExportStart, Store};

impl RunOwner {
    pub(super) fn spawn_attempt(&mut self, i: usize) {
        let row = &self.insts[i].row;
        let token = CancellationToken::new();
        let def = resolve_def(&self.defs, row);
        let fan_out = fan_out_table(row);
        let (report, writer) = Reporter::new(
            self.store.clone(),
            self.run_id,
            &row.task_id,
            row.attempt,
            self.insts[i].progress.clone(),
        );
        let attempt = row.attempt;
        let slots = u32::try_from(row.slots.max(1)).unwrap_or(u32::MAX);
        let task_id = row.task_id.clone();
        let run_id = self.run_id;
        let run_date = self.run_date.clone();
        let (reference, tz) = (self.reference, self.tz);
        let ws = self.ws.clone();
        let cancel = token.clone();
        self.insts[i].cancel = Some(token);
        let (store, pipeline) = (self.store.clone(), self.pipeline.clone());
        let handle = self.tasks.spawn(async move {
            let prepared = match def {
                Ok(task) => export_start(&store, run_id, &pipeline, &task_id, &task)
                    .await
                    .map(|start| (task, start)),
                Err(e) => Err(Failure::fatal(crate::text::error_chain(&e))),
            };
            let (task, start) = match prepared {
                Ok(p) => p,
                Err(f) => {
                    drop(report);
                    writer.flush().await;
                    return Completion {
                        idx: i,
                        attempt,
                        result: Err(f),
                    };
                }
            };
            let timeout = task.timeout.as_deref().and_then(|t| parse_duration(t).ok());
            let ctx = TaskContext {
                run_id,
                run_date,
                reference,
                tz,
                task_id,
                attempt,
                slots,
                task,
                fan_out,
                start,
                workspace: ws,
                cancel: cancel.clone(),
                report,
            };
            let exec = executor_for(ctx.task.kind);
            let result = {
                let fut = exec.execute(&ctx);
                tokio::pin!(fut);
                match timeout {
                    None => fut.await,
                    Some(limit) => tokio::select! {
                        r = &mut fut => r,
                        _ = tokio::time::sleep(limit) => {
                            cancel.cancel();
                            let _ = tokio::time::timeout(STOP_GRACE, &mut fut).await;
                            Err(Failure::retryable(format!("timed out after {}", format_duration(limit))))
                        }
                    },
                }
            };
            // The log writer masks secrets; `record_completions` masks the error.
            if let Err(f) = &result {
                ctx.report.log(format!("error: {}", f.message));
            }
            drop(ctx);
            writer.flush().await;
            Completion {
                idx: i,
                attempt,
                result,
            }
        });
        self.task_ids.insert(handle.id(), (i, attempt));
    }
}

/// Where an incremental export starts, read when its attempt starts (so a
/// retry sees a mark another run moved meanwhile). A store it cannot read is
/// worth another attempt.
async fn export_start(
    store: &Store,
    run_id: i64,
    pipeline: &str,
    task_id: &str,
    task: &TaskDef,
) -> Result<Option<ExportStart>, Failure> {
    if task.kind != TaskKind::Export || task.incremental.is_none() {
        return Ok(None);
    }
    store
        .export_start(run_id, pipeline, task_id)
        .await
        .map(Some)
        .map_err(|e| {
            Failure::retryable(format!(
                "reading the export's mark: {}",
                crate::text::error_chain(&e)
            ))
        })
}
