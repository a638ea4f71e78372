//! Retries and failures, through the real binary: a flaky task succeeds on
//! its second attempt; a failed task turns its downstream `upstream_failed`
//! while an unrelated branch still succeeds; a rerun gets a fresh retry budget.

mod common;

use common::Ws;
use serde_json::Value;

/// The task `id` of the first run in a `status --json` document.
fn task<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["runs"][0]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("no task {id} in {status}"))
}

#[test]
fn a_flaky_task_succeeds_on_its_second_attempt() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "flaky"
kind = "command"
retries = 2
retry_delay = "1s"
command = """
n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count
echo "attempt $n of $SWITCHYARD_TASK_ID (switchyard says $SWITCHYARD_ATTEMPT)"
if [ "$n" -lt 2 ]; then echo "first attempt fails"; exit 1; fi
echo "second attempt works"
"""

[[pipelines.p.tasks]]
id = "after_flaky"
kind = "command"
after = ["flaky"]
command = "echo downstream ran"
"#,
    );
    let (code, _out, err) = ws.run(&["run", "p", "--date", "2026-03-01"]);
    assert_eq!(code, 0, "run should succeed after one retry:\n{err}");
    assert!(err.contains("retrying"), "the retry is shown:\n{err}");

    let st = ws.status(Some("latest"));
    assert_eq!(st["runs"][0]["state"], "succeeded", "{st}");
    let flaky = task(&st, "flaky");
    assert_eq!(flaky["state"], "succeeded", "{flaky}");
    assert_eq!(flaky["attempt"], 2, "{flaky}");
    assert_eq!(
        flaky["error"],
        Value::Null,
        "a success clears the error: {flaky}"
    );
    let down = task(&st, "after_flaky");
    assert_eq!(down["state"], "succeeded", "{down}");
    assert_eq!(down["attempt"], 1, "{down}");
    assert_eq!(
        std::fs::read_to_string(ws.path().join("count"))
            .unwrap()
            .trim(),
        "2",
        "the command ran exactly twice"
    );

    // The first attempt's log is kept apart from the second's.
    let (code, first, err) = ws.run(&["logs", "latest", "flaky", "--attempt", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        first.contains("attempt 1 of flaky (switchyard says 1)"),
        "{first}"
    );
    assert!(first.contains("first attempt fails"), "{first}");
    assert!(first.contains("exited with code 1"), "{first}");
    assert!(!first.contains("second attempt works"), "{first}");

    // Without --attempt: the latest attempt.
    let (code, latest, err) = ws.run(&["logs", "latest", "flaky"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        latest.contains("attempt 2 of flaky (switchyard says 2)"),
        "{latest}"
    );
    assert!(latest.contains("second attempt works"), "{latest}");
    assert!(!latest.contains("first attempt fails"), "{latest}");
    let (code, second, _) = ws.run(&["logs", "latest", "flaky", "--attempt", "2"]);
    assert_eq!(code, 0);
    assert_eq!(second, latest);
}

#[test]
fn a_failure_stops_its_downstream_but_not_an_unrelated_branch() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "a"
kind = "command"
command = "echo 'a is broken'; exit 3"

[[pipelines.p.tasks]]
id = "b"
kind = "command"
after = ["a"]
command = "touch b_ran"

[[pipelines.p.tasks]]
id = "c"
kind = "command"
after = ["b"]
command = "touch c_ran"

[[pipelines.p.tasks]]
id = "x"
kind = "command"
command = "sleep 0.3; touch x_ran"

[[pipelines.p.tasks]]
id = "y"
kind = "command"
after = ["x"]
command = "touch y_ran"
"#,
    );
    let (code, _out, err) = ws.run(&["run", "p", "--date", "2026-03-02"]);
    assert_eq!(code, 1, "a failed run exits 1:\n{err}");

    let st = ws.status(Some("latest"));
    let run = &st["runs"][0];
    assert_eq!(run["state"], "failed", "{st}");
    assert_eq!(run["run_date"], "2026-03-02", "{st}");
    assert!(
        run["finished_at"].is_string(),
        "a failed run is finished: {st}"
    );

    let a = task(&st, "a");
    assert_eq!(a["state"], "failed", "{a}");
    assert_eq!(a["attempt"], 1, "retries default to 0: {a}");
    let error = a["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("exit"),
        "error says the command exited: {error}"
    );
    assert!(error.contains('3'), "error names exit code 3: {error}");
    assert!(
        error.contains("a is broken"),
        "error shows the last line: {error}"
    );

    for id in ["b", "c"] {
        let t = task(&st, id);
        assert_eq!(t["state"], "upstream_failed", "{t}");
        assert_eq!(t["attempt"], 0, "{id} never started: {t}");
        assert!(!ws.path().join(format!("{id}_ran")).exists(), "{id} ran");
    }
    for id in ["x", "y"] {
        let t = task(&st, id);
        assert_eq!(t["state"], "succeeded", "{t}");
        assert_eq!(t["attempt"], 1, "{t}");
        assert!(
            ws.path().join(format!("{id}_ran")).exists(),
            "{id} did not run"
        );
    }
    // The summary names what did not succeed.
    assert!(err.contains("a failed"), "{err}");
    assert!(err.contains("b upstream_failed"), "{err}");
    assert!(err.contains("c upstream_failed"), "{err}");
}

#[test]
fn a_rerun_gets_a_fresh_retry_budget() {
    let ws = Ws::new(
        r#"
[pipelines.p]
[[pipelines.p.tasks]]
id = "always_fails"
kind = "command"
retries = 1
retry_delay = "1s"
command = "echo try $SWITCHYARD_ATTEMPT >> tries; echo nope; exit 2"
"#,
    );
    let (code, _, err) = ws.run(&["run", "p", "--date", "2026-03-03"]);
    assert_eq!(code, 1, "{err}");
    let st = ws.status(Some("latest"));
    let t = task(&st, "always_fails");
    assert_eq!(t["state"], "failed", "{t}");
    assert_eq!(t["attempt"], 2, "one retry: {t}");

    let (code, _, err) = ws.run(&["rerun", "latest", "always_fails"]);
    assert_eq!(code, 1, "the rerun failed again:\n{err}");
    let st = ws.status(Some("latest"));
    let t = task(&st, "always_fails");
    assert_eq!(t["state"], "failed", "{t}");
    assert_eq!(
        t["attempt"], 4,
        "the rerun had its own retry (attempts 3 and 4): {t}"
    );
    let tries = std::fs::read_to_string(ws.path().join("tries")).unwrap();
    assert_eq!(tries, "try 1\ntry 2\ntry 3\ntry 4\n");
}
