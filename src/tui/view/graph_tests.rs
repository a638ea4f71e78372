//! Snapshots of the graph screen, and a check that reads the 40-node DAG
//! back from the drawn screen: every edge is there, and nothing else.

use std::collections::{BTreeSet, HashMap};

use ratatui::layout::Position;
use serde_json::json;

use super::super::fixtures::{NOW, keys, run, task, theme};
use super::super::{render_buffer, render_to_string};
use crate::engine::state::{RunState, TaskState};
use crate::engine::store::InstanceRow;
use crate::tui::State;
use crate::tui::graph::layout::{E, Layout, N, S, W};
use crate::tui::graph::{self, read};
use crate::tui::state::Screen;

fn both(name: &str, s: &State) {
    let mut s = s.clone();
    for (w, h) in [(80, 24), (160, 48)] {
        s.size = (w, h);
        insta::assert_snapshot!(
            format!("{name}_{w}x{h}"),
            render_to_string(&s, &theme(), &keys(), w, h)
        );
    }
}

fn after(mut t: InstanceRow, up: &[&str]) -> InstanceRow {
    t.upstream = up.iter().map(|u| u.to_string()).collect();
    t
}

/// A 40-task warehouse pipeline mid-incident: exports, loads, models,
/// checks and reports, with fan-in, fan-out and edges that skip columns.
pub fn forty() -> State {
    use TaskState::*;
    let mut s = State::new("acme-data", false, "default", NOW);
    s.runs = vec![run(42, "warehouse", "2024-05-01", RunState::Running)];
    let tables = [
        "users", "orders", "items", "pay", "ship", "stock", "promo", "refund",
    ];
    let mut tasks = Vec::new();
    let mut ord = 0;
    let mut add = |id: &str, st: TaskState, up: &[&str], tasks: &mut Vec<InstanceRow>| {
        ord += 1;
        tasks.push(after(task(42, id, st, ord), up));
    };
    for t in tables {
        add(&format!("x_{t}"), Succeeded, &[], &mut tasks);
    }
    for t in tables {
        let st = if t == "pay" { Failed } else { Succeeded };
        add(&format!("l_{t}"), st, &[&format!("x_{t}")], &mut tasks);
    }
    let models: [(&str, TaskState, &[&str]); 8] = [
        ("m_cust", Succeeded, &["l_users", "l_orders"]),
        ("m_sales", UpstreamFailed, &["l_orders", "l_items", "l_pay"]),
        ("m_ship", Running, &["l_ship", "l_orders"]),
        ("m_stock", Succeeded, &["l_stock", "l_items"]),
        ("m_promo", Succeeded, &["l_promo"]),
        ("m_refund", UpstreamFailed, &["l_refund", "l_pay"]),
        ("m_ltv", Pending, &["m_cust", "l_pay"]),
        (
            "m_margin",
            UpstreamFailed,
            &["m_sales", "m_stock", "m_promo"],
        ),
    ];
    for (id, st, up) in models {
        add(id, st, up, &mut tasks);
    }
    let checks: [(&str, TaskState, &[&str]); 8] = [
        ("c_cust", Succeeded, &["m_cust"]),
        ("c_sales", UpstreamFailed, &["m_sales"]),
        ("c_ship", Pending, &["m_ship"]),
        ("c_stock", Succeeded, &["m_stock"]),
        ("c_rows", Succeeded, &["l_users", "x_users"]),
        ("c_refund", UpstreamFailed, &["m_refund"]),
        ("c_ltv", Pending, &["m_ltv"]),
        ("c_margin", UpstreamFailed, &["m_margin"]),
    ];
    for (id, st, up) in checks {
        add(id, st, up, &mut tasks);
    }
    let reports: [(&str, TaskState, &[&str]); 8] = [
        ("r_daily", UpstreamFailed, &["c_sales", "c_cust", "c_stock"]),
        ("r_ops", Pending, &["c_ship", "c_stock"]),
        (
            "r_fin",
            UpstreamFailed,
            &["c_refund", "c_margin", "c_sales"],
        ),
        ("r_crm", Pending, &["c_ltv", "c_cust"]),
        ("publish", UpstreamFailed, &["r_daily", "r_fin"]),
        ("notify", Pending, &["r_ops", "r_crm"]),
        ("archive", Queued, &["c_rows"]),
        ("done", UpstreamFailed, &["publish", "notify", "archive"]),
    ];
    for (id, st, up) in reports {
        add(id, st, up, &mut tasks);
    }
    assert_eq!(tasks.len(), 40);
    crate::tui::state::order_tasks(&mut tasks);
    s.tasks = tasks;
    s.tasks_of = Some(42);
    s.screen = Screen::Graph;
    // The cursor on the failed load, as on-call opens the screen.
    s.task_cursor = s
        .tasks
        .iter()
        .position(|t| t.task_id == "l_pay")
        .unwrap_or(0);
    s
}

