//! `{slot}` and `wait until` through the real binary: a slot's run sees its
//! slot in the pipeline's zone (and its `run_date` is that zone's date), a run
//! started by hand sees its creation, and `wait until = "HH:MM"` counts from
//! the run's reference instead of from today's date.

mod common;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, TimeDelta, Timelike, Utc};
use common::{Bg, Ws, sqlite, wait_for};
use serde_json::Value;

fn runs(ws: &Ws) -> Vec<Value> {
    ws.try_status(None)
        .and_then(|s| s["runs"].as_array().cloned())
        .unwrap_or_default()
}

fn log_texts(ws: &Ws, run: &str, task: &str) -> Vec<String> {
    let (code, out, _) = ws.run(&["logs", run, task, "--json"]);
    if code != 0 {
        return Vec::new();
    }
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l["text"].as_str().map(String::from))
        .collect()
}

fn instant(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn a_slot_run_sees_its_slot_in_the_pipelines_zone() {
    // Kolkata keeps +05:30 all year, so the test can check the offset itself.
    let ws = Ws::new(
        r#"[workspace]
timezone = "Asia/Kolkata"

[pipelines.tick]
schedule = "@every 2s"

[[pipelines.tick.tasks]]
id = "work"
kind = "command"
command = "echo {run_id} {slot} $SWITCHYARD_SLOT {run_date} >> slots.txt"
"#,
    );
    let serve = Bg::new(ws.spawn(&["serve"]));
    assert!(
        wait_for(Duration::from_secs(30), || runs(&ws)
            .iter()
            .filter(|r| r["state"] == "succeeded")
            .count()
            >= 2),
        "two slots ran: {:#?}",
        runs(&ws)
    );
    drop(serve);
    let lines = ws.read("slots.txt");
    let kolkata = FixedOffset::east_opt(5 * 3600 + 1800).expect("offset");
    let mut seen = 0;
    for r in runs(&ws).iter().filter(|r| r["state"] == "succeeded") {
        let id = r["id"].as_i64().expect("id").to_string();
        let line = lines
            .lines()
            .find(|l| l.split(' ').next() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("run {id} wrote no line: {lines}"));
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 4, "{line}");
        let (slot, env_slot, run_date) = (parts[1], parts[2], parts[3]);
        assert_eq!(slot, env_slot, "{{slot}} and SWITCHYARD_SLOT agree");
        assert!(slot.ends_with("+05:30"), "{slot}: the pipeline's offset");
        let stored = instant(r["slot"].as_str().expect("a slot run"));
        assert_eq!(instant(slot), stored, "{slot} names the run's slot");
        let local_date = stored.with_timezone(&kolkata).date_naive().to_string();
        assert_eq!(run_date, local_date, "run_date is the slot's local date");
        assert_eq!(r["run_date"], local_date);
        seen += 1;
    }
    assert!(seen >= 2, "{lines}");
}

#[test]
fn a_run_by_hand_has_its_creation_as_slot() {
    let ws = Ws::new(
        r#"[pipelines.p]
timezone = "America/New_York"

[[pipelines.p.tasks]]
id = "work"
kind = "command"
command = "echo {slot} > slot.txt"
"#,
    );
    let (code, _, err) = ws.run(&["run", "p"]);
    assert_eq!(code, 0, "{err}");
    let slot = ws.read("slot.txt").trim().to_string();
    let run = &ws.status(Some("latest"))["runs"][0];
    assert_eq!(run["slot"], Value::Null, "started by hand: no slot");
    let created = instant(run["created_at"].as_str().expect("created_at"));
    assert_eq!(instant(&slot), created, "{slot}: the run's creation");
    assert!(
        slot.ends_with("-04:00") || slot.ends_with("-05:00"),
        "{slot}: New York's offset"
    );
}

/// `until` one minute before now: the run's reference (its creation) is past
/// that time today, so it waits for tomorrow's, as a deadline would. Then,
/// with the run's creation moved 10 minutes back (a run created before that
/// time), a rerun finds it passed and ends at once.
#[test]
fn wait_until_counts_from_the_runs_reference() {
    let now = Utc::now();
    let until = (now - TimeDelta::minutes(1))
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .expect("a whole minute");
    let ws = Ws::new(&format!(
        r#"[workspace]
timezone = "UTC"

[pipelines.p]

[[pipelines.p.tasks]]
id = "quiet"
kind = "wait"
until = "{}"
"#,
        until.format("%H:%M")
    ));
    let mut run = Bg::new(ws.spawn(&["run", "p"]));
    let tomorrow = (until + TimeDelta::days(1)).format("%Y-%m-%d %H:%M UTC");
    let mut logged = Vec::new();
    assert!(
        wait_for(Duration::from_secs(20), || {
            logged = log_texts(&ws, "latest", "quiet");
            logged.iter().any(|l| l.starts_with("waiting until"))
        }),
        "the wait says what it waits for: {logged:?}"
    );
    assert!(
        logged
            .iter()
            .any(|l| l.starts_with(&format!("waiting until {tomorrow} (23h"))),
        "waits for tomorrow's {until}: {logged:?}"
    );
    assert_eq!(ws.task_state("latest", "quiet"), "running");
    let id = ws.latest_run_id().to_string();
    let (code, _, err) = ws.run(&["cancel", &id]);
    assert_eq!(code, 0, "{err}");
    run.wait(Duration::from_secs(20));

    let created = (now - TimeDelta::minutes(10)).timestamp_millis();
    sqlite(
        &ws.path().join(".switchyard/state.db"),
        &format!("UPDATE runs SET created_at = {created} WHERE id = {id}"),
    );
    let (code, _, err) = ws.run_within(Duration::from_secs(30), &["rerun", &id, "quiet"]);
    assert_eq!(code, 0, "the rerun's wait ended at once: {err}");
    assert_eq!(ws.task_state(&id, "quiet"), "succeeded");
    let logged = log_texts(&ws, &id, "quiet");
    assert!(
        logged
            .iter()
            .any(|l| l.ends_with("has passed: not waiting")),
        "{logged:?}"
    );
}
