//! The pure half of the SLA report: rows + window + now → figures. No store,
//! no clock; the rules are in the module doc of `sla`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Datelike, Days, NaiveDate};
use chrono_tz::Tz;

use super::{
    Due, Failures, Incident, OnTime, Outcome, PipelineRows, PipelineSla, Recovery, SlotCounts, Week,
};
use crate::engine::state::RunState;
use crate::engine::stats::percentile_of;
use crate::engine::store::{AlertFact, RunRow, SlotRow};

const RECOVERED: &str = "recovered";

pub fn compute(rows: PipelineRows, from: i64, now: i64) -> PipelineSla {
    let dues = dues(&rows, now);
    let has_deadline = rows.deadline.is_some() || dues.iter().any(|d| d.deadline_at.is_some());
    let on_time = has_deadline.then(|| on_time(&dues));
    let weeks = weeks(&rows, &dues, from, now);
    PipelineSla {
        pipeline: rows.pipeline.clone(),
        timezone: rows.timezone,
        deadline: rows.deadline.clone(),
        slots: slot_counts(&rows.slots),
        on_time,
        failures: failures(&rows),
        recovery: recovery(&rows.alerts),
        weeks,
        dues,
    }
}

fn slot_counts(slots: &[SlotRow]) -> SlotCounts {
    let mut c = SlotCounts {
        total: slots.len() as u32,
        ..SlotCounts::default()
    };
    for s in slots {
        match s.state.as_str() {
            "started" => c.started += 1,
            "refused" => c.refused += 1,
            "skipped" => c.skipped += 1,
            _ => {}
        }
    }
    c
}

/// Every slot, then every run that is due without a slot row, oldest first.
fn dues(rows: &PipelineRows, now: i64) -> Vec<Due> {
    let mut out = Vec::new();
    let mut slot_times = HashSet::new();
    // By id: an `@every 30s` pipeline has thousands of slots in 30 days.
    let by_id: HashMap<i64, &RunRow> = rows.runs.iter().map(|r| (r.id, r)).collect();
    for s in &rows.slots {
        slot_times.insert(s.slot_at);
        let run = s.run_id.and_then(|id| by_id.get(&id).copied());
        let deadline_at = run.and_then(|r| r.deadline_at).or(s.deadline_at);
        let (outcome, vs) = match (s.state.as_str(), run) {
            _ if deadline_at.is_none() => (Outcome::NoDeadline, None),
            ("refused", _) => (Outcome::Refused, None),
            ("skipped", _) => (Outcome::Skipped, None),
            (_, Some(r)) => judge(r, deadline_at, now),
            (_, None) => (Outcome::NoRun, None),
        };
        out.push(Due {
            reference_at: s.slot_at,
            slot_at: Some(s.slot_at),
            run_id: run.map(|r| r.id).or(s.run_id),
            deadline_at,
            finished_at: run.and_then(|r| r.finished_at),
            outcome,
            vs_deadline_ms: vs,
        });
    }
    for r in &rows.runs {
        let due = match r.slot_at {
            // A slot's run without its slot row still stands for its slot.
            Some(at) => !slot_times.contains(&at),
            None => r.backfill_id.is_none() && r.deadline_at.is_some(),
        };
        if !due {
            continue;
        }
        let (outcome, vs) = judge(r, r.deadline_at, now);
        out.push(Due {
            reference_at: r.slot_at.unwrap_or(r.created_at),
            slot_at: r.slot_at,
            run_id: Some(r.id),
            deadline_at: r.deadline_at,
            finished_at: r.finished_at,
            outcome,
            vs_deadline_ms: vs,
        });
    }
    out.sort_by_key(|d| (d.reference_at, d.run_id));
    out
}

/// How a run did against its deadline, as of `now`.
fn judge(r: &RunRow, deadline_at: Option<i64>, now: i64) -> (Outcome, Option<i64>) {
    let Some(deadline) = deadline_at else {
        return (Outcome::NoDeadline, None);
    };
    let passed = now >= deadline;
    let outcome = match r.state {
        RunState::Succeeded => {
            if r.finished_at.unwrap_or(now) <= deadline {
                Outcome::OnTime
            } else {
                Outcome::Late
            }
        }
        _ if !passed => Outcome::Pending,
        RunState::Failed => Outcome::Failed,
        RunState::Queued | RunState::Running => Outcome::NotFinished,
    };
    (outcome, vs_deadline(r, deadline_at))
}

/// Finish − deadline, for a run that succeeded.
fn vs_deadline(r: &RunRow, deadline_at: Option<i64>) -> Option<i64> {
    if r.state != RunState::Succeeded {
        return None;
    }
    Some(r.finished_at? - deadline_at?)
}

fn on_time(dues: &[Due]) -> OnTime {
    let mut t = OnTime::default();
    let mut finishes = Vec::new();
    for d in dues {
        match d.outcome {
            Outcome::OnTime => t.on_time += 1,
            Outcome::Pending => t.pending += 1,
            o if o.is_miss() => t.missed += 1,
            _ => {}
        }
        if matches!(d.outcome, Outcome::OnTime | Outcome::Late)
            && let Some(v) = d.vs_deadline_ms
        {
            finishes.push(v);
        }
    }
    t.decided = t.on_time + t.missed;
    t.share = share(t.on_time, t.decided);
    t.p50_ms = percentile_of(&finishes, 50.0);
    t.p90_ms = percentile_of(&finishes, 90.0);
    t
}

