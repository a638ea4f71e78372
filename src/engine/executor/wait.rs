//! `wait`: sleep for `duration`, or until `until`.
//!
//! `until = "HH:MM"` is a local time in the pipeline's time zone, counted
//! from the run's reference (its slot, or its creation when it has none) the
//! way a deadline is: that time on the reference's day, or the next day when
//! it falls before the reference. So a nightly run whose slot is 23:30 waits
//! for 06:00 the next morning, and a rerun the next afternoon (same run, same
//! reference) ends at once instead of waiting another day. The DST rules are
//! `config::schedule::local_time_on_or_after`'s, shared with deadlines.

use std::time::Duration;

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

use super::{BoxFuture, ExecResult, Executor, Failure, Outcome, TaskContext};
use crate::config::duration::{format_duration, parse_duration, parse_hhmm};
use crate::config::schedule::local_time_on_or_after;

pub struct WaitExecutor;

impl Executor for WaitExecutor {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(async move {
            let (wait, target) = how_long(ctx, Utc::now()).map_err(Failure::fatal)?;
            if wait.is_zero() {
                if let Some(at) = target {
                    ctx.report.log(format!(
                        "{} has passed: not waiting",
                        local_text(at, ctx.tz)
                    ));
                }
                return Ok(Outcome::default());
            }
            ctx.report.log(match target {
                Some(at) => format!(
                    "waiting until {} ({})",
                    local_text(at, ctx.tz),
                    format_duration(Duration::from_secs(wait.as_secs().max(1)))
                ),
                None => format!("waiting {}", format_duration(wait)),
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => Ok(Outcome::default()),
                _ = ctx.cancel.cancelled() => Err(Failure::fatal("cancelled")),
            }
        })
    }
}

/// How long to wait from `now`, and for `until` the instant waited for.
fn how_long(
    ctx: &TaskContext,
    now: DateTime<Utc>,
) -> Result<(Duration, Option<DateTime<Utc>>), String> {
    if let Some(d) = ctx.task.duration.as_deref() {
        return parse_duration(d).map(|d| (d, None));
    }
    if let Some(t) = ctx.task.until.as_deref() {
        let at = until_instant(ctx.reference, ctx.tz, parse_hhmm(t)?);
        return Ok((remaining(at, now), Some(at)));
    }
    Err("wait task needs `duration` or `until`".into())
}

/// `until` local time `t` in `tz`, relative to the run's `reference`.
fn until_instant(reference: DateTime<Utc>, tz: Tz, t: NaiveTime) -> DateTime<Utc> {
    local_time_on_or_after(reference, tz, t)
}

/// From `now` to `at`; zero when `at` has passed.
fn remaining(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}

/// "2026-05-14 06:00 CEST", for the task's log.
fn local_text(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Tz {
        "Europe/Berlin".parse().expect("zone")
    }

    fn local(tz: Tz, s: &str) -> DateTime<Utc> {
        let wall = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
        wall.and_local_timezone(tz)
            .earliest()
            .expect("a time the clock shows")
            .with_timezone(&Utc)
    }

    fn hhmm(s: &str) -> NaiveTime {
        parse_hhmm(s).expect("HH:MM")
    }

    #[test]
    fn a_reference_after_the_time_waits_for_the_next_day() {
        let tz = berlin();
        let reference = local(tz, "2026-05-13 23:30");
        let at = until_instant(reference, tz, hhmm("06:00"));
        assert_eq!(local_text(at, tz), "2026-05-14 06:00 CEST");
        // A worker that starts the task a minute after the slot waits 6h29m.
        let now = reference + chrono::TimeDelta::minutes(1);
        assert_eq!(remaining(at, now), Duration::from_secs(389 * 60));
    }

    #[test]
    fn a_reference_before_the_time_waits_the_same_day() {
        let tz = berlin();
        let reference = local(tz, "2026-05-13 05:00");
        let at = until_instant(reference, tz, hhmm("06:00"));
        assert_eq!(local_text(at, tz), "2026-05-13 06:00 CEST");
        assert_eq!(remaining(at, reference), Duration::from_secs(3600));
        // Rerun the next afternoon: the same run, the same reference, no wait.
        let rerun = local(tz, "2026-05-14 15:00");
        assert_eq!(remaining(at, rerun), Duration::ZERO);
    }

    #[test]
    fn dst_days_in_berlin_count_real_time() {
        let tz = berlin();
        // Spring forward (02:00 → 03:00): 23:30 to 06:00 is 5.5 real hours.
        let spring = local(tz, "2026-03-28 23:30");
        let at = until_instant(spring, tz, hhmm("06:00"));
        assert_eq!(local_text(at, tz), "2026-03-29 06:00 CEST");
        assert_eq!(remaining(at, spring), Duration::from_secs(330 * 60));
        // Fall back (03:00 → 02:00): 23:30 to 06:00 is 7.5 real hours.
        let fall = local(tz, "2026-10-24 23:30");
        let at = until_instant(fall, tz, hhmm("06:00"));
        assert_eq!(local_text(at, tz), "2026-10-25 06:00 CET");
        assert_eq!(remaining(at, fall), Duration::from_secs(450 * 60));
        // A time the clock skips means the first instant after the gap.
        let at = until_instant(local(tz, "2026-03-29 00:10"), tz, hhmm("02:30"));
        assert_eq!(local_text(at, tz), "2026-03-29 03:00 CEST");
    }

    #[test]
    fn the_zone_decides_the_day() {
        // 23:30 UTC is 01:30 the next day in Berlin: 06:00 that same Berlin day.
        let reference = local(Tz::UTC, "2026-05-13 23:30");
        let at = until_instant(reference, berlin(), hhmm("06:00"));
        assert_eq!(local_text(at, berlin()), "2026-05-14 06:00 CEST");
        let at = until_instant(reference, Tz::UTC, hhmm("06:00"));
        assert_eq!(local_text(at, Tz::UTC), "2026-05-14 06:00 UTC");
    }
}
