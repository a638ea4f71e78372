//! PostgreSQL exports: `COPY (SELECT …) TO STDOUT (FORMAT binary)` on a
//! dedicated connection, decoded chunk by chunk into Arrow batches that go
//! to the writer through the bounded channel.
//!
//! Partitioned exports split a table on its single integer primary key into
//! key ranges read in parallel: the coordinator transaction exports a
//! snapshot and reads the first range itself, every other range is read on
//! a connection of its own that imported the snapshot, so together they see
//! the table as it was at one instant, on one connection per partition. Any partition failing fails the
//! export and drops (closes) the others' connections, which stops their COPY.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::{Context, Result, anyhow};
use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Column as _, Executor, SqlSafeStr, Statement, TypeInfo as _};
use tokio::task::JoinSet;

use super::pg_copy::{CopyColumn, CopyDecoder, conversion_warnings};
use super::postgres::{
    PgCol, PostgresSource, TableInfo, TypeResolver, arrow_field, quote_ident, quote_literal,
    quote_table, table_info,
};
use super::{
    BatchSender, ExportInput, ExportMsg, ExportOptions, ExportStats, Lossy, ProgressFn, TableName,
};
use crate::format::types::postgres::PgKind;

/// What to copy and how to decode it.
pub(crate) struct Plan {
    schema: SchemaRef,
    columns: Vec<CopyColumn>,
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

