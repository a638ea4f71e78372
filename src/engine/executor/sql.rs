//! `sql` and `check` tasks, on any target the connectors can open.

use super::{BoxFuture, ExecResult, Executor, Failure, Outcome, TaskContext};
use crate::connectors::sql::{ScalarValue, open_target};
use crate::text::error_chain;

pub struct SqlExecutor;
pub struct CheckExecutor;

impl Executor for SqlExecutor {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(async move {
            let (Some(target), Some(sql)) = (ctx.task.target.as_deref(), ctx.task.sql.as_deref())
            else {
                return Err(Failure::fatal("sql task needs `target` and `sql`"));
            };
            let conn = open_target(&ctx.workspace, target)
                .await
                .map_err(|e| Failure::retryable(error_chain(&e)))?;
            let sql = ctx.render(sql);
            ctx.report.log(format!("running sql on {target}"));
            let rows = tokio::select! {
                r = conn.execute(&sql) => r.map_err(|e| Failure::retryable(error_chain(&e)))?,
                _ = ctx.cancel.cancelled() => return Err(Failure::fatal("cancelled")),
            };
            ctx.report.log(format!("{rows} rows affected"));
            Ok(Outcome {
                rows: Some(rows as i64),
                bytes: None,
                ..Outcome::default()
            })
        })
    }
}

impl Executor for CheckExecutor {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(async move {
            tokio::select! {
                r = check(ctx) => r,
                _ = ctx.cancel.cancelled() => Err(Failure::fatal("cancelled")),
            }
        })
    }
}

async fn scalar(ctx: &TaskContext, target: &str, sql: &str) -> Result<ScalarValue, Failure> {
    let conn = open_target(&ctx.workspace, target)
        .await
        .map_err(|e| Failure::retryable(error_chain(&e)))?;
    conn.query_scalar(&ctx.render(sql))
        .await
        .map_err(|e| Failure::retryable(format!("{target}: {}", error_chain(&e))))
}

async fn check(ctx: &TaskContext) -> ExecResult {
    let t = &ctx.task;
    if let (Some(left), Some(right)) = (&t.left, &t.right) {
        let l = scalar(ctx, &left.target, &left.sql).await?;
        let r = scalar(ctx, &right.target, &right.sql).await?;
        ctx.report.log(format!(
            "left ({}) = {l}, right ({}) = {r}",
            left.target, right.target
        ));
        return if l.same_as(&r) {
            Ok(Outcome::default())
        } else {
            // Retryable: with `retries`, a check can wait for late data.
            Err(Failure::retryable(format!(
                "check failed: left ({}) = {l}, right ({}) = {r}",
                left.target, right.target
            )))
        };
    }
    let (Some(target), Some(sql)) = (t.target.as_deref(), t.sql.as_deref()) else {
        return Err(Failure::fatal(
            "check task needs `target` and `sql`, or `left` and `right`",
        ));
    };
    let v = scalar(ctx, target, sql).await?;
    ctx.report.log(format!("{target} returned {v}"));
    if v.is_truthy() {
        Ok(Outcome::default())
    } else {
        Err(Failure::retryable(format!(
            "check failed: {target} returned {v} (expected true or non-zero)"
        )))
    }
}
