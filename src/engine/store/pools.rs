//! Pools: named limits on running tasks, shared by every process through
//! the store. Sizes come from the workspace file (or `switchyard pool`);
//! slots in use are counted from the instances themselves.

use anyhow::Result;
use serde::Serialize;
use sqlx::Row;

use super::{EventKind, NewEvent, Store, Tx, insert_events, now_ms};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolUsage {
    pub name: String,
    pub size: i64,
    pub running: i64,
    pub queued: i64,
}

/// Brings pool rows in line with the workspace file: new pools are created;
/// a size the file changed wins over an earlier `switchyard pool` resize.
pub async fn sync_pools(tx: &mut Tx, pools: &[(String, i64)]) -> Result<()> {
    for (name, size) in pools {
        let row: Option<(i64, Option<i64>)> =
            sqlx::query_as("SELECT size, config_size FROM pools WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut **tx)
                .await?;
        match row {
            None => {
                sqlx::query(
                    "INSERT INTO pools (name, size, config_size, updated_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(name)
                .bind(size)
                .bind(size)
                .bind(now_ms())
                .execute(&mut **tx)
                .await?;
            }
            Some((_, config_size)) if config_size != Some(*size) => {
                sqlx::query(
                    "UPDATE pools SET size = $1, config_size = $2, updated_at = $3 WHERE name = $4",
                )
                .bind(size)
                .bind(size)
                .bind(now_ms())
                .bind(name)
                .execute(&mut **tx)
                .await?;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

pub async fn set_pool_size(tx: &mut Tx, name: &str, size: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE pools SET size = $1, updated_at = $2 WHERE name = $3")
        .bind(size)
        .bind(now_ms())
        .bind(name)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    insert_events(
        tx,
        &[NewEvent {
            run_id: None,
            task_id: None,
            kind: EventKind::PoolResized {
                name: name.to_string(),
                size,
            },
        }],
    )
    .await?;
    Ok(true)
}

/// A pool as one run sees it when granting slots, counted across every process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSlots {
    pub used: i64,
    pub size: i64,
    /// Slots wanted by other runs' instances that have waited longer than
    /// this run's oldest: left to them, so no process starves another.
    pub owed: i64,
}

pub async fn pool_slots(
    tx: &mut Tx,
    name: &str,
    run_id: i64,
    oldest_queued_at: i64,
) -> Result<PoolSlots> {
    let size: Option<i64> = sqlx::query_scalar("SELECT size FROM pools WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
    let used: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(slots), 0) AS BIGINT) FROM task_instances WHERE pool = $1 AND state = 'running'",
    )
    .bind(name)
    .fetch_one(&mut **tx)
    .await?;
    let size = size.unwrap_or(0);
    // An instance wanting more slots than the pool has is granted the
    // whole pool, so that is all it is owed.
    let owed: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(CASE WHEN slots < $1 THEN slots ELSE $2 END), 0) AS BIGINT) FROM task_instances WHERE pool = $3 AND state = 'queued' AND run_id <> $4 AND queued_at < $5",
    )
    .bind(size.max(1))
    .bind(size.max(1))
    .bind(name)
    .bind(run_id)
    .bind(oldest_queued_at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(PoolSlots { used, size, owed })
}

impl Store {
    pub async fn pools_usage(&self) -> Result<Vec<PoolUsage>> {
        let rows = sqlx::query(POOLS_USAGE).fetch_all(self.pool()).await?;
        rows.iter().map(usage_from_row).collect()
    }
}

/// `pools_usage` inside a transaction (a `Store::snapshot`), so it agrees
/// with the instances read beside it.
pub async fn pools_usage_in(tx: &mut Tx) -> Result<Vec<PoolUsage>> {
    let rows = sqlx::query(POOLS_USAGE).fetch_all(&mut **tx).await?;
    rows.iter().map(usage_from_row).collect()
}

const POOLS_USAGE: &str = "SELECT p.name, p.size, \
     (SELECT CAST(COALESCE(SUM(t.slots), 0) AS BIGINT) FROM task_instances t WHERE t.pool = p.name AND t.state = 'running') AS running, \
     (SELECT COUNT(*) FROM task_instances t WHERE t.pool = p.name AND t.state = 'queued') AS queued \
     FROM pools p ORDER BY p.name";

fn usage_from_row(r: &super::Row) -> Result<PoolUsage> {
    Ok(PoolUsage {
        name: r.try_get("name")?,
        size: r.try_get("size")?,
        running: r.try_get("running")?,
        queued: r.try_get("queued")?,
    })
}
