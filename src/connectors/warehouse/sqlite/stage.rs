//! Step 2 of a load (see the module comment of `sqlite`): the file's
//! columns checked against the table, then its rows inserted, in batches of
//! multi-row INSERTs, into the staging table (or, for an append to an
//! existing table, straight into it).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sqlx::sqlite::SqliteConnection;
use sqlx::{AssertSqlSafe, Database, Sqlite};
use tokio::sync::mpsc;

use super::decl::{same_family, warehouse_type};
use super::encode::SqlValue;
use super::read::{ColumnDef, ReadMsg};
use super::{STAGING, check_name, execute, quote};
use crate::connectors::warehouse::{LoadMode, LoadProgress, LoadRequest};

/// Bound parameters per INSERT (SQLite allows 32766).
const MAX_PARAMS: usize = 32_000;
const MAX_ROWS_PER_INSERT: usize = 500;

pub(super) struct Staged {
    /// Rows went straight into the existing table (append).
    pub direct: bool,
    pub rows: i64,
    /// The file's columns.
    pub columns: Vec<ColumnDef>,
}

/// Receives the file's columns and rows and inserts them; None when the
/// reader stopped before sending columns (its error says why).
pub(super) async fn stage(
    conn: &mut SqliteConnection,
    req: &LoadRequest,
    existing: Option<&[ColumnDef]>,
    rx: &mut mpsc::Receiver<ReadMsg>,
    progress: &LoadProgress,
) -> Result<Option<Staged>> {
    let Some(ReadMsg::Columns(columns)) = rx.recv().await else {
        return Ok(None);
    };
    for c in &columns {
        check_name("column", &c.name)?;
    }
    let direct = match (req.mode, existing) {
        (LoadMode::Append, Some(target)) => {
            check_append(&req.table, "append", target, &columns)?;
            true
        }
        (LoadMode::Merge, Some(target)) => {
            check_append(&req.table, "merge", target, &columns)?;
            create_staging(conn, &columns).await?;
            false
        }
        _ => {
            create_staging(conn, &columns).await?;
            false
        }
    };
    let into = if direct {
        quote(&req.table)
    } else {
        STAGING.to_string()
    };
    let mut inserter = Inserter::new(into, &columns);
    let mut rows: i64 = 0;
    while let Some(msg) = rx.recv().await {
        let ReadMsg::Rows { rows: batch, bytes } = msg else {
            bail!("the file reader sent its columns twice");
        };
        let n = batch.len() as i64;
        inserter
            .insert(conn, batch)
            .await
            .with_context(|| format!("inserting rows {}..={}", rows + 1, rows + n))?;
        rows += n;
        progress(rows, bytes);
    }
    Ok(Some(Staged {
        direct,
        rows,
        columns,
    }))
}

/// Appending (or merging) keeps the table's columns: every file column must
/// be one of them, of the same kind. `mode` names the load in the message.
fn check_append(
    table: &str,
    mode: &str,
    target: &[ColumnDef],
    columns: &[ColumnDef],
) -> Result<()> {
    for c in columns {
        // SQLite matches column names case-insensitively (ASCII).
        let Some(t) = target.iter().find(|t| t.name.eq_ignore_ascii_case(&c.name)) else {
            bail!(
                "the file's column `{}` is not in table `{table}` ({mode} keeps the table's columns; load with mode = \"replace\" to change them)",
                c.name
            );
        };
        if !same_family(&warehouse_type(&t.decl), &warehouse_type(&c.decl)) {
            bail!(
                "column `{}` is {} in table `{table}` but {} in the file (load with mode = \"replace\" to change it)",
                c.name,
                t.decl,
                c.decl
            );
        }
    }
    Ok(())
}

async fn create_staging(conn: &mut SqliteConnection, columns: &[ColumnDef]) -> Result<()> {
    let mut defs = Vec::with_capacity(columns.len());
    for c in columns {
        // Declared types are ours, or an existing table's (empty NDJSON file
        // replacing it): refuse anything that is not a plain type name.
        let plain = c
            .decl
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || " _(),+-.".contains(ch));
        if !plain {
            bail!(
                "column `{}` has an unusual declared type {:?}",
                c.name,
                c.decl
            );
        }
        let not_null = if c.nullable { "" } else { " NOT NULL" };
        defs.push(format!("{} {}{not_null}", quote(&c.name), c.decl));
    }
    execute(conn, format!("DROP TABLE IF EXISTS {STAGING}")).await?;
    execute(
        conn,
        format!("CREATE TABLE {STAGING} ({})", defs.join(", ")),
    )
    .await
}

type Query = sqlx::query::Query<'static, Sqlite, <Sqlite as Database>::Arguments>;

/// Multi-row `INSERT ... VALUES (?,..),(?,..)` with bound parameters; the
/// statement text per row count is built once (and prepared once by sqlx).
struct Inserter {
    head: String,
    row: String,
    per_insert: usize,
    sql: HashMap<usize, Arc<str>>,
}

impl Inserter {
    fn new(into: String, columns: &[ColumnDef]) -> Inserter {
        let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
        let n = columns.len().max(1);
        Inserter {
            head: format!("INSERT INTO {into} ({}) VALUES ", names.join(", ")),
            row: format!("({})", vec!["?"; n].join(", ")),
            per_insert: (MAX_PARAMS / n).clamp(1, MAX_ROWS_PER_INSERT),
            sql: HashMap::new(),
        }
    }

    fn sql(&mut self, rows: usize) -> Arc<str> {
        let (head, row) = (&self.head, &self.row);
        self.sql
            .entry(rows)
            .or_insert_with(|| Arc::from(format!("{head}{}", vec![row.as_str(); rows].join(", "))))
            .clone()
    }

    async fn insert(
        &mut self,
        conn: &mut SqliteConnection,
        rows: Vec<Vec<SqlValue>>,
    ) -> Result<()> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<SqlValue>> = rows.by_ref().take(self.per_insert).collect();
            let mut q: Query = sqlx::query(AssertSqlSafe(self.sql(chunk.len())));
            for value in chunk.into_iter().flatten() {
                q = bind(q, value);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }
}

fn bind(q: Query, value: SqlValue) -> Query {
    match value {
        SqlValue::Null => q.bind(None::<i64>),
        SqlValue::Int(v) => q.bind(v),
        SqlValue::Real(v) => q.bind(v),
        SqlValue::Text(v) => q.bind(v),
        SqlValue::Blob(v) => q.bind(v),
    }
}
