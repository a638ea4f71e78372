//! Waking followers when the store changes (the console, `logs --follow`).
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
        let Backend::Postgres { url } = &self.backend else {
            return Changes {
                notify: None,
                listener: None,
            };
        };
        let notify = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(url.clone(), notify.clone()));
        Changes {
            notify: Some(notify),
            listener: Some(listener),
        }
    }
}

/// LISTENs for the life of the follower, listening again after each loss;
/// every (re)start wakes the follower too, as it may have missed something.
async fn listen(url: String, notify: Arc<Notify>) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => {
                    notify.notify_one();
                    // `recv` reconnects by itself; a reconnect may have
                    // missed notifications, so it wakes the follower too.
                    loop {
                        match l.try_recv().await {
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
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
