//! `wait`: sleep for `duration`, or until `until` (HH:MM, local time, today;
//! a time already past ends at once).

use std::time::Duration;

use super::{BoxFuture, ExecResult, Executor, Failure, Outcome, TaskContext};
use crate::config::duration::{parse_duration, parse_hhmm};

pub struct WaitExecutor;

impl Executor for WaitExecutor {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(async move {
            let wait = how_long(ctx).map_err(Failure::fatal)?;
            if wait.is_zero() {
                return Ok(Outcome::default());
            }
            ctx.report.log(format!(
                "waiting {}",
                crate::config::duration::format_duration(wait)
            ));
            tokio::select! {
                _ = tokio::time::sleep(wait) => Ok(Outcome::default()),
                _ = ctx.cancel.cancelled() => Err(Failure::fatal("cancelled")),
            }
        })
    }
}

fn how_long(ctx: &TaskContext) -> Result<Duration, String> {
    if let Some(d) = ctx.task.duration.as_deref() {
        return parse_duration(d);
    }
    if let Some(t) = ctx.task.until.as_deref() {
        let at = parse_hhmm(t)?;
        let now = chrono::Local::now().naive_local();
        let target = now.date().and_time(at);
        return Ok((target - now).to_std().unwrap_or(Duration::ZERO));
    }
    Err("wait task needs `duration` or `until`".into())
}
