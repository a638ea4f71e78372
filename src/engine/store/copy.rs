//! `switchyard state copy`: a store's whole history into another, empty one
//! (an SQLite file into the team's PostgreSQL, above all), so switching
//! backends loses nothing. The source is read in one transaction, so the
//! copy is of one moment; the destination is written in one, so a failed
//! copy leaves it empty.

use anyhow::{Context, Result, bail};
use sqlx::any::AnyTypeInfoKind;
use sqlx::{Column, Row};

use super::{Store, values_rows};

/// Every table of history, parents before children. Not copied: `servers`
/// (live `serve` heartbeats, of the old store's processes) and
/// `schema_migrations` (the destination has its own).
pub const TABLES: &[&str] = &[
    "pools",
    "backfills",
    "runs",
    "task_instances",
    "attempts",
    "logs",
    "requests",
    "events",
    "journal",
    "slots",
    "alerts",
    "deliveries",
    "export_ranges",
    "export_marks",
];

/// Tables whose id the database hands out: the destination's counter must
/// go on after the copied ids.
const ID_COLUMNS: &[(&str, &str)] = &[
    ("runs", "id"),
    ("backfills", "id"),
    ("requests", "id"),
    ("events", "seq"),
    ("journal", "id"),
    ("alerts", "id"),
];

/// Rows per INSERT: well under PostgreSQL's 65,535 bound values.
const ROWS_PER_INSERT: usize = 200;

/// How many rows of each table were copied.
pub type Copied = Vec<(&'static str, u64)>;

/// A column's value as read from the source, bound as the same type.
enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

fn read_value(row: &super::Row, i: usize) -> Result<Value> {
    let kind = row.columns()[i].type_info().kind();
    Ok(match kind {
        k if k.is_integer() || k == AnyTypeInfoKind::Bool => Value::Int(row.try_get(i)?),
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => Value::Real(row.try_get(i)?),
        AnyTypeInfoKind::Blob => Value::Blob(row.try_get(i)?),
        // Text, and a column SQLite declared no type for.
        _ => match row.try_get::<Option<String>, _>(i) {
            Ok(v) => Value::Text(v),
            Err(_) => Value::Int(row.try_get(i)?),
        },
    })
}

impl Store {
    /// Copies every table of `TABLES` from this store into `to`, which must
    /// hold no history yet.
    pub async fn copy_into(&self, to: &Store) -> Result<Copied> {
        let mut dest = to.begin().await?;
        for table in TABLES {
            let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut *dest)
                .await?;
            if n > 0 {
                bail!(
                    "{} already holds {n} row(s) of `{table}`: state copy writes only into an empty store",
                    to.describe()
                );
            }
        }
        // One read transaction: every table as of one moment.
        let mut src = self.pool().begin().await?;
        let mut copied = Vec::new();
        for table in TABLES {
            let sql = format!("SELECT * FROM \"{table}\"");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *src)
                .await
                .with_context(|| format!("reading `{table}` of {}", self.describe()))?;
            let Some(first) = rows.first() else {
                copied.push((*table, 0));
                continue;
            };
            let cols: Vec<String> = first
                .columns()
                .iter()
                .map(|c| format!("\"{}\"", c.name()))
                .collect();
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let sql = format!(
                    "INSERT INTO \"{table}\" ({}) VALUES {}",
                    cols.join(", "),
                    values_rows(chunk.len(), cols.len())
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    for i in 0..cols.len() {
                        q = match read_value(row, i)? {
                            Value::Int(v) => q.bind(v),
                            Value::Real(v) => q.bind(v),
                            Value::Text(v) => q.bind(v),
                            Value::Blob(v) => q.bind(v),
                        };
                    }
                }
                q.execute(&mut *dest)
                    .await
                    .with_context(|| format!("writing `{table}` into {}", to.describe()))?;
            }
            copied.push((*table, rows.len() as u64));
        }
        if to.is_postgres() {
            for (table, col) in ID_COLUMNS {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{col}'), \
                     COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *dest)
                    .await?;
            }
        }
        dest.commit().await?;
        Ok(copied)
    }
}
