//! Every table an `export_all` covers gets a file of its own, and with
//! `load from`, a warehouse table of its own: two source tables that would
//! share one (`brk_a.users` and `brk_b.users` under `table = "raw_{table}"`,
//! or `Users` and `users` in SQLite, which does not tell table names apart
//! by case) make the run's creation fail, naming them, instead of one
//! silently overwriting the other. The one sharing allowed is a deliberate
//! gather: an append into one fixed table (no `{schema}` or `{table}`).
//!
//! Names are compared as the run will render them: `{schema}`, `{table}` and
//! `{task_id}` differ between instances; the other placeholders are the same
//! for the whole run and are compared as written.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use super::plan::{export_all_path, fan_out_params};
use super::store::NewInstance;
use super::template;
use crate::config::{PipelineDef, TaskDef, TaskKind, Workspace};
use crate::connectors::source::TableName;

/// Fails with every collision of the planned fan-out instances.
pub fn refuse_shared_targets(
    ws: &Workspace,
    p: &PipelineDef,
    planned: &[NewInstance],
) -> Result<()> {
    let problems = shared_targets(p, planned, |w| {
        ws.def.warehouses.get(w).map(|d| d.kind.clone())
    });
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

/// One problem per file or warehouse table that several source tables would
/// share; `warehouse_kind` tells how a warehouse compares table names.
fn shared_targets(
    p: &PipelineDef,
    planned: &[NewInstance],
    warehouse_kind: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    // (parent task, target as compared) → (target as shown, tables).
    let mut targets: BTreeMap<(&str, String), (String, Vec<TableName>)> = BTreeMap::new();
    for inst in planned {
        let Some((parent, tn)) = fan_out_params(inst.params.as_ref()) else {
            continue;
        };
        let Some(def) = p.tasks.iter().find(|t| t.id == parent) else {
            continue;
        };
        let Some((shown, compared)) = target(&warehouse_kind, def, &tn, &inst.task_id) else {
            continue;
        };
        targets
            .entry((&def.id, compared))
            .or_insert_with(|| (shown, Vec::new()))
            .1
            .push(tn);
    }
    targets
        .iter()
        .filter(|(_, (_, tables))| tables.len() > 1)
        .filter_map(|((parent, _), (shown, tables))| {
            let def = p.tasks.iter().find(|t| t.id == *parent)?;
            collision(def, shown, tables)
        })
        .collect()
}

/// Where one instance writes (shown, and as its store or warehouse compares
/// names), or None for tasks that do not fan out.
fn target(
    warehouse_kind: &dyn Fn(&str) -> Option<String>,
    def: &TaskDef,
    tn: &TableName,
    task_id: &str,
) -> Option<(String, String)> {
    let render = |t: &str| {
        template::expand(t, |name| match name {
            "schema" => Some(tn.schema.clone()),
            "table" => Some(tn.name.clone()),
            "task_id" => Some(task_id.to_string()),
            _ => None,
        })
    };
    match def.kind {
        TaskKind::ExportAll => {
            let path = render(&export_all_path(def));
            Some((path.clone(), path))
        }
        TaskKind::Load => {
            let table = render(def.table.as_deref()?);
            let kind = def.warehouse.as_deref().and_then(warehouse_kind);
            // SQLite folds ASCII case in table names; BigQuery tells them apart.
            let compared = match kind.as_deref() {
                Some("bigquery") => table.clone(),
                _ => table.to_ascii_lowercase(),
            };
            Some((table, compared))
        }
        TaskKind::Export | TaskKind::Sql | TaskKind::Check | TaskKind::Wait | TaskKind::Command => {
            None
        }
    }
}

/// The problem with `tables` sharing `shown`, or None when the sharing is
/// a deliberate gather.
fn collision(def: &TaskDef, shown: &str, tables: &[TableName]) -> Option<String> {
    let mut names: Vec<String> = tables.iter().map(TableName::spelled).collect();
    names.sort();
    let names = names.join(", ");
    if def.kind == TaskKind::ExportAll {
        return Some(format!(
            "export_all `{}` would write source tables {names} to one file, `{shown}`; leave all but one out with `exclude`",
            def.id
        ));
    }
    let template = def.table.as_deref().unwrap_or_default();
    let append = def.mode.as_deref() == Some("append");
    if append && !template.contains("{table}") && !template.contains("{schema}") {
        return None;
    }
    let differ_in_schema = tables.iter().any(|t| t.schema != tables[0].schema);
    let hint = if !template.contains("{table}") {
        "put {table} in its `table` (and {schema} when schemas share table names), e.g. \"raw_{schema}_{table}\"".to_string()
    } else if differ_in_schema && !template.contains("{schema}") {
        format!(
            "put {{schema}} in its `table`, e.g. \"{}\"",
            template.replace("{table}", "{schema}_{table}")
        )
    } else if tables
        .iter()
        .all(|t| t.name.eq_ignore_ascii_case(&tables[0].name))
    {
        format!(
            "warehouse `{}` does not tell table names apart by case; leave all but one out with `exclude` in `{}`",
            def.warehouse.as_deref().unwrap_or_default(),
            def.from.as_deref().unwrap_or_default()
        )
    } else {
        "make its `table` tell them apart, or leave all but one out with `exclude`".to_string()
    };
    let how = if append {
        "their rows mixed"
    } else {
        "each replacing the last"
    };
    Some(format!(
        "load `{}` would load source tables {names} into one warehouse table, `{shown}`, {how}; {hint}",
        def.id
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::engine::plan::expand;

    fn table(schema: &str, name: &str) -> TableName {
        TableName {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// The problems of `dump` over `tables`, loaded with `table`/`mode` into
    /// a warehouse of `kind`.
    fn problems(
        tables: Vec<TableName>,
        template: &str,
        mode: Option<&str>,
        kind: &str,
    ) -> Vec<String> {
        let dump = TaskDef {
            id: "dump".into(),
            kind: TaskKind::ExportAll,
            prefix: Some("raw/{run_date}/".into()),
            ..TaskDef::default()
        };
        let load = TaskDef {
            id: "load".into(),
            kind: TaskKind::Load,
            from: Some("dump".into()),
            warehouse: Some("wh".into()),
            table: Some(template.into()),
            mode: mode.map(String::from),
            ..TaskDef::default()
        };
        let p = PipelineDef {
            tasks: vec![dump, load],
            ..PipelineDef::default()
        };
        let planned = expand(&p, &HashMap::from([("dump", tables)]));
        shared_targets(&p, &planned, |_| Some(kind.to_string()))
    }

    #[test]
    fn tables_of_two_schemas_under_one_name_are_refused_with_the_fix() {
        let both = vec![
            table("brk_a", "users"),
            table("brk_b", "users"),
            table("brk_a", "orders"),
        ];
        assert_eq!(
            problems(both.clone(), "raw_{table}", None, "sqlite"),
            [
                "load `load` would load source tables brk_a.users, brk_b.users into one warehouse table, `raw_users`, each replacing the last; put {schema} in its `table`, e.g. \"raw_{schema}_{table}\""
            ]
        );
        assert!(problems(both.clone(), "raw_{schema}_{table}", None, "sqlite").is_empty());
        // {task_id} differs per instance too.
        assert!(problems(both, "raw_{task_id}", None, "sqlite").is_empty());
    }

    #[test]
    fn case_counts_where_the_warehouse_says() {
        let tables = vec![table("public", "Users"), table("public", "users")];
        let sqlite = problems(tables.clone(), "raw_{table}", None, "sqlite");
        assert_eq!(sqlite.len(), 1, "{sqlite:?}");
        assert!(
            sqlite[0].contains("public.Users, public.users"),
            "{sqlite:?}"
        );
        assert!(
            sqlite[0].contains("does not tell table names apart by case"),
            "{sqlite:?}"
        );
        assert!(problems(tables, "raw_{table}", None, "bigquery").is_empty());
    }

    #[test]
    fn one_fixed_table_gathers_appends_but_not_replaces() {
        let shards = vec![table("app", "events_1"), table("app", "events_2")];
        assert!(problems(shards.clone(), "events", Some("append"), "sqlite").is_empty());
        let replace = problems(shards.clone(), "events", None, "sqlite");
        assert!(
            replace[0].contains("each replacing the last; put {table}"),
            "{replace:?}"
        );
        // With a placeholder the sharing is an accident, append or not.
        let mixed = problems(
            vec![table("a", "x"), table("b", "x")],
            "raw_{table}",
            Some("append"),
            "sqlite",
        );
        assert!(mixed[0].contains("their rows mixed"), "{mixed:?}");
    }

    #[test]
    fn names_with_dots_that_spell_one_file_are_refused() {
        let tables = vec![table("a.b", "c"), table("a", "b.c")];
        let got = problems(tables, "raw_{schema}_{table}", None, "sqlite");
        assert_eq!(
            got,
            [
                "export_all `dump` would write source tables \"a.b\".c, a.\"b.c\" to one file, `raw/{run_date}/a.b.c.parquet`; leave all but one out with `exclude`"
            ]
        );
    }
}
