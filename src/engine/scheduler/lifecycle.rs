//! How instances move through their states within a step: completions,
//! readiness, retries, slot grants and progress.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use anyhow::Result;

use super::{Completion, RunOwner, StopReason};
use crate::config::TaskDef;
use crate::config::duration::parse_duration;
use crate::config::redact::redact;
use crate::engine::state::{Cause, TaskState, transition};
use crate::engine::store::{self, EventKind, InstanceRow, NewEvent, Tx, local_hms, now_ms};

const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(30);
const DEFAULT_MAX_RETRY_DELAY: Duration = Duration::from_secs(600);

impl RunOwner {
    pub(super) fn set_state(
        &mut self,
        i: usize,
        cause: Cause,
        error: Option<String>,
    ) -> Result<TaskState> {
        let inst = &mut self.insts[i];
        let to = transition(inst.row.state, cause)?;
        self.events.push(NewEvent::task(
            self.run_id,
            &inst.row.task_id,
            EventKind::TaskState {
                from: inst.row.state,
                to,
                attempt: inst.row.attempt,
                error: error.clone(),
            },
        ));
        // Kept as a count so a step only scans for due retries when any wait.
        if inst.row.state == TaskState::Retrying {
            self.retrying -= 1;
        }
        if to == TaskState::Retrying {
            self.retrying += 1;
        }
        inst.row.state = to;
        if error.is_some() || to == TaskState::Succeeded {
            inst.row.error = error;
        }
        if to.is_terminal() {
            inst.row.finished_at = Some(now_ms());
            inst.row.waiting_on = None;
        }
        Ok(to)
    }

    pub(super) fn make_ready(&mut self, i: usize, dirty: &mut BTreeSet<usize>) -> Result<()> {
        self.set_state(i, Cause::Ready, None)?;
        self.insts[i].row.queued_at = Some(now_ms());
        self.queued.insert(i);
        dirty.insert(i);
        Ok(())
    }

    pub(super) fn record_completions(
        &mut self,
        now: i64,
        dirty: &mut BTreeSet<usize>,
    ) -> Result<()> {
        let done: Vec<Completion> = self.done.drain(..).collect();
        for c in done {
            let i = c.idx;
            if self.insts[i].row.state != TaskState::Running
                || self.insts[i].row.attempt != c.attempt
            {
                continue; // reset under our feet; the result is stale
            }
            if self.insts[i].row.pool.is_none() {
                self.running_local_unpooled = self.running_local_unpooled.saturating_sub(1);
            }
            let stop = self.insts[i].stop.take();
            self.insts[i].cancel = None;
            // Held slots are given back: the next attempt asks for what the
            // task wants, from the pool's size at that time.
            let def = crate::engine::plan::resolve_def(&self.defs, &self.insts[i].row).ok();
            if let Some(d) = &def {
                self.insts[i].row.slots = d.wanted_slots();
            }
            dirty.insert(i);
            let (cause, error, exit) = match (&c.result, stop) {
                (Ok(out), _) => {
                    // The last progress sample (not yet written when a task
                    // ends within its first second) still carries the estimate.
                    let last = self.insts[i]
                        .progress
                        .lock()
                        .ok()
                        .and_then(|mut p| p.take());
                    let r = &mut self.insts[i].row;
                    r.rows = out.rows.or(r.rows);
                    r.bytes = out.bytes.or(r.bytes);
                    r.total_estimate = last.and_then(|p| p.total_estimate).or(r.total_estimate);
                    if let Some(range) = &out.read {
                        self.ranges.push((i, range.clone()));
                    }
                    (Cause::AttemptSucceeded, None, None)
                }
                (Err(_), Some(StopReason::Requested)) => (
                    Cause::Cancel,
                    Some("cancelled on request".to_string()),
                    None,
                ),
                (Err(_), Some(StopReason::Shutdown)) => (
                    Cause::Cancel,
                    Some("cancelled: switchyard was stopped".to_string()),
                    None,
                ),
                (Err(f), None) => {
                    let def = def.as_ref();
                    let retries = def.and_then(|d| d.retries).unwrap_or(0) as i64;
                    let used = self.insts[i].row.attempt - self.insts[i].row.retry_base;
                    if f.retryable && used <= retries && !self.shutting_down {
                        let delay = backoff(def, used);
                        let at = now + delay.as_millis() as i64;
                        let r = &mut self.insts[i].row;
                        r.next_try_at = Some(at);
                        r.waiting_on = Some(format!(
                            "retry {}/{} at {}",
                            used + 1,
                            retries + 1,
                            local_hms(at)
                        ));
                        (
                            Cause::AttemptFailedWillRetry,
                            Some(f.message.clone()),
                            f.exit_code,
                        )
                    } else {
                        (
                            Cause::AttemptFailedFinal,
                            Some(f.message.clone()),
                            f.exit_code,
                        )
                    }
                }
            };
            // Every attempt's error passes here on its way to the store, its
            // events, `status` and the screen: never with a secret (a command's
            // last output line may echo one), nor longer than a log line.
            let error = error.map(|e| store::cap_log_line(&redact(&e)).into_owned());
            let to = self.set_state(i, cause, error.clone())?;
            self.finished_attempts
                .push((i, c.attempt, to_attempt_state(to), error, exit));
            if to == TaskState::Succeeded {
                self.upstream_done(i, dirty)?;
            } else if to.is_bad_end() {
                self.fail_downstream(i, dirty)?;
            }
        }
        Ok(())
    }

