//! The run's DAG as the graph screen shows it: task instances become nodes,
//! and the instances of one fan-out (`extract.schema.table` of an
//! `export_all`, `load_raw.schema.table` of a load `from` it) fold into one
//! node with counts per state until expanded. Pure: the update uses it to
//! move the cursor, the view to draw.

pub mod layout;
#[cfg(test)]
pub mod read;
mod route;

use std::collections::{BTreeSet, HashMap};

use crate::engine::state::TaskState;
use crate::engine::store::InstanceRow;
use crate::tui::view::fmt::{truncate, width};
use layout::Layout;

/// Longest task id drawn in a node; the whole id is one Enter away.
const MAX_ID: usize = 32;
/// A fan-out folds from this many instances.
const MIN_GROUP: usize = 2;

/// What the graph screen remembers: the fan-outs shown expanded, and where
/// the picture is scrolled to (the view moves it only to show the cursor).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphState {
    pub expanded: BTreeSet<String>,
    pub offset: (u32, u32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Task,
    /// A folded fan-out of the task `parent`.
    Group {
        parent: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    /// Indices into the run's tasks; a task node has one.
    pub members: Vec<usize>,
    /// The state that matters most among the members (failed first).
    pub state: TaskState,
    /// The label's parts, each with the state that colours it (None: plain).
    pub label: Vec<(String, Option<TaskState>)>,
}

impl Node {
    pub fn width(&self) -> u32 {
        // The brackets around the label.
        2 + self.label.iter().map(|(t, _)| width(t) as u32).sum::<u32>()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<(usize, usize)>,
    pub layout: Layout,
}

/// Failed and interrupted first, as the task table orders them.
pub fn severity(s: TaskState) -> u8 {
    match s {
        TaskState::Failed | TaskState::Interrupted => 0,
        TaskState::UpstreamFailed | TaskState::Cancelled => 1,
        TaskState::Running => 2,
        TaskState::Retrying => 3,
        TaskState::Queued => 4,
        TaskState::Pending => 5,
        TaskState::Succeeded | TaskState::Skipped => 6,
    }
}

/// The fan-out an instance belongs to: its `parent` parameter (set when an
/// export_all or a load `from` one expanded), else `TASK` of `TASK.schema.table`.
pub fn fan_out_of(t: &InstanceRow) -> Option<&str> {
    if let Some(p) = t
        .params
        .as_ref()
        .and_then(|p| p.get("parent"))
        .and_then(|p| p.as_str())
    {
        return Some(p);
    }
    let mut parts = t.task_id.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(task), Some(_), Some(_)) if !task.is_empty() => Some(task),
        _ => None,
    }
}

/// The graph of `tasks` with every fan-out not in `expanded` folded.
pub fn build<'a>(tasks: &'a [InstanceRow], expanded: &BTreeSet<String>) -> Graph {
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    for t in tasks {
        if let Some(p) = fan_out_of(t) {
            *sizes.entry(p).or_default() += 1;
        }
    }
    let folded = |t: &'a InstanceRow| -> Option<&'a str> {
        fan_out_of(t).filter(|p| sizes[p] >= MIN_GROUP && !expanded.contains(*p))
    };
    // Declaration order, so the picture does not move as states change.
    let mut by_ord: Vec<usize> = (0..tasks.len()).collect();
    by_ord.sort_by_key(|&i| (tasks[i].ord, i));
    let mut nodes: Vec<Node> = Vec::new();
    let mut node_of: Vec<usize> = vec![0; tasks.len()];
    let mut group_node: HashMap<&str, usize> = HashMap::new();
    for i in by_ord {
        let t = &tasks[i];
        let n = match folded(t) {
            Some(p) => *group_node.entry(p).or_insert_with(|| {
                nodes.push(Node {
                    kind: NodeKind::Group {
                        parent: p.to_string(),
                    },
                    members: Vec::new(),
                    state: t.state,
                    label: Vec::new(),
                });
                nodes.len() - 1
            }),
            None => {
                nodes.push(Node {
                    kind: NodeKind::Task,
                    members: Vec::new(),
                    state: t.state,
                    label: Vec::new(),
                });
                nodes.len() - 1
            }
        };
        nodes[n].members.push(i);
        node_of[i] = n;
    }
    for node in &mut nodes {
        node.members
            .sort_by_key(|&i| (severity(tasks[i].state), tasks[i].ord));
        node.state = tasks[node.members[0]].state;
        node.label = label(node, tasks);
    }
    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.task_id.as_str(), i))
        .collect();
    let mut edges = BTreeSet::new();
    for (i, t) in tasks.iter().enumerate() {
        for up in &t.upstream {
            if let Some(&j) = index.get(up.as_str()) {
                let (a, b) = (node_of[j], node_of[i]);
                if a != b {
                    edges.insert((a, b));
                }
            }
        }
    }
    let edges: Vec<(usize, usize)> = edges.into_iter().collect();
    let widths: Vec<u32> = nodes.iter().map(Node::width).collect();
    let layout = layout::layout(&widths, &edges);
    Graph {
        nodes,
        edges,
        layout,
    }
}

