//! Checks of `[[pipelines.NAME.tasks]]`: keys, kinds, required keys per kind,
//! references, `after`, duplicate ids and cycles.

use std::collections::HashMap;

use toml::de::{DeTable, DeValue};

use super::cycles;
use super::duration::{parse_duration, parse_hhmm};
use super::model::{keys, kinds};
use super::report::Report;
use super::rules;
use super::suggest::did_you_mean;
use super::task_kind::TaskKind;
use super::tree::{Ty, check_table, get, get_str, get_str_list, get_table, integer};
use super::validate::{Names, kind_of, one_of, reference};
use crate::connectors::source::TableName;

const TASK_TYPES: &[(&str, Ty)] = &[
    ("after", Ty::StrList),
    ("notify", Ty::StrList),
    ("include", Ty::StrList),
    ("exclude", Ty::StrList),
    ("retries", Ty::UInt),
    ("partitions", Ty::UInt),
    ("lookback", Ty::StrOrInt),
    ("initial", Ty::StrOrInt),
    ("key", Ty::StrOrList),
    ("left", Ty::Table),
    ("right", Ty::Table),
];

/// What the second pass needs to know about one task.
struct Task<'a> {
    table: &'a DeTable<'a>,
    id: Option<(&'a str, usize)>,
    kind: Option<TaskKind>,
    /// Where problems about the task as a whole point: its `id` value, else its header.
    anchor: usize,
    /// The first task with this id (later duplicates are left out of the graph).
    first: bool,
}

pub(crate) fn validate_pipeline(r: &mut Report, pipeline: &str, def: &DeTable<'_>, names: &Names) {
    let Some(DeValue::Array(items)) = get(def, "tasks").map(|n| n.get_ref()) else {
        return;
    };
    let mut tasks: Vec<Task> = Vec::new();
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let DeValue::Table(table) = item.get_ref() else {
            continue; // reported as a wrong type by `check_table`
        };
        let header = item.span().start;
        let id = get_str(table, "id");
        let place = match id {
            Some((id, _)) => format!("task `{id}` of pipeline `{pipeline}`"),
            None => format!("task #{} of pipeline `{pipeline}`", i + 1),
        };
        check_table(r, table, keys::TASK, TASK_TYPES, &format!("in {place}"));
        let mut first = true;
        match id {
            None if get(table, "id").is_none() => r.at(header, format!("{place} has no `id`")),
            None => {}
            Some((id, at)) => {
                if let Err(e) = rules::task_id(id) {
                    r.at(at, e);
                }
                if let Some(&prev) = first_seen.get(id) {
                    first = false;
                    let line = r.line_of(prev);
                    r.at(
                        at,
                        format!("duplicate task id `{id}` in pipeline `{pipeline}` (first defined on line {line})"),
                    );
                } else {
                    first_seen.insert(id, at);
                }
            }
        }
        let anchor = id.map_or(header, |(_, at)| at);
        let kind = kind_of(r, table, anchor, &place, kinds::TASK, None).and_then(TaskKind::parse);
        task_values(r, table, names, &place);
        if let Some(kind) = kind {
            required_keys(r, table, kind, anchor, &place);
            merge_key(r, table, kind, anchor, &place);
        }
        incremental_keys(r, table, kind, &place);
        if kind == Some(TaskKind::Export)
            && let Some((name, at)) = get_str(table, "table")
            && let Err(e) = TableName::parse(name, "default")
        {
            r.at(at, format!("`table` of {place}: {e}"));
        }
        tasks.push(Task {
            table,
            id,
            kind,
            anchor,
            first,
        });
    }

    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.first)
        .filter_map(|(i, t)| t.id.map(|(id, _)| (id, i)))
        .collect();
    let ids: Vec<&str> = tasks
        .iter()
        .filter_map(|t| t.id.map(|(id, _)| id))
        .collect();
    // downstream[i]: tasks that run after task i.
    let mut downstream: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (i, task) in tasks.iter().enumerate() {
        let me = task.id.map_or("?", |(id, _)| id);
        for (up, at) in get_str_list(task.table, "after") {
            match index.get(up) {
                Some(&u) if task.first => downstream[u].push(i),
                Some(_) => {}
                None => {
                    let hint = did_you_mean(up, ids.iter().copied());
                    r.at(
                        at,
                        format!("unknown upstream `{up}` in `after` of task `{me}`: not a task of pipeline `{pipeline}`{hint}"),
                    );
                }
            }
        }
        if let Some((from, at)) = get_str(task.table, "from") {
            if index.get(from).map(|&f| tasks[f].kind) == Some(Some(TaskKind::ExportAll)) {
                one_table_per_source_table(r, task.table, me, from);
            }
            match index.get(from).map(|&f| (f, tasks[f].kind)) {
                // Its loads run after its exports, so this is an edge too.
                Some((f, Some(TaskKind::ExportAll))) if task.first => downstream[f].push(i),
                Some((_, Some(TaskKind::ExportAll))) => {}
                Some((_, Some(kind))) => r.at(
                    at,
                    format!("`from` must name an export_all task; `{from}` is of kind `{kind}`"),
                ),
                Some((_, None)) => {}
                None => {
                    let exports = tasks
                        .iter()
                        .filter(|t| t.kind == Some(TaskKind::ExportAll))
                        .filter_map(|t| t.id.map(|(id, _)| id));
                    let hint = did_you_mean(from, exports);
                    r.at(
                        at,
                        format!("`from` names `{from}`, which is not a task of pipeline `{pipeline}`{hint}"),
                    );
                }
            }
        }
    }
    report_cycles(r, &tasks, &downstream);
}

