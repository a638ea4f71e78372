//! What every scheduled pipeline does next and how its last slot went: the
//! one home of what `switchyard schedule` prints and the console's Schedule
//! screen shows, so the two never disagree on "late".

use anyhow::Result;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Engine;
use super::serve::timezone_of;
use super::store::{RunRow, SlotRow};
use crate::config::schedule::{Deadline, Schedule};

/// The schedule as of one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Whether any `serve` is alive to start the slots (by its heartbeat).
    pub serving: bool,
    pub pipelines: Vec<PipelineSchedule>,
}

/// One scheduled pipeline, as of `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSchedule {
    pub pipeline: String,
    /// The `schedule` as written.
    pub schedule: String,
    pub timezone: Tz,
    /// The next slot after now (None: the expression has no more slots).
    pub next_slot: Option<i64>,
    /// The `deadline` as written.
    pub deadline: Option<String>,
    /// When the next slot's deadline falls.
    pub next_deadline_at: Option<i64>,
    /// The pipeline's newest run (scheduled or not).
    pub last_run: Option<RunRow>,
    /// How late the pipeline is now: its newest run past its deadline, or
    /// its newest slot past its deadline with no run at all (serve was down,
    /// the run was refused). A deadline belongs to the slot, not to a run.
    pub late_ms: Option<i64>,
    /// Newest slots first.
    pub recent: Vec<SlotRow>,
}

impl PipelineSchedule {
    /// "late by 12m", "on time", or "-" when there is no deadline to meet.
    pub fn on_time_text(&self) -> String {
        match self.late_ms {
            Some(ms) => format!("late by {}", crate::config::duration::human(ms)),
            None if self.has_deadline() => "on time".into(),
            None => "-".into(),
        }
    }

    fn has_deadline(&self) -> bool {
        self.deadline.is_some()
            || self
                .last_run
                .as_ref()
                .is_some_and(|r| r.deadline_at.is_some())
    }
}

/// Every pipeline with a `schedule`, in name order, with `recent` slots each.
pub async fn overview(engine: &Engine, now_ms: i64, recent: i64) -> Result<Overview> {
    let now = DateTime::<Utc>::from_timestamp_millis(now_ms).unwrap_or_default();
    let mut out = Vec::new();
    for (name, p) in &engine.ws.def.pipelines {
        let Some(expr) = p.schedule.as_deref() else {
            continue;
        };
        // `check` refuses a bad expression; a file edited since still says why.
        let sched = Schedule::parse(expr)
            .map_err(|e| anyhow::anyhow!("pipeline {name}: schedule `{expr}`: {e}"))?;
        let tz = timezone_of(&engine.ws, name);
        let next = sched.next_after(tz, now);
        let deadline = p.deadline.as_deref().and_then(|d| Deadline::parse(d).ok());
        let last_run = engine.store.latest_run_of(name).await?;
        let recent = engine.store.slots(name, recent.max(1)).await?;
        let late_ms = late(last_run.as_ref(), recent.first(), now_ms);
        out.push(PipelineSchedule {
            pipeline: name.clone(),
            schedule: expr.to_string(),
            timezone: tz,
            next_slot: next.map(|t| t.timestamp_millis()),
            deadline: p.deadline.clone(),
            next_deadline_at: next
                .zip(deadline)
                .map(|(t, d)| d.due(t, tz).timestamp_millis()),
            last_run,
            late_ms,
            recent,
        });
    }
    Ok(Overview {
        serving: engine.store.serve_alive().await?,
        pipelines: out,
    })
}

/// The newest slot decides when it never got a run (or a newer one than the
/// newest run): its deadline passes whether or not anything ran.
fn late(last_run: Option<&RunRow>, newest_slot: Option<&SlotRow>, now: i64) -> Option<i64> {
    if let Some(slot) = newest_slot
        && slot.run_id.is_none()
        && last_run.is_none_or(|r| r.slot_at.is_none_or(|at| at < slot.slot_at))
    {
        return slot.deadline_at.filter(|d| *d < now).map(|d| now - d);
    }
    last_run.and_then(|r| r.late_ms(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::state::RunState;

    fn slot(at: i64, run_id: Option<i64>, deadline_at: Option<i64>) -> SlotRow {
        SlotRow {
            pipeline: "p".into(),
            slot_at: at,
            run_date: "2026-12-07".into(),
            state: if run_id.is_some() {
                "started"
            } else {
                "refused"
            }
            .into(),
            run_id,
            deadline_at,
            detail: None,
        }
    }

    fn run(slot_at: Option<i64>, state: RunState, deadline_at: Option<i64>) -> RunRow {
        RunRow {
            id: 1,
            pipeline: "p".into(),
            run_date: "2026-12-07".into(),
            state,
            backfill_id: None,
            created_at: 0,
            started_at: Some(0),
            finished_at: Some(50),
            owner: None,
            note: None,
            slot_at,
            deadline_at,
        }
    }

    #[test]
    fn a_slot_that_never_ran_is_late_after_its_deadline() {
        let s = slot(1_000, None, Some(2_000));
        assert_eq!(late(None, Some(&s), 1_500), None);
        assert_eq!(late(None, Some(&s), 2_500), Some(500));
        // An older run, green and on time, does not hide the missed slot.
        let r = run(Some(0), RunState::Succeeded, Some(100));
        assert_eq!(late(Some(&r), Some(&s), 2_500), Some(500));
    }

    #[test]
    fn otherwise_the_newest_run_decides() {
        let s = slot(1_000, Some(1), Some(2_000));
        let running = run(Some(1_000), RunState::Running, Some(2_000));
        assert_eq!(late(Some(&running), Some(&s), 2_600), Some(600));
        let green = run(Some(1_000), RunState::Succeeded, Some(2_000));
        assert_eq!(late(Some(&green), Some(&s), 9_000), None);
        assert_eq!(late(None, None, 9_000), None);
    }
}
