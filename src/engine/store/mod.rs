//! The shared state store (ARCHITECTURE.md, "The shape in one paragraph").
//!
//! SQLite in WAL mode with `synchronous = NORMAL` and a busy timeout; every
//! read-then-write transaction starts with `BEGIN IMMEDIATE`, so any number of
//! processes share one file without "database is locked".

mod alerts;
mod backfills;
mod deliveries;
mod events;
mod leases;
mod pools;
mod runs;
mod slots;

pub use alerts::*;
pub use backfills::*;
pub use deliveries::*;
pub use events::*;
pub use leases::*;
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
    /// Opened without write access (`--readonly`, or a store this user cannot write).
    readonly: bool,
    /// The file opened (device, inode): a store deleted or replaced under a
    /// live process is noticed by `check_identity`.
    identity: Option<(u64, u64)>,
}

fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

/// The store's file is no longer the one this process opened: writes would
/// go to a file nobody else sees.
#[derive(Debug, thiserror::Error)]
#[error("the state store {path} was {what} while this process was using it")]
pub struct StoreGone {
    pub path: String,
    /// "deleted" or "replaced by another file".
    pub what: &'static str,
}

use crate::connectors::sqlite_open::retry_while_locked;

/// SQLite's primary result code of the first database error in `e`'s chain.
fn sqlite_code(e: &anyhow::Error) -> Option<i64> {
    e.chain()
        .filter_map(|c| c.downcast_ref::<sqlx::Error>())
        .find_map(|e| e.as_database_error()?.code()?.parse::<i64>().ok())
        .map(|code| code & 0xff)
}

/// SQLITE_READONLY (any variant): the file, its directory or its `-shm`
/// cannot be written by this user.
fn is_readonly_error(e: &anyhow::Error) -> bool {
    sqlite_code(e) == Some(8)
}

/// SQLITE_FULL: the disk holding the store (or its WAL) has no room left.
fn is_full_error(e: &anyhow::Error) -> bool {
    sqlite_code(e) == Some(13)
}

/// A write to the store failed for want of disk space. The failed
/// transaction was rolled back: the store holds what was committed before.
#[derive(Debug, thiserror::Error)]
#[error(
    "the state store {path} cannot be written: database or disk is full; free space on its disk{then}"
)]
pub struct StoreFull {
    pub path: String,
    /// What to do once there is room again.
    pub then: String,
}

/// SQLITE_CANTOPEN: e.g. a read-only directory without the WAL index.
fn is_cantopen_error(e: &anyhow::Error) -> bool {
    sqlite_code(e) == Some(14)
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Read and write; creates the store and brings its schema up to date.
    Write,
    /// SQLite's read-only mode: sees other processes' writes, writes nothing.
    Read,
    /// For a read-only directory without a WAL: the file is read as it is.
    Immutable,
}

