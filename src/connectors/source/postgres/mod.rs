//! PostgreSQL source: the catalog (tables, views, partitioned tables,
//! columns with their exact types, primary keys) through a small pool, and
//! exports as COPY BINARY on dedicated connections (`export.rs`; COPY
//! decoding in `copy.rs`, per-column conversion in `column.rs` and
//! `value.rs`, partition ranges in `partition.rs`).
//!
//! Identifiers are always quoted, so mixed case, spaces and quotes in names
//! work. Messages never carry the connection URL (it may hold a password).

mod column;
mod copy;
mod export;
mod partition;
mod value;

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use arrow_array::RecordBatch;
use sqlx::Connection;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use super::{
    BatchSender, Column, ExportInput, ExportOptions, ExportStats, ProgressFn, Source, TableDetail,
    TableKind, TableName, TableSummary,
};
use crate::connectors::BoxFuture;
use crate::format::types::ColumnType;
use crate::format::types::postgres::{PgKind, kind};
use copy::CopyColumn;

pub struct PostgresSource {
    opts: PgConnectOptions,
    /// For catalog queries; exports open their own connections.
    pool: PgPool,
}

/// `"name"` with embedded quotes doubled.
pub(crate) fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled (standard_conforming_strings).
pub(crate) fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub(crate) fn quote_table(t: &TableName) -> String {
    format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.name))
}

pub(crate) use crate::format::types::arrow_field;

/// A column with everything the catalog and the decoder need.
#[derive(Debug, Clone)]
pub(crate) struct PgCol {
    pub name: String,
    pub nullable: bool,
    /// `format_type(oid, typmod)`: how PostgreSQL names the type.
    pub display: String,
    pub kind: PgKind,
}

impl PgCol {
    pub(crate) fn column_type(&self) -> ColumnType {
        self.kind.column_type(&self.display)
    }

    pub(crate) fn copy_column(&self) -> CopyColumn {
        CopyColumn {
            name: self.name.clone(),
            db_type: self.display.clone(),
            kind: self.kind.clone(),
        }
    }
}

impl PostgresSource {
    /// Connects (and checks the server answers). The URL is not repeated in
    /// errors: it may hold a password.
    pub async fn connect(url: &str) -> Result<PostgresSource> {
        let mut opts =
            PgConnectOptions::from_str(url).map_err(|e| anyhow!("invalid PostgreSQL url: {e}"))?;
        if opts.get_application_name().is_none() {
            // Lets a DBA see who runs the COPY in pg_stat_activity.
            opts = opts.application_name("switchyard");
        }
        // One direct connection first: a pool would retry a refused
        // connection until its acquire timeout; a wrong URL should fail now.
        let _ = Self::dedicated(&opts).await?.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .idle_timeout(Duration::from_secs(60))
            .connect_lazy_with(opts.clone());
        Ok(PostgresSource { opts, pool })
    }

    /// A connection of its own, for one export or one partition of it:
    /// closing it stops the server's COPY.
    pub(crate) async fn dedicated(opts: &PgConnectOptions) -> Result<PgConnection> {
        PgConnection::connect_with(opts)
            .await
            .map_err(|e| connect_error(opts, e))
    }

