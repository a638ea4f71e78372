//! "At risk" before the deadline: a run's projected finish, from now plus
//! the remaining work — each remaining task at its p90 duration
//! (`engine::history::Estimates`), scheduled through the DAG with the pools'
//! current sizes by the scheduler's own rules (`simulate.rs`). Recomputed as
//! tasks finish and pools change; `at_risk.rs` raises the alert when the
//! projection passes the deadline less `at_risk_margin`.
//!
//! What it does not model, on purpose: retries that have not happened yet
//! (a task is projected to succeed at its p90, which already carries its
//! usual retries) and other runs' *future* demand on a shared pool (their
//! running attempts do hold their slots until they are expected to end).

mod at_risk;
mod simulate;

pub use at_risk::{AtRiskWatch, PoolWhatIf, RunForecast, forecast_run};
pub use simulate::project;

use std::collections::HashMap;

use crate::engine::history::{Basis, Estimate, Estimates};
use crate::engine::state::TaskState;
use crate::engine::store::InstanceRow;

/// Where an instance stands, for the forecast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Work {
    Done {
        at: i64,
    },
    Running {
        started_at: i64,
    },
    /// Not started: waiting for upstream, a slot, or its retry (`not_before`).
    Waiting {
        not_before: Option<i64>,
    },
    /// Failed, cancelled or interrupted: nothing downstream of it finishes
    /// without a person.
    Blocked,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    /// Indices into `Plan::nodes`.
    pub upstream: Vec<usize>,
    pub pool: Option<String>,
    pub slots: i64,
    pub work: Work,
    pub estimate: Estimate,
}

/// Slots of a pool held by another run's attempt until it is expected to end.
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    pub pool: String,
    pub slots: i64,
    pub until: i64,
}

/// One run's remaining work, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// In run order (the order the scheduler grants in).
    pub nodes: Vec<Node>,
    /// Pool sizes.
    pub pools: HashMap<String, i64>,
    /// The run's limit on unpooled tasks at once (`max_parallel`).
    pub max_parallel: i64,
    pub busy: Vec<Busy>,
    /// Nothing starts before this (a slot whose run is not created yet).
    pub not_before: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// When the last instance is projected to finish; None when some
    /// cannot finish (`unfinished`: blocked, or downstream of a block).
    pub finish_at: Option<i64>,
    pub start: Vec<Option<i64>>,
    pub finish: Vec<Option<i64>>,
    /// The chain that decides the finish, first to last: each waited on the
    /// one before it (its upstream, or the slot it held).
    pub critical_path: Vec<usize>,
    pub unfinished: Vec<usize>,
}

impl Plan {
    /// A run's instances as a plan, estimated from history. A running
    /// instance that reports progress against a known total is projected by
    /// its own rate; one without (a command, an sql task) by its history.
    pub fn for_run(rows: &[InstanceRow], est: &Estimates, now: i64) -> Plan {
        let mut ordered: Vec<&InstanceRow> = rows.iter().collect();
        ordered.sort_by_key(|r| r.ord);
        let index: HashMap<&str, usize> = ordered
            .iter()
            .enumerate()
            .map(|(i, r)| (r.task_id.as_str(), i))
            .collect();
        let nodes = ordered
            .iter()
            .map(|r| {
                let mut estimate = est.for_task(&r.task_id, &r.kind);
                if let (TaskState::Running, Some(started), Some(ms)) =
                    (r.state, r.started_at, by_rate(r, now))
                {
                    estimate = Estimate {
                        ms: (now - started) + ms,
                        basis: estimate.basis,
                    };
                }
                Node {
                    id: r.task_id.clone(),
                    upstream: r
                        .upstream
                        .iter()
                        .filter_map(|u| index.get(u.as_str()).copied())
                        .collect(),
                    pool: r.pool.clone(),
                    slots: r.slots,
                    work: work_of(r, now),
                    estimate,
                }
            })
            .collect();
        Plan {
            nodes,
            pools: HashMap::new(),
            max_parallel: 16,
            busy: Vec::new(),
            not_before: now,
        }
    }

    /// Indices whose estimate is not their own history.
    pub fn guessed(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                !matches!(self.nodes[i].work, Work::Done { .. })
                    && self.nodes[i].estimate.basis != Basis::History
            })
            .collect()
    }

    /// The finish with one more slot in `pool`.
    pub fn with_one_more(&self, pool: &str) -> Plan {
        let mut p = self.clone();
        if let Some(size) = p.pools.get_mut(pool) {
            *size += 1;
        }
        p
    }

    /// "export_orders → load_orders → daily_revenue".
    pub fn path_text(&self, path: &[usize]) -> String {
        path.iter()
            .map(|&i| self.nodes[i].id.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

fn work_of(r: &InstanceRow, now: i64) -> Work {
    match r.state {
        TaskState::Succeeded | TaskState::Skipped => Work::Done {
            at: r.finished_at.unwrap_or(now),
        },
        TaskState::Running => Work::Running {
            started_at: r.started_at.unwrap_or(now),
        },
        TaskState::Pending | TaskState::Queued => Work::Waiting { not_before: None },
        TaskState::Retrying => Work::Waiting {
            not_before: r.next_try_at,
        },
        TaskState::Failed
        | TaskState::UpstreamFailed
        | TaskState::Cancelled
        | TaskState::Interrupted => Work::Blocked,
    }
}

/// Time left for a running instance at its own rate, when it counts rows
/// against a known total.
fn by_rate(r: &InstanceRow, now: i64) -> Option<i64> {
    let (done, total, started) = (r.rows?, r.total_estimate?, r.started_at?);
    if done <= 0 || total <= done {
        return None;
    }
    let elapsed = (now - started).max(1);
    Some(((elapsed as i128 * (total - done) as i128) / done as i128) as i64)
}

#[cfg(test)]
mod tests;
