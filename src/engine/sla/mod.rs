//! The SLA report: per pipeline, over a window, how its schedule slots went
//! against their deadlines, what failed, and how long incidents took to
//! recover. Computed once here (`compute`, a pure function of rows, window
//! and now) and rendered by `switchyard sla` and the console's SLA screen,
//! so the two never disagree.
//!
//! The rules, precisely (the README repeats them for users):
//!
//! - **What is due.** Every schedule slot in the window (the `slots` table:
//!   started, refused or skipped), and every run started by hand (no slot,
//!   no backfill) that has a `deadline_at`, counted at its creation. A run
//!   whose `slot_at` has no slot row counts as its slot. Backfill runs are
//!   never due: a deadline counted from a backfill's creation says nothing
//!   about the service. A due without a deadline is counted as a slot but
//!   has no on-time figure.
//! - **On time** when its run succeeded with `finished_at <= deadline_at`
//!   (a run rerun to green counts by its last finish). **Missed** when it
//!   succeeded later (`late`, by finish − deadline), when its run failed and
//!   the deadline has passed (`failed`), when its run is still going past
//!   the deadline (`not_finished`), when the slot was refused or skipped,
//!   or when a started slot has no run (`no_run`). **Pending** — counted in
//!   neither — while the deadline is still ahead and the run has not
//!   succeeded (a failed run may still be rerun in time).
//! - **On-time share** = on time ÷ (on time + missed). **p50/p90** are of
//!   finish − deadline over the succeeded runs (on time or late), nearest
//!   rank (`stats::percentile`); negative is early.
//! - **Failures**: runs in the window whose state is `failed`, and the
//!   instances named by `failed` and `interrupted` alerts raised in it;
//!   every alert kind is counted as a string (kinds get added).
//! - **Recovery**: an incident is one run's (or slot's) alerts of one
//!   incident number (the dedup key's `sy/<subject>/…#N`); it opens at its
//!   first alert that is not `recovered` (any such kind, as the outbox itself
//!   counts triggers) raised in the window, and recovers at its `recovered`
//!   alert. Time to recover = recovered − opened; an incident without one
//!   is open.
//! - **Weeks**: ISO weeks (Monday first) of each due's reference — its slot,
//!   else its creation — in the pipeline's time zone; every week the window
//!   touches is listed, empty ones too.

mod compute;
#[cfg(test)]
mod tests;

use anyhow::Result;
use chrono_tz::Tz;
use serde::Serialize;

use super::Engine;
use super::serve::timezone_of;
use super::store::{AlertFact, RunRow, SlotRow};
pub use compute::compute;

