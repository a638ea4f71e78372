//! The lease columns of `runs`: who executes a run, and its heartbeat. The
//! rules (when a lease is live, what a takeover reaps) are `engine::lease`'s;
//! these are only its statements, each a single UPDATE so that a backend
//! with row locks needs nothing more.

use anyhow::Result;
use sqlx::AnyConnection;

use super::{Store, Tx, now_ms};

/// The database's own clock, as PostgreSQL says it (ms since the epoch).
const PG_CLOCK: &str = "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// The store's clock (ms): heartbeats are written and judged by it, never
/// by a host's own clock, which may disagree with the other hosts'. On
/// PostgreSQL it is the server's; an SQLite store has only processes of this
/// host, whose clock it is.
async fn clock_of(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query_scalar(PG_CLOCK).fetch_one(&mut *conn).await
    } else {
        Ok(now_ms())
    }
}

/// The store's clock, inside a transaction.
pub async fn clock_in(tx: &mut Tx) -> Result<i64> {
    Ok(clock_of(tx).await?)
}

impl Store {
    /// The store's clock (see `clock_of`).
    pub async fn clock(&self) -> Result<i64> {
        if !self.is_postgres() {
            return Ok(now_ms());
        }
        let mut conn = self.pool().acquire().await?;
        Ok(clock_of(&mut conn).await?)
    }
}

/// Who takes a lease: the process's token, pid, host and start time.
pub struct Holder<'a> {
    pub token: &'a str,
    pub pid: i64,
    pub host: &'a str,
    pub started: Option<i64>,
}

/// Gives `run_id` to `h` (the caller checked the lease was free or dead).
pub async fn take_lease(tx: &mut Tx, run_id: i64, h: &Holder<'_>) -> Result<()> {
    let now = clock_in(tx).await?;
    sqlx::query(
        "UPDATE runs SET owner_token = $1, owner_pid = $2, owner_host = $3, owner_started = $4, heartbeat_at = $5 WHERE id = $6",
    )
    .bind(h.token)
    .bind(h.pid)
    .bind(h.host)
    .bind(h.started)
    .bind(now)
    .bind(run_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A detached worker takes over its parent's lease under the same token;
/// false when the run does not carry that token.
pub async fn adopt_lease(store: &Store, run_id: i64, h: &Holder<'_>) -> Result<bool> {
    let now = store.clock().await?;
    let done = sqlx::query(
        "UPDATE runs SET owner_pid = $1, owner_host = $2, owner_started = $3, heartbeat_at = $4 WHERE id = $5 AND owner_token = $6",
    )
    .bind(h.pid)
    .bind(h.host)
    .bind(h.started)
    .bind(now)
    .bind(run_id)
    .bind(h.token)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Heartbeats every run holding `token`.
pub async fn heartbeat_all(store: &Store, token: &str) -> Result<(), sqlx::Error> {
    let mut conn = store.pool().acquire().await?;
    let now = clock_of(&mut conn).await?;
    sqlx::query("UPDATE runs SET heartbeat_at = $1 WHERE owner_token = $2")
        .bind(now)
        .bind(token)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Heartbeats one run inside a step; false when `token` no longer holds it.
pub async fn heartbeat_run(tx: &mut Tx, run_id: i64, token: &str) -> Result<bool> {
    let now = clock_in(tx).await?;
    let held = sqlx::query("UPDATE runs SET heartbeat_at = $1 WHERE id = $2 AND owner_token = $3")
        .bind(now)
        .bind(run_id)
        .bind(token)
        .execute(&mut **tx)
        .await?;
    Ok(held.rows_affected() == 1)
}

/// Clears the lease of `run_id`: only if `token` holds it, or whoever does
/// (`None`: after reaping a dead holder).
pub async fn clear_lease(tx: &mut Tx, run_id: i64, token: Option<&str>) -> Result<()> {
    sqlx::query(
        "UPDATE runs SET owner_token = NULL, owner_pid = NULL, owner_host = NULL, owner_started = NULL WHERE id = $1 AND ($2 IS NULL OR owner_token = $3)",
    )
    .bind(run_id)
    .bind(token)
    .bind(token)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