/// Wire directions of a drawn box-drawing glyph.
fn dirs_of(sym: &str) -> u8 {
    match sym {
        "│" => N | S,
        "─" => E | W,
        "┌" => S | E,
        "┐" => S | W,
        "└" => N | E,
        "┘" => N | W,
        "├" => N | S | E,
        "┤" => N | S | W,
        "┬" => E | W | S,
        "┴" => E | W | N,
        "┼" => N | E | S | W,
        _ => 0,
    }
}

#[test]
fn forty_tasks_every_edge_visible_and_read_back_from_the_screen() {
    let s = forty();
    both("graph_forty", &s);
    let g = graph::build(&s.tasks, &s.graph.expanded);
    assert_eq!(g.nodes.len(), 40);
    // At 160×48 the whole picture fits: the view shows it from the origin.
    let (inner_w, inner_h) = (158, 44);
    assert!(
        g.layout.width <= inner_w && g.layout.height <= inner_h,
        "{}×{} does not fit",
        g.layout.width,
        g.layout.height
    );
    let buf = render_buffer(&s, &theme(), &keys(), 160, 48);
    // The canvas starts inside the pane's border, under the header.
    let (ox, oy) = (1u32, 2u32);
    let mut wires = HashMap::new();
    for y in 0..g.layout.height {
        for x in 0..g.layout.width {
            let sym = buf[Position::new((x + ox) as u16, (y + oy) as u16)].symbol();
            let inside = g.layout.nodes.iter().any(|p| p.contains(x, y));
            if !inside && dirs_of(sym) != 0 {
                wires.insert((x, y), dirs_of(sym));
            }
        }
    }
    // Each node's label is on screen where the layout put it.
    for (i, n) in g.nodes.iter().enumerate() {
        let p = g.layout.nodes[i];
        let first = buf[Position::new((p.x + ox) as u16, (p.y + oy) as u16)].symbol();
        assert_eq!(first, "[", "node {i} not drawn at its place");
        assert!(
            n.label
                .iter()
                .any(|(t, _)| t.contains(&s.tasks[n.members[0]].task_id))
        );
    }
    let screen = Layout {
        nodes: g.layout.nodes.clone(),
        ..Layout::default()
    };
    for u in 0..g.nodes.len() {
        let want: BTreeSet<usize> = g.edges.iter().filter(|e| e.0 == u).map(|e| e.1).collect();
        assert_eq!(read::read_targets(&screen, &wires, u), want, "node {u}");
    }
    // Every dependency of the run is one of those edges.
    let deps: usize = s.tasks.iter().map(|t| t.upstream.len()).sum();
    assert_eq!(g.edges.len(), deps);
}

