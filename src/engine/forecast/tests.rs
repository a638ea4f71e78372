use std::collections::HashMap;

use super::*;
use crate::engine::history::{Basis, Estimate, Estimates};

const M: i64 = 60_000;

fn node(id: &str, up: &[usize], pool: Option<&str>, slots: i64, mins: i64) -> Node {
    Node {
        id: id.into(),
        upstream: up.to_vec(),
        pool: pool.map(str::to_string),
        slots,
        work: Work::Waiting { not_before: None },
        estimate: Estimate {
            ms: mins * M,
            basis: Basis::History,
        },
    }
}

fn plan(nodes: Vec<Node>, pools: &[(&str, i64)]) -> Plan {
    Plan {
        nodes,
        pools: pools.iter().map(|(p, s)| (p.to_string(), *s)).collect(),
        max_parallel: 16,
        busy: Vec::new(),
        not_before: 0,
    }
}

/// Three 10-minute exports on a replica pool of 2, then a 5-minute rollup:
/// two exports run 0–10, the third 10–20, the rollup 20–25.
fn three_exports() -> Plan {
    plan(
        vec![
            node("export_a", &[], Some("replica"), 1, 10),
            node("export_b", &[], Some("replica"), 1, 10),
            node("export_c", &[], Some("replica"), 1, 10),
            node("rollup", &[0, 1, 2], None, 1, 5),
        ],
        &[("replica", 2)],
    )
}

#[test]
fn the_projection_is_the_hand_computed_finish() {
    let p = project(&three_exports(), 0);
    assert_eq!(p.finish_at, Some(25 * M));
    assert_eq!(p.start, vec![Some(0), Some(0), Some(10 * M), Some(20 * M)]);
    assert_eq!(p.finish[3], Some(25 * M));
    // export_c waited for a slot that export_a freed (the first finisher
    // handled at 10m), and the rollup for export_c.
    assert_eq!(p.critical_path.last(), Some(&3));
    assert_eq!(p.critical_path[p.critical_path.len() - 2], 2);
    assert_eq!(p.critical_path.len(), 3);
    assert!(p.unfinished.is_empty());
}

#[test]
fn one_more_slot_moves_the_finish_by_the_expected_amount() {
    let base = three_exports();
    let more = project(&base.with_one_more("replica"), 0);
    // All three exports at once: 0–10, rollup 10–15.
    assert_eq!(more.finish_at, Some(15 * M));
    assert_eq!(more.critical_path.len(), 2);
    // A pool the run does not use changes nothing.
    assert_eq!(
        project(&base.with_one_more("other"), 0).finish_at,
        Some(25 * M)
    );
}

#[test]
fn running_done_and_retrying_instances_count_from_now() {
    let mut p = three_exports();
    p.nodes[0].work = Work::Done { at: 3 * M };
    // Started 8 minutes ago at a 10-minute estimate: 2 minutes left.
    p.nodes[1].work = Work::Running { started_at: -8 * M };
    // Retrying, not before 4 minutes from now; a slot is free then.
    p.nodes[2].work = Work::Waiting {
        not_before: Some(4 * M),
    };
    let r = project(&p, 0);
    assert_eq!(r.start[2], Some(4 * M));
    assert_eq!(r.finish_at, Some(19 * M));
    // A running instance past its estimate could end any moment: now.
    p.nodes[1].work = Work::Running {
        started_at: -30 * M,
    };
    assert_eq!(project(&p, 0).finish[1], Some(0));
}

#[test]
fn a_blocked_instance_leaves_its_downstream_unfinished() {
    let mut p = three_exports();
    p.nodes[1].work = Work::Blocked;
    let r = project(&p, 0);
    assert_eq!(r.finish_at, None);
    assert_eq!(r.unfinished, vec![1, 3]);
}

