//! One-off exports and loads (`switchyard export`/`load`, the console's
//! forms): the task definition they run as, and starting one in a detached
//! worker so the caller (the console) executes nothing itself.

use std::collections::BTreeMap;

use anyhow::Result;

use super::lease::Owner;
use super::{Engine, launch};
use crate::config::{TaskDef, TaskKind, Workspace, rules};
use crate::format::Format;

/// An ad-hoc task refused before any run is created: it names what the
/// workspace does not have, or a value the workspace file would refuse.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTask(pub String);

/// Checks an ad-hoc export or load by the rules of the workspace file, so
/// that a typo is refused at once instead of recorded as a failed run.
pub fn check(ws: &Workspace, def: &TaskDef) -> Result<(), InvalidTask> {
    fn known<V>(defined: &BTreeMap<String, V>) -> Vec<&str> {
        defined.keys().map(String::as_str).collect()
    }
    let refer = |value: &Option<String>, what: &str, known: Vec<&str>| match value {
        Some(v) => rules::reference(v, what, &known).map_err(InvalidTask),
        None => Err(InvalidTask(format!(
            "{} `{}` needs a {what}",
            def.kind, def.id
        ))),
    };
    let d = &ws.def;
    if def.kind == TaskKind::Export {
        refer(&def.source, "source", known(&d.sources))?;
    }
    refer(&def.store, "store", known(&d.stores))?;
    if def.kind == TaskKind::Load {
        refer(&def.warehouse, "warehouse", known(&d.warehouses))?;
    }
    if let Some(path) = &def.path {
        rules::file_path(path).map_err(|e| InvalidTask(format!("path: {e}")))?;
    }
    if let Some(n) = def.partitions {
        rules::partitions(n.into()).map_err(InvalidTask)?;
    }
    match def.table.as_deref().map(str::trim) {
        Some("") => return Err(InvalidTask("the table name is empty".into())),
        Some(t) if t.chars().any(char::is_control) => {
            return Err(InvalidTask(format!(
                "table `{}` has a control character",
                crate::text::one_line(t)
            )));
        }
        _ => {}
    }
    Ok(())
}

/// A file name from a table name, safe on any store.
pub fn file_stem(table: &str) -> String {
    table
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where an export of `table` lands when nobody says: `TABLE/{run_date}.EXT`.
pub fn default_export_path(table: &str, format: Format) -> String {
    format!("{}/{{run_date}}.{}", file_stem(table), format.extension())
}

pub struct ExportSpec<'a> {
    pub source: &'a str,
    pub table: &'a str,
    pub store: &'a str,
    pub path: Option<&'a str>,
    pub format: Format,
    pub partitions: Option<u32>,
    /// Convert values that cannot be carried exactly instead of refusing.
    pub lossy: bool,
    /// `--incremental COLUMN --since VALUE`: only the rows above VALUE.
    pub since: Option<(&'a str, &'a str)>,
}

pub fn export_def(a: &ExportSpec<'_>) -> TaskDef {
    let path = a
        .path
        .map(String::from)
        .unwrap_or_else(|| default_export_path(a.table, a.format));
    TaskDef {
        id: "export".into(),
        kind: TaskKind::Export,
        source: Some(a.source.into()),
        table: Some(a.table.into()),
        store: Some(a.store.into()),
        path: Some(path),
        format: Some(a.format.extension().into()),
        partitions: a.partitions,
        lossy: a.lossy.then(|| "convert".to_string()),
        incremental: a.since.map(|(column, _)| column.to_string()),
        since: a.since.map(|(_, value)| value.to_string()),
        ..TaskDef::default()
    }
}

pub fn export_label(source: &str, table: &str) -> String {
    format!("export {source}.{table}")
}

pub fn load_def(
    store: &str,
    path: &str,
    warehouse: &str,
    table: &str,
    mode: Option<&str>,
    key: &[String],
) -> TaskDef {
    TaskDef {
        id: "load".into(),
        kind: TaskKind::Load,
        store: Some(store.into()),
        path: Some(path.into()),
        warehouse: Some(warehouse.into()),
        table: Some(table.into()),
        mode: mode.map(String::from),
        key: (!key.is_empty()).then(|| key.to_vec()),
        ..TaskDef::default()
    }
}

pub fn load_label(warehouse: &str, table: &str) -> String {
    format!("load {warehouse}.{table}")
}

/// Creates the run of one ad-hoc task for `run_date`, writes it to the
/// journal and hands it to a detached worker. Returns the run's id. If no
/// worker starts, the run is given back and settled rather than left owned
/// by a process that will never execute it.
pub async fn start_detached(
    engine: &Engine,
    owner: &Owner,
    label: &str,
    run_date: &str,
    def: &TaskDef,
) -> Result<i64> {
    let id = engine.create_adhoc_run(label, run_date, def, owner).await?;
    launch::journal(engine, def.kind.name(), Some(id), label).await?;
    launch::detach(engine, owner, &[id], 1)
        .await
        .map_err(|e| e.context(format!("run {id}")))?;
    Ok(id)
}