/// `extract` over 42 tables (2 failed), a load per table, a check after all.
pub fn fan_out() -> State {
    let mut s = State::new("acme-data", false, "default", NOW);
    s.runs = vec![run(7, "nightly", "2024-05-01", RunState::Failed)];
    let mut tasks = Vec::new();
    let mut loads = Vec::new();
    for i in 0..42 {
        let table = format!("main.table_{i:02}");
        let failed = i == 7 || i == 30;
        let mut x = task(
            7,
            &format!("extract.{table}"),
            if failed {
                TaskState::Failed
            } else {
                TaskState::Succeeded
            },
            i,
        );
        x.params = Some(json!({"parent": "extract", "schema": "main", "table": table}));
        let mut l = after(
            task(
                7,
                &format!("load_raw.{table}"),
                if failed {
                    TaskState::UpstreamFailed
                } else {
                    TaskState::Succeeded
                },
                100 + i,
            ),
            &[&x.task_id],
        );
        l.params = Some(json!({"parent": "load_raw"}));
        loads.push(l.task_id.clone());
        tasks.push(x);
        tasks.push(l);
    }
    let refs: Vec<&str> = loads.iter().map(String::as_str).collect();
    tasks.push(after(
        task(7, "rows_match", TaskState::UpstreamFailed, 200),
        &refs,
    ));
    tasks.push(after(
        task(7, "report", TaskState::UpstreamFailed, 201),
        &["rows_match"],
    ));
    crate::tui::state::order_tasks(&mut tasks);
    s.tasks = tasks;
    s.tasks_of = Some(7);
    s.screen = Screen::Graph;
    s
}

#[test]
fn an_export_all_fan_out_folds_into_one_node_with_counts_and_unfolds() {
    let mut s = fan_out();
    let text = render_to_string(&s, &theme(), &keys(), 80, 24);
    assert!(text.contains("[+ extract ×42 ✗2 ✓40]"), "{text}");
    assert!(text.contains("[+ load_raw ×42 ⊘2 ✓40]"), "{text}");
    both("graph_fan_out_folded", &s);
    s.graph.expanded.insert("extract".into());
    s.graph.expanded.insert("load_raw".into());
    let text = render_to_string(&s, &theme(), &keys(), 160, 48);
    assert!(text.contains("extract.main.table_07"), "{text}");
    assert!(!text.contains("×42"), "{text}");
    both("graph_fan_out_unfolded", &s);
    let g = graph::build(&s.tasks, &s.graph.expanded);
    assert_eq!(g.nodes.len(), 86);
}

#[test]
fn empty_and_tiny_graph_screens_draw() {
    let mut s = State::new("acme-data", false, "default", NOW);
    s.screen = Screen::Graph;
    let text = render_to_string(&s, &theme(), &keys(), 80, 24);
    assert!(text.contains("No run selected"), "{text}");
    let s = forty();
    for (w, h) in [(1, 1), (20, 5), (39, 12), (300, 100), (5, 30)] {
        render_to_string(&s, &theme(), &keys(), w, h);
    }
}

#[test]
fn a_click_on_a_node_selects_its_task() {
    use super::super::{Hit, hit_test};
    let mut s = forty();
    for (w, h) in [(160u16, 48u16), (80, 24)] {
        s.size = (w, h);
        let buf = render_buffer(&s, &theme(), &keys(), w, h);
        // Find "c_cust" on screen wherever the view panned to.
        let at = (0..h).find_map(|y| {
            let row: String = (0..w).map(|x| buf[Position::new(x, y)].symbol()).collect();
            row.find("c_cust]")
                .map(|i| (row[..i].chars().count() as u16, y))
        });
        if let Some((x, y)) = at {
            let want = s.tasks.iter().position(|t| t.task_id == "c_cust");
            assert_eq!(hit_test(&s, x, y), want.map(Hit::Task), "{w}x{h}");
        } else {
            assert_eq!(w, 80, "c_cust must be on the 160x48 screen");
        }
        // The header, the border and empty canvas are no node.
        assert_eq!(hit_test(&s, 5, 0), None);
        assert_eq!(hit_test(&s, 0, 5), None);
        assert_eq!(hit_test(&s, w - 3, h - 4), None);
    }
}