    /// The connection an export starts on: an idle one of the catalog pool
    /// (detached from it, so it never goes back after a COPY) or a new one.
    /// Other idle catalog connections are closed: while an export runs, its
    /// connections are all this source holds, one per partition, so a pool
    /// slot stands for one connection to the server.
    pub(crate) async fn take_for_export(&self) -> Result<PgConnection> {
        // The connection of a catalog call that just ended (the row estimate)
        // goes back to the pool in a task of its own: wait for it a little.
        for _ in 0..100 {
            if self.pool.num_idle() >= self.pool.size() as usize {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut idle = Vec::new();
        while let Some(c) = self.pool.try_acquire() {
            idle.push(c.detach());
        }
        let first = idle.pop();
        for c in idle {
            let _ = c.close().await;
        }
        match first {
            Some(c) => Ok(c),
            None => Self::dedicated(&self.opts).await,
        }
    }

    pub(crate) fn options(&self) -> &PgConnectOptions {
        &self.opts
    }
}

fn connect_error(opts: &PgConnectOptions, e: sqlx::Error) -> anyhow::Error {
    anyhow!(
        "cannot connect to PostgreSQL at {}:{}: {e}",
        opts.get_host(),
        opts.get_port()
    )
}

/// Resolves a column's type to the name the mapping table knows: domains to
/// their base type (and its modifier), enums to `text` (COPY sends their
/// label), arrays to `_elem`; a type outside pg_catalog keeps its qualified
/// name, so it can never be mistaken for a built-in and is carried as text.
pub(crate) struct TypeResolver {
    cache: HashMap<(u32, i32), (String, i32)>,
}

impl TypeResolver {
    pub(crate) fn new() -> TypeResolver {
        TypeResolver {
            cache: HashMap::new(),
        }
    }

    pub(crate) async fn kind(
        &mut self,
        conn: &mut PgConnection,
        oid: Oid,
        typmod: i32,
    ) -> Result<PgKind> {
        if let Some((name, m)) = self.cache.get(&(oid.0, typmod)) {
            return Ok(kind(name, *m));
        }
        let (name, m) = resolve_type(conn, oid, typmod).await?;
        let k = kind(&name, m);
        self.cache.insert((oid.0, typmod), (name, m));
        Ok(k)
    }
}

async fn resolve_type(conn: &mut PgConnection, oid: Oid, typmod: i32) -> Result<(String, i32)> {
    let (mut oid, mut typmod, mut array) = (oid, typmod, false);
    let named = |array: bool, name: &str| {
        if array {
            format!("_{name}")
        } else {
            name.to_string()
        }
    };
    for _ in 0..32 {
        let row: Option<(String, String, String, Oid, i32, Oid, String)> = sqlx::query_as(
            "SELECT t.typname::text, n.nspname::text, t.typtype::text, t.typbasetype, \
             t.typtypmod, t.typelem, t.typcategory::text \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = $1",
        )
        .bind(oid)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((typname, nsp, typtype, base, typtypmod, elem, category)) = row else {
            bail!("type oid {} is not in pg_type", oid.0);
        };
        match typtype.as_str() {
            "d" => (oid, typmod) = (base, typtypmod),
            "e" => return Ok((named(array, "text"), -1)),
            "b" if category == "A" && elem.0 != 0 && !array => (oid, array) = (elem, true),
            "b" if nsp == "pg_catalog" || typname == "citext" => {
                return Ok((named(array, &typname), typmod));
            }
            _ => return Ok((named(array, &format!("{nsp}.{typname}")), typmod)),
        }
    }
    bail!("type oid {} nests domains too deeply", oid.0)
}

/// The relation's oid and kind, or a clear "no such table".
async fn relation(conn: &mut PgConnection, t: &TableName) -> Result<(Oid, String, Option<i64>)> {
    let row: Option<(Oid, String, f64, Option<f64>)> = sqlx::query_as(
        "SELECT c.oid, c.relkind::text, c.reltuples::float8, \
           CASE WHEN c.relkind = 'p' THEN (SELECT sum(l.reltuples)::float8 \
             FROM pg_partition_tree(c.oid) p JOIN pg_class l ON l.oid = p.relid \
             WHERE p.isleaf AND l.reltuples >= 0) END \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','v','m','p','f')",
    )
    .bind(&t.schema)
    .bind(&t.name)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((oid, relkind, reltuples, leaves)) = row else {
        bail!("no table or view {t}");
    };
    let estimate = row_estimate(&relkind, reltuples, leaves);
    Ok((oid, relkind, estimate))
}

/// `reltuples` is -1 until the table is first analysed; a partitioned
/// table's own count may be missing while its leaves have one.
fn row_estimate(relkind: &str, reltuples: f64, leaves: Option<f64>) -> Option<i64> {
    match relkind {
        "v" => None,
        _ if reltuples >= 0.0 => Some(reltuples as i64),
        "p" => leaves.map(|n| n as i64),
        _ => None,
    }
}

fn table_kind(relkind: &str) -> TableKind {
    match relkind {
        "v" | "m" => TableKind::View,
        _ => TableKind::Table,
    }
}

/// The columns of a relation, in order.
pub(crate) async fn table_columns(conn: &mut PgConnection, rel: Oid) -> Result<Vec<PgCol>> {
    let rows: Vec<(String, bool, Oid, i32, String)> = sqlx::query_as(
        "SELECT a.attname::text, a.attnotnull, a.atttypid, a.atttypmod, \
           format_type(a.atttypid, a.atttypmod) \
         FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
    )
    .bind(rel)
    .fetch_all(&mut *conn)
    .await?;
    let mut types = TypeResolver::new();
    let mut cols = Vec::with_capacity(rows.len());
    for (name, notnull, oid, typmod, display) in rows {
        cols.push(PgCol {
            name,
            nullable: !notnull,
            display,
            kind: types.kind(conn, oid, typmod).await?,
        });
    }
    Ok(cols)
}

pub(crate) async fn primary_key(conn: &mut PgConnection, rel: Oid) -> Result<Vec<String>> {
    let pk: Vec<(String,)> = sqlx::query_as(
        "SELECT a.attname::text FROM pg_index i \
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
         WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord",
    )
    .bind(rel)
    .fetch_all(&mut *conn)
    .await?;
    Ok(pk.into_iter().map(|(n,)| n).collect())
}

/// Everything an export of a table needs from the catalog.
pub(crate) struct TableInfo {
    pub detail: TableDetail,
    pub cols: Vec<PgCol>,
    /// `pg_class.relkind`: `r` table, `m` materialized view, `p` partitioned, …
    pub relkind: String,
}

pub(crate) async fn table_info(conn: &mut PgConnection, t: &TableName) -> Result<TableInfo> {
    let (oid, relkind, row_estimate) = relation(conn, t).await?;
    let cols = table_columns(conn, oid).await?;
    let primary_key = primary_key(conn, oid).await?;
    let columns = cols
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            nullable: c.nullable,
            ty: c.column_type(),
        })
        .collect();
    let detail = TableDetail {
        summary: TableSummary {
            table: t.clone(),
            kind: table_kind(&relkind),
            row_estimate,
        },
        columns,
        primary_key,
    };
    Ok(TableInfo {
        detail,
        cols,
        relkind,
    })
}

