//! `export`: a table or query of a source → one file in a store.
//!
//! The source decodes on the async side; a blocking thread encodes and
//! writes, so both cores work. Between them a bounded channel: a slow writer
//! slows the reader, so memory stays bounded. The file is published only when
//! both sides succeeded; anything else (an error, a cancel, a killed process)
//! leaves no file under its final name.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use tokio::sync::mpsc;

use super::{BoxFuture, ExecResult, Executor, Failure, Outcome, TaskContext, incremental};
use crate::connectors::source::mark::{Mark, MarkKind, later, max_of};
use crate::connectors::source::{
    ExportInput, ExportMsg, ExportOptions, Lossy, ProgressFn, TableName,
};
use crate::connectors::store::{ObjectStore, ObjectWriter};
use crate::connectors::{open_source, open_store};
use crate::format::Format;
use crate::format::writer::{BatchWriter, WriterOptions, new_writer};
use crate::text::error_chain;

pub struct ExportExecutor;

/// Batches in flight between reader and writer.
const CHANNEL_BATCHES: usize = 2;

impl Executor for ExportExecutor {
    fn execute<'a>(&'a self, ctx: &'a TaskContext) -> BoxFuture<'a, ExecResult> {
        Box::pin(run(ctx))
    }
}

type PendingFile = Box<dyn BatchWriter<Box<dyn ObjectWriter>>>;

async fn run(ctx: &TaskContext) -> ExecResult {
    let t = &ctx.task;
    let need = |v: &Option<String>, key: &str| {
        v.clone()
            .ok_or_else(|| Failure::fatal(format!("export task needs `{key}`")))
    };
    let source_name = need(&t.source, "source")?;
    let store_name = need(&t.store, "store")?;
    let path = ctx.render(&need(&t.path, "path")?);
    let format = match t.format.as_deref() {
        Some(f) => f.parse::<Format>().map_err(Failure::fatal)?,
        None => Format::from_path(&path).unwrap_or_default(),
    };
    let store =
        open_store(&ctx.workspace, &store_name).map_err(|e| Failure::fatal(error_chain(&e)))?;
    let opened = open_source(&ctx.workspace, &source_name)
        .await
        .map_err(|e| Failure::retryable(error_chain(&e)))?;
    let input = match (&t.query, &t.table) {
        (Some(q), _) => ExportInput::Query(ctx.render(q)),
        (None, Some(table)) => ExportInput::Table(
            TableName::parse(table, &opened.default_schema)
                .map_err(|e| Failure::fatal(format!("`table`: {e}")))?,
        ),
        (None, None) => return Err(Failure::fatal("export task needs `table` or `query`")),
    };
    let (estimate, incremental) = match &input {
        ExportInput::Table(tn) => {
            let detail = opened
                .source
                .describe(tn)
                .await
                .map_err(|e| Failure::retryable(error_chain(&e)))?;
            let plan = incremental::plan(t, tn, &detail.columns, ctx.start.as_ref())?;
            (detail.summary.row_estimate, plan)
        }
        ExportInput::Query(_) if t.incremental.is_some() => {
            return Err(Failure::fatal(
                "`incremental` needs `table`: the rows of a `query` are its own to filter",
            ));
        }
        ExportInput::Query(_) => (None, None),
    };
    if let Some(inc) = &incremental {
        ctx.report.log(format!("incremental: {}", inc.describe()));
    }
    let what = match &input {
        ExportInput::Table(tn) => tn.to_string(),
        ExportInput::Query(_) => "query".to_string(),
    };
    ctx.report.log(format!(
        "exporting {what} from {source_name} to {} as {format}{}",
        store.uri(&path),
        estimate
            .map(|e| format!(" (about {e} rows)"))
            .unwrap_or_default()
    ));
    // One connection per partition: never more than the slots held.
    let wanted = t.partitions.unwrap_or(1).max(1);
    let partitions = wanted.min(ctx.slots.max(1));
    if partitions < wanted {
        ctx.report.log(format!(
            "partitions = {wanted} read as {partitions}: the task holds {partitions} slots of pool `{}`",
            t.pool.as_deref().unwrap_or_default()
        ));
    }
    let opts = ExportOptions {
        partitions,
        // Partitions decode side by side: smaller batches keep the sum bounded.
        batch_rows: ExportOptions::default().batch_rows / partitions as usize,
        lossy: match t.lossy.as_deref() {
            Some("convert") => Lossy::Convert,
            _ => Lossy::Refuse,
        },
        above: incremental.as_ref().and_then(incremental::Plan::filter),
    };
    let report = ctx.report.clone();
    let progress: ProgressFn = Arc::new(move |rows, bytes| report.progress(rows, bytes, estimate));

    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let writer = {
        let store = store.clone();
        let path = path.clone();
        let follow = incremental.as_ref().map(|i| (i.column.clone(), i.kind));
        tokio::task::spawn_blocking(move || write_all(rx, store, &path, format, follow))
    };
    let read = tokio::select! {
        r = opened.source.export(&input, &opts, tx, progress) => r,
        // Dropping the export closes its connection: the server stops the query.
        _ = ctx.cancel.cancelled() => Err(anyhow!("cancelled")),
    };
    let written = writer
        .await
        .map_err(|e| Failure::retryable(format!("writer crashed: {e}")))?;
    let (stats, (pending, through)) = match (read, written) {
        (Ok(stats), Ok(written)) => (stats, written),
        // The writer's error is the cause when the reader only saw a closed channel.
        (_, Err(e)) => {
            return Err(Failure::retryable(format!(
                "writing {path}: {}",
                error_chain(&e)
            )));
        }
        (Err(e), Ok((pending, _))) => {
            discard(pending).await;
            if ctx.cancel.is_cancelled() {
                return Err(Failure::fatal(error_chain(&e)));
            }
            return Err(failure_of(&e));
        }
    };
    let bytes = tokio::task::spawn_blocking(move || -> Result<u64> {
        let object = pending.finish()?;
        object.commit()
    })
    .await
    .map_err(|e| Failure::retryable(format!("writer crashed: {e}")))?
    .map_err(|e| Failure::retryable(format!("publishing {path}: {}", error_chain(&e))))?;
    for w in &stats.warnings {
        ctx.report.log(format!("warning: {w}"));
    }
    ctx.report.progress(stats.rows, bytes as i64, estimate);
    ctx.report.log(format!(
        "wrote {} rows, {} bytes to {}",
        stats.rows,
        bytes,
        store.uri(&path)
    ));
    let read = incremental.map(|i| {
        let range = i.read(through, stats.rows);
        ctx.report.log(format!(
            "read `{}` {} through {}",
            range.column,
            range
                .above
                .as_deref()
                .map_or("from the start".into(), |a| format!("above {a}")),
            range.through.as_deref().unwrap_or("(no rows)")
        ));
        range
    });
    Ok(Outcome {
        rows: Some(stats.rows),
        bytes: Some(bytes as i64),
        read,
    })
}

