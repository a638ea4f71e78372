//! Cycles among a pipeline's tasks, found in time linear in tasks and edges:
//! the strongly connected components first (Tarjan), then one shortest cycle
//! per component, searched inside that component only. Searching from every
//! task instead costs a walk of everything downstream of each one, which for
//! a chain of 100,000 tasks was 37 s.

use std::collections::VecDeque;

/// One knot of tasks that depend on each other.
pub(super) struct Cycle {
    /// A shortest cycle through the knot's task that comes first in the file,
    /// starting with that task (`a -> b` means b runs after a).
    pub path: Vec<usize>,
    /// The knot's other tasks, not on `path`, in file order.
    pub others: Vec<usize>,
}

/// Every knot of `downstream` (task `i` runs before each of `downstream[i]`),
/// ordered by its first task.
pub(super) fn cycles(downstream: &[Vec<usize>]) -> Vec<Cycle> {
    let mut out = Vec::new();
    let mut component_of = vec![usize::MAX; downstream.len()];
    for (c, mut members) in components(downstream).into_iter().enumerate() {
        let loops = members.len() > 1 || members.iter().any(|&m| downstream[m].contains(&m));
        if !loops {
            continue;
        }
        for &m in &members {
            component_of[m] = c;
        }
        members.sort_unstable();
        let start = members[0];
        let Some(path) = shortest_cycle(start, downstream, |n| component_of[n] == c) else {
            continue; // cannot happen: every task of a knot is on a cycle
        };
        let mut on_path = path.clone();
        on_path.sort_unstable();
        let others = members
            .into_iter()
            .filter(|m| on_path.binary_search(m).is_err())
            .collect();
        out.push(Cycle { path, others });
    }
    out.sort_by_key(|c| c.path[0]);
    out
}

/// Strongly connected components (Tarjan's algorithm, with an explicit stack
/// so that a long chain cannot overflow the thread's).
fn components(downstream: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = downstream.len();
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        // (task, how many of its edges are done)
        let mut walk: Vec<(usize, usize)> = vec![(root, 0)];
        order[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(top) = walk.last_mut() {
            let (v, edge) = *top;
            if let Some(&w) = downstream[v].get(edge) {
                top.1 += 1;
                if order[w] == UNSEEN {
                    order[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    walk.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            walk.pop();
            if let Some(&(parent, _)) = walk.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == order[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}

/// Nodes of the shortest path from `start` back to itself, starting with
/// `start`, through nodes for which `inside` holds.
fn shortest_cycle(
    start: usize,
    downstream: &[Vec<usize>],
    inside: impl Fn(usize) -> bool,
) -> Option<Vec<usize>> {
    let mut came_from: Vec<Option<usize>> = vec![None; downstream.len()];
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &downstream[node] {
            if next == start {
                let mut path = vec![node];
                let mut at = node;
                while at != start {
                    at = came_from[at]?;
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            if inside(next) && came_from[next].is_none() {
                came_from[next] = Some(node);
                queue.push_back(next);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(edges: &[&[usize]]) -> Vec<(Vec<usize>, Vec<usize>)> {
        let down: Vec<Vec<usize>> = edges.iter().map(|e| e.to_vec()).collect();
        cycles(&down)
            .into_iter()
            .map(|c| (c.path, c.others))
            .collect()
    }

    #[test]
    fn a_chain_has_no_cycle_and_each_knot_is_reported_once() {
        assert!(found(&[&[1], &[2], &[3], &[]]).is_empty());
        // 0 -> 1 -> 0, 3 -> 3, and 4 -> 5 -> 6 -> 4 with 4 -> 6 as a shortcut.
        assert_eq!(
            found(&[&[1], &[0, 2], &[], &[3], &[5, 6], &[6], &[4]]),
            [
                (vec![0, 1], vec![]),
                (vec![3], vec![]),
                (vec![4, 6], vec![5])
            ]
        );
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 200_000;
        let mut down: Vec<Vec<usize>> = (1..n).map(|i| vec![i]).collect();
        down.push(vec![0]);
        let c = cycles(&down);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path.len(), n);
    }
}