/// A `load from` that replaces one fixed table (no `{table}`, `{schema}` or
/// `{task_id}` in `table`) would have each table of the export_all replace
/// the one before. (An append into one table gathers them on purpose.)
/// Collisions that depend on the catalog are refused when a run is made.
fn one_table_per_source_table(r: &mut Report, t: &DeTable<'_>, me: &str, from: &str) {
    let Some((table, at)) = get_str(t, "table") else {
        return;
    };
    let append = get_str(t, "mode").is_some_and(|(m, _)| m == "append");
    let varies = ["{table}", "{schema}", "{task_id}"]
        .iter()
        .any(|p| table.contains(p));
    if !varies && !append {
        r.at(
            at,
            format!(
                "`table` of load `{me}`: every table of `{from}` would replace warehouse table `{table}` in turn; put {{table}} in it (and {{schema}} when schemas share table names), e.g. \"raw_{{schema}}_{{table}}\""
            ),
        );
    }
}

/// Value checks that do not depend on the kind: references, durations, enums.
fn task_values(r: &mut Report, t: &DeTable<'_>, names: &Names, place: &str) {
    let mut targets = names.sources.clone();
    targets.extend(names.warehouses.iter().copied());
    if let Some((v, at)) = get_str(t, "pool") {
        reference(r, v, at, "pool", &names.pools);
    }
    super::notify::references(r, t, &names.channels);
    super::validate::timing_values(r, t);
    if let Some((v, at)) = get_str(t, "source") {
        reference(r, v, at, "source", &names.sources);
    }
    if let Some((v, at)) = get_str(t, "store") {
        reference(r, v, at, "store", &names.stores);
    }
    if let Some((v, at)) = get_str(t, "warehouse") {
        reference(r, v, at, "warehouse", &names.warehouses);
    }
    if let Some((v, at)) = get_str(t, "target") {
        reference(r, v, at, "target (source or warehouse)", &targets);
    }
    for side in ["left", "right"] {
        let Some(st) = get_table(t, side) else {
            continue;
        };
        check_table(
            r,
            st,
            keys::CHECK_SIDE,
            &[],
            &format!("in `{side}` of {place}"),
        );
        match get_str(st, "target") {
            Some((v, at)) => reference(r, v, at, "target (source or warehouse)", &targets),
            None if get(st, "target").is_none() => {
                let at = get(t, side).map_or(0, |n| n.span().start);
                r.at(at, format!("`{side}` of {place} needs `target`"));
            }
            None => {}
        }
        if get(st, "sql").is_none() {
            let at = get(t, side).map_or(0, |n| n.span().start);
            r.at(at, format!("`{side}` of {place} needs `sql`"));
        }
    }
    for key in ["retry_delay", "max_retry_delay", "timeout", "duration"] {
        if let Some((v, at)) = get_str(t, key)
            && let Err(e) = parse_duration(v)
        {
            r.at(at, format!("`{key}`: {e}"));
        }
    }
    if let Some((v, at)) = get_str(t, "until")
        && let Err(e) = parse_hhmm(v)
    {
        r.at(at, format!("`until`: {e}"));
    }
    if let Some((v, at)) = get_str(t, "format") {
        one_of(r, v, at, "format", kinds::FORMAT);
    }
    if let Some((v, at)) = get_str(t, "mode") {
        one_of(r, v, at, "mode", kinds::MODE);
    }
    if let Some((v, at)) = get_str(t, "lossy") {
        one_of(r, v, at, "lossy", &["refuse", "convert"]);
    }
    if let Some(node) = get(t, "partitions")
        && let Some(n) = integer(node.get_ref()).and_then(|n| i64::try_from(n).ok())
        && let Err(e) = rules::partitions(n)
    {
        r.at(node.span().start, e);
    }
    if let Some((v, at)) = get_str(t, "timeout")
        && parse_duration(v).is_ok_and(|d| d.is_zero())
    {
        r.at(
            at,
            "`timeout` must be more than 0s (leave it out for no limit)",
        );
    }
    if let Some((v, at)) = get_str(t, "path")
        && let Err(e) = rules::file_path(v)
    {
        r.at(at, format!("`path`: {e}"));
    }
    if let Some((v, at)) = get_str(t, "prefix")
        && let Err(e) = rules::prefix(v)
    {
        r.at(at, format!("`prefix`: {e}"));
    }
    for key in ["include", "exclude"] {
        for (v, at) in get_str_list(t, key) {
            if let Err(e) = rules::glob(v) {
                r.at(at, format!("`{key}`: {e}"));
            }
        }
    }
}

