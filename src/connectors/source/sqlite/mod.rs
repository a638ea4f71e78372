//! SQLite files as sources, opened read-only: the catalog from
//! `sqlite_master` and `pragma_table_xinfo`, rows streamed into Arrow
//! builders with every value's storage class checked against its column.

mod decode;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use arrow_array::RecordBatch;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions};
use sqlx::{Column, ConnectOptions, Executor, Row, SqlSafeStr, Statement, TypeInfo};

use super::mark::{Above, MarkKind};
use super::rows::{collect_one, preview_plan};
use super::{
    BatchSender, Column as SourceColumn, ExportInput, ExportOptions, ExportStats, ProgressFn,
    Source, TableDetail, TableKind, TableName, TableSummary,
};
use crate::connectors::BoxFuture;
use crate::format::types::sqlite;
use decode::{Job, Plan, clean, driver_message, export_rows};

pub struct SqliteSource {
    options: SqliteConnectOptions,
    pool: SqlitePool,
    path: PathBuf,
}

/// `name` in double quotes, quotes doubled.
/// ` WHERE "col" > n` for an incremental export. SQLite keeps times as
/// text in whatever form the application wrote, which need not sort as
/// time: only integer columns can be followed.
fn above_condition(a: &Above) -> Result<String> {
    match a.mark.kind {
        MarkKind::Integer => Ok(format!(" WHERE {} > {}", quote(&a.column), a.mark.value)),
        MarkKind::Timestamp | MarkKind::LocalTimestamp => anyhow::bail!(
            "incremental export of column `{}`: an SQLite source follows integer columns only (its times are text)",
            a.column
        ),
    }
}

pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A declared column: name, declared type, NOT NULL, position in the key.
struct Declared {
    name: String,
    declared: String,
    not_null: bool,
    pk: i64,
}

