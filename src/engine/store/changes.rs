//! Waking followers when the store changes (the console, `logs --follow`),
//! and a run's owner when a request for it is written.
//!
//! On PostgreSQL every transaction that appends events also sends a NOTIFY
//! on one channel (delivered at commit, so never before the rows are
//! visible); a follower's `Changes` LISTENs on its own connection and wakes
//! at once. The follower still reads by sequence number and still rereads
//! at its usual pace, so a notification lost to a dropped connection costs
//! only latency, never an event. On SQLite there is nothing to listen to:
//! `wait` is the follower's pause.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use super::{Backend, Store};

/// The channel every event-appending transaction notifies on PostgreSQL.
pub(super) const CHANNEL: &str = "switchyard_events";
/// The channel a new request notifies, with its run's id as the payload:
/// the run's owner wakes at once to apply it.
const REQUESTS: &str = "switchyard_requests";

/// How long a follower waits before listening again after losing the
/// database.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// A follower's wake-up: see the module doc. Dropping it stops listening.
pub struct Changes {
    notify: Option<Arc<Notify>>,
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Changes {
    fn drop(&mut self) {
        if let Some(h) = &self.listener {
            h.abort();
        }
    }
}

impl Changes {
    /// Returns when the store may have changed, or after `at_most`.
    pub async fn wait(&self, at_most: Duration) {
        match &self.notify {
            Some(n) => {
                tokio::select! {
                    _ = n.notified() => {}
                    _ = tokio::time::sleep(at_most) => {}
                }
            }
            None => tokio::time::sleep(at_most).await,
        }
    }

    /// True when changes wake the follower (PostgreSQL), so its own pause
    /// only catches up on what a lost notification missed.
    pub fn pushed(&self) -> bool {
        self.notify.is_some()
    }
}

impl Store {
    /// A wake-up for a follower of this store (see the module doc).
    pub fn changes(&self) -> Changes {
        self.listen_on(CHANNEL, None)
    }

    /// A wake-up for the owner of `run_id`: a request for it was written.
    pub fn requests_for(&self, run_id: i64) -> Changes {
        self.listen_on(REQUESTS, Some(run_id.to_string()))
    }

    /// Wakes on `channel`'s notifications (those whose payload is `only`).
    fn listen_on(&self, channel: &'static str, only: Option<String>) -> Changes {
        let Backend::Postgres { url } = &self.backend else {
            return Changes {
                notify: None,
                listener: None,
            };
        };
        let notify = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(url.clone(), channel, only, notify.clone()));
        Changes {
            notify: Some(notify),
            listener: Some(listener),
        }
    }
}

/// LISTENs for the life of the follower, listening again after each loss;
/// every (re)start wakes the follower too, as it may have missed something.
async fn listen(url: String, channel: &str, only: Option<String>, notify: Arc<Notify>) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut l) => match l.listen(channel).await {
                Ok(()) => {
                    notify.notify_one();
                    // `recv` reconnects by itself; a reconnect may have
                    // missed notifications, so it wakes the follower too.
                    loop {
                        match l.try_recv().await {
                            Ok(Some(n)) if only.as_deref().is_some_and(|o| n.payload() != o) => {}
                            Ok(_) => notify.notify_one(),
                            Err(e) => {
                                tracing::info!(
                                    "listening for store changes: {}",
                                    crate::config::redact::redact(&e.to_string())
                                );
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::info!(
                    "cannot listen for store changes: {}",
                    crate::config::redact::redact(&e.to_string())
                ),
            },
            Err(e) => tracing::info!(
                "cannot connect to listen for store changes: {}",
                crate::config::redact::redact(&e.to_string())
            ),
        }
        tokio::time::sleep(RELISTEN_AFTER).await;
    }
}

/// Sends the NOTIFY of a transaction that appended events (PostgreSQL only;
/// delivered when the transaction commits).
pub(super) async fn announce(tx: &mut super::Tx) -> anyhow::Result<()> {
    notify_on(tx, CHANNEL, "").await
}

/// Sends the NOTIFY of a new request for `run_id` (PostgreSQL only).
pub(super) async fn announce_request(tx: &mut super::Tx, run_id: i64) -> anyhow::Result<()> {
    notify_on(tx, REQUESTS, &run_id.to_string()).await
}

async fn notify_on(tx: &mut super::Tx, channel: &str, payload: &str) -> anyhow::Result<()> {
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
