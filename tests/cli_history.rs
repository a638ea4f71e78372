//! `switchyard history` through the real binary, on a store filled with
//! generated runs (written with the database's own client, not the code
//! under test): the figures `--json` and the table must show.

mod common;

use common::Ws;
use serde_json::Value;

const WORKSPACE: &str = r#"
[pipelines.nightly]

[[pipelines.nightly.tasks]]
id = "export_orders"
kind = "command"
command = "true"

[[pipelines.nightly.tasks]]
id = "load_orders"
kind = "command"
after = ["export_orders"]
command = "true"
"#;

/// Runs 101…120 of nightly. export_orders run k took 10·k seconds with
/// 1000·k rows, except run 105, which failed after 3 attempts; load_orders
/// took 7 s each time. Run 121 is still running its export.
fn seed(ws: &Ws) {
    let (code, _, err) = ws.run(&["status"]);
    assert_eq!(code, 0, "status creates the store: {err}");
    let mut sql = String::new();
    for k in 1..=21i64 {
        let id = 100 + k;
        let start = 1_700_000_000_000 + k * 86_400_000;
        let running = k == 21;
        let (state, fin) = if running {
            ("running", "NULL".to_string())
        } else {
            ("succeeded", (start + 600_000).to_string())
        };
        sql.push_str(&format!(
            "INSERT INTO runs (id, pipeline, run_date, state, created_at, started_at, finished_at) VALUES ({id}, 'nightly', 'd{k:02}', '{state}', {start}, {start}, {fin});"
        ));
        let (estate, attempts, secs, rows) = match k {
            5 => ("failed", 3, 2, "NULL".to_string()),
            21 => ("running", 1, 0, "500".to_string()),
            _ => ("succeeded", 1, 10 * k, (1000 * k).to_string()),
        };
        let efin = if running {
            "NULL".to_string()
        } else {
            (start + secs * 1000).to_string()
        };
        sql.push_str(&format!(
            "INSERT INTO task_instances (run_id, task_id, kind, state, attempt, upstream, ord, rows_done, started_at, finished_at, updated_at) VALUES ({id}, 'export_orders', 'command', '{estate}', {attempts}, '[]', 0, {rows}, {start}, {efin}, {start});"
        ));
        if !running {
            sql.push_str(&format!(
                "INSERT INTO task_instances (run_id, task_id, kind, state, attempt, upstream, ord, started_at, finished_at, updated_at) VALUES ({id}, 'load_orders', 'command', 'succeeded', 1, '[\"export_orders\"]', 1, {s}, {f}, {s});",
                s = start + 300_000,
                f = start + 307_000
            ));
        }
    }
    ws.state_sql(&sql);
}

fn history(ws: &Ws, args: &[&str]) -> Value {
    let mut all = vec!["history", "nightly", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = ws.run(&all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn history_shows_each_tasks_figures_across_generated_runs() {
    let ws = Ws::new(WORKSPACE);
    seed(&ws);
    let h = history(&ws, &[]);
    let tasks = h["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2, "{h:#}");
    let export = &tasks[0];
    assert_eq!(export["task"], "export_orders");
    let s = &export["summary"];
    // 21 runs: 19 successes (10…200 s without 50 s), one failure, one running.
    assert_eq!(s["runs"], 21);
    assert_eq!(s["succeeded"], 19);
    assert_eq!(s["failed"], 1);
    // Nearest rank of 19: p50 is the 10th (110 s), p90 the 18th (190 s).
    assert_eq!(s["p50_ms"], 110_000);
    assert_eq!(s["p90_ms"], 190_000);
    assert_eq!(s["last_ms"], 200_000, "the running run has no duration yet");
    assert_eq!(s["rows_p50"], 11_000);
    assert_eq!(s["rows_per_s"], 100.0);
    // Last five successes (160…200 s, median 180) against the rest (median 80).
    assert_eq!(s["trend"], "slower");
    assert_eq!(s["pct"], 125);
    let samples = export["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 21);
    assert_eq!(samples[4]["state"], "failed");
    assert_eq!(samples[4]["attempts"], 3);
    assert_eq!(samples[20]["duration_ms"], Value::Null);
    let load = &tasks[1]["summary"];
    assert_eq!(
        (load["p50_ms"].as_i64(), load["trend"].as_str()),
        (Some(7000), Some("steady"))
    );

    // The last five runs only: 170…200 s and the running one.
    let recent = history(&ws, &["--runs", "5", "export_orders"]);
    let s = &recent["tasks"][0]["summary"];
    assert_eq!(
        (s["runs"].as_i64(), s["p50_ms"].as_i64()),
        (Some(5), Some(180_000))
    );
    assert_eq!(
        recent["tasks"].as_array().map(Vec::len),
        Some(1),
        "one task asked for"
    );

    let (code, out, err) = ws.run(&["history", "nightly"]);
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("export_orders"))
        .unwrap_or_else(|| panic!("{out}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cols[..8],
        [
            "export_orders",
            "21",
            "19",
            "1",
            "1m50s",
            "3m10s",
            "3m20s",
            "11.0k"
        ],
        "{out}"
    );
    assert!(line.ends_with("+125% slower"), "{line}");
}

#[test]
fn history_of_an_unknown_pipeline_or_task_is_refused() {
    let ws = Ws::new(WORKSPACE);
    seed(&ws);
    let (code, _, err) = ws.run(&["history", "nightyl"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no pipeline `nightyl`"), "{err}");
    let (code, _, err) = ws.run(&["history", "nightly", "export_ordrs"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no runs of task `export_ordrs`"), "{err}");
    // A known pipeline that never ran is not an error.
    let fresh = Ws::new(WORKSPACE);
    let (code, out, err) = fresh.run(&["history", "nightly"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no runs yet"), "{out}");
}