/// `incremental` follows a column of a table an `export` reads; `lookback`
/// and `initial` only mean something with it. (Whether the column grows —
/// an integer or a timestamp — only the source's catalog knows: the export
/// refuses another type when it runs, `engine/executor/incremental.rs`.)
fn incremental_keys(r: &mut Report, t: &DeTable<'_>, kind: Option<TaskKind>, place: &str) {
    let incremental = get(t, "incremental");
    if let Some(node) = incremental {
        let at = node.span().start;
        if kind.is_some_and(|k| k != TaskKind::Export) {
            r.at(
                at,
                format!("`incremental` of {place}: only an `export` reads incrementally"),
            );
        } else if get(t, "query").is_some() {
            r.at(
                at,
                format!("`incremental` of {place} needs `table`: the rows of a `query` are its own to filter (write the condition into it)"),
            );
        }
    }
    for key in ["lookback", "initial"] {
        if let Some(node) = get(t, key)
            && incremental.is_none()
        {
            r.at(
                node.span().start,
                format!("`{key}` of {place} needs `incremental` (the column to follow)"),
            );
        }
    }
    if let Some((v, at)) = get_str(t, "lookback")
        && let Err(e) = parse_duration(v)
    {
        r.at(
            at,
            format!("`lookback`: {e} (or a whole number for an integer column)"),
        );
    }
}

