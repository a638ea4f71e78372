//! Running SQL on a named target (a source or a warehouse): what `sql` and
//! `check` tasks need. SQLite and BigQuery now; PostgreSQL and MySQL
//! implement the same trait.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, TypeInfo, ValueRef};

use super::BoxFuture;
use super::warehouse::bigquery::query::BigQueryTarget;
use super::warehouse::bigquery::{BigQueryConfig, BigQueryWarehouse};
use crate::config::Workspace;
use crate::config::redact::redact;

/// The first column of the first row of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalarValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
}

impl ScalarValue {
    /// `check` with one query passes on true or non-zero.
    pub fn is_truthy(&self) -> bool {
        match self {
            ScalarValue::Null => false,
            ScalarValue::Int(i) => *i != 0,
            ScalarValue::Float(f) => *f != 0.0,
            ScalarValue::Bool(b) => *b,
            ScalarValue::Text(t) => matches!(t.trim(), "t" | "true" | "TRUE" | "1" | "yes"),
        }
    }

    /// Equality across targets: 10 (int) equals 10.0 (float) equals "10".
    pub fn same_as(&self, other: &ScalarValue) -> bool {
        use ScalarValue as V;
        match (self, other) {
            (V::Int(a), V::Float(b)) | (V::Float(b), V::Int(a)) => (*a as f64) == *b,
            (V::Text(t), V::Int(i)) | (V::Int(i), V::Text(t)) => t.trim() == i.to_string(),
            (V::Text(t), V::Float(f)) | (V::Float(f), V::Text(t)) => {
                t.trim().parse::<f64>().ok() == Some(*f)
            }
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for ScalarValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScalarValue::Null => f.write_str("NULL"),
            ScalarValue::Int(i) => write!(f, "{i}"),
            ScalarValue::Float(x) => write!(f, "{x}"),
            ScalarValue::Text(t) => write!(f, "'{t}'"),
            ScalarValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

pub trait SqlTarget: Send + Sync {
    /// Runs one or more statements; returns rows affected.
    fn execute<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<u64>>;
    fn query_scalar<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<ScalarValue>>;
}

/// Opens a source or warehouse by name.
pub async fn open_target(ws: &Workspace, name: &str) -> Result<Box<dyn SqlTarget>> {
    let (kind, url, path, create) = if let Some(s) = ws.def.sources.get(name) {
        (s.kind.as_str(), s.url.as_deref(), s.path.as_deref(), false)
    } else if let Some(w) = ws.def.warehouses.get(name) {
        (w.kind.as_str(), None, w.path.as_deref(), true)
    } else {
        bail!("no source or warehouse named `{name}`");
    };
    match kind {
        "bigquery" => {
            let def = ws
                .def
                .warehouses
                .get(name)
                .ok_or_else(|| anyhow!("`{name}`: bigquery is a warehouse kind"))?;
            let cfg = BigQueryConfig::from_def(ws, name, def)?;
            let wh = BigQueryWarehouse::open(cfg)
                .await
                .with_context(|| format!("cannot open `{name}` (bigquery)"))?;
            Ok(Box::new(BigQueryTarget(wh)))
        }
        "sqlite" => {
            let file = match (path, url) {
                (Some(p), _) => ws.resolve_path(p),
                (None, Some(u)) => {
                    let rest = u
                        .strip_prefix("sqlite://")
                        .or_else(|| u.strip_prefix("sqlite:"))
                        .ok_or_else(|| anyhow!("`{name}`: a sqlite url starts with sqlite://"))?;
                    let rest = rest.split('?').next().unwrap_or(rest);
                    ws.resolve_path(rest)
                }
                (None, None) => bail!("`{name}` needs `path` (or `url`)"),
            };
            if !create && !file.exists() {
                bail!("`{name}`: database file {} does not exist", file.display());
            }
            let opts = SqliteConnectOptions::from_str("sqlite://")?
                .filename(&file)
                .create_if_missing(create)
                .busy_timeout(Duration::from_secs(30));
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .with_context(|| redact(&format!("cannot open `{name}` ({})", file.display())))?;
            Ok(Box::new(SqliteTarget { pool }))
        }
        "postgres" | "mysql" => {
            let url = url.ok_or_else(|| anyhow!("`{name}` needs `url`"))?;
            sqlx::any::install_default_drivers();
            // One connection, tried once (a pool would retry a refused
            // connection until its timeout): a task's statements run in
            // order on one session.
            let conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
                .await
                .with_context(|| redact(&format!("cannot connect to `{name}` ({kind})")))?;
            Ok(Box::new(AnyTarget {
                conn: tokio::sync::Mutex::new(conn),
            }))
        }
        other => bail!(
            "`{name}` is a {other} target; sql and check tasks support sqlite, postgres, mysql and bigquery targets"
        ),
    }
}

/// A PostgreSQL or MySQL/MariaDB target, through sqlx's `Any` driver.
struct AnyTarget {
    conn: tokio::sync::Mutex<sqlx::AnyConnection>,
}

impl SqlTarget for AnyTarget {
    fn execute<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&mut *self.conn.lock().await)
                .await?;
            Ok(r.rows_affected())
        })
    }

    fn query_scalar<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<ScalarValue>> {
        Box::pin(async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_optional(&mut *self.conn.lock().await)
                .await?;
            let Some(row) = row else {
                return Ok(ScalarValue::Null);
            };
            if row.is_empty() {
                return Ok(ScalarValue::Null);
            }
            let raw = row.try_get_raw(0)?;
            if raw.is_null() {
                return Ok(ScalarValue::Null);
            }
            let ty = raw.type_info().name().to_string();
            if let Ok(b) = row.try_get::<bool, _>(0) {
                return Ok(ScalarValue::Bool(b));
            }
            if let Ok(i) = row.try_get::<i64, _>(0) {
                return Ok(ScalarValue::Int(i));
            }
            if let Ok(f) = row.try_get::<f64, _>(0) {
                return Ok(ScalarValue::Float(f));
            }
            if let Ok(t) = row.try_get::<String, _>(0) {
                return Ok(ScalarValue::Text(t));
            }
            bail!(
                "the result's type {ty} is not read here: cast it to an integer, boolean, float or text"
            )
        })
    }
}

