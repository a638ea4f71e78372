//! The SQLite backend: one file in WAL mode with `synchronous = NORMAL` and a
//! busy timeout; every read-then-write transaction starts with
//! `BEGIN IMMEDIATE`, so any number of processes on this host share the file
//! without "database is locked".

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use sqlx::any::AnyConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions};

/// How a store file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Read and write; creates the store and brings its schema up to date.
    Write,
    /// SQLite's read-only mode: sees other processes' writes, writes nothing.
    Read,
    /// For a read-only directory without a WAL: the file is read as it is.
    Immutable,
}

/// A file's (device, inode): a store deleted or replaced under a live
/// process is noticed by comparing them.
pub(super) fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

/// SQLite's primary result code of the first database error in `e`'s chain.
fn code(e: &anyhow::Error) -> Option<i64> {
    e.chain()
        .filter_map(|c| c.downcast_ref::<sqlx::Error>())
        .find_map(|e| e.as_database_error()?.code()?.parse::<i64>().ok())
        .map(|code| code & 0xff)
}

/// SQLITE_READONLY (any variant): the file, its directory or its `-shm`
/// cannot be written by this user.
pub(super) fn is_readonly_error(e: &anyhow::Error) -> bool {
    code(e) == Some(8)
}

/// SQLITE_FULL: the disk holding the store (or its WAL) has no room left.
pub(super) fn is_full_error(e: &anyhow::Error) -> bool {
    code(e) == Some(13)
}

/// SQLITE_CANTOPEN: e.g. a read-only directory without the WAL index.
pub(super) fn is_cantopen_error(e: &anyhow::Error) -> bool {
    code(e) == Some(14)
}

/// The pool on the file at `path`; the store's settings are pragmas.
pub(super) async fn connect(path: &Path, access: Access) -> Result<AnyPool> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(access == Access::Write)
        .read_only(access != Access::Write)
        .immutable(access == Access::Immutable);
    let url = opts.to_url_lossy();
    let any = AnyConnectOptions::from_url(&url)?;
    let busy_ms = Duration::from_secs(30).as_millis();
    // The journal mode is the file's: a reader cannot set it.
    let pragmas = match access {
        Access::Write => format!(
            "PRAGMA busy_timeout = {busy_ms}; PRAGMA foreign_keys = OFF; \
             PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
        ),
        Access::Read | Access::Immutable => {
            format!("PRAGMA busy_timeout = {busy_ms}; PRAGMA foreign_keys = OFF;")
        }
    };
    // Waiting for a connection of the pool may take as long as SQLite's
    // busy timeout.
    super::open_pool(any, pragmas, Duration::from_secs(30)).await
}

/// The write-ahead log beside a store file.
pub(super) fn wal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}
