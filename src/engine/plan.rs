//! Planning a run: the workspace's tasks become task instances. An
//! `export_all` expands here, when the run is created, into one instance per
//! table of its source (`TASK.schema.table`), and a `load` with `from` into
//! one load per table after its export (`LOAD.schema.table`), so each table
//! shows, fails and reruns on its own.
//!
//! Expanded instances keep only parameters (`parent`, `schema`, `table`);
//! their task definition is derived from the parent at execution time, so a
//! rerun uses the workspace file as it is now. The table's names are never
//! pasted into the derived templates: they are the values of `{schema}` and
//! `{table}` (see `engine::template`).

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;

use super::store::{InstanceRow, NewInstance};
use crate::config::rules::Globs;
use crate::config::{PipelineDef, TaskDef, TaskKind, Workspace};
use crate::connectors::source::{TableKind, TableName};
use crate::format::Format;

/// Instances of a new run of `pipeline`, in declaration order.
pub async fn plan(ws: &Workspace, pipeline: &str) -> Result<Vec<NewInstance>> {
    let Some(p) = ws.pipeline(pipeline) else {
        let known: Vec<&str> = ws.def.pipelines.keys().map(String::as_str).collect();
        bail!(
            "no pipeline `{pipeline}` in {} (pipelines: {})",
            ws.file.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        );
    };
    let mut tables: HashMap<&str, Vec<TableName>> = HashMap::new();
    for t in p.tasks.iter().filter(|t| t.kind == TaskKind::ExportAll) {
        tables.insert(&t.id, tables_of(ws, t).await?);
    }
    let planned = expand(p, &tables);
    super::collisions::refuse_shared_targets(ws, p, &planned)?;
    Ok(planned)
}

/// The tables an `export_all` covers: every table of its source matching
/// `include` (default: all) and no `exclude` glob, on `schema.table`.
async fn tables_of(ws: &Workspace, t: &TaskDef) -> Result<Vec<TableName>> {
    let name = t.source.as_deref().unwrap_or_default();
    let source = crate::connectors::open_source(ws, name)
        .await
        .with_context(|| format!("export_all `{}`: cannot open source `{name}`", t.id))?;
    let all =
        source.source.list_tables().await.with_context(|| {
            format!("export_all `{}`: cannot list the tables of `{name}`", t.id)
        })?;
    let include = Globs::new(t.include.as_deref().unwrap_or(&["*".to_string()]));
    let exclude = Globs::new(t.exclude.as_deref().unwrap_or_default());
    Ok(all
        .into_iter()
        .filter(|s| s.kind == TableKind::Table)
        .map(|s| s.table)
        .filter(|tn| {
            let full = tn.to_string();
            include.matches(&full) && !exclude.matches(&full)
        })
        .collect())
}

/// Pure expansion, given each export_all's tables (tested without a database).
pub fn expand(p: &PipelineDef, tables: &HashMap<&str, Vec<TableName>>) -> Vec<NewInstance> {
    // Ids of the instances each task became, for rewriting `after`.
    let mut became: HashMap<&str, Vec<String>> = HashMap::new();
    let mut child_of: HashMap<(&str, &TableName), String> = HashMap::new();
    let mut used: HashSet<String> = p.tasks.iter().map(|t| t.id.clone()).collect();
    for t in &p.tasks {
        if t.kind == TaskKind::ExportAll {
            let ids: Vec<String> = tables
                .get(t.id.as_str())
                .into_iter()
                .flatten()
                .map(|tn| {
                    let id = unique_id(&mut used, &t.id, tn);
                    child_of.insert((t.id.as_str(), tn), id.clone());
                    id
                })
                .collect();
            became.insert(&t.id, ids);
        }
    }
    for t in &p.tasks {
        if let (true, Some(from)) = (t.kind == TaskKind::Load, t.from.as_deref()) {
            let ids = tables
                .get(from)
                .into_iter()
                .flatten()
                .map(|tn| unique_id(&mut used, &t.id, tn))
                .collect();
            became.insert(&t.id, ids);
        }
    }
    let rewrite = |after: &[String]| -> Vec<String> {
        after
            .iter()
            .flat_map(|a| match became.get(a.as_str()) {
                Some(ids) => ids.clone(),
                None => vec![a.clone()],
            })
            .collect()
    };
    let mut out = Vec::new();
    for t in &p.tasks {
        let base = NewInstance {
            task_id: t.id.clone(),
            kind: t.kind,
            pool: t.pool.clone(),
            slots: i64::from(t.partitions.unwrap_or(1).max(1)),
            upstream: rewrite(&t.after),
            params: None,
        };
        if t.kind == TaskKind::ExportAll {
            let ts = tables.get(t.id.as_str()).cloned().unwrap_or_default();
            for (tn, id) in ts
                .iter()
                .zip(became.get(t.id.as_str()).into_iter().flatten())
            {
                out.push(NewInstance {
                    task_id: id.clone(),
                    kind: TaskKind::Export,
                    params: Some(json!({"parent": t.id, "schema": tn.schema, "table": tn.name})),
                    ..base.clone()
                });
            }
        } else if let (true, Some(from)) = (t.kind == TaskKind::Load, t.from.as_deref()) {
            let ts = tables.get(from).cloned().unwrap_or_default();
            for (tn, id) in ts
                .iter()
                .zip(became.get(t.id.as_str()).into_iter().flatten())
            {
                let mut upstream = base.upstream.clone();
                if let Some(export) = child_of.get(&(from, tn)) {
                    upstream.push(export.clone());
                }
                out.push(NewInstance {
                    task_id: id.clone(),
                    kind: TaskKind::Load,
                    slots: 1,
                    upstream,
                    params: Some(json!({"parent": t.id, "schema": tn.schema, "table": tn.name})),
                    ..base.clone()
                });
            }
        } else {
            out.push(base);
        }
    }
    out
}

