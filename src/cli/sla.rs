//! `switchyard sla`: the engine's SLA report (`engine::sla`) as JSON, or as
//! text and Markdown (`sla_text.rs`). The figures are computed there, once.

use anyhow::Result;
use serde_json::{Value, json};

use super::inspect::iso;
use super::{Cli, exit, open_engine_for_reading};
use crate::config::duration::{format_duration, parse_duration};
use crate::engine::sla::{self, PipelineSla, Report};
use crate::engine::store::now_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

pub async fn sla(cli: &Cli, since: &str, pipeline: Option<&str>, format: Format) -> Result<u8> {
    let window = parse_window(since).map_err(|e| exit(2, format!("--since: {e}")))?;
    let engine = open_engine_for_reading(cli).await?;
    if let Some(p) = pipeline
        && engine.ws.pipeline(p).is_none()
    {
        let known: Vec<&str> = engine.ws.def.pipelines.keys().map(String::as_str).collect();
        return Err(exit(
            2,
            format!(
                "no pipeline `{p}` in the workspace (it has: {})",
                known.join(", ")
            ),
        ));
    }
    let now = now_ms();
    let report = sla::load(&engine, now - window, now, pipeline).await?;
    let since = format_duration(std::time::Duration::from_millis(window as u64));
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&report, &since))?
        ),
        Format::Markdown => print!("{}", super::sla_text::markdown(&report, &since)),
        Format::Text => print!("{}", super::sla_text::text(&report, &since)),
    }
    Ok(0)
}

/// `30d`, `2w`, `12h`: the durations of the workspace file, plus weeks.
fn parse_window(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let ms = match t.strip_suffix('w') {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => n
            .parse::<i64>()
            .ok()
            .and_then(|w| w.checked_mul(7 * 24 * 3600 * 1000))
            .ok_or_else(|| format!("{s:?} is too large"))?,
        _ => i64::try_from(parse_duration(t)?.as_millis())
            .map_err(|_| format!("{s:?} is too large"))?,
    };
    if ms <= 0 {
        return Err(format!("{s:?} is an empty window"));
    }
    // Before the epoch nothing ran; a window that large is a typo.
    if ms > now_ms() {
        return Err(format!("{s:?} reaches back before 1970"));
    }
    Ok(ms)
}

/// The JSON shape scripts rely on: fields are added, never renamed. Times
/// are RFC 3339 (UTC), spans `*_ms`, shares 0..1.
pub fn to_json(report: &Report, since: &str) -> Value {
    json!({
        "since": since,
        "from": iso(Some(report.from)),
        "to": iso(Some(report.to)),
        "pipelines": report.pipelines.iter().map(pipeline_json).collect::<Vec<_>>(),
    })
}

fn pipeline_json(p: &PipelineSla) -> Value {
    let on_time = p.on_time.map(|t| {
        json!({
            "decided": t.decided,
            "on_time": t.on_time,
            "missed": t.missed,
            "pending": t.pending,
            "share": t.share,
            "p50_ms": t.p50_ms,
            "p90_ms": t.p90_ms,
        })
    });
    let misses: Vec<Value> = p
        .misses()
        .map(|d| {
            json!({
                "slot": iso(d.slot_at),
                "reference_at": iso(Some(d.reference_at)),
                "run_id": d.run_id,
                "deadline_at": iso(d.deadline_at),
                "finished_at": iso(d.finished_at),
                "reason": d.outcome.as_str(),
                "late_ms": d.vs_deadline_ms,
            })
        })
        .collect();
    let f = &p.failures;
    let alerts: serde_json::Map<String, Value> = (f.alerts.iter())
        .map(|(k, n)| (k.clone(), json!(n)))
        .collect();
    let r = &p.recovery;
    json!({
        "pipeline": p.pipeline,
        "timezone": p.timezone.name(),
        "deadline": p.deadline,
        "slots": p.slots,
        "on_time": on_time,
        "misses": misses,
        "failures": {
            "failed_runs": f.failed_runs,
            "failed_tasks": f.failed_tasks,
            "interrupted_tasks": f.interrupted_tasks,
            "alerts": alerts,
        },
        "recovery": {
            "incidents": r.incidents.len(),
            "recovered": r.recovered,
            "open": r.open,
            "p50_ms": r.p50_ms,
            "p90_ms": r.p90_ms,
            "max_ms": r.max_ms,
            "list": r.incidents.iter().map(|i| json!({
                "incident": i.key,
                "run_id": i.run_id,
                "kinds": i.kinds,
                "opened_at": iso(Some(i.opened_at)),
                "recovered_at": iso(i.recovered_at),
                "recovery_ms": i.recovery_ms,
            })).collect::<Vec<_>>(),
        },
        "weeks": p.weeks.iter().map(|w| json!({
            "week": w.week,
            "starts": w.starts,
            "due": w.dues,
            "on_time": w.on_time,
            "missed": w.missed,
            "pending": w.pending,
            "share": w.share,
            "failed_runs": w.failed_runs,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_in_days_weeks_and_hours() {
        assert_eq!(parse_window("30d"), Ok(30 * 86_400_000));
        assert_eq!(parse_window("2w"), Ok(14 * 86_400_000));
        assert_eq!(parse_window("12h"), Ok(12 * 3_600_000));
        assert_eq!(parse_window("1d12h"), Ok(36 * 3_600_000));
        for bad in ["", "0d", "w", "2x", "-1d", "99999999w"] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }
}
