//! `serve` (the long-running scheduler, deadline watcher and alert
//! deliverer) and `schedule` (what it will do next).

use std::sync::Arc;

use anyhow::Result;
use serde_json::json;

use super::inspect::iso;
use super::{Cli, exit, open_engine};
use crate::config::schedule::{Deadline, Schedule};
use crate::engine::serve::{self, ServeOptions, timezone_of};
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
    let now = chrono::Utc::now();
    let mut rows = Vec::new();
    for (name, p) in &engine.ws.def.pipelines {
        let Some(expr) = p.schedule.as_deref() else {
            continue;
        };
        let sched = Schedule::parse(expr).map_err(|e| exit(2, e))?;
        let tz = timezone_of(&engine.ws, name);
        let next = sched.next_after(tz, now);
        let last = engine.store.latest_run_of(name).await?;
        let late = last.as_ref().and_then(|r| r.late_ms(now_ms()));
        let recent = engine.store.slots(name, 20).await?;
        rows.push((name, expr, tz, next, last, p.deadline.clone(), late, recent));
    }
    if as_json {
        let list: Vec<_> = rows
            .iter()
            .map(|(name, expr, tz, next, last, deadline, late, recent)| {
                json!({
                    "pipeline": name,
                    "schedule": expr,
                    "timezone": tz.name(),
                    "next_slot": next.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    "deadline": deadline,
                    "next_deadline_at": next.zip(deadline.as_deref().and_then(|d| Deadline::parse(d).ok()))
                        .map(|(t, d)| d.due(t, *tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    "last_run": last.as_ref().map(|r| json!({
                        "id": r.id,
                        "run_date": r.run_date,
                        "state": r.state,
                        "slot": iso(r.slot_at),
                        "deadline_at": iso(r.deadline_at),
                        "late_ms": late,
                    })),
                    "late": late.is_some(),
                    "recent_slots": recent.iter().map(|s| json!({
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
            serde_json::to_string_pretty(&json!({ "pipelines": list }))?
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
    for (name, expr, tz, next, last, deadline, late, _) in &rows {
        let next = next
            .map(|t| t.with_timezone(tz).format("%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        let last_txt = last
            .as_ref()
            .map(|r| format!("{} {} {}", r.id, r.run_date, r.state))
            .unwrap_or_else(|| "-".into());
        let on_time = match late {
            Some(ms) => format!("late by {}", crate::config::duration::human(*ms)),
            None if last.as_ref().is_some_and(|r| r.deadline_at.is_some()) => "on time".into(),
            None => "-".into(),
        };
        println!(
            "{:<18} {:<16} {:<16} {:<20} {:<22} {:<8} {on_time}",
            name,
            expr,
            tz.name(),
            next,
            last_txt,
            deadline.as_deref().unwrap_or("-"),
        );
    }
    Ok(0)
}