/// `TASK.schema.table`, with characters a task id cannot hold turned into `_`.
fn unique_id(used: &mut HashSet<String>, task: &str, tn: &TableName) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let base = format!("{task}.{}.{}", clean(&tn.schema), clean(&tn.name));
    let mut id = base.clone();
    let mut n = 2;
    while !used.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

fn quoted(tn: &TableName) -> String {
    format!(
        "\"{}\".\"{}\"",
        tn.schema.replace('"', "\"\""),
        tn.name.replace('"', "\"\"")
    )
}

/// The file an `export_all` writes for each table, as a template:
/// `{prefix}{schema}.{table}.{ext}`. The names are placeholders filled in
/// when the task runs, so a catalog name is never read as a template.
pub fn export_all_path(parent: &TaskDef) -> String {
    let format = parent
        .format
        .as_deref()
        .and_then(|f| f.parse::<Format>().ok())
        .unwrap_or_default();
    format!(
        "{}{{schema}}.{{table}}.{}",
        parent.prefix.as_deref().unwrap_or(""),
        format.extension()
    )
}

/// The table an expanded instance (`TASK.schema.table`) stands for.
pub fn fan_out_table(row: &InstanceRow) -> Option<TableName> {
    fan_out_params(row.params.as_ref()).map(|(_, tn)| tn)
}

/// An expanded instance's parent task and table, from its parameters.
pub fn fan_out_params(params: Option<&serde_json::Value>) -> Option<(&str, TableName)> {
    let params = params?;
    let parent = params.get("parent")?.as_str()?;
    let part = |key: &str| params.get(key).and_then(|v| v.as_str()).map(String::from);
    Some((
        parent,
        TableName {
            schema: part("schema")?,
            name: part("table")?,
        },
    ))
}

