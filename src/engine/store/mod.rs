//! The shared state store (DESIGN.md, "Processes and the state store").
//!
//! SQLite in WAL mode with `synchronous = NORMAL` and a busy timeout; every
//! read-then-write transaction starts with `BEGIN IMMEDIATE`, so any number of
//! processes share one file without "database is locked".

mod alerts;
mod backfills;
mod events;
mod pools;
mod runs;
mod slots;

pub use alerts::*;
pub use backfills::*;
pub use events::*;
pub use pools::*;
pub use runs::*;
pub use slots::*;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

pub type Tx = Transaction<'static, Sqlite>;

/// Schema migrations, applied in order; an applied one is never edited.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("schema.sql")),
    (2, include_str!("schema_v2.sql")),
    (3, include_str!("schema_v3.sql")),
];

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

fn is_locked(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let t = c.to_string();
        t.contains("database is locked") || t.contains("(code: 5)")
    })
}

/// Milliseconds since the Unix epoch: every time in the store.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A store time as local HH:MM:SS, for messages people read ("retry at …").
pub fn local_hms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, false).await
    }

    /// For `--readonly`: the store must exist and be current; nothing is written.
    pub async fn open_readonly(path: &Path) -> Result<Store> {
        if !path.exists() {
            anyhow::bail!(
                "no state store at {} yet: nothing has run in this workspace",
                path.display()
            );
        }
        Self::open_with(path, true).await
    }

    async fn open_with(path: &Path, readonly: bool) -> Result<Store> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create state directory {}", dir.display()))?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(!readonly)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(false);
        // Switching a new file to WAL needs an exclusive lock that SQLite's
        // busy timeout does not wait for: when two processes create the store
        // at once, the loser retries for a while instead of failing.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut pause = Duration::from_millis(20);
        loop {
            match Self::connect(path, opts.clone(), readonly).await {
                Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                other => {
                    return other
                        .with_context(|| format!("cannot open state store {}", path.display()));
                }
            }
        }
    }

    async fn connect(path: &Path, opts: SqliteConnectOptions, readonly: bool) -> Result<Store> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts)
            .await?;
        let store = Store {
            pool,
            path: path.to_path_buf(),
        };
        if readonly {
            store.check_schema().await?;
        } else {
            store.migrate().await?;
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A read-then-write transaction: takes the write lock at once, so it can
    /// never fail half-way with SQLITE_BUSY on upgrade.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn check_schema(&self) -> Result<()> {
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await
            .with_context(|| format!("{} is not a switchyard state store", self.path.display()))?;
        let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        if current != Some(newest) {
            anyhow::bail!(
                "state store {} needs a schema upgrade, which read-only mode does not do",
                self.path.display()
            );
        }
        Ok(())
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&mut *tx)
            .await?;
        let current = current.unwrap_or(0);
        for (version, sql) in MIGRATIONS {
            if *version <= current {
                continue;
            }
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("state store migration {version} failed"))?;
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)")
                .bind(version)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        let newest = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        if current > newest {
            anyhow::bail!(
                "state store {} has schema version {current}, newer than this switchyard knows ({newest}); upgrade switchyard",
                self.path.display()
            );
        }
        tx.commit().await?;
        Ok(())
    }
}
