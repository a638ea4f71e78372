//! The shared state store (ARCHITECTURE.md, "The shape in one paragraph").
//!
//! One interface, two backends: an SQLite file (the default, embedded;
//! `sqlite.rs`) or a PostgreSQL database a team shares across hosts
//! (`postgres.rs`). Every statement is written once, in the SQL both take
//! (`$N` placeholders, `RETURNING`, `ON CONFLICT`), through sqlx's
//! driver-neutral `Any` pool; what differs (connecting, how a writer
//! serializes, error codes, the row-id column type) lives in the backend
//! files. Every read-then-write transaction comes from `Store::begin`, which
//! makes writers take turns on both backends.

mod alerts;
mod attempts;
mod backfills;
mod changes;
mod copy;
mod deliveries;
mod events;
mod history;
mod leases;
mod marks;
mod migrate;
mod pools;
mod postgres;
mod runs;
mod sla;
mod slots;
mod sqlite;
mod timeline;

pub use alerts::*;
pub use attempts::*;
pub use backfills::*;
pub use changes::Changes;
pub use copy::*;
pub use deliveries::*;
pub use events::*;
pub use history::*;
pub use leases::*;
pub use marks::*;
pub use pools::*;
pub use runs::*;
pub use sla::*;
pub use slots::*;
pub use timeline::*;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use crate::config::StateLocation;
use crate::connectors::sqlite_open::retry_while_locked;
use sqlite::Access;

pub type Tx = Transaction<'static, Any>;
/// A row as every backend returns it.
pub(crate) type Row = AnyRow;

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Opened without write access (`--readonly`, or a store this user cannot write).
    readonly: bool,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite {
        path: PathBuf,
        /// The file opened (device, inode): a store deleted or replaced
        /// under a live process is noticed by `check_identity`.
        identity: Option<(u64, u64)>,
    },
    /// The URL is never shown as it is: `describe` masks its password.
    Postgres { url: String },
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

impl From<&Path> for StateLocation {
    fn from(p: &Path) -> StateLocation {
        StateLocation::File(p.to_path_buf())
    }
}

impl From<&PathBuf> for StateLocation {
    fn from(p: &PathBuf) -> StateLocation {
        StateLocation::File(p.clone())
    }
}

impl From<&StateLocation> for StateLocation {
    fn from(l: &StateLocation) -> StateLocation {
        l.clone()
    }
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
    /// Opens (creating if needed) the store and brings its schema up to date.
    pub async fn open(at: impl Into<StateLocation>) -> Result<Store> {
        let at = at.into();
        let path = match &at {
            StateLocation::Postgres(url) => return Self::open_postgres(url, false).await,
            StateLocation::File(path) => path,
        };
        Self::open_file(path, Access::Write).await.map_err(|e| {
            if sqlite::is_readonly_error(&e) {
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
    pub async fn open_readonly(at: impl Into<StateLocation>) -> Result<Store> {
        let at = at.into();
        let path = match &at {
            StateLocation::Postgres(url) => return Self::open_postgres(url, true).await,
            StateLocation::File(path) => path,
        };
        if !path.exists() {
            anyhow::bail!(
                "no state store at {} yet: nothing has run in this workspace",
                path.display()
            );
        }
        match Self::open_file(path, Access::Read).await {
            // SQLite reads a WAL database only with its `-shm` index, which a
            // read-only directory cannot hold. Without a `-wal` file the main
            // file is the whole store, so it can be read as it is.
            Err(e)
                if (sqlite::is_readonly_error(&e) || sqlite::is_cantopen_error(&e))
                    && !sqlite::wal_path(path).exists() =>
            {
                Self::open_file(path, Access::Immutable).await
            }
            other => other,
        }
    }

    /// For commands that only read: like `open`, but a store this user
    /// cannot write is opened read-only instead of refused (`is_readonly`).
    pub async fn open_for_reading(at: impl Into<StateLocation>) -> Result<Store> {
        let at = at.into();
        let path = match &at {
            StateLocation::Postgres(url) => return Self::open_postgres(url, false).await,
            StateLocation::File(path) => path,
        };
        match Self::open_file(path, Access::Write).await {
            Err(e) if sqlite::is_readonly_error(&e) && path.exists() => {
                tracing::info!("state store {} is read-only here: {e:#}", path.display());
                Self::open_readonly(path).await
            }
            other => other,
        }
    }

    async fn open_file(path: &Path, access: Access) -> Result<Store> {
        if let Some(dir) = path.parent()
            && access == Access::Write
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create state directory {}", dir.display()))?;
        }
        // Two processes creating the store at once: the loser retries.
        retry_while_locked(|| async {
            let pool = sqlite::connect(path, access).await?;
            let backend = Backend::Sqlite {
                path: path.to_path_buf(),
                identity: sqlite::file_identity(path).ok(),
            };
            Self::ready(pool, backend, access != Access::Write).await
        })
        .await
        .with_context(|| format!("cannot open state store {}", path.display()))
    }

    async fn open_postgres(url: &str, readonly: bool) -> Result<Store> {
        let backend = Backend::Postgres { url: url.into() };
        let described = crate::config::redact::redact(url);
        let opened = async {
            let pool = postgres::connect(url, readonly).await?;
            Self::ready(pool, backend, readonly).await
        };
        opened
            .await
            .map_err(|e| anyhow::anyhow!(postgres::explain_open_error(&e)))
            .with_context(|| format!("cannot open state store {described}"))
    }

    /// A pool opened: its schema is brought up to date, or only checked.
    async fn ready(pool: AnyPool, backend: Backend, readonly: bool) -> Result<Store> {
        let store = Store {
            pool,
            backend,
            readonly,
        };
        if readonly {
            store.check_schema().await?;
        } else {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Where the store is, for messages: its path, or its URL without the
    /// password.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sqlite { path, .. } => path.display().to_string(),
            Backend::Postgres { url } => crate::config::redact::redact(url),
        }
    }

    /// True when the store is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres { .. })
    }

    fn is_full_error(&self, e: &anyhow::Error) -> bool {
        match self.backend {
            Backend::Sqlite { .. } => sqlite::is_full_error(e),
            Backend::Postgres { .. } => postgres::is_full_error(e),
        }
    }

    /// Whether `e` says this user may not write the store.
    pub fn is_readonly_error(&self, e: &anyhow::Error) -> bool {
        match self.backend {
            Backend::Sqlite { .. } => sqlite::is_readonly_error(e),
            Backend::Postgres { .. } => postgres::is_readonly_error(e),
        }
    }

    /// An error of a run's owner as people should read it: a full disk is
    /// said so, with the store's location (the database's message is bare).
    pub fn explain(&self, e: anyhow::Error, run_id: Option<i64>) -> anyhow::Error {
        if e.chain().any(|c| c.is::<StoreFull>()) || !self.is_full_error(&e) {
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
            path: self.describe(),
            then,
        }
        .into()
    }

    /// Fails with `StoreGone` when the file at the store's path was deleted,
    /// or is another file than the one opened. An owner checks it with every
    /// heartbeat: SQLite itself goes on writing into the unlinked file.
    pub fn check_identity(&self) -> Result<(), StoreGone> {
        let Backend::Sqlite {
            path,
            identity: Some(opened),
        } = &self.backend
        else {
            return Ok(());
        };
        let what = match sqlite::file_identity(path) {
            Ok(now) if now == *opened => return Ok(()),
            Ok(_) => "replaced by another file",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "deleted",
            // Cannot tell (e.g. a permission change on the directory).
            Err(_) => return Ok(()),
        };
        Err(StoreGone {
            path: path.display().to_string(),
            what,
        })
    }

    /// True when this store was opened without write access.
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A read-only view of one moment, for a reader that combines several
    /// queries (`status`: pool counts beside instance states). SQLite: a
    /// deferred transaction reads one snapshot of the WAL from its first
    /// read; PostgreSQL: REPEATABLE READ. Takes no writer's turn.
    pub async fn snapshot(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite { .. } => self.pool.begin().await?,
            Backend::Postgres { .. } => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }

    /// A read-then-write transaction. Writers take turns: SQLite's
    /// `BEGIN IMMEDIATE` takes the write lock at once (so it can never fail
    /// half-way with SQLITE_BUSY on upgrade); PostgreSQL's writers take one
    /// advisory lock (`postgres.rs` says why).
    pub async fn begin(&self) -> Result<Tx> {
        match self.backend {
            Backend::Sqlite { .. } => Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?),
            Backend::Postgres { .. } => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(postgres::WRITER_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }
}

/// Whether `e` says the store could not be reached (a refused or dropped
/// connection, a server shutting down or restarting, a login refused), as
/// opposed to a statement it refused: worth waiting out, within limits.
pub fn is_unreachable(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<sqlx::Error>())
        .any(|e| match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                // connection_exception, admin/crash shutdown, cannot connect
                // now, and a login refused (a role made NOLOGIN).
                c.starts_with("08") || c.starts_with("57P") || c == "28000" || c == "28P01"
            }),
            _ => false,
        })
}

