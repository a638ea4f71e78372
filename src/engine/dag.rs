//! A DAG of task ids: topological order, upstream/downstream closure and
//! cycle detection. Nodes are indices; names are kept for messages.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

#[derive(Debug, Clone, Default)]
pub struct Dag {
    names: Vec<String>,
    index: HashMap<String, usize>,
    up: Vec<Vec<usize>>,
    down: Vec<Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    #[error("task `{task}` depends on unknown task `{upstream}`")]
    UnknownUpstream { task: String, upstream: String },
    #[error("duplicate task id `{0}`")]
    Duplicate(String),
    #[error("cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
}

impl Dag {
    /// Builds from `(id, upstream ids)`; refuses unknown upstreams, duplicates and cycles.
    pub fn new<'a, I, U>(nodes: I) -> Result<Dag, DagError>
    where
        I: IntoIterator<Item = (&'a str, U)>,
        U: IntoIterator<Item = &'a str>,
    {
        let mut dag = Dag::default();
        let mut ups: Vec<Vec<&str>> = Vec::new();
        for (id, upstream) in nodes {
            if dag.index.contains_key(id) {
                return Err(DagError::Duplicate(id.to_string()));
            }
            dag.index.insert(id.to_string(), dag.names.len());
            dag.names.push(id.to_string());
            ups.push(upstream.into_iter().collect());
        }
        let n = dag.names.len();
        dag.up = vec![Vec::new(); n];
        dag.down = vec![Vec::new(); n];
        // A set per task, not a search of its list: a task with thousands of
        // upstreams would otherwise cost their square.
        let mut seen: HashSet<usize> = HashSet::new();
        for (i, us) in ups.iter().enumerate() {
            seen.clear();
            for u in us {
                let Some(&j) = dag.index.get(*u) else {
                    return Err(DagError::UnknownUpstream {
                        task: dag.names[i].clone(),
                        upstream: u.to_string(),
                    });
                };
                if seen.insert(j) {
                    dag.up[i].push(j);
                    dag.down[j].push(i);
                }
            }
        }
        if let Some(cycle) = dag.find_cycle() {
            return Err(DagError::Cycle(cycle));
        }
        Ok(dag)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }
    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
    pub fn upstream(&self, i: usize) -> &[usize] {
        &self.up[i]
    }
    pub fn downstream(&self, i: usize) -> &[usize] {
        &self.down[i]
    }

    /// Kahn's algorithm; ties keep declaration order, so output is stable.
    pub fn topo_order(&self) -> Vec<usize> {
        let n = self.len();
        let mut indeg: Vec<usize> = self.up.iter().map(Vec::len).collect();
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            out.push(i);
            for &d in &self.down[i] {
                indeg[d] -= 1;
                if indeg[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        out
    }

    /// Everything reachable downstream of `roots`, transitively, roots excluded.
    pub fn downstream_closure(&self, roots: &[usize]) -> BTreeSet<usize> {
        self.closure(roots, &self.down)
    }

    /// Everything upstream of `roots`, transitively, roots excluded.
    pub fn upstream_closure(&self, roots: &[usize]) -> BTreeSet<usize> {
        self.closure(roots, &self.up)
    }

    fn closure(&self, roots: &[usize], edges: &[Vec<usize>]) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<usize> = roots.iter().copied().collect();
        while let Some(i) = queue.pop_front() {
            for &j in &edges[i] {
                if seen.insert(j) {
                    queue.push_back(j);
                }
            }
        }
        for r in roots {
            seen.remove(r);
        }
        seen
    }

    /// A cycle as a path of names that starts and ends on the same task.
    fn find_cycle(&self) -> Option<Vec<String>> {
        // Iterative DFS with colours: 0 new, 1 on stack, 2 done.
        let n = self.len();
        let mut colour = vec![0u8; n];
        let mut parent = vec![usize::MAX; n];
        for start in 0..n {
            if colour[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            colour[start] = 1;
            while let Some((node, edge)) = stack.pop() {
                if edge < self.down[node].len() {
                    stack.push((node, edge + 1));
                    let next = self.down[node][edge];
                    match colour[next] {
                        0 => {
                            colour[next] = 1;
                            parent[next] = node;
                            stack.push((next, 0));
                        }
                        1 => {
                            // Walk back from `node` to `next`.
                            let mut path = vec![node];
                            let mut cur = node;
                            while cur != next {
                                cur = parent[cur];
                                path.push(cur);
                            }
                            path.reverse();
                            path.push(next);
                            return Some(path.iter().map(|&i| self.names[i].clone()).collect());
                        }
                        _ => {}
                    }
                } else {
                    colour[node] = 2;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dag(edges: &[(&'static str, &[&'static str])]) -> Result<Dag, DagError> {
        Dag::new(edges.iter().map(|(id, ups)| (*id, ups.iter().copied())))
    }

    fn names(d: &Dag, set: impl IntoIterator<Item = usize>) -> Vec<String> {
        set.into_iter().map(|i| d.name(i).to_string()).collect()
    }

    #[test]
    fn topo_order_respects_every_edge() {
        let d = dag(&[
            ("load", &["export"]),
            ("export", &[]),
            ("check", &["load", "other"]),
            ("other", &[]),
        ])
        .unwrap();
        let order = d.topo_order();
        assert_eq!(order.len(), 4);
        let pos = |n: &str| order.iter().position(|&i| d.name(i) == n).unwrap();
        assert!(pos("export") < pos("load"));
        assert!(pos("load") < pos("check"));
        assert!(pos("other") < pos("check"));
    }

    #[test]
    fn closures_are_transitive_and_exclude_roots() {
        let d = dag(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("d", &["c", "x"]),
            ("x", &[]),
            ("y", &["x"]),
        ])
        .unwrap();
        let b = d.get("b").unwrap();
        assert_eq!(names(&d, d.downstream_closure(&[b])), ["c", "d"]);
        assert_eq!(names(&d, d.upstream_closure(&[b])), ["a"]);
        let dd = d.get("d").unwrap();
        assert_eq!(names(&d, d.upstream_closure(&[dd])), ["a", "b", "c", "x"]);
        let x = d.get("x").unwrap();
        assert_eq!(names(&d, d.downstream_closure(&[x])), ["d", "y"]);
    }

    #[test]
    fn cycle_is_reported_as_a_path() {
        let err = dag(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"]), ("z", &[])]).unwrap_err();
        let DagError::Cycle(path) = err else {
            panic!("expected a cycle, got {err:?}")
        };
        assert_eq!(path.first(), path.last());
        assert_eq!(path.len(), 4, "{path:?}");
        assert!(err_text(&path).contains("->"));
        let self_loop = dag(&[("a", &["a"])]).unwrap_err();
        assert_eq!(self_loop, DagError::Cycle(vec!["a".into(), "a".into()]));
    }

    fn err_text(path: &[String]) -> String {
        DagError::Cycle(path.to_vec()).to_string()
    }

    #[test]
    fn unknown_upstream_and_duplicates_are_refused() {
        assert_eq!(
            dag(&[("a", &["nope"])]).unwrap_err(),
            DagError::UnknownUpstream {
                task: "a".into(),
                upstream: "nope".into()
            }
        );
        assert_eq!(
            dag(&[("a", &[]), ("a", &[])]).unwrap_err(),
            DagError::Duplicate("a".into())
        );
    }
}