/// The task definition an instance executes: its workspace task, or one
/// derived from its parent (expanded instances), or the one it carries (ad hoc).
pub fn resolve_def(defs: &HashMap<String, TaskDef>, row: &InstanceRow) -> Result<TaskDef> {
    let params = row.params.as_ref();
    if let Some(def) = params.and_then(|p| p.get("def")) {
        return serde_json::from_value(def.clone()).context("corrupt ad-hoc task definition");
    }
    let Some(parent) = params.and_then(|p| p["parent"].as_str()) else {
        return defs
            .get(&row.task_id)
            .cloned()
            .ok_or_else(|| anyhow!("task `{}` is no longer in the workspace file", row.task_id));
    };
    let tn = fan_out_table(row)
        .ok_or_else(|| anyhow!("task `{}`: its table is missing from the run", row.task_id))?;
    let p = defs.get(parent).ok_or_else(|| {
        anyhow!(
            "`{parent}`, which `{}` belongs to, is no longer in the workspace file",
            row.task_id
        )
    })?;
    match p.kind {
        TaskKind::ExportAll => Ok(TaskDef {
            id: row.task_id.clone(),
            kind: TaskKind::Export,
            after: Vec::new(),
            table: Some(quoted(&tn)),
            path: Some(export_all_path(p)),
            include: None,
            exclude: None,
            prefix: None,
            ..p.clone()
        }),
        TaskKind::Load => {
            let from = p.from.as_deref().unwrap_or_default();
            let export = defs.get(from).ok_or_else(|| {
                anyhow!("`{from}`, which `{parent}` loads from, is no longer in the workspace file")
            })?;
            Ok(TaskDef {
                id: row.task_id.clone(),
                kind: TaskKind::Load,
                after: Vec::new(),
                from: None,
                path: Some(export_all_path(export)),
                store: p.store.clone().or_else(|| export.store.clone()),
                // `{schema}` and `{table}` stay placeholders: see `export_all_path`.
                table: p.table.clone(),
                format: export.format.clone(),
                ..p.clone()
            })
        }
        other @ (TaskKind::Export
        | TaskKind::Sql
        | TaskKind::Check
        | TaskKind::Wait
        | TaskKind::Command) => bail!("`{parent}` is a {other} task; it does not expand"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::rules::glob_matches;

    fn task(id: &str, kind: &str, after: &[&str]) -> TaskDef {
        TaskDef {
            id: id.into(),
            kind: TaskKind::parse(kind).expect("a task kind"),
            after: after.iter().map(|s| s.to_string()).collect(),
            ..TaskDef::default()
        }
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*", "main.users"));
        assert!(glob_matches("main.*", "main.users"));
        assert!(!glob_matches("main.*", "other.users"));
        assert!(glob_matches("*.user?", "x.users"));
        assert!(!glob_matches("*.user?", "x.user"));
        assert!(glob_matches("*_log*", "main.audit_log_2024"));
        assert!(glob_matches("main.{users,orders}", "main.orders"));
        assert!(!glob_matches("main.{users,orders}", "main.events"));
        assert!(glob_matches("main.events_202[45]", "main.events_2025"));
        assert!(glob_matches("odd\\*name", "odd*name"));
        assert!(!glob_matches("odd\\*name", "oddXname"));
        let set = Globs::new(&["main.*", "audit.log"]);
        assert!(set.matches("audit.log") && set.matches("main.x") && !set.matches("other.x"));
    }

    #[test]
    fn export_all_and_load_from_expand_per_table() {
        let mut load = task("load", "load", &[]);
        load.from = Some("dump".into());
        load.table = Some("raw_{table}".into());
        let p = PipelineDef {
            max_active: None,
            tasks: vec![
                task("start", "command", &[]),
                task("dump", "export_all", &["start"]),
                load,
                task("report", "sql", &["load"]),
            ],
            ..PipelineDef::default()
        };
        let users = TableName {
            schema: "main".into(),
            name: "users".into(),
        };
        let odd = TableName {
            schema: "main".into(),
            name: "odd name".into(),
        };
        let tables = HashMap::from([("dump", vec![users, odd])]);
        let got = expand(&p, &tables);
        let ids: Vec<&str> = got.iter().map(|i| i.task_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "start",
                "dump.main.users",
                "dump.main.odd_name",
                "load.main.users",
                "load.main.odd_name",
                "report"
            ]
        );
        assert_eq!(got[1].upstream, ["start"]);
        assert_eq!(got[3].upstream, ["dump.main.users"]);
        assert_eq!(got[5].upstream, ["load.main.users", "load.main.odd_name"]);
        assert_eq!(got[2].params.as_ref().unwrap()["table"], "odd name");
    }

    #[test]
    fn expanded_definitions_derive_from_the_parent() {
        let mut dump = task("dump", "export_all", &[]);
        dump.prefix = Some("raw/{run_date}/".into());
        dump.format = Some("ndjson".into());
        dump.source = Some("app".into());
        let mut load = task("load", "load", &[]);
        load.from = Some("dump".into());
        load.table = Some("raw_{table}".into());
        load.warehouse = Some("wh".into());
        let defs = HashMap::from([("dump".to_string(), dump), ("load".to_string(), load)]);
        let row = |id: &str, parent: &str| InstanceRow {
            run_id: 1,
            task_id: id.into(),
            kind: String::new(),
            state: crate::engine::state::TaskState::Pending,
            attempt: 0,
            retry_base: 0,
            pool: None,
            slots: 1,
            upstream: vec![],
            ord: 0,
            rows: None,
            bytes: None,
            total_estimate: None,
            error: None,
            waiting_on: None,
            next_try_at: None,
            started_at: None,
            finished_at: None,
            updated_at: 0,
            cancel_requested: false,
            params: Some(json!({"parent": parent, "schema": "main", "table": "Odd \"t\""})),
            queued_at: None,
        };
        let e = resolve_def(&defs, &row("dump.main.x", "dump")).unwrap();
        assert_eq!(e.kind, TaskKind::Export);
        assert_eq!(e.table.as_deref(), Some(r#""main"."Odd ""t""""#));
        // The names stay placeholders, filled in one pass when the task runs.
        assert_eq!(
            e.path.as_deref(),
            Some("raw/{run_date}/{schema}.{table}.ndjson")
        );
        let tn = fan_out_table(&row("dump.main.x", "dump")).unwrap();
        assert_eq!(
            (tn.schema.as_str(), tn.name.as_str()),
            ("main", "Odd \"t\"")
        );
        let l = resolve_def(&defs, &row("load.main.x", "load")).unwrap();
        assert_eq!(l.kind, TaskKind::Load);
        assert_eq!(l.table.as_deref(), Some("raw_{table}"));
        assert_eq!(l.path, e.path);
        assert_eq!(fan_out_table(&row("load.main.x", "load")), Some(tn));
        assert!(resolve_def(&HashMap::new(), &row("load.main.x", "load")).is_err());
    }
}
