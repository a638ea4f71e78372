//! Forms: keys while one is open, the export, load and backfill forms'
//! defaults, and what submitting each starts. A refused submit keeps the
//! form open with its error, focused on the field at fault; nothing is
//! started until every field makes sense.

use super::*;
use crate::connectors::source::{TableDetail, TableName};
use crate::engine::adhoc;
use crate::format::Format;
use crate::format::types::Fidelity;
use crate::tui::backfill::{self, BackfillRequest};
use crate::tui::browse::{Browse, BrowseEffect, table_from_path};
use crate::tui::form::{Field, Form, FormKey, FormPurpose};

const FORMATS: [&str; 3] = ["parquet", "ndjson", "csv"];

pub(super) fn form_key(s: &mut State, mut form: Form, key: &str, fx: &mut Vec<Effect>) {
    match form.key(key) {
        FormKey::Cancel => {}
        FormKey::Editing => {
            follow_defaults(&mut form);
            s.modal = Some(Modal::Form(form));
        }
        FormKey::Submit => {
            if s.readonly {
                let what = match form.purpose {
                    FormPurpose::Export { .. } => "export",
                    FormPurpose::Load { .. } => "load",
                    FormPurpose::Backfill { .. } => "start a backfill",
                };
                return flash(s, false, crate::tui::action::read_only_refusal(what));
            }
            match submit(&form) {
                Ok((label, effect)) => {
                    flash(s, true, format!("starting {label}…"));
                    fx.push(effect);
                }
                Err((field, e)) => {
                    form.focus_on(field);
                    form.error = Some(e);
                    s.modal = Some(Modal::Form(form));
                }
            }
        }
    }
}

/// Defaults that follow other fields until the user edits them, and the
/// note of what Enter would start.
fn follow_defaults(form: &mut Form) {
    match &form.purpose {
        FormPurpose::Export { table, .. } => {
            let format = form.value("format").parse().unwrap_or_default();
            let path = export_path(table, format);
            form.set_default("path", &path);
        }
        FormPurpose::Backfill { pipelines } => {
            let chosen = form.value("pipeline");
            let max_active = (pipelines.iter())
                .find(|(p, _)| p == chosen)
                .and_then(|(_, m)| *m)
                .unwrap_or(1);
            form.set_default("max_active", &max_active.to_string());
            form.note = backfill_request(form).ok().map(|r| r.summary());
        }
        FormPurpose::Load { .. } => {}
    }
}

fn export_path(table: &TableName, format: Format) -> String {
    adhoc::default_export_path(&format!("{}.{}", table.schema, table.name), format)
}

pub(super) fn open_export(
    b: &Browse,
    source: &str,
    table: &TableName,
    detail: Option<&TableDetail>,
) -> Form {
    let stores: Vec<String> = b.stores.stores.iter().map(|n| n.name.clone()).collect();
    // The store being browsed, else the first.
    let chosen = b.stores.store.unwrap_or(0);
    let mut fields = vec![
        Field::choice(
            "store",
            "Store",
            stores,
            chosen,
            "The store the file lands in",
        ),
        Field::text(
            "path",
            "Path",
            &export_path(table, Format::Parquet),
            "In the store; {run_date} and {run_id} are filled in when it runs",
        ),
        Field::choice(
            "format",
            "Format",
            FORMATS.map(String::from).to_vec(),
            0,
            "Parquet keeps every type; NDJSON and CSV are text",
        ),
    ];
    let mut error = None;
    if let Some(d) = detail {
        let lossy: Vec<&str> = d
            .columns
            .iter()
            .filter(|c| matches!(c.ty.fidelity, Fidelity::Fallback { .. }))
            .map(|c| c.name.as_str())
            .collect();
        if !lossy.is_empty() {
            fields.push(Field::choice(
                "lossy",
                "Inexact values",
                vec!["refuse".into(), "convert".into()],
                0,
                &format!(
                    "{} cannot be carried exactly: refuse fails on such a value, convert applies the documented fallback",
                    lossy.join(", ")
                ),
            ));
        }
        if let Some(c) = d
            .columns
            .iter()
            .find(|c| matches!(c.ty.fidelity, Fidelity::Refused { .. }))
        {
            error = Some(format!(
                "column {} ({}) cannot be exported: this export will fail",
                c.name, c.ty.db_type
            ));
        }
    }
    let mut form = Form::new(
        format!("Export {source}.{}", table.spelled()),
        FormPurpose::Export {
            source: source.to_string(),
            table: table.clone(),
        },
        fields,
    );
    form.error = error;
    // The path is what people change most.
    form.focus = 1;
    form
}

