//! The embedded SQLite warehouse: the default, needs no cloud account.
//!
//! A load is one `BEGIN IMMEDIATE` transaction, so it replaces or appends
//! completely or not at all (a crash rolls it back too):
//! 1. the ledger `_switchyard_loads` is checked, under the request's
//!    `ledger_key` and the table: an append already there was done, and a
//!    replace is done when it is the table's latest load and the table is
//!    still there (a replace of other bytes, or an append, since then means
//!    the table no longer holds this file alone); then nothing is done
//!    (`already_loaded`);
//! 2. the file is read on a blocking thread and its rows inserted in batches
//!    with bound parameters, into a fresh staging table created from the
//!    file's columns, or, when appending to an existing table, straight into
//!    it (inside the transaction that is as atomic, and writes rows once);
//! 3. replace drops the old table and renames the staging table; an append
//!    to a missing table renames it; a merge upserts the staging table's rows
//!    by key (see `merge`); the ledger row is written; commit.
//!
//! Column types: see `decl` (declared names) and `encode` (value forms);
//! NDJSON column rules: see `ndjson`. The table name is one identifier, taken
//! verbatim (a dot is part of the name) and always quoted. Replace recreates
//! the table: views on it keep working, its indexes and triggers go.
//!
//! SQLite has one writer at a time and a load holds the write lock for its
//! whole length, so concurrent loads into one warehouse file run one after
//! the other (the busy timeout is long for that reason); readers are not
//! blocked (WAL).

mod decl;
mod encode;
mod merge;
mod ndjson;
mod read;
mod stage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::mpsc;

use super::{LoadMode, LoadProgress, LoadRequest, LoadStats, Warehouse, WarehouseTable};
use crate::connectors::BoxFuture;
use read::{ColumnDef, ReadInput};

const LEDGER_DDL: &str = "CREATE TABLE IF NOT EXISTS \"_switchyard_loads\" (
    ledger_key TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    rows INTEGER NOT NULL,
    loaded_at TEXT NOT NULL
)";
const STAGING: &str = "\"_switchyard_staging\"";
/// Names starting with this are the warehouse's own, hidden from listings.
const RESERVED_PREFIX: &str = "_switchyard_";
/// Loads wait for each other (see the module comment) rather than fail.
const BUSY_TIMEOUT: Duration = Duration::from_secs(3600);

pub struct SqliteWarehouse {
    pool: SqlitePool,
    path: PathBuf,
}

/// `"name"`, with inner quotes doubled: every identifier goes through here.
fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn check_name(what: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        bail!("{what} name cannot be empty");
    }
    if name.contains('\0') {
        bail!("{what} name {name:?} contains a NUL byte");
    }
    Ok(())
}

fn check_table_name(name: &str) -> Result<()> {
    check_name("table", name)?;
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("sqlite_") || lower.starts_with(RESERVED_PREFIX) {
        bail!("table name `{name}` is reserved (names starting with sqlite_ or {RESERVED_PREFIX})");
    }
    Ok(())
}