struct SqliteTarget {
    pool: SqlitePool,
}

impl SqlTarget for SqliteTarget {
    fn execute<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            // The workspace author's SQL, run as written: that is the task.
            let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(&self.pool)
                .await?;
            Ok(r.rows_affected())
        })
    }

    fn query_scalar<'a>(&'a self, sql: &'a str) -> BoxFuture<'a, Result<ScalarValue>> {
        Box::pin(async move {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else {
                return Ok(ScalarValue::Null);
            };
            if row.is_empty() {
                return Ok(ScalarValue::Null);
            }
            let raw = row.try_get_raw(0)?;
            if raw.is_null() {
                return Ok(ScalarValue::Null);
            }
            let ty = raw.type_info().name().to_ascii_uppercase();
            Ok(match ty.as_str() {
                "INTEGER" | "INT" | "BIGINT" => ScalarValue::Int(row.try_get(0)?),
                "BOOLEAN" => ScalarValue::Bool(row.try_get(0)?),
                "REAL" | "FLOAT" | "DOUBLE" | "NUMERIC" => ScalarValue::Float(row.try_get(0)?),
                _ => ScalarValue::Text(row.try_get(0)?),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ScalarValue as V;

    #[test]
    fn truthiness_and_equality() {
        assert!(V::Int(3).is_truthy());
        assert!(!V::Int(0).is_truthy());
        assert!(!V::Null.is_truthy());
        assert!(V::Text("true".into()).is_truthy());
        assert!(V::Int(10).same_as(&V::Float(10.0)));
        assert!(V::Text("10".into()).same_as(&V::Int(10)));
        assert!(!V::Int(10).same_as(&V::Int(9)));
        assert!(!V::Null.same_as(&V::Int(0)));
    }
}