impl PostgresSource {
    async fn list(&self) -> Result<Vec<TableSummary>> {
        // Partitions are reached through their parent; temp and system
        // schemas are not data.
        let rows: Vec<(String, String, String, f64, Option<f64>)> = sqlx::query_as(
            "SELECT n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8, \
               CASE WHEN c.relkind = 'p' THEN (SELECT sum(l.reltuples)::float8 \
                 FROM pg_partition_tree(c.oid) p JOIN pg_class l ON l.oid = p.relid \
                 WHERE p.isleaf AND l.reltuples >= 0) END \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r','v','m','p','f') AND NOT c.relispartition \
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' \
             ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing PostgreSQL tables")?;
        Ok(rows
            .into_iter()
            .map(|(schema, name, relkind, reltuples, leaves)| TableSummary {
                table: TableName { schema, name },
                kind: table_kind(&relkind),
                row_estimate: row_estimate(&relkind, reltuples, leaves),
            })
            .collect())
    }

    async fn detail(&self, t: &TableName) -> Result<TableDetail> {
        let mut conn = self.pool.acquire().await?;
        Ok(table_info(&mut conn, t).await?.detail)
    }

    async fn first_rows(&self, t: &TableName, rows: usize) -> Result<RecordBatch> {
        // A dedicated connection: a COPY abandoned half-way must not go
        // back into the pool.
        let mut conn = Self::dedicated(&self.opts).await?;
        let batch = export::preview(&mut conn, t, rows).await;
        let _ = conn.close().await;
        batch.with_context(|| format!("preview of {t}"))
    }
}

impl Source for PostgresSource {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableSummary>>> {
        Box::pin(self.list())
    }

    fn describe<'a>(&'a self, table: &'a TableName) -> BoxFuture<'a, Result<TableDetail>> {
        Box::pin(self.detail(table))
    }

    fn preview<'a>(
        &'a self,
        table: &'a TableName,
        rows: usize,
    ) -> BoxFuture<'a, Result<RecordBatch>> {
        Box::pin(self.first_rows(table, rows))
    }

    fn export<'a>(
        &'a self,
        input: &'a ExportInput,
        opts: &'a ExportOptions,
        out: BatchSender,
        progress: ProgressFn,
    ) -> BoxFuture<'a, Result<ExportStats>> {
        Box::pin(export::export(self, input, opts, out, progress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident(r#"Odd "name""#), r#""Odd ""name""""#);
        assert_eq!(quote_literal("it's"), "'it''s'");
        let t = TableName {
            schema: "My Schema".into(),
            name: "t\"x".into(),
        };
        assert_eq!(quote_table(&t), r#""My Schema"."t""x""#);
    }

    #[test]
    fn estimates_ignore_never_analysed_tables() {
        assert_eq!(row_estimate("r", -1.0, None), None);
        assert_eq!(row_estimate("r", 42.0, None), Some(42));
        assert_eq!(row_estimate("v", 0.0, None), None);
        assert_eq!(row_estimate("p", -1.0, Some(10.0)), Some(10));
        assert_eq!(row_estimate("p", -1.0, None), None);
    }
}
