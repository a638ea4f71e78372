//! Duration history: what every task (and every `export_all` table) took
//! across runs — duration, rows, bytes, attempts, outcome — and the figures
//! on-call people tune by: p50 / p90 / last duration, row rate and trend.
//! `switchyard history` prints them, the console's task view draws them as
//! a sparkline, and the forecast (`engine::forecast`) takes its estimates
//! from them. Pure: built from the store's rows (`Store::history`).

mod estimates;

pub use estimates::{Basis, Estimate, Estimates};

use serde::Serialize;

use crate::engine::state::TaskState;
use crate::engine::stats::{percentile, percentile_of};
use crate::engine::store::HistoryRow;

/// How many runs back history looks by default (the sparkline's width).
pub const DEFAULT_RUNS: i64 = 30;

/// One run of one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub run_id: i64,
    pub run_date: String,
    pub state: TaskState,
    pub attempts: i64,
    /// The last attempt's duration, once it ended.
    pub duration_ms: Option<i64>,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
}

impl Sample {
    /// A duration that says what the task takes: a success's.
    pub fn success_ms(&self) -> Option<i64> {
        (self.state == TaskState::Succeeded)
            .then_some(self.duration_ms)
            .flatten()
    }
}

/// One task across runs, oldest run first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskHistory {
    pub task_id: String,
    pub kind: String,
    pub samples: Vec<Sample>,
}

/// Whether a task got slower: its last `RECENT` successes against the ones
/// before them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "trend", rename_all = "snake_case")]
pub enum Trend {
    /// Fewer than `RECENT + 1` successes: nothing to compare.
    Unknown,
    /// Within ±`STEADY_PCT` %.
    Steady,
    Slower {
        pct: i64,
    },
    Faster {
        pct: i64,
    },
}

const RECENT: usize = 5;
const STEADY_PCT: i64 = 10;

impl Trend {
    pub fn text(self) -> String {
        match self {
            Trend::Unknown => "–".into(),
            Trend::Steady => "steady".into(),
            Trend::Slower { pct } => format!("+{pct}% slower"),
            Trend::Faster { pct } => format!("{pct}% faster"),
        }
    }
}

/// The figures of one task's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub runs: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub p50_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Median rows of the successes that counted any.
    pub rows_p50: Option<i64>,
    /// Rows per second of the median success (`rows_p50 / p50`).
    pub rows_per_s: Option<f64>,
    /// Retries per run (attempts beyond the first), on average.
    pub retries_per_run: f64,
    #[serde(flatten)]
    pub trend: Trend,
}

impl TaskHistory {
    /// Successes' durations, oldest first.
    pub fn durations(&self) -> Vec<i64> {
        self.samples.iter().filter_map(Sample::success_ms).collect()
    }

    pub fn summary(&self) -> Summary {
        let durations = self.durations();
        let mut ordered = durations.clone();
        ordered.sort_unstable();
        let rows: Vec<i64> = self
            .samples
            .iter()
            .filter(|s| s.state == TaskState::Succeeded)
            .filter_map(|s| s.rows)
            .collect();
        let p50 = percentile(&ordered, 50.0);
        let rows_p50 = percentile_of(&rows, 50.0);
        let rows_per_s = match (rows_p50, p50) {
            (Some(r), Some(ms)) if ms > 0 => Some(r as f64 * 1000.0 / ms as f64),
            _ => None,
        };
        let count = |s: TaskState| self.samples.iter().filter(|x| x.state == s).count();
        let retries: i64 = self.samples.iter().map(|s| (s.attempts - 1).max(0)).sum();
        Summary {
            runs: self.samples.len(),
            succeeded: count(TaskState::Succeeded),
            failed: count(TaskState::Failed),
            p50_ms: p50,
            p90_ms: percentile(&ordered, 90.0),
            last_ms: self.samples.iter().rev().find_map(|s| s.duration_ms),
            rows_p50,
            rows_per_s,
            retries_per_run: if self.samples.is_empty() {
                0.0
            } else {
                retries as f64 / self.samples.len() as f64
            },
            trend: trend(&durations),
        }
    }
}

fn trend(durations: &[i64]) -> Trend {
    if durations.len() <= RECENT {
        return Trend::Unknown;
    }
    let (earlier, recent) = durations.split_at(durations.len() - RECENT);
    let (Some(before), Some(now)) = (percentile_of(earlier, 50.0), percentile_of(recent, 50.0))
    else {
        return Trend::Unknown;
    };
    if before <= 0 {
        return Trend::Unknown;
    }
    let pct = (now - before) * 100 / before;
    match pct {
        p if p.abs() < STEADY_PCT => Trend::Steady,
        p if p > 0 => Trend::Slower { pct: p },
        p => Trend::Faster { pct: -p },
    }
}

/// Rows of `Store::history` grouped by task, each in run order; tasks in
/// the order they first appear (the pipeline's order).
pub fn by_task(rows: &[HistoryRow]) -> Vec<TaskHistory> {
    let mut out: Vec<TaskHistory> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = Default::default();
    for r in rows {
        let i = *index.entry(r.task_id.as_str()).or_insert_with(|| {
            out.push(TaskHistory {
                task_id: r.task_id.clone(),
                kind: r.kind.clone(),
                samples: Vec::new(),
            });
            out.len() - 1
        });
        out[i].samples.push(Sample {
            run_id: r.run_id,
            run_date: r.run_date.clone(),
            state: r.state,
            attempts: r.attempts,
            duration_ms: match (r.started_at, r.finished_at) {
                (Some(s), Some(f)) if r.state.is_terminal() => Some((f - s).max(0)),
                _ => None,
            },
            rows: r.rows,
            bytes: r.bytes,
        });
    }
    out
}

#[cfg(test)]
mod tests;