#[test]
fn a_task_wanting_more_slots_than_the_pool_takes_all_of_it() {
    // big wants 3 of 2: it takes both, so small waits for it.
    let p = plan(
        vec![
            node("big", &[], Some("replica"), 3, 10),
            node("small", &[], Some("replica"), 1, 1),
        ],
        &[("replica", 2)],
    );
    let r = project(&p, 0);
    assert_eq!(r.start, vec![Some(0), Some(10 * M)]);
    assert_eq!(r.finish_at, Some(11 * M));
}

#[test]
fn a_later_instance_goes_ahead_of_one_waiting_for_more_slots() {
    // One slot of two is held by another run until 5m: big (2 slots) must
    // wait for it, small (1 slot) goes ahead at once, as the scheduler does.
    let mut p = plan(
        vec![
            node("big", &[], Some("replica"), 2, 10),
            node("small", &[], Some("replica"), 1, 3),
        ],
        &[("replica", 2)],
    );
    p.busy.push(Busy {
        pool: "replica".into(),
        slots: 1,
        until: 5 * M,
    });
    let r = project(&p, 0);
    assert_eq!(r.start, vec![Some(5 * M), Some(0)]);
    assert_eq!(r.finish_at, Some(15 * M));
}

#[test]
fn unpooled_tasks_keep_to_the_parallel_limit() {
    let mut p = plan(
        vec![
            node("a", &[], None, 1, 10),
            node("b", &[], None, 1, 10),
            node("c", &[], None, 1, 10),
        ],
        &[],
    );
    p.max_parallel = 2;
    assert_eq!(project(&p, 0).finish_at, Some(20 * M));
    p.max_parallel = 3;
    assert_eq!(project(&p, 0).finish_at, Some(10 * M));
}

#[test]
fn nothing_starts_before_the_slot() {
    let mut p = three_exports();
    p.not_before = 60 * M;
    assert_eq!(project(&p, 0).finish_at, Some(85 * M));
}

fn row(id: &str, kind: &str, up: &[&str], ord: i64) -> InstanceRow {
    InstanceRow {
        run_id: 1,
        task_id: id.into(),
        kind: kind.into(),
        state: TaskState::Pending,
        attempt: 0,
        retry_base: 0,
        pool: None,
        slots: 1,
        upstream: up.iter().map(|s| s.to_string()).collect(),
        ord,
        rows: None,
        bytes: None,
        total_estimate: None,
        error: None,
        waiting_on: None,
        next_try_at: None,
        started_at: None,
        finished_at: None,
        updated_at: 0,
        cancel_requested: false,
        params: None,
        queued_at: None,
    }
}

#[test]
fn a_plan_from_rows_uses_history_the_kind_median_and_the_rate() {
    let est = Estimates::from_parts(
        [("export_orders".to_string(), 10 * M)],
        [("export".to_string(), 4 * M), ("sql".to_string(), 2 * M)],
    );
    let mut export = row("export_orders", "export", &[], 0);
    export.state = TaskState::Running;
    export.started_at = Some(-2 * M);
    // A quarter done in 2 minutes: 6 minutes left, whatever history says.
    export.rows = Some(250);
    export.total_estimate = Some(1000);
    let other = row("export_users", "export", &[], 1);
    let rollup = row("rollup", "sql", &["export_orders", "export_users"], 2);
    let p = Plan::for_run(&[rollup, other, export], &est, 0);
    assert_eq!(p.nodes[0].id, "export_orders");
    assert_eq!(p.nodes[0].estimate.ms, 8 * M);
    assert_eq!(p.nodes[1].estimate.basis, Basis::KindMedian);
    assert_eq!(p.nodes[2].upstream, vec![0, 1]);
    assert_eq!(p.guessed(), vec![1, 2]);
    let r = project(&p, 0);
    assert_eq!(r.finish_at, Some(8 * M));
    assert_eq!(p.path_text(&r.critical_path), "export_orders → rollup");
    let unknown = Estimates::from_parts([], HashMap::<String, i64>::new());
    assert_eq!(unknown.for_task("x", "command").basis, Basis::Unknown);
}
