//! Reads a drawn graph back the way a person does (for tests): follow each
//! wire from a node's exit, straight through crossings, and collect the
//! nodes it enters.

use std::collections::{BTreeSet, HashMap};

use super::layout::{E, Layout, N, S, W};

/// A grid of the union of wire directions per cell.
pub fn grid(l: &Layout) -> HashMap<(u32, u32), u8> {
    let mut g = HashMap::new();
    for w in &l.wires {
        *g.entry((w.x, w.y)).or_insert(0) |= w.dirs;
    }
    g
}

pub fn node_at(l: &Layout, x: u32, y: u32) -> Option<usize> {
    l.nodes.iter().position(|p| p.contains(x, y))
}

/// The nodes the wires leaving `u` enter, read from the drawing; panics on a
/// wire that points at nothing or runs into another node's exit.
pub fn read_targets(l: &Layout, g: &HashMap<(u32, u32), u8>, u: usize) -> BTreeSet<usize> {
    let p = l.nodes[u];
    let mut out = BTreeSet::new();
    let start = (p.x + p.w, p.y);
    let Some(&d0) = g.get(&start) else {
        return out;
    };
    assert!(d0 & W != 0, "the wire at {start:?} does not reach node {u}");
    // (cell, the side we came in through)
    let mut stack = vec![(start, W)];
    let mut seen = BTreeSet::new();
    while let Some(((x, y), from)) = stack.pop() {
        if !seen.insert((x, y, from)) {
            continue;
        }
        let d = g[&(x, y)];
        let opposite = |s: u8| match s {
            N => S,
            S => N,
            E => W,
            _ => E,
        };
        let exits: Vec<u8> = if d == N | E | S | W {
            vec![opposite(from)]
        } else {
            [N, E, S, W]
                .into_iter()
                .filter(|&s| s != from && d & s != 0)
                .collect()
        };
        for s in exits {
            let (nx, ny) = match s {
                N => (x, y.wrapping_sub(1)),
                S => (x, y + 1),
                E => (x + 1, y),
                _ => (x.wrapping_sub(1), y),
            };
            if let Some(v) = node_at(l, nx, ny) {
                match s {
                    E if nx == l.nodes[v].x => {
                        out.insert(v);
                    }
                    W if v == u && ny == p.y => {}
                    _ => panic!("a wire of node {u} runs into node {v} at ({nx},{ny})"),
                }
                continue;
            }
            let nd = g.get(&(nx, ny)).copied().unwrap_or(0);
            assert!(
                nd & opposite(s) != 0,
                "a wire of node {u} at ({x},{y}) points at nothing ({nx},{ny})"
            );
            stack.push(((nx, ny), opposite(s)));
        }
    }
    out
}
