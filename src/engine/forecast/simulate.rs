//! The forecast's simulation: the remaining work of one run, scheduled
//! through its DAG with the rules the scheduler applies
//! (`scheduler/lifecycle.rs`, `grant_slots`): instances are granted in run
//! order; a pooled one takes `min(slots, pool size)` slots when that many
//! are free, and a later instance may go ahead of one that waits; an
//! unpooled one needs a place under the run's parallel limit. Time moves
//! from one finish to the next (a discrete-event simulation), so a
//! 1,000-task DAG costs a few thousand steps, not a clock tick each.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use super::{Node, Plan, Projection, Work};

/// Where each instance stands during the simulation.
#[derive(Clone, Copy, PartialEq)]
enum Sim {
    /// Not startable yet: upstream not done, or blocked for good.
    Waiting,
    /// Upstream done, in line for a slot (from this time on).
    Ready(i64),
    Running,
    Done,
}

/// Why an instance started when it did: the one whose finish let it go
/// (its last upstream, or the holder of the slot it waited for).
type Gate = Option<usize>;

pub fn project(plan: &Plan, now: i64) -> Projection {
    let n = plan.nodes.len();
    let mut sim = vec![Sim::Waiting; n];
    let mut start = vec![None; n];
    let mut finish: Vec<Option<i64>> = vec![None; n];
    let mut gate: Vec<Gate> = vec![None; n];
    let mut downstream: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut missing: Vec<usize> = vec![0; n];
    for (i, node) in plan.nodes.iter().enumerate() {
        for &u in &node.upstream {
            downstream[u].push(i);
        }
        missing[i] = node.upstream.len();
    }
    let mut free: HashMap<&str, i64> = plan
        .pools
        .iter()
        .map(|(name, &size)| (name.as_str(), size))
        .collect();
    let mut unpooled_running = 0i64;
    // (time, kind, index): finishes (0) before releases (1) at one moment,
    // so a slot freed at t is seen by everything that becomes ready at t.
    let mut events: BinaryHeap<Reverse<(i64, u8, usize)>> = BinaryHeap::new();
    let mut ready: BTreeSet<usize> = BTreeSet::new();
    // Slots held by other runs' attempts, given back when they are expected to end.
    let mut busy_back: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    for (b, busy) in plan.busy.iter().enumerate() {
        if let Some(f) = free.get_mut(busy.pool.as_str()) {
            *f -= busy.slots;
            busy_back.push(Reverse((busy.until.max(now), b)));
        }
    }

    let held = |node: &Node, pools: &HashMap<String, i64>| -> i64 {
        match &node.pool {
            Some(p) => node
                .slots
                .max(1)
                .min(pools.get(p).copied().unwrap_or(0).max(1)),
            None => 0,
        }
    };
    for (i, node) in plan.nodes.iter().enumerate() {
        match node.work {
            Work::Done { at } => {
                sim[i] = Sim::Done;
                finish[i] = Some(at.min(now));
            }
            Work::Running { started_at } => {
                sim[i] = Sim::Running;
                start[i] = Some(started_at);
                let f = (started_at + node.estimate.ms).max(now);
                finish[i] = Some(f);
                events.push(Reverse((f, 0, i)));
                match &node.pool {
                    Some(p) => {
                        if let Some(x) = free.get_mut(p.as_str()) {
                            *x -= held(node, &plan.pools);
                        }
                    }
                    None => unpooled_running += 1,
                }
            }
            Work::Waiting { .. } | Work::Blocked => {}
        }
    }
    // What done instances make startable, now.
    for i in 0..n {
        if sim[i] == Sim::Done {
            for &d in &downstream[i] {
                missing[d] -= 1;
            }
        }
    }
    let start_at = plan.not_before.max(now);
    for i in 0..n {
        if sim[i] == Sim::Waiting && missing[i] == 0 {
            release(plan, i, start_at, &mut sim, &mut ready, &mut events);
            if let Sim::Ready(_) = sim[i] {
                gate[i] = latest_upstream(&plan.nodes[i], &finish);
            }
        }
    }

    let mut t = start_at;
    // The instance whose finish was handled last at `t` (who freed a slot).
    let mut last_finished: Option<usize> = None;
    loop {
        // Grant, in run order.
        let candidates: Vec<usize> = ready.iter().copied().collect();
        for i in candidates {
            let node = &plan.nodes[i];
            let granted = match &node.pool {
                Some(p) => {
                    let want = held(node, &plan.pools);
                    match free.get_mut(p.as_str()) {
                        Some(f) if *f >= want => {
                            *f -= want;
                            true
                        }
                        _ => false,
                    }
                }
                None => {
                    if unpooled_running < plan.max_parallel {
                        unpooled_running += 1;
                        true
                    } else {
                        false
                    }
                }
            };
            if !granted {
                continue;
            }
            ready.remove(&i);
            if let Sim::Ready(since) = sim[i]
                && t > since
            {
                gate[i] = last_finished.or(gate[i]);
            }
            sim[i] = Sim::Running;
            start[i] = Some(t);
            let f = t + node.estimate.ms.max(0);
            finish[i] = Some(f);
            events.push(Reverse((f, 0, i)));
        }
        // The next moment anything happens.
        let next_event = events.peek().map(|Reverse((at, _, _))| *at);
        let next_back = busy_back.peek().map(|Reverse((at, _))| *at);
        let Some(next) = [next_event, next_back].into_iter().flatten().min() else {
            break;
        };
        t = next;
        while let Some(&Reverse((at, b))) = busy_back.peek() {
            if at > t {
                break;
            }
            busy_back.pop();
            let busy = &plan.busy[b];
            if let Some(f) = free.get_mut(busy.pool.as_str()) {
                *f += busy.slots;
            }
        }
        while let Some(&Reverse((at, what, i))) = events.peek() {
            if at > t {
                break;
            }
            events.pop();
            if what == 1 {
                sim[i] = Sim::Ready(t);
                ready.insert(i);
                continue;
            }
            sim[i] = Sim::Done;
            last_finished = Some(i);
            let node = &plan.nodes[i];
            match &node.pool {
                Some(p) => {
                    if let Some(f) = free.get_mut(p.as_str()) {
                        *f += held(node, &plan.pools);
                    }
                }
                None => unpooled_running -= 1,
            }
            for &d in &downstream[i] {
                missing[d] -= 1;
                if missing[d] == 0 && sim[d] == Sim::Waiting {
                    gate[d] = Some(i);
                    release(plan, d, t, &mut sim, &mut ready, &mut events);
                }
            }
        }
    }

    let unfinished: Vec<usize> = (0..n).filter(|&i| sim[i] != Sim::Done).collect();
    let finish_at = if unfinished.is_empty() {
        Some(finish.iter().flatten().copied().max().unwrap_or(start_at))
    } else {
        None
    };
    let last = (0..n)
        .filter(|&i| !matches!(plan.nodes[i].work, Work::Done { .. }))
        .filter_map(|i| finish[i].map(|f| (f, i)))
        .max();
    let mut critical_path = Vec::new();
    let mut at = last.map(|(_, i)| i);
    while let Some(i) = at {
        if critical_path.contains(&i) || matches!(plan.nodes[i].work, Work::Done { .. }) {
            break;
        }
        critical_path.push(i);
        at = gate[i];
    }
    critical_path.reverse();
    Projection {
        finish_at,
        start,
        finish,
        critical_path,
        unfinished,
    }
}

/// The upstream that finished last (what a ready instance waited on).
fn latest_upstream(node: &Node, finish: &[Option<i64>]) -> Gate {
    node.upstream
        .iter()
        .filter_map(|&u| finish[u].map(|f| (f, u)))
        .max()
        .map(|(_, u)| u)
}

/// An instance whose upstream is done joins the line, or waits for its
/// retry time (`not_before`).
fn release(
    plan: &Plan,
    i: usize,
    t: i64,
    sim: &mut [Sim],
    ready: &mut BTreeSet<usize>,
    events: &mut BinaryHeap<Reverse<(i64, u8, usize)>>,
) {
    if let Work::Waiting { not_before } = plan.nodes[i].work {
        match not_before {
            Some(nb) if nb > t => events.push(Reverse((nb, 1, i))),
            _ => {
                sim[i] = Sim::Ready(t);
                ready.insert(i);
            }
        }
    }
}
