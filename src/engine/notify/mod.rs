//! Delivering alerts: route each new alert of the outbox to its channels
//! (`notify` on the task, else the pipeline; each channel's `on` filter),
//! then send every due delivery, recording the channel's answer or the error
//! and the next try. At least once, with the alert's stable dedup key: two
//! deliverers never hold the same delivery at once (a claim with a timeout),
//! and a crash between sending and recording only means one more send.
//!
//! `serve` runs a pass every tick; with no `serve` alive, a run's own
//! process does it for its runs (`own.rs`).

mod message;
pub mod own;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::store::{self, AlertKind, AlertRow, Store, now_ms};
use crate::config::{PipelineDef, Workspace, redact::redact};
use crate::connectors::notify::{Channel, Message, http_client, send};

pub use message::{message_for, test_message};

/// Siblings of a failure (an `export_all` fan-out failing table by table)
/// join its alert until it has been quiet this long; then it is routed.
const COALESCE_MS: i64 = 2_000;
/// A claimed delivery is another deliverer's for this long (longer than a send).
const CLAIM_MS: i64 = 60_000;
/// Retries back off from 2 s, doubling, to a minute at most.
const FIRST_RETRY_MS: i64 = 2_000;
const MAX_RETRY_MS: i64 = 60_000;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub routed: usize,
    pub delivered: usize,
    pub failed: usize,
}

pub struct Deliverer {
    ws: Arc<Workspace>,
    store: Store,
    /// Made on the first send: a workspace without channels never needs it.
    http: tokio::sync::OnceCell<reqwest::Client>,
    token: String,
}

impl Deliverer {
    pub fn new(ws: Arc<Workspace>, store: Store, token: &str) -> Deliverer {
        Deliverer {
            ws,
            store,
            http: tokio::sync::OnceCell::new(),
            token: token.to_string(),
        }
    }

    fn channel(&self, name: &str) -> Option<Channel> {
        channel(&self.ws, name).ok()
    }

    /// Routes new alerts and sends what is due (of one run, or all).
    pub async fn pass(&self, run_id: Option<i64>) -> Result<Pass> {
        let mut pass = Pass::default();
        let now = now_ms();
        for alert in self.store.unrouted_alerts().await? {
            if run_id.is_some() && alert.run_id != run_id {
                continue;
            }
            let channels = self.channels_for(&alert).await?;
            // With nowhere to go, nothing to wait for: routed at once.
            if !channels.is_empty()
                && alert.kind == AlertKind::Failed
                && now - alert.updated_at < COALESCE_MS
            {
                continue;
            }
            let mut tx = self.store.begin().await?;
            store::route(&mut tx, alert.id, &channels, now).await?;
            tx.commit().await?;
            pass.routed += 1;
        }
        let mut tx = self.store.begin().await?;
        let due = store::claim_due(&mut tx, &self.token, run_id, CLAIM_MS, 50).await?;
        tx.commit().await?;
        for (alert, delivery) in due {
            let outcome = match self.channel(&delivery.channel) {
                None => Err(format!(
                    "channel `{}` is no longer in the workspace file",
                    delivery.channel
                )),
                Some(ch) => {
                    let msg = message_for(&self.ws, &self.store, &alert).await?;
                    let http = self
                        .http
                        .get_or_try_init(|| async { http_client() })
                        .await?;
                    send(http, &ch, &msg)
                        .await
                        .map_err(|e| redact(&crate::text::error_chain(&e)))
                }
            };
            let retry_at = now_ms() + backoff_ms(delivery.attempts + 1);
            let mut tx = self.store.begin().await?;
            match &outcome {
                Ok(answer) => {
                    store::record_attempt(&mut tx, alert.id, &delivery.channel, Ok(answer), 0)
                        .await?;
                    pass.delivered += 1;
                }
                Err(e) => {
                    tracing::warn!(
                        "alert {} to `{}` failed (attempt {}): {e}",
                        alert.id,
                        delivery.channel,
                        delivery.attempts + 1
                    );
                    store::record_attempt(&mut tx, alert.id, &delivery.channel, Err(e), retry_at)
                        .await?;
                    pass.failed += 1;
                }
            }
            tx.commit().await?;
        }
        Ok(pass)
    }

