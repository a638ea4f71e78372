//! `timeline RUN` (a run's incident, for a postmortem) and `journal` (who
//! did what, across runs). The timeline is built and rendered by
//! `engine::timeline`; this file only chooses the form.

use anyhow::Result;
use serde_json::json;

use super::inspect::{iso, local};
use super::{Cli, exit, open_engine_for_reading};
use crate::engine::request::describe_detail;
use crate::engine::store::now_ms;
use crate::engine::timeline::{self, render};
use crate::text::one_line;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Text,
    Markdown,
    Json,
}

impl Form {
    pub fn of(md: bool, json: bool) -> Form {
        match (md, json) {
            (true, _) => Form::Markdown,
            (_, true) => Form::Json,
            _ => Form::Text,
        }
    }
}

pub async fn timeline(cli: &Cli, run: &str, form: Form) -> Result<u8> {
    let engine = open_engine_for_reading(cli).await?;
    let id = engine
        .store
        .resolve_run(run)
        .await
        .map_err(|e| exit(2, e.to_string()))?;
    let tl = timeline::build(&engine.store.timeline_rows(id).await?, now_ms());
    match form {
        Form::Text => print!("{}", render::text(&tl, &chrono::Local)),
        Form::Markdown => print!("{}", render::markdown(&tl, &chrono::Local)),
        Form::Json => println!("{}", serde_json::to_string_pretty(&render::json(&tl))?),
    }
    Ok(0)
}

/// `7d`, `12h` (that long ago), a date (`2026-12-01`, local midnight) or an
/// RFC 3339 time.
fn since_ms(spec: &str, now: i64) -> Result<i64, String> {
    if let Ok(d) = crate::config::duration::parse_duration(spec) {
        return Ok(now - i64::try_from(d.as_millis()).unwrap_or(i64::MAX).min(now));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(spec.trim()) {
        return Ok(t.timestamp_millis());
    }
    let date = chrono::NaiveDate::parse_from_str(spec.trim(), "%Y-%m-%d").map_err(|_| {
        format!("--since `{spec}`: expected a duration (\"7d\", \"12h\"), a date (YYYY-MM-DD) or an RFC 3339 time")
    })?;
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    midnight
        .and_local_timezone(chrono::Local)
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("--since `{spec}`: no such local time"))
}

pub async fn journal(
    cli: &Cli,
    since: Option<&str>,
    run: Option<&str>,
    as_json: bool,
) -> Result<u8> {
    let engine = open_engine_for_reading(cli).await?;
    let since = since
        .map(|s| since_ms(s, now_ms()))
        .transpose()
        .map_err(|e| exit(2, e))?;
    let run_id = match run {
        Some(spec) => Some(
            engine
                .store
                .resolve_run(spec)
                .await
                .map_err(|e| exit(2, e.to_string()))?,
        ),
        None => None,
    };
    let entries = engine.store.journal_entries(run_id, since).await?;
    let note = |d: &Option<String>| {
        d.as_deref()
            .map(|d| crate::config::redact::redact(&describe_detail(d)))
    };
    if as_json {
        let list: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "at": iso(Some(e.at)),
                    "at_ms": e.at,
                    "who": e.who,
                    "action": e.action,
                    "run_id": e.run_id,
                    "tasks": e.tasks,
                    "note": note(&e.detail),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(0);
    }
    if entries.is_empty() {
        println!("nothing in the journal");
        return Ok(0);
    }
    for e in &entries {
        let run = e.run_id.map(|r| format!("run {r}")).unwrap_or_default();
        let tasks = if e.tasks.is_empty() {
            String::new()
        } else {
            format!(" [{}]", e.tasks.join(", "))
        };
        let note = note(&e.detail)
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        println!(
            "{}  {:<8}  {}  {}{}{}",
            local(Some(e.at)),
            run,
            one_line(&e.who),
            one_line(&e.action),
            one_line(&tasks),
            one_line(&note)
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::since_ms;

    #[test]
    fn since_takes_a_duration_a_date_or_a_time() {
        let now = 10 * 86_400_000;
        assert_eq!(since_ms("7d", now), Ok(3 * 86_400_000));
        assert_eq!(since_ms("1h30m", now), Ok(now - 5_400_000));
        assert_eq!(since_ms("1970-01-02T00:00:00Z", now), Ok(86_400_000));
        assert!(since_ms("1970-01-05", now).is_ok());
        let err = since_ms("last tuesday", now).expect_err("not a time");
        assert!(err.contains("YYYY-MM-DD"), "{err}");
    }
}
