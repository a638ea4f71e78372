//! Deliveries: one row per alert and channel, routed, claimed, tried and
//! recorded by whoever delivers (`engine::notify`). Two deliverers never hold
//! the same delivery at once: a claim holds it until it is recorded or its
//! hold runs out.

use super::Row as AnyRow;
use anyhow::Result;
use serde::Serialize;
use sqlx::Row;

use super::alerts::alert_from_row;
use super::{AlertRow, Store, Tx, now_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// The last attempt failed; tried again at `next_at`.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
    fn parse(s: &str) -> DeliveryState {
        match s {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        }
    }
}

/// Alerts still on their way (see `Store::undelivered`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Undelivered {
    /// Not yet accepted by every channel they go to.
    pub pending: i64,
    /// Of those, deliveries whose last attempt failed.
    pub failing: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryRow {
    pub alert_id: i64,
    pub channel: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub answer: Option<String>,
    pub delivered_at: Option<i64>,
}

pub(super) fn delivery_from_row(r: &AnyRow) -> Result<DeliveryRow> {
    let state: String = r.try_get("state")?;
    Ok(DeliveryRow {
        alert_id: r.try_get("alert_id")?,
        channel: r.try_get("channel")?,
        state: DeliveryState::parse(&state),
        attempts: r.try_get("attempts")?,
        next_at: r.try_get("next_at")?,
        last_error: r.try_get("last_error")?,
        answer: r.try_get("answer")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}

/// Writes the channels an alert goes to (none is fine: it stays visible).
pub async fn route(
    tx: &mut Tx,
    alert_id: i64,
    channels: &[String],
    first_try_at: i64,
) -> Result<()> {
    for c in channels {
        sqlx::query(
            "INSERT INTO deliveries (alert_id, channel, state, next_at) VALUES ($1, $2, 'pending', $3) ON CONFLICT (alert_id, channel) DO NOTHING",
        )
        .bind(alert_id)
        .bind(c)
        .bind(first_try_at)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("UPDATE alerts SET routed_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(alert_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Claims due deliveries for `token` for `hold_ms`, so that two deliverers
/// never send the same one at once. Returns (alert, delivery) pairs.
pub async fn claim_due(
    tx: &mut Tx,
    token: &str,
    run_id: Option<i64>,
    hold_ms: i64,
    limit: i64,
) -> Result<Vec<(AlertRow, DeliveryRow)>> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT d.* FROM deliveries d JOIN alerts a ON a.id = d.alert_id \
         WHERE d.state <> 'delivered' AND d.next_at <= $1 \
         AND (d.claimed_until IS NULL OR d.claimed_until < $2) \
         AND ($3 IS NULL OR a.run_id = $4) \
         ORDER BY d.next_at LIMIT $5",
    )
    .bind(now)
    .bind(now)
    .bind(run_id)
    .bind(run_id)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let d = delivery_from_row(&r)?;
        sqlx::query(
            "UPDATE deliveries SET claimed_by = $1, claimed_until = $2 WHERE alert_id = $3 AND channel = $4",
        )
        .bind(token)
        .bind(now + hold_ms)
        .bind(d.alert_id)
        .bind(&d.channel)
        .execute(&mut **tx)
        .await?;
        let a = sqlx::query("SELECT * FROM alerts WHERE id = $1")
            .bind(d.alert_id)
            .fetch_one(&mut **tx)
            .await?;
        out.push((alert_from_row(&a)?, d));
    }
    Ok(out)
}

/// Records one delivery attempt: the channel's answer, or the error and when
/// to try again.
pub async fn record_attempt(
    tx: &mut Tx,
    alert_id: i64,
    channel: &str,
    outcome: std::result::Result<&str, &str>,
    retry_at: i64,
) -> Result<()> {
    let now = now_ms();
    let q = match outcome {
        Ok(answer) => sqlx::query(
            "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = $1, answer = $2, claimed_by = NULL, claimed_until = NULL WHERE alert_id = $3 AND channel = $4",
        )
        .bind(now)
        .bind(answer),
        Err(error) => sqlx::query(
            "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, last_error = $1, next_at = $2, claimed_by = NULL, claimed_until = NULL WHERE alert_id = $3 AND channel = $4",
        )
        .bind(error)
        .bind(retry_at),
    };
    q.bind(alert_id).bind(channel).execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    /// Alerts, newest first, of one run or of all; with their deliveries.
    pub async fn alerts(
        &self,
        run_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(AlertRow, Vec<DeliveryRow>)>> {
        let rows = sqlx::query(
            "SELECT * FROM alerts WHERE ($1 IS NULL OR run_id = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(run_id)
        .bind(run_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let a = alert_from_row(&r)?;
            let ds = sqlx::query("SELECT * FROM deliveries WHERE alert_id = $1 ORDER BY channel")
                .bind(a.id)
                .fetch_all(self.pool())
                .await?;
            let ds = ds.iter().map(delivery_from_row).collect::<Result<_>>()?;
            out.push((a, ds));
        }
        Ok(out)
    }

    /// What is still to deliver (the console's header badge): alerts not yet
    /// routed to their channels plus deliveries not yet accepted, and how
    /// many of those failed their last attempt.
    pub async fn undelivered(&self) -> Result<Undelivered> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM alerts WHERE routed_at IS NULL) AS unrouted, \
             (SELECT COUNT(*) FROM deliveries WHERE state <> 'delivered') AS open, \
             (SELECT COUNT(*) FROM deliveries WHERE state = 'failed') AS failed",
        )
        .fetch_one(self.pool())
        .await?;
        let (unrouted, open): (i64, i64) = (row.try_get("unrouted")?, row.try_get("open")?);
        Ok(Undelivered {
            pending: unrouted + open,
            failing: row.try_get("failed")?,
        })
    }

    pub async fn deliveries_of(&self, alert_id: i64) -> Result<Vec<DeliveryRow>> {
        let rows = sqlx::query("SELECT * FROM deliveries WHERE alert_id = $1 ORDER BY channel")
            .bind(alert_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// Alerts of a run still to deliver: not yet routed, or routed and not accepted.
    pub async fn undelivered_of_run(&self, run_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM alerts WHERE run_id = $1 AND routed_at IS NULL) + \
             (SELECT COUNT(*) FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE a.run_id = $2 AND d.state <> 'delivered')",
        )
        .bind(run_id)
        .bind(run_id)
        .fetch_one(self.pool())
        .await?)
    }
}
