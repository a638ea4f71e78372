//! The layout is checked by reading the drawing back the way a person does:
//! follow each wire from a node's exit, straight through crossings, and
//! collect the nodes it enters. That set must be exactly the node's
//! downstream, for every node of many graphs.

use std::collections::BTreeSet;

use super::*;

use super::super::read::{grid, node_at, read_targets};

/// Every property the console relies on, for one graph.
fn check(widths: &[u32], edges: &[(usize, usize)]) -> Layout {
    let l = layout(widths, edges);
    assert_eq!(l.nodes.len(), widths.len());
    // No two nodes overlap, no wire runs through a node.
    for (i, a) in l.nodes.iter().enumerate() {
        for b in &l.nodes[i + 1..] {
            let apart =
                a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
            assert!(apart, "nodes overlap: {a:?} {b:?}");
        }
        assert!(
            a.x + a.w <= l.width && a.y + a.h <= l.height,
            "{a:?} outside"
        );
    }
    for w in &l.wires {
        assert!(node_at(&l, w.x, w.y).is_none(), "wire {w:?} inside a node");
        assert!(w.x < l.width && w.y < l.height, "wire {w:?} outside");
    }
    // Columns: every edge goes right; each column lists its nodes top down.
    for &(u, v) in edges {
        assert!(
            l.nodes[u].layer < l.nodes[v].layer,
            "edge {u}->{v} not rightwards"
        );
    }
    for col in &l.layers {
        for pair in col.windows(2) {
            assert!(l.nodes[pair[0]].y < l.nodes[pair[1]].y);
        }
    }
    // Read back: each node's wires enter exactly its downstream nodes.
    let g = grid(&l);
    for u in 0..widths.len() {
        let want: BTreeSet<usize> = edges
            .iter()
            .filter(|e| e.0 == u && e.1 != u)
            .map(|e| e.1)
            .collect();
        assert_eq!(read_targets(&l, &g, u), want, "edges of node {u}");
    }
    l
}

/// Deterministic pseudo-random numbers (no dependency for tests).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn random_dag(seed: u64, n: usize, p_in_100: usize) -> (Vec<u32>, Vec<(usize, usize)>) {
    let mut r = Lcg(seed);
    let widths = (0..n).map(|_| 4 + r.next(20) as u32).collect();
    let mut edges = Vec::new();
    for v in 1..n {
        for u in 0..v {
            if r.next(100) < p_in_100 {
                edges.push((u, v));
            }
        }
    }
    (widths, edges)
}

#[test]
fn small_shapes_read_back_exactly() {
    // A chain is straight: one row.
    let l = check(&[5, 5, 5], &[(0, 1), (1, 2)]);
    assert!(l.nodes.iter().all(|p| p.y == 0), "{:?}", l.nodes);
    // Diamond, fan-out, fan-in, complete bipartite, an edge skipping columns.
    check(&[3, 3, 3, 3], &[(0, 1), (0, 2), (1, 3), (2, 3)]);
    check(&[4; 6], &[(0, 1), (0, 2), (0, 3), (0, 4), (0, 5)]);
    check(&[4; 6], &[(1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]);
    check(
        &[2; 6],
        &[
            (0, 3),
            (0, 4),
            (0, 5),
            (1, 3),
            (1, 4),
            (1, 5),
            (2, 3),
            (2, 4),
            (2, 5),
        ],
    );
    check(&[6; 5], &[(0, 1), (1, 2), (2, 3), (0, 3), (0, 4), (4, 3)]);
    // A node with upstreams above and below and a straight one.
    check(&[3; 5], &[(0, 3), (1, 3), (2, 3), (1, 4)]);
}

#[test]
fn random_dags_read_back_exactly() {
    for seed in 0..300 {
        let n = 5 + (seed as usize * 7) % 40;
        let p = [4, 10, 25][seed as usize % 3];
        let (w, e) = random_dag(seed, n, p);
        check(&w, &e);
    }
}

#[test]
fn duplicates_self_loops_unknown_nodes_and_cycles_do_not_break_it() {
    let l = layout(
        &[3, 3, 3],
        &[(0, 1), (0, 1), (1, 1), (1, 9), (1, 2), (2, 0)],
    );
    assert_eq!(l.nodes.len(), 3);
    assert!(layout(&[], &[]).nodes.is_empty());
    assert_eq!(glyph(N | E | S | W), "┼");
    assert_eq!(glyph(W | S), "┐");
}

/// An export_all of 500 tables, a load per table after its export, and a
/// check after every load: 1,002 nodes.
fn fan_out(n: usize) -> (Vec<u32>, Vec<(usize, usize)>) {
    let mut widths = vec![10];
    let mut edges = Vec::new();
    for i in 0..n {
        widths.push(24);
        widths.push(24);
        let (e, l) = (1 + 2 * i, 2 + 2 * i);
        edges.push((0, e));
        edges.push((e, l));
    }
    let check = widths.len();
    widths.push(12);
    for i in 0..n {
        edges.push((2 + 2 * i, check));
    }
    (widths, edges)
}

#[test]
fn a_thousand_node_fan_out_lays_out_and_reads_back() {
    let (w, e) = fan_out(500);
    let l = layout(&w, &e);
    assert_eq!(l.layers.len(), 4);
    // Spot-check the reading on a smaller copy (the reader is quadratic).
    let (w, e) = fan_out(40);
    check(&w, &e);
    assert!(l.height >= 500);
}
