//! Routing the wires of one channel (the gap between two columns): one net
//! per upstream node, its vertical tracks placed in columns so that nets
//! meet only at right angles (see the layout's module comment).

use std::collections::HashMap;

use super::layout::{E, N, S, W, Wire};

/// The narrowest channel between two columns.
const MIN_CHANNEL: u32 = 3;

/// A vertical wire of one net: rows `top..=bot` in track `col`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Track {
    net: usize,
    top: u32,
    bot: u32,
    col: u32,
}

/// The wires of one channel, relative to its first column.
#[derive(Debug, Default)]
pub(super) struct Channel {
    pub(super) width: u32,
    /// Per net: exit row, whether it runs straight through, its targets' rows.
    nets: Vec<(u32, bool, Vec<u32>)>,
    tracks: Vec<Track>,
}

/// Whether `to` is reachable from `from` in `g` (or is `from`).
pub(super) fn reaches(g: &HashMap<usize, Vec<usize>>, from: usize, to: usize) -> bool {
    let mut stack = vec![from];
    let mut seen = std::collections::HashSet::new();
    while let Some(v) = stack.pop() {
        if v == to {
            return true;
        }
        if seen.insert(v) {
            stack.extend(g.get(&v).into_iter().flatten().copied());
        }
    }
    false
}

pub(super) fn route_channel(
    layer: &[usize],
    succ: &[Vec<usize>],
    y: &[u32],
    port: &HashMap<(usize, usize), u32>,
    left_of: &HashMap<usize, Vec<usize>>,
) -> Channel {
    let mut ch = Channel::default();
    // The node each net leaves from.
    let mut source: Vec<usize> = Vec::new();
    for &u in layer {
        if succ[u].is_empty() {
            continue;
        }
        let ys = y[u];
        let rows: Vec<u32> = succ[u]
            .iter()
            .filter_map(|&v| port.get(&(u, v)).copied())
            .collect();
        let straight = rows.contains(&ys);
        let above = rows.iter().copied().filter(|&r| r < ys).min();
        let below = rows.iter().copied().filter(|&r| r > ys).max();
        let net = ch.nets.len();
        match (above, below) {
            // A wire through the exit row with branches up and down would
            // cross itself (┼): split it into two tracks.
            (Some(a), Some(b)) if straight => {
                ch.tracks.push(Track {
                    net,
                    top: a,
                    bot: ys,
                    col: 0,
                });
                ch.tracks.push(Track {
                    net,
                    top: ys,
                    bot: b,
                    col: 0,
                });
            }
            (None, None) => {}
            (a, b) => ch.tracks.push(Track {
                net,
                top: a.unwrap_or(ys),
                bot: b.unwrap_or(ys),
                col: 0,
            }),
        }
        ch.nets.push((ys, straight, rows));
        source.push(u);
    }
    // Columns: a net's tracks right of every net that must end left of it
    // (`left_of`, in topological order), else as far left as they fit;
    // tracks share a column only if their rows are disjoint, ends included
    // (touching would join them).
    let net_of: HashMap<usize, usize> = source.iter().enumerate().map(|(i, &u)| (u, i)).collect();
    let mut indeg = vec![0usize; ch.nets.len()];
    for (a, bs) in left_of {
        if net_of.contains_key(a) {
            for b in bs {
                if let Some(&j) = net_of.get(b) {
                    indeg[j] += 1;
                }
            }
        }
    }
    let mut rank = vec![0usize; ch.nets.len()];
    let mut queue: std::collections::VecDeque<usize> =
        (0..ch.nets.len()).filter(|&i| indeg[i] == 0).collect();
    let mut next_rank = 0;
    while let Some(i) = queue.pop_front() {
        rank[i] = next_rank;
        next_rank += 1;
        for b in left_of.get(&source[i]).into_iter().flatten() {
            if let Some(&j) = net_of.get(b) {
                indeg[j] -= 1;
                if indeg[j] == 0 {
                    queue.push_back(j);
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..ch.tracks.len()).collect();
    // Unconstrained nets keep the greedy order by top row (few columns).
    let constrained = !left_of.is_empty();
    order.sort_by_key(|&i| {
        let t = ch.tracks[i];
        (if constrained { rank[t.net] } else { 0 }, t.top, t.bot)
    });
    let mut columns: Vec<Vec<(u32, u32)>> = Vec::new();
    let mut net_max = vec![0u32; ch.nets.len()];
    for i in order {
        let t = ch.tracks[i];
        let lb = left_of
            .iter()
            .filter(|(_, bs)| bs.contains(&source[t.net]))
            .filter_map(|(a, _)| net_of.get(a))
            .map(|&j| net_max[j] as usize)
            .max()
            .unwrap_or(0);
        let free = |c: &Vec<(u32, u32)>| c.iter().all(|&(a, b)| b < t.top || a > t.bot);
        let col = match (lb..columns.len()).find(|&c| free(&columns[c])) {
            Some(c) => c,
            None => {
                columns.resize(columns.len().max(lb) + 1, Vec::new());
                columns.len() - 1
            }
        };
        columns[col].push((t.top, t.bot));
        ch.tracks[i].col = col as u32 + 1;
        net_max[t.net] = net_max[t.net].max(col as u32 + 1);
    }
    ch.width = (columns.len() as u32 + 2).max(MIN_CHANNEL);
    ch
}

impl Channel {
    pub(super) fn draw(&self, ox: u32, out: &mut Vec<Wire>) {
        let last = self.width - 1;
        let mut push = |x: u32, y: u32, dirs: u8| out.push(Wire { x: ox + x, y, dirs });
        for (net, (ys, straight, rows)) in self.nets.iter().enumerate() {
            let tracks: Vec<&Track> = self.tracks.iter().filter(|t| t.net == net).collect();
            let end = if *straight {
                last
            } else {
                tracks.iter().map(|t| t.col).max().unwrap_or(last)
            };
            for c in 0..=end {
                let mut d = W;
                if c < end || end == last {
                    d |= E;
                }
                push(c, *ys, d);
            }
            for t in &tracks {
                for r in t.top..=t.bot {
                    let mut d = 0;
                    if r > t.top {
                        d |= N;
                    }
                    if r < t.bot {
                        d |= S;
                    }
                    push(t.col, r, d);
                }
            }
            for &r in rows.iter().filter(|&&r| r != *ys) {
                // The track whose rows hold this target (two only when split).
                let Some(t) = tracks.iter().find(|t| r >= t.top && r <= t.bot) else {
                    continue;
                };
                for c in t.col..=last {
                    let d = if c == t.col { E } else { E | W };
                    push(c, r, d);
                }
            }
        }
    }
}
