//! Being paged: `alerts` (the outbox and its deliveries) and `notify test`.

use anyhow::Result;
use serde_json::json;

use super::inspect::iso;
use super::{Cli, exit, open_engine};
use crate::config::redact::redact;
use crate::engine::notify;
use crate::engine::store::{AlertRow, DeliveryRow, DeliveryState, now_ms};

/// pending / delivered / failed for an alert as a whole: its worst delivery
/// (pending too while it is not yet routed to its channels).
fn overall(a: &AlertRow, ds: &[DeliveryRow]) -> &'static str {
    if a.routed_at.is_none() {
        "pending"
    } else if ds.iter().any(|d| d.state == DeliveryState::Failed) {
        "failed"
    } else if ds.iter().any(|d| d.state == DeliveryState::Pending) {
        "pending"
    } else if ds.is_empty() {
        "no channel"
    } else {
        "delivered"
    }
}

pub async fn alerts(cli: &Cli, as_json: bool, run: Option<&str>, limit: i64) -> Result<u8> {
    let engine = open_engine(cli).await?;
    let run_id = match run {
        Some(spec) => Some(engine.store.resolve_run(spec).await?),
        None => None,
    };
    let list = engine.store.alerts(run_id, limit.max(1)).await?;
    if as_json {
        let alerts: Vec<_> = list.iter().map(|(a, ds)| alert_json(a, ds)).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "alerts": alerts }))?
        );
        return Ok(0);
    }
    if list.is_empty() {
        println!("no alerts");
        return Ok(0);
    }
    println!(
        "{:>4}  {:<15} {:<16} {:>5}  {:<24} {:<10} {:>8}  LAST ERROR",
        "ID", "KIND", "PIPELINE", "RUN", "TASK", "STATE", "ATTEMPTS"
    );
    let now = now_ms();
    for (a, ds) in &list {
        let task = match (&a.task_id, a.tasks.len()) {
            (Some(t), _) => t.clone(),
            // About the run as a whole (a deadline, a projection, a recovery).
            (None, 0) => "(the run)".to_string(),
            (None, n) => format!("{n} task(s)"),
        };
        let rows: Vec<(String, &str, i64, String)> = if ds.is_empty() {
            vec![(String::new(), overall(a, ds), 0, String::new())]
        } else {
            ds.iter()
                .map(|d| {
                    let err = match (&d.last_error, d.state) {
                        (Some(e), DeliveryState::Failed) => {
                            let next = if d.next_at > now {
                                format!(" (next try {})", super::inspect::local(Some(d.next_at)))
                            } else {
                                String::new()
                            };
                            format!("{}{next}", redact(e))
                        }
                        _ => String::new(),
                    };
                    (
                        format!(" → {}", d.channel),
                        d.state.as_str(),
                        d.attempts,
                        err,
                    )
                })
                .collect()
        };
        for (channel, state, attempts, err) in rows {
            println!(
                "{:>4}  {:<15} {:<16} {:>5}  {:<24} {:<10} {:>8}  {}",
                a.id,
                a.kind.as_str(),
                a.pipeline,
                a.run_id
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into()),
                format!("{task}{channel}"),
                state,
                attempts,
                err
            );
        }
    }
    Ok(0)
}

fn alert_json(a: &AlertRow, ds: &[DeliveryRow]) -> serde_json::Value {
    json!({
        "id": a.id,
        "kind": a.kind,
        "dedup_key": a.dedup_key,
        "pipeline": a.pipeline,
        "run_id": a.run_id,
        "slot": iso(a.slot_at),
        "task": a.task_id,
        "tasks": a.tasks,
        "error": a.error.as_deref().map(redact),
        "late_ms": a.late_ms,
        "created_at": iso(Some(a.created_at)),
        "state": overall(a, ds),
        "deliveries": ds.iter().map(|d| json!({
            "channel": d.channel,
            "state": d.state,
            "attempts": d.attempts,
            "last_error": d.last_error.as_deref().map(redact),
            "answer": d.answer.as_deref().map(redact),
            "next_try_at": (d.state != DeliveryState::Delivered).then(|| iso(Some(d.next_at))).flatten(),
            "delivered_at": iso(d.delivered_at),
        })).collect::<Vec<_>>(),
    })
}

pub async fn notify_test(cli: &Cli, channel: &str) -> Result<u8> {
    let file = crate::config::find_workspace(cli.config.as_deref())?;
    let ws = crate::config::load(&file).map_err(|e| exit(2, e.to_string()))?;
    let ch = notify::channel(&ws, channel).map_err(|e| exit(2, e.to_string()))?;
    match notify::test_channel(&ws, &ch).await {
        Ok(answer) => {
            println!("channel `{channel}` accepted the test message: {answer}");
            Ok(0)
        }
        Err(e) => Err(exit(
            1,
            format!(
                "channel `{channel}` did not accept the test message: {}",
                crate::text::error_chain(&e)
            ),
        )),
    }
}
