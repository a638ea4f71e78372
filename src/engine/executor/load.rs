//! `load`: one file of a store → a warehouse table, replacing or appending
//! completely or not at all, and never twice for the same run, task and file.

use std::sync::Arc;

use super::{BoxFuture, ExecResult, Executor, Failure, Outcome, TaskContext};
use crate::connectors::warehouse::bigquery::gs_uri;
use crate::connectors::warehouse::{LoadMode, LoadProgress, LoadRequest};
use crate::connectors::{open_store, open_warehouse};
use crate::format::Format;
use crate::text::error_chain;

pub struct LoadExecutor;

impl Executor for LoadExecutor {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(async move {
            tokio::select! {
                r = run(ctx) => r,
                // The warehouse transaction rolls back when its future is dropped.
                _ = ctx.cancel.cancelled() => Err(Failure::fatal("cancelled")),
            }
        })
    }
}

async fn run(ctx: &TaskContext) -> ExecResult {
    let t = &ctx.task;
    let need = |v: &Option<String>, key: &str| {
        v.clone()
            .ok_or_else(|| Failure::fatal(format!("load task needs `{key}`")))
    };
    let store_name = need(&t.store, "store")?;
    let wh_name = need(&t.warehouse, "warehouse")?;
    let path = ctx.render(&need(&t.path, "path")?);
    let table = ctx.render(&need(&t.table, "table")?);
    let mode = match t.mode.as_deref() {
        Some(m) => m.parse::<LoadMode>().map_err(Failure::fatal)?,
        None => LoadMode::Replace,
    };
    let format = match t.format.as_deref() {
        Some(f) => f.parse::<Format>().map_err(Failure::fatal)?,
        None => Format::from_path(&path).ok_or_else(|| {
            Failure::fatal(format!("cannot tell the format of {path}; set `format`"))
        })?,
    };
    let store =
        open_store(&ctx.workspace, &store_name).map_err(|e| Failure::fatal(error_chain(&e)))?;
    let file = store
        .fetch(&path)
        .await
        .map_err(|e| Failure::retryable(format!("{}: {}", store.uri(&path), error_chain(&e))))?;
    let warehouse = open_warehouse(&ctx.workspace, &wh_name)
        .await
        .map_err(|e| Failure::retryable(error_chain(&e)))?;
    // Rows to load, where the file says (a Parquet footer does): the progress bar's total.
    let total = match format {
        Format::Parquet => parquet_rows(&file.path),
        _ => None,
    };
    let report = ctx.report.clone();
    let progress: LoadProgress = Arc::new(move |rows, bytes| report.progress(rows, bytes, total));
    ctx.report.log(format!(
        "loading {} into {wh_name}.{table} ({mode:?})",
        store.uri(&path)
    ));
    // BigQuery reads the object itself when the store says where it sees it.
    let source_uri = ctx
        .workspace
        .def
        .stores
        .get(&store_name)
        .and_then(|def| gs_uri(def, &path));
    // Idempotence: a rerun of this run and task never loads this file twice.
    // The run's creation time keeps keys apart when a fresh state store
    // numbers its runs from 1 again (a BigQuery job id is project-wide).
    let created = ctx.report.run_created_at().await.map_err(|e| {
        Failure::retryable(format!("reading run {}: {}", ctx.run_id, error_chain(&e)))
    })?;
    let req = LoadRequest {
        file: file.path.clone(),
        source_uri,
        format,
        table: table.clone(),
        mode,
        ledger_key: format!("run {}@{created}/{}/{}", ctx.run_id, ctx.task_id, path),
    };
    let stats = warehouse
        .load(&req, progress)
        .await
        .map_err(|e| Failure::retryable(format!("loading {table}: {}", error_chain(&e))))?;
    if let Some(how) = &stats.how {
        ctx.report.log(how.clone());
    }
    if stats.already_loaded {
        ctx.report.log(format!(
            "{path} was already loaded into {table} by run {} task {}: nothing to do",
            ctx.run_id, ctx.task_id
        ));
    } else {
        ctx.report
            .log(format!("loaded {} rows into {table}", stats.rows));
    }
    Ok(Outcome {
        rows: Some(stats.rows),
        bytes: Some(stats.bytes),
    })
}

fn parquet_rows(path: &std::path::Path) -> Option<i64> {
    use parquet::file::reader::FileReader;
    let file = std::fs::File::open(path).ok()?;
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file).ok()?;
    Some(reader.metadata().file_metadata().num_rows())
}
