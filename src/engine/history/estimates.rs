//! How long a task is expected to take, for the forecast: its p90 over its
//! history; a task with none counts as the median of its kind, and says so.

use std::collections::HashMap;

use serde::Serialize;

use crate::engine::state::TaskState;
use crate::engine::stats::percentile_of;
use crate::engine::store::HistoryRow;

/// Where an estimate came from, so a projection can say how sure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The task's own p90.
    History,
    /// No history of its own: the median of its kind's successes.
    KindMedian,
    /// Nothing of its kind ever ran: counted as nothing.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimate {
    pub ms: i64,
    pub basis: Basis,
}

/// Per-task p90 and per-kind median durations of successes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Estimates {
    task_p90: HashMap<String, i64>,
    kind_median: HashMap<String, i64>,
}

impl Estimates {
    pub fn from_rows(rows: &[HistoryRow]) -> Estimates {
        let mut by_task: HashMap<&str, Vec<i64>> = HashMap::new();
        let mut by_kind: HashMap<&str, Vec<i64>> = HashMap::new();
        for r in rows {
            if r.state != TaskState::Succeeded {
                continue;
            }
            let (Some(s), Some(f)) = (r.started_at, r.finished_at) else {
                continue;
            };
            let ms = (f - s).max(0);
            by_task.entry(&r.task_id).or_default().push(ms);
            by_kind.entry(&r.kind).or_default().push(ms);
        }
        let p = |m: HashMap<&str, Vec<i64>>, q: f64| {
            m.into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), percentile_of(&v, q)?)))
                .collect()
        };
        Estimates {
            task_p90: p(by_task, 90.0),
            kind_median: p(by_kind, 50.0),
        }
    }

    /// From known figures (tests and benchmarks).
    pub fn from_parts(
        task_p90: impl IntoIterator<Item = (String, i64)>,
        kind_median: impl IntoIterator<Item = (String, i64)>,
    ) -> Estimates {
        Estimates {
            task_p90: task_p90.into_iter().collect(),
            kind_median: kind_median.into_iter().collect(),
        }
    }

    pub fn for_task(&self, task_id: &str, kind: &str) -> Estimate {
        if let Some(&ms) = self.task_p90.get(task_id) {
            return Estimate {
                ms,
                basis: Basis::History,
            };
        }
        match self.kind_median.get(kind) {
            Some(&ms) => Estimate {
                ms,
                basis: Basis::KindMedian,
            },
            None => Estimate {
                ms: 0,
                basis: Basis::Unknown,
            },
        }
    }
}