impl SqliteWarehouse {
    /// Opens (creating if needed) the warehouse file at `path`.
    pub async fn open(path: &Path) -> Result<SqliteWarehouse> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            // DROP TABLE with foreign keys on deletes row by row first.
            .foreign_keys(false)
            // Renaming staging over a just-dropped table fails in modern mode
            // when a view names that table; legacy mode leaves views alone.
            .pragma("legacy_alter_table", "ON");
        // Two loads opening a new warehouse at once: the loser retries.
        let pool = crate::connectors::sqlite_open::retry_while_locked(|| async {
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts.clone())
                .await?;
            sqlx::query(LEDGER_DDL).execute(&pool).await?;
            Ok(pool)
        })
        .await
        .with_context(|| format!("cannot open warehouse {}", path.display()))?;
        Ok(SqliteWarehouse {
            pool,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn run_load(&self, req: &LoadRequest, progress: LoadProgress) -> Result<LoadStats> {
        check_table_name(&req.table)?;
        let file_len = tokio::fs::metadata(&req.file)
            .await
            .with_context(|| format!("cannot read {}", req.file.display()))?
            .len();
        // One table, however its name is cased, is one table to SQLite.
        let key = format!("{}|{}", req.ledger_key, req.table.to_ascii_lowercase());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing = table_columns(&mut tx, &req.table).await?;
        if let Some(rows) = done_before(&mut tx, req, &key, existing.is_some()).await? {
            tx.rollback().await?;
            return Ok(LoadStats {
                rows,
                bytes: 0,
                already_loaded: true,
                how: None,
            });
        }

        let (sender, mut receiver) = mpsc::channel(2);
        let input = ReadInput {
            file: req.file.clone(),
            format: req.format,
            existing: existing.clone(),
            use_existing: matches!(req.mode, LoadMode::Append | LoadMode::Merge),
        };
        let reader = tokio::task::spawn_blocking(move || read::read_file(input, &sender));
        let staged =
            stage::stage(&mut tx, req, existing.as_deref(), &mut receiver, &progress).await;
        // Unblocks a reader still sending after a load error.
        drop(receiver);
        // A reader error is the cause: the loader only saw the channel close.
        reader
            .await
            .map_err(|e| anyhow!("the file reader failed: {e}"))??;
        let staged = staged?.ok_or_else(|| anyhow!("the file reader sent no columns"))?;

        if req.mode == LoadMode::Merge {
            let columns = &staged.columns;
            merge::apply(&mut tx, &req.table, &req.key, columns, existing.as_deref()).await?;
        } else if !staged.direct {
            let table = quote(&req.table);
            if req.mode == LoadMode::Replace {
                execute(&mut tx, format!("DROP TABLE IF EXISTS {table}")).await?;
            }
            execute(&mut tx, format!("ALTER TABLE {STAGING} RENAME TO {table}")).await?;
        }
        let loaded_at = chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S%.6fZ")
            .to_string();
        // A replace loaded again (other bytes came between) becomes the latest row.
        sqlx::query(
            "INSERT OR REPLACE INTO \"_switchyard_loads\" (ledger_key, table_name, rows, loaded_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&key)
        .bind(&req.table)
        .bind(staged.rows)
        .bind(loaded_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(LoadStats {
            rows: staged.rows,
            bytes: i64::try_from(file_len).unwrap_or(i64::MAX),
            already_loaded: false,
            how: None,
        })
    }
}

/// The rows of an earlier load that makes this one a no-op (see the module
/// comment), or None when it must run.
async fn done_before(
    conn: &mut SqliteConnection,
    req: &LoadRequest,
    key: &str,
    table_exists: bool,
) -> Result<Option<i64>> {
    match req.mode {
        // Ledger rows of older versions are keyed by the legacy key alone.
        LoadMode::Append | LoadMode::Merge => Ok(sqlx::query_scalar(
            "SELECT rows FROM \"_switchyard_loads\" WHERE ledger_key IN (?, ?) LIMIT 1",
        )
        .bind(key)
        .bind(req.legacy_key.as_deref().unwrap_or(key))
        .fetch_optional(conn)
        .await?),
        LoadMode::Replace if !table_exists => Ok(None),
        LoadMode::Replace => {
            let latest: Option<(String, i64)> = sqlx::query_as(
                "SELECT ledger_key, rows FROM \"_switchyard_loads\" WHERE table_name = ? COLLATE NOCASE ORDER BY rowid DESC LIMIT 1",
            )
            .bind(&req.table)
            .fetch_optional(conn)
            .await?;
            Ok(latest.filter(|(k, _)| k == key).map(|(_, rows)| rows))
        }
    }
}

async fn execute(conn: &mut SqliteConnection, sql: String) -> Result<()> {
    sqlx::query(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// A table's columns (None when there is no such table).
async fn table_columns(conn: &mut SqliteConnection, table: &str) -> Result<Option<Vec<ColumnDef>>> {
    let rows = sqlx::query("SELECT name, type, \"notnull\" FROM pragma_table_info(?) ORDER BY cid")
        .bind(table)
        .fetch_all(conn)
        .await?;
    let columns = rows
        .iter()
        .map(|r| {
            Ok(ColumnDef {
                name: r.try_get("name")?,
                decl: r.try_get("type")?,
                nullable: r.try_get::<i64, _>("notnull")? == 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((!columns.is_empty()).then_some(columns))
}

impl SqliteWarehouse {
    async fn tables(&self) -> Result<Vec<WarehouseTable>> {
        let mut conn = self.pool.acquire().await?;
        let names: Vec<String> = sqlx::query_scalar(
            r"SELECT name FROM sqlite_schema WHERE type = 'table'
              AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_switchyard\_%' ESCAPE '\'
              ORDER BY name",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let columns = table_columns(&mut conn, &name).await?.unwrap_or_default();
            let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                "SELECT count(*) FROM {}",
                quote(&name)
            )))
            .fetch_one(&mut *conn)
            .await?;
            out.push(WarehouseTable {
                dataset: "main".into(),
                name,
                rows: Some(rows),
                columns: columns
                    .into_iter()
                    .map(|c| decl::column(c.name, c.decl, c.nullable))
                    .collect(),
            });
        }
        Ok(out)
    }
}

impl Warehouse for SqliteWarehouse {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn load<'a>(
        &'a self,
        req: &'a LoadRequest,
        progress: LoadProgress,
    ) -> BoxFuture<'a, Result<LoadStats>> {
        Box::pin(async move {
            self.run_load(req, progress).await.with_context(|| {
                format!(
                    "cannot load {} into `{}` of warehouse {}",
                    req.file.display(),
                    req.table,
                    self.path.display()
                )
            })
        })
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<WarehouseTable>>> {
        Box::pin(self.tables())
    }
}

#[cfg(test)]
mod tests;
