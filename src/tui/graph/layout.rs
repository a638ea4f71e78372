//! A layered layout of a DAG on a character grid, as a pure function: nodes
//! in columns (layers, upstream on the left), edges drawn with box-drawing
//! wires in the channels between columns.
//!
//! - Layering: longest path from the roots, so a node sits one column right
//!   of its furthest upstream. An edge spanning several columns passes
//!   through each with a dummy (a row of wire), so every edge is drawn.
//! - Order within a column: barycenter sweeps (down and up, a few rounds) to
//!   reduce crossings.
//! - Rows: each column top to bottom, a node on the row of its first
//!   upstream's exit where it can (a straight edge), else lower. A node
//!   keeps a row per downstream edge free below it, where its targets can
//!   sit without a long detour.
//! - Routing: each upstream node has one exit row and one net in the channel
//!   to its right (a tree: exit stub, a vertical track, one stub per target).
//!   Every edge enters its target on a row of its own (a node with several
//!   inputs is as tall as it has inputs). A target enters on a row another
//!   node of the column before exits on only when that node's wire can end
//!   left of the target's track (an order of tracks kept acyclic). So two
//!   nets only ever meet at right angles, both passing straight through
//!   (`┼`): the drawing reads back as exactly the edges given (see `read`).

use std::collections::HashMap;

use super::route::{Channel, reaches, route_channel};

/// Wire directions of a cell; a cell's glyph is the union of its wires.
pub const N: u8 = 1;
pub const E: u8 = 2;
pub const S: u8 = 4;
pub const W: u8 = 8;

/// How many down-and-up barycenter rounds: past a few the order rarely improves.
const SWEEPS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub layer: usize,
    pub x: u32,
    pub y: u32,
    /// Width of the label; the node's column may be wider.
    pub w: u32,
    /// Rows: one per input edge (at least one).
    pub h: u32,
}

impl Placed {
    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && x < self.x + self.w && y >= self.y && y < self.y + self.h
    }
}

/// One cell of wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    pub x: u32,
    pub y: u32,
    pub dirs: u8,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Per input node, in input order.
    pub nodes: Vec<Placed>,
    /// The input nodes of each column, top to bottom.
    pub layers: Vec<Vec<usize>>,
    /// Wire cells; a cell may appear more than once (union the directions).
    pub wires: Vec<Wire>,
    pub width: u32,
    pub height: u32,
}

/// The box-drawing glyph of a union of wire directions.
pub fn glyph(dirs: u8) -> &'static str {
    match dirs & (N | E | S | W) {
        0 => " ",
        d if d == N | S || d == N || d == S => "│",
        d if d == E | W || d == E || d == W => "─",
        d if d == S | E => "┌",
        d if d == S | W => "┐",
        d if d == N | E => "└",
        d if d == N | W => "┘",
        d if d == N | S | E => "├",
        d if d == N | S | W => "┤",
        d if d == E | W | S => "┬",
        d if d == E | W | N => "┴",
        _ => "┼",
    }
}

