//! What the browse screens hold (Sources, Stores, Warehouse): catalogs,
//! listings and previews as they arrive from the runner, each with its own
//! loading or failed state so a slow or broken source shows a spinner or its
//! error in place while the rest of the console keeps working.
//!
//! Sources and Warehouse are the same three-level tree (source → schema →
//! table, warehouse → dataset → table); `tree_rows` lays out both.

use std::collections::{BTreeSet, HashMap};

use crate::connectors::source::{TableDetail, TableKind, TableName, TableSummary};
use crate::connectors::store::ObjectInfo;
use crate::connectors::warehouse::WarehouseTable;

/// Something fetched off the UI path.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Load<T> {
    #[default]
    Idle,
    /// Asked at `since` (ms), no answer yet.
    Loading {
        since: i64,
    },
    Ready(T),
    /// The error, already free of secrets, shown where the data would be.
    Failed(String),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self, Load::Loading { .. })
    }

    pub fn from_result(r: Result<T, String>) -> Load<T> {
        match r {
            Ok(t) => Load::Ready(t),
            Err(e) => Load::Failed(e),
        }
    }
}

/// Rows of a preview, already rendered as text by the runner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preview {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A named thing of the workspace and its kind (`app` / `postgres`).
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub name: String,
    pub kind: String,
}

/// One line of a source or warehouse tree.
#[derive(Debug, Clone, PartialEq)]
pub enum TreeRow {
    Root(usize),
    Group(usize, String),
    /// A root's index and the index of the table in its list.
    Leaf(usize, usize),
}

impl TreeRow {
    pub fn root(&self) -> usize {
        match self {
            TreeRow::Root(r) | TreeRow::Group(r, _) | TreeRow::Leaf(r, _) => *r,
        }
    }
}

/// A three-level tree: roots (sources, warehouses) whose tables load on
/// demand, grouped by schema or dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree<T> {
    pub roots: Vec<Named>,
    /// Per root, its tables.
    pub tables: Vec<Load<Vec<T>>>,
    /// Roots opened (`(root, None)`) and groups opened (`(root, Some(group))`).
    pub open: BTreeSet<(usize, Option<String>)>,
    pub cursor: usize,
    /// Case-insensitive substring of `group.table`; shows matches whatever is open.
    pub filter: String,
    /// Keys go to the filter line.
    pub editing_filter: bool,
    /// First line of the detail pane shown (columns, preview).
    pub detail_scroll: usize,
}

/// The group and name of a table in a tree.
pub trait Leaf {
    fn group(&self) -> &str;
    fn name(&self) -> &str;
}

impl Leaf for TableSummary {
    fn group(&self) -> &str {
        &self.table.schema
    }
    fn name(&self) -> &str {
        &self.table.name
    }
}