pub(crate) fn open_load(b: &Browse, store: &str, path: &str) -> Form {
    let warehouses: Vec<String> = b.warehouses.roots.iter().map(|n| n.name.clone()).collect();
    let fields = vec![
        Field::choice(
            "warehouse",
            "Warehouse",
            warehouses,
            0,
            "The warehouse the table is in",
        ),
        Field::text(
            "table",
            "Table",
            &table_from_path(path),
            "Created if missing; its columns come from the file",
        ),
        Field::choice(
            "mode",
            "Mode",
            vec!["replace".into(), "append".into()],
            0,
            "replace: the table becomes this file; append: its rows are added",
        ),
    ];
    let mut form = Form::new(
        format!("Load {store}: {path}"),
        FormPurpose::Load {
            store: store.to_string(),
            path: path.to_string(),
        },
        fields,
    );
    form.focus = 1;
    form
}

/// The backfill form, prefilled: `pipeline` (else the first), the three
/// days before `today`, the pipeline's own `max_active` (else 1).
pub(super) fn open_backfill(
    pipelines: &[(String, Option<u32>)],
    pipeline: Option<&str>,
    today: chrono::NaiveDate,
) -> Form {
    let names: Vec<String> = pipelines.iter().map(|(p, _)| p.clone()).collect();
    let chosen = pipeline
        .and_then(|p| names.iter().position(|n| n == p))
        .unwrap_or(0);
    let day = |n: i64| {
        (today - chrono::Duration::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let fields = vec![
        Field::choice(
            "pipeline",
            "Pipeline",
            names,
            chosen,
            "The pipeline to run once per date",
        ),
        Field::text("from", "From", &day(3), "The first date, YYYY-MM-DD"),
        Field::text("to", "To", &day(1), "The last date, included"),
        Field::text(
            "max_active",
            "Max active",
            "",
            &format!("Dates that run at once, 1 to {}", backfill::FORM_MAX_ACTIVE),
        ),
    ];
    let mut form = Form::new(
        "New backfill",
        FormPurpose::Backfill {
            pipelines: pipelines.to_vec(),
        },
        fields,
    );
    follow_defaults(&mut form);
    // The dates are what people change.
    form.focus_on("from");
    form
}

fn backfill_request(form: &Form) -> Result<BackfillRequest, (&'static str, String)> {
    backfill::request(
        form.value("pipeline"),
        form.value("from"),
        form.value("to"),
        form.value("max_active"),
    )
}

/// The run label and effect a filled form starts, or the field at fault and why.
fn submit(form: &Form) -> Result<(String, Effect), (&'static str, String)> {
    match &form.purpose {
        FormPurpose::Export { source, table } => {
            let store = form.value("store");
            if store.is_empty() {
                return Err(("store", "choose a store".into()));
            }
            let path = form.value("path").trim();
            crate::config::rules::file_path(path).map_err(|e| ("path", e))?;
            let format: Format = form.value("format").parse().map_err(|e| ("format", e))?;
            let t = table.spelled();
            let def = adhoc::export_def(&adhoc::ExportSpec {
                source,
                table: &t,
                store,
                path: Some(path),
                format,
                partitions: None,
                lossy: form.value("lossy") == "convert",
                since: None,
            });
            let label = adhoc::export_label(source, &t);
            Ok((label.clone(), start(label, def)))
        }
        FormPurpose::Load { store, path } => {
            let warehouse = form.value("warehouse");
            if warehouse.is_empty() {
                return Err(("warehouse", "choose a warehouse".into()));
            }
            let table = form.value("table").trim();
            if table.is_empty() {
                return Err(("table", "name the table to load into".into()));
            }
            if table.chars().any(char::is_control) || table.len() > 128 {
                return Err((
                    "table",
                    "a table name is at most 128 printable characters".into(),
                ));
            }
            let mode = form.value("mode");
            let def = adhoc::load_def(store, path, warehouse, table, Some(mode), &[]);
            let label = adhoc::load_label(warehouse, table);
            Ok((label.clone(), start(label, def)))
        }
        FormPurpose::Backfill { .. } => {
            let req = backfill_request(form)?;
            let n = req.dates.len();
            let label = format!(
                "a backfill of {}: {n} date{}",
                req.pipeline,
                if n == 1 { "" } else { "s" }
            );
            Ok((label, Effect::StartBackfill(req)))
        }
    }
}

fn start(label: String, def: crate::config::TaskDef) -> Effect {
    Effect::Browse(BrowseEffect::Start {
        label,
        def: Box::new(def),
    })
}
