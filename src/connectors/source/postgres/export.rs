//! PostgreSQL exports: `COPY (SELECT …) TO STDOUT (FORMAT binary)` on a
//! dedicated connection, decoded chunk by chunk into Arrow batches that go
//! to the writer through the bounded channel.
//!
//! Partitioned exports (ranges read in parallel under one snapshot) are in
//! `partition.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context, Result, anyhow};
use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Column as _, Executor, SqlSafeStr, Statement, TypeInfo as _};

use super::copy::{CopyColumn, CopyDecoder, conversion_warnings};
use super::partition::{partitioned, split_of};
use super::{
    PgCol, PostgresSource, TypeResolver, arrow_field, quote_ident, quote_table, table_info,
};
use crate::connectors::source::mark::{Above, MarkKind};
use crate::connectors::source::{
    BatchSender, ExportInput, ExportMsg, ExportOptions, ExportStats, Lossy, ProgressFn, TableName,
};
use crate::format::types::postgres::PgKind;

/// What to copy and how to decode it.
pub(crate) struct Plan {
    schema: SchemaRef,
    pub(super) columns: Vec<CopyColumn>,
    /// The `SELECT` to copy; a table's may take a `WHERE` or `LIMIT` suffix.
    select: String,
}

fn select_item(expr: String, kind: &PgKind) -> String {
    if kind.needs_text_cast() {
        format!("{expr}::text")
    } else {
        expr
    }
}

impl Plan {
    fn new(cols: &[PgCol], select: String) -> Plan {
        let fields: Vec<_> = cols
            .iter()
            .map(|c| arrow_field(&c.name, &c.column_type(), c.nullable))
            .collect();
        Plan {
            schema: Arc::new(Schema::new(fields)),
            columns: cols.iter().map(PgCol::copy_column).collect(),
            select,
        }
    }

    fn table(t: &TableName, cols: &[PgCol]) -> Plan {
        let list: Vec<_> = cols
            .iter()
            .map(|c| select_item(quote_ident(&c.name), &c.kind))
            .collect();
        let select = format!("SELECT {} FROM {}", list.join(", "), quote_table(t));
        Plan::new(cols, select)
    }

    /// The query as written, unless some column needs a text cast: then
    /// its columns are renamed by position (names may repeat or be odd).
    fn query(q: &str, cols: &[PgCol]) -> Plan {
        if !cols.iter().any(|c| c.kind.needs_text_cast()) {
            return Plan::new(cols, format!("{q}\n"));
        }
        let aliases: Vec<_> = (1..=cols.len()).map(|i| format!("c{i}")).collect();
        let list: Vec<_> = cols
            .iter()
            .zip(&aliases)
            .map(|(c, a)| select_item(format!("q.{a}"), &c.kind))
            .collect();
        let select = format!(
            "SELECT {} FROM ({q}\n) AS q({})",
            list.join(", "),
            aliases.join(", ")
        );
        Plan::new(cols, select)
    }

    pub(super) fn copy_sql(&self, suffix: &str) -> String {
        format!("COPY ({}{suffix}) TO STDOUT (FORMAT binary)", self.select)
    }
}

/// A query's columns, from describing it as a prepared statement. The type
/// modifier (numeric precision) is known for columns taken straight from a
/// table; computed columns have none (so a computed numeric is unconstrained).
async fn query_columns(conn: &mut PgConnection, q: &str) -> Result<Vec<PgCol>> {
    let stmt = conn
        .prepare(AssertSqlSafe(format!("SELECT * FROM ({q}\n) q LIMIT 0")).into_sql_str())
        .await
        .context("describing the query")?;
    let mut types = TypeResolver::new();
    let mut cols = Vec::new();
    for c in stmt.columns() {
        let oid = c.type_info().oid().ok_or_else(|| {
            anyhow!(
                "column \"{}\" has a type without an oid ({})",
                c.name(),
                c.type_info().name()
            )
        })?;
        let typmod: Option<i32> = match (c.relation_id(), c.relation_attribute_no()) {
            (Some(rel), Some(att)) => {
                sqlx::query_scalar(
                    "SELECT atttypmod FROM pg_attribute \
                     WHERE attrelid = $1 AND attnum = $2 AND atttypid = $3",
                )
                .bind(rel)
                .bind(att)
                .bind(oid)
                .fetch_optional(&mut *conn)
                .await?
            }
            _ => None,
        };
        let typmod = typmod.unwrap_or(-1);
        let display: String = sqlx::query_scalar("SELECT format_type($1, $2)")
            .bind(oid)
            .bind(typmod)
            .fetch_one(&mut *conn)
            .await?;
        cols.push(PgCol {
            name: c.name().to_string(),
            nullable: true,
            display,
            kind: types.kind(conn, oid, typmod).await?,
        });
    }
    Ok(cols)
}

/// Rows and bytes done across all partitions, reported as they grow.
pub(super) struct Progress {
    rows: AtomicI64,
    bytes: AtomicI64,
    report: ProgressFn,
}

impl Progress {
    fn add(&self, rows: i64, bytes: i64) {
        let r = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        let b = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        (self.report)(r, b);
    }
}