    /// `i` succeeded: its direct downstream may become ready.
    pub(super) fn upstream_done(&mut self, i: usize, dirty: &mut BTreeSet<usize>) -> Result<()> {
        let down: Vec<usize> = self.dag.downstream(i).to_vec();
        for d in down {
            self.insts[d].unmet = self.insts[d].unmet.saturating_sub(1);
            if self.insts[d].row.state != TaskState::Pending {
                continue;
            }
            if self.insts[d].unmet == 0 {
                self.make_ready(d, dirty)?;
            } else {
                let waiting: Vec<&str> = self
                    .dag
                    .upstream(d)
                    .iter()
                    .filter(|&&u| !self.insts[u].row.state.satisfies_downstream())
                    .map(|&u| self.dag.name(u))
                    .collect();
                self.insts[d].row.waiting_on = Some(waiting_on_text(&waiting));
                dirty.insert(d);
            }
        }
        Ok(())
    }

    /// `i` ended badly: everything pending downstream of it can never run.
    pub(super) fn fail_downstream(&mut self, i: usize, dirty: &mut BTreeSet<usize>) -> Result<()> {
        let name = self.dag.name(i).to_string();
        for d in self.dag.downstream_closure(&[i]) {
            if self.insts[d].row.state == TaskState::Pending {
                self.set_state(
                    d,
                    Cause::UpstreamFailed,
                    Some(format!("upstream `{name}` did not succeed")),
                )?;
                dirty.insert(d);
            }
        }
        Ok(())
    }

    pub(super) fn release_due_retries(
        &mut self,
        now: i64,
        dirty: &mut BTreeSet<usize>,
    ) -> Result<()> {
        let scan = if self.retrying > 0 {
            self.insts.len()
        } else {
            0
        };
        for i in 0..scan {
            let r = &self.insts[i].row;
            if r.state == TaskState::Retrying && r.next_try_at.is_none_or(|t| t <= now) {
                self.set_state(i, Cause::RetryDue, None)?;
                self.insts[i].row.queued_at = Some(now);
                self.insts[i].row.next_try_at = None;
                self.queued.insert(i);
                dirty.insert(i);
            }
        }
        // After a (re)build (a fresh run, a reset): start what is ready.
        // Later, instances become ready only through `upstream_done`.
        if std::mem::take(&mut self.scan_ready) {
            for i in 0..self.insts.len() {
                if self.insts[i].row.state == TaskState::Pending && self.insts[i].unmet == 0 {
                    self.make_ready(i, dirty)?;
                }
            }
        }
        Ok(())
    }