fn label(node: &Node, tasks: &[InstanceRow]) -> Vec<(String, Option<TaskState>)> {
    match &node.kind {
        NodeKind::Task => {
            let t = &tasks[node.members[0]];
            vec![
                (t.state.glyph().to_string(), Some(t.state)),
                (format!(" {}", truncate(&t.task_id, MAX_ID)), None),
            ]
        }
        NodeKind::Group { parent } => {
            // "+ extract ×42 ✓40 ✗2": `+` says it opens.
            let mut parts = vec![
                ("+ ".to_string(), None),
                (
                    format!("{} ×{}", truncate(parent, MAX_ID), node.members.len()),
                    None,
                ),
            ];
            let mut counts: Vec<(TaskState, usize)> = Vec::new();
            for &i in &node.members {
                let s = tasks[i].state;
                match counts.iter_mut().find(|(c, _)| *c == s) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((s, 1)),
                }
            }
            counts.sort_by_key(|(s, _)| severity(*s));
            for (s, n) in counts {
                parts.push((format!(" {}{n}", s.glyph()), Some(s)));
            }
            parts
        }
    }
}

impl Graph {
    /// The node showing task `i`.
    pub fn node_of_task(&self, i: usize) -> Option<usize> {
        self.nodes.iter().position(|n| n.members.contains(&i))
    }

    /// The node an arrow key moves to from `from`: left and right to the
    /// nearest node of the next column that has one (a direct upstream or
    /// downstream first), up and down within the column.
    pub fn step(&self, from: usize, key: Step) -> Option<usize> {
        let here = *self.layout.nodes.get(from)?;
        let layers = &self.layout.layers;
        match key {
            Step::Up | Step::Down => {
                let col = &layers[here.layer];
                let at = col.iter().position(|&v| v == from)?;
                let to = if key == Step::Up {
                    at.checked_sub(1)?
                } else {
                    at + 1
                };
                col.get(to).copied()
            }
            Step::Left | Step::Right => {
                let cols: Box<dyn Iterator<Item = usize>> = if key == Step::Left {
                    Box::new((0..here.layer).rev())
                } else {
                    Box::new(here.layer + 1..layers.len())
                };
                let linked = |v: usize| {
                    self.edges.iter().any(|&(a, b)| {
                        (key == Step::Left && a == v && b == from)
                            || (key == Step::Right && a == from && b == v)
                    })
                };
                let centre = |v: usize| {
                    let p = self.layout.nodes[v];
                    i64::from(p.y)
                };
                for l in cols {
                    let col = &layers[l];
                    if col.is_empty() {
                        continue;
                    }
                    let near = |vs: &mut dyn Iterator<Item = usize>| {
                        vs.min_by_key(|&v| ((centre(v) - i64::from(here.y)).abs(), centre(v)))
                    };
                    let best = near(&mut col.iter().copied().filter(|&v| linked(v)))
                        .or_else(|| near(&mut col.iter().copied()));
                    return best;
                }
                None
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Up,
    Down,
    Left,
    Right,
}
