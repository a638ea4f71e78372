//! `serve` (the long-running scheduler, deadline watcher and alert
//! deliverer) and `schedule` (what it will do next).

use std::sync::Arc;

use anyhow::Result;
use serde_json::json;

use super::inspect::iso;
use super::{Cli, exit, open_engine};
use crate::engine::schedules;
use crate::engine::serve::{self, ServeOptions};
use crate::engine::store::now_ms;

pub async fn serve(cli: &Cli) -> Result<u8> {
    let engine = Arc::new(open_engine(cli).await?);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let t = shutdown.clone();
    tokio::spawn(async move {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("switchyard serve: stopping…");
        t.cancel();
    });
    serve::serve(engine, shutdown, ServeOptions { verbose: true }).await?;
    Ok(0)
}

pub async fn schedule(cli: &Cli, as_json: bool) -> Result<u8> {
    let engine = open_engine(cli).await?;
    let overview = schedules::overview(&engine, now_ms(), 20)
        .await
        .map_err(|e| exit(2, crate::text::error_chain(&e)))?;
    let rows = &overview.pipelines;
    if as_json {
        let list: Vec<_> = rows
            .iter()
            .map(|p| {
                json!({
                    "pipeline": p.pipeline,
                    "schedule": p.schedule,
                    "timezone": p.timezone.name(),
                    "next_slot": iso(p.next_slot),
                    "deadline": p.deadline,
                    "next_deadline_at": iso(p.next_deadline_at),
                    "last_run": p.last_run.as_ref().map(|r| json!({
                        "id": r.id,
                        "run_date": r.run_date,
                        "state": r.state,
                        "slot": iso(r.slot_at),
                        "deadline_at": iso(r.deadline_at),
                        "late_ms": r.late_ms(now_ms()),
                    })),
                    "late": p.late_ms.is_some(),
                    "late_ms": p.late_ms,
                    "recent_slots": p.recent.iter().map(|s| json!({
                        "slot": iso(Some(s.slot_at)),
                        "run_date": s.run_date,
                        "state": s.state,
                        "run_id": s.run_id,
                        "deadline_at": iso(s.deadline_at),
                        "detail": s.detail,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({ "serving": overview.serving, "pipelines": list })
            )?
        );
        return Ok(0);
    }
    if rows.is_empty() {
        println!("no pipeline has a `schedule`");
        return Ok(0);
    }
    println!(
        "{:<18} {:<16} {:<16} {:<20} {:<22} {:<8} ON TIME",
        "PIPELINE", "SCHEDULE", "TIMEZONE", "NEXT SLOT", "LAST RUN", "DEADLINE"
    );
    for p in rows {
        let next = (p
            .next_slot
            .and_then(chrono::DateTime::from_timestamp_millis))
        .map(|t| {
            t.with_timezone(&p.timezone)
                .format("%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| "-".into());
        let last_txt = (p.last_run.as_ref())
            .map(|r| format!("{} {} {}", r.id, r.run_date, r.state))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<18} {:<16} {:<16} {:<20} {:<22} {:<8} {}",
            p.pipeline,
            p.schedule,
            p.timezone.name(),
            next,
            last_txt,
            p.deadline.as_deref().unwrap_or("-"),
            p.on_time_text(),
        );
    }
    if !overview.serving {
        println!("no `switchyard serve` is running on this store: no slot starts until one does");
    }
    Ok(0)
}