fn share(on_time: u32, decided: u32) -> Option<f64> {
    (decided > 0).then(|| f64::from(on_time) / f64::from(decided))
}

fn failures(rows: &PipelineRows) -> Failures {
    let failed_runs = (rows.runs.iter())
        .filter(|r| r.state == RunState::Failed)
        .count() as u32;
    let instances = |kind: &str| {
        let named: BTreeSet<(Option<i64>, &str)> = (rows.alerts.iter())
            .filter(|a| a.kind == kind)
            .flat_map(|a| a.tasks.iter().map(move |t| (a.run_id, t.as_str())))
            .collect();
        named.len() as u32
    };
    let mut by_kind: BTreeMap<String, u32> = BTreeMap::new();
    for a in &rows.alerts {
        *by_kind.entry(a.kind.clone()).or_default() += 1;
    }
    Failures {
        failed_runs,
        failed_tasks: instances("failed"),
        interrupted_tasks: instances("interrupted"),
        alerts: by_kind.into_iter().collect(),
    }
}

/// `sy/run-42.1733/load/failed#0` → `run-42.1733#0`: the subject and the
/// incident number, which every alert of one incident shares. A key of
/// another shape is an incident of its own.
fn incident_key(dedup_key: &str) -> String {
    let subject = dedup_key
        .strip_prefix("sy/")
        .and_then(|k| k.split('/').next());
    let number = dedup_key.rsplit_once('#').map(|(_, n)| n);
    match (subject, number) {
        (Some(s), Some(n)) => format!("{s}#{n}"),
        _ => dedup_key.to_string(),
    }
}

fn recovery(alerts: &[AlertFact]) -> Recovery {
    let mut incidents: BTreeMap<String, Incident> = BTreeMap::new();
    // Oldest first, so the first trigger opens the incident.
    let mut sorted: Vec<&AlertFact> = alerts.iter().collect();
    sorted.sort_by_key(|a| a.created_at);
    for a in &sorted {
        let key = incident_key(&a.dedup_key);
        if a.kind == RECOVERED {
            // A recovery of an incident opened before the window is not counted.
            if let Some(i) = incidents.get_mut(&key)
                && i.recovered_at.is_none()
            {
                i.recovered_at = Some(a.created_at);
                i.recovery_ms = Some(a.created_at - i.opened_at);
            }
            continue;
        }
        let i = incidents.entry(key.clone()).or_insert_with(|| Incident {
            key,
            run_id: a.run_id,
            opened_at: a.created_at,
            kinds: Vec::new(),
            recovered_at: None,
            recovery_ms: None,
        });
        if !i.kinds.contains(&a.kind) {
            i.kinds.push(a.kind.clone());
            i.kinds.sort();
        }
    }
    let mut list: Vec<Incident> = incidents.into_values().collect();
    list.sort_by_key(|i| (i.opened_at, i.key.clone()));
    let times: Vec<i64> = list.iter().filter_map(|i| i.recovery_ms).collect();
    Recovery {
        recovered: times.len() as u32,
        open: (list.len() - times.len()) as u32,
        p50_ms: percentile_of(&times, 50.0),
        p90_ms: percentile_of(&times, 90.0),
        max_ms: times.iter().copied().max(),
        incidents: list,
    }
}

fn local_date(ms: i64, tz: Tz) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&tz).date_naive())
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

fn week_label(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Every ISO week the window touches, in the pipeline's zone.
fn weeks(rows: &PipelineRows, dues: &[Due], from: i64, now: i64) -> Vec<Week> {
    let tz = rows.timezone;
    let (Some(first), Some(last)) = (local_date(from, tz), local_date(now, tz)) else {
        return Vec::new();
    };
    let week_of = |ms: i64| local_date(ms, tz).map(monday);
    // Each due and failed run's week, once (not once per week listed).
    let due_weeks: Vec<(Option<NaiveDate>, Outcome)> = dues
        .iter()
        .map(|d| (week_of(d.reference_at), d.outcome))
        .collect();
    let failed_weeks: Vec<Option<NaiveDate>> = (rows.runs.iter())
        .filter(|r| r.state == RunState::Failed)
        .map(|r| week_of(r.slot_at.unwrap_or(r.created_at)))
        .collect();
    let mut out = Vec::new();
    let mut start = monday(first);
    while start <= last {
        let mut w = Week {
            week: week_label(start),
            starts: start.format("%Y-%m-%d").to_string(),
            dues: 0,
            on_time: 0,
            missed: 0,
            pending: 0,
            share: None,
            failed_runs: 0,
        };
        for (_, outcome) in due_weeks.iter().filter(|(wk, _)| *wk == Some(start)) {
            w.dues += 1;
            match *outcome {
                Outcome::OnTime => w.on_time += 1,
                Outcome::Pending => w.pending += 1,
                o if o.is_miss() => w.missed += 1,
                _ => {}
            }
        }
        w.failed_runs = failed_weeks.iter().filter(|wk| **wk == Some(start)).count() as u32;
        w.share = share(w.on_time, w.on_time + w.missed);
        out.push(w);
        start = start + Days::new(7);
    }
    out
}
