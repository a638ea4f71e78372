//! Notification channels: Slack incoming webhooks, PagerDuty Events API v2,
//! and signed generic webhooks. This layer turns one alert `Message` into a
//! channel's request and sends it; choosing channels, retrying and recording
//! deliveries is the engine's (`engine::notify`).
//!
//! Every text in a `Message` is redacted by the engine before it gets here,
//! and errors returned from here are redacted again (a webhook URL is a
//! secret and reqwest's errors name the URL).

mod pagerduty;
mod slack;
mod webhook;

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use crate::config::NotifyDef;
use crate::config::notify::PAGERDUTY_EVENTS_URL;
use crate::config::redact::redact;

pub use webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature};

/// The version of the webhook body below; bumped on any incompatible change.
pub const MESSAGE_VERSION: u32 = 1;

/// One alert as every channel sees it; the webhook body is exactly this,
/// as JSON (README, "Being paged", documents it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub version: u32,
    /// failed | interrupted | deadline_missed | at_risk | recovered | test
    pub kind: String,
    /// Stable per run, task and kind: one incident, however often delivered.
    pub dedup_key: String,
    pub workspace: String,
    pub pipeline: String,
    pub run_id: Option<i64>,
    pub run_date: Option<String>,
    /// The schedule slot, RFC 3339.
    pub slot: Option<String>,
    /// The task the incident is about (a fan-out's parent), if not the run.
    pub task: Option<String>,
    pub tasks: Vec<TaskLine>,
    /// The first line of the first error.
    pub error: Option<String>,
    /// The last lines of the first failed task's log.
    pub log_tail: Vec<String>,
    pub runbook: Option<Runbook>,
    pub deadline_at: Option<String>,
    pub late_ms: Option<i64>,
    /// The command that reruns the chain.
    pub rerun: Option<String>,
    /// The command that opens the console on the task, error and runbook showing.
    pub console: Option<String>,
    /// For `recovered`: the dedup keys of the incident it closes.
    pub resolves: Vec<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskLine {
    pub id: String,
    pub state: String,
    pub attempt: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runbook {
    pub title: String,
    pub path: String,
}

impl Message {
    /// "nightly run 42 (2026-12-07): load_orders failed" — one line.
    pub fn headline(&self) -> String {
        let run = match (self.run_id, &self.run_date) {
            (Some(id), Some(date)) => format!("run {id} ({date})"),
            (Some(id), None) => format!("run {id}"),
            (None, _) => match &self.slot {
                Some(s) => format!("slot {s}"),
                None => "run".into(),
            },
        };
        let what = match self.kind.as_str() {
            "failed" => {
                let n = self.tasks.len();
                match (&self.task, n) {
                    (Some(t), 0 | 1) => format!("{t} failed"),
                    (Some(t), n) => format!("{t}: {n} tasks failed"),
                    (None, n) => format!("{n} tasks failed"),
                }
            }
            "interrupted" => format!(
                "{} interrupted (its process died)",
                plural(self.tasks.len(), "task")
            ),
            "deadline_missed" => {
                let late = self.late_ms.map(late_text).unwrap_or_default();
                match &self.task {
                    Some(t) => format!("{t} missed its deadline{late}"),
                    None => format!("deadline missed{late}"),
                }
            }
            // The projection and critical path come in `error`.
            "at_risk" => match &self.error {
                Some(e) => e.clone(),
                None => "at risk of missing its deadline".into(),
            },
            "recovered" => "recovered: the run is green again".into(),
            other => other.to_string(),
        };
        format!("[{}] {} {run}: {what}", self.workspace, self.pipeline)
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// ", late by 12m".
pub fn late_text(ms: i64) -> String {
    format!(", late by {}", crate::config::duration::human(ms.max(0)))
}

/// A channel from the workspace, ready to send to.
#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub kind: String,
    url: String,
    routing_key: Option<String>,
    secret: Option<String>,
    on: Option<Vec<String>>,
}

impl Channel {
    pub fn new(name: &str, def: &NotifyDef) -> Channel {
        let url = match (def.kind.as_str(), &def.url) {
            (_, Some(u)) => u.clone(),
            ("pagerduty", None) => PAGERDUTY_EVENTS_URL.to_string(),
            _ => String::new(),
        };
        Channel {
            name: name.to_string(),
            kind: def.kind.clone(),
            url,
            routing_key: def.routing_key.clone(),
            secret: def.secret.clone(),
            on: def.on.clone(),
        }
    }

    /// Does this channel take alerts of `kind` (its `on` filter)?
    pub fn wants(&self, kind: &str) -> bool {
        self.on
            .as_ref()
            .is_none_or(|on| on.iter().any(|k| k == kind))
    }
}

/// What a channel answered when it accepted a message.
pub type Answer = String;

/// Sends `msg` to `channel`. Ok carries the channel's answer (HTTP status and
/// the start of its body); Err a one-line, redacted reason.
pub async fn send(http: &reqwest::Client, channel: &Channel, msg: &Message) -> Result<Answer> {
    /// A body and its extra headers.
    type Request = (Vec<u8>, Vec<(&'static str, String)>);
    let requests: Vec<Request> = match channel.kind.as_str() {
        "slack" => vec![(serde_json::to_vec(&slack::body(msg))?, Vec::new())],
        "pagerduty" => {
            let key = channel
                .routing_key
                .as_deref()
                .ok_or_else(|| anyhow!("channel `{}` has no routing_key", channel.name))?;
            pagerduty::events(msg, key)
                .iter()
                .map(|e| Ok((serde_json::to_vec(e)?, Vec::new())))
                .collect::<Result<_>>()?
        }
        _ => {
            let body = serde_json::to_vec(msg)?;
            let headers = webhook::headers(&body, channel.secret.as_deref(), unix_now());
            vec![(body, headers)]
        }
    };
    let mut answers = Vec::new();
    for (body, headers) in requests {
        answers.push(post(http, &channel.url, body, &headers).await?);
    }
    Ok(answers.join("; "))
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    headers: &[(&str, String)],
) -> Result<Answer> {
    let mut req = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(
            reqwest::header::USER_AGENT,
            concat!("switchyard/", env!("CARGO_PKG_VERSION")),
        )
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| anyhow!("{}", redact(&crate::text::error_sources(&e.without_url()))))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let snippet: String = text.chars().take(200).collect();
    let answer = redact(&format!("HTTP {} {}", status.as_u16(), snippet.trim()));
    if status.is_success() {
        Ok(answer.trim().to_string())
    } else {
        Err(anyhow!("{}", answer.trim()))
    }
}

/// The HTTP client every delivery uses (rustls with the process's provider).
pub fn http_client() -> Result<reqwest::Client> {
    crate::connectors::install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
        .context("cannot set up HTTPS for notifications")
}

#[cfg(test)]
mod tests;