    fn copy_sql(&self, suffix: &str) -> String {
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
struct Progress {
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
async fn run_copy(
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

/// The key column when the table has a single-column integer primary key.
fn partition_key<'a>(pk: &[String], cols: &'a [PgCol]) -> Option<&'a PgCol> {
    let [pk] = pk else { return None };
    cols.iter()
        .find(|c| &c.name == pk)
        .filter(|c| matches!(c.kind, PgKind::Int2 | PgKind::Int4 | PgKind::Int8))
}

/// How a partitioned export divides a table between its connections.
enum Split {
    /// Ranges of heap pages (`ctid`): each connection reads only its own
    /// pages by a TID range scan, which costs the server about what one
    /// sequential scan costs (key ranges go through the index: ~15% more
    /// server CPU measured on the 5M-row bench table). PostgreSQL 14+, plain
    /// tables and materialized views.
    Pages,
    /// Ranges of a single-column integer primary key (quoted identifier).
    Key(String),
}

/// The split for a table, or None when it can only be read as one stream.
async fn split_of(conn: &mut PgConnection, info: &TableInfo) -> Result<Option<Split>> {
    if matches!(info.relkind.as_str(), "r" | "m") {
        let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int4")
            .fetch_one(&mut *conn)
            .await?;
        if version >= 140_000 {
            return Ok(Some(Split::Pages));
        }
    }
    Ok(partition_key(&info.detail.primary_key, &info.cols)
        .map(|c| Split::Key(quote_ident(&c.name))))
}

/// Page ranges `[a, b)` covering `0..pages` in at most `n` parts; the last
/// one is open-ended (None), so pages added after the size was read are
/// still covered (their rows are outside the snapshot anyway).
pub(crate) fn page_ranges(pages: i64, n: u32) -> Vec<(i64, Option<i64>)> {
    let n = i64::from(n.max(1)).min(pages.max(1));
    let step = (pages + n - 1) / n.max(1);
    (0..n)
        .map(|k| {
            let a = k * step;
            let b = if k == n - 1 {
                None
            } else {
                Some((k + 1) * step)
            };
            (a, b)
        })
        .collect()
}

/// The WHERE clause of one page range (numbers only: nothing user-given).
fn page_filter(a: i64, b: Option<i64>) -> String {
    match b {
        Some(b) => format!(" WHERE ctid >= '({a},0)'::tid AND ctid < '({b},0)'::tid"),
        None => format!(" WHERE ctid >= '({a},0)'::tid"),
    }
}

/// `[lo, hi]` cut into at most `n` contiguous inclusive ranges of equal width.
pub(crate) fn key_ranges(lo: i64, hi: i64, n: u32) -> Vec<(i64, i64)> {
    let (lo, hi) = (i128::from(lo), i128::from(hi));
    let span = hi - lo + 1;
    if span <= 0 {
        return Vec::new();
    }
    let n = i128::from(n.max(1)).min(span);
    let step = (span + n - 1) / n;
    (0..n)
        .map(|k| lo + k * step)
        .filter(|&a| a <= hi)
        .map(|a| (a as i64, (a + step - 1).min(hi) as i64))
        .collect()
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
                    single(&mut conn, &plan, "", opts, &out, &progress)
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

async fn send_schema(out: &BatchSender, plan: &Plan) -> Result<()> {
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

const REPEATABLE_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

#[allow(clippy::too_many_arguments)]
async fn partitioned(
    conn_opts: &PgConnectOptions,
    mut coordinator: PgConnection,
    rel: &str,
    split: &Split,
    plan: &Arc<Plan>,
    opts: &ExportOptions,
    out: &BatchSender,
    progress: &Arc<Progress>,
) -> Result<Vec<u64>> {
    // The coordinator's transaction holds the snapshot: it stays open until
    // every partition has finished reading.
    sqlx::raw_sql(REPEATABLE_READ)
        .execute(&mut coordinator)
        .await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut coordinator)
        .await?;
    // Each range as (WHERE clause, what it covers for an error message).
    // The bounds query waits behind a lock on the table like the COPYs would.
    let ranges: Vec<(String, String)> = match split {
        Split::Pages => {
            let size = format!(
                "SELECT /* partition bounds */ pg_relation_size({}::regclass)::int8 \
                 / current_setting('block_size')::int8",
                quote_literal(rel)
            );
            let pages: i64 = sqlx::query_scalar(AssertSqlSafe(size))
                .fetch_one(&mut coordinator)
                .await?;
            page_ranges(pages, opts.partitions)
                .into_iter()
                .map(|(a, b)| {
                    let what = match b {
                        Some(b) => format!("pages {a} to {}", b - 1),
                        None => format!("pages from {a}"),
                    };
                    (page_filter(a, b), what)
                })
                .collect()
        }
        Split::Key(key) => {
            let bounds = format!(
                "SELECT /* partition bounds */ min({key})::int8, max({key})::int8 FROM {rel}"
            );
            let (lo, hi): (Option<i64>, Option<i64>) = sqlx::query_as(AssertSqlSafe(bounds))
                .fetch_one(&mut coordinator)
                .await?;
            match (lo, hi) {
                // Quoted literals: `-9223372036854775808::int8` would overflow.
                (Some(lo), Some(hi)) => key_ranges(lo, hi, opts.partitions)
                    .into_iter()
                    .map(|(a, b)| {
                        (
                            format!(" WHERE {key} BETWEEN '{a}'::int8 AND '{b}'::int8"),
                            format!("keys {a} to {b}"),
                        )
                    })
                    .collect(),
                _ => Vec::new(), // an empty table
            }
        }
    };
    send_schema(out, plan).await?;
    let count = ranges.len();
    let mut ranges = ranges.into_iter().enumerate();
    // The coordinator reads the first range itself, in the transaction that
    // holds the snapshot: N partitions use N connections, one per pool slot.
    let first = ranges.next();
    let own = async {
        let Some((i, (filter, what))) = first else {
            return Ok(vec![0u64; plan.columns.len()]);
        };
        let sql = plan.copy_sql(&filter);
        run_copy(
            &mut coordinator,
            &sql,
            plan,
            opts.lossy,
            opts.batch_rows,
            out,
            progress,
        )
        .await
        .with_context(|| format!("partition {}/{count} ({what})", i + 1))
    };
    let mut tasks = JoinSet::new();
    for (i, (filter, what)) in ranges {
        let sql = plan.copy_sql(&filter);
        let (conn_opts, plan, out, progress) = (
            conn_opts.clone(),
            plan.clone(),
            out.clone(),
            progress.clone(),
        );
        let set_snapshot = format!("SET TRANSACTION SNAPSHOT {}", quote_literal(&snapshot));
        let (lossy, batch_rows) = (opts.lossy, opts.batch_rows);
        tasks.spawn(async move {
            let part = async {
                let mut conn = PostgresSource::dedicated(&conn_opts).await?;
                sqlx::raw_sql(REPEATABLE_READ).execute(&mut conn).await?;
                sqlx::raw_sql(AssertSqlSafe(set_snapshot))
                    .execute(&mut conn)
                    .await?;
                let n =
                    run_copy(&mut conn, &sql, &plan, lossy, batch_rows, &out, &progress).await?;
                sqlx::raw_sql("COMMIT").execute(&mut conn).await?;
                anyhow::Ok(n)
            };
            part.await
                .with_context(|| format!("partition {}/{count} ({what})", i + 1))
        });
    }
    let others = async {
        let mut converted = vec![0u64; plan.columns.len()];
        while let Some(joined) = tasks.join_next().await {
            let counts = match joined {
                Ok(Ok(counts)) => counts,
                Ok(Err(e)) => {
                    // Dropping the others closes their connections.
                    tasks.abort_all();
                    return Err(e);
                }
                Err(e) => {
                    tasks.abort_all();
                    return Err(anyhow!("a partition task stopped: {e}"));
                }
            };
            add_counts(&mut converted, &counts);
        }
        Ok(converted)
    };
    // The first error drops the other side: its COPYs' connections close.
    let (mut converted, counts) = tokio::try_join!(others, own)?;
    add_counts(&mut converted, &counts);
    sqlx::raw_sql("COMMIT").execute(&mut coordinator).await?;
    Ok(converted)
}

fn add_counts(total: &mut [u64], counts: &[u64]) {
    for (t, n) in total.iter_mut().zip(counts) {
        *t += n;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ranges_cover_every_page_once_and_leave_the_end_open() {
        assert_eq!(
            page_ranges(10, 3),
            vec![(0, Some(4)), (4, Some(8)), (8, None)]
        );
        assert_eq!(page_ranges(2, 4), vec![(0, Some(1)), (1, None)]);
        // An empty (or just created) table: one open range reads what is there.
        assert_eq!(page_ranges(0, 4), vec![(0, None)]);
        assert_eq!(
            page_ranges(98_177, 2),
            vec![(0, Some(49_089)), (49_089, None)]
        );
        assert_eq!(
            page_filter(4, Some(8)),
            " WHERE ctid >= '(4,0)'::tid AND ctid < '(8,0)'::tid"
        );
        assert_eq!(page_filter(8, None), " WHERE ctid >= '(8,0)'::tid");
    }

    #[test]
    fn key_ranges_cover_the_span_once() {
        assert_eq!(key_ranges(1, 10, 3), vec![(1, 4), (5, 8), (9, 10)]);
        assert_eq!(key_ranges(5, 6, 4), vec![(5, 5), (6, 6)]);
        assert_eq!(key_ranges(7, 7, 4), vec![(7, 7)]);
        assert_eq!(
            key_ranges(i64::MIN, i64::MAX, 2),
            vec![(i64::MIN, -1), (0, i64::MAX)]
        );
        assert!(key_ranges(3, 2, 2).is_empty());
    }
}