/// The console's window: the last 30 days, as `switchyard sla` by default.
pub const DEFAULT_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// Everything the store holds about one pipeline in the window.
#[derive(Debug, Clone)]
pub struct PipelineRows {
    pub pipeline: String,
    pub timezone: Tz,
    /// The pipeline's `deadline` as written (None: none configured now).
    pub deadline: Option<String>,
    pub slots: Vec<SlotRow>,
    pub runs: Vec<RunRow>,
    pub alerts: Vec<AlertFact>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub from: i64,
    /// The end of the window: the moment the report was computed.
    pub to: i64,
    pub pipelines: Vec<PipelineSla>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSla {
    pub pipeline: String,
    pub timezone: Tz,
    pub deadline: Option<String>,
    pub slots: SlotCounts,
    /// None for a pipeline without any deadline in the window.
    pub on_time: Option<OnTime>,
    /// Every due, oldest first (misses are the ones whose outcome is a miss).
    pub dues: Vec<Due>,
    pub failures: Failures,
    pub recovery: Recovery,
    pub weeks: Vec<Week>,
}

impl PipelineSla {
    pub fn misses(&self) -> impl Iterator<Item = &Due> {
        self.dues.iter().filter(|d| d.outcome.is_miss())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SlotCounts {
    pub total: u32,
    pub started: u32,
    pub refused: u32,
    pub skipped: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OnTime {
    /// Dues decided: on time + missed.
    pub decided: u32,
    pub on_time: u32,
    pub missed: u32,
    /// Deadline still ahead, not yet succeeded.
    pub pending: u32,
    /// on_time / decided (None when nothing is decided yet).
    pub share: Option<f64>,
    /// Finish − deadline of the succeeded runs (negative: early).
    pub p50_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    OnTime,
    Late,
    Failed,
    NotFinished,
    Refused,
    Skipped,
    NoRun,
    Pending,
    /// Nothing to be on time for.
    NoDeadline,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::OnTime => "on_time",
            Outcome::Late => "late",
            Outcome::Failed => "failed",
            Outcome::NotFinished => "not_finished",
            Outcome::Refused => "refused",
            Outcome::Skipped => "skipped",
            Outcome::NoRun => "no_run",
            Outcome::Pending => "pending",
            Outcome::NoDeadline => "no_deadline",
        }
    }

    pub fn is_miss(self) -> bool {
        matches!(
            self,
            Outcome::Late
                | Outcome::Failed
                | Outcome::NotFinished
                | Outcome::Refused
                | Outcome::Skipped
                | Outcome::NoRun
        )
    }
}

/// Finish relative to a deadline for people: `−35m` (early), `+12m` (late).
pub fn signed(ms: i64) -> String {
    let magnitude = crate::config::duration::human(ms.abs());
    match ms.signum() {
        -1 => format!("\u{2212}{magnitude}"),
        1 => format!("+{magnitude}"),
        _ => magnitude,
    }
}

/// An on-time share as a percentage, `37.5%`; `-` when nothing is decided.
pub fn share_text(share: Option<f64>) -> String {
    share.map_or_else(|| "-".into(), |s| format!("{:.1}%", s * 100.0))
}

/// One thing that was due: a slot, or a run started by hand with a deadline.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// Its slot, else its run's creation: what its week is counted by.
    pub reference_at: i64,
    pub slot_at: Option<i64>,
    pub run_id: Option<i64>,
    pub deadline_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub outcome: Outcome,
    /// Finish − deadline of a succeeded run (negative: early).
    pub vs_deadline_ms: Option<i64>,
}

impl Due {
    /// What went wrong, for people: `late by 12m`, `refused`, `not finished`.
    pub fn miss_text(&self) -> String {
        match (self.outcome, self.vs_deadline_ms) {
            (Outcome::Late, Some(ms)) => {
                format!("late by {}", crate::config::duration::human(ms))
            }
            (o, _) => o.as_str().replace('_', " "),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Failures {
    pub failed_runs: u32,
    /// Instances named by `failed` alerts.
    pub failed_tasks: u32,
    /// Instances named by `interrupted` alerts.
    pub interrupted_tasks: u32,
    /// Every alert of the window by kind, in kind order.
    pub alerts: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovery {
    pub incidents: Vec<Incident>,
    pub recovered: u32,
    pub open: u32,
    pub p50_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    pub max_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// `run-42.1733540000000#0`: the dedup keys' subject and incident number.
    pub key: String,
    pub run_id: Option<i64>,
    pub opened_at: i64,
    /// The trigger kinds it raised, in kind order.
    pub kinds: Vec<String>,
    pub recovered_at: Option<i64>,
    pub recovery_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// `2026-W49`.
    pub week: String,
    /// Its Monday, `2026-11-30`.
    pub starts: String,
    pub dues: u32,
    pub on_time: u32,
    pub missed: u32,
    pub pending: u32,
    pub share: Option<f64>,
    pub failed_runs: u32,
}

/// The report over `[from, now]` for every pipeline of the workspace (or
/// just `only`) that has a schedule, a deadline, or anything in the window.
pub async fn load(engine: &Engine, from: i64, now: i64, only: Option<&str>) -> Result<Report> {
    let store = &engine.store;
    let slots = store.slots_between(from, now).await?;
    let runs = store.runs_between(from, now).await?;
    let alerts = store.alert_facts_between(from, now).await?;
    let mut pipelines = Vec::new();
    for (name, def) in &engine.ws.def.pipelines {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let rows = PipelineRows {
            pipeline: name.clone(),
            timezone: timezone_of(&engine.ws, name),
            deadline: def.deadline.clone(),
            slots: slots
                .iter()
                .filter(|s| &s.pipeline == name)
                .cloned()
                .collect(),
            runs: runs
                .iter()
                .filter(|r| &r.pipeline == name)
                .cloned()
                .collect(),
            alerts: alerts
                .iter()
                .filter(|a| &a.pipeline == name)
                .cloned()
                .collect(),
        };
        let quiet = rows.slots.is_empty() && rows.runs.is_empty() && rows.alerts.is_empty();
        if quiet && def.schedule.is_none() && def.deadline.is_none() && only.is_none() {
            continue;
        }
        pipelines.push(compute(rows, from, now));
    }
    Ok(Report {
        from,
        to: now,
        pipelines,
    })
}
