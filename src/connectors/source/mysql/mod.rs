//! MySQL and MariaDB: the catalog from `information_schema`, rows streamed
//! from prepared statements (binary protocol) into Arrow builders.
//!
//! Sessions read `timestamp` columns as UTC (`time_zone = '+00:00'`) and keep
//! the server's SQL mode (no PIPES_AS_CONCAT), so a workspace query means
//! what it means in the mysql client. Each export runs on its own
//! connection: dropping the export closes it, which stops the server's query.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::{ConnectOptions, Connection, Row};

use super::mark::{Above, MarkKind};
use super::rows::{BatchSink, Warnings, arrow_field, collect_one, preview_plan};
use super::{
    BatchSender, Column as SourceColumn, ExportInput, ExportOptions, ExportStats, Lossy,
    ProgressFn, Source, TableDetail, TableKind, TableName, TableSummary,
};
use crate::config::redact::redact;
use crate::connectors::BoxFuture;
use crate::format::types::{Fidelity, mysql};
use decode::{Ctx, Plan, clean, driver_message, stream_rows};

mod decode;
mod query;
use query::decimal_as_text;

pub struct MysqlSource {
    options: MySqlConnectOptions,
    pool: MySqlPool,
}

/// `name` in backticks, backticks doubled.
/// ` WHERE `col` > literal` for an incremental export. The session reads
/// times in UTC, so a zoned mark's UTC text compares as it should; the
/// literal is ours (digits or a formatted time).
fn above_condition(a: &Above) -> String {
    let col = quote(&a.column);
    match a.mark.kind {
        MarkKind::Integer => format!(" WHERE {col} > {}", a.mark.value),
        MarkKind::Timestamp | MarkKind::LocalTimestamp => {
            format!(" WHERE {col} > '{}'", a.mark.sql_datetime())
        }
    }
}

pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