impl Leaf for WarehouseTable {
    fn group(&self) -> &str {
        &self.dataset
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl<T> Default for Tree<T> {
    fn default() -> Self {
        Tree {
            roots: Vec::new(),
            tables: Vec::new(),
            open: BTreeSet::new(),
            cursor: 0,
            filter: String::new(),
            editing_filter: false,
            detail_scroll: 0,
        }
    }
}

impl<T: Leaf + Clone> Tree<T> {
    pub fn new(roots: Vec<Named>) -> Tree<T> {
        let n = roots.len();
        Tree {
            roots,
            tables: vec![Load::Idle; n],
            ..Tree::default()
        }
    }

    /// The lines shown, in order. With a filter, every matching table shows
    /// under its root and group, open or not. Laid out on every key and
    /// frame, so it allocates per group, not per table.
    pub fn rows(&self) -> Vec<TreeRow> {
        let needle = self.filter.to_lowercase();
        let filtering = !needle.is_empty();
        let mut hay = String::new();
        let mut matches = |t: &T| {
            if !filtering {
                return true;
            }
            hay.clear();
            hay.push_str(t.group());
            hay.push('.');
            hay.push_str(t.name());
            if hay.is_ascii() {
                hay.make_ascii_lowercase();
                hay.contains(&needle)
            } else {
                hay.to_lowercase().contains(&needle)
            }
        };
        let mut out = Vec::new();
        for (r, _) in self.roots.iter().enumerate() {
            out.push(TreeRow::Root(r));
            if !filtering && !self.open.contains(&(r, None)) {
                continue;
            }
            let Some(tables) = self.tables.get(r).and_then(Load::ready) else {
                continue;
            };
            let mut group: Option<&str> = None;
            let mut group_open = false;
            for (i, t) in tables.iter().enumerate() {
                if !matches(t) {
                    continue;
                }
                if group != Some(t.group()) {
                    group = Some(t.group());
                    let g = t.group().to_string();
                    group_open = filtering || self.open.contains(&(r, Some(g.clone())));
                    out.push(TreeRow::Group(r, g));
                }
                if group_open {
                    out.push(TreeRow::Leaf(r, i));
                }
            }
        }
        out
    }

    pub fn selected(&self) -> Option<TreeRow> {
        let rows = self.rows();
        rows.get(self.cursor.min(rows.len().saturating_sub(1)))
            .cloned()
    }

    pub fn leaf(&self, row: &TreeRow) -> Option<&T> {
        match row {
            TreeRow::Leaf(r, i) => self.tables.get(*r)?.ready()?.get(*i),
            _ => None,
        }
    }

    /// Tables arrived for root `r`: a root that has a single group opens it,
    /// so one schema is not a click of its own.
    pub fn loaded(&mut self, r: usize, tables: Result<Vec<T>, String>) {
        let mut tables = tables;
        if let Ok(list) = &mut tables {
            // Groups must be contiguous for `rows`.
            list.sort_by(|a, b| (a.group(), a.name()).cmp(&(b.group(), b.name())));
            let groups: BTreeSet<&str> = list.iter().map(Leaf::group).collect();
            if groups.len() == 1
                && let Some(g) = groups.into_iter().next()
            {
                self.open.insert((r, Some(g.to_string())));
            }
        }
        if let Some(slot) = self.tables.get_mut(r) {
            *slot = Load::from_result(tables);
        }
        self.cursor = self.cursor.min(self.rows().len().saturating_sub(1));
    }

    pub fn root_index(&self, name: &str) -> Option<usize> {
        self.roots.iter().position(|n| n.name == name)
    }
}

/// The Stores screen: the stores, then objects under a prefix of one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoresView {
    pub stores: Vec<Named>,
    /// The store being browsed; None shows the list of stores.
    pub store: Option<usize>,
    pub prefix: String,
    pub listing: Load<Vec<ObjectInfo>>,
    pub cursor: usize,
    /// The cursor on the list of stores.
    pub store_cursor: usize,
    /// After going up, the cursor lands on the folder we came from.
    pub reselect: Option<String>,
}

impl StoresView {
    pub fn selected(&self) -> Option<&ObjectInfo> {
        self.listing.ready()?.get(self.cursor)
    }

    pub fn store_name(&self) -> Option<&str> {
        self.stores.get(self.store?).map(|n| n.name.as_str())
    }
}

/// Everything the browse screens hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Browse {
    pub sources: Tree<TableSummary>,
    /// Column detail and previews per (source index, table).
    pub details: HashMap<(usize, TableName), Load<TableDetail>>,
    pub previews: HashMap<(usize, TableName), Load<Preview>>,
    pub stores: StoresView,
    pub warehouses: Tree<WarehouseTable>,
}

impl Browse {
    pub fn new(sources: Vec<Named>, stores: Vec<Named>, warehouses: Vec<Named>) -> Browse {
        Browse {
            sources: Tree::new(sources),
            stores: StoresView {
                // With one store there is nothing to choose: start inside it.
                store: (stores.len() == 1).then_some(0),
                stores,
                ..StoresView::default()
            },
            warehouses: Tree::new(warehouses),
            ..Browse::default()
        }
    }

