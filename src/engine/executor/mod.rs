//! Executors: what one attempt of a task does, per kind.
//!
//! An executor knows nothing of states, pools or retries: it gets a
//! `TaskContext` (the task as the workspace says it now, a reporter for logs
//! and progress, a cancellation token) and returns an `Outcome` or a
//! `Failure`. The scheduler owns everything else.

mod command;
mod export;
pub mod incremental;
mod load;
mod report;
mod sql;
mod wait;

pub use report::{Progress, Reporter};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use crate::config::{TaskDef, TaskKind, Workspace};
use crate::connectors::source::TableName;
use crate::engine::store::{ExportRange, ExportStart};
use crate::engine::template;

pub use crate::connectors::BoxFuture;

pub struct TaskContext {
    pub run_id: i64,
    pub run_date: String,
    /// The run's reference time: its schedule slot, or its creation for a
    /// run without one (started by hand, a backfill). `{slot}` shows it, and
    /// `wait until` and deadlines count from it.
    pub reference: DateTime<Utc>,
    /// The pipeline's time zone (`timezone`, else the workspace's, else UTC):
    /// `{slot}` carries its offset, `wait until` is a local time in it.
    pub tz: Tz,
    pub task_id: String,
    pub attempt: i64,
    /// Pool slots this attempt holds (its partitions, or fewer when its pool
    /// is smaller): at most this many connections to its source at once.
    pub slots: u32,
    /// The task as the workspace file says it now (a rerun picks up fixes).
    pub task: TaskDef,
    pub workspace: Arc<Workspace>,
    /// The table an export_all fan-out instance stands for: `{schema}` and
    /// `{table}` in its templates.
    pub fan_out: Option<TableName>,
    /// An incremental export's starting point, as the store had it when the
    /// attempt started (None for every other task).
    pub start: Option<ExportStart>,
    /// Cancelled on `switchyard cancel`, timeout, or shutdown: stop promptly.
    pub cancel: CancellationToken,
    pub report: Reporter,
}

impl TaskContext {
    /// Expands `{run_date}`, `{slot}`, `{run_id}`, `{task_id}` and
    /// `{attempt}` in a template of the workspace, and an export_all
    /// fan-out's `{schema}` and `{table}`, in one pass (see `engine::template`).
    pub fn render(&self, template: &str) -> String {
        template::expand(template, |name| match name {
            "run_date" => Some(self.run_date.clone()),
            "slot" => Some(self.slot()),
            "run_id" => Some(self.run_id.to_string()),
            "task_id" => Some(self.task_id.clone()),
            "attempt" => Some(self.attempt.to_string()),
            "schema" => self.fan_out.as_ref().map(|t| t.schema.clone()),
            "table" => self.fan_out.as_ref().map(|t| t.name.clone()),
            _ => None,
        })
    }

    /// `{slot}`: the reference time as RFC 3339 in the pipeline's zone, with
    /// its offset (`2026-03-29T03:00:00+02:00`; `Z` in UTC).
    pub fn slot(&self) -> String {
        template::slot_text(self.reference, self.tz)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    /// What an incremental export read: recorded with the completion.
    pub read: Option<ExportRange>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    /// False for failures another attempt cannot fix (bad config, refused type).
    pub retryable: bool,
    pub exit_code: Option<i64>,
}

impl Failure {
    pub fn retryable(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            retryable: true,
            exit_code: None,
        }
    }
    pub fn fatal(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            retryable: false,
            exit_code: None,
        }
    }
}

pub type ExecResult = Result<Outcome, Failure>;

/// One task kind. `export`, `export_all` and `load` plug in here too.
pub trait Executor: Send + Sync {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult>;
}

/// The executor for a task kind.
pub fn executor_for(kind: TaskKind) -> Box<dyn Executor> {
    match kind {
        TaskKind::Command => Box::new(command::CommandExecutor),
        TaskKind::Wait => Box::new(wait::WaitExecutor),
        TaskKind::Sql => Box::new(sql::SqlExecutor),
        TaskKind::Check => Box::new(sql::CheckExecutor),
        TaskKind::Export => Box::new(export::ExportExecutor),
        TaskKind::Load => Box::new(load::LoadExecutor),
        TaskKind::ExportAll => Box::new(Expands),
    }
}

/// An `export_all` becomes one `export` per table when a run is made
/// (`engine/plan.rs`), so no instance executes one; should a store hold
/// such an instance anyway, it fails with a clear, final message.
struct Expands;

impl Executor for Expands {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(async move {
            Err(Failure::fatal(format!(
                "`{}` is an export_all, which runs as one export per table; rerun the run, not the task",
                ctx.task_id
            )))
        })
    }
}