/// One COPY into the channel; returns the converted-value counts per column.
pub(super) async fn run_copy(
    conn: &mut PgConnection,
    sql: &str,
    plan: &Plan,
    lossy: Lossy,
    batch_rows: usize,
    out: &BatchSender,
    progress: &Progress,
) -> Result<Vec<u64>> {
    let mut dec = CopyDecoder::new(plan.schema.clone(), &plan.columns, lossy, batch_rows)?;
    let mut stream = conn.copy_out_raw(sql).await?;
    let mut ready = Vec::new();
    let mut bytes = 0i64;
    let send = |batch: RecordBatch| async {
        out.send(ExportMsg::Batch(batch))
            .await
            .map_err(|_| anyhow!("the writer stopped reading"))
    };
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let chunk = chunk?;
        bytes += chunk.len() as i64;
        dec.feed(&chunk, &mut ready)?;
        for batch in ready.drain(..) {
            progress.add(batch.num_rows() as i64, std::mem::take(&mut bytes));
            send(batch).await?;
        }
    }
    let last = dec.finish()?;
    progress.add(last.as_ref().map_or(0, |b| b.num_rows() as i64), bytes);
    if let Some(batch) = last {
        send(batch).await?;
    }
    Ok(dec.converted())
}

pub(crate) async fn export(
    src: &PostgresSource,
    input: &ExportInput,
    opts: &ExportOptions,
    out: BatchSender,
    report: ProgressFn,
) -> Result<ExportStats> {
    let progress = Arc::new(Progress {
        rows: AtomicI64::new(0),
        bytes: AtomicI64::new(0),
        report,
    });
    let mut conn = src.take_for_export().await?;
    let mut warnings = Vec::new();
    let ignored = |what: &str| {
        format!(
            "partitions = {} ignored: {what}, so it was read as one stream",
            opts.partitions
        )
    };
    let (plan, converted) = match input {
        ExportInput::Table(t) => {
            let info = table_info(&mut conn, t).await?;
            let plan = Arc::new(Plan::table(t, &info.cols));
            let above = opts.above.as_ref().map(above_condition);
            let split = if opts.partitions > 1 {
                split_of(&mut conn, &info).await?
            } else {
                None
            };
            let converted = match split {
                Some(split) => {
                    let rel = quote_table(t);
                    partitioned(
                        src.options(),
                        conn,
                        &rel,
                        &split,
                        above.as_deref(),
                        &plan,
                        opts,
                        &out,
                        &progress,
                    )
                    .await
                    .with_context(|| format!("export of {t}"))?
                }
                None => {
                    if opts.partitions > 1 {
                        let why = format!(
                            "{t} is not a plain table (or the server is older than 14) \
                             and has no single-column integer primary key"
                        );
                        warnings.push(ignored(&why));
                    }
                    let suffix = above.map(|c| format!(" WHERE {c}")).unwrap_or_default();
                    single(&mut conn, &plan, &suffix, opts, &out, &progress)
                        .await
                        .with_context(|| format!("export of {t}"))?
                }
            };
            (plan, converted)
        }
        ExportInput::Query(q) => {
            let q = q.trim().trim_end_matches(';').trim_end();
            let cols = query_columns(&mut conn, q).await?;
            let plan = Arc::new(Plan::query(q, &cols));
            if opts.partitions > 1 {
                warnings.push(ignored("a query cannot be split into key ranges"));
            }
            let converted = single(&mut conn, &plan, "", opts, &out, &progress)
                .await
                .context("export of the query")?;
            (plan, converted)
        }
    };
    warnings.extend(conversion_warnings(&plan.columns, &converted));
    Ok(ExportStats {
        rows: progress.rows.load(Ordering::Relaxed),
        source_bytes: progress.bytes.load(Ordering::Relaxed),
        warnings,
    })
}

/// `"col" > literal` for an incremental export. The literal is ours (digits
/// or a formatted time), cast to the column's kind of value.
fn above_condition(a: &Above) -> String {
    let col = quote_ident(&a.column);
    match a.mark.kind {
        MarkKind::Integer => format!("{col} > '{}'::int8", a.mark.value),
        MarkKind::Timestamp => format!("{col} > '{}'::timestamptz", a.mark.text()),
        MarkKind::LocalTimestamp => format!("{col} > '{}'::timestamp", a.mark.sql_datetime()),
    }
}

pub(super) async fn send_schema(out: &BatchSender, plan: &Plan) -> Result<()> {
    out.send(ExportMsg::Schema(plan.schema.clone()))
        .await
        .map_err(|_| anyhow!("the writer stopped reading"))
}

async fn single(
    conn: &mut PgConnection,
    plan: &Plan,
    suffix: &str,
    opts: &ExportOptions,
    out: &BatchSender,
    progress: &Progress,
) -> Result<Vec<u64>> {
    send_schema(out, plan).await?;
    let sql = plan.copy_sql(suffix);
    run_copy(conn, &sql, plan, opts.lossy, opts.batch_rows, out, progress).await
}

/// The first `rows` rows of a table as one batch. Values without an exact
/// Arrow form show as NULL: browsing should not fail on them.
pub(crate) async fn preview(
    conn: &mut PgConnection,
    t: &TableName,
    rows: usize,
) -> Result<RecordBatch> {
    let info = table_info(conn, t).await?;
    let plan = Plan::table(t, &info.cols);
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let progress = Progress {
        rows: AtomicI64::new(0),
        bytes: AtomicI64::new(0),
        report: Arc::new(|_, _| {}),
    };
    let sql = plan.copy_sql(&format!(" LIMIT {rows}"));
    // batch_rows = rows, so at most one batch: the channel never fills.
    run_copy(conn, &sql, &plan, Lossy::Convert, rows, &tx, &progress).await?;
    drop(tx);
    match rx.try_recv() {
        Ok(ExportMsg::Batch(b)) => Ok(b),
        _ => Ok(RecordBatch::new_empty(plan.schema.clone())),
    }
}