/// Lays out nodes of the given label widths with `edges` (upstream,
/// downstream). Unknown indices and self-loops are ignored; should the input
/// have a cycle, the edges closing it are left out rather than looping.
pub fn layout(widths: &[u32], edges: &[(usize, usize)]) -> Layout {
    let n = widths.len();
    if n == 0 {
        return Layout::default();
    }
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    let mut seen = std::collections::HashSet::new();
    for &(u, v) in edges {
        if u < n && v < n && u != v && seen.insert((u, v)) {
            succ[u].push(v);
            indeg[v] += 1;
        }
    }
    let layer = longest_path_layers(&succ, indeg);

    // The extended graph: real nodes, then one dummy per column an edge skips.
    let mut ext_succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut ext_layer = layer.clone();
    for u in 0..n {
        for &v in &succ[u] {
            if layer[v] <= layer[u] {
                continue; // closes a cycle: left out
            }
            let mut prev = u;
            for l in layer[u] + 1..layer[v] {
                let d = ext_succ.len();
                ext_succ.push(Vec::new());
                ext_layer.push(l);
                ext_succ[prev].push(d);
                prev = d;
            }
            ext_succ[prev].push(v);
        }
    }
    let total = ext_succ.len();
    let mut ext_pred: Vec<Vec<usize>> = vec![Vec::new(); total];
    for (u, vs) in ext_succ.iter().enumerate() {
        for &v in vs {
            ext_pred[v].push(u);
        }
    }
    let depth = ext_layer.iter().copied().max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (v, &l) in ext_layer.iter().enumerate() {
        layers[l].push(v);
    }
    order_by_barycenter(&mut layers, &ext_pred, &ext_succ, total);

    let is_real = |v: usize| v < n;
    let lw: Vec<u32> = layers
        .iter()
        .map(|l| {
            l.iter()
                .map(|&v| if is_real(v) { widths[v].max(1) } else { 1 })
                .max()
                .unwrap_or(1)
        })
        .collect();

    // Rows, column by column; `port[(u, v)]` is the row edge u→v enters v on.
    let mut y = vec![0u32; total];
    let mut h = vec![1u32; total];
    let mut port: HashMap<(usize, usize), u32> = HashMap::new();
    // Per channel: `a → [b…]` when a's wires must end left of b's tracks.
    let mut left_of: Vec<HashMap<usize, Vec<usize>>> = vec![HashMap::new(); depth];
    for l in 0..depth {
        let exits: HashMap<u32, usize> = if l == 0 {
            HashMap::new()
        } else {
            layers[l - 1]
                .iter()
                .filter(|&&u| !ext_succ[u].is_empty())
                .map(|&u| (y[u], u))
                .collect()
        };
        let mut next = 0u32;
        for &v in &layers[l] {
            let mut srcs = ext_pred[v].clone();
            srcs.sort_by_key(|&u| y[u]);
            let Some(&first) = srcs.first() else {
                y[v] = next;
                next += (ext_succ[v].len() as u32).max(1);
                continue;
            };
            let mut r = next.max(y[first]);
            let mut rows = Vec::with_capacity(srcs.len());
            for &u in &srcs {
                // On a row another node `a` of the column before exits on
                // only if a's wire can end left of u's track, which no
                // earlier choice forbids (else the two would meet).
                while let Some(&a) = exits.get(&r).filter(|&&a| a != u) {
                    let prec = &mut left_of[l - 1];
                    if !reaches(prec, u, a) {
                        prec.entry(a).or_default().push(u);
                        break;
                    }
                    r += 1;
                }
                port.insert((u, v), r);
                rows.push(r);
                r += 1;
            }
            y[v] = rows[0];
            h[v] = rows[rows.len() - 1] - rows[0] + 1;
            next = y[v] + h[v].max(ext_succ[v].len() as u32);
        }
    }

    // Channels: tracks per net, then the column positions.
    let channels: Vec<Channel> = layers
        .iter()
        .zip(&left_of)
        .map(|(l, prec)| route_channel(l, &ext_succ, &y, &port, prec))
        .collect();
    let mut x = vec![0u32; depth];
    for l in 1..depth {
        x[l] = x[l - 1] + lw[l - 1] + channels[l - 1].width;
    }

    let mut wires = Vec::new();
    for l in 0..depth {
        let col_end = x[l] + lw[l];
        for &v in &layers[l] {
            if ext_succ[v].is_empty() {
                continue;
            }
            // From the label's end (a dummy: the column's start) to the channel.
            let from = if is_real(v) {
                x[l] + widths[v].max(1)
            } else {
                x[l]
            };
            for cx in from..col_end {
                wires.push(Wire {
                    x: cx,
                    y: y[v],
                    dirs: E | W,
                });
            }
        }
        if l + 1 < depth {
            channels[l].draw(col_end, &mut wires);
        }
    }

    let mut nodes = Vec::with_capacity(n);
    for v in 0..n {
        let l = ext_layer[v];
        nodes.push(Placed {
            layer: l,
            x: x[l],
            y: y[v],
            w: widths[v].max(1),
            h: h[v],
        });
    }
    let height = (0..total).map(|v| y[v] + h[v]).max().unwrap_or(0);
    let width = x[depth - 1] + lw[depth - 1];
    Layout {
        nodes,
        layers: layers
            .into_iter()
            .map(|l| l.into_iter().filter(|&v| is_real(v)).collect())
            .collect(),
        wires,
        width,
        height,
    }
}

/// Column of every node: 0 for roots, else one past its furthest upstream.
fn longest_path_layers(succ: &[Vec<usize>], mut indeg: Vec<usize>) -> Vec<usize> {
    let n = succ.len();
    let mut layer = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(u) = queue.pop_front() {
        for &v in &succ[u] {
            layer[v] = layer[v].max(layer[u] + 1);
            indeg[v] -= 1;
            if indeg[v] == 0 {
                queue.push_back(v);
            }
        }
    }
    // Nodes on a cycle (never in a valid pipeline) keep what they got.
    layer
}

fn order_by_barycenter(
    layers: &mut [Vec<usize>],
    pred: &[Vec<usize>],
    succ: &[Vec<usize>],
    total: usize,
) {
    let mut pos = vec![0f64; total];
    let index = |layers: &[Vec<usize>], pos: &mut Vec<f64>| {
        for l in layers {
            for (i, &v) in l.iter().enumerate() {
                pos[v] = i as f64;
            }
        }
    };
    index(layers, &mut pos);
    let sweep = |layer: &mut Vec<usize>, nbrs: &[Vec<usize>], pos: &mut Vec<f64>| {
        let key = |v: usize| -> f64 {
            let ns = &nbrs[v];
            if ns.is_empty() {
                pos[v]
            } else {
                ns.iter().map(|&u| pos[u]).sum::<f64>() / ns.len() as f64
            }
        };
        let mut keyed: Vec<(f64, f64, usize)> =
            layer.iter().map(|&v| (key(v), pos[v], v)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (i, (_, _, v)) in keyed.iter().enumerate() {
            layer[i] = *v;
            pos[*v] = i as f64;
        }
    };
    let down = |layers: &mut [Vec<usize>], pos: &mut Vec<f64>| {
        for layer in layers.iter_mut().skip(1) {
            sweep(layer, pred, pos);
        }
    };
    for _ in 0..SWEEPS {
        down(layers, &mut pos);
        for l in (0..layers.len().saturating_sub(1)).rev() {
            sweep(&mut layers[l], succ, &mut pos);
        }
    }
    // Last, each column follows the one on its left, so a node can sit on
    // its upstream's row (rows are given left to right).
    down(layers, &mut pos);
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