/// `rows` rows of `cols` placeholders for a multi-row `VALUES`:
/// `($1, $2), ($3, $4)`. Only placeholders are formatted into statements;
/// every value is bound.
pub(crate) fn values_rows(rows: usize, cols: usize) -> String {
    let mut out = String::new();
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// The store's pool: `opts` (a URL: the driver-neutral pool takes only
/// that), `setup` run on every new connection (pragmas, session settings),
/// `acquire_timeout` for a connection. One connection is opened first, so
/// that an error (refused, a bad password, a read-only file) is returned as
/// it is: the pool would retry it until its acquire timeout and then say
/// only "pool timed out".
async fn open_pool(
    opts: sqlx::any::AnyConnectOptions,
    setup: String,
    acquire_timeout: std::time::Duration,
) -> Result<AnyPool> {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let probe = async {
        let mut conn = sqlx::AnyConnection::connect_with(&opts).await?;
        conn.execute(sqlx::AssertSqlSafe(setup.clone())).await?;
        Ok::<_, sqlx::Error>(conn)
    };
    let probe = tokio::time::timeout(acquire_timeout, probe)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "no answer from the database within {}s",
                acquire_timeout.as_secs()
            )
        })??;
    probe.close().await?;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(4)
        .min_connections(1)
        .acquire_timeout(acquire_timeout)
        .after_connect(move |conn, _| {
            let setup = setup.clone();
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(setup)).await?;
                Ok(())
            })
        })
        .after_release(|conn, _| Box::pin(still_usable(conn)))
        .connect_with(opts)
        .await?;
    Ok(pool)
}

/// Is a connection given back to the pool fit to be used again? A dropped
/// transaction is rolled back on its way back; when that rollback fails
/// (SQLite already rolled back after "database or disk is full" on COMMIT,
/// and says "no transaction is active") the connection still counts itself
/// in a transaction and every later `BEGIN` on it would fail with
/// "attempted to call begin_with at non-zero transaction depth". Such a
/// connection is closed instead (closing rolls back whatever is left).
async fn still_usable(conn: &mut sqlx::AnyConnection) -> Result<bool, sqlx::Error> {
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

#[cfg(test)]
mod tests {
    #[test]
    fn values_rows_numbers_placeholders_across_rows() {
        assert_eq!(super::values_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values_rows(1, 1), "($1)");
    }
}
