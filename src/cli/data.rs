//! Data commands: ad-hoc `export` and `load`, and `sources` (browse).

use anyhow::Result;
use serde_json::json;

use super::{Cli, exit};
use crate::config::redact::redact;
use crate::connectors::open_source;
use crate::connectors::source::{Column, TableName};
use crate::engine::adhoc;
use crate::engine::executor::incremental;
use crate::format::Format;
use crate::text::one_line;

pub struct ExportArgs<'a> {
    pub source: &'a str,
    pub table: &'a str,
    pub store: &'a str,
    pub path: Option<&'a str>,
    pub format: Option<&'a str>,
    pub partitions: Option<u32>,
    pub lossy: bool,
    pub since: Option<(&'a str, &'a str)>,
    pub detach: bool,
}

pub async fn export(cli: &Cli, a: ExportArgs<'_>) -> Result<u8> {
    let format = match a.format {
        Some(f) => f.parse::<Format>().map_err(|e| exit(2, e))?,
        None => Format::default(),
    };
    let (table, columns) = refuse_unknown_table(cli, a.source, a.table).await?;
    let def = adhoc::export_def(&adhoc::ExportSpec {
        source: a.source,
        table: a.table,
        store: a.store,
        path: a.path,
        format,
        partitions: a.partitions,
        lossy: a.lossy,
        since: a.since,
    });
    // A --since the column cannot hold is refused now, not as a failed run.
    incremental::plan(&def, &table, &columns, None).map_err(|f| exit(2, f.message))?;
    let label = adhoc::export_label(a.source, a.table);
    super::execute::adhoc(cli, &label, def, a.detach).await
}

/// An ad-hoc export names its table on the command line: one that does not
/// parse, or is not in the source, is refused here (exit 2) rather than
/// becoming a run that fails, or exports another table. Returns the table
/// and its columns.
async fn refuse_unknown_table(
    cli: &Cli,
    source: &str,
    table: &str,
) -> Result<(TableName, Vec<Column>)> {
    let file = crate::config::find_workspace(cli.config.as_deref())?;
    let ws = crate::config::load(&file).map_err(|e| exit(2, e.to_string()))?;
    // An unknown source is refused as every other reference is.
    let known: Vec<&str> = ws.def.sources.keys().map(String::as_str).collect();
    crate::config::rules::reference(source, "source", &known).map_err(|e| exit(2, e))?;
    let opened = open_source(&ws, source)
        .await
        .map_err(|e| exit(2, redact(&crate::text::error_chain(&e))))?;
    let tn = TableName::parse(table, &opened.default_schema)
        .map_err(|e| exit(2, format!("not a table name: {e}")))?;
    let detail = opened.source.describe(&tn).await.map_err(|e| {
        exit(
            2,
            redact(&format!(
                "source `{source}`: {}",
                crate::text::error_chain(&e)
            )),
        )
    })?;
    Ok((tn, detail.columns))
}

pub struct LoadArgs<'a> {
    pub store: &'a str,
    pub path: &'a str,
    pub warehouse: &'a str,
    pub table: &'a str,
    pub mode: Option<&'a str>,
    pub key: &'a [String],
    pub detach: bool,
}

pub async fn load(cli: &Cli, a: LoadArgs<'_>) -> Result<u8> {
    if !a.key.is_empty() && a.mode != Some("merge") {
        return Err(exit(2, "--key is only for --mode merge".to_string()));
    }
    let def = adhoc::load_def(a.store, a.path, a.warehouse, a.table, a.mode, a.key);
    let label = adhoc::load_label(a.warehouse, a.table);
    super::execute::adhoc(cli, &label, def, a.detach).await
}

pub async fn sources(
    cli: &Cli,
    source: Option<&str>,
    table: Option<&str>,
    as_json: bool,
) -> Result<u8> {
    let file = crate::config::find_workspace(cli.config.as_deref())?;
    let ws = crate::config::load(&file).map_err(|e| exit(2, e.to_string()))?;
    let Some(name) = source else {
        if as_json {
            let list: Vec<_> = ws
                .def
                .sources
                .iter()
                .map(|(n, s)| json!({"name": n, "kind": s.kind, "url": s.url.as_deref().map(redact), "path": s.path}))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "sources": list }))?
            );
        } else {
            for (n, s) in &ws.def.sources {
                let at = s
                    .url
                    .as_deref()
                    .map(redact)
                    .or(s.path.clone())
                    .unwrap_or_default();
                println!("{:<16} {:<9} {}", one_line(n), s.kind, one_line(&at));
            }
        }
        return Ok(0);
    };
    let opened = open_source(&ws, name)
        .await
        .map_err(|e| exit(2, redact(&crate::text::error_chain(&e))))?;
    let Some(table) = table else {
        let tables = opened.source.list_tables().await?;
        if as_json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "tables": tables }))?
            );
        } else {
            println!("{:<40} {:<6} {:>14}", "TABLE", "KIND", "ROWS (EST.)");
            for t in &tables {
                let rows = t
                    .row_estimate
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "?".into());
                let kind = format!("{:?}", t.kind).to_lowercase();
                println!(
                    "{:<40} {kind:<6} {rows:>14}",
                    one_line(&t.table.to_string())
                );
            }
        }
        return Ok(0);
    };
    let tn = TableName::parse(table, &opened.default_schema).map_err(|e| exit(2, e.to_string()))?;
    let d = opened.source.describe(&tn).await?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&d)?);
        return Ok(0);
    }
    let rows = d
        .summary
        .row_estimate
        .map(|r| format!("about {r} rows"))
        .unwrap_or_else(|| "row count unknown (never analysed)".into());
    println!("{}  ({rows})", one_line(&d.summary.table.to_string()));
    if !d.primary_key.is_empty() {
        println!("primary key: {}", one_line(&d.primary_key.join(", ")));
    }
    println!(
        "{:<24} {:<26} {:<28} {:<18} NOTE",
        "COLUMN", "SOURCE TYPE", "ARROW", "WAREHOUSE"
    );
    for c in &d.columns {
        let note = match &c.ty.fidelity {
            crate::format::types::Fidelity::Exact => String::new(),
            crate::format::types::Fidelity::Fallback { note } => format!("lossy: {note}"),
            crate::format::types::Fidelity::Refused { reason } => format!("REFUSED: {reason}"),
        };
        let null = if c.nullable { "" } else { " not null" };
        println!(
            "{:<24} {:<26} {:<28} {:<18} {}",
            one_line(&c.name),
            one_line(&format!("{}{null}", c.ty.db_type)),
            c.ty.arrow.to_string(),
            c.ty.warehouse.to_string(),
            one_line(&note)
        );
    }
    Ok(0)
}
