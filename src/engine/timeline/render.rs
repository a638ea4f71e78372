//! The forms a timeline is printed in, in one place: plain text (one line
//! per entry), Markdown for a postmortem, and JSON for scripts. Times are
//! shown in the zone the caller passes (the local one; UTC in tests), so the
//! same timeline reads the same from the CLI and the console's `w`.

use std::fmt::Write as _;

use chrono::{DateTime, Offset, TimeZone};

use super::Timeline;
use crate::config::duration::human;

fn at<Tz: TimeZone>(ms: i64, tz: &Tz, fmt: &str) -> String
where
    Tz::Offset: std::fmt::Display,
{
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(tz).format(fmt).to_string())
        .unwrap_or_default()
}

/// The zone's offset at the run's start, as `+01:00` (said once, in the title).
fn offset<Tz: TimeZone>(ms: i64, tz: &Tz) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| {
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .to_string()
        })
        .unwrap_or_default()
}

/// One line per entry: `MM-DD HH:MM:SS  what  detail`.
pub fn text<Tz: TimeZone>(tl: &Timeline, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let mut out = format!(
        "run {} · {} · {} · {}\n",
        tl.run_id, tl.pipeline, tl.run_date, tl.state
    );
    for e in &tl.entries {
        let _ = writeln!(
            out,
            "{}  {:<9}  {}",
            at(e.at_ms, tz, "%m-%d %H:%M:%S"),
            e.kind.label(),
            e.text
        );
    }
    out
}

/// The summary's lines, shared by Markdown and the console's header line.
pub fn summary_lines<Tz: TimeZone>(tl: &Timeline, tz: &Tz) -> Vec<String>
where
    Tz::Offset: std::fmt::Display,
{
    let s = &tl.summary;
    let hms = |ms: i64| at(ms, tz, "%m-%d %H:%M:%S");
    let mut lines = Vec::new();
    lines.push(match (s.duration_ms, s.finished_at) {
        (Some(d), Some(f)) => format!(
            "Duration: {} ({} → {}), {}",
            human(d),
            hms(s.started_at),
            hms(f),
            tl.state
        ),
        _ => format!("Started {}, still {}", hms(s.started_at), tl.state),
    });
    lines.push(match s.failures {
        0 => "Failures: none".to_string(),
        n => format!(
            "Failures: {n} failed attempt{} ({}), {} retr{}",
            if n == 1 { "" } else { "s" },
            s.failed_tasks.join(", "),
            s.retries,
            if s.retries == 1 { "y" } else { "ies" }
        ),
    });
    lines.push(match (s.first_alert_at, s.recovered_at) {
        (Some(f), Some(r)) => format!(
            "Alerts: {}; first alert {} → recovered {}: {} from first alert to recovery",
            s.alerts,
            hms(f),
            hms(r),
            human(r - f)
        ),
        (Some(f), None) => format!(
            "Alerts: {}; first alert {}, not recovered yet",
            s.alerts,
            hms(f)
        ),
        (None, Some(r)) => format!("Alerts: {}; recovered {}", s.alerts, hms(r)),
        (None, None) => format!("Alerts: {}", s.alerts),
    });
    if let Some(l) = s.late_ms {
        lines.push(format!("Deadline missed by {}", human(l)));
    }
    lines
}

/// A Markdown table cell: pipes escaped, nothing that breaks the row.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

/// Ready to paste into a postmortem: a title, the summary, then a table.
pub fn markdown<Tz: TimeZone>(tl: &Timeline, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let mut out = format!(
        "# Incident timeline: {} run {} ({})\n\n",
        cell(&tl.pipeline),
        tl.run_id,
        cell(&tl.run_date)
    );
    for line in summary_lines(tl, tz) {
        let _ = writeln!(out, "- {}", cell(&line));
    }
    let _ = writeln!(
        out,
        "- Times are local (UTC{}).\n",
        offset(tl.summary.started_at, tz)
    );
    out.push_str("| Time | What | Task | Detail |\n|---|---|---|---|\n");
    for e in &tl.entries {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            at(e.at_ms, tz, "%m-%d %H:%M:%S"),
            e.kind.label(),
            cell(e.task.as_deref().unwrap_or("")),
            cell(&e.text)
        );
    }
    out
}

/// The entries as a JSON array (see `Entry` for the fields).
pub fn json(tl: &Timeline) -> serde_json::Value {
    serde_json::to_value(&tl.entries).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
}