    /// Grants pool slots (counted in the store) and the run's parallel limit
    /// to queued instances, in run order. Returns the instances to start.
    pub(super) async fn grant_slots(
        &mut self,
        tx: &mut Tx,
        now: i64,
        dirty: &mut BTreeSet<usize>,
    ) -> Result<Vec<usize>> {
        let mut started = Vec::new();
        if self.shutting_down || self.queued.is_empty() {
            return Ok(started);
        }
        // Per pool: slots still free for this run in this step.
        let mut pools: HashMap<String, (i64, i64)> = HashMap::new();
        let max_unpooled = self.ws.max_parallel();
        let queued: Vec<usize> = self.queued.iter().copied().collect();
        for i in queued {
            let slots = self.insts[i].row.slots.max(1);
            let waiting = match self.insts[i].row.pool.clone() {
                Some(pool) => {
                    if !pools.contains_key(&pool) {
                        let oldest = self
                            .queued
                            .iter()
                            .filter(|&&q| self.insts[q].row.pool.as_deref() == Some(pool.as_str()))
                            .filter_map(|&q| self.insts[q].row.queued_at)
                            .min()
                            .unwrap_or(now);
                        let p = store::pool_slots(tx, &pool, self.run_id, oldest).await?;
                        pools.insert(pool.clone(), (p.size - p.used - p.owed, p.size));
                    }
                    let Some((free, size)) = pools.get_mut(&pool) else {
                        continue;
                    };
                    // A task wanting more slots than the pool has takes them
                    // all, and no more: its attempt is told how many it holds.
                    let want = slots.min((*size).max(1));
                    if want <= *free {
                        *free -= want;
                        self.insts[i].row.slots = want;
                        None
                    } else {
                        Some(InstanceRow::pool_wait(&pool))
                    }
                }
                None => {
                    if self.running_local_unpooled < max_unpooled {
                        self.running_local_unpooled += 1;
                        None
                    } else {
                        Some(format!("parallel limit {max_unpooled}"))
                    }
                }
            };
            match waiting {
                None => {
                    self.insts[i].row.attempt += 1;
                    self.set_state(i, Cause::SlotGranted, None)?;
                    self.queued.remove(&i);
                    let r = &mut self.insts[i].row;
                    r.started_at = Some(now);
                    r.finished_at = None;
                    r.waiting_on = None;
                    r.error = None;
                    r.rows = None;
                    r.bytes = None;
                    r.total_estimate = None;
                    dirty.insert(i);
                    started.push(i);
                }
                Some(w) => {
                    if self.insts[i].row.waiting_on.as_deref() != Some(&w) {
                        self.insts[i].row.waiting_on = Some(w);
                        dirty.insert(i);
                    }
                }
            }
        }
        Ok(started)
    }

    /// Progress is written at most once a second per task (latest wins).
    pub(super) fn write_progress(&mut self, now: i64, dirty: &mut BTreeSet<usize>) {
        // Only attempts in flight report progress.
        let in_flight: Vec<usize> = self.task_ids.values().map(|&(i, _)| i).collect();
        for i in in_flight {
            let inst = &mut self.insts[i];
            if inst.row.state != TaskState::Running || now - inst.progress_written_at < 1000 {
                continue;
            }
            let Some(p) = inst.progress.lock().ok().and_then(|mut p| p.take()) else {
                continue;
            };
            inst.row.rows = Some(p.rows);
            inst.row.bytes = Some(p.bytes);
            inst.row.total_estimate = p.total_estimate;
            inst.progress_written_at = now;
            dirty.insert(i);
            self.events.push(NewEvent::task(
                self.run_id,
                &inst.row.task_id,
                EventKind::Progress {
                    rows: p.rows,
                    bytes: p.bytes,
                    total_estimate: p.total_estimate,
                },
            ));
        }
    }
}

fn to_attempt_state(task: TaskState) -> TaskState {
    match task {
        TaskState::Retrying => TaskState::Failed,
        s => s,
    }
}

/// Exponential backoff: `retry_delay × 2^(n-1)`, capped by `max_retry_delay`.
fn backoff(def: Option<&TaskDef>, failed_attempts: i64) -> Duration {
    let base = def
        .and_then(|d| d.retry_delay.as_deref())
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(DEFAULT_RETRY_DELAY);
    let cap = def
        .and_then(|d| d.max_retry_delay.as_deref())
        .and_then(|s| parse_duration(s).ok())
        .unwrap_or(DEFAULT_MAX_RETRY_DELAY);
    let exp = (failed_attempts - 1).clamp(0, 20) as u32;
    base.saturating_mul(2u32.saturating_pow(exp))
        .min(cap.max(base))
}

pub fn waiting_on_text(names: &[&str]) -> String {
    match names.len() {
        0 => String::new(),
        1..=3 => format!("waiting on {}", names.join(", ")),
        n => format!("waiting on {}, {} and {} more", names[0], names[1], n - 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let def = TaskDef {
            retry_delay: Some("1s".into()),
            max_retry_delay: Some("5s".into()),
            ..TaskDef::default()
        };
        let d: Vec<u64> = (1..=5).map(|n| backoff(Some(&def), n).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 5, 5]);
        assert_eq!(backoff(None, 1), DEFAULT_RETRY_DELAY);
    }

    #[test]
    fn waiting_text_is_short() {
        assert_eq!(waiting_on_text(&["a"]), "waiting on a");
        assert_eq!(
            waiting_on_text(&["a", "b", "c", "d", "e"]),
            "waiting on a, b and 3 more"
        );
    }
}