/// Keys each kind needs (README, "The workspace file"), reported at `anchor`.
fn required_keys(r: &mut Report, t: &DeTable<'_>, kind: TaskKind, anchor: usize, place: &str) {
    let has = |k: &str| get(t, k).is_some();
    let mut problems: Vec<String> = Vec::new();
    let mut need = |keys: &[&str]| {
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !has(k))
            .map(|k| format!("`{k}`"))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("needs {}", missing.join(", ")));
        }
    };
    match kind {
        TaskKind::Export => need(&["source", "store", "path"]),
        TaskKind::ExportAll => need(&["source", "store"]),
        // With `from`, the store is the export_all's own.
        TaskKind::Load if has("from") => need(&["warehouse", "table"]),
        TaskKind::Load => need(&["store", "warehouse", "table"]),
        TaskKind::Sql => need(&["target", "sql"]),
        TaskKind::Command => need(&["command"]),
        TaskKind::Check | TaskKind::Wait => {}
    }
    let either = |a: &str, b: &str| match (has(a), has(b)) {
        (false, false) => Some(format!("needs `{a}` or `{b}`")),
        (true, true) => Some(format!("has both `{a}` and `{b}`; keep one")),
        _ => None,
    };
    problems.extend(match kind {
        TaskKind::Export => either("table", "query"),
        TaskKind::Load => either("path", "from"),
        TaskKind::Wait => either("duration", "until"),
        TaskKind::Check => check_form(&has),
        TaskKind::ExportAll | TaskKind::Sql | TaskKind::Command => None,
    });
    for p in problems {
        r.at(anchor, format!("{kind} {place} {p}"));
    }
}

/// `key` goes with `mode = "merge"` (a load), and only there: each column
/// named once, none empty.
fn merge_key(r: &mut Report, t: &DeTable<'_>, kind: TaskKind, anchor: usize, place: &str) {
    let merge = kind == TaskKind::Load && get_str(t, "mode").is_some_and(|(m, _)| m == "merge");
    let Some(node) = get(t, "key") else {
        if merge {
            r.at(
                anchor,
                format!("{kind} {place} has mode = \"merge\" and needs `key` (the columns that identify a row, e.g. key = [\"id\"])"),
            );
        }
        return;
    };
    if !merge {
        r.at(
            node.span().start,
            format!("`key` of {place} is only for a load with mode = \"merge\""),
        );
        return;
    }
    let columns: Vec<(&str, usize)> = match get_str(t, "key") {
        Some(one) => vec![one],
        None => get_str_list(t, "key"),
    };
    if columns.is_empty() && matches!(node.get_ref(), DeValue::Array(a) if a.is_empty()) {
        r.at(
            node.span().start,
            format!("`key` of {place} names no column"),
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    for (c, at) in columns {
        if c.is_empty() {
            r.at(
                at,
                format!("`key` of {place}: a column name cannot be empty"),
            );
        } else if seen.iter().any(|s| s.eq_ignore_ascii_case(c)) {
            r.at(at, format!("`key` of {place} names column `{c}` twice"));
        } else {
            seen.push(c);
        }
    }
}

/// A check is `target` + `sql`, or `left` + `right`.
fn check_form(has: &dyn Fn(&str) -> bool) -> Option<String> {
    let single = has("target") || has("sql");
    let pair = has("left") || has("right");
    if single && pair {
        return Some("mixes `target`/`sql` with `left`/`right`; use one form".into());
    }
    if pair && !(has("left") && has("right")) {
        return Some("needs both `left` and `right`".into());
    }
    if single && !(has("target") && has("sql")) {
        return Some("needs both `target` and `sql`".into());
    }
    (!single && !pair).then(|| "needs `target` and `sql`, or `left` and `right`".into())
}

/// One problem per knot of tasks that depend on each other, at the id of its
/// task that comes first in the file; the path is printed in run order
/// (`a -> b` means b is after a).
fn report_cycles(r: &mut Report, tasks: &[Task], downstream: &[Vec<usize>]) {
    let name = |i: usize| tasks[i].id.map_or("?", |(id, _)| id);
    for cycle in cycles::cycles(downstream) {
        let start = cycle.path[0];
        let path: Vec<&str> = cycle
            .path
            .iter()
            .chain(std::iter::once(&start))
            .map(|&i| name(i))
            .collect();
        let mut message = format!("cycle: {}", path.join(" -> "));
        if !cycle.others.is_empty() {
            const SHOWN: usize = 5;
            let mut others: Vec<&str> = cycle.others.iter().take(SHOWN).map(|&i| name(i)).collect();
            if cycle.others.len() > SHOWN {
                others.push("…");
            }
            message.push_str(&format!(
                " ({} more in cycles with these: {})",
                cycle.others.len(),
                others.join(", ")
            ));
        }
        r.at(tasks[start].anchor, message);
    }
}
