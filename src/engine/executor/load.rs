//! `load`: one file of a store → a warehouse table, replacing or appending
//! completely or not at all, and never twice for the same run, task and file.
//!
//! "The same file" is the same bytes: the ledger key holds the SHA-256 of
//! the file as it is now, so a file exported again with other rows (a
//! rerun of its export) is loaded again, while a retry or rerun that finds
//! the bytes it loaded before does nothing. The hash is computed on every
//! load, streamed from the local copy the load reads anyway (the file itself
//! on a local store, the download from S3): about a second per 1.5 GB.
//! Cheaper identities were weighed and rejected: size and mtime (or an
//! inode) are not the content (`touch`, `cp -p` or a restore from backup
//! would append twice or miss a change); an S3 ETag means different things
//! on different S3-compatible servers and depends on part sizes; a hash
//! written beside the file at export time needs a second object (multipart
//! metadata is fixed before the bytes are known) and is missing for files
//! that switchyard did not write.

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
    // Config validation requires a key for merge; a hand-made TaskDef may not.
    let key = t.key.clone().unwrap_or_default();
    if mode == LoadMode::Merge && key.is_empty() {
        return Err(Failure::fatal("a merge load needs `key`"));
    }
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
    // The copy moves to the hashing thread and back: a download's temporary
    // file lives as long as the copy.
    let (digest, file) = tokio::task::spawn_blocking(move || file.sha256().map(|d| (d, file)))
        .await
        .map_err(|e| Failure::retryable(format!("hashing {}: {e}", store.uri(&path))))?
        .map_err(|e| Failure::retryable(error_chain(&e)))?;
    let report = ctx.report.clone();
    let progress: LoadProgress = Arc::new(move |rows, bytes| report.progress(rows, bytes, total));
    ctx.report.log(format!(
        "loading {} (sha256 {}) into {wh_name}.{table} ({mode:?})",
        store.uri(&path),
        short(&digest)
    ));
    // BigQuery reads the object itself when the store says where it sees it.
    let source_uri = ctx
        .workspace
        .def
        .stores
        .get(&store_name)
        .and_then(|def| gs_uri(def, &path));
    // Idempotence: a rerun of this run and task never loads these bytes
    // twice (see the module comment). The run's creation time keeps keys
    // apart when a fresh state store numbers its runs from 1 again (a
    // BigQuery job id is project-wide).
    let created = ctx.report.run_created_at().await.map_err(|e| {
        Failure::retryable(format!("reading run {}: {}", ctx.run_id, error_chain(&e)))
    })?;
    let legacy_key = format!("run {}@{created}/{}/{}", ctx.run_id, ctx.task_id, path);
    let req = LoadRequest {
        file: file.path.clone(),
        source_uri,
        format,
        table: table.clone(),
        mode,
        key,
        ledger_key: format!("{legacy_key}#sha256:{digest}"),
        legacy_key: Some(legacy_key),
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
            "{path} was already loaded into {table} by run {} task {}, with these very bytes (sha256 {}): nothing to do",
            ctx.run_id,
            ctx.task_id,
            short(&digest)
        ));
    } else {
        ctx.report
            .log(format!("loaded {} rows into {table}", stats.rows));
    }
    Ok(Outcome {
        rows: Some(stats.rows),
        bytes: Some(stats.bytes),
        ..Outcome::default()
    })
}

/// The start of a hex digest, enough to tell files apart in a log.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

fn parquet_rows(path: &std::path::Path) -> Option<i64> {
    use parquet::file::reader::FileReader;
    let file = std::fs::File::open(path).ok()?;
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file).ok()?;
    Some(reader.metadata().file_metadata().num_rows())
}
