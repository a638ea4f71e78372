//! `switchyard sla` through the real binary: a store seeded with known slots,
//! runs and alerts (written with the database's own client, not the code
//! under test), and the exact figures `--json` and `--md` must print.

mod common;

use common::Ws;
use serde_json::Value;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

const WORKSPACE: &str = r#"
[workspace]
name = "acme"
timezone = "UTC"

[pipelines.nightly]
schedule = "0 3 * * *"
deadline = "08:00"

[[pipelines.nightly.tasks]]
id = "load"
kind = "command"
command = "true"

[pipelines.adhoc]

[[pipelines.adhoc.tasks]]
id = "t"
kind = "command"
command = "true"
"#;

/// Midnight UTC today, in ms: every seeded time is days before it, so each
/// deadline has passed whenever the test runs.
fn today() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    now - now % DAY
}

/// nightly: D-4 skipped; D-3 on time (35 minutes early); D-2 failed at 04:00,
/// rerun, recovered at 04:40 but finished 12 minutes late; D-1 refused.
/// adhoc (no deadline): one failed run by hand with one failed task.
fn seed(ws: &Ws) {
    let (code, _, err) = ws.run(&["status"]);
    assert_eq!(code, 0, "status creates the store: {err}");
    let d = |days: i64, at: i64| today() - days * DAY + at;
    let slot = |days: i64| d(days, 3 * HOUR);
    let deadline = |days: i64| d(days, 8 * HOUR);
    let date = |days: i64| {
        chrono::DateTime::from_timestamp_millis(d(days, 0))
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let run = |id: i64, pipeline: &str, days: i64, state: &str, finished: i64, slotted: bool| {
        let (slot_at, dl) = if slotted {
            (slot(days).to_string(), deadline(days).to_string())
        } else {
            ("NULL".into(), "NULL".into())
        };
        format!(
            "INSERT INTO runs (id, pipeline, run_date, state, created_at, started_at, finished_at, slot_at, deadline_at) \
             VALUES ({id}, '{pipeline}', '{}', '{state}', {c}, {c}, {finished}, {slot_at}, {dl})",
            date(days),
            c = slot(days) + 1000,
        )
    };
    let slot_row = |days: i64, state: &str, run_id: &str| {
        format!(
            "INSERT INTO slots (pipeline, slot_at, run_date, state, run_id, deadline_at, created_at) \
             VALUES ('nightly', {}, '{}', '{state}', {run_id}, {}, {})",
            slot(days),
            date(days),
            deadline(days),
            slot(days)
        )
    };
    let alert = |id: i64, key: &str, kind: &str, run: i64, pipeline: &str, tasks: &str, at: i64| {
        format!(
            "INSERT INTO alerts (id, dedup_key, kind, pipeline, run_id, tasks, created_at, updated_at) \
             VALUES ({id}, '{key}', '{kind}', '{pipeline}', {run}, '{tasks}', {at}, {at})"
        )
    };
    let created2 = slot(2) + 1000;
    let statements = [
        slot_row(4, "skipped", "NULL"),
        slot_row(3, "started", "1"),
        run(1, "nightly", 3, "succeeded", deadline(3) - 35 * MIN, true),
        slot_row(2, "started", "2"),
        run(2, "nightly", 2, "succeeded", deadline(2) + 12 * MIN, true),
        alert(
            1,
            &format!("sy/run-2.{created2}/load/failed#0"),
            "failed",
            2,
            "nightly",
            r#"["load"]"#,
            d(2, 4 * HOUR),
        ),
        alert(
            2,
            &format!("sy/run-2.{created2}/-/recovered#0"),
            "recovered",
            2,
            "nightly",
            "[]",
            d(2, 4 * HOUR + 40 * MIN),
        ),
        slot_row(1, "refused", "NULL"),
        run(3, "adhoc", 2, "failed", d(2, 11 * HOUR), false),
        alert(
            3,
            "sy/run-3.1/t/failed#0",
            "failed",
            3,
            "adhoc",
            r#"["t"]"#,
            d(2, 10 * HOUR),
        ),
    ];
    ws.state_sql(&statements.join(";\n"));
}

fn sla_json(ws: &Ws, args: &[&str]) -> Value {
    let mut all = vec!["sla", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = ws.run(&all);
    assert_eq!(code, 0, "sla --json: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("sla json: {e}\n{out}"))
}

fn pipeline<'a>(report: &'a Value, name: &str) -> &'a Value {
    (report["pipelines"].as_array())
        .and_then(|ps| ps.iter().find(|p| p["pipeline"] == name))
        .unwrap_or_else(|| panic!("no {name} in {report:#}"))
}

#[test]
fn json_has_the_exact_figures() {
    let ws = Ws::new(WORKSPACE);
    seed(&ws);
    let report = sla_json(&ws, &["--since", "30d"]);
    assert_eq!(report["since"], "30d");
    let n = pipeline(&report, "nightly");
    assert_eq!(n["timezone"], "UTC");
    assert_eq!(
        n["slots"],
        serde_json::json!({"total": 4, "started": 2, "refused": 1, "skipped": 1})
    );
    let t = &n["on_time"];
    assert_eq!(
        (&t["decided"], &t["on_time"], &t["missed"], &t["pending"]),
        (&4.into(), &1.into(), &3.into(), &0.into())
    );
    assert_eq!(t["share"], 0.25);
    assert_eq!(t["p50_ms"], -35 * MIN);
    assert_eq!(t["p90_ms"], 12 * MIN);
    let misses: Vec<(String, Value)> = (n["misses"].as_array().expect("misses").iter())
        .map(|m| {
            (
                m["reason"].as_str().unwrap_or("").to_string(),
                m["late_ms"].clone(),
            )
        })
        .collect();
    assert_eq!(
        misses,
        vec![
            ("skipped".into(), Value::Null),
            ("late".into(), (12 * MIN).into()),
            ("refused".into(), Value::Null),
        ]
    );
    let rec = &n["recovery"];
    assert_eq!(
        (&rec["incidents"], &rec["recovered"], &rec["open"]),
        (&1.into(), &1.into(), &0.into())
    );
    assert_eq!(rec["p50_ms"], 40 * MIN);
    assert_eq!(n["failures"]["failed_tasks"], 1);
    assert_eq!(n["failures"]["alerts"]["recovered"], 1);
    // Every due falls in exactly one week.
    let weeks = n["weeks"].as_array().expect("weeks");
    let due: i64 = weeks.iter().map(|w| w["due"].as_i64().unwrap_or(0)).sum();
    assert_eq!(due, 4);
    let missed: i64 = weeks
        .iter()
        .map(|w| w["missed"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(missed, 3);

    let a = pipeline(&report, "adhoc");
    assert_eq!(a["on_time"], Value::Null, "no deadline, no on-time figures");
    assert_eq!(a["failures"]["failed_runs"], 1);
    assert_eq!(a["failures"]["failed_tasks"], 1);
    assert_eq!(a["recovery"]["open"], 1);

    // --pipeline keeps one; a window of one day leaves out the older slots.
    let only = sla_json(&ws, &["--pipeline", "adhoc"]);
    assert_eq!(only["pipelines"].as_array().map(Vec::len), Some(1));
    let short = sla_json(&ws, &["--since", "2d", "--pipeline", "nightly"]);
    let s = pipeline(&short, "nightly");
    assert!(
        s["slots"]["total"].as_i64().unwrap_or(99) < 4,
        "a shorter window counts fewer slots: {s:#}"
    );
}

#[test]
fn markdown_and_text_say_the_same_figures() {
    let ws = Ws::new(WORKSPACE);
    seed(&ws);
    let (code, md, err) = ws.run(&["sla", "--md"]);
    assert_eq!(code, 0, "sla --md: {err}");
    assert!(md.starts_with("# SLA over the last 30d"), "{md}");
    assert!(
        md.contains(
            "| nightly | 4 | 1/4 | 25.0% | \u{2212}35m | +12m | 3 | 0 | 1 (0 open) | 40m |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| adhoc | 0 | - | - | - | - | - | 1 | 1 (1 open) | - |"),
        "{md}"
    );
    assert!(md.contains("## nightly (UTC, deadline 08:00)"), "{md}");
    assert!(md.contains("| late by 12m |"), "{md}");
    assert!(md.contains("| refused |"), "{md}");
    let (code, text, err) = ws.run(&["sla"]);
    assert_eq!(code, 0, "sla: {err}");
    assert!(
        text.contains("on time: 1 of 4 decided (25.0%), 3 missed"),
        "{text}"
    );
    assert!(!text.contains('|'), "plain text has no table pipes: {text}");
}

#[test]
fn bad_arguments_exit_2() {
    let ws = Ws::new(WORKSPACE);
    seed(&ws);
    let (code, _, err) = ws.run(&["sla", "--pipeline", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no pipeline `nope`"), "{err}");
    let (code, _, err) = ws.run(&["sla", "--since", "lots"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");
    let (code, _, _) = ws.run(&["sla", "--json", "--md"]);
    assert_eq!(code, 2, "one format at a time");
}