/// Drops an unpublished file on a blocking thread: discarding it is I/O
/// (removing a partial file, aborting a multipart upload).
async fn discard(pending: PendingFile) {
    let _ = tokio::task::spawn_blocking(move || drop(pending)).await;
}

/// Refused types or values will not change on a retry: those are final.
fn failure_of(e: &anyhow::Error) -> Failure {
    let text = error_chain(e);
    if text.contains("refused") || text.contains("cannot be carried") {
        Failure::fatal(text)
    } else {
        Failure::retryable(text)
    }
}

/// The blocking side: schema first, then batches, until the reader is done.
/// Returns the unpublished file (the caller publishes it only on success)
/// and, when `follow` names an incremental export's column, the largest
/// value written: the mark, without a second `max()` scan of the source.
fn write_all(
    mut rx: mpsc::Receiver<ExportMsg>,
    store: Arc<dyn ObjectStore>,
    path: &str,
    format: Format,
    follow: Option<(String, MarkKind)>,
) -> Result<(PendingFile, Option<Mark>)> {
    let schema = match rx.blocking_recv() {
        Some(ExportMsg::Schema(s)) => s,
        Some(ExportMsg::Batch(_)) => return Err(anyhow!("the source sent rows before a schema")),
        None => return Err(anyhow!("the source ended before sending a schema")),
    };
    let object = store
        .create(path)
        .with_context(|| format!("cannot create {path}"))?;
    let followed = match &follow {
        Some((name, kind)) => Some((
            schema
                .index_of(name)
                .with_context(|| format!("the export has no column `{name}`"))?,
            *kind,
        )),
        None => None,
    };
    let mut writer = new_writer(format, schema, object, &WriterOptions::default())?;
    let mut through = None;
    while let Some(msg) = rx.blocking_recv() {
        if let ExportMsg::Batch(b) = msg {
            if let Some((i, kind)) = followed {
                through = later(through, max_of(b.column(i), kind)?);
            }
            writer.write(&b)?;
        }
    }
    Ok((writer, through))
}