    /// The sources, stores and warehouses the workspace names.
    pub fn for_workspace(ws: &crate::config::Workspace) -> Browse {
        let named = |m: Vec<(&String, &String)>| {
            m.into_iter()
                .map(|(n, k)| Named {
                    name: n.clone(),
                    kind: k.clone(),
                })
                .collect()
        };
        let d = &ws.def;
        Browse::new(
            named(d.sources.iter().map(|(n, s)| (n, &s.kind)).collect()),
            named(d.stores.iter().map(|(n, s)| (n, &s.kind)).collect()),
            named(d.warehouses.iter().map(|(n, s)| (n, &s.kind)).collect()),
        )
    }

    /// The table under the Sources cursor: its source index and summary.
    pub fn selected_table(&self) -> Option<(usize, &TableSummary)> {
        let row = self.sources.selected()?;
        let t = self.sources.leaf(&row)?;
        Some((row.root(), t))
    }

    pub fn table_kind(t: &TableSummary) -> &'static str {
        match t.kind {
            TableKind::Table => "table",
            TableKind::View => "view",
        }
    }

    /// Whether something is being fetched (the runner sends ticks so the
    /// spinner and its seconds move).
    pub fn loading(&self) -> bool {
        self.sources.tables.iter().any(Load::is_loading)
            || self.warehouses.tables.iter().any(Load::is_loading)
            || self.details.values().any(Load::is_loading)
            || self.previews.values().any(Load::is_loading)
            || self.stores.listing.is_loading()
    }
}

/// Catalog and store work for the runner (see `browse_io`).
#[derive(Debug, Clone, PartialEq)]
pub enum BrowseEffect {
    Tables {
        source: String,
    },
    Describe {
        source: String,
        table: TableName,
    },
    Preview {
        source: String,
        table: TableName,
        rows: usize,
    },
    List {
        store: String,
        prefix: String,
    },
    Delete {
        store: String,
        path: String,
    },
    WarehouseTables {
        warehouse: String,
    },
    /// Create the run of one ad-hoc task and hand it to a detached worker.
    Start {
        label: String,
        def: Box<crate::config::TaskDef>,
    },
}

/// What the runner answers; errors are text free of secrets.
#[derive(Debug, Clone)]
pub enum BrowseMsg {
    Tables {
        source: String,
        result: Result<Vec<TableSummary>, String>,
    },
    Described {
        source: String,
        table: TableName,
        result: Result<TableDetail, String>,
    },
    Previewed {
        source: String,
        table: TableName,
        result: Result<Preview, String>,
    },
    Listed {
        store: String,
        prefix: String,
        result: Result<Vec<ObjectInfo>, String>,
    },
    Deleted {
        store: String,
        path: String,
        result: Result<(), String>,
    },
    WarehouseTables {
        warehouse: String,
        result: Result<Vec<WarehouseTable>, String>,
    },
    /// A run started in a worker (or could not start).
    Started {
        label: String,
        result: Result<i64, String>,
    },
}

/// A table name for a file: its stem, or the folder's name when the stem is
/// a date (`main.users/2024-05-01.parquet` → `users`), without a schema
/// prefix, made of letters, digits and `_`.
pub fn table_from_path(path: &str) -> String {
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let file = parts.next().unwrap_or_default();
    let stem = file.split('.').next().unwrap_or(file);
    let datey =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || "-_T:".contains(c));
    let base = if datey(stem) {
        parts.next().unwrap_or(stem)
    } else {
        // `main.users.parquet` → `main.users`
        file.rsplit_once('.').map_or(file, |(s, _)| s)
    };
    let base = base.rsplit('.').next().unwrap_or(base);
    let mut out: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "t_");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_name_comes_from_the_file_or_its_folder() {
        assert_eq!(table_from_path("main.users/2024-05-01.parquet"), "users");
        assert_eq!(
            table_from_path("raw/2024-05-01/main.orders.parquet"),
            "orders"
        );
        assert_eq!(table_from_path("exports/order items.ndjson"), "order_items");
        assert_eq!(table_from_path("2024-05-01.parquet"), "t_2024_05_01");
    }
}