impl MysqlSource {
    /// Connects (and checks the server answers). Errors name host and port,
    /// never the URL, so a password in it cannot leak.
    pub async fn connect(url: &str) -> Result<MysqlSource> {
        let options = MySqlConnectOptions::from_str(url)
            .map_err(|_| {
                anyhow!("invalid MySQL URL (expected mysql://user:password@host:port/db)")
            })?
            .timezone(Some("+00:00".to_string()))
            .pipes_as_concat(false);
        // One direct connection first: it fails at once where the pool would
        // retry until its timeout.
        let source = MysqlSource {
            pool: MySqlPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(15))
                .connect_lazy_with(options.clone()),
            options,
        };
        let conn = source.export_conn().await?;
        let _ = conn.close().await;
        Ok(source)
    }

    async fn export_conn(&self) -> Result<MySqlConnection> {
        self.options.connect().await.map_err(|e| {
            anyhow!(
                "cannot connect to MySQL at {}:{}: {}",
                self.options.get_host(),
                self.options.get_port(),
                redact(&driver_message(e))
            )
        })
    }

    async fn summary(&self, table: &TableName) -> Result<TableSummary> {
        let rows = sqlx::query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, CAST(TABLE_ROWS AS SIGNED) \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        )
        .bind(&table.schema)
        .bind(&table.name)
        .fetch_all(&self.pool)
        .await
        .map_err(clean)?;
        for row in rows {
            let s = summary_of(&row)?;
            // information_schema compares without case; names may differ only by it.
            if s.table == *table {
                return Ok(s);
            }
        }
        bail!("no table or view {table}")
    }

    /// Columns of a table or view, in order, mapped.
    async fn columns(&self, table: &TableName) -> Result<Vec<SourceColumn>> {
        let rows = sqlx::query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
             ORDER BY ORDINAL_POSITION",
        )
        .bind(&table.schema)
        .bind(&table.name)
        .fetch_all(&self.pool)
        .await
        .map_err(clean)?;
        let json = self.json_columns(table).await;
        let mut out = Vec::new();
        for row in rows {
            if text(&row, 0)? != table.name {
                continue;
            }
            let name = text(&row, 1)?;
            let (column_type, data_type) = (text(&row, 2)?, text(&row, 3)?);
            let ty = if json.contains(&name) {
                let mut ty = mysql::map("json", "json");
                ty.db_type = format!("json ({column_type} with json_valid)");
                ty
            } else {
                mysql::map(&column_type, &data_type)
            };
            out.push(SourceColumn {
                nullable: text(&row, 4)? == "YES",
                name,
                ty,
            });
        }
        Ok(out)
    }

    /// MariaDB stores JSON as LONGTEXT with a `json_valid(col)` CHECK: those
    /// columns are JSON. MySQL has a real type (and no such table column), so
    /// a failing lookup just means none.
    async fn json_columns(&self, table: &TableName) -> Vec<String> {
        let rows = sqlx::query(
            "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
        )
        .bind(&table.schema)
        .bind(&table.name)
        .fetch_all(&self.pool)
        .await
        .unwrap_or_default();
        rows.iter()
            .filter(|r| text(r, 0).is_ok_and(|t| t == table.name))
            .filter_map(|r| text(r, 1).ok())
            .filter_map(|clause| json_valid_column(&clause))
            .collect()
    }

    async fn primary_key(&self, table: &TableName) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
             ORDER BY ORDINAL_POSITION",
        )
        .bind(&table.schema)
        .bind(&table.name)
        .fetch_all(&self.pool)
        .await
        .map_err(clean)?;
        rows.iter()
            .filter(|r| text(r, 0).is_ok_and(|t| t == table.name))
            .map(|r| text(r, 1))
            .collect()
    }

    async fn export_plan(
        &self,
        conn: &mut MySqlConnection,
        input: &ExportInput,
        above: Option<&Above>,
    ) -> Result<(String, Vec<Plan>, Vec<bool>)> {
        Ok(match input {
            ExportInput::Table(t) => {
                let cols = self.columns(t).await?;
                if cols.is_empty() {
                    bail!("no table or view {t}");
                }
                let list: Vec<String> = cols.iter().map(|c| quote(&c.name)).collect();
                let mut sql = format!(
                    "SELECT {} FROM {}.{}",
                    list.join(", "),
                    quote(&t.schema),
                    quote(&t.name)
                );
                if let Some(a) = above {
                    sql.push_str(&above_condition(a));
                }
                let nullable = cols.iter().map(|c| c.nullable).collect();
                let plan = cols
                    .into_iter()
                    .map(|c| Plan {
                        name: c.name,
                        ty: c.ty,
                    })
                    .collect();
                (sql, plan, nullable)
            }
            ExportInput::Query(q) => {
                let sql = q.trim().trim_end_matches(';').to_string();
                let plan = self.query_plan(conn, &sql).await?;
                let nullable = vec![true; plan.len()];
                (sql, plan, nullable)
            }
        })
    }

    async fn run_export(
        &self,
        input: &ExportInput,
        opts: &ExportOptions,
        out: BatchSender,
        progress: ProgressFn,
    ) -> Result<ExportStats> {
        let what = match input {
            ExportInput::Table(t) => t.to_string(),
            ExportInput::Query(_) => "query".to_string(),
        };
        let mut conn = self.export_conn().await?;
        let (sql, plan, nullable) = self
            .export_plan(&mut conn, input, opts.above.as_ref())
            .await?;
        for col in &plan {
            match &col.ty.fidelity {
                Fidelity::Refused { reason } => {
                    bail!(
                        "{what}, column `{}` ({}): {reason}",
                        col.name,
                        col.ty.db_type
                    )
                }
                Fidelity::Fallback { note }
                    if col.ty == decimal_as_text() && opts.lossy == Lossy::Refuse =>
                {
                    bail!(
                        "{what}, column `{}` ({}): {note}; refused (the task can opt in to \
                         converting such values)",
                        col.name,
                        col.ty.db_type
                    )
                }
                _ => {}
            }
        }
        // Conversions may turn a value into NULL (zero dates, opted-in fallbacks).
        let fields: Vec<_> = plan
            .iter()
            .zip(&nullable)
            .map(|(c, n)| {
                let may_null = matches!(c.ty.arrow, DataType::Date32 | DataType::Timestamp(..))
                    || matches!(c.ty.fidelity, Fidelity::Fallback { .. });
                arrow_field(&c.name, &c.ty, *n || may_null)
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let mut sink = BatchSink::start(schema, opts.batch_rows, out, progress).await?;
        let mut warnings = Warnings::default();
        let ctx = Ctx {
            what: &what,
            lossy: opts.lossy,
        };
        stream_rows(&mut conn, sql, &plan, &ctx, &mut sink, &mut warnings).await?;
        sink.finish(warnings).await
    }
}

impl Source for MysqlSource {
    fn kind(&self) -> &'static str {
        "mysql"
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableSummary>>> {
        Box::pin(async move {
            // Without a database in the URL: every schema but the server's own.
            let rows = sqlx::query(
                "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, CAST(TABLE_ROWS AS SIGNED) \
                 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
                 OR (DATABASE() IS NULL AND TABLE_SCHEMA NOT IN \
                     ('information_schema', 'mysql', 'performance_schema', 'sys')) \
                 ORDER BY TABLE_SCHEMA, TABLE_NAME",
            )
            .fetch_all(&self.pool)
            .await
            .map_err(clean)?;
            rows.iter().map(summary_of).collect()
        })
    }

    fn describe<'a>(&'a self, table: &'a TableName) -> BoxFuture<'a, Result<TableDetail>> {
        Box::pin(async move {
            let summary = self.summary(table).await?;
            let columns = self.columns(table).await?;
            let primary_key = self.primary_key(table).await?;
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
            let cols = self.columns(table).await?;
            if cols.is_empty() {
                bail!("no table or view {table}");
            }
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

fn summary_of(row: &MySqlRow) -> Result<TableSummary> {
    let kind = match text(row, 2)?.as_str() {
        "VIEW" | "SYSTEM VIEW" => TableKind::View,
        _ => TableKind::Table,
    };
    let row_estimate: Option<i64> = row.try_get(3).map_err(clean)?;
    Ok(TableSummary {
        table: TableName {
            schema: text(row, 0)?,
            name: text(row, 1)?,
        },
        kind,
        row_estimate: if kind == TableKind::View {
            None
        } else {
            row_estimate
        },
    })
}

/// A catalog string, whatever charset or binary flag the server gives it.
fn text(row: &MySqlRow, i: usize) -> Result<String> {
    let v: Option<String> = row.try_get_unchecked(i).map_err(clean)?;
    Ok(v.unwrap_or_default())
}

/// `json_valid(`a``b`)` → "a`b"; anything more complex is no guarantee.
fn json_valid_column(clause: &str) -> Option<String> {
    let inner = clause
        .trim()
        .strip_prefix("json_valid(`")?
        .strip_suffix("`)")?;
    let unquoted = inner.replace("``", "`");
    // A lone backtick left means the clause named more than one column.
    (!inner.replace("``", "").contains('`')).then_some(unquoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_json_checks() {
        assert_eq!(quote("a`b c"), "`a``b c`");
        assert_eq!(json_valid_column("json_valid(`doc`)"), Some("doc".into()));
        assert_eq!(json_valid_column("json_valid(`a``b`)"), Some("a`b".into()));
        assert_eq!(json_valid_column("json_valid(`a`) or `b` > 0"), None);
        assert_eq!(json_valid_column("`a` > 0"), None);
    }
}