/// Milliseconds since the Unix epoch: every time in the store.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A store time as RFC 3339 in UTC, to the second: what JSON output and
/// alert messages carry.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
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
        Self::open_with(path, Access::Write).await.map_err(|e| {
            if is_readonly_error(&e) {
                anyhow::anyhow!(
                    "state store {} cannot be written by this user (attempt to write a readonly \
                     database): only commands that read (status, logs, the console) work on it",
                    path.display()
                )
            } else {
                e
            }
        })
    }

    /// For `--readonly`: the store must exist and be current; nothing is written.
    pub async fn open_readonly(path: &Path) -> Result<Store> {
        if !path.exists() {
            anyhow::bail!(
                "no state store at {} yet: nothing has run in this workspace",
                path.display()
            );
        }
        match Self::open_with(path, Access::Read).await {
            // SQLite reads a WAL database only with its `-shm` index, which a
            // read-only directory cannot hold. Without a `-wal` file the main
            // file is the whole store, so it can be read as it is.
            Err(e)
                if (is_readonly_error(&e) || is_cantopen_error(&e)) && !wal_path(path).exists() =>
            {
                Self::open_with(path, Access::Immutable).await
            }
            other => other,
        }
    }

    /// For commands that only read: like `open`, but a store this user
    /// cannot write is opened read-only instead of refused (`is_readonly`).
    pub async fn open_for_reading(path: &Path) -> Result<Store> {
        match Self::open_with(path, Access::Write).await {
            Err(e) if is_readonly_error(&e) && path.exists() => {
                tracing::info!("state store {} is read-only here: {e:#}", path.display());
                Self::open_readonly(path).await
            }
            other => other,
        }
    }

    /// An error of a run's owner as people should read it: a full disk is
    /// said so, with the store's path (SQLite's own message is bare).
    pub fn explain(&self, e: anyhow::Error, run_id: Option<i64>) -> anyhow::Error {
        if e.chain().any(|c| c.is::<StoreFull>()) || !is_full_error(&e) {
            return match run_id {
                Some(id) => e.context(format!("run {id}")),
                None => e,
            };
        }
        let then = match run_id {
            Some(id) => format!(", then `switchyard rerun {id} --failed` carries run {id} on"),
            None => String::new(),
        };
        StoreFull {
            path: self.path.display().to_string(),
            then,
        }
        .into()
    }

    /// Fails with `StoreGone` when the file at the store's path was deleted,
    /// or is another file than the one opened. An owner checks it with every
    /// heartbeat: SQLite itself goes on writing into the unlinked file.
    pub fn check_identity(&self) -> Result<(), StoreGone> {
        let Some(opened) = self.identity else {
            return Ok(());
        };
        let what = match file_identity(&self.path) {
            Ok(now) if now == opened => return Ok(()),
            Ok(_) => "replaced by another file",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "deleted",
            // Cannot tell (e.g. a permission change on the directory).
            Err(_) => return Ok(()),
        };
        Err(StoreGone {
            path: self.path.display().to_string(),
            what,
        })
    }

    /// True when this store was opened without write access.
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    async fn open_with(path: &Path, access: Access) -> Result<Store> {
        if let Some(dir) = path.parent()
            && access == Access::Write
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create state directory {}", dir.display()))?;
        }
        let mut opts = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(false);
        opts = match access {
            Access::Write => opts
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal),
            // The journal mode is the file's: a reader cannot set it.
            Access::Read => opts.read_only(true),
            Access::Immutable => opts.read_only(true).immutable(true),
        };
        // Two processes creating the store at once: the loser retries.
        retry_while_locked(|| Self::connect(path, opts.clone(), access))
            .await
            .with_context(|| format!("cannot open state store {}", path.display()))
    }

    async fn connect(path: &Path, opts: SqliteConnectOptions, access: Access) -> Result<Store> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .after_release(|conn, _| Box::pin(still_usable(conn)))
            .connect_with(opts)
            .await?;
        let store = Store {
            pool,
            path: path.to_path_buf(),
            readonly: access != Access::Write,
            identity: file_identity(path).ok(),
        };
        if store.readonly {
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
        probe_write(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Fails with SQLITE_READONLY when this user cannot write the store: SQLite
/// opens a file it may not write read-only without saying so, and a
/// transaction that changes nothing succeeds. The probe row is rolled back.
async fn probe_write(tx: &mut Tx) -> Result<()> {
    let mut probe = sqlx::Acquire::begin(&mut *tx).await?;
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (-1, 0)")
        .execute(&mut *probe)
        .await?;
    probe.rollback().await?;
    Ok(())
}

/// Is a connection given back to the pool fit to be used again? A dropped
/// transaction is rolled back on its way back; when that rollback fails
/// (SQLite already rolled back after "database or disk is full" on COMMIT,
/// and says "no transaction is active") the connection still counts itself
/// in a transaction and every later `BEGIN` on it would fail with
/// "attempted to call begin_with at non-zero transaction depth". Such a
/// connection is closed instead (closing rolls back whatever is left).
async fn still_usable(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // The rollback of a dropped transaction is queued on the connection:
    // a ping is answered after it.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("closing a state store connection left in a failed transaction");
        return Ok(false);
    }
    Ok(true)
}

/// The write-ahead log beside a store file.
fn wal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}