    /// Delivers the alerts of `run_id` for at most `budget` (a run's own
    /// process, when no `serve` is alive). What is left stays in the outbox
    /// for the next deliverer.
    pub async fn drain_run(&self, run_id: i64, budget: Duration) -> Result<()> {
        let until = std::time::Instant::now() + budget;
        loop {
            let p = self.pass(Some(run_id)).await?;
            let open = self.store.undelivered_of_run(run_id).await?;
            if open == 0 || std::time::Instant::now() >= until {
                return Ok(());
            }
            if p == Pass::default() {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }

    /// The channels an alert goes to.
    async fn channels_for(&self, a: &AlertRow) -> Result<Vec<String>> {
        let Some(p) = self.ws.pipeline(&a.pipeline) else {
            return Ok(Vec::new()); // an ad-hoc run, or a pipeline since removed
        };
        let mut names = BTreeSet::new();
        match a.kind {
            AlertKind::Recovered => {
                // The resolve goes where the incident's triggers went.
                let run = a.run_id.unwrap_or_default();
                for t in self.store.incident_triggers(run, &a.dedup_key).await? {
                    for d in self.store.deliveries_of(t.id).await? {
                        names.insert(d.channel);
                    }
                }
            }
            AlertKind::Interrupted => {
                for t in &a.tasks {
                    names.extend(task_channels(p, t));
                }
            }
            _ => match &a.task_id {
                Some(t) => names.extend(task_channels(p, t)),
                None => names.extend(p.notify.clone().unwrap_or_default()),
            },
        }
        Ok(names
            .into_iter()
            .filter(|n| self.channel(n).is_some_and(|c| c.wants(a.kind.as_str())))
            .collect())
    }
}

/// A task's own `notify`, else its pipeline's. An expanded instance
/// (`dump.public.orders`) takes its parent's.
fn task_channels(p: &PipelineDef, instance: &str) -> Vec<String> {
    let def = p.tasks.iter().find(|t| t.id == instance).or_else(|| {
        p.tasks
            .iter()
            .filter(|t| {
                instance.len() > t.id.len()
                    && instance.starts_with(t.id.as_str())
                    && instance.as_bytes()[t.id.len()] == b'.'
            })
            .max_by_key(|t| t.id.len())
    });
    def.and_then(|d| d.notify.clone())
        .or_else(|| p.notify.clone())
        .unwrap_or_default()
}

/// 2 s, 4 s, 8 s … up to a minute, by attempt number (1-based).
fn backoff_ms(attempt: i64) -> i64 {
    let exp = (attempt - 1).clamp(0, 10) as u32;
    (FIRST_RETRY_MS * 2i64.pow(exp)).min(MAX_RETRY_MS)
}

/// The channel `name` of the workspace, or an error that lists the known ones.
pub fn channel(ws: &Workspace, name: &str) -> Result<Channel> {
    match ws.def.notify.get(name) {
        Some(def) => Ok(Channel::new(name, def)),
        None => {
            let known: Vec<&str> = ws.def.notify.keys().map(String::as_str).collect();
            anyhow::bail!(
                "no channel `{name}` (channels: {})",
                if known.is_empty() {
                    "none: add a [notify.NAME] table".to_string()
                } else {
                    known.join(", ")
                }
            )
        }
    }
}

/// Sends a test message to a channel now; the channel's answer, or why not.
pub async fn test_channel(ws: &Workspace, ch: &Channel) -> Result<String> {
    let msg: Message = test_message(ws, &ch.name);
    send(&http_client()?, ch, &msg).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TaskDef;

    #[test]
    fn retries_back_off_to_a_minute() {
        let d: Vec<i64> = (1..=7).map(backoff_ms).collect();
        assert_eq!(d, [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    }

    #[test]
    fn a_task_list_replaces_the_pipeline_list_and_fan_outs_take_their_parent() {
        let p = PipelineDef {
            notify: Some(vec!["team".into()]),
            tasks: vec![
                TaskDef {
                    id: "dump".into(),
                    notify: Some(vec!["oncall".into()]),
                    ..TaskDef::default()
                },
                TaskDef {
                    id: "dump.x".into(),
                    ..TaskDef::default()
                },
                TaskDef {
                    id: "report".into(),
                    ..TaskDef::default()
                },
            ],
            ..PipelineDef::default()
        };
        assert_eq!(task_channels(&p, "dump"), ["oncall"]);
        assert_eq!(task_channels(&p, "dump.public.orders"), ["oncall"]);
        // The longest parent wins: `dump.x` has no list of its own.
        assert_eq!(task_channels(&p, "dump.x.y"), ["team"]);
        assert_eq!(task_channels(&p, "report"), ["team"]);
        assert_eq!(task_channels(&p, "dumpster"), ["team"]);
    }
}