impl SqliteSource {
    /// Opens an existing database file read-only: a source is never written.
    pub async fn open(path: &Path) -> Result<SqliteSource> {
        if !path.is_file() {
            bail!("SQLite database {} does not exist", path.display());
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot open {}: {}", path.display(), driver_message(e))
            })?;
        Ok(SqliteSource {
            options,
            pool,
            path: path.to_path_buf(),
        })
    }

    async fn declared(&self, table: &TableName) -> Result<Vec<Declared>> {
        let rows = sqlx::query(
            "SELECT name, type, \"notnull\", pk, hidden FROM pragma_table_xinfo(?1, ?2) \
             ORDER BY cid",
        )
        .bind(&table.name)
        .bind(&table.schema)
        .fetch_all(&self.pool)
        .await
        .map_err(clean)?;
        let mut out = Vec::new();
        for row in rows {
            // hidden = 1: a virtual table's hidden column, not selectable by `*`.
            if row.try_get::<i64, _>(4).map_err(clean)? == 1 {
                continue;
            }
            out.push(Declared {
                name: row.try_get(0).map_err(clean)?,
                declared: row
                    .try_get::<Option<String>, _>(1)
                    .map_err(clean)?
                    .unwrap_or_default(),
                not_null: row.try_get::<i64, _>(2).map_err(clean)? != 0,
                pk: row.try_get(3).map_err(clean)?,
            });
        }
        Ok(out)
    }

    async fn columns(&self, table: &TableName) -> Result<(Vec<SourceColumn>, Vec<String>)> {
        let declared = self.declared(table).await?;
        if declared.is_empty() {
            bail!("no table or view {table} in {}", self.path.display());
        }
        let keys = declared.iter().filter(|d| d.pk > 0).count();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let columns = declared
            .into_iter()
            .map(|d| {
                // INTEGER PRIMARY KEY is the rowid: never NULL, whatever notnull says.
                let rowid = d.pk == 1 && keys == 1 && d.declared.eq_ignore_ascii_case("INTEGER");
                if d.pk > 0 {
                    pk.push((d.pk, d.name.clone()));
                }
                SourceColumn {
                    nullable: !(d.not_null || rowid),
                    ty: sqlite::map(&d.declared),
                    name: d.name,
                }
            })
            .collect();
        pk.sort();
        Ok((columns, pk.into_iter().map(|(_, n)| n).collect()))
    }

    async fn row_estimate(&self, table: &TableName) -> Option<i64> {
        let schema = quote(&table.schema);
        let has_stat: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM {schema}.sqlite_master WHERE name = 'sqlite_stat1'"
        )))
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten();
        if has_stat.is_some() {
            // The first number of a stat row is the row count (ANALYZE's).
            let stat: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT stat FROM {schema}.sqlite_stat1 WHERE tbl = ?1 \
                 ORDER BY idx IS NULL DESC LIMIT 1"
            )))
            .bind(&table.name)
            .fetch_optional(&self.pool)
            .await
            .ok()
            .flatten();
            if let Some(n) = stat.and_then(|s| s.split(' ').next()?.parse().ok()) {
                return Some(n);
            }
        }
        // max(rowid) reads one b-tree edge; WITHOUT ROWID tables have none.
        sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(format!(
            "SELECT max(rowid) FROM {schema}.{}",
            quote(&table.name)
        )))
        .fetch_one(&self.pool)
        .await
        .ok()
        .map(|n| n.unwrap_or(0))
    }

    async fn summaries(&self, only: Option<&TableName>) -> Result<Vec<TableSummary>> {
        let schema = only.map_or("main", |t| t.schema.as_str());
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name, type FROM {}.sqlite_master WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND (?1 IS NULL OR name = ?1) \
             ORDER BY name",
            quote(schema)
        )))
        .bind(only.map(|t| t.name.clone()))
        .fetch_all(&self.pool)
        .await
        .map_err(clean)?;
        let mut out = Vec::new();
        for row in rows {
            let table = TableName {
                schema: schema.to_string(),
                name: row.try_get(0).map_err(clean)?,
            };
            let kind = match row.try_get::<String, _>(1).map_err(clean)?.as_str() {
                "view" => TableKind::View,
                _ => TableKind::Table,
            };
            let row_estimate = match kind {
                TableKind::Table => self.row_estimate(&table).await,
                TableKind::View => None,
            };
            out.push(TableSummary {
                table,
                kind,
                row_estimate,
            });
        }
        Ok(out)
    }

    /// Column types of a workspace query: a column read from a table has
    /// that column's declared type; an expression has the type SQLite infers
    /// for it (dynamic text when it cannot say).
    async fn query_plan(&self, conn: &mut SqliteConnection, sql: &str) -> Result<Vec<Plan>> {
        let described = (&mut *conn)
            .prepare(sqlx::AssertSqlSafe(sql.to_string()).into_sql_str())
            .await
            .map_err(clean)?;
        let mut tables: HashMap<String, Vec<Declared>> = HashMap::new();
        let mut plan = Vec::new();
        for col in described.columns() {
            let mut declared = None;
            if let Some(tc) = col.origin().table_column() {
                let key = tc.table.to_string();
                if !tables.contains_key(&key) {
                    let found = self.origin_columns(&key).await;
                    tables.insert(key.clone(), found);
                }
                declared = tables[&key]
                    .iter()
                    .find(|d| d.name == *tc.name)
                    .map(|d| d.declared.clone());
            }
            // No origin and no declared type: an expression, typed later.
            let infer = declared.is_none() && col.type_info().name() == "NULL";
            let declared = declared.unwrap_or_else(|| match col.type_info().name() {
                "NULL" => String::new(),
                other => other.to_string(),
            });
            plan.push(Plan {
                name: col.name().to_string(),
                ty: sqlite::map(&declared),
                dynamic: sqlite::is_dynamic(&declared),
                infer,
            });
        }
        Ok(plan)
    }

    /// sqlx names an origin `table` in main, else `schema.table`.
    async fn origin_columns(&self, key: &str) -> Vec<Declared> {
        let main = TableName {
            schema: "main".into(),
            name: key.to_string(),
        };
        match self.declared(&main).await {
            Ok(cols) if !cols.is_empty() => cols,
            _ => match key.split_once('.') {
                Some((schema, name)) => {
                    let t = TableName {
                        schema: schema.into(),
                        name: name.into(),
                    };
                    self.declared(&t).await.unwrap_or_default()
                }
                None => Vec::new(),
            },
        }
    }

    async fn run_export(
        &self,
        input: &ExportInput,
        opts: &ExportOptions,
        out: BatchSender,
        progress: ProgressFn,
    ) -> Result<ExportStats> {
        // Its own connection: dropping the export stops the statement.
        let mut conn = self.options.connect().await.map_err(|e| {
            anyhow::anyhow!("cannot open {}: {}", self.path.display(), driver_message(e))
        })?;
        let (what, sql, plan, nullable) = match input {
            ExportInput::Table(t) => {
                let (cols, _) = self.columns(t).await?;
                let list: Vec<String> = cols.iter().map(|c| quote(&c.name)).collect();
                let mut sql = format!(
                    "SELECT {} FROM {}.{}",
                    list.join(", "),
                    quote(&t.schema),
                    quote(&t.name)
                );
                if let Some(a) = &opts.above {
                    sql.push_str(&above_condition(a)?);
                }
                let nullable: Vec<bool> = cols.iter().map(|c| c.nullable).collect();
                let plan = cols
                    .into_iter()
                    .map(|c| Plan {
                        dynamic: sqlite::is_dynamic(&c.ty.db_type),
                        infer: false,
                        name: c.name,
                        ty: c.ty,
                    })
                    .collect();
                (t.to_string(), sql, plan, nullable)
            }
            ExportInput::Query(q) => {
                let plan = self.query_plan(&mut conn, q).await?;
                let nullable = vec![true; plan.len()];
                ("query".to_string(), q.clone(), plan, nullable)
            }
        };
        let job = Job {
            what: &what,
            lossy: opts.lossy,
            batch_rows: opts.batch_rows,
            nullable,
            out,
            progress,
        };
        export_rows(&mut conn, sql, plan, job).await
    }
}

impl Source for SqliteSource {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableSummary>>> {
        Box::pin(self.summaries(None))
    }

    fn describe<'a>(&'a self, table: &'a TableName) -> BoxFuture<'a, Result<TableDetail>> {
        Box::pin(async move {
            let summary = self
                .summaries(Some(table))
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    anyhow::anyhow!("no table or view {table} in {}", self.path.display())
                })?;
            let (columns, primary_key) = self.columns(table).await?;
            Ok(TableDetail {
                summary,
                columns,
                primary_key,
            })
        })
    }

    fn preview<'a>(
        &'a self,
        table: &'a TableName,
        rows: usize,
    ) -> BoxFuture<'a, Result<RecordBatch>> {
        Box::pin(async move {
            let (cols, _) = self.columns(table).await?;
            let (input, opts) =
                preview_plan(table, cols.iter().map(|c| c.name.as_str()), rows, quote);
            let progress: ProgressFn = Arc::new(|_, _| {});
            collect_one(|tx| self.run_export(&input, &opts, tx, progress)).await
        })
    }

    fn export<'a>(
        &'a self,
        input: &'a ExportInput,
        opts: &'a ExportOptions,
        out: BatchSender,
        progress: ProgressFn,
    ) -> BoxFuture<'a, Result<ExportStats>> {
        Box::pin(self.run_export(input, opts, out, progress))
    }
}
