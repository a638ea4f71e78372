//! The shape of `status --json` that scripts rely on (README, "The command line"), newest run
//! first, `latest` = the newest run, and `waiting_on` for a live run.

mod common;

use std::time::Duration;

use common::{Ws, wait_until};
use serde_json::Value;

const WS: &str = r#"
[pools.one]
size = 1

[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
pool = "one"
command = "i=0; while [ ! -f go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo a done"

[[pipelines.p.tasks]]
id = "a2"
kind = "command"
pool = "one"
command = "echo a2 done"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a", "a2"]
command = "echo b done"
"#;

const RUN_KEYS: &[&str] = &[
    "id",
    "pipeline",
    "run_date",
    "state",
    "started_at",
    "finished_at",
    "tasks",
];
const TASK_KEYS: &[&str] = &[
    "id",
    "state",
    "attempt",
    "rows",
    "bytes",
    "error",
    "waiting_on",
];

fn assert_shape(st: &Value) {
    let runs = st["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("no runs: {st}"));
    for r in runs {
        for k in RUN_KEYS {
            assert!(r.get(k).is_some(), "run key `{k}` missing: {r}");
        }
        assert!(r["id"].is_i64(), "{r}");
        assert!(r["pipeline"].is_string(), "{r}");
        assert!(r["state"].is_string(), "{r}");
        assert!(r["started_at"].is_string(), "{r}");
        for t in r["tasks"].as_array().unwrap() {
            for k in TASK_KEYS {
                assert!(t.get(k).is_some(), "task key `{k}` missing: {t}");
            }
            assert!(t["id"].is_string(), "{t}");
            assert!(t["attempt"].is_i64(), "{t}");
            for k in ["rows", "bytes"] {
                assert!(t[k].is_null() || t[k].is_i64(), "{k}: {t}");
            }
            for k in ["error", "waiting_on"] {
                assert!(t[k].is_null() || t[k].is_string(), "{k}: {t}");
            }
        }
    }
}

fn task<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no task {id} in {run}"))
}

#[test]
fn status_json_has_the_documented_shape_newest_first() {
    let ws = Ws::new(WS);
    let st = ws.status(None);
    assert_eq!(st, serde_json::json!({"runs": []}), "no runs yet");

    // A later date first, then an earlier one: "newest" is the one created last.
    std::fs::write(ws.path().join("go"), "").unwrap();
    for date in ["2026-08-02", "2026-08-01"] {
        let (code, _, err) = ws.run(&["run", "p", "--date", date]);
        assert_eq!(code, 0, "{err}");
    }
    let st = ws.status(None);
    assert_shape(&st);
    let runs = st["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{st}");
    assert_eq!(runs[0]["run_date"], "2026-08-01", "newest first: {st}");
    assert_eq!(runs[1]["run_date"], "2026-08-02", "{st}");
    assert!(runs[0]["id"].as_i64() > runs[1]["id"].as_i64(), "{st}");
    for r in runs {
        assert_eq!(r["pipeline"], "p");
        assert_eq!(r["state"], "succeeded");
        assert!(r["finished_at"].is_string(), "{r}");
        let ids: Vec<&str> = r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a", "a2", "b"], "tasks in declaration order");
        for t in r["tasks"].as_array().unwrap() {
            assert_eq!(t["state"], "succeeded", "{t}");
            assert_eq!(t["attempt"], 1, "{t}");
            assert_eq!(t["error"], Value::Null, "{t}");
            assert_eq!(t["waiting_on"], Value::Null, "{t}");
        }
    }

    // `latest` and an explicit id.
    let latest = ws.status(Some("latest"));
    assert_shape(&latest);
    assert_eq!(latest["runs"].as_array().unwrap().len(), 1);
    assert_eq!(latest["runs"][0], runs[0]);
    let older_id = runs[1]["id"].as_i64().unwrap().to_string();
    let older = ws.status(Some(&older_id));
    assert_eq!(older["runs"][0], runs[1]);

    let (code, _, err) = ws.run(&["status", "--json", "--run", "999"]);
    assert_eq!(code, 2, "an unknown run is refused: {err}");
    assert!(err.contains("999"), "{err}");
}

#[test]
fn status_json_of_a_live_run_says_why_tasks_wait() {
    let ws = Ws::new(WS);
    let mut owner = ws.spawn(&["run", "p", "--date", "2026-08-03"]);
    let _stop = common::StopOnDrop(owner.id());
    wait_until(Duration::from_secs(20), "a to run and a2 to queue", || {
        // Without --run: the run may not be created yet.
        let st = ws.status(None);
        let run = &st["runs"][0];
        run["run_date"] == "2026-08-03"
            && task(run, "a")["state"] == "running"
            && task(run, "a2")["state"] == "queued"
            && task(run, "b")["waiting_on"].is_string()
    });
    let st = ws.status(None);
    assert_shape(&st);
    let run = &st["runs"][0];
    assert_eq!(
        run["run_date"], "2026-08-03",
        "the live run is the newest: {st}"
    );
    assert_eq!(run["state"], "running", "{run}");
    assert_eq!(run["finished_at"], Value::Null, "{run}");
    assert_eq!(task(run, "a")["attempt"], 1, "{run}");
    assert_eq!(task(run, "a2")["attempt"], 0, "{run}");
    assert_eq!(task(run, "a2")["waiting_on"], "pool one 1/1", "{run}");
    assert_eq!(task(run, "b")["state"], "pending", "{run}");
    assert_eq!(task(run, "b")["waiting_on"], "waiting on a, a2", "{run}");

    std::fs::write(ws.path().join("go"), "").unwrap();
    wait_until(Duration::from_secs(30), "the run to end", || {
        owner.try_wait().unwrap().is_some()
    });
    assert_eq!(owner.wait().unwrap().code(), Some(0));
    let st = ws.status(Some("latest"));
    assert_shape(&st);
    assert_eq!(st["runs"][0]["state"], "succeeded", "{st}");
    for t in st["runs"][0]["tasks"].as_array().unwrap() {
        assert_eq!(t["waiting_on"], Value::Null, "{t}");
    }
}
